"""The tables of benchmarks/README.md, generated from the benchmarks' JSON results.

Each generated block of the README sits between ``<!-- report:NAME -->`` and
``<!-- /report:NAME -->``; this script rewrites the blocks whose JSON file exists in
``benchmarks/results/`` (bench_fit, bench_model, bench_baselines) and leaves the others.
``make bench`` runs it after the benchmarks, so a table never outlives the run it quotes.

Run: ``python benchmarks/report.py`` (rewrite), ``--check`` (exit 1 if a block differs from
what the JSON gives, e.g. in CI after ``make bench``).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
README = HERE / "README.md"
MODEL_NAMES = {"open": "open", "smpl-sized": "SMPL-sized"}
FIT_IMPLS = {"cpp-single": "cpp-single", "cpp": "cpp (multi-start)",
             "reference": "reference (oracle, single start)",
             "torch": "torch (SMPLify-X pattern)", "reference-default": "reference-default"}


def _ms(seconds: float) -> str:
    ms = 1000.0 * seconds
    return f"{ms:.1f}" if ms < 100 else f"{ms:.0f}"


def bench_fit(doc: dict[str, Any]) -> str:
    s = doc["settings"]
    lines = [f"`nice .venv/bin/python benchmarks/bench_fit.py` on {doc['date'][:10]}: "
             f"{s['n_per_model']} inputs per model, {s['subset_per_model']} with reference/"
             "torch, seed " f"{s['seed']}.", "",
             "| model | impl | ms median | ms p90 | E median | PA-MPJPE mm | reproj px |",
             "|---|---|---|---|---|---|---|"]
    for model in ("open", "smpl-sized"):
        for impl, label in FIT_IMPLS.items():
            r = doc["summary"][model]["impls"].get(impl)
            if r is None:
                continue
            lines.append(f"| {MODEL_NAMES[model]} | {label} | {_ms(r['seconds_median'])} | "
                         f"{_ms(r['seconds_p90'])} | {r['energy_median']:.0f} | "
                         f"{r['pa_mpjpe_mm_median']:.1f} | "
                         f"{r['reprojection_px_median']:.2f} |")
    lines.append("")
    ratios = []
    for key, base, label in (("reference", "vs_cpp_single", "reference / cpp-single"),
                             ("torch", "vs_cpp_single", "torch / cpp-single"),
                             ("reference-default", "vs_cpp", "reference-default / cpp")):
        cells = []
        for model in ("open", "smpl-sized", "all"):
            r = doc["summary"][model].get(base, {}).get(key)
            if r is not None:
                cells.append(f"{r['time_ratio_median']:.0f}× "
                             f"({MODEL_NAMES.get(model, 'overall')}, {r['inputs']} inputs)")
        if cells:
            ratios.append(f"{label} " + ", ".join(cells))
    lines.append("Time ratios (median of per-input ratios on the inputs both ran): "
                 + "; ".join(ratios) + ".")
    return "\n".join(lines)


def bench_model(doc: dict[str, Any]) -> str:
    lines = [f"`.venv/bin/python benchmarks/bench_model.py` on {doc.get('date', '?')[:10]}:", "",
             "| model | operation | C++ ms | NumPy ms | NumPy / C++ |", "|---|---|---|---|---|"]
    for model in doc["results"]:
        for op in model["rows"]:
            lines.append(f"| {model['model']} | {op['op']} | {op['cpp_ms']:.4f} | "
                         f"{op['numpy_ms']:.4f} | {op['speedup']:.1f}× |")
    return "\n".join(lines)


def bench_baselines(doc: dict[str, Any]) -> str:
    s = doc["settings"]
    lines = [f"`nice .venv/bin/python benchmarks/bench_baselines.py --n {s['n']} --subset "
             f"{s['subset']}` on {doc['date']} ({doc['machine']['cpus']} cores):", "",
             "| impl | fits | ms / image | × cpp-single | E median | cpp-single E median, same "
             "inputs | PA-MPJPE mm |", "|---|---|---|---|---|---|---|"]
    for impl, r in doc["summary"].items():
        lines.append(f"| {impl} | {r['fits']} | {_ms(r['seconds_median'])} | "
                     f"{r['ratio_to_cpp_single']:.2f}× | {r['energy_median']:.0f} | "
                     f"{r['cpp_single_energy_median_same_inputs']:.0f} | "
                     f"{r['pa_mpjpe_mm_median']:.1f} |")
    return "\n".join(lines)


BLOCKS: dict[str, Callable[[dict[str, Any]], str]] = {
    "bench_fit": bench_fit, "bench_model": bench_model, "bench_baselines": bench_baselines}


def render(text: str, results: Path = RESULTS) -> str:
    """``text`` with every block whose JSON exists regenerated."""
    for name, make in BLOCKS.items():
        path = results / f"{name}.json"
        if not path.is_file():
            continue
        pattern = re.compile(rf"(<!-- report:{name} -->\n)(?:.*?\n)?(<!-- /report:{name} -->)",
                             re.S)
        if not pattern.search(text):
            raise SystemExit(f"{README}: no <!-- report:{name} --> block")
        body = make(json.loads(path.read_text()))
        text = pattern.sub(lambda m, body=body: m.group(1) + body + "\n" + m.group(2), text)
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if the README's blocks differ from the JSON")
    args = parser.parse_args(argv)
    text = README.read_text()
    new = render(text)
    if args.check:
        if new != text:
            print("benchmarks/README.md is out of date: run benchmarks/report.py")
            return 1
        print("benchmarks/README.md matches benchmarks/results/*.json")
        return 0
    README.write_text(new)
    print(f"rewrote {README}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
