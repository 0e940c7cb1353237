"""Reading pickled model files without running code from them.

The official SMPL ``.pkl`` files are Python-2 pickles of dicts holding NumPy arrays,
chumpy arrays (``chumpy.ch.Ch``) and SciPy sparse matrices. ``pickle.load`` would
import and call whatever the file names, so a malicious file could run any code.
:func:`load_pickle` admits only the classes those files need; chumpy and SciPy objects
are rebuilt from their stored state by stand-ins, so neither chumpy nor SciPy's
pickling code runs. Anything else raises :class:`~smplify.errors.UnsafePickleError`
before it is called.
"""

from __future__ import annotations

import codecs
import copyreg
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
    kind = "sparse"
    format = "csc"


class _CsrMatrix(_SparseMatrix):
    format = "csr"


def _numpy_globals() -> dict[tuple[str, str], Any]:
    allowed: dict[tuple[str, str], Any] = {}
    core = getattr(np, "_core", None) or np.core
    multiarray = core.multiarray
    for module in ("numpy.core.multiarray", "numpy._core.multiarray"):
        allowed[(module, "_reconstruct")] = multiarray._reconstruct
        allowed[(module, "scalar")] = multiarray.scalar
    for module in ("numpy", "numpy.core.numeric", "numpy._core.numeric"):
        allowed[(module, "ndarray")] = np.ndarray
        allowed[(module, "dtype")] = np.dtype
    for module in ("numpy.core.numeric", "numpy._core.numeric"):
        allowed[(module, "_frombuffer")] = core.numeric._frombuffer
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
    ("_codecs", "encode"): codecs.encode,
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
for _module in ("scipy.sparse.csc", "scipy.sparse._csc"):
    _ALLOWED[(_module, "csc_matrix")] = _SparseMatrix
for _module in ("scipy.sparse.csr", "scipy.sparse._csr"):
    _ALLOWED[(_module, "csr_matrix")] = _CsrMatrix


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise UnsafePickleError(
                f"refusing to load {module}.{name} from a pickle: only NumPy arrays, chumpy "
                "arrays and SciPy sparse matrices are allowed in model files") from None


def _convert(obj: Any, path: Path) -> Any:
    """Replace stand-ins by NumPy arrays / SciPy sparse matrices, recursively."""
    if isinstance(obj, dict):
        return {key: _convert(value, path) for key, value in obj.items()}
    if isinstance(obj, list):
        return [_convert(value, path) for value in obj]
    if isinstance(obj, _SparseMatrix):
        state = getattr(obj, "state", None) or {}
        try:
            cls = scipy.sparse.csc_matrix if obj.format == "csc" else scipy.sparse.csr_matrix
            return cls((np.asarray(state["data"]), np.asarray(state["indices"]),
                        np.asarray(state["indptr"])), shape=tuple(state["_shape"]))
        except (KeyError, TypeError, ValueError) as err:
            raise ModelFileError(f"{path}: unreadable sparse matrix in pickle ({err})") from err
    if isinstance(obj, _ChumpyArray):
        state = getattr(obj, "state", None)
        state = state if isinstance(state, dict) else {}
        if "x" not in state:
            raise ModelFileError(f"{path}: chumpy object without an array ('x') in pickle")
        return np.asarray(_convert(state["x"], path))
    if isinstance(obj, _StoredState):
        raise ModelFileError(f"{path}: unsupported object in pickle")
    return obj


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
    matrices to ``scipy.sparse`` matrices.

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
        except UnsafePickleError:
            raise
        except Exception as err:  # noqa: BLE001 - any unpickling failure is a bad file
            raise ModelFileError(f"{path}: not a readable pickle ({type(err).__name__}: {err})"
                                 ) from err
    return _convert(obj, path)
