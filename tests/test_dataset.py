"""smplify.dataset: a generated dataset of > 2,000 person-frames fitted into Parquet shards by
the local engine and by Dask (threads, and worker processes one of which is killed midway),
a client killed midway and resumed, the manifest's refusal to mix runs (and builds of the
core), and failure rows."""

from __future__ import annotations

import io
import math
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from extras import need_module
from smplify.cli import build_parser
from smplify.dataset import DatasetMismatchError, fit_dataset, read_results, shard_paths
from smplify.dataset.command import run_command

OPTIONS = {"chunk": 64, "image_size": (640, 480), "multi_start": False}


@pytest.fixture(scope="module")
def reference(tmp_path_factory, open_model):
    """The dataset, fitted once by the local engine on 2 threads."""
    need_module("pyarrow", "dask")
    from dataset_inputs import write_dataset

    root = tmp_path_factory.mktemp("dataset")
    count = write_dataset(root / "data", open_model)
    summary = fit_dataset(root / "data", root / "local", workers=2, **OPTIONS)
    return root, count, summary, read_results(root / "local")


def _same(a, b) -> bool:
    if isinstance(a, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def assert_same_rows(table, expected) -> None:
    """Row for row equal (all but the timing column), in the same order."""
    got, want = table.drop(["seconds"]).to_pylist(), expected.drop(["seconds"]).to_pylist()
    assert len(got) == len(want)
    differing = [(w["source"], w["frame"], w["person"], k) for g, w in zip(got, want, strict=True)
                 for k in w if not _same(g[k], w[k])]
    assert not differing, differing[:5]


def test_one_row_per_person_frame_failures_included(reference):
    _, count, summary, table = reference
    assert count >= 2000 and table.num_rows == count == summary.rows
    ids = list(zip(table["source"].to_pylist(), table["frame"].to_pylist(),
                   table["person"].to_pylist(), strict=True))
    assert len(set(ids)) == count
    rows = table.to_pylist()
    failed = [r for r in rows if r["status"] not in ("converged", "iteration_limit")]
    assert [(r["source"], r["frame"], r["person"], r["status"]) for r in failed] == \
        [("video_000.npz", 0, 1, "bad_keypoints")]
    assert "torso" in failed[0]["message"] and all(math.isnan(v)
                                                   for v in failed[0]["body_pose"])
    assert summary.failures == {"bad_keypoints": 1}
    fitted = [r for r in rows if r["status"] == "converged"]
    assert np.median([r["reprojection_px"] for r in fitted]) < 4.0  # 1.5 px of noise
    videos = [r for r in fitted if r["source"].endswith(".npz")]
    # Continuing the track: warm, or warm and moved to a refit's basin (not restarted cold).
    tracked = [r["start"] in ("warm", "warm, refitted", "warm, switched track") for r in videos]
    assert sum(tracked) > 0.9 * len(videos)
    assert {r["start"] for r in rows if r["source"] == "photos.json"} == {"cold"}
    by_source = {s: table["source"].to_pylist().count(s) for s in ("openpose_clip", "cam0",
                                                                   "photos.json")}
    assert by_source == {"openpose_clip": 20, "cam0": 20, "photos.json": 40}
    assert len(fitted[0]["betas"]) == 10 and len(fitted[0]["body_pose"]) == 69


def test_restart_skips_finished_shards_and_refuses_other_options(reference, tmp_path):
    root, _, first, table = reference
    again = fit_dataset(root / "data", root / "local", workers=2, **OPTIONS)
    assert again.resumed and again.skipped_chunks == first.chunks and again.rows == 0
    assert_same_rows(read_results(root / "local"), table)
    out = io.StringIO()
    args = ["dataset", str(root / "data"), "--out", str(root / "local"), "--chunk", "64",
            "--image-size", "640", "480", "--single-start", "--no-progress"]
    assert run_command(build_parser().parse_args(args), stdout=out) == 0
    assert "0 person-frames" in out.getvalue() and \
        f"{first.chunks} chunks, {first.chunks} already done" in out.getvalue()
    with pytest.raises(DatasetMismatchError, match="max_iterations"):
        fit_dataset(root / "data", root / "local", **{**OPTIONS, "max_iterations": 7})
    from smplify.cli import main

    assert main(["dataset", str(root / "data"), "--out", str(root / "local"), "--chunk", "32",
                 "--image-size", "640", "480", "--single-start", "--no-progress"]) == 2
    # Told to: the old shards go and the new run's are all that is left.
    shutil.copytree(root / "local", tmp_path / "out")
    one = root / "data" / "video_003.npz"
    summary = fit_dataset(one, tmp_path / "out", overwrite=True, **OPTIONS)
    assert summary.rows == 128 and len(shard_paths(tmp_path / "out")) == 1
    assert read_results(tmp_path / "out")["source"].to_pylist() == ["video_003.npz"] * 128


def test_unreadable_frame_file_is_a_row(tmp_path, open_model):
    need_module("pyarrow", "dask")
    from crowd import crowd, write_openpose_folder

    folder = write_openpose_folder(tmp_path / "clip", crowd(open_model, "openpose25", 3))
    sorted(folder.glob("*.json"))[1].write_text("{not json")
    summary = fit_dataset(folder, tmp_path / "out", image_size=(640, 480), multi_start=False)
    rows = read_results(tmp_path / "out").to_pylist()
    assert summary.statuses == {"unreadable": 1} and len(rows) == 1
    assert rows[0]["source"] == "clip" and (rows[0]["frame"], rows[0]["person"]) == (-1, -1)
    assert "not a JSON file" in rows[0]["message"]
    # Two inputs whose rows would carry the same source id are refused before any work.
    shutil.copytree(folder, tmp_path / "elsewhere" / "clip")
    with pytest.raises(ValueError, match="source id 'clip' comes from both"):
        fit_dataset([folder, tmp_path / "elsewhere" / "clip"], tmp_path / "out2",
                    image_size=(640, 480))


def _other_variant() -> tuple[str, str]:
    """The build of the core this process runs, and the other one."""
    from smplify import core_variant

    here = core_variant()
    return here, "baseline" if here == "x86-64-v3" else "x86-64-v3"


def test_another_build_of_the_core_is_another_run(tmp_path, open_model, monkeypatch):
    """The core's x86-64-v3 and baseline builds round differently: a run resumed under the
    other build is refused (as under another smplify version), naming the SMPLIFY_CPU that
    resumes it; each shard names the build that wrote it."""
    need_module("pyarrow", "dask")
    import pyarrow.parquet as pq
    from crowd import crowd, write_openpose_folder
    from smplify import cpu_variant

    folder = write_openpose_folder(tmp_path / "clip", crowd(open_model, "openpose25", 2))
    options = {"image_size": (640, 480), "multi_start": False}
    fit_dataset(folder, tmp_path / "out", **options)
    here, other = _other_variant()
    metadata = pq.read_schema(shard_paths(tmp_path / "out")[0]).metadata
    assert metadata[b"smplify.core_variant"] == here.encode()
    monkeypatch.setattr(cpu_variant, "core_variant", lambda: other)
    with pytest.raises(DatasetMismatchError, match=f"core_variant: '{here}' before, "
                                                   f"'{other}' now .*SMPLIFY_CPU={here}"):
        fit_dataset(folder, tmp_path / "out", **options)
    monkeypatch.undo()
    assert fit_dataset(folder, tmp_path / "out", **options).resumed


def test_dask_workers_of_another_build_of_the_core_are_refused(tmp_path, open_model,
                                                               monkeypatch):
    need_module("distributed", "dask")
    from crowd import crowd, write_openpose_folder
    from smplify.dataset import engines

    folder = write_openpose_folder(tmp_path / "clip", crowd(open_model, "openpose25", 2))
    here, other = _other_variant()
    monkeypatch.setattr(engines, "_worker_core_variant", lambda: other)
    with pytest.raises(DatasetMismatchError, match=f"workers must run the client's build of "
                       f"smplify's core \\('{here}'\\), but .* runs '{other}'.*"
                       "SMPLIFY_CPU=baseline"):
        fit_dataset(folder, tmp_path / "out", engine="dask", workers=1, processes=False,
                    image_size=(640, 480), multi_start=False)
    assert shard_paths(tmp_path / "out") == []  # refused before any task


def test_dask_threads_row_for_row_equal_to_local(reference, tmp_path):
    need_module("distributed", "dask")
    root, count, _, table = reference
    summary = fit_dataset(root / "data", tmp_path / "dask", engine="dask", workers=2,
                          processes=False, **OPTIONS)
    assert summary.rows == count
    assert_same_rows(read_results(tmp_path / "dask"), table)


def _videos(root: Path, n: int = 8) -> list[Path]:
    """The first ``n`` videos: the kill tests' smaller dataset (8 chunks)."""
    return sorted((root / "data").glob("video_*.npz"))[:n]


def _rows_of(table, inputs: list[Path]):
    """The reference rows of these inputs, in order."""
    import pyarrow as pa
    import pyarrow.compute as pc

    return table.filter(pc.is_in(table["source"], value_set=pa.array([p.name for p in inputs])))


def _kill_when(out: Path, shards: int, kill) -> threading.Thread:
    def watch() -> None:
        deadline = time.monotonic() + 120
        while len(shard_paths(out)) < shards and time.monotonic() < deadline:
            time.sleep(0.01)
        kill()

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def test_dask_worker_killed_midway_no_lost_or_duplicated_rows(reference, tmp_path):
    need_module("distributed", "dask")
    from dask.distributed import Client
    from smplify.dataset.engines import local_cluster

    root, _, _, table = reference
    with local_cluster(2) as cluster:  # worker processes on loopback
        with Client(cluster) as client:
            client.wait_for_workers(2)
            victim = next(iter(client.run(os.getpid).values()))
        seen: dict[str, int] = {}

        def kill() -> None:
            seen["shards"] = len(shard_paths(tmp_path / "dask"))
            os.kill(victim, signal.SIGKILL)

        watcher = _kill_when(tmp_path / "dask", 2, kill)
        summary = fit_dataset(_videos(root), tmp_path / "dask", engine="dask",
                              scheduler=cluster.scheduler_address, **OPTIONS)
        watcher.join()
    assert seen["shards"] < summary.chunks == 8  # killed midway
    expected = _rows_of(table, _videos(root))
    assert summary.rows == expected.num_rows == 8 * 128 and summary.skipped_chunks == 0
    assert_same_rows(read_results(tmp_path / "dask"), expected)


def test_client_killed_midway_then_resumed(reference, tmp_path):
    need_module("distributed", "dask")
    root, _, _, table = reference
    out = tmp_path / "out"
    # The client and its LocalCluster's worker processes, as when the machine goes down.
    proc = subprocess.Popen(
        [sys.executable, "-m", "smplify.cli", "dataset", *map(str, _videos(root)),
         "--out", str(out), "--engine", "dask", "--workers", "2", "--chunk", "64",
         "--image-size", "640", "480", "--single-start", "--no-progress"],
        start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    killed = _kill_when(out, 2, lambda: os.killpg(proc.pid, signal.SIGKILL))
    killed.join()
    proc.wait(timeout=60)
    done, rows_before = len(shard_paths(out)), read_results(out).num_rows
    summary = fit_dataset(_videos(root), out, workers=2, **OPTIONS)  # the local engine now
    assert 2 <= done < summary.chunks == 8
    assert summary.resumed and summary.skipped_chunks == done
    assert summary.rows == 8 * 128 - rows_before
    assert_same_rows(read_results(out), _rows_of(table, _videos(root)))
    assert not list((out / "shards").glob(".*.tmp"))


def _exit_slowly(seconds: float) -> bool:
    """In a worker process: make its exit take ``seconds`` longer (as on a loaded machine)."""
    import multiprocessing.util

    multiprocessing.util.Finalize(None, time.sleep, args=(seconds,), exitpriority=0)
    return True


def test_our_cluster_lets_a_slow_worker_exit_instead_of_killing_it():
    """Dask gives a worker process 4 s to exit, then logs "Worker process still alive ...,
    killing"; the dask engine's own LocalCluster waits for its workers (close_cluster)."""
    need_module("distributed", "dask")
    import logging

    from dask.distributed import Client
    from smplify.dataset.engines import close_cluster, local_cluster

    messages: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: messages.append(record.getMessage())
    nanny_log = logging.getLogger("distributed.nanny")
    nanny_log.addHandler(handler)
    try:
        cluster = local_cluster(1)
        with Client(cluster) as client:
            assert all(client.run(_exit_slowly, 5.0).values())
        started = time.monotonic()
        close_cluster(cluster)
        waited = time.monotonic() - started
    finally:
        nanny_log.removeHandler(handler)
    assert not [m for m in messages if "still alive" in m], messages
    assert waited >= 5.0  # it waited for the slow exit


def test_our_cluster_runs_while_another_holds_the_dashboard_port():
    """Dask's scheduler serves its HTTP routes (health, metrics) even without a dashboard,
    on dask's dashboard port 8787 unless told another: with 8787 held (another cluster, or
    another test run on the machine) it moved to a free port with the warning "Port 8787 is
    already in use", an error under this suite's filterwarnings. Our LocalCluster asks for
    a free loopback port itself."""
    need_module("distributed", "dask")
    import socket

    from smplify.dataset.engines import local_cluster

    with socket.socket() as holder:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            holder.bind(("", 8787))
            holder.listen()
        except OSError:  # held already (by another run): the case this test is about
            pass
        with local_cluster(1, processes=False) as cluster:
            server = cluster.scheduler.http_server
            assert server.port != 8787 and server.address == "127.0.0.1"
