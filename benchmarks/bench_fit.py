"""Fit benchmark: whole SMPLify fits, C++ against the NumPy/SciPy reference and a PyTorch port.

Inputs: synthetic cases (``smplify.synthetic.make_case``: a pose drawn from the prior, β ~ N(0, I),
a camera 2.5–6 m away, f = 1000–5000 px, 1 px keypoint noise; every fourth case a side view,
which makes the fit try both orientations), formats cycling through smpl24, coco17,
openpose25, mediapipe33, lsp14, on two models:

- ``open``: the shipped open body model (13,718 vertices, no pose blend shapes, real surface
  keypoint regressors);
- ``smpl-sized``: the procedural tube body of ``tests/procedural_model.py`` scaled up to SMPL's
  sizes (6,890 vertices, 207 pose blend shapes, 10 betas). With 6,890 vertices the formats'
  surface keypoints (nose, eyes, ears, toes, ...) resolve to ``SMPL_VERTEX_IDS``, which on
  this mesh are arbitrary vertices: the cases are generated from the same targets, so the fit
  stays self-consistent, but its PA-MPJPE says little about SMPL itself. Its capsule regressor
  is fitted on first use and cached (a few seconds).

Per input, in one loop (so every implementation sees the same machine load):

1. ``cpp-single``: ``smplify.fit(..., multi_start=False)``, the authors' single-start schedule;
2. ``cpp``: ``smplify.fit(...)`` with the defaults (multi_start: 9 starts per orientation);
3. ``reference``: ``smplify.reference.fit(..., multi_start=False)`` (slow: the first
   ``--subset`` inputs of each model only);
3b. ``reference-default``: ``smplify.reference.fit(...)`` with the defaults (multi-start, like
   ``cpp``; slower still: the first ``--default-subset`` inputs of each model). Against ``cpp``
   this is the like-for-like ratio at equal energy: from a single start the two solvers often
   end in different minima, from the default starts they agree;
4. ``torch``: ``benchmarks/torch_smplify.fit`` (single start, LBFGS + autograd, smplx-style
   full forward), same subset; skipped with a message when torch is not importable.

Every fit is timed from scratch as a user calls it (problem assembly, camera initialisation,
both orientations when sideways, all stages, result); all models and priors are loaded once
before. Recorded per fit: seconds, for C++ also the solver's own seconds and per-stage
seconds; the final energies, re-evaluated for every implementation by the same oracle
(``smplify.reference.energy.energies`` at the last stage's weights, so "equal energy" compares
like with like); PA-MPJPE against the true joints (mm); mean reprojection error of the
confident keypoints (px); sideways; orientation chosen.

Printed: medians and 90th percentiles per implementation and model, the time ratios
reference/C++ and torch/C++ (median of the per-input ratios, on the same inputs), energy
agreement (median |E_cpp − E_x| / E_x and the median signed difference), and where the C++
time goes (per stage, solver versus Python). JSON: ``benchmarks/results/bench_fit.json``.

Run: ``python benchmarks/bench_fit.py`` (several minutes; use ``nice``), ``--quick`` for a smoke
run, ``--n``, ``--subset``, ``--seed``, ``--skip-reference``, ``--skip-torch``.
"""

from __future__ import annotations

import os

# Single-core comparison: the C++ fit runs on one thread, so NumPy's BLAS (the reference) and
# PyTorch get one too. Threaded BLAS on this loaded 2-core machine also slows the NumPy
# reference erratically (threads spin and wait on each other for small matrices). Must be set
# before NumPy is imported.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import smplify  # noqa: E402
import smplify.reference  # noqa: E402
from smplify.prior import load_prior  # noqa: E402
from smplify.problem import build_problem  # noqa: E402
from smplify.reference.energy import StageWeights, energies  # noqa: E402
from smplify.synthetic import make_case, pa_mpjpe, reprojection_error  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results" / "bench_fit.json"
FORMATS = ("smpl24", "coco17", "openpose25", "mediapipe33", "lsp14")
SMPL_NUM_VERTICES = 6890
NOISE_PX = 1.0
TARGET_SPEEDUP = 100.0
TARGET_SECONDS = 0.020

sys.path.insert(0, str(HERE))
try:
    import torch_smplify
    TORCH_ERROR = ""
except ImportError as err:  # torch missing: the benchmark runs without the PyTorch column
    torch_smplify = None
    TORCH_ERROR = f"{type(err).__name__}: {err}"


