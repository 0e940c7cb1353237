"""Causal smoothing of fitted motion: the One Euro filter (Casiez, Roussel and Vogel, CHI 2012).

A first-order low-pass filter per coordinate whose cutoff rises with the signal's speed, so
slow motion is smoothed hard (little jitter) and fast motion follows with little lag:

    α(f_c) = 1 / (1 + fps / (2π f_c))
    ẋ_t = α(d_cutoff) · (x_t − x̂_{t−1}) · fps + (1 − α(d_cutoff)) · ẋ_{t−1}
    f_c = min_cutoff + beta · |ẋ_t|
    x̂_t = α(f_c) · x_t + (1 − α(f_c)) · x̂_{t−1}

Each output frame depends only on the frames up to it (causal, as an online tracker's output
would be smoothed). The video benchmark uses it as a baseline on independent per-frame fits and
on the plain warm-started Fitter (issue 11).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray


def _alpha(cutoff: NDArray[np.float64] | float, fps: float) -> NDArray[np.float64] | float:
    return 1.0 / (1.0 + fps / (2.0 * math.pi * cutoff))


def one_euro(signal: ArrayLike, fps: float, min_cutoff: float = 1.0, beta: float = 0.0,
             d_cutoff: float = 1.0) -> NDArray[np.float64]:
    """The One Euro filter along the first axis of ``signal``, each coordinate on its own.

    Parameters
    ----------
    signal : (T, ...) array, finite (e.g. (T, J, 3) joints in metres).
    fps : frames per second (> 0).
    min_cutoff : Hz, the cutoff at rest (> 0): lower smooths more.
    beta : s / (signal unit), how fast the cutoff rises with speed (≥ 0): higher lags less.
    d_cutoff : Hz, the cutoff of the speed estimate (> 0).

    Returns
    -------
    (T, ...) float64, the filtered signal (the first frame unchanged).

    Raises
    ------
    ValueError : a parameter out of range, or a signal that is empty or not finite.
    """
    x = np.asarray(signal, dtype=np.float64)
    for name, value in (("fps", fps), ("min_cutoff", min_cutoff), ("d_cutoff", d_cutoff)):
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"{name}: expected a finite number > 0, got {value!r}")
    if not (math.isfinite(beta) and beta >= 0):
        raise ValueError(f"beta: expected a finite number >= 0, got {beta!r}")
    if x.ndim == 0 or x.shape[0] == 0:
        raise ValueError(f"signal: expected an array (T, ...) with T >= 1, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("signal: expected finite values")
    out = np.empty_like(x)
    out[0] = x[0]
    speed = np.zeros_like(x[0])
    a_d = _alpha(d_cutoff, fps)
    for t in range(1, len(x)):
        speed = a_d * (x[t] - out[t - 1]) * fps + (1.0 - a_d) * speed
        a = _alpha(min_cutoff + beta * np.abs(speed), fps)
        out[t] = a * x[t] + (1.0 - a) * out[t - 1]
    return out
