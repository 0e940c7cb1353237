"""What a ``Fitter(starts="prior")``'s periodic and strain refits cost since they honour
``starts="prior"`` (commit "Fitter refits honour starts=prior"): a fit from scratch from
the prior's starts (camera, orientation test, all stages, ``multi_start``) where they were
two warm last-stage fits from the learned initialiser's readings.

Input as ``bench_online.py`` (its clips, detector and per-frame CPU timing, one thread).
"before" runs the same build with ``Fitter._refit`` replaced by its body before that commit
(the refit reads the initialiser whatever ``starts`` says; nothing else changed); "after" is
the library as it is. Both variants run on the same clips, clip by
clip in turn. Per variant: CPU ms per refit (median), per frame (median, mean), the number
of refits, PA-MPJPE and acceleration error.

    .venv/bin/python benchmarks/refit_prior_cost.py --clips 2 --frames 60   # ~1 min
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before NumPy loads its BLAS

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import smplify  # noqa: E402
from bench_online import clips, run  # noqa: E402
from bench_video import clip_arguments  # noqa: E402
from smplify import online  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "refit_prior_cost.json"


def old_refit(self, problem, observation, perm=None):
    """``Fitter._refit`` before that commit: warm fits from the initialiser's readings
    whatever ``starts`` says (the rest of its body then is ``Fitter._refit_from``'s)."""
    keypoints = problem.keypoints if perm is None else problem.keypoints[perm]
    starts = online.learned_starts(self.format, keypoints, observation["confidence"],
                                   problem.image_size, problem.focal_length)
    return self._refit_from(problem, observation, starts, perm)


def timed(refit, seconds: list[float]):
    """``refit`` appending each call's CPU seconds to ``seconds``."""
    def wrapper(self, problem, observation, perm=None):
        start = time.process_time()
        try:
            return refit(self, problem, observation, perm)
        finally:
            seconds.append(time.process_time() - start)
    return wrapper


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    clip_arguments(parser)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()

    model = smplify.load_model("open")
    videos = clips(model, args)
    names = {True: "before (refits read the initialiser)", False: "after (prior's starts)"}
    out = {name: {"refit": [], "runs": []} for name in names.values()}
    for video in videos:
        for before, name in names.items():
            original = smplify.Fitter._refit
            smplify.Fitter._refit = timed(old_refit if before else original, out[name]["refit"])
            try:
                out[name]["runs"].append(run(video, model, {"starts": "prior"}))
            finally:
                smplify.Fitter._refit = original
    summary = {}
    for name, o in out.items():
        cpu = 1000 * np.concatenate([r["cpu"] for r in o["runs"]])
        summary[name] = {
            "refits": len(o["refit"]), "refit_median_cpu_ms": 1000 * float(np.median(o["refit"])),
            "frame_median_cpu_ms": float(np.median(cpu)), "frame_mean_cpu_ms": float(cpu.mean()),
            "pa_mpjpe_mm": float(np.mean([r["pa_mpjpe_mm"] for r in o["runs"]])),
            "accel_error_mm": float(np.mean([r["accel_error_mm"] for r in o["runs"]]))}
    print(f"Fitter(starts='prior'), {len(videos)} clips x {args.frames} frames, one thread:")
    for name, s in summary.items():
        print(f"  {name:38s} {s['refits']:3d} refits, median {s['refit_median_cpu_ms']:6.1f} ms"
              f" each; frame median {s['frame_median_cpu_ms']:5.2f} ms, mean "
              f"{s['frame_mean_cpu_ms']:5.2f} ms; PA-MPJPE {s['pa_mpjpe_mm']:5.1f} mm, accel "
              f"error {s['accel_error_mm']:5.1f} mm")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()},
                                       "summary": summary}, indent=1) + "\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
