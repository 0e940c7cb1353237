"""What ``smplify fit INPUT`` reads: photos, videos and keypoint files, as a stream of frames.

:func:`open_source` looks at INPUT and picks the reader; every reader yields :class:`Frame`\\ s
that carry either pixels (to detect people in) or keypoints (one (K, 3) array per person):

=====================  =====================================================================
INPUT                  read as
=====================  =====================================================================
``.jpg .png ...``      one photo; people found by ``smplify.detect`` (the detect extra)
``.mp4 .avi ...``      a video, frame by frame through OpenCV (the detect extra brings it)
folder of images       photos in name order, as the frames of one sequence
OpenPose ``.json``     ``--write_json`` output: ``{"people": [{"pose_keypoints_2d": ...}]}``,
                       any number of people (BODY_25 or COCO-18)
folder of those        one file per frame in name order (OpenPose's ``*_keypoints.json``)
COCO ``.json``         keypoint results (``[{"image_id", "keypoints": [51], "score"}, ...]``)
                       or a COCO annotation file (``{"images", "annotations"}``); a frame per
                       image id, in id order
``.npz``               ``keypoints`` (K, 3), (T, K, 3) or (T, P, K, 3) (frames, people;
                       rows of confidence 0 are absent people); optional ``format``,
                       ``image_size``, ``fps``, ``focal_length`` (pixels: the camera the
                       people were fitted with, used unless one is given) and
                       ``keypoints_3d`` (the same shape: the detector's 3D keypoints, metres,
                       NaN where unknown; a track file ``<input>_track<k>.npz`` of
                       ``smplify fit`` is such a file)
smplify ``.json``      ``{"keypoints": [[x, y, c], ...], "format", "image_size"}`` (one person)
=====================  =====================================================================

Keypoint files seldom say the image size (OpenPose and COCO results do not): give it
(``image_size``), or it is read from a COCO annotation file, an ``.npz`` or a smplify file.
Every error names the file and says what was expected.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .errors import InputFileError

__all__ = ["Frame", "InputError", "Source", "open_source", "IMAGE_SUFFIXES", "VIDEO_SUFFIXES"]

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")
VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg")
COCO_KEYPOINTS = 17


class InputError(InputFileError):
    """An input file or folder that cannot be read as what it looks like."""


@dataclass
class Frame:
    """One frame of an input.

    Attributes
    ----------
    index : int
        Position in the input (0-based).
    name : str
        A file-name stem for the frame's outputs.
    image : (H, W, 3) uint8 ndarray or None
        The picture (RGB), when the input has pictures.
    people : list of (K, 3) float64 ndarray or None
        Keypoints per person (x, y pixels, confidence) when the input has keypoints; None
        when they are to be detected in ``image``.
    worlds : list of ((K, 3) float64 ndarray or None) or None
        Each person's 3D keypoints (metres, camera-aligned axes, NaN where unknown: the fit's
        ``keypoints_3d``) where the input gives them (an ``.npz``'s ``keypoints_3d``, as a
        track file stores the detector's); None: none given.
    """

    index: int
    name: str
    image: NDArray[np.uint8] | None = None
    people: list[NDArray[np.float64]] | None = None
    worlds: list[NDArray[np.float64] | None] | None = None


@dataclass
class Source:
    """An opened input: what it is and how to iterate its frames.

    Attributes
    ----------
    path : Path
    kind : str
        "image", "images", "video", "openpose", "coco", "npz" or "smplify".
    format : str or None
        Keypoint format of the frames' people ("mediapipe33" for detected ones).
    image_size : (width, height) or None
        Pixels.
    num_frames : int or None
        When known in advance (for progress bars).
    fps : float or None
        Frames per second of a video (or an .npz that says).
    focal_length : float or None
        Pixels, where the input says the camera its people were fitted with (an .npz's
        ``focal_length``, as a track file stores it); ``smplify fit`` uses it unless given
        one. None: not said.
    track_id : int or None
        The person's track id where the input is one track's file (an .npz's ``track_id``,
        as ``smplify fit`` writes ``<input>_track<k>.npz``): fitting it again keeps its name.
        None: not one track's file.
    tracked : bool
        Whether its frames are one scene over time, people followed from frame to frame
        (videos, image folders, OpenPose folders, keypoint sequences, COCO *results* files:
        a detector's output over a video's frames); False for unrelated photos (a COCO
        *annotation* file: every person their own body, fitted from scratch).
    """

    path: Path
    kind: str
    format: str | None
    image_size: tuple[int, int] | None
    num_frames: int | None
    fps: float | None = None
    _frames: Any = field(default=None, repr=False)
    tracked: bool = True
    focal_length: float | None = None
    track_id: int | None = None

    @property
    def is_sequence(self) -> bool:
        """True for inputs of several frames (videos, folders, sequences of keypoints)."""
        return self.kind in ("images", "video") or (self.num_frames or 0) > 1

    def frames(self) -> Iterator[Frame]:
        """The frames, in order (reading lazily: a video is decoded as it is iterated)."""
        return iter(self._frames())


#: The frame rates (fps) an input's own rate is believed in: OpenCV reports 0, negative or
#: absurd rates for some video files.
PLAUSIBLE_FPS = (1.0, 1000.0)


def plausible_fps(fps: Any) -> float | None:
    """An input's frame rate as a float where it can time tracking and the online filter
    (``PLAUSIBLE_FPS``, 1-1000 fps), else None (the caller's default). ``smplify fit``
    (``smplify.pipeline``) and ``smplify dataset`` (``smplify.dataset.chunk_fit``) share it."""
    try:
        rate = float(fps)
    except (TypeError, ValueError):
        return None
    return rate if PLAUSIBLE_FPS[0] <= rate <= PLAUSIBLE_FPS[1] else None


def _size(value: Any, where: str) -> tuple[int, int]:
    try:
        size = np.asarray(value)
        size = size.astype(np.float64).reshape(-1) if size.dtype.kind in "biuf" else \
            np.zeros(0)
    except (TypeError, ValueError, OverflowError):
        size = np.zeros(0)
    if size.shape != (2,) or not np.all(np.isfinite(size)) or np.any(size < 1) or \
            np.any(size != np.round(size)):
        raise InputError(f"{where}: image size must be two positive integers (width, height), "
                         f"got {value!r}")
    return int(size[0]), int(size[1])


def _need_size(image_size: tuple[int, int] | None, path: Path, what: str) -> tuple[int, int]:
    if image_size is None:
        raise InputError(f"{path}: {what} do not say the image size; give it "
                         "(--image-size W H)")
    return image_size


def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise InputError(f"{path}: not a JSON file ({err})") from None
    except RecursionError:  # nesting deeper than Python's stack: not a keypoint file
        raise InputError(f"{path}: JSON nested too deeply to be a keypoint file") from None


def open_source(path: str | os.PathLike[str], *, format: str | None = None,
                image_size: Sequence[int] | None = None) -> Source:
    """Open an input for ``smplify fit`` (see the module docstring for what is read).

    Parameters
    ----------
    path : str or path-like
        File or folder.
    format : str, optional
        Keypoint format of a keypoint file that does not say it (an ``.npz`` without
        ``format``, a smplify file without it); OpenPose and COCO files imply theirs.
    image_size : (width, height), optional
        Pixels, for keypoint files that do not say it.

    Returns
    -------
    Source

    Raises
    ------
    FileNotFoundError
        No such file or folder.
    InputError
        Anything unreadable: it names the file and what was expected.
    """
    p = Path(path)
    size = None if image_size is None else _size(image_size, "image_size")
    if p.is_dir():
        return _open_folder(p, size)
    if not p.is_file():
        raise FileNotFoundError(f"input not found: {p}")
    suffix = p.suffix.lower()
    if suffix in IMAGE_SUFFIXES:
        return _open_images(p, [p], "image")
    if suffix in VIDEO_SUFFIXES:
        return _open_video(p)
    if suffix == ".npz":
        return _open_npz(p, format, size)
    if suffix == ".json":
        return _open_json(p, format, size)
    raise InputError(f"{p}: unknown input type {suffix!r}; expected an image "
                     f"({', '.join(IMAGE_SUFFIXES)}), a video ({', '.join(VIDEO_SUFFIXES)}), "
                     "a keypoint .json (OpenPose, COCO, smplify) or .npz, or a folder")


# --- folders ---------------------------------------------------------------------------------
def _open_folder(folder: Path, size: tuple[int, int] | None) -> Source:
    files = sorted(f for f in folder.iterdir() if f.is_file() and not f.name.startswith("."))
    jsons = [f for f in files if f.suffix.lower() == ".json"]
    images = [f for f in files if f.suffix.lower() in IMAGE_SUFFIXES]
    if jsons:
        return _open_openpose_files(folder, jsons, size)
    if images:
        return _open_images(folder, images, "images")
    raise InputError(f"{folder}: the folder has no OpenPose .json files and no images "
                     f"({', '.join(IMAGE_SUFFIXES)})")


# --- pictures --------------------------------------------------------------------------------
def _load_image(path: Path) -> NDArray[np.uint8]:
    from .detection import load_image

    try:
        return load_image(path)
    except ValueError as err:  # the message names the file
        raise InputError(str(err)) from None


def _open_images(path: Path, files: list[Path], kind: str) -> Source:
    first = _load_image(files[0])  # fails early, naming the file, if it is unreadable

    def frames() -> Iterator[Frame]:
        for i, f in enumerate(files):
            image = first if i == 0 else _load_image(f)
            if image.shape != first.shape:  # one camera: its fits share the image size
                raise InputError(
                    f"{f}: {image.shape[1]} x {image.shape[0]} px, but the folder's first "
                    f"image {files[0].name} is {first.shape[1]} x {first.shape[0]} px; a folder "
                    "is one sequence of one camera (fit photos of other sizes on their own)")
            yield Frame(i, f.stem, image=image)

    return Source(path, kind, "mediapipe33", (first.shape[1], first.shape[0]), len(files),
                  None, frames)


def _open_video(path: Path) -> Source:
    try:
        import cv2
    except ImportError:
        raise InputError(f"{path}: reading videos needs OpenCV, which the 'detect' extra "
                         "brings: pip install 'smplify[detect]'") from None
    capture = cv2.VideoCapture(str(path))
    ok, first = capture.read() if capture.isOpened() else (False, None)
    if not ok or first is None:
        capture.release()
        raise InputError(f"{path}: no frames could be read (not a video, or an empty one)")
    count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) or None
    fps = float(capture.get(cv2.CAP_PROP_FPS)) or None
    size = (first.shape[1], first.shape[0])

    def frames() -> Iterator[Frame]:
        frame, i = first, 0
        try:
            while frame is not None:
                yield Frame(i, f"{path.stem}_{i:06d}",
                            image=np.ascontiguousarray(frame[:, :, ::-1]))
                ok, frame = capture.read()
                frame = frame if ok else None
                i += 1
        finally:
            capture.release()

    return Source(path, "video", "mediapipe33", size, count, fps, frames)


# --- keypoint files --------------------------------------------------------------------------
def _openpose_people(doc: Any, path: Path) -> list[NDArray[np.float64]]:
    from .keypoints.readers import keypoints_from_openpose_json

    try:
        people = [keypoints_from_openpose_json(doc, person=i) for i in range(len(doc["people"]))]
    except (TypeError, ValueError) as err:
        raise InputError(f"{path}: {err}") from None
    return [kp for kp in people if np.any(kp[:, 2] > 0)]


def _is_openpose(doc: Any) -> bool:
    return isinstance(doc, Mapping) and isinstance(doc.get("people"), list)


def _open_openpose_files(path: Path, files: list[Path], size: tuple[int, int] | None) -> Source:
    for f in files[:1]:
        if not _is_openpose(_load_json(f)):
            raise InputError(f"{f}: not an OpenPose --write_json file (no 'people' list)")
    size = _need_size(size, path, "OpenPose files")

    def frames() -> Iterator[Frame]:
        for i, f in enumerate(files):
            doc = _load_json(f)
            if not _is_openpose(doc):
                raise InputError(f"{f}: not an OpenPose --write_json file (no 'people' list)")
            name = f.stem[:-len("_keypoints")] if f.stem.endswith("_keypoints") else f.stem
            yield Frame(i, name, people=_openpose_people(doc, f))

    return Source(path, "openpose", "openpose25", size, len(files), None, frames)


def _open_json(path: Path, format: str | None, size: tuple[int, int] | None) -> Source:
    doc = _load_json(path)
    if _is_openpose(doc):
        return _open_openpose_files(path, [path], size)
    if isinstance(doc, list) or (isinstance(doc, Mapping) and "annotations" in doc):
        return _open_coco(path, doc, size)
    if isinstance(doc, Mapping) and "keypoints" in doc:
        return _open_smplify(path, doc, format, size)
    raise InputError(f"{path}: neither OpenPose ({{'people': [...]}}), COCO keypoints "
                     "([{'image_id', 'keypoints'}, ...] or {'images', 'annotations'}) nor "
                     "smplify's layout ({'keypoints': [...]})")


def _coco_row(entry: Any, path: Path, visibility_flags: bool) -> tuple[Any, NDArray]:
    if not isinstance(entry, Mapping) or "image_id" not in entry or "keypoints" not in entry:
        raise InputError(f"{path}: a COCO entry needs 'image_id' and 'keypoints', got "
                         f"{str(entry)[:80]}")
    if not _is_image_id(entry["image_id"]):
        raise InputError(f"{path}: a COCO 'image_id' must be an integer or a string, got "
                         f"{str(entry['image_id'])[:80]}")
    try:
        kp = np.asarray(entry["keypoints"], dtype=np.float64).reshape(COCO_KEYPOINTS, 3)
    except (TypeError, ValueError, OverflowError):
        raise InputError(f"{path}: COCO 'keypoints' must hold {3 * COCO_KEYPOINTS} numbers "
                         f"(17 x [x, y, v]), image_id {entry['image_id']!r}") from None
    kp[~np.all(np.isfinite(kp), axis=1)] = 0.0
    # Annotation files flag visibility (0 absent, 1 hidden, 2 seen); results give scores.
    kp[:, 2] = (kp[:, 2] > 0).astype(np.float64) if visibility_flags else \
        np.clip(kp[:, 2], 0.0, 1.0)
    return entry["image_id"], kp


def _is_image_id(value: Any) -> bool:
    return isinstance(value, (int, str)) and not isinstance(value, bool)


def _open_coco(path: Path, doc: Any, size: tuple[int, int] | None) -> Source:
    annotation_file = isinstance(doc, Mapping)
    entries = doc["annotations"] if annotation_file else doc
    if not isinstance(entries, list) or not entries:
        raise InputError(f"{path}: a COCO keypoint file with no entries")
    by_image: dict[Any, list[NDArray]] = {}
    for entry in entries:
        if isinstance(entry, Mapping) and entry.get("category_id", 1) != 1:
            continue  # only people have keypoints in COCO
        image_id, kp = _coco_row(entry, path, annotation_file)
        by_image.setdefault(image_id, []).append(kp)
    names: dict[Any, str] = {}
    if annotation_file:
        images = doc.get("images") or []
        images = [im for im in images if isinstance(im, Mapping)] if isinstance(images, list) \
            else []
        sizes = {json.dumps([im.get("width"), im.get("height")], default=str) for im in images}
        if size is None and len(sizes) == 1:
            size = _size(json.loads(next(iter(sizes))), f"{path} images")
        names = {im.get("id"): Path(str(im.get("file_name", im.get("id")))).stem
                 for im in images if _is_image_id(im.get("id"))}
    size = _need_size(size, path, "COCO keypoint results")
    ids = sorted(by_image, key=lambda i: (str(type(i)), i))

    def frames() -> Iterator[Frame]:
        for i, image_id in enumerate(ids):
            people = [kp for kp in by_image[image_id] if np.any(kp[:, 2] > 0)]
            yield Frame(i, names.get(image_id, f"{path.stem}_{image_id}"), people=people)

    # An annotation file (a dict with "annotations", "images") holds photos; a results file
    # (a list) is a detector's output, here taken as a video's frames (test_frontend).
    return Source(path, "coco", "coco17", size, len(ids), None, frames,
                  tracked=not annotation_file)


def _checked_format(path: Path, format: str, num_keypoints: int) -> str:
    """The keypoint format's name, checked before any frame is fitted: a known format of
    ``num_keypoints`` points a person (else every frame would fail the same way)."""
    from .keypoints import format_names, get_format

    try:
        fmt = get_format(format)
    except ValueError as err:
        raise InputError(f"{path}: {err}") from None
    if fmt.num_keypoints != num_keypoints:
        fits = [name for name in format_names()
                if get_format(name).num_keypoints == num_keypoints]
        hint = f"; the file's count fits {', '.join(fits)}" if fits else ""
        raise InputError(f"{path}: the keypoints have {num_keypoints} points a person, but "
                         f"format {fmt.name!r} has {fmt.num_keypoints} (--format){hint}")
    return fmt.name


def _open_smplify(path: Path, doc: Mapping[str, Any], format: str | None,
                  size: tuple[int, int] | None) -> Source:
    try:
        kp = np.asarray(doc["keypoints"], dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        raise InputError(f"{path}: 'keypoints' must be a (K, 3) list of numbers") from None
    if kp.ndim != 2 or kp.shape[1] not in (2, 3):
        raise InputError(f"{path}: 'keypoints' must be (K, 2) or (K, 3), got {kp.shape}")
    if kp.shape[1] == 2:
        kp = np.c_[kp, np.ones(len(kp))]
    kp[~np.all(np.isfinite(kp), axis=1)] = 0.0  # a missing keypoint, as in the other readers
    format = format or doc.get("format")
    if format is None:
        raise InputError(f"{path}: the file does not name its keypoint format; give it "
                         "(--format)")
    if size is None and doc.get("image_size") is not None:
        size = _size(doc["image_size"], f"{path} image_size")
    format = _checked_format(path, str(format), len(kp))
    size = _need_size(size, path, "the keypoints")
    return Source(path, "smplify", format, size, 1, None,
                  lambda: [Frame(0, path.stem, people=[kp])])


def _npz_keypoints_3d(path: Path, doc: Mapping[str, Any], shape: tuple[int, ...]
                      ) -> NDArray[np.float64] | None:
    """An .npz's optional ``keypoints_3d`` (its keypoints' shape), as (T, P, K, 3): ``shape``."""
    if "keypoints_3d" not in doc:
        return None
    given = doc["keypoints_3d"]
    if given.dtype.kind not in "biuf":
        raise InputError(f"{path}: 'keypoints_3d' must be numeric, got dtype {given.dtype}")
    if given.shape != doc["keypoints"].shape:
        raise InputError(f"{path}: 'keypoints_3d' must have the keypoints' shape "
                         f"{doc['keypoints'].shape} (metres, NaN where unknown), got "
                         f"{given.shape}")
    return np.asarray(given, dtype=np.float64).reshape(shape)


def _open_npz(path: Path, format: str | None, size: tuple[int, int] | None) -> Source:
    from .safe_npz import read_npz_arrays

    doc = read_npz_arrays(path, "keypoints (K, 3), (T, K, 3) or (T, P, K, 3)", InputError)
    if "keypoints" not in doc:
        raise InputError(f"{path}: no 'keypoints' array (expected (K, 3), (T, K, 3) or "
                         "(T, P, K, 3))")
    if doc["keypoints"].dtype.kind not in "biuf":
        raise InputError(f"{path}: 'keypoints' must be numeric, got dtype "
                         f"{doc['keypoints'].dtype}")
    kp = np.asarray(doc["keypoints"], dtype=np.float64)
    if kp.ndim < 2 or kp.ndim > 4 or kp.shape[-1] != 3:
        raise InputError(f"{path}: 'keypoints' must be (K, 3), (T, K, 3) or (T, P, K, 3), got "
                         f"{kp.shape}")
    kp = kp.reshape((1,) * (4 - kp.ndim) + kp.shape) if kp.ndim == 2 else \
        (kp[:, None] if kp.ndim == 3 else kp)
    format = format or (str(doc["format"]) if "format" in doc else None)
    if format is None:
        raise InputError(f"{path}: no 'format' in the file; give it (--format)")
    format = _checked_format(path, format, kp.shape[2])
    if size is None and "image_size" in doc:
        size = _size(doc["image_size"], f"{path} image_size")
    size = _need_size(size, path, "the keypoints")
    fps = _npz_positive(path, doc, "fps")
    focal = _npz_positive(path, doc, "focal_length")  # a track file's camera, pixels

    world = _npz_keypoints_3d(path, doc, kp.shape)
    index = _npz_frame_numbers(path, doc, kp.shape[0])
    span = kp.shape[0] if index is None else int(index[-1] - index[0]) + 1

    def frames() -> Iterator[Frame]:
        if index is not None:  # a track file: the frames between its rows had nobody
            rows = {int(f - index[0]): t for t, f in enumerate(index)}
            for i in range(span):
                if i not in rows:
                    yield Frame(i, f"{path.stem}_{i:06d}", people=[],
                                worlds=[] if world is not None else None)
                    continue
                yield from row_frame(rows[i], i)
            return
        for t in range(kp.shape[0]):
            yield from row_frame(t, t)

    def row_frame(t: int, i: int) -> Iterator[Frame]:
        """Row ``t`` of the file as the input's frame ``i``."""
        people, worlds = [], []
        for p, person in enumerate(kp[t]):
            person = person.copy()
            person[~np.all(np.isfinite(person), axis=1)] = 0.0
            if np.any(person[:, 2] > 0):
                people.append(person)
                worlds.append(None if world is None or np.isnan(world[t, p]).all()
                              else world[t, p].copy())
        yield Frame(i, f"{path.stem}_{i:06d}" if span > 1 else path.stem,
                    people=people, worlds=worlds if world is not None else None)

    return Source(path, "npz", format, size, span, fps, frames, focal_length=focal,
                  track_id=_npz_track_id(path, doc))


def _npz_positive(path: Path, doc: Mapping[str, Any], key: str) -> float | None:
    """An .npz's optional ``key``: one number > 0 (None: absent)."""
    if key not in doc:
        return None
    value = doc[key]
    number = float(value) if value.shape == () and value.dtype.kind in "biuf" else np.nan
    if not np.isfinite(number) or number <= 0:
        raise InputError(f"{path}: {key!r} must be one number > 0, got {value!r}")
    return number


def _npz_track_id(path: Path, doc: Mapping[str, Any]) -> int | None:
    """An .npz's optional ``track_id``: one integer >= 0 (None: absent)."""
    if "track_id" not in doc:
        return None
    value = doc["track_id"]
    if value.shape != () or value.dtype.kind not in "iu" or int(value) < 0:
        raise InputError(f"{path}: 'track_id' must be one integer >= 0, got {value!r}")
    return int(value)


def _npz_frame_numbers(path: Path, doc: dict[str, Any], rows: int) -> NDArray[np.int64] | None:
    """A track file's ``frame`` (T,): the video frame of each row, increasing (the frames
    between two rows had nobody: a video's track file skips them); None without one."""
    if "frame" not in doc:
        return None
    frame = doc["frame"]
    if frame.dtype.kind not in "iu" or frame.shape != (rows,) or \
            (rows > 1 and not np.all(np.diff(frame) > 0)):
        raise InputError(f"{path}: 'frame' must be ({rows},) increasing integers (the video "
                         f"frame of each row), got {frame.dtype} {frame.shape}")
    return np.asarray(frame, dtype=np.int64)
