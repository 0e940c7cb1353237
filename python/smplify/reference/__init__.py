"""``smplify.reference``: the SMPLify fit in pure NumPy/SciPy (SPEC §4, §5).

Same signature and result as ``smplify.fit``; plain and slow on purpose. It is the oracle the
C++ terms are tested against (``energy``: one function per term, residual rows exactly as
docs/design.md pins them, Jacobians by the complex step) and the benchmark baseline.

Modules: ``body`` (NumPy SMPL), ``energy`` (the terms), ``init`` (camera initialisation,
torso fit, orientation flip), ``fit`` (the stages).
"""

from __future__ import annotations

from .fit import fit, fit_problem

__all__ = ["fit", "fit_problem"]
