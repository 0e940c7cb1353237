"""Reading pickled model files without running code from them.

The official SMPL ``.pkl`` files are Python-2 pickles of dicts holding NumPy arrays,
chumpy arrays (``chumpy.ch.Ch``) and SciPy sparse matrices; re-saved files may hold the
newer SciPy sparse arrays (``csc_array`` ...) or COO matrices. ``pickle.load`` would
import and call whatever the file names, so a malicious file could run any code.
:func:`load_pickle` admits only the classes those files need; chumpy and SciPy objects
are rebuilt from their stored state by stand-ins, so neither chumpy nor SciPy's
pickling code runs. Anything else raises :class:`~smplify.errors.UnsafePickleError`
before it is called.
"""

from __future__ import annotations

import codecs
import copyreg
import importlib
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse

from .errors import ModelFileError, UnsafePickleError


class _StoredState:
    """Stand-in for a pickled object whose class we do not import; keeps its state."""

    kind = "object"

    def __init__(self, *args: Any) -> None:
        self.state: Any = None

    def __setstate__(self, state: Any) -> None:
        self.state = state


class _ChumpyArray(_StoredState):
    kind = "chumpy"


class _SparseMatrix(_StoredState):
    """A pickled SciPy sparse matrix/array: rebuilt from the arrays in its state."""

    kind = "sparse"
    format = "csc"
    array = False  # scipy.sparse.*_array (True) or *_matrix (False)


def _sparse_stand_in(fmt: str, array: bool) -> type[_SparseMatrix]:
    name = f"_{fmt.capitalize()}{'Array' if array else 'Matrix'}"
    return type(name, (_SparseMatrix,), {"format": fmt, "array": array})


# SciPy's sparse classes, as pickles name them, and what may stand in for them. Module
# names changed over SciPy versions: scipy.sparse.csc (< 1.8), scipy.sparse._csc (>= 1.8);
# the *_array classes lived in scipy.sparse._arrays in 1.8-1.10.
SPARSE_FORMATS = ("csc", "csr", "coo")
_SPARSE_STAND_INS = {(fmt, array): _sparse_stand_in(fmt, array)
                     for fmt in SPARSE_FORMATS for array in (False, True)}


def _latin1_encode(text: str, encoding: str = "latin1", errors: str = "strict") -> bytes:
    """``_codecs.encode`` as Python-3 protocol-2 pickles use it for bytes: latin-1 only."""
    spelled = str(encoding).lower().replace("-", "").replace("_", "")
    if not isinstance(text, str) or spelled not in ("latin1", "iso88591", "l1"):
        raise UnsafePickleError(f"refusing _codecs.encode with {encoding!r} in a pickle: only "
                                "latin-1 text (how protocol-2 pickles store bytes) is allowed")
    return codecs.encode(text, "latin1", errors)


def _numpy_module(name: str) -> Any:
    """numpy's ``_core.<name>`` (NumPy 2) or ``core.<name>`` (1.x, whose ``numpy._core`` is a
    partial shim: it has ``multiarray`` but no ``numeric``)."""
    try:
        return importlib.import_module(f"numpy._core.{name}")
    except ImportError:
        return importlib.import_module(f"numpy.core.{name}")


def _numpy_globals() -> dict[tuple[str, str], Any]:
    """NumPy's array and dtype constructors, under the module names pickles give them.

    Exact names only: no other NumPy callable (loaders, savers, ``numpy.testing`` helpers that
    exec strings) is reachable from a pickle.
    """
    allowed: dict[tuple[str, str], Any] = {}
    multiarray = _numpy_module("multiarray")
    for module in ("numpy.core.multiarray", "numpy._core.multiarray"):
        allowed[(module, "_reconstruct")] = multiarray._reconstruct
        allowed[(module, "scalar")] = multiarray.scalar
    for module in ("numpy", "numpy.core.numeric", "numpy._core.numeric"):
        allowed[(module, "ndarray")] = np.ndarray
        allowed[(module, "dtype")] = np.dtype
    for module in ("numpy.core.numeric", "numpy._core.numeric"):
        allowed[(module, "_frombuffer")] = _numpy_module("numeric")._frombuffer
    for name in ("Float64DType", "Float32DType", "Int64DType", "Int32DType", "UInt32DType",
                 "BoolDType", "StrDType", "BytesDType"):
        if hasattr(np.dtypes, name):
            allowed[("numpy.dtypes", name)] = getattr(np.dtypes, name)
    return allowed


