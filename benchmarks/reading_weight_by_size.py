"""λ_R scaled by the person's size in pixels, read offline from ``reading_weight_pools.py``'s
recorded pools (exact: R enters no solve).

E_sel is a data term in px² (Geman-McClure, σ = 20 px) and R is in nats, so a fixed λ_R weighs
the reading score less the larger the person is in the image. Here each case keeps the start
of least E_sel + λ₀ (s / 400 px)^a · R, s the diagonal of its confident keypoints' box; per
split the mean PA-MPJPE and the paired difference to λ_R = 300 (mean ± s.e.), per (a, λ₀).
Choose on ``tune`` / ``video-tuning``, report on ``test`` / ``video-heldout:SEED``. Pools are
read from (or recorded into) ``--cache`` as ``reading_weight_pools.py`` does, with the shipped
weights. ``--check λ₀ a`` also fits every case with the built option (``FitOptions``
``reading_weight`` λ₀, ``reading_weight_size`` 400, ``reading_weight_exponent`` a) and counts
the cases whose fit is the start read offline. s spans the keypoints with data weight > 0
(confidence · format weight), as ``FitOptions.reading_weight_size`` does.

    OPENBLAS_NUM_THREADS=1 nice .venv/bin/python benchmarks/reading_weight_by_size.py \\
        --splits tune video-tuning test video-heldout:100 video-heldout:200 --cache DIR \\
        [--check 200 2] [--output benchmarks/results/reading_weight_by_size_<name>.json]
    → the figures printed and, with ``--output``, the same in JSON
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import reading_weight_pools as rwp
import smplify
from smplify.keypoint_box import keypoint_diagonal
from smplify.problem import build_problem
from smplify.synthetic import pa_mpjpe
from start_pools import Pools

DATA = Path(smplify.__file__).parent / "data"
GRID = [(a, lam) for a in (0.0, 1.0, 2.0) for lam in (50.0, 100.0, 200.0, 300.0, 600.0)]


def person_px(model: smplify.BodyModel, data, fmt: str) -> np.ndarray:
    """Per case the fit accepts (as ``start_pools.record`` keeps them), the diagonal of the
    box of its keypoints with data weight > 0, pixels (the built option's s)."""
    out = []
    for i in range(len(data.keypoints)):
        try:
            problem = build_problem(data.keypoints[i], fmt, tuple(data.image_size[i]),
                                    float(data.focal[i]), model, "open", {"threads": 1})
        except smplify.KeypointError:
            continue
        out.append(keypoint_diagonal(problem.keypoints, problem.weights > 0))
    return np.array(out)


def kept(p: Pools, lam: np.ndarray) -> np.ndarray:
    """Per case the PA-MPJPE of the start of least E_sel + lam[case] · R."""
    out = []
    for c in np.unique(p.case):
        f = p.features[p.case == c]
        score = np.expm1(f[:, rwp._E]) + lam[c] * np.expm1(f[:, rwp._R])
        out.append(p.mm[p.case == c][int(np.argmin(score))])
    return np.array(out)


def built(model: smplify.BodyModel, data, fmt: str, lam: float, a: float) -> np.ndarray:
    """Per case the fit accepts, the PA-MPJPE (mm) of ``smplify.fit`` with the built option
    (``reading_weight`` λ₀, ``reading_weight_size`` 400 px, ``reading_weight_exponent`` a),
    as ``start_pools.record`` fits (one thread, the energy's selection)."""
    options = {"threads": 1, "start_scorer": "energy", "reading_weight": lam,
               "reading_weight_size": 400.0, "reading_weight_exponent": a}
    out = []
    for i in range(len(data.keypoints)):
        try:
            fit = smplify.fit(data.keypoints[i], fmt, tuple(data.image_size[i]),
                              float(data.focal[i]), model=model, **options)
        except smplify.KeypointError:
            continue
        out.append(1000.0 * pa_mpjpe(fit.joints - fit.joints[0], data.joints[i]))
    return np.array(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--splits", nargs="+", default=["tune", "video-tuning"])
    parser.add_argument("--format", default="coco17")
    parser.add_argument("--check", type=float, nargs=2, metavar=("LAMBDA0", "A"),
                        help="also fit every case with the built option at (λ₀, a) and count "
                             "the cases whose fit is the start read offline")
    parser.add_argument("--cache", type=Path,
                        default=Path.home() / ".cache" / "smplify-tools" / "reading_weight")
    parser.add_argument("--output", type=Path,
                        help="also write the figures as JSON here (benchmarks/results/...)")
    args = parser.parse_args()
    model = smplify.load_model("open")
    results: dict = {"command": " ".join(sys.argv), "format": args.format,
                     "size_px": 400.0, "splits": {}}
    for split in args.splits:
        pools, sizes = [], []
        for clip in rwp.clips(split):
            p = rwp.pools(model, DATA, split, args.format, clip, args.cache)
            s = person_px(model, rwp.split_cases(model, split, args.format, clip), args.format)
            if len(s) != len(np.unique(p.case)):
                raise RuntimeError(f"{split} clip {clip}: sizes do not match the pool's cases")
            pools.append(p)
            sizes.append(s)
        both = list(zip(pools, sizes, strict=True))
        base = np.concatenate([kept(p, np.full(len(s), 300.0)) for p, s in both])
        q = np.quantile(np.concatenate(sizes), [0.25, 0.5, 0.75])
        print(f"{split}: {len(base)} cases, person px quartiles {q.round(0)}, λ_R 300 "
              f"{base.mean():.1f} mm")
        row: dict = {"cases": len(base), "person_px_quartiles": q.tolist(),
                     "lambda_300_mm": float(base.mean()), "grid": []}
        results["splits"][split] = row
        if args.check:
            lam, a = args.check
            offline = np.concatenate([kept(p, lam * (s / 400.0) ** a) for p, s in both])
            fitted = np.concatenate([built(model, rwp.split_cases(model, split, args.format, c),
                                           args.format, lam, a)
                                     for c in rwp.clips(split)])
            same = np.abs(fitted - offline) < 1e-3
            row["check"] = {"lambda0": lam, "a": a, "fitted_mm": float(fitted.mean()),
                            "offline_mm": float(offline.mean()), "same": int(same.sum()),
                            "cases": len(same),
                            "largest_gap_mm": float(np.abs(fitted - offline).max())}
            print(f"   built a {a:g} λ0 {lam:g}: {fitted.mean():.1f} mm fitted, "
                  f"{offline.mean():.1f} read offline; {same.sum()} of {len(same)} cases the "
                  f"same start (largest gap {np.abs(fitted - offline).max():.2g} mm)", flush=True)
        for a, lam in GRID:
            v = np.concatenate([kept(p, lam * (s / 400.0) ** a) for p, s in both])
            d = v - base
            row["grid"].append({"a": a, "lambda0": lam, "mm": float(v.mean()),
                                "paired_mm": float(d.mean()),
                                "paired_se": float(d.std(ddof=1) / np.sqrt(len(d)))})
            print(f"   a {a:g} λ0 {lam:4g}: {v.mean():6.1f} mm ({d.mean():+.1f} ± "
                  f"{d.std(ddof=1) / np.sqrt(len(d)):.1f})", flush=True)

    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(results, indent=1) + "\n")
        print(f"→ {args.output}")


if __name__ == "__main__":
    main()
