"""Every name of smplify that the maintained scripts (tools/*.py, benchmarks/*.py) import or
reach as ``module.name`` exists: session 17 split fitting.py and left scripts calling the old
names. The scripts kept inside benchmarks/results/*.json are not checked: they are records of
what was run, as it was run (some call names since moved); tools/replay_warm_fits.py is the
maintained form of the callgrind replay scripts kept there (docs/video.md)."""

from __future__ import annotations

import ast
import importlib
import importlib.util
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]


def scripts() -> Iterator[tuple[str, str]]:
    for folder in ("tools", "benchmarks"):
        for path in sorted((REPO / folder).glob("*.py")):
            yield str(path.relative_to(REPO)), path.read_text()


def smplify_names(source: str) -> Iterator[tuple[str, str, int]]:
    """(module, name, line) for every ``from smplify[.m] import name`` and every
    ``alias.name`` where the alias is bound to a smplify module by an import (and to nothing
    else in the script)."""
    tree = ast.parse(source)
    modules: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and \
                node.module.split(".")[0] == "smplify":
            for alias in node.names:
                if alias.name == "*":
                    continue
                submodule = f"{node.module}.{alias.name}"
                if _is_module(submodule):
                    modules[alias.asname or alias.name] = submodule
                else:
                    yield node.module, alias.name, node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "smplify":
                    modules[alias.asname or alias.name] = alias.name
    # a name also bound to something else (``fitter = smplify.Fitter(...)``) is not followed
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) or \
                isinstance(node, ast.arg):
            modules.pop(node.id if isinstance(node, ast.Name) else node.arg, None)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and \
                node.value.id in modules:
            yield modules[node.value.id], node.attr, node.lineno
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute) and \
                isinstance(node.value.value, ast.Name) and node.value.value.id in modules and \
                _is_module(f"{modules[node.value.value.id]}.{node.value.attr}"):
            yield f"{modules[node.value.value.id]}.{node.value.attr}", node.attr, node.lineno


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def test_the_checker_finds_a_moved_name():
    bad = "from smplify import fitting, problem as P\ncore = fitting._shared_core_fitter(p)\n"
    assert ("smplify.fitting", "_shared_core_fitter", 2) in list(smplify_names(bad))
    assert list(smplify_names("from smplify.core_fitter import _shared_core_fitter\n")) == [
        ("smplify.core_fitter", "_shared_core_fitter", 1)]
    dotted = "import smplify\nsmplify.fitting.focal_search(s)\nfitting = 1\nfitting.x\n"
    assert ("smplify.fitting", "focal_search", 2) in list(smplify_names(dotted))


SCRIPTS = dict(scripts())


@pytest.mark.parametrize("where", list(SCRIPTS))
def test_every_smplify_name_a_script_uses_exists(where):
    source = SCRIPTS[where]
    missing = [f"line {line}: {module}.{name}" for module, name, line in smplify_names(source)
               if not hasattr(importlib.import_module(module), name)]
    assert not missing, f"{where} names what smplify no longer has: {missing}"


def test_the_warm_fits_replay_runs(tmp_path, monkeypatch):
    """tools/replay_warm_fits.py (the results' replay scripts, maintained): the tracked fits
    of a few frames recorded, then replayed to the same parameters."""
    import pickle

    monkeypatch.syspath_prepend(str(REPO / "tools"))
    import replay_warm_fits

    saved = tmp_path / "fits.pkl"
    replay_warm_fits.main(["--save", str(saved), "--frames", "6", "--clips", "1"])
    replay_warm_fits.main(["--load", str(saved), "--n", "3"])
    replayed = np.load(tmp_path / "fits.pkl.default.out.npy")
    with open(saved, "rb") as f:
        recorded = np.array(pickle.load(f)["results"])
    assert 0 < len(replayed) <= 3
    np.testing.assert_array_equal(replayed, recorded[:len(replayed)])
