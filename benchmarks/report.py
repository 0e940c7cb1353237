"""The tables of benchmarks/README.md, generated from the benchmarks' JSON results.

Each generated block sits between ``<!-- report:NAME -->`` and ``<!-- /report:NAME -->``;
this script rewrites the blocks whose JSON file exists in ``benchmarks/results/`` and leaves
the others: benchmarks/README.md's tables (bench_fit, bench_model, bench_baselines) and the
figures README.md and docs/design.md quote in their text (recovery_options).
``make bench`` runs it after the benchmarks, so a table never outlives the run it quotes.

The JSON files the blocks come from are committed (small: summaries and per-case rows), so
``--check`` means something on a fresh clone: tests/test_benchmark_report.py runs it. A block
whose JSON is missing fails the check, unless :data:`UNBACKED` lists it with the reason.

Run: ``python benchmarks/report.py`` (rewrite), ``--check`` (exit 1 if a block differs from
what the JSON gives, or has no JSON and no reason in UNBACKED).
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
BASELINES = {
    "cpp-single": "C++ core, one start, one core",
    "cpp-batch": "the same, a thread pool over every core (as fit_batch)",
    "numpy-analytic": "NumPy/SciPy trust region, analytic Jacobians, one core",
    "reference": "the test oracle: SciPy, complex-step Jacobians",
    "torch-smplifyx": "PyTorch, SMPLify-X pattern: L-BFGS, float64, one thread, unbatched",
    "torch-batched-f32": "the same batched: one L-BFGS per format batch, float32",
}


def _torch_threads(doc: dict[str, Any]) -> str:
    """How many torch threads the batched row ran on (runs before --torch-threads: every core)."""
    n = doc["machine"].get("torch_threads_batched", doc["machine"]["cpus"])
    return "one thread" if n == 1 else f"{n} threads"


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
    threads = f" --torch-threads {s['torch_threads']}" if "torch_threads" in s else ""
    lines = [f"`nice .venv/bin/python benchmarks/bench_baselines.py --n {s['n']} --subset "
             f"{s['subset']} --batched {s['batched']}{threads}` on {doc['date']} "
             f"({doc['machine']['cpus']} cores):", "",
             "| impl | what it is | fits | ms / image | fits/s | × cpp-single | E median | "
             "cpp-single E, same inputs | PA-MPJPE mm | cpp-single PA mm, same inputs | "
             "reproj px |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for impl, r in doc["summary"].items():
        what = BASELINES.get(impl, "")
        if impl == "torch-batched-f32":
            what += f", {_torch_threads(doc)}"
        lines.append(f"| {impl} | {what} | {r['fits']} | "
                     f"{_ms(r['seconds_median'])} | {r['fits_per_second']:.3g} | "
                     f"{r['ratio_to_cpp_single']:.2f}× | {r['energy_median']:.0f} | "
                     f"{r['cpp_single_energy_median_same_inputs']:.0f} | "
                     f"{r['pa_mpjpe_mm_median']:.1f} | "
                     f"{r['cpp_single_pa_mpjpe_mm_median_same_inputs']:.1f} | "
                     f"{r['reprojection_px_median']:.2f} |")
    return "\n".join(lines)


def bench_video(doc: dict[str, Any]) -> str:
    a = doc["args"]
    lines = [f"`nice .venv/bin/python benchmarks/bench_video.py` ({len(doc['clips'])} held-out "
             f"clips, frames {a['start']}.. ({a['frames']} each), COCO-17 with detector "
             f"errors, {a.get('confidence', 'uniform')} confidences; the truth's own mean "
             f"acceleration {doc['truth_accel_mm']:.1f} "
             "mm/frame²):", "",
             "| method | frames/s (median over clips, one thread) | frames/s of CPU time | "
             "PA-MPJPE mm | accel error mm/frame² | accel mm/frame² |",
             "|---|---|---|---|---|---|"]
    for method, r in doc["summary"].items():
        cpu = r.get("cpu_fps_median")
        lines.append(f"| {method} | {r['fps_median']:.1f} | "
                     f"{'–' if cpu is None else f'{cpu:.1f}'} | "
                     f"{r['pa_mpjpe_mm']:.1f} | "
                     f"{r['accel_error_mm']:.1f} | {r['accel_mm']:.1f} |")
    return "\n".join(lines)


REAL_VIDEO_METHODS = {"per-frame": "independent per-frame fits", "online": "online Fitter",
                      "sequence": "fit_sequence"}


def _fit_provenance(doc: dict[str, Any]) -> str:
    """Which of bench_real_video's fits the run made and which it read from its cache
    (reused only when made by the same package, data-file and model digests, options and
    detections)."""
    prov = doc.get("provenance")
    if prov is None:
        return "; fits of unrecorded provenance (cached by an earlier run)"
    cached = [f"{video} {label} {v['summary'][method]['tracks'] - len(fitted)}"
              for video, v in doc["videos"].items()
              for method, label in REAL_VIDEO_METHODS.items()
              if method in v["summary"]
              for fitted in [v["fitted_this_run"].get(method, [])]
              if v["summary"][method]["tracks"] > len(fitted)]
    made = ("every fit made by this run" if not cached else
            "tracks read from the cache: " + ", ".join(cached))
    data = f", data files {prov['data']}" if "data" in prov else ""
    return f"; package digest {prov['package']}{data}, model {prov['model']}; {made}"


def bench_real_video(doc: dict[str, Any]) -> str:
    """benchmarks/README.md's table of bench_real_video.py: per video, the methods side by
    side."""
    lines = [f"`OPENBLAS_NUM_THREADS=1 nice .venv/bin/python benchmarks/bench_real_video.py` on "
             f"{doc['date']} (real MediaPipe detections, no 3D truth){_fit_provenance(doc)}:",
             "",
             "| video | method | facing turns > 90° per 100 frames | depth jumps > 0.5 m per "
             "100 frames | depth range m (p5–p95) | depth vs 2D size (p95/p5) | accel "
             "mm/frame² | reprojection px (% of height) | knee bend ° (median) | facing "
             "against the nose % | against the detector % (longest run) | CPU ms/frame |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for video, v in doc["videos"].items():
        for method, label in REAL_VIDEO_METHODS.items():
            r = v["summary"].get(method)
            if r is None:
                continue
            lines.append(
                f"| {video} ({r['tracks']} people, {r['frames']} frames at {v['fps']:.0f} fps) "
                f"| {label} | {r['turns_over_90_per_100']:.1f} | "
                f"{r['depth_jumps_per_100']:.1f} | {r['depth_range_m']:.2f} | "
                f"{r['depth_vs_2d_ratio']:.2f} | {r['accel_mm']:.1f} | "
                f"{r['reprojection_px']:.1f} ({r['reprojection_pct']:.1f}) | "
                f"{r['knee_bend_deg']:.0f} | {r['nose_against_pct']:.1f} | "
                f"{r['detector_against_pct']:.1f} ({r['detector_against_longest']:.0f}) | "
                f"{r['cpu_ms_median']:.1f} |")
    return "\n".join(lines)


def _pm(value: list[float], digits: int) -> str:
    return f"{value[0]:.{digits}f} ± {value[1]:.{digits}f}"


def fifth_stage(doc: dict[str, Any]) -> str:
    """The fifth-stage sentence of README.md (recovery_options.py)."""
    s = doc["summary"]
    return (f"(`benchmarks/recovery_options.py`, {doc['date']}, {5 * doc['cases_per_format']} "
            f"recovery cases, mean ± s.e.: reprojection {_pm(s['clean default reproj'], 2)} → "
            f"{_pm(s['clean fifth stage reproj'], 2)} px on perfect 2D, but PA-MPJPE "
            f"{_pm(s['clean default pa'], 1)} → {_pm(s['clean fifth stage pa'], 1)} mm, and "
            f"with noisy detections it fits the noise: {_pm(s['noisy default pa'], 1)} → "
            f"{_pm(s['noisy fifth stage pa'], 1)} mm)")


def recovery_options(doc: dict[str, Any]) -> str:
    """benchmarks/README.md's table of recovery_options.py."""
    s = doc["summary"]
    lines = [f"`nice .venv/bin/python benchmarks/recovery_options.py --cases "
             f"{doc['cases_per_format']} --seed {doc['seed']}` on {doc['date']} (mean ± "
             "standard error over the cases):", "",
             "| fit | 2D | PA-MPJPE mm | reprojection px |", "|---|---|---|---|"]
    for name in ("default", "fifth stage", "single start"):
        for kind in ("clean", "noisy"):
            if f"{kind} {name} pa" in s:
                lines.append(f"| {name} | {'perfect' if kind == 'clean' else 'noisy'} | "
                             f"{_pm(s[f'{kind} {name} pa'], 1)} | "
                             f"{_pm(s[f'{kind} {name} reproj'], 2)} |")
    lines += ["", f"Single start, one thread: {1000 * s['single start seconds median']:.1f} ms "
              f"median, {1000 * s['single start seconds p90']:.1f} ms p90 per fit."]
    return "\n".join(lines)


