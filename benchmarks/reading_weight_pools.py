"""The default fit's start selection at other ``reading_weight`` values, for two sets of
initialiser weights, exactly, from recorded pools of finished starts.

The reading score R enters no solve (docs/design.md, "Reading score"): a fit from scratch
finishes the same starts whatever ``reading_weight`` λ_R is, and the default selection keeps
the start of least E_sel + λ_R · R (``hypothesis_score_weight`` 0). So each case is fitted
once per weights set with every finished start recorded (``tools/start_pools.py``; its
features hold ΔE_sel and ΔR, log1p of the gaps to the pool's least), and the start each λ_R
would keep is read off exactly (the default's own choice is kept for comparison:
``default_mm``). Per split and format: mean PA-MPJPE (mm) of the start kept at each λ_R with
the ``--before`` and the ``--after`` weights (folders of ``initializer_<format>.npz``; a
format whose files are equal is recorded once), and the paired differences after − before
both at the default, and after@λ − before@default (mean ± s.e.; video splits also per clip,
whose frames share one camera).

Splits: ``tune`` / ``test``, the realistic set's halves (``realistic.py``, 150 cases a
format); ``video-tuning``, every 2nd frame of the tuning clips
(``tests/data/tuning_sequences.npz``, detector seed 200 + clip); ``video-heldout:SEED``,
``bench_video``'s stretches (frames 120..240 of its four held-out clips, detector seed SEED +
clip: the per-frame row's fits with ``--seed SEED``). Choose on tune / video-tuning, report on
test / video-heldout. ``BASE+MOD`` splits (``reading_weight_factors.py``) swap one factor
between the single-image set and the video frames.

    OPENBLAS_NUM_THREADS=1 nice .venv/bin/python benchmarks/reading_weight_pools.py \\
        --before /tmp/old --after python/smplify/data --split tune --formats coco17 mediapipe33
    → benchmarks/results/reading_weight_pools_<split>.json   (~75 CPU ms a case and weights)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import bench_video
import numpy as np
import reading_weight_factors as factors
import realistic
import smplify
from initializer_weights import mean_se, use_weights
from smplify import synthetic_video as sv
from smplify.start_scorer import START_FEATURES

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from start_pools import Pools, record, video_cases  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
TUNING = ROOT / "tests" / "data" / "tuning_sequences.npz"
LAMBDAS = (0.0, 50.0, 100.0, 150.0, 200.0, 300.0, 400.0, 600.0, 1000.0, 3000.0)
_E, _R = START_FEATURES.index("selection data"), START_FEATURES.index("reading score")


def clips(split: str) -> list[int | None]:
    split = split.split("+")[0]
    if split in ("tune", "test"):
        return [None]
    return list(range(len(sv.load_sequences(TUNING if split == "video-tuning"
                                            else bench_video.SEQUENCES))))


def split_cases(model: smplify.BodyModel, split: str, fmt: str, clip: int | None):
    """The cases of one split, format and clip (``detections.Cases``); a split with
    ``+MOD``s is ``reading_weight_factors``' variant of it."""
    if "+" in split:
        base, mods = factors.parse(split)
        if base in ("tune", "test"):
            return factors.single_cases(model, fmt, 150, base, mods)
        video = split_video(model, base, fmt, clip)
        return video_cases(factors.image_errors(video, fmt, np.random.default_rng(200 + clip)))
    return video_cases(split_video(model, split, fmt, clip)) if split.startswith("video") \
        else realistic.cases(model, fmt, 150, split)


def split_video(model: smplify.BodyModel, split: str, fmt: str, clip: int) -> sv.SyntheticVideo:
    """A video split's clip as the detector sees it."""
    if split == "video-tuning":
        seq, seed, frames = sv.load_sequences(TUNING)[clip], 200, slice(None, None, 2)
    else:
        seq = sv.load_sequences(bench_video.SEQUENCES)[clip]
        seed, frames = int(split.split(":")[1]), slice(120, 240)
    return sv.make_video(model, seq, fmt, np.random.default_rng(seed + clip),
                         sv.DetectorErrors(), frames=frames)


def pools(model: smplify.BodyModel, folder: Path, split: str, fmt: str, clip: int | None,
          cache: Path) -> Pools:
    """The recorded pools, cached by what they depend on (the weights file, the compiled
    core, the defaults, the split, format and clip)."""
    key = hashlib.sha1((folder / f"initializer_{fmt}.npz").read_bytes()
                       + Path(smplify._core.__file__).read_bytes()
                       + repr(smplify.FitOptions()).encode()
                       + f"{split}|{fmt}|{clip}".encode()).hexdigest()[:16]
    path = cache / f"pools_{split}_{fmt}_{clip}_{key}.npz"
    if path.is_file():
        with np.load(path) as z:
            return Pools(**{k: z[k] for k in z.files})
    use_weights(folder)
    out = record(model, fmt, split_cases(model, split, fmt, clip))
    cache.mkdir(parents=True, exist_ok=True)
    np.savez(path, **out.arrays())
    return out


