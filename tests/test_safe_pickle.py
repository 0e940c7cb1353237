"""The restricted unpickler admits exact names only: NumPy's array constructors, the SciPy
sparse and chumpy classes of SMPL pickles. Every other callable of NumPy, SciPy and the
standard library is refused before it is looked up, let alone called, however it is named.

A loader widened to "any numpy.* name" would run code from a crafted file: NumPy ships
callables that exec strings (``numpy.testing``'s ``runstring``), that unpickle with no
restriction (``numpy.load(..., allow_pickle=True)``) or write files (``numpy.save``).
"""

from __future__ import annotations

import copyreg
import importlib
import os
import pickle
import types
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse
from smplify import safe_pickle
from smplify.errors import UnsafePickleError
from smplify.safe_pickle import load_pickle

#: Modules whose callables a crafted pickle could name; everything in them not on the
#: allow-list must be refused.
#: NumPy 1.x (which the detect extra's mediapipe pins) keeps them under numpy.core.
_NUMPY_2 = int(np.__version__.split(".")[0]) >= 2
MODULES = ("numpy", "numpy.lib.npyio", "numpy.lib.format", "numpy.testing",
           "numpy.testing._private.utils",
           *(("numpy.lib._npyio_impl", "numpy._core.multiarray", "numpy._core.numeric")
             if _NUMPY_2 else ("numpy.core.multiarray", "numpy.core.numeric")),
           "numpy.ctypeslib", "scipy.sparse", "scipy.sparse._csc", "scipy.io", "scipy.linalg",
           "copyreg", "_codecs", "builtins", "os", "pickle")


def _global_call(module: str, name: str, *args: object) -> bytes:
    """A protocol-2 pickle that calls module.name(*args) (args: str, None or bool)."""
    out = b"\x80\x02c" + f"{module}\n{name}\n".encode() + b"("
    for arg in args:
        out += {None: b"N", True: b"\x88", False: b"\x89"}.get(arg, b"") if not isinstance(
            arg, str) else b"X" + len(arg.encode()).to_bytes(4, "little") + arg.encode()
    return out + b"tR."


def _callables(module: str) -> list[str]:
    mod = importlib.import_module(module)
    allowed = {name for (mod_name, name) in safe_pickle._ALLOWED if mod_name == module}
    return sorted(name for name in dir(mod) if name not in allowed
                  and callable(getattr(mod, name, None)))


@pytest.mark.parametrize("module", MODULES)
def test_every_other_callable_is_refused(tmp_path: Path, module: str) -> None:
    names = _callables(module)
    assert len(names) >= 2, names  # the module offers something to refuse
    path = tmp_path / "crafted.pkl"
    for name in names:
        path.write_bytes(_global_call(module, name))
        with pytest.raises(UnsafePickleError, match=f"{module}.{name}"):
            load_pickle(path)


def test_code_running_numpy_callables_do_not_run(tmp_path: Path) -> None:
    """Payloads that would run code or write files, were their callable admitted."""
    marker = tmp_path / "ran"

    class Evil:
        def __reduce__(self) -> tuple:
            return (os.system, (f"touch {marker}",))

    smuggled = tmp_path / "object_array.npy"  # numpy.load(path, None, True) would unpickle it
    np.save(smuggled, np.array([Evil()], dtype=object), allow_pickle=True)
    payloads = {
        "runstring": ("numpy.testing._private.utils", "runstring",
                      f"open({str(marker)!r}, 'w').close()", {}),
        "load": ("numpy", "load", str(smuggled), None, True),
        "npyio.load": ("numpy.lib._npyio_impl", "load", str(smuggled), None, True),
        "save": ("numpy", "save", str(marker), None),
        "savetxt": ("numpy", "savetxt", str(marker), None),
        "fromfile": ("numpy", "fromfile", str(smuggled)),
        "loadmat": ("scipy.io", "loadmat", str(smuggled)),
    }
    for label, (module, name, *args) in payloads.items():
        path = tmp_path / f"{label}.pkl"
        if isinstance(args[-1], dict):  # runstring(code, namespace): an empty dict argument
            data = _global_call(module, name, args[0])
            data = data[:-3] + b"}tR."
        else:
            data = _global_call(module, name, *args)
        path.write_bytes(data)
        with pytest.raises(UnsafePickleError, match=f"{module}.{name}"):
            load_pickle(path)
        assert not marker.exists(), label
    # the payloads are real: unrestricted, the first one runs its code
    with (tmp_path / "runstring.pkl").open("rb") as handle:
        pickle.load(handle)  # noqa: S301 - the point of the check
    assert marker.exists()


