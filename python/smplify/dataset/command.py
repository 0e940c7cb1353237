"""``smplify dataset INPUT... --out DIR``: the command line of :func:`fit_dataset`.

::

    smplify dataset INPUT [INPUT ...] --out DIR [--engine local|dask] [--scheduler ADDR]
                    [--chunk N] [--workers N] [--format F] [--image-size W H] [--focal F]
                    [--force] [--no-progress] [--single-start] [--max-iterations N]

A progress bar (chunks, fits, fits/s) runs on stderr; the run ends with one summary line
(person-frames, fits/s, rows by status, failures by status) on stdout.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any, TextIO

__all__ = ["add_parser", "run_command", "summary_line"]


def add_parser(sub: Any, add_model_args: Callable[[argparse.ArgumentParser], None]) -> None:
    """Add the ``dataset`` subcommand to ``smplify``'s subparsers."""
    from ..keypoints import format_names
    from .engines import ENGINES

    p = sub.add_parser(
        "dataset", help="fit a whole dataset into Parquet shards (resumable, local or Dask)",
        description="Fit every person-frame of the INPUTs (OpenPose folders, COCO keypoint "
                    ".json, .npz, .parquet keypoint shards, or folders of them) into Parquet "
                    "shards in --out, one row per person-frame. Rerun the same command to "
                    "resume: finished shards are kept.")
    p.add_argument("inputs", nargs="+", metavar="INPUT")
    p.add_argument("--out", required=True, help="output folder (manifest.json, shards/)")
    p.add_argument("--engine", choices=ENGINES, default="local",
                   help="local: threads of this process (default); dask: a Dask cluster")
    p.add_argument("--scheduler", default=None, metavar="ADDR",
                   help="Dask scheduler address (default: a LocalCluster on loopback)")
    p.add_argument("--chunk", type=int, default=256,
                   help="frames per chunk and shard (a video is never split; default 256)")
    p.add_argument("--workers", type=int, default=None,
                   help="threads (local) or LocalCluster workers (dask); default: the cores")
    p.add_argument("--format", choices=format_names(), default=None,
                   help="keypoint format of files that do not say it")
    p.add_argument("--image-size", nargs=2, type=int, metavar=("W", "H"), default=None,
                   help="image size in pixels of files that do not say it")
    p.add_argument("--focal", type=float, default=None,
                   help="focal length in pixels (default: a track file's own, else the "
                        "image diagonal)")
    add_model_args(p)
    p.add_argument("--prior", default="open", help="'open' or a GMM prior file")
    p.add_argument("--force", action="store_true",
                   help="--out holds another run's results: delete them and start over")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--single-start", action="store_true",
                   help="SMPLify's single start per cold fit (multi_start=False; faster)")
    p.add_argument("--max-iterations", type=int, default=None, help="per solver stage")
    p.set_defaults(run=run_command)


def summary_line(summary: Any, engine: str) -> str:
    """One line: what the run fitted, how fast, and its rows by status."""
    statuses = ", ".join(f"{k} {v}" for k, v in sorted(summary.statuses.items())) or "none"
    failures = sum(summary.failures.values())
    skipped = f", {summary.skipped_chunks} already done" if summary.skipped_chunks else ""
    return (f"{summary.rows} person-frames in {summary.seconds:.1f} s "
            f"({summary.fits_per_second:.1f} fits/s, engine {engine}); {failures} without a "
            f"fit; by status: {statuses}; {summary.chunks} chunks{skipped} -> "
            f"{summary.out_dir}/shards/")


def run_command(args: argparse.Namespace, stdout: TextIO | None = None) -> int:
    """Run ``smplify dataset`` with parsed arguments; returns the exit status (0)."""
    import sys

    from .run import fit_dataset

    options: dict[str, Any] = {}
    if args.single_start:
        options["multi_start"] = False
    if args.max_iterations is not None:
        options["max_iterations"] = args.max_iterations
    summary = fit_dataset(args.inputs, args.out, engine=args.engine, scheduler=args.scheduler,
                          workers=args.workers, chunk=args.chunk, model=args.model or "open",
                          gender=args.gender, num_betas=args.num_betas, prior=args.prior,
                          format=args.format, image_size=args.image_size,
                          focal_length=args.focal, overwrite=args.force,
                          progress=not args.no_progress, **options)
    print(summary_line(summary, args.engine), file=stdout or sys.stdout)
    return 0
