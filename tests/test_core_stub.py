"""python/smplify/_core.pyi stays in step with the compiled module: the same public names,
the same members per class, and the same argument names per method."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import smplify
from smplify import _core

STUB = Path(smplify.__file__).resolve().parent / "_core.pyi"


def _stub() -> ast.Module:
    return ast.parse(STUB.read_text(encoding="utf-8"))


def _stub_classes() -> dict[str, ast.ClassDef]:
    return {node.name: node for node in _stub().body if isinstance(node, ast.ClassDef)}


def _public(names) -> set[str]:
    return {name for name in names if not name.startswith("_")}


def test_the_stub_names_every_public_name_of_the_module_and_no_other():
    stubbed = set()
    for node in _stub().body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
            stubbed.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            stubbed.add(node.target.id)
    compiled = _public(dir(_core)) | ({"__version__"} if hasattr(_core, "__version__") else set())
    assert stubbed == compiled


@pytest.mark.parametrize("name", sorted(_stub_classes()))
def test_each_class_has_the_stubbed_members(name):
    node = _stub_classes()[name]
    stubbed = set()
    for item in node.body:
        if isinstance(item, ast.FunctionDef):
            stubbed.add(item.name)
        elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
            stubbed.add(item.target.id)
    assert _public(stubbed) == _public(vars(getattr(_core, name))), name
    assert ast.get_docstring(node), f"{name}: the stub says what the class is"


def _argument_names(signature_line: str) -> list[str]:
    """Argument names of a pybind11 signature line ``name(self: T, a: T, b: T = v) -> R``."""
    inside = signature_line[signature_line.index("(") + 1:signature_line.rindex(") ->")]
    return [n for n in re.findall(r"(?:^|,\s*)(\w+)\s*:", inside) if n != "self"]


@pytest.mark.parametrize("name", sorted(_stub_classes()))
def test_methods_take_the_stubbed_arguments(name):
    cls = getattr(_core, name)
    for item in _stub_classes()[name].body:
        if not isinstance(item, ast.FunctionDef) or item.decorator_list:
            continue
        stubbed = [a.arg for a in item.args.args if a.arg != "self"]
        doc = getattr(cls, item.name).__doc__
        line = next(line for line in doc.splitlines() if line.startswith(item.name + "("))
        assert _argument_names(line) == stubbed, f"{name}.{item.name}"


def test_functions_take_the_stubbed_arguments():
    for item in _stub().body:
        if not isinstance(item, ast.FunctionDef):
            continue
        doc = getattr(_core, item.name).__doc__
        line = next(line for line in doc.splitlines() if line.startswith(item.name + "("))
        assert _argument_names(line) == [a.arg for a in item.args.args], item.name
        assert ast.get_docstring(item), f"{item.name}: the stub says what it does"
