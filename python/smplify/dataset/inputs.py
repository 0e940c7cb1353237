"""A dataset's inputs as *units*: the pieces a chunk is made of, and how a worker reads one.

A unit is what must stay together in one chunk:

=====================  =====================================================================
input                  units
=====================  =====================================================================
OpenPose folder        one video (``*_keypoints.json``, a file per frame, name order); a
                       folder of such folders: one video per sub-folder
``.npz``               one video (``keypoints`` (T, P, K, 3) etc., as ``smplify fit`` reads)
COCO ``.json``         independent photos (results or an annotation file): ranges of images,
                       each image fitted from scratch (no warm start across images)
``.parquet``           one video per distinct ``source`` value (columns below)
folder of the above    every file (and OpenPose sub-folder) in it, in name order
=====================  =====================================================================

Parquet keypoint shards have one row per person and frame: ``source`` (string), ``frame``
(integer), ``keypoints`` (list of K·3 floats: x, y, confidence), and optionally ``format``
(string) and ``image_width`` / ``image_height`` (integers; else the run's defaults).

Units are small, picklable descriptions (:class:`Unit`); :func:`load_unit` reads one into
frames of people on whichever machine fits it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..sources import InputError, open_source

__all__ = ["Unit", "UnitFrames", "find_units", "load_unit", "KINDS"]

KINDS = ("openpose", "npz", "coco", "parquet")
#: COCO images per unit (units are packed into chunks; a unit is never split).
COCO_IMAGES_PER_UNIT = 64


@dataclass(frozen=True)
class Unit:
    """A piece of the input that one chunk fits whole.

    Attributes
    ----------
    kind : str
        One of :data:`KINDS`.
    path : str
        The file or folder (absolute).
    source : str
        The rows' ``source`` id: the path relative to the input it was found under (a
        Parquet input: its ``source`` value).
    start, stop : int
        Frames [start, stop) of the source (COCO: images in image-id order).
    video : bool
        Frames are a sequence: people are tracked and each track warm-starts.
    """

    kind: str
    path: str
    source: str
    start: int
    stop: int
    video: bool

    @property
    def frames(self) -> int:
        """Number of frames (images) in the unit."""
        return self.stop - self.start


@dataclass
class UnitFrames:
    """A unit read: per frame its index, name and people.

    Attributes
    ----------
    format : str
        Keypoint format.
    image_size : (width, height)
        Pixels.
    frames : list of (int, str, list of (K, 3) float64)
        Frame index in the source, frame name (file stem, COCO image), people.
    fps : float or None
        Frames per second, when the input says (an .npz's ``fps``, a video).
    worlds : list of (list of ((K, 3) float64 or None)) or None
        Per frame, each person's 3D keypoints (metres, NaN where unknown: the fit's
        ``keypoints_3d``) where the input gives them (an .npz's ``keypoints_3d``, as a
        ``smplify fit`` track file stores the detector's); None: the input gives none.
    focal_length : float or None
        Pixels, when the input says the camera its people were fitted with (an .npz's
        ``focal_length``, a track file's); used unless the run gives one.
    """

    format: str
    image_size: tuple[int, int]
    frames: list[tuple[int, str, list[NDArray[np.float64]]]]
    fps: float | None = None
    worlds: list[list[NDArray[np.float64] | None]] | None = None
    focal_length: float | None = None


def _is_openpose_folder(folder: Path) -> bool:
    first = next(iter(sorted(folder.glob("*.json"))), None)
    if first is None:
        return False
    try:
        doc = json.loads(first.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        return False
    return isinstance(doc, dict) and isinstance(doc.get("people"), list)


def _file_units(path: Path, source: str, format: str | None,
                image_size: tuple[int, int] | None) -> list[Unit]:
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return _parquet_units(path)
    if suffix not in (".npz", ".json"):
        return []
    opened = open_source(path, format=format, image_size=image_size)
    frames = int(opened.num_frames or 0)
    if opened.kind == "coco":
        step = COCO_IMAGES_PER_UNIT
        return [Unit("coco", str(path), source, a, min(a + step, frames), False)
                for a in range(0, frames, step)]
    if opened.kind in ("npz", "openpose"):
        return [Unit(opened.kind, str(path), source, 0, frames, True)]
    raise InputError(f"{path}: a dataset reads OpenPose, COCO, .npz and .parquet keypoints, "
                     f"not {opened.kind} files")


def _parquet_units(path: Path) -> list[Unit]:
    table = _read_parquet(str(path), ("source", "frame"))
    sources = table["source"].to_pylist()
    frames = np.asarray(table["frame"].to_pylist(), dtype=np.int64)
    units = []
    for name in sorted(set(sources)):
        mine = frames[np.asarray(sources) == name]
        units.append(Unit("parquet", str(path), str(name), int(mine.min()), int(mine.max()) + 1,
                          True))
    return units


def find_units(inputs: Sequence[str | os.PathLike[str]], *, format: str | None = None,
               image_size: tuple[int, int] | None = None) -> list[Unit]:
    """Every unit of the inputs, in a fixed order (inputs as given, files in name order).

    Parameters
    ----------
    inputs : sequence of path-like
        Files or folders (see the module docstring).
    format : str, optional
        Keypoint format of files that do not say it.
    image_size : (width, height), optional
        Pixels, for files that do not say it (OpenPose, COCO results).

    Returns
    -------
    list of Unit

    Raises
    ------
    FileNotFoundError, InputError
        A missing input, or one that is not keypoints (naming it).
    """
    units: list[Unit] = []
    for item in inputs:
        root = Path(item).resolve()
        if not root.exists():
            raise FileNotFoundError(f"input not found: {item}")
        found = _walk(root, root.parent if root.is_file() or _is_openpose_folder(root)
                      else root, format, image_size)
        if not found:
            raise InputError(f"{item}: no keypoint files in it (OpenPose folders, COCO .json, "
                             ".npz or .parquet)")
        units += found
    where: dict[str, str] = {}
    for unit in units:
        other = where.setdefault(unit.source, unit.path)
        if other != unit.path:
            raise InputError(f"inputs: source id {unit.source!r} comes from both {other} and "
                             f"{unit.path}; give their common folder instead (ids are paths "
                             "relative to each input), or keep a Parquet source in one file")
    return units


def _walk(path: Path, base: Path, format: str | None,
          image_size: tuple[int, int] | None) -> list[Unit]:
    source = str(path.relative_to(base)) if path != base else path.name
    if path.is_file():
        return _file_units(path, source, format, image_size)
    if _is_openpose_folder(path):
        return _file_units_openpose(path, source, image_size)
    out: list[Unit] = []
    for child in sorted(p for p in path.iterdir() if not p.name.startswith(".")):
        out += _walk(child, base, format, image_size)
    return out


def _file_units_openpose(folder: Path, source: str,
                         image_size: tuple[int, int] | None) -> list[Unit]:
    opened = open_source(folder, image_size=image_size)
    return [Unit("openpose", str(folder), source, 0, int(opened.num_frames or 0), True)]


# --- reading a unit (on the worker) ----------------------------------------------------------
@lru_cache(maxsize=4)
def _read_parquet(path: str, columns: tuple[str, ...] | None = None) -> Any:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path, columns=list(columns) if columns else None)
    except (OSError, ValueError) as err:
        raise InputError(f"{path}: not a readable Parquet file ({err})") from None
    need = {"source", "frame", "keypoints"} & set(columns or ("source", "frame", "keypoints"))
    missing = sorted(need - set(table.column_names))
    if missing:
        raise InputError(f"{path}: a keypoint Parquet file needs the columns source, frame "
                         f"and keypoints (K·3 floats per row); missing {missing}")
    return table


@lru_cache(maxsize=4)
def _opened_frames(path: str, format: str | None, image_size: tuple[int, int] | None) -> Any:
    """An input's frames, kept for the next unit of the same file (COCO files hold many)."""
    opened = open_source(path, format=format, image_size=image_size)
    read = list(opened.frames())
    frames = [(f.index, f.name, list(f.people or [])) for f in read]
    # a track file's 3D keypoints (the detector's), one per person, None where unknown
    worlds = [list(f.worlds) if f.worlds is not None else [None] * len(f.people or [])
              for f in read] if any(f.worlds is not None for f in read) else None
    return opened.format, opened.image_size, frames, opened.fps, worlds, opened.focal_length


def load_unit(unit: Unit, *, format: str | None = None,
              image_size: tuple[int, int] | None = None) -> UnitFrames:
    """Read a unit's frames and people.

    Parameters
    ----------
    unit : Unit
    format, image_size : optional
        Defaults for files that do not say them (as :func:`find_units`).

    Returns
    -------
    UnitFrames
    """
    if unit.kind == "parquet":
        return _load_parquet_unit(unit, format, image_size)
    fmt, size, frames, fps, worlds, focal = _opened_frames(unit.path, format, image_size)
    return UnitFrames(fmt, size, frames[unit.start:unit.stop], fps,
                      None if worlds is None else worlds[unit.start:unit.stop], focal)


def _load_parquet_unit(unit: Unit, format: str | None,
                       image_size: tuple[int, int] | None) -> UnitFrames:
    table = _read_parquet(unit.path)
    rows = np.flatnonzero(np.asarray(table["source"].to_pylist()) == unit.source)
    sub = table.take(rows).to_pydict()
    fmt = _single(sub.get("format"), format, unit, "format")
    width = _single(sub.get("image_width"), None if image_size is None else image_size[0],
                    unit, "image_width")
    height = _single(sub.get("image_height"), None if image_size is None else image_size[1],
                     unit, "image_height")
    by_frame: dict[int, list[NDArray[np.float64]]] = {}
    for frame, flat in zip(sub["frame"], sub["keypoints"], strict=True):
        kp = np.asarray(flat, dtype=np.float64).reshape(-1, 3) if flat is not None else \
            np.zeros((0, 3))
        kp[~np.all(np.isfinite(kp), axis=1)] = 0.0
        by_frame.setdefault(int(frame), []).append(kp)
    frames = [(t, f"{unit.source}_{t:06d}", [kp for kp in by_frame[t] if np.any(kp[:, 2] > 0)])
              for t in sorted(by_frame)]
    return UnitFrames(str(fmt), (int(width), int(height)), frames)


def _single(values: Iterable[Any] | None, default: Any, unit: Unit, column: str) -> Any:
    distinct = {v for v in (values or ()) if v is not None}
    if len(distinct) > 1:
        raise InputError(f"{unit.path}: source {unit.source!r} has several {column} values "
                         f"{sorted(distinct)}; one per source")
    value = next(iter(distinct), default)
    if value is None:
        raise InputError(f"{unit.path}: source {unit.source!r} does not say its {column}; "
                         f"give it (a {column} column, or --format / --image-size)")
    return value
