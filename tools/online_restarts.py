"""How often the online Fitter fits a frame from scratch after its first (a cut or lost
person, a wrong facing, a turn or jump; a new person's refit), and how good those frames'
fits are against a per-frame default fit (``smplify.fit``) of the same frame.

Runs the Fitter (defaults, or ``--option name=value``) over bench_video.py's held-out clips
and detector (seeds ``--seeds``, clip c with seed + c) and, with ``--real``, over
bench_real_video.py's real videos (no truth there: the counts only). Per restart frame the
PA-MPJPE of the Fitter's output (its output filter restarts there: the fit itself) and of
the per-frame fit, against the truth; the new-person refit is counted where it runs.

    OPENBLAS_NUM_THREADS=1 nice .venv/bin/python tools/online_restarts.py --seeds 100 300
    OPENBLAS_NUM_THREADS=1 nice .venv/bin/python tools/online_restarts.py --real sports2d vtest
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before NumPy loads its BLAS

import argparse  # noqa: E402
import sys  # noqa: E402
from collections import Counter  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import smplify  # noqa: E402
from online_trace import parse_option  # noqa: E402
from smplify import synthetic_video as sv  # noqa: E402
from smplify.synthetic import pa_mpjpe  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from bench_video import FORMAT, SEQUENCES, clip_video  # noqa: E402

NEW_PERSON = "new person's refit"


def counted(fitter: smplify.Fitter, counts: Counter) -> None:
    """Count the new person's fits from scratch of ``fitter``'s refits into ``counts``."""
    refit_from = fitter._refit_from

    def wrapped(problem: Any, observation: Any, starts: Any, perm: Any = None) -> Any:
        if starts is not None and fitter._new_person():
            counts[NEW_PERSON] += 1
        return refit_from(problem, observation, starts, perm)

    fitter._refit_from = wrapped  # type: ignore[method-assign]


def kind(result: Any) -> str:
    """A frame's start, with the turn/jump/lost detail kept and the labelling dropped."""
    return result.summary["start"]


def synthetic(seeds: list[int], clips: int, options: dict[str, Any]) -> dict[str, Any]:
    model = smplify.load_model("open")
    sequences = sv.load_sequences(SEQUENCES)[:clips]
    counts: Counter = Counter()
    rows = []  # (seed, clip, frame, kind, online mm, per-frame mm)
    for seed in seeds:
        for c, seq in enumerate(sequences):
            video = clip_video(model, seq, seed + c, slice(120, 240))
            fitter = smplify.Fitter(model, format=FORMAT, image_size=video.image_size,
                                    focal_length=video.focal_length, threads=1, **options)
            counted(fitter, counts)
            for t, kp in enumerate(video.keypoints):
                try:
                    res = fitter.fit(kp)
                except smplify.KeypointError:
                    counts["no output"] += 1
                    continue
                how = kind(res)
                counts[how] += 1
                if t == 0 or not how.endswith("cold"):
                    continue
                mine = 1000 * pa_mpjpe(res.joints, video.joints[t])
                try:
                    alone = smplify.fit(kp, FORMAT, video.image_size, video.focal_length,
                                        model=model, threads=1).joints
                    theirs = 1000 * pa_mpjpe(alone, video.joints[t])
                except smplify.KeypointError:
                    theirs = float("nan")
                rows.append((seed + c, seq["name"], t, how, mine, theirs))
    return {"counts": counts, "rows": rows}


def real(videos: list[str], num_tracks: int, options: dict[str, Any]) -> Counter:
    from real_videos import FRAMES, detections, tracks

    model = smplify.load_model("open")
    counts: Counter = Counter()
    for name in videos:
        found = detections(name, FRAMES[name], quiet=True)
        for track in tracks(found)[:num_tracks]:
            fitter = smplify.Fitter(model, format="mediapipe33", image_size=found.image_size,
                                    threads=1, **{"track_fps": found.fps, **options})
            counted(fitter, counts)
            for t in range(len(track.seen)):
                if not track.seen[t]:
                    fitter.skip()
                    continue
                try:
                    res = fitter.fit(track.keypoints[t], keypoints_3d=track.world[t])
                except smplify.KeypointError:
                    counts["no output"] += 1
                    continue
                counts[f"{name}: {kind(res)}"] += 1
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="*", default=[100, 300])
    parser.add_argument("--clips", type=int, default=4)
    parser.add_argument("--real", nargs="*", default=[])
    parser.add_argument("--tracks", type=int, default=4)
    parser.add_argument("--option", action="append", default=[], metavar="NAME=VALUE")
    args = parser.parse_args()
    options = dict(parse_option(o) for o in args.option)
    if args.seeds:
        out = synthetic(args.seeds, args.clips, options)
        for how, n in sorted(out["counts"].items()):
            print(f"{n:5d}  {how}")
        for seed, clip, t, how, mine, theirs in out["rows"]:
            print(f"{clip} @{seed} frame {t:3d}: {how}: online {mine:6.1f} mm, "
                  f"per-frame {theirs:6.1f} mm")
        if out["rows"]:
            d = np.array([r[4] - r[5] for r in out["rows"]])
            print(f"restart frames {len(d)}: online {np.mean([r[4] for r in out['rows']]):.1f}"
                  f" mm, per-frame {np.mean([r[5] for r in out['rows']]):.1f} mm, paired "
                  f"{d.mean():+.1f} ± {d.std(ddof=1) / np.sqrt(len(d)) if len(d) > 1 else 0:.1f}")
    if args.real:
        for how, n in sorted(real(args.real, args.tracks, options).items()):
            print(f"{n:5d}  {how}")


if __name__ == "__main__":
    main()