def baseline_ratios(doc: dict[str, Any]) -> str:
    """README.md's sentence on the fair baselines (bench_baselines.py)."""
    s, settings = doc["summary"], doc["settings"]
    parts = []
    for impl, what in (("numpy-analytic", "NumPy/SciPy with analytic Jacobians (one core)"),
                       ("torch-batched-f32", "the SMPLify-X-pattern PyTorch batched per format, "
                                             f"float32, on {_torch_threads(doc)}")):
        r = s.get(impl)
        if r is not None:
            parts.append(f"{what} {r['ratio_to_cpp_single']:.0f}× the time per image of C++ on "
                         f"one core ({r['fits']} inputs, PA-MPJPE {r['pa_mpjpe_mm_median']:.0f} "
                         f"mm against C++'s {r['cpp_single_pa_mpjpe_mm_median_same_inputs']:.0f})")
    return (f"(`bench_baselines.py --n {settings['n']} --subset {settings['subset']} --batched "
            f"{settings['batched']}`, {doc['date']}, {doc['machine']['cpus']} shared cores: "
            + "; ".join(parts) + ")")


def sphere_rows(doc: dict[str, Any]) -> str:
    """The E_sp-rows sentence of docs/design.md (recovery_options.py)."""
    s = doc["summary"]
    return (f"(`benchmarks/recovery_options.py`, {doc['date']}, shared 2-core machine: the "
            f"single-start fit takes {1000 * s['single start seconds median']:.1f} ms median, "
            f"{1000 * s['single start seconds p90']:.1f} ms p90, on "
            f"{5 * doc['cases_per_format']} recovery cases, where the default fit measures "
            f"{_pm(s['clean default pa'], 1)} mm mean PA-MPJPE)")


