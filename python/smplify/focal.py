"""Estimating the focal length of a photo from one person's 2D keypoints
(``focal_length="estimate"``).

The body has a known size (the shape prior's), so the 2D size of a person fixes only the ratio
f / Z of focal length to depth; what tells f apart is perspective: near parts of the body look
larger than far ones by (Z + ΔZ) / Z. A fit at the wrong f must bend the pose or the shape to
explain that foreshortening, and pays for it in the energy. The search:

1. a grid of ``GRID_STEPS`` focal lengths, log-spaced over ``GRID_RANGE`` × the image diagonal
   (the default focal length; ×1/4–×4 covers 15°–130° fields of view), each a quick fit
   (one start, both orientations where sideways) scored by its total energy
   E = E_J + E_θ + E_a + E_sp + E_β at the last stage's weights;
2. golden-section refinement in log f between the best grid point's neighbours
   (``GOLDEN_STEPS`` more quick fits);
3. the chosen f is the lowest-scoring one tried; the caller then runs the full fit at it.

The score adds a weak prior on log(f / diagonal), ``PRIOR_WEIGHT`` · ln²(f / diagonal), so
that where perspective says nothing (a distant person: the energy is flat in f to within the
fits' own noise) the estimate stays near the diagonal instead of wandering to the grid's ends.
The weights were chosen on ``benchmarks/focal_estimate.py --split tune`` and the figures
reported on ``--split test`` (docs/design.md, "Camera and orientation").
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .core_fitter import _observation, _shared_core_fitter
from .problem import FitSettings, frame_problem

__all__ = ["GOLDEN_STEPS", "GRID_RANGE", "GRID_STEPS", "PRIOR_WEIGHT", "FocalSearch",
           "estimate_focal_length", "focal_search"]

#: Grid of the search, as factors of the image diagonal (low, high), and its point count.
GRID_RANGE = (0.25, 4.0)
GRID_STEPS = 9
#: Golden-section steps after the grid.
GOLDEN_STEPS = 4
#: Weight of the prior ln²(f / diagonal) in the score (energy units).
PRIOR_WEIGHT = 100.0

_GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0


class FocalSearch:
    """The candidates tried (pixels) and their scores, in the order tried.

    Attributes
    ----------
    focal_lengths : list of float, pixels.
    scores : list of float, energy + prior (lower is better).
    """

    def __init__(self) -> None:
        self.focal_lengths: list[float] = []
        self.scores: list[float] = []

    @property
    def best(self) -> float:
        """The lowest-scoring focal length tried, pixels."""
        return self.focal_lengths[int(np.argmin(self.scores))]


def estimate_focal_length(energy_at: Callable[[float], float], diagonal: float, *,
                          grid_range: tuple[float, float] = GRID_RANGE,
                          grid_steps: int = GRID_STEPS, golden_steps: int = GOLDEN_STEPS,
                          prior_weight: float | None = None) -> FocalSearch:
    """Search the focal length that minimises ``energy_at(f) + prior_weight · ln²(f / diagonal)``.

    Parameters
    ----------
    energy_at : callable f (pixels) -> the energy of a quick fit at f (inf if it fails).
    diagonal : the image diagonal, pixels (the prior's centre and the grid's unit).
    grid_range, grid_steps, golden_steps : the search (module docstring).
    prior_weight : the prior's weight; None: ``PRIOR_WEIGHT`` (read at call time).

    Returns
    -------
    FocalSearch with every candidate tried; ``.best`` is the estimate.
    """
    if not (math.isfinite(diagonal) and diagonal > 0):
        raise ValueError(f"diagonal: expected pixels > 0, got {diagonal!r}")
    weight = PRIOR_WEIGHT if prior_weight is None else float(prior_weight)
    search = FocalSearch()
    cache: dict[float, float] = {}

    def score(log_f: float) -> float:
        if log_f not in cache:
            f = diagonal * math.exp(log_f)
            energy = float(energy_at(f))
            cache[log_f] = (energy if math.isfinite(energy) else math.inf) \
                + weight * log_f * log_f
            search.focal_lengths.append(f)
            search.scores.append(cache[log_f])
        return cache[log_f]

    grid = np.linspace(math.log(grid_range[0]), math.log(grid_range[1]), grid_steps)
    scores = [score(float(g)) for g in grid]
    k = int(np.argmin(scores))
    lo, hi = float(grid[max(k - 1, 0)]), float(grid[min(k + 1, grid_steps - 1)])
    # Golden-section search on [lo, hi] in log f (the grid's best lies inside).
    a, b = hi - _GOLDEN * (hi - lo), lo + _GOLDEN * (hi - lo)
    for _ in range(golden_steps):
        if score(a) <= score(b):
            hi, b = b, a
            a = hi - _GOLDEN * (hi - lo)
        else:
            lo, a = a, b
            b = lo + _GOLDEN * (hi - lo)
    return search


def focal_search(settings: FitSettings, keypoints: Any,
                 keypoints_3d: Any = None) -> FocalSearch:
    """The focal-length search of ``focal_length="estimate"`` (:mod:`smplify.focal`): quick
    fits (one start) of one frame at candidate focal lengths, scored by total energy.

    Parameters
    ----------
    settings : FitSettings (its focal length is ignored; the search is centred on the image
        diagonal).
    keypoints : (K, 3) or (K, 2), pixels.  keypoints_3d : (K, 3) metres or None.

    Returns
    -------
    FocalSearch: the candidates (pixels) and their scores; ``.best`` is the estimate.
    """
    # One start from the prior, no anchor: as measured (benchmarks/focal_estimate.py).
    options = dataclasses.replace(settings.options, multi_start=False, starts="prior",
                                  learned_init=False, reading_weight=0.0,
                                  left_right="as_given")
    quick = dataclasses.replace(settings, options=options)
    # Checks the keypoints (and the torso a cold fit needs) once, before any solve.
    problem = frame_problem(quick, keypoints, keypoints_3d=keypoints_3d)
    core = _shared_core_fitter(problem)
    observation = _observation(problem)

    def energy_at(focal: float) -> float:
        return float(core.fit(**{**observation, "focal_length": focal}).energy.total)

    return estimate_focal_length(energy_at, float(np.hypot(*settings.image_size)))