# --- models ----------------------------------------------------------------------------------
@contextmanager
def _module_constants(module: Any, **values: Any):
    old = {k: getattr(module, k) for k in values}
    for k, v in values.items():
        setattr(module, k, v)
    try:
        yield
    finally:
        for k, v in old.items():
            setattr(module, k, v)


def smpl_sized_arrays() -> dict[str, np.ndarray]:
    """The procedural tube body with SMPL's sizes: 6,890 vertices, posedirs, 10 betas.

    ``tests/procedural_model.py`` with 16 points per ring and rings every 14.2 mm gives 6,880
    vertices; 10 copies of vertices (no faces, no joint-regressor weight) complete 6,890.
    """
    sys.path.insert(0, str(ROOT / "tests"))
    try:
        import procedural_model
    finally:
        sys.path.remove(str(ROOT / "tests"))
    with _module_constants(procedural_model, _RING_POINTS=16, _RING_SPACING=0.0142):
        arrays = procedural_model.make_procedural_model(num_betas=10)
    n = len(arrays["v_template"])
    pad = SMPL_NUM_VERTICES - n
    if pad < 0:
        raise RuntimeError(f"procedural model has {n} > {SMPL_NUM_VERTICES} vertices")
    copies = np.arange(pad) % n
    for key in ("v_template", "shapedirs", "posedirs", "weights"):
        arrays[key] = np.concatenate([arrays[key], arrays[key][copies]])
    arrays["J_regressor"] = np.concatenate([arrays["J_regressor"], np.zeros((24, pad))], axis=1)
    return arrays


def load_models(names: list[str], tmp: Path) -> dict[str, Any]:
    """Loaded models by benchmark name (capsule regressors ready)."""
    models = {}
    for name in names:
        if name == "open":
            model = smplify.load_model("open")
        elif name == "smpl-sized":
            path = tmp / "smpl_sized.npz"
            np.savez(path, **smpl_sized_arrays())
            model = smplify.load_model(path)
        else:
            raise ValueError(f"unknown model {name!r}; known: open, smpl-sized")
        t0 = time.perf_counter()
        _ = model.capsule_regressor  # shipped, cached, or fitted now (seconds)
        print(f"model {name}: {model.num_vertices} vertices, posedirs "
              f"{model.has_pose_blend_shapes}, capsules ready in {time.perf_counter() - t0:.1f} s")
        models[name] = model
    return models


# --- one fit ---------------------------------------------------------------------------------
def oracle_energy(problem: Any, pose: np.ndarray, betas: np.ndarray,
                  transl: np.ndarray) -> dict[str, float]:
    """Energies of a result by the reference's definitions at the last stage's weights."""
    last = StageWeights.for_stage(problem, problem.options.num_stages - 1)
    return energies(problem, pose, betas, transl, last)


def record(name: str, seconds: float, result: Any, case: Any, problem: Any) -> dict[str, Any]:
    """The per-fit row of the JSON."""
    pose = np.concatenate([result.global_orient, result.body_pose])
    energy = oracle_energy(problem, pose, result.betas, result.transl)
    row = {
        "impl": name,
        "seconds": seconds,
        "energy": energy,
        "energy_own": {k: float(v) for k, v in result.energy.items()},
        "pa_mpjpe_mm": 1000.0 * pa_mpjpe(result.joints, case.joints),
        "reprojection_px": reprojection_error(result, case),
        "orientation": result.summary["orientation"],
        "sideways": bool(result.summary["sideways"]),
    }
    if "solver_seconds" in result.summary:
        row["solver_seconds"] = float(result.summary["solver_seconds"])
        row["stage_seconds"] = {s.name: float(s.seconds) for s in result.summary["stages"]}
        row["stage_iterations"] = {s.name: int(s.iterations) for s in result.summary["stages"]}
        row["num_starts"] = int(result.summary.get("num_starts", 1))
    if name == "torch":
        row["stage_seconds"] = {s.name: s.seconds for s in result.summary["stages"]}
        row["stage_iterations"] = {s.name: s.iterations for s in result.summary["stages"]}
        row["evaluations"] = int(sum(s.evaluations for s in result.summary["stages"]))
    return row


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def run_case(case: Any, model: Any, prior: Any, impls: list[str],
             surface: str) -> list[dict[str, Any]]:
    """Fit one case with each implementation in ``impls``; returns one row per fit."""
    args = (case.keypoints, case.format, case.image_size, case.focal_length)
    # The targets are for one core. Every implementation starts from the prior (SMPLify's
    # starts), pinned: the learned initialiser's hypotheses and anchor (options for three
    # formats) exist in C++ only, so they would make the rows different algorithms.
    kw = {"model": model, "prior": prior, "threads": 1, "starts": "prior", "learned_init": False}
    problem = build_problem(*args, model, prior, {"multi_start": False, "starts": "prior",
                                                  "learned_init": False})
    fits: dict[str, Callable[[], Any]] = {
        "cpp-single": lambda: smplify.fit(*args, **kw, multi_start=False),
        "cpp": lambda: smplify.fit(*args, **kw),
        "reference": lambda: smplify.reference.fit(*args, **kw, multi_start=False),
        "reference-default": lambda: smplify.reference.fit(*args, **kw),
    }
    if torch_smplify is not None:
        fits["torch"] = lambda: torch_smplify.fit(*args, **kw, surface=surface)
    rows = []
    for name in impls:
        seconds, result = timed(fits[name])
        rows.append(record(name, seconds, result, case, problem))
    return rows


