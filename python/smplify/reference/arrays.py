"""The arrays only the reference fit reads, derived from a problem once and cached with it.

`smplify.problem` assembles what both fits need; the pure NumPy twin also needs the model and
prior as float64 arrays, the surface keypoints' vertex blend and the sphere layout of E_sp
(docs/design.md, "Capsule file"). The C++ fit computes its own, so the problem does not carry
them: `reference_arrays(problem)` derives them on first use, per problem (and the body, prior
and sphere layout once per model, prior and capsule regressor).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .._owner_cache import OwnerCache
from ..capsules import INCOMPATIBLE_PART_PAIRS
from ..prior import drop_tiny_entries
from .body import BodyArrays, SurfaceBlend

if TYPE_CHECKING:
    from ..problem import FitProblem


@dataclass(frozen=True)
class PriorArrays:
    """The max-mixture pose prior precomputed per component (docs/design.md).

    Attributes
    ----------
    means : (M, 69) μ_k.
    chol : (M, 69, 69) lower L_k with L_k L_kᵀ = Σ_k⁻¹.
    neg_log_c : (M,) −log c_k = −log w_k + (69/2) log 2π + ½ log det Σ_k − min_j ½ log det Σ_j.
    """

    means: np.ndarray
    chol: np.ndarray
    neg_log_c: np.ndarray

    @classmethod
    def from_prior(cls, prior: object) -> PriorArrays:
        """Compute L_k and −log c_k from ``prior.means``, ``.covars``, ``.weights`` directly."""
        means = np.asarray(prior.means, dtype=float)
        covars = np.asarray(prior.covars, dtype=float)
        weights = np.asarray(prior.weights, dtype=float)
        dim = means.shape[1]
        # entries below 1e-150 of the largest set to 0 as smplify.prior does (its reasons)
        chol = np.stack([drop_tiny_entries(np.linalg.cholesky(np.linalg.inv(c)))
                         for c in covars])
        half_logdet = np.array([0.5 * np.linalg.slogdet(c)[1] for c in covars])
        neg_log_c = (-np.log(weights) + 0.5 * dim * np.log(2.0 * np.pi) + half_logdet
                     - half_logdet.min())
        return cls(means=means, chol=chol, neg_log_c=neg_log_c)


@dataclass(frozen=True)
class ReferenceArrays:
    """What the reference fit reads besides the problem itself.

    Attributes
    ----------
    body : BodyArrays
        The model as float64 NumPy arrays.
    prior : PriorArrays
        The prior, L_k and −log c_k recomputed from its covariances.
    surface_blend : SurfaceBlend
        The blend of the keypoints with joint −1 (surface keypoints).
    sphere_counts : (20,) int64
        Spheres per capsule, fixed from β = 0.
    sphere_capsule : (S,) int64
        Capsule of each sphere.
    sphere_fraction : (S,) float64
        m / (n − 1): sphere centre = A + fraction · (B − A).
    sphere_pairs : (P, 2) int64
        Incompatible sphere pairs, grouped by capsule pair (INCOMPATIBLE_PART_PAIRS order).
    sphere_pair_starts : (G,) int64
        First sphere pair of each incompatible capsule pair: capsule pair g, one E_sp row,
        owns sphere_pairs[sphere_pair_starts[g]:sphere_pair_starts[g + 1]].
    """

    body: BodyArrays
    prior: PriorArrays
    surface_blend: SurfaceBlend
    sphere_counts: np.ndarray
    sphere_capsule: np.ndarray
    sphere_fraction: np.ndarray
    sphere_pairs: np.ndarray
    sphere_pair_starts: np.ndarray


# Entries go when their problem, model, prior or capsule regressor is collected.
_CACHE = OwnerCache(64)


def _frozen(a: Any, dtype: Any = None) -> np.ndarray:
    a = np.array(a, dtype=dtype)
    a.flags.writeable = False
    return a


def _spheres(caps: Any) -> tuple[np.ndarray, ...]:
    """Sphere counts (fixed at β = 0), layout, pairs and pair-group starts of a regressor."""
    counts = np.asarray(caps.sphere_counts(None), dtype=np.int64)
    sphere_capsule, sphere_fraction = caps.sphere_layout(counts)
    pairs = caps.incompatible_sphere_pairs(counts)
    pairs_per_group = [counts[a] * counts[b] for a, b in INCOMPATIBLE_PART_PAIRS]
    starts = np.concatenate([[0], np.cumsum(pairs_per_group)[:-1]])
    return (_frozen(counts), _frozen(sphere_capsule, np.int64), _frozen(sphere_fraction),
            _frozen(pairs, np.int64), _frozen(starts, np.int64))


def padded_vertex_rows(problem: FitProblem) -> tuple[np.ndarray, np.ndarray]:
    """The surface keypoints' vertex rows zero-padded to (K, V), V >= 1 (ids, weights)."""
    k = problem.num_keypoints
    width = max([1] + [len(v) for v in problem.keypoint_vertex_ids])
    ids = np.zeros((k, width), dtype=np.int64)
    weights = np.zeros((k, width))
    for i, (row_ids, row_weights) in enumerate(zip(problem.keypoint_vertex_ids,
                                                   problem.keypoint_vertex_weights, strict=True)):
        ids[i, :len(row_ids)] = row_ids
        weights[i, :len(row_weights)] = row_weights
    return ids, weights


def reference_arrays(problem: FitProblem) -> ReferenceArrays:
    """The reference's arrays of ``problem``, computed on first use and cached with it."""
    def compute() -> ReferenceArrays:
        body = _CACHE.get((problem.model,), "body", lambda: BodyArrays.from_model(problem.model))
        prior = _CACHE.get((problem.prior,), "prior",
                           lambda: PriorArrays.from_prior(problem.prior))
        spheres = _CACHE.get((problem.capsule_regressor,), "spheres",
                             lambda: _spheres(problem.capsule_regressor))
        rows = np.flatnonzero(problem.keypoint_joint < 0)
        ids, weights = padded_vertex_rows(problem)
        blend = SurfaceBlend.build(body, ids[rows], weights[rows])
        return ReferenceArrays(body, prior, blend, *spheres)

    return _CACHE.get((problem,), "arrays", compute)