def kept_mm(p: Pools, lam: float | None) -> np.ndarray:
    """Per case the PA-MPJPE of the start kept at λ_R = ``lam`` (None: the default's own
    choice as recorded, NaN where none was)."""
    out = []
    for c in np.unique(p.case):
        m = p.case == c
        if lam is None:
            kept = np.flatnonzero(p.default[m])
            out.append(p.mm[m][kept[0]] if len(kept) else np.nan)
        else:
            f = p.features[m]
            out.append(p.mm[m][int(np.argmin(np.expm1(f[:, _E]) + lam * np.expm1(f[:, _R])))])
    return np.array(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", type=Path, required=True)
    parser.add_argument("--after", type=Path, required=True)
    parser.add_argument("--split", required=True,
                        help="tune, test, video-tuning or video-heldout:SEED; tune, test or "
                        "video-tuning with +MODs: reading_weight_factors' variants")
    parser.add_argument("--formats", nargs="+", default=["coco17", "mediapipe33"])
    parser.add_argument("--cache", type=Path,
                        default=Path.home() / ".cache" / "smplify-tools" / "reading_weight")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    model = smplify.load_model("open")
    out: dict = {"split": args.split, "before": str(args.before), "after": str(args.after),
                 "lambdas": LAMBDAS, "formats": {}}
    for fmt in args.formats:
        row: dict = {}
        per: dict[str, list[np.ndarray]] = {}
        for name in ("before", "after"):
            ps = [pools(model, getattr(args, name), args.split, fmt, c, args.cache)
                  for c in clips(args.split)]
            per[name] = ps
            row[name] = {"default_mm": float(np.nanmean(np.concatenate(
                [kept_mm(p, None) for p in ps]))),
                "cases": int(sum(len(np.unique(p.case)) for p in ps)),
                "best_of_starts_mm": float(np.mean(np.concatenate(
                    [np.minimum.reduceat(p.mm, np.flatnonzero(np.r_[True, np.diff(p.case) != 0]))
                     for p in ps]))),
                "by_lambda_mm": {str(lam): float(np.mean(np.concatenate(
                    [kept_mm(p, lam) for p in ps]))) for lam in LAMBDAS}}
        base = [kept_mm(p, None) for p in per["before"]]
        own = [kept_mm(p, None) for p in per["after"]]
        row["after_minus_before_default_mm"] = {"all": mean_se(np.concatenate(own)
                                                               - np.concatenate(base))}
        if len(own) > 1:
            row["after_minus_before_default_mm"]["per_clip"] = [
                float(np.nanmean(a - b)) for a, b in zip(own, base, strict=True)]
        row["after_at_lambda_minus_before_default_mm"] = {}
        for lam in LAMBDAS:
            after = [kept_mm(p, lam) for p in per["after"]]
            d = np.concatenate(after) - np.concatenate(base)
            entry = {"all": mean_se(d)}
            if len(after) > 1:
                entry["per_clip"] = [float(np.nanmean(a - b)) for a, b in zip(after, base,
                                                                                strict=True)]
            row["after_at_lambda_minus_before_default_mm"][str(lam)] = entry
        out["formats"][fmt] = row
        for name in ("before", "after"):
            r = row[name]
            print(f"{args.split} {fmt} {name}: default {r['default_mm']:.1f} mm, best of starts "
                  f"{r['best_of_starts_mm']:.1f} ({r['cases']} cases); by λ_R " + "  ".join(
                      f"{float(k):g}: {v:.1f}" for k, v in r["by_lambda_mm"].items()))
        e = row["after_minus_before_default_mm"]
        print(f"   after − before, both at the default: {e['all'][0]:+.2f} ± {e['all'][1]:.2f}"
              + (" per clip " + " ".join(f"{v:+.1f}" for v in e["per_clip"])
                 if "per_clip" in e else ""))
        for lam, e in row["after_at_lambda_minus_before_default_mm"].items():
            clip_text = (" per clip " + " ".join(f"{v:+.1f}" for v in e["per_clip"])
                         if "per_clip" in e else "")
            print(f"   after@{float(lam):g} − before@default {e['all'][0]:+.2f} ± "
                  f"{e['all'][1]:.2f}{clip_text}", flush=True)
    name = args.split.replace(":", "_").replace("+", "_")
    path = args.output or RESULTS / f"reading_weight_pools_{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