# --- statistics ------------------------------------------------------------------------------
def _q(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def summarise(inputs: list[dict[str, Any]], impls: list[str]) -> dict[str, Any]:
    """Medians, 90th percentiles, ratios and energy agreement over a list of inputs."""
    out: dict[str, Any] = {"inputs": len(inputs), "impls": {}}
    for name in impls:
        rows = [inp["fits"][name] for inp in inputs if name in inp["fits"]]
        if not rows:
            continue
        sec = [r["seconds"] for r in rows]
        entry = {
            "fits": len(rows),
            "seconds_median": _q(sec, 50), "seconds_p90": _q(sec, 90),
            "energy_median": _q([r["energy"]["total"] for r in rows], 50),
            "data_energy_median": _q([r["energy"]["data"] for r in rows], 50),
            "pa_mpjpe_mm_median": _q([r["pa_mpjpe_mm"] for r in rows], 50),
            "pa_mpjpe_mm_p90": _q([r["pa_mpjpe_mm"] for r in rows], 90),
            "reprojection_px_median": _q([r["reprojection_px"] for r in rows], 50),
            "sideways_fraction": float(np.mean([r["sideways"] for r in rows])),
        }
        if "solver_seconds" in rows[0]:
            solver = [r["solver_seconds"] for r in rows]
            entry["solver_seconds_median"] = _q(solver, 50)
            entry["python_seconds_median"] = _q([r["seconds"] - r["solver_seconds"]
                                                 for r in rows], 50)
        if "stage_seconds" in rows[0]:
            names = list(rows[0]["stage_seconds"])
            entry["stage_seconds_median"] = {
                s: _q([r["stage_seconds"].get(s, 0.0) for r in rows], 50) for s in names}
            entry["stage_iterations_median"] = {
                s: _q([r["stage_iterations"].get(s, 0) for r in rows], 50) for s in names}
        out["impls"][name] = entry
    # Ratios and energy agreement, on the inputs both ran: every implementation against
    # cpp-single (SMPLify's single start), and the reference's default fit against the C++
    # default fit (both multi-start: the like-for-like comparison at equal energy).
    out["vs_cpp_single"], out["vs_cpp"] = {}, {}
    for name in impls:
        if name == "cpp-single":
            continue
        base = "cpp" if name == "reference-default" else "cpp-single"
        pairs = [(inp["fits"][base], inp["fits"][name]) for inp in inputs
                 if name in inp["fits"] and base in inp["fits"]]
        if not pairs:
            continue
        ratio = [b["seconds"] / a["seconds"] for a, b in pairs]
        rel = [(a["energy"]["total"] - b["energy"]["total"]) / b["energy"]["total"]
               for a, b in pairs]
        out["vs_cpp" if base == "cpp" else "vs_cpp_single"][name] = {
            "inputs": len(pairs),
            "time_ratio_median": _q(ratio, 50), "time_ratio_p10": _q(ratio, 10),
            "ratio_of_medians": _q([b["seconds"] for _, b in pairs], 50)
            / _q([a["seconds"] for a, _ in pairs], 50),
            "cpp_seconds_median": _q([a["seconds"] for a, _ in pairs], 50),
            "seconds_median": _q([b["seconds"] for _, b in pairs], 50),
            "energy_abs_rel_diff_median": _q([abs(x) for x in rel], 50),
            "energy_rel_diff_median": _q(rel, 50),
            "cpp_energy_lower_or_within_1pct": float(np.mean([x <= 0.01 for x in rel])),
            "within_1pct": float(np.mean([abs(x) <= 0.01 for x in rel])),
            "pa_mpjpe_mm_median": [_q([a["pa_mpjpe_mm"] for a, _ in pairs], 50),
                                   _q([b["pa_mpjpe_mm"] for _, b in pairs], 50)],
        }
    return out


def print_summary(label: str, summary: dict[str, Any]) -> None:
    print(f"\n== {label}: {summary['inputs']} inputs ==")
    print(f"{'impl':<17} {'fits':>4} {'ms med':>9} {'ms p90':>9} {'E med':>9} {'E_J med':>8} "
          f"{'PA mm':>7} {'PA p90':>7} {'reproj px':>9}")
    for name, e in summary["impls"].items():
        print(f"{name:<17} {e['fits']:>4} {1e3 * e['seconds_median']:>9.2f} "
              f"{1e3 * e['seconds_p90']:>9.2f} {e['energy_median']:>9.1f} "
              f"{e['data_energy_median']:>8.1f} {e['pa_mpjpe_mm_median']:>7.1f} "
              f"{e['pa_mpjpe_mm_p90']:>7.1f} {e['reprojection_px_median']:>9.2f}")
    for base, table in (("cpp-single", summary["vs_cpp_single"]), ("cpp", summary["vs_cpp"])):
        for name, v in table.items():
            print(f"{name}/{base} on the same {v['inputs']} inputs: time ratio median "
                  f"{v['time_ratio_median']:.1f}x (p10 {v['time_ratio_p10']:.1f}x, ratio of "
                  f"medians {v['ratio_of_medians']:.1f}x); energy |E_c-E|/E median "
                  f"{v['energy_abs_rel_diff_median']:.2%}, signed "
                  f"{v['energy_rel_diff_median']:+.2%}, within 1% in {v['within_1pct']:.0%}, "
                  f"E_c <= E+1% in {v['cpp_energy_lower_or_within_1pct']:.0%} (c: {base})")
    e = summary["impls"].get("cpp-single")
    if e and "stage_seconds_median" in e:
        stages = ", ".join(f"{s} {1e3 * t:.2f} ms ({e['stage_iterations_median'][s]:.0f} it)"
                           for s, t in e["stage_seconds_median"].items())
        print(f"cpp-single time: solver {1e3 * e['solver_seconds_median']:.2f} ms + Python "
              f"{1e3 * e['python_seconds_median']:.2f} ms (medians); per stage: {stages}")


# --- main ------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 5 inputs per model, reference and torch on 2")
    parser.add_argument("--n", type=int, default=30, help="inputs per model (default 30)")
    parser.add_argument("--subset", type=int, default=10,
                        help="inputs per model also fitted by the reference and torch "
                             "(default 10)")
    parser.add_argument("--default-subset", type=int, default=4,
                        help="inputs per model also fitted by the reference with the default "
                             "options (multi-start, ~10 s each; default 4)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--models", default="open,smpl-sized",
                        help="comma-separated: open, smpl-sized")
    parser.add_argument("--skip-reference", action="store_true")
    parser.add_argument("--skip-torch", action="store_true")
    parser.add_argument("--torch-surface", choices=("mesh", "sparse"), default="mesh",
                        help="torch body forward: smplx-style full mesh (default) or only the "
                             "keypoint vertices")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.quick:
        args.n, args.subset, args.default_subset = 5, 2, 1
    slow = []
    if not args.skip_reference:
        slow.append("reference")
    if args.skip_torch:
        pass
    elif torch_smplify is None:
        print(f"torch: skipped, not importable ({TORCH_ERROR}); install it with "
              "`pip install torch` to add the PyTorch column")
    else:
        slow.append("torch")

    prior = load_prior("open")
    rng = np.random.default_rng(args.seed)
    all_inputs: dict[str, list[dict[str, Any]]] = {}
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        models = load_models(args.models.split(","), Path(tmp))
        for model_name, model in models.items():
            cases = [make_case(model, prior, FORMATS[i % len(FORMATS)], rng,
                               view="side" if i % 4 == 3 else "front", noise_px=NOISE_PX)
                     for i in range(args.n)]
            # Warm-up (first-call costs: imports, caches, torch's dispatcher) on case 0, untimed.
            run_case(cases[0], model, prior, ["cpp-single", "cpp"] + slow, args.torch_surface)
            inputs = []
            for i, case in enumerate(cases):
                impls = ["cpp-single", "cpp"] + (slow if i < args.subset else [])
                if "reference" in slow and i < args.default_subset:
                    impls.append("reference-default")
                rows = run_case(case, model, prior, impls, args.torch_surface)
                inputs.append({"model": model_name, "index": i, "format": case.format,
                               "view": "side" if i % 4 == 3 else "front",
                               "fits": {r["impl"]: r for r in rows}})
                line = "  ".join(f"{r['impl']} {1e3 * r['seconds']:.1f} ms "
                                 f"E {r['energy']['total']:.0f}" for r in rows)
                print(f"{model_name} #{i:02d} {case.format:<11} {line}", flush=True)
            all_inputs[model_name] = inputs

    impls = ["cpp-single", "cpp"] + slow + (["reference-default"] if "reference" in slow else [])
    summaries = {name: summarise(inputs, impls) for name, inputs in all_inputs.items()}
    everything = [inp for inputs in all_inputs.values() for inp in inputs]
    summaries["all"] = summarise(everything, impls)
    for name, summary in summaries.items():
        print_summary(name, summary)

    overall = summaries["all"]
    verdict = {
        "cpp_single_seconds_median": overall["impls"]["cpp-single"]["seconds_median"],
        "cpp_seconds_median": overall["impls"]["cpp"]["seconds_median"],
        "target_seconds": TARGET_SECONDS,
        "target_speedup": TARGET_SPEEDUP,
    }
    if "reference" in overall["vs_cpp_single"]:
        verdict["reference_speedup_median"] = overall["vs_cpp_single"]["reference"][
            "time_ratio_median"]
    if "reference-default" in overall["vs_cpp"]:
        verdict["reference_default_speedup_median"] = overall["vs_cpp"]["reference-default"][
            "time_ratio_median"]
        verdict["reference_default_energy_within_1pct"] = overall["vs_cpp"][
            "reference-default"]["within_1pct"]
    print(f"\nverdict: C++ single-start median {1e3 * verdict['cpp_single_seconds_median']:.1f} "
          f"ms, default (multi-start) {1e3 * verdict['cpp_seconds_median']:.1f} ms "
          f"(target <= {1e3 * TARGET_SECONDS:.0f} ms)"
          + (f"; reference/C++ single start {verdict['reference_speedup_median']:.0f}x"
             if "reference_speedup_median" in verdict else "")
          + (f", default fits {verdict['reference_default_speedup_median']:.0f}x with the "
             f"energies within 1% in {verdict['reference_default_energy_within_1pct']:.0%} "
             f"(target >= {TARGET_SPEEDUP:.0f}x at equal energy)"
             if "reference_default_speedup_median" in verdict else ""))

    import scipy

    machine = {"platform": platform.platform(), "processor": platform.processor(),
               "cpus": os.cpu_count(), "python": platform.python_version(),
               "numpy": np.__version__, "scipy": scipy.__version__,
               "smplify": smplify.__version__, "blas_threads": 1,
               "loadavg_at_end": os.getloadavg()}
    if torch_smplify is not None:
        machine["torch"] = torch_smplify.torch.__version__
        machine["torch_threads"] = torch_smplify.torch.get_num_threads()
    doc = {
        "benchmark": "bench_fit",
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": machine,
        "settings": {"n_per_model": args.n, "subset_per_model": args.subset, "seed": args.seed,
                     "formats": FORMATS, "noise_px": NOISE_PX, "side_view_every": 4,
                     "torch_surface": args.torch_surface, "torch_skipped": TORCH_ERROR or None,
                     "wall_seconds": time.perf_counter() - start},
        "timing": "seconds per full fit from scratch (smplify.fit / reference.fit / "
                  "torch_smplify.fit), one loop; energies re-evaluated by the reference's "
                  "energy at the last stage's weights",
        "summary": summaries,
        "verdict": verdict,
        "inputs": everything,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(doc, indent=1, default=float) + "\n")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