_ALLOWED: dict[tuple[str, str], Any] = {
    **_numpy_globals(),
    ("copyreg", "_reconstructor"): copyreg._reconstructor,
    ("copy_reg", "_reconstructor"): copyreg._reconstructor,
    ("builtins", "object"): object,
    # Python-3 protocol-2 pickles store bytes as _codecs.encode(str, "latin1"): data only.
    ("_codecs", "encode"): _latin1_encode,
    ("__builtin__", "object"): object,
    # chumpy objects keep bookkeeping sets (e.g. _dirty_vars) in their pickled state.
    ("builtins", "set"): set,
    ("__builtin__", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("__builtin__", "frozenset"): frozenset,
    ("chumpy.ch", "Ch"): _ChumpyArray,
    ("chumpy.reordering", "Select"): _ChumpyArray,
    ("chumpy.reordering", "transpose"): _ChumpyArray,
}
for (_fmt, _array), _stand_in in _SPARSE_STAND_INS.items():
    _name = f"{_fmt}_{'array' if _array else 'matrix'}"
    for _module in (f"scipy.sparse.{_fmt}", f"scipy.sparse._{_fmt}", "scipy.sparse._arrays"):
        _ALLOWED[(_module, _name)] = _stand_in

ALLOWED_CONTENT = ("NumPy arrays, chumpy arrays (chumpy.ch.Ch) and SciPy sparse "
                   + ", ".join(f"{fmt}_matrix/{fmt}_array" for fmt in SPARSE_FORMATS)
                   + ", with plain dicts, lists, tuples, strings and numbers")


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise UnsafePickleError(
                f"refusing to load {module}.{name} from a pickle: model files may hold only "
                f"{ALLOWED_CONTENT}") from None


def _convert(obj: Any, path: Path) -> Any:
    """Replace stand-ins by NumPy arrays / SciPy sparse matrices, recursively."""
    if isinstance(obj, dict):
        return {key: _convert(value, path) for key, value in obj.items()}
    if isinstance(obj, list):
        return [_convert(value, path) for value in obj]
    if isinstance(obj, _SparseMatrix):
        return _rebuild_sparse(obj, path)
    if isinstance(obj, _ChumpyArray):
        state = getattr(obj, "state", None)
        state = state if isinstance(state, dict) else {}
        if "x" not in state:
            raise ModelFileError(f"{path}: chumpy object without an array ('x') in pickle")
        return np.asarray(_convert(state["x"], path))
    if isinstance(obj, _StoredState):
        raise ModelFileError(f"{path}: unsupported object in pickle")
    return obj


def _rebuild_sparse(obj: _SparseMatrix, path: Path) -> Any:
    """The SciPy sparse matrix/array a stand-in holds, built only from its plain arrays.

    Indices are checked against the shape (SciPy's full format check), so a crafted file
    cannot make later sparse products read out of bounds.
    """
    state = getattr(obj, "state", None)
    state = state if isinstance(state, dict) else {}
    kind = f"{obj.format}_{'array' if obj.array else 'matrix'}"
    cls = getattr(scipy.sparse, kind)
    try:
        shape = tuple(int(size) for size in state.get("_shape", state.get("shape")))
        data = _plain_array(state["data"])
        if obj.format == "coo":  # SciPy >= 1.13 stores coords; older, row and col
            coords = state["coords"] if "coords" in state else (state["row"], state["col"])
            return cls((data, tuple(_plain_array(c) for c in coords)), shape=shape)
        matrix = cls((data, _plain_array(state["indices"]), _plain_array(state["indptr"])),
                     shape=shape)
        matrix.check_format(full_check=True)
        return matrix
    except (KeyError, TypeError, ValueError, IndexError) as err:
        raise ModelFileError(f"{path}: unreadable sparse {kind} in pickle ({err})") from None


def _plain_array(value: Any) -> np.ndarray:
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"sparse matrix arrays must be numeric, got dtype {array.dtype}")
    return array


def load_pickle(path: str | Path) -> Any:
    """Load a (Python 2 or 3) pickle of arrays safely.

    Parameters
    ----------
    path : str or Path
        File to read. Python-2 byte strings are decoded as latin-1, as the official
        SMPL files need.

    Returns
    -------
    The unpickled object, with chumpy arrays converted to ``np.ndarray`` and sparse
    matrices/arrays to the same ``scipy.sparse`` class (csc, csr or coo).

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    UnsafePickleError
        The pickle names a class outside the allow-list (nothing from it was run).
    ModelFileError
        The file is not a readable pickle.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    with path.open("rb") as handle:
        try:
            obj = _RestrictedUnpickler(handle, encoding="latin1").load()
        except UnsafePickleError as err:
            raise UnsafePickleError(f"{path}: {err}") from None
        except Exception as err:  # noqa: BLE001 - any unpickling failure is a bad file
            raise ModelFileError(f"{path}: not a readable pickle ({type(err).__name__}: {err})"
                                 ) from err
    return _convert(obj, path)
