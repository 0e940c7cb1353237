"""The baselines side by side, in one run: what each costs per image, and what it reaches.

``bench_fit.py`` compares the C++ fit with ``smplify.reference`` (the complex-step test
oracle) and with ``torch_smplify`` (the SMPLify-X pattern: L-BFGS, float64, one thread,
unbatched, every vertex skinned, a stricter stopping rule). Neither is how a NumPy or
PyTorch user who cared about speed would write the fit, so this script adds the fair ones,
all on the same synthetic inputs (open model, ``make_case`` as in ``bench_fit.py``, 1 px
noise, every fourth a side view, formats cycling):

- ``cpp-single``: ``smplify.fit(..., multi_start=False, threads=1)``, one core;
- ``cpp-batch``: the same fits spread over every core by a thread pool, as
  ``smplify.fit_batch`` does (it takes one camera for all images; these have several), per
  image: wall time / images;
- ``numpy-analytic``: ``benchmarks/numpy_smplify.py``, the reference's fit with analytic
  Jacobians (same SciPy trust region), one core;
- ``reference``: ``smplify.reference.fit(..., multi_start=False)``, complex-step Jacobians
  (first ``--subset`` inputs);
- ``torch-smplifyx``: ``torch_smplify.fit`` as in ``bench_fit.py`` (first ``--subset``);
- ``torch-batched-f32``: ``benchmarks/torch_batched.py``, the same SMPLify-X pattern batched:
  one L-BFGS over all the people of a format at once, float32, ``--torch-threads`` torch
  threads (default 1); on the first ``--batched`` inputs (formats cycle, so ``--batched`` / 5
  people a batch), per image: wall time of all batches / images. One thread by default
  because on a shared machine torch's threads wait on each other at every operation: on 2
  cores at load 7 the same batch took 8× the time with 2 threads as with 1 (the same L-BFGS
  iterations), which made an earlier run's 14281× a measure of the load, not of PyTorch.

BLAS runs on one thread (set before NumPy is imported). Every result's energy is
re-evaluated by the oracle (``smplify.reference.energy.energies`` at the last stage's
weights). Printed: per-image ms, ratio to ``cpp-single`` (median of per-image ratios; for
cpp-batch, its per-image share of the wall time against each cpp-single time), median
energy, PA-MPJPE (mm, against the true joints) and reprojection error (px, mean over the
keypoints the fit uses, against the noisy input).
JSON: ``benchmarks/results/bench_baselines.json``. Run:
``python benchmarks/bench_baselines.py`` (~5 min).
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import smplify  # noqa: E402
import smplify.reference  # noqa: E402
from smplify.problem import build_problem  # noqa: E402
from smplify.reference.energy import (  # noqa: E402
    StageWeights,
    energies,
    model_keypoints,
    project,
)
from smplify.synthetic import make_case, pa_mpjpe  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import numpy_smplify  # noqa: E402

RESULTS = HERE / "results" / "bench_baselines.json"
FORMATS = ("smpl24", "coco17", "openpose25", "mediapipe33", "lsp14")
# Every implementation runs the same algorithm: SMPLify's single start from the prior, no
# learned initialiser (its hypotheses and anchor, options of some formats, are C++ only).
PRIOR_STARTS = {"starts": "prior", "learned_init": False}
IMPLS = ("cpp-single", "cpp-batch", "numpy-analytic", "reference", "torch-smplifyx",
         "torch-batched-f32")


def _record(problem: Any, case: Any, pose: np.ndarray, betas: np.ndarray,
            transl: np.ndarray, seconds: float) -> dict[str, float]:
    last = StageWeights.for_stage(problem, problem.options.num_stages - 1)
    model = problem.model
    joints = model(betas=betas, body_pose=pose[3:], global_orient=pose[:3],
                   transl=transl).joints
    uv = project(problem, model_keypoints(problem, pose, betas, transl))
    used = (case.keypoints[:, 2] > 0) & (case.weights > 0) & np.isfinite(uv).all(axis=1)
    return {"seconds": seconds, "energy": energies(problem, pose, betas, transl, last)["total"],
            "pa_mpjpe_mm": 1000.0 * pa_mpjpe(joints, case.joints),
            "reprojection_px": float(np.linalg.norm(uv[used] - case.keypoints[used, :2],
                                                    axis=1).mean())}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=40, help="inputs (formats cycle)")
    parser.add_argument("--subset", type=int, default=5,
                        help="inputs the reference and torch-smplifyx also fit")
    parser.add_argument("--batched", type=int, default=10,
                        help="inputs torch-batched-f32 fits (first ones; batched per format)")
    parser.add_argument("--torch-threads", type=int, default=1,
                        help="torch threads of torch-batched-f32 (0: every core; slow on a "
                             "shared machine)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    import torch
    import torch_batched
    import torch_smplify

    model, prior = smplify.load_model("open"), smplify.load_prior("open")
    rng = np.random.default_rng(args.seed)
    cases = [make_case(model, prior, FORMATS[i % len(FORMATS)], rng,
                       view="side" if i % 4 == 3 else "front", noise_px=1.0)
             for i in range(args.n)]
    problems = [build_problem(c.keypoints, c.format, c.image_size, c.focal_length, model,
                              prior, PRIOR_STARTS) for c in cases]
    for problem, case in list(zip(problems, cases, strict=True))[:3]:  # exact Jacobians?
        error = numpy_smplify.check_jacobian(problem, np.r_[case.global_orient,
                                                            case.body_pose] + 0.05,
                                             case.betas, case.transl)
        if error > 1e-9:
            raise SystemExit(f"numpy_smplify's Jacobian is off by {error:.2e}")
    rows: dict[str, list[dict[str, float] | None]] = {k: [None] * args.n for k in IMPLS}
    smplify.fit(cases[0].keypoints, cases[0].format, cases[0].image_size,
                cases[0].focal_length, model, prior, multi_start=False,
                **PRIOR_STARTS)  # warm caches
    torch.set_num_threads(1)
    for i, (case, problem) in enumerate(zip(cases, problems, strict=True)):
        call = (case.keypoints, case.format, case.image_size, case.focal_length, model, prior)
        start = time.perf_counter()
        res = smplify.fit(*call, multi_start=False, threads=1, **PRIOR_STARTS)
        rows["cpp-single"][i] = _record(problem, case, res.pose, res.betas, res.transl,
                                        time.perf_counter() - start)
        start = time.perf_counter()
        res = numpy_smplify.fit(*call, multi_start=False, **PRIOR_STARTS)
        rows["numpy-analytic"][i] = _record(problem, case, res.pose, res.betas, res.transl,
                                            time.perf_counter() - start)
        if i < args.subset:
            start = time.perf_counter()
            res = smplify.reference.fit(*call, multi_start=False, **PRIOR_STARTS)
            rows["reference"][i] = _record(problem, case, res.pose, res.betas, res.transl,
                                           time.perf_counter() - start)
            start = time.perf_counter()
            res = torch_smplify.fit(*call, **PRIOR_STARTS)
            rows["torch-smplifyx"][i] = _record(problem, case, res.pose, res.betas,
                                                res.transl, time.perf_counter() - start)
        print(f"#{i:02d} {case.format:12s} " + "  ".join(
            f"{k} {1000 * r['seconds']:.1f} ms E {r['energy']:.0f}"
            for k, r in ((k, rows[k][i]) for k in IMPLS) if r is not None), flush=True)
    # Batched runs, every core. smplify.fit_batch takes one camera for all images, and these
    # have several, so the C++ fits go through the same thread pool fit_batch uses.
    threads = os.cpu_count() or 1
    batch_seconds = {}
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        fitted = list(pool.map(lambda c: smplify.fit(
            c.keypoints, c.format, c.image_size, c.focal_length, model, prior,
            multi_start=False, threads=1, **PRIOR_STARTS), cases))
    batch_seconds["cpp-batch"] = time.perf_counter() - start
    for i, res in enumerate(fitted):
        rows["cpp-batch"][i] = _record(problems[i], cases[i], res.pose, res.betas, res.transl,
                                       batch_seconds["cpp-batch"] / args.n)
    batched = min(args.batched, args.n)
    if batched:
        results, seconds = torch_batched.fit_all(problems[:batched],
                                                 threads=args.torch_threads or threads)
        batch_seconds["torch-batched-f32"] = seconds
        for i, res in enumerate(results):
            rows["torch-batched-f32"][i] = _record(problems[i], cases[i], res.pose, res.betas,
                                                   res.transl, seconds / batched)
        print(f"torch-batched-f32: {batched} inputs in {seconds:.1f} s", flush=True)
    return _summarise(args, rows, batch_seconds, args.torch_threads or threads)


def _summarise(args: argparse.Namespace, rows: dict[str, list[Any]],
               batch_seconds: dict[str, float], threads: int) -> int:
    base = rows["cpp-single"]
    base_median = float(np.median([r["seconds"] for r in base]))
    summary = {}
    print(f"\n{'impl':18s} {'fits':>4s} {'ms/image':>10s} {'fits/s':>7s} {'x cpp-single':>13s} "
          f"{'E median':>9s} {'PA mm':>7s} {'reproj px':>9s}")
    for impl in IMPLS:
        done = [(i, r) for i, r in enumerate(rows[impl]) if r is not None]
        if not done:
            continue
        seconds = float(np.median([r["seconds"] for _, r in done]))
        ratio = float(np.median([r["seconds"] / base[i]["seconds"] for i, r in done]))
        summary[impl] = {
            "fits": len(done), "seconds_median": seconds, "ratio_to_cpp_single": ratio,
            "energy_median": float(np.median([r["energy"] for _, r in done])),
            "fits_per_second": 1.0 / seconds,
            "pa_mpjpe_mm_median": float(np.median([r["pa_mpjpe_mm"] for _, r in done])),
            "reprojection_px_median": float(np.median([r["reprojection_px"] for _, r in done])),
            "cpp_single_pa_mpjpe_mm_median_same_inputs": float(np.median(
                [base[i]["pa_mpjpe_mm"] for i, _ in done])),
            "cpp_single_energy_median_same_inputs": float(np.median(
                [base[i]["energy"] for i, _ in done])),
        }
        s = summary[impl]
        print(f"{impl:18s} {len(done):4d} {1000 * seconds:10.2f} {1 / seconds:7.1f} "
              f"{ratio:12.1f}x {s['energy_median']:9.0f} {s['pa_mpjpe_mm_median']:7.1f} "
              f"{s['reprojection_px_median']:9.2f}")
    doc = {"benchmark": "bench_baselines", "date": time.strftime("%Y-%m-%d"),
           "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                       "torch_threads_batched": threads},
           "settings": {"n": args.n, "subset": args.subset, "batched": args.batched,
                        "torch_threads": args.torch_threads,
                        "seed": args.seed,
                        "cpp_single_seconds_median": base_median,
                        "batch_wall_seconds": batch_seconds},
           "summary": summary, "inputs": rows}
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
