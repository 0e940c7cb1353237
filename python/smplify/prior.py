"""The Gaussian-mixture pose prior E_θ of SPEC §2 (max-mixture approximation).

E_θ(x) = min_k ( ½ (x − μ_k)ᵀ Σ_k⁻¹ (x − μ_k) − log c_k ),  x = θ[3:72] (69 values),

with c_k the mixture weight divided by the component's Gaussian normaliser, relative to the
smallest normaliser. As least squares (docs/design.md, "Pose prior file"), per component k:

    L_k = cholesky(inv(Σ_k))            (lower, Σ_k⁻¹ = L_k L_kᵀ)
    −log c_k = −log w_k + (69/2) log 2π + ½ log det Σ_k − min_j ½ log det Σ_j
    r_k(x) = [ √½ · L_kᵀ (x − μ_k) ; √(−log c_k) ]          (70 rows)
    E_θ(x) = min_k ‖r_k(x)‖².

Files: the shipped open prior ("open", ``data/open_pose_prior.npz``, learned by
``tools/build_pose_prior.py`` from inverse-kinematics fits of the open body model to CMU
motion capture: "The data used in this project was obtained from mocap.cs.cmu.edu. The
database was created with funding from NSF EIA-0196217."), any ``.npz`` with ``means``
(8, 69), ``covars`` (8, 69, 69) and ``weights`` (8,), or the authors' ``gmm_08.pkl`` (a
Python-2 pickle of a dict with the same keys), read through
:func:`smplify.safe_pickle.load_pickle`, which runs no code.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import fixed_order
from .errors import ModelFileError

NUM_POSE = 69  # θ[3:72]: the 23 body joints' axis-angles
_DATA = Path(__file__).resolve().parent / "data"
_NAMED = {"open": _DATA / "open_pose_prior.npz"}


#: An entry of L_k below TINY_ENTRY × max|L_k| is set to exactly 0 (drop_tiny_entries).
TINY_ENTRY = 1e-150


def drop_tiny_entries(factor: np.ndarray) -> np.ndarray:
    """L_k with every entry below ``TINY_ENTRY`` × its largest |entry| set to exactly 0.

    Such an entry cannot change a sum it enters, yet it costs the fit the processor's slow
    path for subnormal numbers. L_k is both E_θ's residual matrix and its Jacobian
    (r = √½ L_kᵀ(x − μ_k), ∂r/∂x = √½ L_kᵀ): an entry e ≤ 1e-150·max|L_k| adds e·d_i to a row
    r_j = √½ Σ_i L_ij d_i, which is below half an ulp of r_j unless r_j itself is below
    ~1e-134·max|L_k|·|d|, i.e. the row's own coordinates sit at the mean (a held joint at
    μ = 0); such a row's square (< 1e-260) is below the ulp of any energy it is added to, and
    in the solver's JᵀJ the entry's products (< 1e-298 with another tiny one, < 1e-148 of an
    O(1) one) vanish next to the entries of size O(1) they are added to. The shipped open
    prior's covariances carry ~4500 entries between 5e-324 and 1e-30 (joints that never moved
    together in its data); its factors then hold 2247 entries between 1e-330 and 1e-255, 753
    of them subnormal, and none between 1e-255 and 1e-16: every Jacobian of E_θ with those
    components fed ~750 subnormal entries into Ceres' normal equations (docs/video.md,
    session 19).
    """
    factor = np.array(factor, dtype=np.float64)
    factor[np.abs(factor) < TINY_ENTRY * np.abs(factor).max(initial=0.0)] = 0.0
    return factor


class GMMPosePrior:
    """An 8-component (any K ≥ 1) Gaussian mixture over the 69 body-pose values.

    Parameters
    ----------
    means : (K, 69) float array, radians
    covars : (K, 69, 69) float array, symmetric positive definite
    weights : (K,) float array, positive (normalised to sum 1 here)
    source : str, optional
        Where the arrays came from, for error messages.

    Attributes
    ----------
    means, covars, weights : as above (float64)
    precision_cholesky : (K, 69, 69) lower-triangular L_k with Σ_k⁻¹ = L_k L_kᵀ
    neg_log_c : (K,) −log c_k > 0 (the constant row of each component's residual, squared)
    """

    def __init__(self, means: np.ndarray, covars: np.ndarray, weights: np.ndarray,
                 source: str = "<arrays>") -> None:
        means = _as_float(means, "means", source)
        covars = _as_float(covars, "covars", source)
        weights = _as_float(weights, "weights", source)
        if means.ndim != 2 or means.shape[1] != NUM_POSE or means.shape[0] < 1:
            raise ValueError(f"{source}: 'means' must have shape (K, {NUM_POSE}), "
                             f"got {means.shape}")
        k = means.shape[0]
        if covars.shape != (k, NUM_POSE, NUM_POSE):
            raise ValueError(f"{source}: 'covars' must have shape ({k}, {NUM_POSE}, "
                             f"{NUM_POSE}) to match 'means', got {covars.shape}")
        if weights.shape != (k,):
            raise ValueError(f"{source}: 'weights' must have shape ({k},), got {weights.shape}")
        if np.any(weights <= 0):
            raise ValueError(f"{source}: 'weights' must all be > 0")
        asym = np.abs(covars - np.swapaxes(covars, 1, 2)).max()
        if asym > 1e-8 * max(1.0, np.abs(covars).max()):
            raise ValueError(f"{source}: 'covars' must be symmetric (max asymmetry {asym:.3g})")
        covars = 0.5 * (covars + np.swapaxes(covars, 1, 2))
        weights = weights / weights.sum()
        chol_cov = np.empty_like(covars)
        prec_chol = np.empty_like(covars)
        # In a fixed summation order (smplify.fixed_order): LAPACK's and BLAS's results vary
        # in the last bits with their thread count, and a fit could end elsewhere for it.
        for i in range(k):
            try:
                chol_cov[i] = fixed_order.cholesky(covars[i])  # Σ = C Cᵀ
            except np.linalg.LinAlgError:
                raise ValueError(f"{source}: 'covars'[{i}] is not positive definite") from None
            # Σ⁻¹ = C⁻ᵀ C⁻¹; its lower Cholesky factor is L = cholesky(Σ⁻¹). Build Σ⁻¹ from
            # the triangular inverse (stable), then factor it.
            precision = fixed_order.gram(fixed_order.lower_inverse(chol_cov[i]))
            try:
                prec_chol[i] = fixed_order.cholesky(0.5 * (precision + precision.T))
            except np.linalg.LinAlgError:
                raise ValueError(f"{source}: 'covars'[{i}] is too ill-conditioned to "
                                 "invert") from None
            prec_chol[i] = drop_tiny_entries(prec_chol[i])
        half_logdet = np.log(np.diagonal(chol_cov, axis1=1, axis2=2)).sum(axis=1)
        neg_log_c = (-np.log(weights) + 0.5 * NUM_POSE * np.log(2 * np.pi) + half_logdet
                     - half_logdet.min())
        # |μ| < 1e-150 rad (the open prior's held hands and feet: 12 subnormal, 36 below
        # 1e-30) is 0: x − μ then keeps a held joint's exact 0, no subnormal d (TINY_ENTRY)
        self.means = np.where(np.abs(means) < TINY_ENTRY, 0.0, means)
        self.covars = covars
        self.weights = weights
        self.precision_cholesky = prec_chol
        self.neg_log_c = neg_log_c
        self.source = source
        self._chol_cov = chol_cov
        self._sqrt_neg_log_c = np.sqrt(np.maximum(neg_log_c, 0.0))

    @property
    def num_components(self) -> int:
        """Number of mixture components K."""
        return self.means.shape[0]

    def _pose(self, body_pose: np.ndarray) -> np.ndarray:
        """``body_pose`` as a finite (69,) float64 vector; (1, 69) (smplx style) is accepted."""
        try:
            x = np.asarray(body_pose, dtype=np.float64)
        except (TypeError, ValueError) as err:
            raise TypeError(f"body_pose must be a numeric array of shape ({NUM_POSE},), got "
                            f"{type(body_pose).__name__}") from err
        if x.shape == (1, NUM_POSE):  # a batch of one, as BodyModel.__call__ accepts
            x = x[0]
        if x.shape != (NUM_POSE,):
            raise ValueError(f"body_pose must have shape ({NUM_POSE},) or (1, {NUM_POSE}), "
                             f"got {x.shape}")
        if not np.all(np.isfinite(x)):
            raise ValueError("body_pose must be finite, got NaN or inf")
        return x

    def _all_residuals(self, x: np.ndarray) -> np.ndarray:
        """(K, 70) residual of every component at one pose x (69,)."""
        d = x[None, :] - self.means  # (K, 69)
        quad = np.sqrt(0.5) * np.einsum("kij,ki->kj", self.precision_cholesky, d)  # √½ Lᵀ d
        return np.concatenate([quad, self._sqrt_neg_log_c[:, None]], axis=1)

    def residual(self, body_pose: np.ndarray) -> tuple[np.ndarray, int]:
        """The 70-row residual of the best component.

        Parameters
        ----------
        body_pose : (69,) or (1, 69) array, radians (θ[3:72]), finite

        Returns
        -------
        r : (70,) array, with ‖r‖² = :meth:`energy`
        k : int, the component that attains the minimum
        """
        res = self._all_residuals(self._pose(body_pose))
        k = int(np.argmin((res**2).sum(axis=1)))
        return res[k], k

    def component(self, body_pose: np.ndarray) -> int:
        """Index of the component minimising ‖r_k‖² at ``body_pose`` (69,) or (1, 69)."""
        return self.residual(body_pose)[1]

    def energy(self, body_pose: np.ndarray) -> float:
        """E_θ = min_k ‖r_k(x)‖² for ``body_pose`` (69,) or (1, 69) in radians (dimensionless).

        Raises ValueError for another shape or for NaN/inf values, TypeError for non-numbers.
        """
        res = self._all_residuals(self._pose(body_pose))
        return float((res**2).sum(axis=1).min())

    def energies(self, body_poses: np.ndarray) -> np.ndarray:
        """E_θ for many poses: (N, 69) radians -> (N,)."""
        x = np.asarray(body_poses, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != NUM_POSE:
            raise ValueError(f"body_poses must have shape (N, {NUM_POSE}), got {x.shape}")
        if not np.all(np.isfinite(x)):
            raise ValueError("body_poses must be finite, got NaN or inf")
        d = x[:, None, :] - self.means[None]  # (N, K, 69)
        quad = 0.5 * (np.einsum("kij,nki->nkj", self.precision_cholesky, d) ** 2).sum(axis=2)
        return (quad + self.neg_log_c[None]).min(axis=1)

    def sample(self, n: int, rng: np.random.Generator | int | None = None) -> np.ndarray:
        """Draw ``n`` poses (n, 69) (radians) from the mixture (component ~ weights)."""
        if int(n) != n or n < 0:
            raise ValueError(f"n must be a non-negative integer, got {n!r}")
        rng = np.random.default_rng(rng)
        comp = rng.choice(self.num_components, size=int(n), p=self.weights)
        z = rng.standard_normal((int(n), NUM_POSE))
        return self.means[comp] + np.einsum("nij,nj->ni", self._chol_cov[comp], z)

    def to_npz(self, path: str | Path) -> Path:
        """Write ``means``, ``covars``, ``weights`` to an ``.npz`` that :func:`load_prior` reads.

        ``.npz`` is appended when ``path`` does not end in it; returns the file written.
        """
        path = Path(path)
        if path.suffix.lower() != ".npz":
            path = path.with_name(path.name + ".npz")
        with path.open("wb") as handle:
            np.savez(handle, means=self.means, covars=self.covars, weights=self.weights)
        return path

    def __repr__(self) -> str:
        return f"GMMPosePrior(K={self.num_components}, source={self.source!r})"


def _as_float(value: object, key: str, source: str) -> np.ndarray:
    kind = getattr(getattr(value, "dtype", None), "kind", "f")
    if kind not in "biuf":  # complex, strings, objects, structured: not a real-valued array
        raise ValueError(f"{source}: '{key}' must be a real numeric array, got dtype "
                         f"{value.dtype}")
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError, OverflowError) as err:
        raise ValueError(f"{source}: '{key}' is not a numeric array ({err})") from err
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{source}: '{key}' holds non-finite values")
    if arr.size and np.max(np.abs(arr)) > MAX_PRIOR_VALUE:  # radians, radians², weights
        raise ValueError(f"{source}: '{key}' has values beyond ±{MAX_PRIOR_VALUE:g}; not a "
                         "pose prior")
    return arr


#: A pose prior's means (radians), covariances (radians²) and weights are of order 1; far
#: beyond, its energies overflow.
MAX_PRIOR_VALUE = 1e6


def load_prior(name_or_path: str | Path = "open") -> GMMPosePrior:
    """Load a GMM pose prior.

    Parameters
    ----------
    name_or_path : str or Path
        ``"open"`` (the shipped prior learned from CMU mocap), a path to an ``.npz`` with
        ``means`` (K, 69), ``covars`` (K, 69, 69), ``weights`` (K,), or a path to the
        authors' ``gmm_08.pkl`` (``.pkl`` in any case; read by the restricted unpickler).

    Returns
    -------
    GMMPosePrior

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    ValueError
        Missing keys, wrong shapes, non-PD covariances, non-positive weights (the message
        names the file and the key). :class:`smplify.errors.ModelFileError` (a ValueError)
        for unreadable files; :class:`smplify.errors.UnsafePickleError` for a pickle that
        asks for anything but NumPy arrays.
    """
    if not isinstance(name_or_path, (str, Path)):
        raise TypeError(f"name_or_path must be a str or Path, got {type(name_or_path).__name__}")
    path = _NAMED.get(name_or_path, Path(name_or_path)) if isinstance(name_or_path, str) \
        else name_or_path
    if not path.is_file():
        raise FileNotFoundError(f"pose prior file not found: {path}")
    source = str(path)
    if path.suffix.lower() in (".pkl", ".pickle"):
        from .safe_pickle import load_pickle

        data = load_pickle(path)
        if not isinstance(data, dict):
            raise ModelFileError(f"{source}: expected a pickled dict with 'means', 'covars', "
                                 f"'weights', got {type(data).__name__}")
        arrays = {str(k): v for k, v in data.items()}
    else:
        from .model_io import read_npz

        arrays = read_npz(path, "a pose prior: an .npz with 'means', 'covars' and 'weights', "
                                "or the authors' gmm_08.pkl")
    for key in ("means", "covars", "weights"):
        if key not in arrays:
            raise ValueError(f"{source}: missing key '{key}' (have {sorted(arrays)})")
    return GMMPosePrior(arrays["means"], arrays["covars"], arrays["weights"], source=source)
