"""Synthetic recovery over many cases: the 3D and 2D accuracy of the default fit, with its
sampling error.

40 cases (8 front views per format) have a mean PA-MPJPE whose standard error is about 5 mm,
so one draw of them can sit 10 mm from another (the test suite uses 20 per format). This runs
the same kind of case (``smplify.synthetic.make_case``: a pose drawn from
the open prior, β ~ N(0, I), a camera 2.5–6 m away, f = 1000–5000 px, front views) for
``--cases`` per format, each on perfect 2D and with σ = 5 px noise plus 10% outliers at
confidence 0.3, and fits each with both ``start_selection`` rules ("data", the default, and
"total"). It prints, per format and overall, the mean ± standard error of PA-MPJPE (mm) and
of the reprojection error (px, over the keypoints the fit uses, against the clean
keypoints) and writes ``benchmarks/results/recovery.json``.

    .venv/bin/python benchmarks/recovery.py                 # 40 cases per format, ~1-2 min
    .venv/bin/python benchmarks/recovery.py --cases 20 --seed 0   # the test suite's set

``--realistic N`` runs instead the realistic-error set (``benchmarks/realistic.py``: held-out
mocap poses of the TEST half, random cameras of any yaw, the initialiser's training error
model with swaps, drops and outliers, true focal length), N cases per format (``--formats``,
default all five), fitted by ``preset="paper"`` (SMPLify as published), SMPLify's defaults
before the learned initialiser (``realistic.OLD_DEFAULTS``), the new defaults and the new
defaults without the initialiser (``realistic.NO_INITIALIZER``: what they are where none
ships) side by side: PA-MPJPE (mm, mean ± standard error), reprojection (px, median distance
to the given detections), ms per fit (median); then how often the new defaults' left/right
rule (``left_right="auto"``: whole body, arms, legs) undid the error model's swaps, and what
undoing them gave on the cases it relabelled (the new defaults with ``left_right="as_given"``
there instead).
Writes ``benchmarks/results/recovery_realistic.json``.

    .venv/bin/python benchmarks/recovery.py --realistic 60 [--formats smpl24 lsp14] \
        [--variant "{'start_scorer': 'learned'}"]
"""

from __future__ import annotations

import argparse
import ast
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import smplify
from smplify.synthetic import make_case, pa_mpjpe, reprojection_error

RESULTS = Path(__file__).resolve().parent / "results" / "recovery.json"
REALISTIC_RESULTS = RESULTS.with_name("recovery_realistic.json")
NOISE = {"noise_px": 5.0, "outlier_fraction": 0.1, "outlier_confidence": 0.3}  # as the tests
RULES = ("total", "data")


def mean_and_error(values: list[float]) -> tuple[float, float]:
    """Mean and its standard error."""
    v = np.asarray(values, dtype=float)
    return float(v.mean()), float(v.std(ddof=1) / np.sqrt(v.size)) if v.size > 1 else 0.0


def recovery_cases(model: Any, prior: Any, args: argparse.Namespace
                   ) -> Iterator[tuple[str, int, Any, Any]]:
    """(format, seed, clean case, noisy case) of the recovery set: ``args.cases`` front views
    per format, case i of format f from seed ``args.seed + 100 f + i``; the noisy one is the
    same body with NOISE."""
    for f, format in enumerate(smplify.format_names()):
        for i in range(args.cases):
            seed = args.seed + 100 * f + i
            clean = make_case(model, prior, format, np.random.default_rng(seed))
            noisy = make_case(model, prior, format, np.random.default_rng(seed), **NOISE)
            yield format, seed, clean, noisy


