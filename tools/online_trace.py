"""Every frame's output of the online Fitter on bench_video's clips, recorded or compared:
the check that a change to the per-frame cost left the fits as they were.

Runs the Fitter (defaults, or ``--option name=value``) over bench_video.py's held-out clips
and detector (as ``benchmarks/bench_online.py``), and keeps per frame how it went
(``summary["start"]``, ``summary["labelling"]``), the returned (filtered) pose, translation
and β, and the fit's own (unfiltered) pose and translation.

    .venv/bin/python tools/online_trace.py --save /tmp/before.npz     # the build before
    .venv/bin/python tools/online_trace.py --compare /tmp/before.npz  # the build after

``--compare`` prints the frames whose kind or labelling differ and the largest parameter
differences (radians for poses, the root as the angle between the two rotations; metres
for translations), and exits 1 if any frame's kind
or labelling differs or a parameter moved more than ``--tolerance``.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before NumPy loads its BLAS

import argparse  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import smplify  # noqa: E402
from smplify import synthetic_video as sv  # noqa: E402

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))
from bench_video import SEQUENCES, clip_arguments  # noqa: E402

FORMAT = "coco17"
ARRAYS = ("pose", "transl", "betas", "raw_pose", "raw_transl")


def parse_option(text: str) -> tuple[str, object]:
    """``name=value`` with the value read as a Python literal where it is one."""
    import ast

    name, _, value = text.partition("=")
    try:
        return name, ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return name, value


def trace(video: sv.SyntheticVideo, model: object, options: dict[str, object]) -> dict:
    """One clip: per frame its kind, labelling and parameters (NaN where no output)."""
    fitter = smplify.Fitter(model, format=FORMAT, image_size=video.image_size,
                            focal_length=video.focal_length, threads=1, **options)
    out: dict[str, list] = {"kind": [], "labelling": [], **{name: [] for name in ARRAYS}}
    for kp in video.keypoints:
        try:
            r = fitter.fit(kp)
        except smplify.KeypointError:
            out["kind"].append("no output")
            out["labelling"].append("")
            for name, size in zip(ARRAYS, (72, 3, model.num_betas, 72, 3), strict=True):
                out[name].append(np.full(size, np.nan))
            continue
        raw = r.summary["unsmoothed"] or {"global_orient": r.global_orient,
                                          "body_pose": r.body_pose, "transl": r.transl}
        out["kind"].append(r.summary["start"])
        out["labelling"].append(r.summary["labelling"])
        out["pose"].append(np.concatenate([r.global_orient, r.body_pose]))
        out["transl"].append(np.asarray(r.transl))
        out["betas"].append(np.asarray(r.betas))
        out["raw_pose"].append(np.concatenate([raw["global_orient"], raw["body_pose"]]))
        out["raw_transl"].append(np.asarray(raw["transl"]))
    return out


def record(args: argparse.Namespace) -> dict[str, np.ndarray]:
    model = smplify.load_model("open")
    options = dict(parse_option(o) for o in args.option)
    videos = [sv.make_video(model, seq, FORMAT, np.random.default_rng(args.seed + c),
                            sv.DetectorErrors(confidence_model=args.confidence),
                            frames=slice(args.start, args.start + args.frames))
              for c, seq in enumerate(sv.load_sequences(SEQUENCES)[:args.clips])]
    clips = [trace(video, model, options) for video in videos]
    return {"kind": np.array([k for c in clips for k in c["kind"]]),
            "labelling": np.array([k for c in clips for k in c["labelling"]]),
            **{name: np.array([v for c in clips for v in c[name]]) for name in ARRAYS}}


def _rotation_angle(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N,) radians between the rotations of axis-angles a and b ((N, 3) each; NaN rows
    give NaN)."""
    from scipy.spatial.transform import Rotation

    ok = np.isfinite(a).all(axis=1) & np.isfinite(b).all(axis=1)
    out = np.full(len(a), np.nan)
    out[ok] = (Rotation.from_rotvec(a[ok]).inv() * Rotation.from_rotvec(b[ok])).magnitude()
    return out


def compare(now: dict[str, np.ndarray], before: dict[str, np.ndarray], tolerance: float) -> bool:
    """Print the differences; whether the traces agree (kinds, labellings, parameters)."""
    same = True
    for name in ("kind", "labelling"):
        differ = np.flatnonzero(now[name] != before[name])
        print(f"{name}: {len(differ)} of {len(now[name])} frames differ"
              + "".join(f"\n  frame {i}: {before[name][i]!r} -> {now[name][i]!r}"
                        for i in differ[:10]))
        same &= len(differ) == 0
    for name in ARRAYS:
        diff = np.abs(now[name] - before[name])
        if name in ("pose", "raw_pose"):  # the root: the angle between the two rotations (an
            # upright body's axis-angle may flip to its antipode, the same rotation)
            diff[:, :3] = _rotation_angle(now[name][:, :3], before[name][:, :3])[:, None]
        both_nan = np.isnan(now[name]) & np.isnan(before[name])
        diff = np.where(both_nan, 0.0, diff)
        worst = float(np.nanmax(diff)) if np.isfinite(diff).all() else float("inf")
        print(f"{name}: largest difference {worst:.3g}")
        same &= worst <= tolerance
    return same


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    clip_arguments(parser)
    parser.add_argument("--option", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--save", type=Path)
    parser.add_argument("--compare", type=Path)
    parser.add_argument("--tolerance", type=float, default=1e-6)
    args = parser.parse_args()
    now = record(args)
    if args.save:
        np.savez(args.save, **now)
        print(f"wrote {args.save}: {len(now['kind'])} frames")
    if args.compare:
        with np.load(args.compare) as data:
            before = {k: data[k] for k in data.files}
        sys.exit(0 if compare(now, before, args.tolerance) else 1)


if __name__ == "__main__":
    main()
