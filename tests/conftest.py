"""Shared fixtures: a small procedural SMPL-format model (written to .npz once per session),
and the shipped open model and prior."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from procedural_model import make_procedural_model  # noqa: E402


@pytest.fixture(scope="session")
def procedural_arrays() -> dict[str, np.ndarray]:
    return make_procedural_model(num_betas=10, seed=0)


@pytest.fixture(scope="session")
def procedural_npz(tmp_path_factory, procedural_arrays) -> Path:
    path = tmp_path_factory.mktemp("models") / "procedural.npz"
    np.savez(path, **procedural_arrays)
    return path


@pytest.fixture(scope="session")
def procedural_model(procedural_npz):
    import smplify

    return smplify.load_model(procedural_npz)


@pytest.fixture(scope="session")
def open_model():
    """The shipped open model, shared by every test module (so are its cached C++ fitters)."""
    import smplify

    return smplify.load_model("open")


@pytest.fixture(scope="session")
def open_prior():
    import smplify

    return smplify.load_prior("open")


@pytest.fixture
def without_initializer(monkeypatch, tmp_path):
    """``hide(*formats)``: those formats' learned initialisers look unshipped for this test,
    as for a format without weights (an initialiser ships for every format)."""
    from smplify import initializer

    real = initializer._weights_file

    def hide(*formats: str) -> None:
        monkeypatch.setattr(initializer, "_weights_file", lambda format: (
            tmp_path / f"initializer_{format}.npz" if format in formats else real(format)))
        initializer.ships_for.cache_clear()
        initializer.load_initializer.cache_clear()

    yield hide
    initializer.ships_for.cache_clear()
    initializer.load_initializer.cache_clear()
