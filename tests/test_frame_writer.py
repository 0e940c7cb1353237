"""The pipeline's writer thread (smplify.frame_writer): jobs in order, errors raised in the
caller, no hang; ``pipeline.run(overlap=True)`` writes what the serial run writes."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from crowd import IMAGE_SIZE, crowd, write_openpose_folder
from extras import need_renderer
from smplify import pipeline
from smplify.frame_writer import FrameWriter
from smplify.sources import open_source

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))


def _writer_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "smplify-frame-writer"]


@pytest.mark.parametrize("threaded", [False, True])
def test_jobs_run_in_the_order_given(threaded):
    done: list[int] = []
    writer = FrameWriter(threaded=threaded, depth=1)
    for i in range(20):
        writer.submit(f"job {i}", lambda i=i: (time.sleep(0.001 * (i % 3)), done.append(i)))
    writer.close()
    assert done == list(range(20))
    assert not _writer_threads()


def test_a_job_s_error_is_raised_by_the_caller_with_its_name_and_the_rest_dropped():
    done: list[int] = []

    def job(i):
        if i == 3:
            raise OSError("disk full")
        done.append(i)

    writer = FrameWriter(threaded=True, depth=2)
    with pytest.raises(OSError, match="disk full") as caught:
        for i in range(50):
            writer.submit(f"frame {i}", job, i)
            time.sleep(0.002)
        writer.close()
    writer.abort()
    assert any("frame 3" in note and "writer thread" in note
               for note in getattr(caught.value, "__notes__", []))
    assert done == [0, 1, 2]
    assert not _writer_threads()


def _busy_writer(depth: int, queued: int) -> tuple[FrameWriter, list[int], threading.Event]:
    """A writer running job 0 (held until the returned event is set), ``queued`` jobs after
    it; each job appends its number to the returned list when it ends."""
    started, release = threading.Event(), threading.Event()
    done: list[int] = []

    def slow(i):
        started.set()
        release.wait(5)
        done.append(i)

    writer = FrameWriter(threaded=True, depth=depth)
    writer.submit("frame 0", slow, 0)
    started.wait(5)
    for i in range(1, queued + 1):
        writer.submit(f"frame {i}", slow, i)
    return writer, done, release


def test_abort_with_a_full_queue_stops_without_running_the_rest():
    writer, done, release = _busy_writer(depth=2, queued=2)  # the queue is full now
    threading.Timer(0.05, release.set).start()
    writer.abort()
    assert done == [0] and not _writer_threads()
    with pytest.raises(RuntimeError, match="after close"):
        writer.submit("frame 3", print, 3)


def test_an_interrupt_in_close_s_wait_stops_the_writer_before_the_queued_jobs():
    writer, done, release = _busy_writer(depth=3, queued=2)
    thread = writer._thread
    join = thread.join
    calls = []

    def interrupted_once(*args, **kwargs):  # Ctrl-C while close waits for the worker
        calls.append(args)
        if len(calls) == 1:
            raise KeyboardInterrupt
        return join(*args, **kwargs)

    thread.join = interrupted_once
    threading.Timer(0.05, release.set).start()
    with pytest.raises(KeyboardInterrupt):
        try:
            writer.close()
        finally:
            writer.abort()  # as pipeline.run does
    assert not thread.is_alive() and not _writer_threads()
    assert done == [0]  # the running job finished; the queued ones never ran after the raise


def test_a_job_s_error_is_attached_to_the_caller_s_own_exception():
    ran = threading.Event()

    def failing():
        ran.set()
        raise OSError("disk full")

    writer = FrameWriter(threaded=True, depth=2)
    with pytest.raises(ValueError, match="the caller's own") as caught:
        try:
            writer.submit("frame 7", failing)
            ran.wait(5)
            raise ValueError("the caller's own error")
        except BaseException as err:
            writer.abort(err)
            raise
    notes = "\n".join(caught.value.__notes__)
    assert "disk full" in notes and "frame 7" in notes
    assert isinstance(caught.value.__context__, OSError)
    writer.abort()  # again: nothing left to attach or stop
    assert not _writer_threads()


def test_depth_must_be_positive():
    with pytest.raises(ValueError, match="depth"):
        FrameWriter(depth=0)


@pytest.fixture(scope="module")
def openpose_folder(open_model, tmp_path_factory):
    return write_openpose_folder(tmp_path_factory.mktemp("seq") / "json",
                                 crowd(open_model, "openpose25"))


def test_overlapped_run_writes_the_serial_run_s_files_in_its_order(tmp_path, open_model,
                                                                  openpose_folder):
    from bench_cli import same_outputs

    need_renderer()
    files = {}
    for overlap in (False, True):
        source = open_source(openpose_folder, image_size=IMAGE_SIZE)
        out = tmp_path / f"overlap{overlap}"
        summary = pipeline.run(source, out, model=open_model, overlap=overlap)
        files[overlap] = [f.relative_to(out) for f in summary.files]
        assert (summary.frames, summary.fits, summary.tracks) == (6, 9, 2)
        assert len(summary.frame_seconds) == 6
        assert len(summary.frame_cpu_seconds) == (0 if overlap else 6)
        assert summary.seconds["render"] > 0 and summary.seconds["write"] > 0
    # the visitor's first frame (2) is written when they are confirmed, before frame 3's files
    assert files[True] == files[False]
    assert files[True].index(Path("frames/clip_000000000002_p1.obj")) < \
        files[True].index(Path("frames/clip_000000000003_p0.obj"))
    assert sum(f.suffix == ".png" for f in files[True]) == 6
    assert same_outputs(tmp_path / "overlapFalse", tmp_path / "overlapTrue") == []
    assert not _writer_threads()


def test_a_writer_error_in_a_run_is_raised_with_the_frame_and_nothing_hangs(
        tmp_path, open_model, openpose_folder, monkeypatch):
    save = pipeline._save_pictures
    calls = []

    def failing(folder, name, pictures, video):
        calls.append(name)
        if len(calls) == 3:
            raise OSError(f"{folder}: no space left on device")
        return save(folder, name, pictures, video)

    monkeypatch.setattr(pipeline, "_save_pictures", failing)
    source = open_source(openpose_folder, image_size=IMAGE_SIZE)
    with pytest.raises(OSError, match="no space left") as caught:
        pipeline.run(source, tmp_path / "out", model=open_model, render=False, overlap=True)
    assert any("clip_000000000002" in note for note in caught.value.__notes__)
    assert len(calls) == 3  # the frames after it are dropped
    assert not _writer_threads()


def test_an_interrupt_while_fitting_stops_the_writer(tmp_path, open_model, openpose_folder):
    def interrupted(frames):
        for i, frame in enumerate(frames):
            if i == 3:
                raise KeyboardInterrupt
            yield frame

    source = open_source(openpose_folder, image_size=IMAGE_SIZE)
    with pytest.raises(KeyboardInterrupt):
        pipeline.run(source, tmp_path / "out", model=open_model, render=False,
                     progress=interrupted, overlap=True)
    assert not _writer_threads()
    written = sorted(p.name for p in (tmp_path / "out" / "frames").glob("*.obj"))
    assert all(int(n.split("_")[1]) < 3 for n in written)  # those before it, whole
    assert np.all([p.stat().st_size > 0 for p in (tmp_path / "out" / "frames").iterdir()])


def test_a_writer_error_before_an_interrupt_is_noted_on_the_interrupt(
        tmp_path, open_model, openpose_folder, monkeypatch):
    failed = threading.Event()

    def failing(folder, name, pictures, video):
        failed.set()
        raise OSError(f"{folder}: no space left on device")

    def interrupted(frames):
        for i, frame in enumerate(frames):
            if i == 1:  # frame 0's job has failed, not yet raised: Ctrl-C now
                failed.wait(5)
                raise KeyboardInterrupt
            yield frame

    monkeypatch.setattr(pipeline, "_save_pictures", failing)
    source = open_source(openpose_folder, image_size=IMAGE_SIZE)
    with pytest.raises(KeyboardInterrupt) as caught:
        pipeline.run(source, tmp_path / "out", model=open_model, render=False,
                     progress=interrupted, overlap=True)
    assert any("no space left" in note and "clip_000000000000" in note
               for note in caught.value.__notes__)
    assert not _writer_threads()


def test_the_cli_s_overlap_flag_writes_the_same_files(tmp_path, openpose_folder, capsys):
    from bench_cli import same_outputs
    from smplify.cli import main

    for name, extra in (("serial", []), ("overlap", ["--overlap"])):
        argv = ["fit", str(openpose_folder), "--image-size", *map(str, IMAGE_SIZE),
                "--no-render", "--out", str(tmp_path / name), *extra]
        assert main(argv) == 0, capsys.readouterr().err
    assert "6 frames, 9 bodies" in capsys.readouterr().out
    assert same_outputs(tmp_path / "serial", tmp_path / "overlap") == []
    assert len(list((tmp_path / "overlap" / "frames").iterdir())) == 27
