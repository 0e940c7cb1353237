"""Small linear algebra whose results do not depend on how many threads BLAS runs.

A multi-threaded BLAS (OpenBLAS, NumPy's and SciPy's) splits sums across threads, so
``A @ B``, ``np.linalg.cholesky`` or ``scipy.linalg.solve_triangular`` can differ in the last
bits between a process with one BLAS thread (a Dask worker, ``smplify.dataset``) and one with
several; in a multimodal fit such a difference in the set-up (the prior's Cholesky factors,
the learned initialiser's readings) can grow into another minimum. The functions here sum in
one fixed order: ``np.einsum`` without ``optimize`` runs NumPy's own loops, never BLAS. They
serve set-up work that runs once per prior or per frame on small arrays, where that costs
little.
"""

from __future__ import annotations

import numpy as np


def cholesky(a: np.ndarray) -> np.ndarray:
    """Lower Cholesky factor L of a symmetric positive definite matrix, A = L Lᵀ.

    Parameters
    ----------
    a : (n, n) float64, symmetric positive definite (only the lower triangle is read).

    Returns
    -------
    (n, n) float64 lower-triangular L with a positive diagonal.

    Raises
    ------
    np.linalg.LinAlgError : ``a`` is not (numerically) positive definite.
    """
    n = a.shape[0]
    lower = np.zeros_like(a, dtype=np.float64)
    for j in range(n):  # Cholesky–Banachiewicz by columns: L_jj, then L_ij for i > j
        row = lower[j, :j]
        pivot = a[j, j] - np.einsum("k,k->", row, row)
        if not pivot > 0.0:
            raise np.linalg.LinAlgError("matrix is not positive definite")
        lower[j, j] = np.sqrt(pivot)
        lower[j + 1:, j] = (a[j + 1:, j] - np.einsum("ik,k->i", lower[j + 1:, :j], row)) \
            / lower[j, j]
    return lower


def lower_inverse(lower: np.ndarray) -> np.ndarray:
    """L⁻¹ of a lower-triangular L with a non-zero diagonal (forward substitution).

    Parameters
    ----------
    lower : (n, n) float64 lower-triangular.

    Returns
    -------
    (n, n) float64 lower-triangular L⁻¹.
    """
    n = lower.shape[0]
    inverse = np.zeros_like(lower, dtype=np.float64)
    eye = np.eye(n)
    for i in range(n):  # row i of L X = I: X_i = (e_i − L_i,<i X_<i) / L_ii
        inverse[i] = (eye[i] - np.einsum("k,kj->j", lower[i, :i], inverse[:i])) / lower[i, i]
    return inverse


def gram(a: np.ndarray) -> np.ndarray:
    """Aᵀ A, (n, m) → (m, m) float64."""
    return np.einsum("ki,kj->ij", a, a)


def rows_times(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """x Wᵀ: (N, D) × (H, D) → (N, H), in x's and W's common dtype (a dense layer)."""
    return np.einsum("nd,hd->nh", x, w)
