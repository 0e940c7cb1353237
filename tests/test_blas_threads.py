"""Fits do not depend on how many threads NumPy's and SciPy's BLAS run.

A multi-threaded BLAS sums in another order than a single-threaded one; before the set-up
moved to fixed-order sums (smplify.fixed_order) the prior's Cholesky factors and the learned
initialiser's readings differed in the last bits between 1 and 2 BLAS threads, and every fit
with them (1,818 of 2,020 energies of tests/test_dataset.py's data between a Dask worker and
a local run). Here each entry point runs the same inputs with everything that is computed
once per prior built afresh under 1 and then under 2 BLAS threads: the results must agree
bit for bit.
"""

from __future__ import annotations

import numpy as np
import pytest
import smplify
import threadpoolctl  # smplify[test], as pytest itself
from smplify.synthetic import make_case

QUICK = {"threads": 1, "max_iterations": 15}
LEARNED = {"starts": "both", "learned_init": True, "left_right": "auto"}


@pytest.fixture(scope="module")
def cases(open_model, open_prior):
    """Noisy synthetic people in coco17 (an initialiser ships for it), made once."""
    rng = np.random.default_rng(5)
    out = []
    for seed in range(3):
        case = make_case(open_model, open_prior, "coco17", np.random.default_rng(seed))
        keypoints = case.keypoints.copy()
        keypoints[:, :2] += rng.normal(0.0, 4.0, (len(keypoints), 2))
        out.append((case, keypoints))
    return out


def _parameters(result) -> np.ndarray:
    return np.concatenate([np.ravel(a) for a in (result.betas, result.global_orient,
                                                 result.body_pose, result.transl)])


def _all_entry_points(model, cases) -> dict[str, np.ndarray]:
    """Every entry point on the cases, with a prior loaded (and factorised) here."""
    prior = smplify.load_prior("open")
    case, first = cases[0]
    camera = {"format": "coco17", "image_size": case.image_size,
              "focal_length": case.focal_length, "model": model, "prior": prior}
    out = {}
    for name, options in (("default", {}), ("learned", LEARNED)):
        for i, (_, keypoints) in enumerate(cases):
            out[f"fit {name} {i}"] = _parameters(smplify.fit(keypoints, **camera, **QUICK,
                                                             **options))
        batch = smplify.fit_batch([kp for _, kp in cases], threads=2, **camera,
                                  max_iterations=15, **options)
        for i, result in enumerate(batch):
            out[f"fit_batch {name} {i}"] = _parameters(result)
    # An online track long enough for its periodic refit from the initialiser (frame 10).
    fitter = smplify.Fitter(**camera, **QUICK)
    rng = np.random.default_rng(9)
    frames = [first + np.c_[rng.normal(0.0, 2.0, (len(first), 2)), np.zeros(len(first))]
              for _ in range(12)]
    for t, keypoints in enumerate(frames):
        out[f"Fitter frame {t}"] = _parameters(fitter.fit(keypoints))
    sequence = smplify.fit_sequence(np.stack(frames[:6]), **camera, max_iterations=15)
    out["fit_sequence"] = _parameters(sequence)
    return out


def test_results_do_not_depend_on_blas_threads(open_model, cases):
    runs = []
    for threads in (1, 2):
        with threadpoolctl.threadpool_limits(limits=threads, user_api="blas"):
            if threads > 1 and max(lib["num_threads"] for lib in
                                   threadpoolctl.threadpool_info()
                                   if lib["user_api"] == "blas") < 2:
                pytest.skip("the BLAS here runs one thread only: nothing to compare")
            runs.append(_all_entry_points(open_model, cases))
    one, two = runs
    differ = [key for key in one if not np.array_equal(one[key], two[key])]
    assert not differ, f"differ between 1 and 2 BLAS threads: {differ}"


def test_initializer_readings_do_not_depend_on_blas_threads_or_batch():
    from smplify.initializer import load_initializer

    network = load_initializer("coco17")
    x = np.random.default_rng(0).normal(size=(300, 3 * 17 + 3)).astype(np.float32)
    with threadpoolctl.threadpool_limits(limits=1, user_api="blas"):
        one = network.raw(x)
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):
        two = network.raw(x)
    np.testing.assert_array_equal(one, two)
    # A case read alone is the same case read in a batch (tools/ read thousands at once).
    np.testing.assert_array_equal(np.concatenate([network.raw(x[i:i + 1]) for i in range(5)]),
                                  one[:5])