@pytest.mark.parametrize("encoding", ["rot13", "unicode_escape", "base64", "utf-16"])
def test_codecs_encode_admits_latin1_only(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "codec.pkl"
    path.write_bytes(_global_call("_codecs", "encode", "abc", encoding))
    with pytest.raises(UnsafePickleError, match="_codecs.encode"):
        load_pickle(path)
    path.write_bytes(_global_call("_codecs", "encode", "abc", "latin1"))
    assert load_pickle(path) == b"abc"


def test_allow_list_holds_only_constructors_and_stand_ins() -> None:
    """Each admitted name is an array/dtype constructor, a harmless builtin type or a
    stand-in that only keeps the pickled state."""
    multiarray = safe_pickle._numpy_module("multiarray")
    numeric = safe_pickle._numpy_module("numeric")
    functions = {multiarray._reconstruct, multiarray.scalar,
                 numeric._frombuffer, copyreg._reconstructor,
                 safe_pickle._latin1_encode}
    types_ = {np.ndarray, np.dtype, object, set, frozenset}
    for (module, name), value in safe_pickle._ALLOWED.items():
        if isinstance(value, types.BuiltinFunctionType | types.FunctionType):
            assert value in functions, (module, name)
        elif issubclass(value, safe_pickle._StoredState):
            assert value.__module__ == "smplify.safe_pickle", (module, name)
        else:
            assert value in types_ or issubclass(value, np.dtype), (module, name)


# --- what SMPL pickles of several SciPy versions name --------------------------------------------
def _renamed(data: bytes, old: str, new: str) -> bytes:
    return data.replace(f"c{old}\n".encode(), f"c{new}\n".encode())


@pytest.mark.parametrize(("kind", "module"), [
    ("csc_matrix", "scipy.sparse.csc"),        # SciPy < 1.8
    ("csr_matrix", "scipy.sparse.csr"),
    ("csc_array", "scipy.sparse._arrays"),     # SciPy 1.8-1.10
    ("csr_array", "scipy.sparse._arrays"),
    ("csc_matrix", "scipy.sparse._csc"),       # SciPy >= 1.8
])
def test_sparse_of_older_scipy_module_names_loads(tmp_path: Path, kind: str,
                                                  module: str) -> None:
    dense = np.random.default_rng(0).random((4, 6)) * (np.arange(24).reshape(4, 6) % 3 == 0)
    matrix = getattr(scipy.sparse, kind)(dense)
    data = pickle.dumps({"J_regressor": matrix}, protocol=2)
    current = type(matrix).__module__
    assert f"c{current}\n".encode() in data
    path = tmp_path / "old.pkl"
    path.write_bytes(_renamed(data, current, module))
    loaded = load_pickle(path)["J_regressor"]
    assert type(loaded).__name__ == kind
    np.testing.assert_array_equal(loaded.toarray(), dense)


def test_sparse_under_an_unknown_module_is_refused(tmp_path: Path) -> None:
    data = pickle.dumps(scipy.sparse.csc_matrix(np.eye(3)), protocol=2)
    path = tmp_path / "odd.pkl"
    path.write_bytes(_renamed(data, "scipy.sparse._csc", "scipy.io"))
    with pytest.raises(UnsafePickleError, match="scipy.io.csc_matrix"):
        load_pickle(path)
