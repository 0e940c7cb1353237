"""Load-time benchmark: what a user waits for before the first fit (issue target < 0.2 s each).

Timed (median over repeats, file cache warm, in one process):
- ``load_model("open")``: the open body model, neutral, from the installed package;
- ``load_prior("open")``: the open GMM pose prior (with its Cholesky factors);
- ``model.capsule_regressor``: the shipped capsule regressor of the open model;
- fitting a capsule regressor for a user's model (done once per model, then cached): on the
  procedural test model, once;
- ``import smplify`` in a fresh interpreter.
Results: a table on stdout and ``benchmarks/results/bench_load.json``.

Run: ``python benchmarks/bench_load.py`` (a few seconds).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import smplify
from smplify.capsules import capsules_for_model, fit_capsule_regressor

ROOT = Path(__file__).resolve().parent
TARGET_SECONDS = 0.2


def median_seconds(fn, repeats: int = 7) -> float:
    fn()  # warm the file cache and imports
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    model = smplify.load_model("open")
    rows = {
        'load_model("open")': median_seconds(lambda: smplify.load_model("open")),
        'load_prior("open")': median_seconds(lambda: smplify.load_prior("open")),
        "open model capsules": median_seconds(lambda: capsules_for_model(model)),
    }
    sys.path.insert(0, str(ROOT.parent / "tests"))
    from procedural_model import make_procedural_model

    arrays = make_procedural_model()
    start = time.perf_counter()
    fit_capsule_regressor(arrays["v_template"], arrays["shapedirs"], arrays["J_regressor"],
                          arrays["weights"], arrays["f"])
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import smplify"], check=True)
    import_seconds = time.perf_counter() - start

    print(f"{'what':28s} {'seconds':>9s}  target")
    for name, seconds in rows.items():
        verdict = "ok" if seconds < TARGET_SECONDS else "MISSED"
        print(f"{name:28s} {seconds:9.3f}  < {TARGET_SECONDS} s {verdict}")
    print(f"{'capsule fit, user model':28s} {fit_seconds:9.3f}  once per model, then cached")
    print(f"{'import smplify (fresh)':28s} {import_seconds:9.3f}")
    out = ROOT / "results" / "bench_load.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"load_seconds": rows, "capsule_fit_seconds": fit_seconds,
                               "import_seconds": import_seconds,
                               "target_seconds": TARGET_SECONDS}, indent=2))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
