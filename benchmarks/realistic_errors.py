"""Where the fits' error on the realistic-error set comes from, and what the starts held.

For ``--cases`` cases per format of ``--split`` (``benchmarks/realistic.py``; the TUNE half by
default: this is for choosing what to work on) it fits each case with the defaults (or
``--options``, a dict literal over them) and puts the case into the first of these kinds of
mistake that applies:

1. ``facing``: the fit faces the other way than the truth (toward / away from the camera);
2. ``body labels``: the whole body's left/right labels end wrong (the detector swapped them
   and the fit kept them, or the fit swapped correct ones: ``summary["left_right"]`` against
   the error model's own swaps);
3. ``limb labels``: the same for the arms' or the legs' labels;
4. ``leg depth``: a leg's ankle in front of its knee where the truth's is behind it, or the
   reverse (camera-frame depth order, where the truth's shin is > 5 cm off the image plane);
5. ``rest``.

Per kind: how many cases, their mean PA-MPJPE (mm), their share of the summed error, and the
overall mean's gain if they had the ``rest`` mean ("gain", mm). Then the starts: each start
of the fit (the prior's and the initialiser's readings) run alone, as the fit runs it, gives
the best-of-starts error (an oracle; also the best prior start's, the best reading's and the
top-scored reading's fit); how often the chosen fit is more than 10 mm worse than it, and by
how much on average. Writes ``benchmarks/results/realistic_errors.json`` (per-case rows
included; with ``--keypoints`` also each start's fitted keypoints beside its selection terms,
and root-relative joints and the truth's joints, for trying other selection rules offline).

    OPENBLAS_NUM_THREADS=1 nice .venv/bin/python benchmarks/realistic_errors.py --cases 100
"""

from __future__ import annotations

import argparse
import ast
import json
from pathlib import Path
from typing import Any

import numpy as np
import realistic
import smplify
from smplify import detections
from smplify.core_fitter import _core_fitter, _core_options, _observation
from smplify.initializer_metrics import SHIN_DEPTH_TOLERANCE_M
from smplify.problem import build_problem, start_poses
from smplify.reference.energy import data_residuals
from smplify.reference.selection import reading_score
from smplify.synthetic import pa_mpjpe

RESULTS = Path(__file__).resolve().parent / "results" / "realistic_errors.json"
KINDS = ("facing", "body labels", "limb labels", "leg depth", "rest")
#: A chosen fit this much worse than the best of its starts counts as a selection miss.
MISS_MM = 10.0


def _error_mm(joints: np.ndarray, truth: np.ndarray) -> float:
    return 1000.0 * pa_mpjpe(joints - joints[0], truth)


def _fitter(problem: Any, starts: list[np.ndarray], prior_starts: bool) -> Any:
    """A C++ fitter of the problem's model and options with the given prior starts (one
    thread: the starts are run one by one here)."""
    options = _core_options(problem)
    options.threads = 1
    options.prior_starts = prior_starts
    return _core_fitter(problem, options, starts)


def selection_terms(problem: Any, report: Any) -> tuple[float, float]:
    """A finished start's selection terms: the data term at ``selection_sigma`` and the
    reading score R (nats; NaN without readings)."""
    pose = np.r_[np.asarray(report.global_orient), np.asarray(report.body_pose)]
    rows = data_residuals(problem, pose, np.asarray(report.betas), np.asarray(report.transl),
                          sigma=problem.options.selection_sigma)
    reading = (np.nan if problem.readings is None else reading_score(
        np.asarray(report.keypoints), problem.readings[0], problem.readings[1],
        problem.options.reading_sigma))
    return float(np.sum(rows ** 2)), float(reading)


