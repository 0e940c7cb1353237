"""The learned start scorer against the energy's start selection on the realistic-error set.

Every case of ``--split`` (``benchmarks/realistic.py``: held-out mocap poses; ``tune`` to
choose, ``test`` to report) is fitted once with the defaults but the energy's selection
(``start_scorer="energy"``, "default" below: the default before the scorer), every finished
start kept (``tools/start_pools.py``); a selection rule then only picks one of them, so each
rule's PA-MPJPE per case is exact (the fit with ``start_scorer="learned"`` keeps the same
start: ``tests/test_start_scorer.py``). For each (temperature, l2, H) of ``--grid`` the scorer is
trained on the training-subject pools of ``tools/build_start_scorer.py`` (cached) and scored
on the split: mean PA-MPJPE of the default's choice, the scorer's, the best start's, and the
paired difference scorer − default with its standard error, per format and pooled.

    OPENBLAS_NUM_THREADS=1 nice .venv/bin/python benchmarks/start_scorer.py --split tune \
        --cases 150 --grid "[(10, 0.001, 8), (5, 0.001, 8), (20, 0.001, 8), (10, 0.01, 8),
        (10, 0.001, 4), (10, 0.001, 16)]"
    → benchmarks/results/start_scorer_<split>.json

``--split test`` takes one grid point only (the one chosen on tune): tuning on the test
half is refused.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import realistic
import smplify

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import build_start_scorer as bss  # noqa: E402
from smplify.reference.selection import START_FEATURES  # noqa: E402
from start_pools import Pools, record  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def split_pools(model: smplify.BodyModel, fmt: str, n: int, split: str) -> Pools:
    """The realistic split's pools for ``fmt`` (cached like the training pools)."""
    key = hashlib.sha1(b"".join(bss._file_digest(bss.DATA / name) for name in (
        "open_body_neutral.npz", "open_pose_prior.npz", f"initializer_{fmt}.npz"))
        + f"{fmt}|{n}|{split}|{len(START_FEATURES)}".encode()).hexdigest()[:16]
    path = bss.CACHE / f"start_pools_{split}_{fmt}_{key}.npz"
    if path.is_file():
        with np.load(path) as z:
            return Pools(**{k: z[k] for k in z.files})
    pools = record(model, fmt, realistic.cases(model, fmt, n, split))
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **pools.arrays())
    return pools


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", choices=("tune", "test"), default="tune")
    parser.add_argument("--cases", type=int, default=150, help="cases per format")
    parser.add_argument("--formats", nargs="+", default=list(realistic.ALL_FORMATS))
    parser.add_argument("--grid", default=f"[({bss.TEMPERATURE}, {bss.L2}, {bss.HIDDEN})]",
                        help="list of (temperature mm, l2, hidden units) to train and score")
    parser.add_argument("--train-cases", type=int, default=bss.CASES)
    parser.add_argument("--mocap", type=Path,
                        default=bss.REPO.parent / "shared" / "data" / "mocap")
    args = parser.parse_args()
    grid = ast.literal_eval(args.grid)
    if args.split == "test" and len(grid) != 1:
        parser.error(f"--split test scores one (temperature, l2, hidden), got {len(grid)}: "
                     "choose among several on --split tune, then report the choice on test")
    model = smplify.load_model("open")
    held = {fmt: split_pools(model, fmt, args.cases, args.split) for fmt in args.formats}
    train_args = argparse.Namespace(formats=list(bss.FORMATS), cases=args.train_cases,
                                    mocap=args.mocap)
    training = Pools.concatenate(list(bss.training_pools(train_args).values()))
    out: dict[str, Any] = {"split": args.split, "cases_per_format": args.cases, "runs": []}
    for temperature, l2, hidden in grid:
        w = bss.train(training, float(temperature), float(l2), int(hidden))
        run: dict[str, Any] = {"temperature": temperature, "l2": l2, "hidden": hidden,
                               "weights": [float(v) for v in w], "formats": {}}
        diffs = []
        for fmt, pools in held.items():
            fig = bss.figures(pools, w)
            d, s = bss.chosen_mm(pools, None), bss.chosen_mm(pools, w)
            ok = np.isfinite(d)
            diffs.append(s[ok] - d[ok])
            fig["per_case_default_mm"] = [round(float(v), 2) for v in d]
            fig["per_case_scorer_mm"] = [round(float(v), 2) for v in s]
            run["formats"][fmt] = fig
            print(f"T={temperature} l2={l2} H={hidden} {fmt:12s} default "
                  f"{fig['default_mm']:6.1f}  scorer "
                  f"{fig['scorer_mm']:6.1f}  paired {fig['paired_mm']:+5.1f} ± "
                  f"{fig['paired_se']:.1f}  best of starts {fig['best_of_starts_mm']:.1f} "
                  f"({fig['cases']} cases)", flush=True)
        all_d = np.concatenate(diffs)
        run["pooled_paired_mm"] = float(all_d.mean())
        run["pooled_paired_se"] = float(all_d.std(ddof=1) / np.sqrt(len(all_d)))
        print(f"T={temperature} l2={l2} H={hidden} all formats: paired "
              f"{run['pooled_paired_mm']:+.2f} ± {run['pooled_paired_se']:.2f} mm", flush=True)
        out["runs"].append(run)
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"start_scorer_{args.split}.json"
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
