"""The realistic-error set: held-out mocap poses, random cameras, detector-like 2D errors.

Shared by ``benchmarks/recovery.py`` (paper / old default / new default side by side) and
``benchmarks/defaults_search.py`` (the search that chose the defaults). Cases are those of
``benchmarks/initializer.py`` (the initialiser's training error model,
``smplify.detections``) on one half of the held-out poses: ``tune`` (poses 0-149, seeds from
700) to choose, ``test`` (poses 150-299, seeds from 1100) to report. Each fit gets the true
focal length and image size, as a calibrated camera would give.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import smplify
from initializer import cases_for
from smplify import detections
from smplify.synthetic import pa_mpjpe

#: The formats the defaults were chosen on (``defaults_search.py``), then every other format
#: (the realistic test set, ``recovery.py --realistic``); a format's seed is its index here.
FORMATS = ("mediapipe33", "coco17", "openpose25")
ALL_FORMATS = (*FORMATS, "smpl24", "lsp14")
SEEDS = {"tune": 700, "test": 1100}

#: The defaults before this search (the paper's weights, multi-start from the prior's means,
#: start selection by the data term, no learned initialiser), spelled out so that they stay
#: reproducible whatever the defaults become.
OLD_DEFAULTS: dict[str, Any] = {
    "pose_prior_weights": (404.0, 404.0, 57.4, 4.78),
    "shape_prior_weights": (100.0, 50.0, 10.0, 5.0), "data_sigma": 100.0,
    "multi_start": True, "refine_translation": True, "start_selection": "data",
    "selection_sigma": 20.0, "learned_init": False, "anchor_weight": 300.0,
    "starts": "prior", "left_right": "as_given", "reading_weight": 0.0,
    "hypothesis_score_weight": 1000.0, "leg_flips": False, "start_scorer": "energy",
    "prune_starts": 0}

#: Today's defaults without the learned initialiser (what they are for a format where none
#: ships): the prior's starts, no anchor, no reading score, the labels as given.
NO_INITIALIZER: dict[str, Any] = {"starts": "prior", "learned_init": False,
                                  "left_right": "as_given", "reading_weight": 0.0}


def cases(model: smplify.BodyModel, fmt: str, n: int, split: str) -> detections.Cases:
    """``n`` cases of ``fmt`` from ``split``'s poses and seed."""
    return cases_for(model, fmt, n, SEEDS[split] + ALL_FORMATS.index(fmt), split=split)


def score(model: smplify.BodyModel, fmt: str, data: detections.Cases,
          options: dict[str, Any]) -> dict[str, Any]:
    """Fit every case with ``options``; per case PA-MPJPE (mm), reprojection (median px
    distance between the fit's keypoints and the detections, relabelled where the fit swapped
    them back, over the keypoints with confidence > 0), ms per fit, whether it faces the way
    the truth does, the chosen start's hypothesis index (−1: the prior's) and whether the fit
    swapped the labels back (NaN where the fit refused the keypoints)."""
    rows = []
    for i in range(len(data.keypoints)):
        kp = data.keypoints[i]
        start = time.perf_counter()
        try:
            fit = smplify.fit(kp, fmt, tuple(data.image_size[i]), float(data.focal[i]),
                              model=model, **options)
        except smplify.KeypointError:
            rows.append((np.nan,) * 6)
            continue
        ms = 1000.0 * (time.perf_counter() - start)
        relabelled = fit.summary.get("label_permutation")
        if relabelled is not None:  # against the labels it fitted
            kp = kp[np.asarray(relabelled)]
        seen = kp[:, 2] > 0
        reproj = np.linalg.norm(fit.keypoints_2d[seen] - kp[seen, :2], axis=1)
        reproj = float(np.nanmedian(reproj)) if np.isfinite(reproj).any() else np.nan
        facing = float(detections.facing_camera(
            detections._rodrigues(fit.global_orient[None])[0])
            == detections.facing_camera(data.rotation[i]))
        rows.append((1000.0 * pa_mpjpe(fit.joints - fit.joints[0], data.joints[i]), reproj, ms,
                     facing, float(fit.summary.get("hypothesis", -1)),
                     float(fit.summary.get("left_right", "").startswith("swapped back"))))
    r = np.array(rows, dtype=float)
    ok = np.isfinite(r[:, 0])
    return {"cases": int(ok.sum()), "refused": int((~ok).sum()),
            "pa_mpjpe_mm": float(r[ok, 0].mean()),
            "pa_mpjpe_se": float(r[ok, 0].std(ddof=1) / np.sqrt(max(ok.sum(), 1))),
            "pa_mpjpe_median_mm": float(np.median(r[ok, 0])),
            "reprojection_px": float(np.nanmean(r[ok, 1])),
            "ms_median": float(np.median(r[ok, 2])), "facing": float(r[ok, 3].mean()),
            "hypothesis_chosen": float((r[ok, 4] >= 0).mean()),
            "per_case_mm": [float(v) for v in r[:, 0]],
            "per_case_swapped_back": [float(v) for v in r[:, 5]]}


def split_arguments(parser: argparse.ArgumentParser) -> None:
    """--split (tune / test), --cases per format, --formats: the paired benchmarks' cases."""
    parser.add_argument("--split", choices=["tune", "test"], required=True)
    parser.add_argument("--cases", type=int, default=150, help="per format (≤ 150)")
    parser.add_argument("--formats", nargs="+", default=list(FORMATS), choices=ALL_FORMATS)


def mean_and_se(values: np.ndarray) -> tuple[float, float]:
    """Mean and its standard error over the finite values."""
    v = values[np.isfinite(values)]
    return float(v.mean()), float(v.std(ddof=1) / np.sqrt(len(v)))


def add_paired(entry: dict[str, Any], variant: np.ndarray, base: np.ndarray, base_name: str,
               digits: int) -> np.ndarray:
    """Per case variant − base (NaN where a fit refused), its mean and s.e. put in ``entry``
    ("minus_<base_name>_mm" / "_se"); returns the differences."""
    d = variant - base
    dm, dse = mean_and_se(d)
    entry[f"minus_{base_name}_mm"] = round(dm, digits)
    entry[f"minus_{base_name}_se"] = round(dse, digits)
    return d


def write_paired(out: dict[str, Any], every: dict[str, list[np.ndarray]], base: str,
                 digits: int, written: Path) -> None:
    """Each variant's paired differences to ``base`` (per format, in ``every``) over all
    formats: mean ± s.e. into ``out`` ("<variant>_minus_<base>_mm") and printed; then ``out``
    written to ``written`` as JSON (the paired benchmarks' common end)."""
    for name, ds in every.items():
        dm, dse = mean_and_se(np.concatenate(ds))
        out[f"{name}_minus_{base}_mm"] = {"mean": round(dm, digits), "se": round(dse, digits)}
        print(f"all formats {name} − {base}: {dm:+.{digits}f} ± {dse:.{digits}f} mm")
    written.write_text(json.dumps(out, indent=1) + "\n")  # results/ is in the repository
    print(f"wrote {written}")