def bench_tracker(doc: dict[str, Any]) -> str:
    """benchmarks/README.md's table of bench_tracker.py: the old and new tracker on the
    synthetic test half and on the real videos."""
    lines = [f"`OPENBLAS_NUM_THREADS=1 nice .venv/bin/python benchmarks/bench_tracker.py` "
             f"(synthetic test half: {doc['scenes']} scenes of 120 frames, 2-5 people; "
             "CPU ms per frame a median of 3 runs):", "",
             "| tracker | id switches | fragmentations | true people without id | false "
             "people with id | MOTA | IDF1 | ids per person | CPU ms/frame |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name, s in doc["synthetic"].items():
        lines.append(f"| {name} | {s['idsw']} | {s['frag']} | {s['fn']} | {s['fp']} | "
                     f"{s['mota']:.3f} | {s['idf1']:.3f} | {s['ids_per_person']:.2f} | "
                     f"{doc['cpu_ms_per_frame'][name]:.2f} |")
    lines += ["", "| video | tracker | ids | ids seen ≥ 30 frames (their lengths) | "
              "detections without id | box jumps > 1.5× (track: frame ratio) |",
              "|---|---|---|---|---|---|"]
    for video, runs in doc["real"].items():
        for name, r in runs.items():
            jumps = ", ".join(f"{j['track']}: {j['frame']} {j['ratio']}×" for j in r["jumps"])
            lines.append(f"| {video} | {name} | {r['ids']} | {r['ids_long']} "
                         f"({', '.join(map(str, r['long_lengths']))}) | {r['unassigned']} | "
                         f"{r['handovers']}{f' ({jumps})' if jumps else ''} |")
    return "\n".join(lines)


BLOCKS: dict[str, Callable[[dict[str, Any]], str]] = {
    "bench_fit": bench_fit, "bench_model": bench_model, "bench_baselines": bench_baselines,
    "bench_video": bench_video, "recovery_options": recovery_options,
    "bench_real_video": bench_real_video, "bench_tracker": bench_tracker}
#: Blocks of other documents: (JSON name, block name) → generator, per document.
INLINE: dict[Path, dict[str, tuple[str, Callable[[dict[str, Any]], str]]]] = {
    HERE.parent / "README.md": {"fifth_stage": ("recovery_options", fifth_stage),
                                "baseline_ratios": ("bench_baselines", baseline_ratios)},
    HERE.parent / "docs" / "design.md": {"sphere_rows": ("recovery_options", sphere_rows)},
}


#: Blocks whose JSON is not committed, and why; every other block must have its JSON in
#: benchmarks/results/. The next ``make bench`` writes theirs: commit it and drop the entry.
UNBACKED: dict[str, str] = {
    "bench_fit": "the 2026-12-05 run's JSON was not kept (results/ was ignored by git then)",
    "bench_model": "the 2026-12-05 run's JSON was not kept (results/ was ignored by git then)",
}


def _replace(text: str, name: str, body: str, where: Path) -> str:
    # A block on lines of its own (tables), or inline in a sentence (markers mid-line).
    pattern = re.compile(rf"(<!-- report:{name} -->\n?).*?(\n?<!-- /report:{name} -->)",
                         re.S)
    if not pattern.search(text):
        raise SystemExit(f"{where}: no <!-- report:{name} --> block")
    def fill(m: re.Match[str]) -> str:
        block = m.group(1).endswith("\n") and not m.group(2).startswith("\n")
        return m.group(1) + body + ("\n" if block else "") + m.group(2)

    return pattern.sub(fill, text)


def render(text: str, results: Path = RESULTS,
           blocks: dict[str, tuple[str, Callable[[dict[str, Any]], str]]] | None = None,
           where: Path = README) -> str:
    """``text`` with every block whose JSON exists regenerated (``blocks``: name → (JSON
    name, generator); default: benchmarks/README.md's)."""
    if blocks is None:
        blocks = {name: (name, make) for name, make in BLOCKS.items()}
    for name, (source, make) in blocks.items():
        path = results / f"{source}.json"
        if path.is_file():
            text = _replace(text, name, make(json.loads(path.read_text())), where)
    return text


def documents() -> dict[Path, dict[str, tuple[str, Callable[[dict[str, Any]], str]]]]:
    """Each document with generated blocks: block name → (JSON name, generator)."""
    return {README: {name: (name, make) for name, make in BLOCKS.items()}, **INLINE}


def missing_results(results: Path = RESULTS) -> list[str]:
    """Blocks with no JSON in ``results`` that :data:`UNBACKED` does not excuse."""
    return sorted(f"{path.name}: {name} (results/{source}.json)"
                  for path, blocks in documents().items()
                  for name, (source, _) in blocks.items()
                  if not (results / f"{source}.json").is_file() and name not in UNBACKED)


def stale_documents(results: Path = RESULTS) -> list[Path]:
    """Documents with a block that differs from what its JSON in ``results`` gives."""
    return [path for path, blocks in documents().items()
            if render(path.read_text(), results, blocks, path) != path.read_text()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if a block differs from its JSON or has no JSON")
    args = parser.parse_args(argv)
    if args.check:
        stale, missing = stale_documents(), missing_results()
        if stale:
            print("out of date, run benchmarks/report.py: " + ", ".join(map(str, stale)))
        if missing:
            print("no results JSON for: " + "; ".join(missing))
        if stale or missing:
            return 1
        unchecked = [name for name in UNBACKED if not (RESULTS / f"{name}.json").is_file()]
        print("README.md, docs/design.md and benchmarks/README.md match benchmarks/results/"
              "*.json" + (f" (not checked, no JSON: {', '.join(unchecked)})" if unchecked
                          else ""))
        return 0
    for path, blocks in documents().items():
        text = path.read_text()
        new = render(text, blocks=blocks, where=path)
        if new != text:
            path.write_text(new)
            print(f"rewrote {path}")
    return 0

if __name__ == "__main__":
    sys.exit(main())
