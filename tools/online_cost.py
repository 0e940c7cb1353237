"""Where the online Fitter's CPU time goes: per kind of frame and per kind of C++ fit.

Runs the Fitter (defaults, or ``--option name=value``) over bench_video.py's held-out clips
and detector (as ``benchmarks/bench_online.py``), times each frame (``time.process_time``)
and each C++ fit inside it, and sorts them:

- frames by how they went (``summary["start"]``) and what ran in them: ``+refit`` (a
  periodic or strain refit was tried, :meth:`Fitter._consider_refit`), ``+contest`` (a
  competing track was fitted beside the track), ``+2 labellings`` (a second reading of the
  keypoints was fitted), ``+check`` (a fit from scratch checked a warm frame and lost);
- C++ fits as tracked (a warm frame's fit with E_track), reading (a refit's warm fit from
  the learned initialiser's reading), held (the chosen refit refined with the held β) and
  from scratch (a first frame, a cut, a check, a new person's refit).

Per group: frames, median and mean CPU ms, share of all CPU; per fit kind also the median
Ceres steps (both solves of a stage). Also the total Ceres steps a frame, which does not
swing with the machine's load as CPU time does.

    .venv/bin/python tools/online_cost.py
    .venv/bin/python tools/online_cost.py --option track_refit_iterations=6
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before NumPy loads its BLAS

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections import defaultdict  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import smplify  # noqa: E402
from online_trace import parse_option  # noqa: E402
from smplify import fitter, track_decisions  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from bench_online import FORMAT, clips  # noqa: E402
from bench_video import clip_arguments  # noqa: E402


class Timed:
    """The C++ fitter, timing each fit and naming its kind into ``frame`` (the current
    frame's record)."""

    def __init__(self, core: Any, frame: dict[str, Any]) -> None:
        self.core, self.frame = core, frame

    def fit(self, **kwargs: Any) -> Any:
        start = time.process_time()
        report = self.core.fit(**kwargs)
        cpu = time.process_time() - start
        if kwargs.get("initial_pose") is None:
            kind = "from scratch"
        elif kwargs.get("track_pose") is None:
            kind = "reading"
        elif kwargs.get("hold_shape") and self.frame["in_refit"]:
            kind = "held"
        else:
            kind = "tracked"
        self.frame["fits"].append((kind, cpu, sum(s.iterations for s in report.stages)))
        return report


def instrument(frame: dict[str, Any]) -> None:
    """Tag the frame's refits and contests, and time the refits' own C++ fitter."""
    for name, tag in (("_consider_refit", "refit"), ("_contest", "contest")):
        method = getattr(fitter.Fitter, name)

        def wrapped(self: Any, *args: Any, _method: Any = method, _tag: str = tag,
                    **kwargs: Any) -> Any:
            frame["tags"].add(_tag)
            frame["in_refit"] = _tag == "refit"
            try:
                return _method(self, *args, **kwargs)
            finally:
                frame["in_refit"] = False

        setattr(fitter.Fitter, name, wrapped)
    refit_core = track_decisions._refit_core_fitter
    track_decisions._refit_core_fitter = lambda problem: Timed(refit_core(problem), frame)


def group(frame: dict[str, Any]) -> str:
    """A frame's group: how it went and what ran in it."""
    kinds = [kind for kind, _, _ in frame["fits"]]
    name = frame["start"]
    if "refit" in frame["tags"]:
        name += " +refit"
    if "contest" in frame["tags"]:
        name += " +contest"
    elif kinds.count("tracked") > 1:
        name += " +2 labellings"
    if name == "warm" and "from scratch" in kinds:
        name += " +check"
    return name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    clip_arguments(parser)
    parser.add_argument("--option", action="append", default=[],
                        help="a Fitter option, name=value (repeatable)")
    args = parser.parse_args()
    options = dict(parse_option(o) for o in args.option)
    model = smplify.load_model("open")
    frame: dict[str, Any] = {"fits": [], "tags": set(), "in_refit": False}
    instrument(frame)
    frames = []
    for video in clips(model, args):
        fitter = smplify.Fitter(model, format=FORMAT, image_size=video.image_size,
                                focal_length=video.focal_length, threads=1, **options)
        for kp in video.keypoints:
            frame.update(fits=[], tags=set(), in_refit=False)
            start = time.process_time()
            try:
                frame["start"] = fitter.fit(kp).summary["start"]
            except smplify.KeypointError:
                frame["start"] = "no output"
            frames.append({**frame, "cpu": time.process_time() - start})
            if fitter._core is not None and not isinstance(fitter._core, Timed):
                fitter._core = Timed(fitter._core, frame)  # the first frame's is not timed
    cpu = 1000 * np.array([f["cpu"] for f in frames])
    total = cpu.sum()
    print(f"{len(frames)} frames, CPU ms a frame median {np.median(cpu):.2f}, mean "
          f"{cpu.mean():.2f} ({1000 * len(cpu) / total:.0f} frames/s); load "
          f"{os.getloadavg()[0]:.1f}")
    groups = defaultdict(list)
    for f, c in zip(frames, cpu, strict=True):
        groups[group(f)].append(c)
    for name, times in sorted(groups.items(), key=lambda kv: -sum(kv[1])):
        print(f"  {name:42s} {len(times):4d} frames  median {np.median(times):7.2f}  mean "
              f"{np.mean(times):7.2f}  {100 * sum(times) / total:5.1f}%")
    fits = defaultdict(list)
    for f in frames:
        for kind, seconds, steps in f["fits"]:
            fits[kind].append((1000 * seconds, steps))
    print("C++ fits (after each clip's first frame):")
    for kind, rows in sorted(fits.items(), key=lambda kv: -sum(r[0] for r in kv[1])):
        a = np.array(rows)
        print(f"  {kind:14s} {len(a):4d}  median {np.median(a[:, 0]):7.2f} ms  mean "
              f"{a[:, 0].mean():7.2f}  {100 * a[:, 0].sum() / total:5.1f}%  median steps "
              f"{np.median(a[:, 1]):.0f}")
    steps = sum(s for f in frames for _, _, s in f["fits"])
    print(f"Ceres steps (after each clip's first frame): {steps}, "
          f"{steps / len(frames):.2f} a frame")


if __name__ == "__main__":
    main()
