"""``smplify.dataset`` throughput: fits/s of the local engine and of Dask with 1 and 2 workers,
the overhead per chunk, the scaling from 1 to 2 workers, and what 10⁷ person-frames would take.

    .venv/bin/python benchmarks/bench_dataset.py [--videos 15] [--repeats 3] [--chunk 64]

The dataset is ``tests/dataset_inputs.py``'s (walking people with 1.5 px of detector-like
noise: .npz videos of 64 frames and 2 people, an OpenPose clip, 40 COCO photos, a Parquet
file; ~2,000 person-frames by default) fitted with the default options (multi-start cold
fits, then warm starts along each track). Per configuration the run is repeated and the
median kept; the Dask cluster (a LocalCluster of worker processes on loopback) is started
before the clock, so its start-up is reported on its own. Overhead per chunk = (wall time x
workers - the fits' own time) / chunks: reading, tracking, the row conversion, Parquet, task
traffic. The estimate for 10⁷ person-frames takes the core time of a row from the medians
of cold and warm fits (video rows: their measured share of cold starts; photos: all cold)
plus the chunk overhead, and divides by the cores, assuming ideal scaling (the measured
scaling is printed beside it; on a loaded 2-core machine it says more about the load).
Needs the ``dask`` extra. Writes ``benchmarks/results/bench_dataset.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent / "tests"))

TARGET = 10_000_000


def _run(data: Path, out: Path, engine: str, workers: int, chunk: int,
         scheduler: str | None = None) -> dict:
    from smplify.dataset import fit_dataset, read_results

    shutil.rmtree(out, ignore_errors=True)
    summary = fit_dataset(data, out, engine=engine, workers=workers, chunk=chunk,
                          scheduler=scheduler, image_size=(640, 480))
    table = read_results(out)
    fit_seconds = float(np.sum(table["seconds"].to_numpy()))
    return {"wall_s": summary.seconds, "rows": summary.rows, "chunks": summary.chunks,
            "fits_per_s": summary.fits_per_second, "fit_s": fit_seconds,
            "overhead_per_chunk_ms": 1000 * (summary.seconds * workers - fit_seconds)
            / summary.chunks}


def _median(runs: list[dict]) -> dict:
    return {k: float(np.median([r[k] for r in runs])) for k in runs[0]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=15)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--chunk", type=int, default=64)
    args = parser.parse_args()
    import smplify
    from dask.distributed import Client
    from dataset_inputs import write_dataset
    from smplify.dataset import read_results
    from smplify.dataset.engines import local_cluster

    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        count = write_dataset(data, smplify.load_model("open"), videos=args.videos)
        for workers in (1, 2):
            runs = [_run(data, Path(tmp) / "out", "local", workers, args.chunk)
                    for _ in range(args.repeats)]
            results[f"local_{workers}"] = _median(runs)
        table = read_results(Path(tmp) / "out")
        for workers in (1, 2):
            started = time.perf_counter()
            with local_cluster(workers) as cluster:
                with Client(cluster) as client:
                    client.wait_for_workers(workers)
                startup = time.perf_counter() - started
                runs = [_run(data, Path(tmp) / "out", "dask", workers, args.chunk,
                             cluster.scheduler_address) for _ in range(args.repeats)]
            results[f"dask_{workers}"] = {**_median(runs), "cluster_startup_s": startup}
    # Core time per row from the medians of cold and warm fits (robust to the descheduling a
    # loaded machine adds to a fit's wall time), plus the chunk overhead shared over its rows.
    seconds = table["seconds"].to_numpy()
    start = np.array(table["start"].to_pylist())
    photo = np.array([s == "photos.json" for s in table["source"].to_pylist()])
    cold, warm = start == "cold", start == "warm"
    per_fit = {"cold_median_ms": 1000 * float(np.median(seconds[cold])),
               "warm_median_ms": 1000 * float(np.median(seconds[warm])),
               "warm_mean_ms": 1000 * float(np.mean(seconds[warm])),
               "video_cold_share": float(np.mean(cold[~photo]))}
    rows_per_chunk = count / results["local_1"]["chunks"]
    overhead_ms = results["local_1"]["overhead_per_chunk_ms"] / rows_per_chunk
    per_row = {"videos": per_fit["video_cold_share"] * per_fit["cold_median_ms"]
               + (1 - per_fit["video_cold_share"]) * per_fit["warm_median_ms"] + overhead_ms,
               "photos": per_fit["cold_median_ms"] + overhead_ms}
    scaling = {e: results[f"{e}_2"]["fits_per_s"] / results[f"{e}_1"]["fits_per_s"]
               for e in ("local", "dask")}
    estimate = {}
    for kind, ms in per_row.items():
        core_hours = TARGET * ms / 1000 / 3600
        estimate[kind] = {"ms_per_row": ms, "core_hours": core_hours,
                          **{f"hours_on_{n}x16_cores": core_hours / (16 * n)
                             for n in (1, 4, 16)}}

    print(f"dataset: {count} person-frames, chunk {args.chunk} frames, default options, "
          f"{args.repeats} repeats (medians); {os.cpu_count()} cores, load "
          f"{os.getloadavg()[0]:.1f}")
    print(f"{'engine':10s} {'fits/s':>8s} {'wall s':>7s} {'chunks':>6s} {'ms/chunk overhead':>18s}")
    for name, r in results.items():
        extra = f"  (cluster start {r['cluster_startup_s']:.1f} s)" if "dask" in name else ""
        print(f"{name:10s} {r['fits_per_s']:8.0f} {r['wall_s']:7.2f} {r['chunks']:6.0f} "
              f"{r['overhead_per_chunk_ms']:18.1f}{extra}")
    print(f"scaling 1 -> 2 workers: local x{scaling['local']:.2f}, dask x{scaling['dask']:.2f}")
    print(f"fits: cold median {per_fit['cold_median_ms']:.1f} ms, warm median "
          f"{per_fit['warm_median_ms']:.1f} ms (mean {per_fit['warm_mean_ms']:.1f}); "
          f"{per_fit['video_cold_share']:.1%} of video rows cold; chunk overhead "
          f"{overhead_ms:.2f} ms a row")
    for kind, e in estimate.items():
        print(f"10^7 {kind} person-frames: {e['ms_per_row']:.1f} core-ms a row, "
              f"{e['core_hours']:.0f} core-hours; on 1 / 4 / 16 machines of 16 cores "
              f"(ideal scaling): {e['hours_on_1x16_cores']:.1f} / "
              f"{e['hours_on_4x16_cores']:.2f} / {e['hours_on_16x16_cores']:.2f} h")
    out = {"person_frames": count, "chunk": args.chunk, "repeats": args.repeats,
           "engines": results, "scaling": scaling, "per_fit": per_fit, "estimate": estimate,
           "machine": {"cores": os.cpu_count(), "load": os.getloadavg()[0],
                       "python": platform.python_version()},
           "date": time.strftime("%Y-%m-%d")}
    (ROOT / "results").mkdir(exist_ok=True)
    (ROOT / "results" / "bench_dataset.json").write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