def case_arguments(description: str, cases: int, seed: int, output: Path,
                   realistic: bool = False) -> argparse.Namespace:
    """--cases (per format), --seed (case i of format f: seed + 100 f + i), --output, parsed;
    with ``realistic``, also --realistic N (the realistic-error set instead, N per format)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--cases", type=int, default=cases, help="cases per format")
    parser.add_argument("--seed", type=int, default=seed,
                        help="case i of format f uses seed + 100 f + i (0: the tests' set)")
    parser.add_argument("--output", type=Path, default=None, help=f"default: {output}")
    if realistic:
        from realistic import ALL_FORMATS

        parser.add_argument("--realistic", type=int, default=0, metavar="N",
                            help="run the realistic-error set with N cases per format instead")
        parser.add_argument("--formats", nargs="+", default=list(ALL_FORMATS),
                            choices=ALL_FORMATS, help="with --realistic: these formats")
        parser.add_argument("--variant", default=None, metavar="DICT",
                            help="with --realistic: also these options over the defaults "
                                 "(a dict literal), paired against the new defaults")
    args = parser.parse_args()
    if not getattr(args, "realistic", 0):
        args.output = args.output or output
    if not 1 <= args.cases <= 100:
        parser.error("--cases must be in 1..100 (the seeds of two formats must not overlap)")
    return args


def main() -> None:
    args = case_arguments(__doc__.split("\n\n")[0], 40, 20000, RESULTS, realistic=True)
    if args.realistic:
        variant = None if args.variant is None else ast.literal_eval(args.variant)
        realistic_set(args.realistic, args.output or REALISTIC_RESULTS, tuple(args.formats),
                      variant)
        return

    model, prior = smplify.load_model("open"), smplify.load_prior("open")
    rows = []
    for format, seed, clean, noisy in recovery_cases(model, prior, args):
        row = {"format": format, "seed": seed}
        for kind, case in (("clean", clean), ("noisy", noisy)):
            for rule in RULES:
                fit = smplify.fit(case.keypoints, format, case.image_size,
                                  case.focal_length, model=model, prior=prior,
                                  start_selection=rule)
                row[f"{kind} {rule} pa"] = 1000.0 * pa_mpjpe(fit.joints, clean.joints)
                row[f"{kind} {rule} reproj"] = reprojection_error(fit, clean)
        rows.append(row)

    columns = [f"{kind} {rule} {metric}" for kind in ("clean", "noisy") for rule in RULES
               for metric in ("pa", "reproj")]
    summary = {}
    print(f"{args.cases} front views per format, seeds from {args.seed}: mean ± standard error; "
          "PA-MPJPE mm, reprojection px")
    print(f"{'format':12s}" + "".join(f"{c:>22s}" for c in columns))
    for format in (*smplify.format_names(), "all"):
        sel = [r for r in rows if format in ("all", r["format"])]
        summary[format] = {c: mean_and_error([r[c] for r in sel]) for c in columns}
        print(f"{format:12s}" + "".join(
            f"{m:>14.2f} ± {e:5.2f}" for m, e in summary[format].values()))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"cases_per_format": args.cases, "seed": args.seed,
                                       "summary": summary, "rows": rows}, indent=1) + "\n")
    print(f"wrote {args.output}")


def swap_figures(model: smplify.BodyModel, fmt: str, data, new_mm: list[float]) -> dict:
    """The new defaults' left/right rule (``left_right="auto"``) on one format's cases: which
    swaps it undoes (whole body, arms, legs, against the error model's own), and the new
    defaults' PA-MPJPE on the cases it relabels, with the labels undone (as fitted,
    ``new_mm``) and as given (``left_right="as_given"`` refitted on those cases)."""
    import realistic
    from smplify.problem import build_problem

    undone = np.zeros((len(data.keypoints), 3), dtype=bool)
    for i in range(len(data.keypoints)):
        try:
            what = build_problem(data.keypoints[i], fmt, tuple(data.image_size[i]),
                                 float(data.focal[i]), model, "open",
                                 {"left_right": "auto"}).left_right.split(", ")
        except smplify.KeypointError:
            continue
        undone[i] = [w in what for w in ("swapped back", "arms swapped back",
                                         "legs swapped back")]
    relabelled = undone.any(axis=1)
    new = np.array(new_mm)
    as_given = new.copy()
    picked = np.flatnonzero(relabelled)
    if picked.size:
        sub = realistic.detections.Cases(*(getattr(data, f)[picked] for f in (
            "keypoints", "image_size", "focal", "rotation", "joints", "transl", "body_pose",
            "betas", "swaps")))
        as_given[picked] = realistic.score(model, fmt, sub,
                                           {"left_right": "as_given"})["per_case_mm"]
    out: dict = {}
    for k, kind in enumerate(("whole_body", "arms", "legs")):
        swapped = data.swaps[:, k]
        out[kind] = {"swaps": int(swapped.sum()), "undone": int((undone[:, k] & swapped).sum()),
                     "false_alarms": int((undone[:, k] & ~swapped).sum()),
                     "unswapped": int((~swapped).sum())}
    return {**out, "relabelled": int(picked.size),
            "relabelled_as_given_mm": float(np.nanmean(as_given[picked])) if picked.size
            else float("nan"),
            "relabelled_new_default_mm": float(np.nanmean(new[picked])) if picked.size
            else float("nan"),
            "all_as_given_mm": float(np.nanmean(as_given)),
            "all_new_default_mm": float(np.nanmean(new))}


#: The columns of the realistic-error set: SMPLify as published, its defaults before the
#: learned initialiser, the new defaults, the new defaults without the initialiser.
REALISTIC_COLUMNS = ("paper", "old default", "new default", "no initializer")


def realistic_set(n: int, output: Path, formats: tuple[str, ...],
                  variant: dict[str, Any] | None = None) -> None:
    """The realistic-error set: paper / SMPLify's old defaults / new defaults / new defaults
    without the initialiser (and ``variant``, options over the defaults, with its paired
    difference to the new defaults), and what the new defaults' left/right rule did (module
    docstring)."""
    import realistic

    model = smplify.load_model("open")
    configs = dict(zip(REALISTIC_COLUMNS, ({"preset": "paper"}, realistic.OLD_DEFAULTS, {},
                                           realistic.NO_INITIALIZER), strict=True))
    if variant is not None:
        configs["variant"] = variant
    out: dict = {"split": "test", "cases_per_format": n, "variant": repr(variant),
                 "formats": {}}
    paired_all: list[np.ndarray] = []
    print(f"realistic-error set, test split, {n} cases per format: PA-MPJPE mm (± s.e.), "
          "reprojection px, ms/fit (median)")
    print(f"{'format':12s}" + "".join(f"{name:>30s}" for name in configs))
    for fmt in formats:
        data = realistic.cases(model, fmt, n, "test")
        scores = {name: realistic.score(model, fmt, data, options)
                  for name, options in configs.items()}
        swaps = swap_figures(model, fmt, data, scores["new default"]["per_case_mm"])
        out["formats"][fmt] = {"swaps": swaps, **{
            name: {k: v for k, v in s.items() if not k.startswith("per_case")}
            for name, s in scores.items()}}
        print(f"{fmt:12s}" + "".join(
            f"{s['pa_mpjpe_mm']:9.1f} ± {s['pa_mpjpe_se']:4.1f} {s['reprojection_px']:5.1f} px "
            f"{s['ms_median']:4.0f} ms" for s in scores.values()), flush=True)
        if variant is not None:
            d = (np.array(scores["variant"]["per_case_mm"])
                 - np.array(scores["new default"]["per_case_mm"]))
            d = d[np.isfinite(d)]
            paired_all.append(d)
            mean, se = mean_and_error(list(d))
            out["formats"][fmt]["variant_minus_new_default_mm"] = {"mean": mean, "se": se,
                                                                   "cases": int(d.size)}
            print(f"{'':12s}variant − new default, paired: {mean:+.1f} ± {se:.1f} mm", flush=True)
        print(f"{'':12s}left_right='auto' (undone/swaps, false alarms/others): " + ", ".join(
            f"{kind} {swaps[kind]['undone']}/{swaps[kind]['swaps']}, "
            f"{swaps[kind]['false_alarms']}/{swaps[kind]['unswapped']}"
            for kind in ("whole_body", "arms", "legs"))
              + f"; the {swaps['relabelled']} relabelled cases as given "
              f"{swaps['relabelled_as_given_mm']:.0f} → undone "
              f"{swaps['relabelled_new_default_mm']:.0f} mm, all cases "
              f"{swaps['all_as_given_mm']:.1f} → {swaps['all_new_default_mm']:.1f} mm")
    if paired_all:
        mean, se = mean_and_error(list(np.concatenate(paired_all)))
        out["variant_minus_new_default_mm"] = {"mean": mean, "se": se}
        print(f"all formats: variant − new default, paired: {mean:+.2f} ± {se:.2f} mm")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {output}")


if __name__ == "__main__":
    main()