def _candidate(problem: Any, report: Any, truth: np.ndarray) -> dict[str, Any]:
    """One start's finished fit: its error, the selection's terms (:func:`selection_terms`)
    and its energies at the last stage."""
    joints = np.asarray(report.joints)
    if not np.isfinite(joints).all():
        return {"mm": np.nan}
    data, reading = selection_terms(problem, report)
    energy = report.energy
    return {"mm": _error_mm(joints, truth), "selection_data": data,
            "reading": reading, "keypoints": np.asarray(report.keypoints).tolist(),
            "joints": (joints - joints[0]).tolist(),
            "facing": bool(detections.facing_camera(
                detections._rodrigues(np.asarray(report.global_orient)[None])[0])),
            **{term: float(getattr(energy, term)) for term in
               ("data", "pose", "angle", "shape", "keypoints_3d")}}


def run_starts(problem: Any, fitters: dict) -> list[Any]:
    """The C++ reports of each prior start and each initialiser reading run alone
    (``fitters``: a dict kept across one format's cases, filled on first use)."""
    poses = start_poses(problem)
    if "prior" not in fitters:
        fitters["prior"] = [_fitter(problem, [p], True) for p in poses]
        fitters["reading"] = _fitter(problem, poses[:1], False)
    observation = _observation(problem)
    return ([fitter.fit(**{**observation, "hypotheses": []}) for fitter in fitters["prior"]]
            + [fitters["reading"].fit(**{**observation, "hypotheses": [h]})
               for h in problem.hypotheses])


def start_errors(problem: Any, truth: np.ndarray, fitters: dict) -> tuple[list, list]:
    """:func:`_candidate` of each prior start and each initialiser reading run alone (the
    readings' also with their log score)."""
    reports = run_starts(problem, fitters)
    prior = [_candidate(problem, r, truth) for r in reports[:len(fitters["prior"])]]
    readings = [{**_candidate(problem, r, truth), "log_score": float(h[3])}
                for r, h in zip(reports[len(fitters["prior"]):], problem.hypotheses,
                                strict=True)]
    return prior, readings


def classify(fit: smplify.FitResult, data: detections.Cases, i: int) -> dict[str, Any]:
    """The case's mistakes (module docstring), all of them, and its kind (the first)."""
    undone = fit.summary["left_right"].split(", ")
    swaps = data.swaps[i]
    labels = {kind: bool(swaps[k]) != (name in undone) for k, (kind, name) in enumerate(
        (("body", "swapped back"), ("arms", "arms swapped back"),
         ("legs", "legs swapped back")))}
    rot = detections._rodrigues(fit.global_orient[None])[0]
    facing = bool(detections.facing_camera(rot) != detections.facing_camera(data.rotation[i]))
    d_true = detections.shin_depth_order(data.joints[i])
    d_fit = detections.shin_depth_order(fit.joints)
    legs = (np.sign(d_true) != np.sign(d_fit)) & (np.abs(d_true) >= SHIN_DEPTH_TOLERANCE_M)
    flags = {"facing": facing, "body labels": labels["body"],
             "limb labels": labels["arms"] or labels["legs"], "leg depth": bool(legs.any())}
    kind = next((k for k, v in flags.items() if v), "rest")
    return {"kind": kind, **{f"is {k}": v for k, v in flags.items()},
            "arm labels": labels["arms"], "leg labels": labels["legs"],
            "legs depth wrong": int(legs.sum())}


