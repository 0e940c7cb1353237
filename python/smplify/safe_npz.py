"""Reading ``.npz`` archives from untrusted files: plain arrays only, sizes checked first.

``numpy.load`` trusts an ``.npy`` header: an archive of a few hundred bytes can announce an
array of terabytes (numpy allocates it before reading a byte) or a member whose compressed
zeros inflate to gigabytes. :func:`read_npz_arrays` reads each member's header, checks that
the data it announces fits inside the member's declared uncompressed size and under
``max_bytes`` for the whole archive, refuses object dtypes (which need unpickling) and only
then reads the array. Every failure is the caller's error class, naming the file and key.
"""

from __future__ import annotations

import importlib
import zipfile
import zlib
from pathlib import Path

import numpy as np

#: Largest total of array bytes an archive may announce. The largest SMPL-family files
#: (SMPL-X with 300 shape and 100 expression components) hold ~1 GB.
MAX_NPZ_BYTES = 4 * 2**30
#: Largest .npy header (NumPy's own default limit for untrusted files).
MAX_HEADER_BYTES = 10_000


def _header_reader():  # noqa: ANN202
    """NumPy's header parser for every .npy version (private in NumPy 2: numpy.lib._format_impl),
    or None where it cannot be found (then versions 1.0 and 2.0 only)."""
    for module in ("numpy.lib._format_impl", "numpy.lib.format"):
        try:
            return importlib.import_module(module)._read_array_header
        except (ImportError, AttributeError):
            continue
    return None


_READ_HEADER = _header_reader()


def _read_header(handle, path: Path, key: str, error: type[Exception]):  # noqa: ANN001, ANN202
    """(shape, fortran_order, dtype, header_end) of the .npy member open in ``handle``."""
    fmt = np.lib.format
    try:
        version = fmt.read_magic(handle)
        if _READ_HEADER is not None:
            shape, fortran, dtype = _READ_HEADER(handle, version,
                                                 max_header_size=MAX_HEADER_BYTES)
        elif version == (1, 0):
            shape, fortran, dtype = fmt.read_array_header_1_0(handle, MAX_HEADER_BYTES)
        else:
            shape, fortran, dtype = fmt.read_array_header_2_0(handle, MAX_HEADER_BYTES)
    except MemoryError:
        raise
    except Exception as err:  # noqa: BLE001 - NumPy's header parser raises ValueError,
        # SyntaxError, tokenize.TokenError, EOFError, zlib.error ... on damaged bytes
        raise error(f"{path}: '{key}' has no valid .npy header ({type(err).__name__}: "
                    f"{str(err)[:200]})") from None
    return shape, fortran, dtype, handle.tell()


def read_npz_arrays(path: str | Path, what: str, error: type[Exception],
                    max_bytes: int = MAX_NPZ_BYTES) -> dict[str, np.ndarray]:
    """The arrays of the ``.npz`` archive ``path``, read without unpickling anything.

    Parameters
    ----------
    path : str or Path
        The archive.
    what : str
        The expected content, for error messages ("an SMPL-format model").
    error : exception class
        What to raise (e.g. ``ModelFileError``, ``InputError``); called with one message.
    max_bytes : int
        Largest total of array data the archive may announce.

    Returns
    -------
    dict of key (member name without ``.npy``) to ndarray.

    Raises
    ------
    error
        A pickle, a single ``.npy`` array, a damaged or truncated archive, a member that is
        not an ``.npy`` array, an object array, or arrays announcing more than ``max_bytes``
        (or more than the member holds): the message names the file and key.
    """
    path = Path(path)
    with path.open("rb") as handle:
        head = handle.read(6)
    if head[:1] == b"\x80":
        raise error(f"{path}: holds pickled data, not an .npz archive of arrays; expected "
                    f"{what}. If it is a pickled model or prior file, name it .pkl so smplify "
                    "reads it with its restricted unpickler")
    if head == b"\x93NUMPY":
        raise error(f"{path}: a single .npy array, not an .npz archive of named arrays; "
                    f"expected {what}")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, NotImplementedError,
            RuntimeError) as err:
        raise error(f"{path}: not a readable .npz archive ({type(err).__name__}: {err}); "
                    f"expected {what}") from None
    arrays: dict[str, np.ndarray] = {}
    total = 0
    with archive:
        for info in archive.infolist():
            key = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
            if info.is_dir():
                continue
            try:
                with archive.open(info) as member:
                    shape, fortran, dtype, header_end = _read_header(member, path, key, error)
                    if dtype.hasobject:
                        raise error(f"{path}: '{key}' is not a plain numeric array (object "
                                    "arrays need unpickling, which smplify refuses)")
                    count = int(np.prod(shape, dtype=object))
                    size = count * dtype.itemsize
                    total += size
                    if size > info.file_size - header_end or total > max_bytes:
                        raise error(
                            f"{path}: '{key}' announces a {dtype} array of shape {shape} "
                            f"({size:,} bytes), more than the member holds "
                            f"({info.file_size - header_end:,} bytes) or the "
                            f"{max_bytes:,}-byte limit of an archive; not read")
                with archive.open(info) as member:  # from the start, header and all
                    arrays[key] = np.lib.format.read_array(member, allow_pickle=False)
            except (OSError, EOFError, ValueError, zipfile.BadZipFile, zlib.error,
                    NotImplementedError, RuntimeError) as err:
                if isinstance(err, error):
                    raise
                raise error(f"{path}: '{key}' is unreadable ({type(err).__name__}: "
                            f"{str(err)[:200]})") from None
    return arrays
