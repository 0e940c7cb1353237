"""Record the online Fitter's tracked C++ fits and replay them alone (for callgrind).

    OPENBLAS_NUM_THREADS=1 .venv/bin/python tools/replay_warm_fits.py --save /tmp/fits.pkl
    valgrind --tool=callgrind .venv/bin/python tools/replay_warm_fits.py --load /tmp/fits.pkl \\
        [--n 60] [--options '{"track_held_joints": "unseen"}']

``--save``: the Fitter (defaults, one thread) over ``benchmarks/bench_online.py``'s clip 0
(``--start``, ``--frames``, ``--seed`` as there) records the keyword arguments of every
tracked warm fit it asks of the C++ core (those with ``track_pose``; the first frame's fit
from scratch is not recorded) and their results. ``--load``: the first ``--n`` of them
replayed on the shared C++ fitter of a Fitter with ``--options`` (``core_fitter.
_shared_core_fitter``); writes ``<load>.<options>.out.npy`` (each fit's global_orient,
body_pose, transl, betas) and ``.steps.npy`` (Ceres steps), and prints how far the
replayed parameters are from the recorded ones (0 with the recording's options and build).

The maintained form of the ``replay.py`` / ``replay_cg.py`` scripts kept in
``benchmarks/results/online_fps_instructions.json`` and ``warm_tol_instructions.json``
(which named ``fitting._shared_core_fitter`` before session 17 moved it to core_fitter.py,
and a worktree's absolute path): the 60 replayed warm fits of docs/design.md's "CPU
variants" and docs/video.md's instruction counts.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before NumPy loads its BLAS

import argparse  # noqa: E402
import json  # noqa: E402
import pickle  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import smplify  # noqa: E402
from bench_online import FORMAT, clips  # noqa: E402
from bench_video import clip_arguments  # noqa: E402
from smplify import problem  # noqa: E402
from smplify.core_fitter import _shared_core_fitter  # noqa: E402


def parameters(report: Any) -> np.ndarray:
    """A C++ fit's parameters in one row: global_orient, body_pose, transl, betas."""
    return np.concatenate([report.global_orient, report.body_pose, report.transl,
                           report.betas])


class Recorder:
    """The Fitter's C++ fitter, recording its tracked fits' arguments and results."""

    def __init__(self, core: Any, calls: list[dict[str, Any]], results: list[np.ndarray]):
        self.core, self.calls, self.results = core, calls, results

    def fit(self, **kwargs: Any) -> Any:
        report = self.core.fit(**kwargs)
        if kwargs.get("track_pose") is not None:
            self.calls.append(kwargs)
            self.results.append(parameters(report))
        return report


def save(args: argparse.Namespace, model: Any) -> int:
    video = clips(model, args)[0]
    fitter = smplify.Fitter(model, format=FORMAT, image_size=video.image_size,
                            focal_length=video.focal_length, threads=1)
    calls: list[dict[str, Any]] = []
    results: list[np.ndarray] = []
    for keypoints in video.keypoints:
        try:
            fitter.fit(keypoints)
        except smplify.KeypointError:
            pass
        if fitter._core is not None and not isinstance(fitter._core, Recorder):
            fitter._core = Recorder(fitter._core, calls, results)
    with open(args.save, "wb") as f:
        pickle.dump({"calls": calls, "results": results, "image_size": video.image_size,
                     "focal": video.focal_length, "kp": video.keypoints[0]}, f)
    print(f"{len(calls)} tracked fits recorded in {args.save}")
    return len(calls)


def replay(args: argparse.Namespace, model: Any) -> np.ndarray:
    with open(args.load, "rb") as f:
        recorded = pickle.load(f)
    fitter = smplify.Fitter(model, format=FORMAT, image_size=recorded["image_size"],
                            focal_length=recorded["focal"], threads=1, **args.options)
    core = _shared_core_fitter(problem.frame_problem(fitter._settings, recorded["kp"],
                                                     place_camera=False))
    out, steps = [], []
    for kwargs in recorded["calls"][:args.n]:
        report = core.fit(**kwargs)
        out.append(parameters(report))
        steps.append(sum(s.iterations for s in report.stages))
    out = np.array(out)
    name = args.load + "." + ("_".join(f"{k}-{v}" for k, v in args.options.items())
                              or "default")
    np.save(name + ".out.npy", out)
    np.save(name + ".steps.npy", np.array(steps))
    gap = np.abs(out - np.array(recorded["results"][:len(out)])).max() if len(out) else 0.0
    print(f"{len(out)} fits replayed, median {np.median(steps) if steps else 0:.0f} Ceres "
          f"steps; largest difference from the recorded parameters {gap:.3g}")
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    clip_arguments(parser)
    parser.add_argument("--save", help="record the tracked fits into this pickle")
    parser.add_argument("--load", help="replay the fits recorded in this pickle")
    parser.add_argument("--n", type=int, default=60, help="fits to replay")
    parser.add_argument("--options", type=json.loads, default={},
                        help="FitOptions of the replaying Fitter, as JSON")
    args = parser.parse_args(argv)
    if (args.save is None) == (args.load is None):
        parser.error("give one of --save and --load")
    model = smplify.load_model("open")
    if args.save:
        save(args, model)
    else:
        replay(args, model)


if __name__ == "__main__":
    main()