def summarise(rows: list[dict]) -> dict[str, Any]:
    """Per kind: count, mean mm, share of the summed error, gain (module docstring); and the
    starts' figures."""
    err = np.array([r["mm"] for r in rows])
    kinds = np.array([r["kind"] for r in rows])
    rest = err[kinds == "rest"].mean() if (kinds == "rest").any() else float("nan")
    out: dict[str, Any] = {"cases": len(rows), "mean_mm": float(err.mean()),
                           "rest_mean_mm": float(rest), "kinds": {}}
    for kind in KINDS:
        sel = kinds == kind
        out["kinds"][kind] = {
            "cases": int(sel.sum()),
            "mean_mm": float(err[sel].mean()) if sel.any() else float("nan"),
            "share": float(err[sel].sum() / err.sum()),
            "gain_mm": float((err[sel] - rest).sum() / len(err)) if sel.any() else 0.0}
    for flag in ("is facing", "is body labels", "arm labels", "leg labels", "is leg depth"):
        out[f"any {flag.removeprefix('is ')}"] = int(sum(r[flag] for r in rows))
    best = np.array([np.nanmin(r["prior_mm"] + r["reading_mm"]) for r in rows])
    gap = err - best
    out["starts"] = {
        "best_of_starts_mm": float(best.mean()),
        "best_prior_start_mm": float(np.mean([min(r["prior_mm"]) for r in rows])),
        "best_reading_mm": float(np.mean([np.nanmin(r["reading_mm"]) for r in rows])),
        "top_reading_mm": float(np.nanmean([r["reading_mm"][0] for r in rows])),
        "misses": int((gap > MISS_MM).sum()),
        "mean_gap_mm": float(gap.mean()),
        "mean_gap_of_misses_mm": float(gap[gap > MISS_MM].mean()) if (gap > MISS_MM).any()
        else 0.0}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=40, help="cases per format")
    parser.add_argument("--split", choices=("tune", "test"), default="tune")
    parser.add_argument("--options", default="{}", help="a dict literal over the defaults")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--keypoints", action="store_true",
                        help="keep each start's fitted keypoints and joints, and the truth's "
                             "joints, in the JSON (large)")
    args = parser.parse_args()
    options = {"threads": 1, **ast.literal_eval(args.options)}
    model = smplify.load_model("open")
    out: dict[str, Any] = {"split": args.split, "cases_per_format": args.cases,
                           "options": args.options, "formats": {}}
    for fmt in realistic.FORMATS:
        data = realistic.cases(model, fmt, args.cases, args.split)
        rows, fitters = [], {}
        for i in range(len(data.keypoints)):
            kp, size, f = data.keypoints[i], tuple(data.image_size[i]), float(data.focal[i])
            try:
                fit = smplify.fit(kp, fmt, size, f, model=model, **options)
            except smplify.KeypointError:
                continue
            problem = build_problem(kp, fmt, size, f, model, "open", options)
            prior_mm, reading_mm = start_errors(problem, data.joints[i], fitters)
            rows.append({"case": i, "mm": _error_mm(fit.joints, data.joints[i]),
                         "hypothesis": int(fit.summary["hypothesis"]),
                         "prior_mm": [c["mm"] for c in prior_mm],
                         "reading_mm": [c["mm"] for c in reading_mm],
                         "truth_facing": bool(detections.facing_camera(data.rotation[i])),
                         "truth_joints": data.joints[i].tolist(),
                         "candidates": prior_mm + reading_mm,
                         **classify(fit, data, i)})
        summary = summarise(rows)
        if not args.keypoints:
            for row in rows:
                row.pop("truth_joints")
                for c in row["candidates"]:
                    c.pop("keypoints", None)
                    c.pop("joints", None)
        out["formats"][fmt] = {**summary, "rows": rows}
        print(f"{fmt}: {summary['cases']} cases, mean {summary['mean_mm']:.1f} mm")
        for kind, s in summary["kinds"].items():
            print(f"  {kind:12s} {s['cases']:3d} cases {s['mean_mm']:6.1f} mm, "
                  f"{100 * s['share']:4.0f}% of the error, gain {s['gain_mm']:5.1f} mm")
        print("  any: " + ", ".join(f"{k.removeprefix('any ')} {v}" for k, v in summary.items()
                                    if k.startswith("any ")))
        s = summary["starts"]
        print(f"  starts: best of all {s['best_of_starts_mm']:.1f} mm (prior's "
              f"{s['best_prior_start_mm']:.1f}, readings' {s['best_reading_mm']:.1f}, the top "
              f"reading's fit {s['top_reading_mm']:.1f}); chosen > {MISS_MM:.0f} mm worse than the "
              f"best in {s['misses']} cases (by {s['mean_gap_of_misses_mm']:.1f} mm), mean gap "
              f"{s['mean_gap_mm']:.1f} mm", flush=True)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
