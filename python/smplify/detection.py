"""Find people in a photo: MediaPipe Pose's 33 keypoints for every person (``smplify[detect]``).

Fully offline: the two networks are the ``.tflite`` files that the ``mediapipe==0.10.21`` wheel
ships (``pose_detection.tflite``, the BlazePose person detector, and
``pose_landmark_full.tflite``, the "full" landmark model). MediaPipe Tasks' ``PoseLandmarker``
wants them as one ``.task`` bundle with input-normalisation metadata; :func:`_task_bundle`
assembles that bundle in memory from the wheel's files (the metadata says what the legacy
graphs do: the detector takes pixels scaled to [-1, 1], the landmark model to [0, 1]).

Several people, two ways, merged:

1. ``PoseLandmarker(num_poses=N)`` on the whole image and, for a wide (or tall) picture, on
   overlapping square tiles of it. Its detector keys on the face and upper body and finds
   people who fill a good part of the (letterboxed, square) input: a portrait, a player, a
   group side by side once each tile holds one or two of them. Then on a grid of small
   square tiles (``small_tiles``: a third of the shorter side, half overlapping; 35 tiles
   of 192 px on a 768 x 576 frame), where a pedestrian ~100 px tall fills a third of the
   tile and is found. A small tile's person is kept when large and sure enough
   (``SMALL_TILE_SIZE``, ``SMALL_TILE_VISIBILITY``), clear of the tile's inner edges
   (``TILE_EDGE``: a person larger than the tile shows there in pieces) and not a piece of
   a person of the whole picture (``person_nms.parts_of_others``). Its source is
   "small_tile".
2. OpenCV's HOG people detector (Dalal-Triggs, built into OpenCV) finds pedestrians down to
   ~100 px tall, whom the whole image misses (none of the people of OpenCV's ``vtest.avi``
   surveillance clip, 768 x 576); each box not already covered by a person of (1) is cut
   out as a square with a margin, scaled to 256 px and given to a one-person landmarker.

``benchmarks/detector_recall.py`` measures what each finds on frames annotated by eye.

A person is kept when MediaPipe's pose presence passes ``min_confidence``. Then
(``smplify.person_nms``):

- each person of (1) (whole image, tiles, small tiles) is checked to be one body: the
  one-person landmarker, given the person's own box as in (2) (and, failing that, a square
  with more margin around it), must find the same skeleton again (a skeleton MediaPipe laid
  over two people close together, head on one and feet on the other, is re-found as one of
  them: that one replaces it, source "crop", if at least ``REFOUND_SIZE`` of its size;
  re-found as nobody, or as a much smaller skeleton: dropped);
- a partial skeleton (its confident keypoints span less than ``PARTIAL`` of what all 33
  span, MediaPipe's guesses at the hidden ones included, and legs of ``LEG_LENGTH`` torsos
  when the knees and ankles are not seen: a man found from the waist up) is looked for
  again in a crop of where his whole body would lie, and the same person found more whole
  there replaces it;
- the people of all sources are merged by keypoint non-maximum suppression (an OKS-like
  similarity on the keypoints both have; of one person found twice the more confident and
  complete skeleton stays);
- a person mostly inside the box of a person ``PART_SIZE`` times larger is a piece of them
  (a leg half found as a small crouching person) and is dropped.

People are returned largest first. :func:`detector_digest` names this detector's version
(for caches of its results).
"""

from __future__ import annotations

import functools
import gc
import hashlib
import io
import os
import warnings
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .errors import SmplifyError
from .person_nms import (
    ONE_BODY_SIMILARITY,
    box_diagonal,
    box_inside,
    keypoint_similarity,
    one_body,
    parts_of_others,
    same_person,
    suppress_duplicates,
)

__all__ = ["DetectorUnavailable", "Detector", "Person", "detect", "detector_digest",
           "load_image"]

NUM_KEYPOINTS = 33
CROP_SIZE = 256  # pixels: the side of the square a HOG box is scaled to
CROP_MARGIN = 1.3  # the square's side over the box's longer side
#: the one-body check's second crop: a person not re-found in the CROP_MARGIN square (a
#: neighbour in it taken instead, or nobody) gets a second look with more context
RECHECK_MARGIN = 1.8
#: of a skeleton that is not one body, a person re-found in its box replaces it only when at
#: least this share of its size (box diagonal): one of the two people it was spread over is
#: about as tall; a much smaller skeleton is the landmarker's guess at a hand or a fold
#: (chosen on benchmarks/detector_recall.py's tune frames)
REFOUND_SIZE = 0.5
#: a person found in a small tile is kept when its box diagonal is at least this share of
#: the tile's side and its keypoints' mean visibility at least SMALL_TILE_VISIBILITY: in a
#: small tile of trees or a facade the landmarker lays small, unsure skeletons (chosen on
#: benchmarks/detector_recall.py's tune frames)
SMALL_TILE_SIZE = 0.25
SMALL_TILE_VISIBILITY = 0.5
#: ... and when its box keeps this share of the tile's side from each edge of the tile
#: inside the picture: a person larger than a small tile (a player filling the photo) is
#: found there in pieces cut by the tile's edges; one who fits is found whole in a tile
#: half a tile over
TILE_EDGE = 0.02
#: a skeleton is partial when the box of its confident keypoints has less than this share of
#: the diagonal of the box of all 33 (MediaPipe's guesses at the ones it does not see
#: included): the man on a box found from the waist up by a small tile, his legs guessed
#: (sports2d frames 98-116: ~0.6; whole people ~1. benchmarks/detector_recall.py's tune
#: frames score the same from 0.7 to 0.9)
PARTIAL = 0.8
#: hip-to-ankle over shoulder-to-hip length of an adult (~0.49 and ~0.29 of the stature)
LEG_LENGTH = 1.7
#: the default grid of small tiles: a third of the shorter side (chosen on
#: benchmarks/detector_recall.py's tune frames; on its held-out frames recall 0.50 -> 0.71
#: at ~3x the CPU per frame)
SMALL_TILES = (1 / 3,)
#: a small-tile grid's span longer than a whole number of half-tile steps by at most this
#: share of a step gets no extra row or column of tiles (the tiles overlap a little less)
GRID_SLACK = 0.05


def detector_digest() -> str:
    """A 12-hex-digit digest of the detector's code (this module, ``person_nms`` and the
    video mode, ``video_detection``) and mediapipe's version: a cache of detections keyed by
    it is never reused by another detector."""
    digest = hashlib.sha256()
    for module in ("detection.py", "person_nms.py", "video_detection.py"):
        digest.update(Path(__file__).with_name(module).read_bytes())
    try:
        from importlib.metadata import version

        digest.update(version("mediapipe").encode())
    except Exception:  # noqa: BLE001 - mediapipe missing: the code alone names the detector
        pass
    return digest.hexdigest()[:12]


class DetectorUnavailable(SmplifyError, RuntimeError):
    """The detector extra (``smplify[detect]``: mediapipe) is not installed."""


@dataclass(frozen=True)
class Person:
    """One person found in an image.

    Attributes
    ----------
    keypoints : (33, 3) float64
        MediaPipe's landmarks, x and y in pixels, and their visibility in [0, 1].
    world : (33, 3) float64
        MediaPipe's world landmarks: metres, hip-centred, x right, y down, z away from the
        camera (the camera-aligned 3D of SPEC §6).
    box : (4,) float64
        x0, y0, x1, y1 of the visible keypoints, pixels.
    source : str
        "image" (found by the whole-image landmarker), "tile" (in a square tile of a wide or
        tall picture), "small_tile" (in a tile of the ``small_tiles`` grid), "hog" (in a HOG
        people box) or "crop" (in the box of an image or tile skeleton that was not one
        body). A partial skeleton found again more whole keeps its source. In a video
        (``smplify.video_detection``) also "follow": found again in a crop around where the
        person of the last frame should be.
    """

    keypoints: NDArray[np.float64]
    world: NDArray[np.float64]
    box: NDArray[np.float64]
    source: str


def _mediapipe() -> Any:
    try:
        import mediapipe
    except ImportError:
        raise DetectorUnavailable(
            "the person detector needs the 'detect' extra: pip install 'smplify[detect]' "
            "(mediapipe 0.10.21, with the pose models inside its wheel)") from None
    return mediapipe


def _with_image_metadata(path: str, name: str, mean: float, std: float) -> bytes:
    """The ``.tflite`` at ``path`` with metadata saying how input pixels are normalised."""
    from mediapipe.tasks.python.metadata.metadata_writers import metadata_writer

    with open(path, "rb") as f:
        model = bytearray(f.read())
    # MediaPipe's populator leaves a temporary file's reader open: collect it here, quietly.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        writer = metadata_writer.MetadataWriter.create(model).add_general_info(name)
        bundled = bytes(writer.add_image_input([mean], [std]).populate()[0])
        del writer
        gc.collect()
    return bundled


@functools.lru_cache(maxsize=1)
def _task_bundle() -> bytes:
    """A PoseLandmarker ``.task`` bundle (a zip of the two networks), from the wheel's files."""
    root = os.path.dirname(_mediapipe().__file__)
    detector = os.path.join(root, "modules", "pose_detection", "pose_detection.tflite")
    landmarks = os.path.join(root, "modules", "pose_landmark", "pose_landmark_full.tflite")
    for path in (detector, landmarks):
        if not os.path.isfile(path):
            raise DetectorUnavailable(f"the mediapipe wheel lacks {path}: install "
                                      "'smplify[detect]' (mediapipe==0.10.21)")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        # (x - 127.5) / 127.5 in [-1, 1] for the detector, x / 255 in [0, 1] for landmarks
        bundle.writestr("pose_detector.tflite",
                        _with_image_metadata(detector, "pose_detector", 127.5, 127.5))
        bundle.writestr("pose_landmarks_detector.tflite",
                        _with_image_metadata(landmarks, "pose_landmarks_detector", 0.0, 255.0))
    return buffer.getvalue()


def _landmarker(num_poses: int, min_confidence: float) -> Any:
    _mediapipe()  # a clear error when the extra is missing
    from mediapipe.tasks.python import BaseOptions, vision

    options = vision.PoseLandmarkerOptions(
        base_options=BaseOptions(model_asset_buffer=_task_bundle()),
        running_mode=vision.RunningMode.IMAGE, num_poses=num_poses,
        min_pose_detection_confidence=min_confidence,
        min_pose_presence_confidence=min_confidence, min_tracking_confidence=min_confidence)
    return vision.PoseLandmarker.create_from_options(options)


def _eight_bit(img: Any) -> Any:
    """16-bit greyscale (PNG, TIFF: Pillow's modes I;16 and I) as 8-bit, 0..65535 to 0..255:
    Pillow's convert("RGB") clips it at 255, every pixel but the darkest white."""
    from PIL import Image

    if img.mode.startswith("I;16") or img.mode == "I":
        grey = np.asarray(img, dtype=np.float64)
        if img.mode.startswith("I;16") or grey.max() > 255:
            grey = grey / 257.0
        return Image.fromarray(np.clip(np.rint(grey), 0, 255).astype(np.uint8))
    return img


def load_image(image: Any, name: str = "image") -> NDArray[np.uint8]:
    """An image as (H, W, 3) uint8 RGB, from a path or an array.

    Parameters
    ----------
    image : str, Path, or (H, W), (H, W, 3), (H, W, 4) array_like of uint8
        A file Pillow reads (JPEG, PNG, ...; EXIF orientation applied), or pixels (RGB order;
        grey is repeated, alpha dropped).
    name : str
        What to call the argument in error messages.

    Returns
    -------
    (H, W, 3) uint8 ndarray, C-contiguous
    """
    if isinstance(image, (str, os.PathLike)):
        from PIL import Image, ImageOps, UnidentifiedImageError

        path = Path(image)
        if not path.is_file():
            raise FileNotFoundError(f"image not found: {path}")
        try:
            with Image.open(path) as img:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    upright = ImageOps.exif_transpose(img)
                if any(issubclass(w.category, Image.DecompressionBombWarning) for w in caught):
                    warnings.warn(f"{path}: a very large image ({img.width} x {img.height} "
                                  "px)", Image.DecompressionBombWarning, stacklevel=2)
                elif caught:  # damaged EXIF: the pixels as stored, without its rotation
                    upright = img
                return np.ascontiguousarray(_eight_bit(upright).convert("RGB"))
        except UnidentifiedImageError as err:
            raise ValueError(f"{path}: not a readable image ({err})") from None
        except Exception as err:  # noqa: BLE001 - Pillow's decoders raise many types on
            # damaged files (OSError, SyntaxError, struct.error, IndexError, its
            # DecompressionBombError, ...): each means this file cannot be read
            if isinstance(err, MemoryError):
                raise
            raise ValueError(f"{path}: not a readable image ({type(err).__name__}: {err})"
                             ) from None
    arr = np.asarray(image)
    if arr.dtype != np.uint8 or arr.ndim not in (2, 3) or \
            (arr.ndim == 3 and arr.shape[2] not in (3, 4)) or min(arr.shape[:2]) < 1:
        raise ValueError(f"{name}: expected a path or an (H, W, 3) uint8 array, got "
                         f"{arr.dtype} {arr.shape}")
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    return np.ascontiguousarray(arr[:, :, :3])


def _box(points: NDArray[np.float64], visibility: NDArray[np.float64]) -> NDArray[np.float64]:
    seen = points[visibility >= 0.5]
    seen = seen if len(seen) >= 2 else points
    return np.concatenate([seen.min(axis=0), seen.max(axis=0)])


def _clear_of_edges(box: NDArray[np.float64], tile: tuple[int, int, int],
                    size: tuple[int, int]) -> bool:
    """Whether ``box`` keeps TILE_EDGE of the tile's side from the tile's edges that lie
    inside the picture (``size``: width, height)."""
    x0, y0, side = tile
    gap = TILE_EDGE * side
    x1, y1 = x0 + side, y0 + side
    return ((x0 <= 0 or box[0] >= x0 + gap) and (y0 <= 0 or box[1] >= y0 + gap)
            and (x1 >= size[0] or box[2] <= x1 - gap) and (y1 >= size[1] or box[3] <= y1 - gap))


def _whole_extent(keypoints: NDArray[np.float64], box: NDArray[np.float64]
                  ) -> NDArray[np.float64] | None:
    """x0, y0, x1, y1 of where a partial skeleton's whole body would lie; None when whole.

    The box of all 33 keypoints, MediaPipe's guesses at the ones it does not see included,
    and, when the hips and shoulders are seen but the knees and ankles are not, the feet
    ``LEG_LENGTH`` torsos beyond the hips (MediaPipe often guesses hidden legs short). Whole:
    the confident keypoints' ``box`` spans at least ``PARTIAL`` of that (diagonal).
    """
    seen = keypoints[:, 2] >= 0.5
    extent = np.concatenate([keypoints[:, :2].min(axis=0), keypoints[:, :2].max(axis=0)])
    if seen[[11, 12, 23, 24]].all() and seen[25:29].mean() < 0.5:
        shoulders, hips = keypoints[[11, 12], :2].mean(axis=0), keypoints[[23, 24], :2].mean(
            axis=0)
        feet = hips + LEG_LENGTH * (hips - shoulders)
        extent = np.concatenate([np.minimum(extent[:2], feet), np.maximum(extent[2:], feet)])
    return None if box_diagonal(box) >= PARTIAL * box_diagonal(extent) else extent


def _square_tiles(width: int, height: int) -> list[tuple[int, int, int]]:
    """(x0, y0, side) of overlapping square tiles of a long picture; none for a squarish one.

    The landmarker letterboxes the picture into a square: in a wide group photo each person
    shrinks below what its face-keyed detector finds, in a square tile they keep their size.
    """
    side = min(width, height)
    long = max(width, height)
    if long < 1.3 * side:
        return []
    count = int(np.ceil((long - side) / (side / 2))) + 1  # half-tile overlap
    starts = np.linspace(0, long - side, count).round().astype(int)
    if width >= height:
        return [(int(x), 0, side) for x in starts]
    return [(0, int(y), side) for y in starts]


def _small_tiles(width: int, height: int, fraction: float) -> list[tuple[int, int, int]]:
    """(x0, y0, side) of a grid of square tiles, side ``fraction`` of the picture's shorter
    side, overlapping by half a tile, covering the whole picture.

    The landmarker's detector finds a person who fills a good part of its input: a
    pedestrian 80-100 px tall in a 768 x 576 surveillance frame is found in a 192 px tile.
    """
    side = max(int(round(fraction * min(width, height))), 1)
    step = side / 2
    # steps per axis, rounded up, but a span a hair over a whole number of steps (sports2d's
    # 994 px: 663 / 165.5 = 4.006 steps) gets no extra row: its tiles overlap a hair less
    # than half instead (GRID_SLACK of a step)
    xs = np.linspace(0, width - side, int(np.ceil((width - side) / step - GRID_SLACK)) + 1)
    ys = np.linspace(0, height - side, int(np.ceil((height - side) / step - GRID_SLACK)) + 1)
    return [(int(x), int(y), side) for y in ys.round() for x in xs.round()]


class Detector:
    """MediaPipe Pose for every person of an image (see the module docstring).

    Parameters
    ----------
    max_people : int
        At most this many people per image.
    min_confidence : float
        MediaPipe's detection and pose-presence thresholds, in (0, 1).
    people_boxes : bool
        Also look inside OpenCV's HOG people boxes (finds small, distant people; ~0.2 s
        for a 768 x 576 image on one core). False: the whole-image (and tile) landmarker only.
    people_box_scale : float
        Enlarge the picture by this factor for the HOG detector, whose window is 128 px tall:
        1.5 finds people down to ~85 px (on vtest.avi about twice as many, at 2.5x the time).
    small_tiles : float or sequence of float
        Also run the landmarker on grids of small square tiles, each side this fraction of
        the picture's shorter side (half-tile overlap), for people too small for the
        whole image (a third: 35 tiles on a 4:3 picture, 50 on 16:9; on vtest.avi ~0.5 s a
        frame on one core); empty or None: none (the detector before small tiles, ~3x
        faster, finding ~2/3 as many people).

    Raises
    ------
    DetectorUnavailable
        mediapipe (``smplify[detect]``) is not installed.
    """

    def __init__(self, max_people: int = 10, min_confidence: float = 0.5,
                 people_boxes: bool = True, people_box_scale: float = 1.0,
                 small_tiles: Sequence[float] = SMALL_TILES):
        if int(max_people) < 1:
            raise ValueError(f"max_people: expected an integer >= 1, got {max_people!r}")
        if not 0.0 < float(min_confidence) < 1.0:
            raise ValueError(f"min_confidence: expected a value in (0, 1), got "
                             f"{min_confidence!r}")
        if not 0.25 <= float(people_box_scale) <= 4.0:
            raise ValueError(f"people_box_scale: expected a factor in [0.25, 4], got "
                             f"{people_box_scale!r}")
        if small_tiles is None:
            small_tiles = ()
        elif isinstance(small_tiles, (int, float)):
            small_tiles = (small_tiles,)
        try:
            fractions = tuple(float(f) for f in small_tiles)
        except (TypeError, ValueError):
            raise ValueError(f"small_tiles: expected a fraction or a sequence of fractions "
                             f"of the shorter side, got {small_tiles!r}") from None
        if not all(0.05 <= f < 1.0 for f in fractions):
            raise ValueError(f"small_tiles: expected fractions in [0.05, 1), got "
                             f"{small_tiles!r}")
        self.small_tiles = fractions
        self.max_people = int(max_people)
        self.min_confidence = float(min_confidence)
        self.people_box_scale = float(people_box_scale)
        self._whole = _landmarker(self.max_people, self.min_confidence)
        self._single = _landmarker(1, self.min_confidence)  # HOG boxes and one-body checks
        self._hog = None
        if people_boxes:
            import cv2

            self._hog = cv2.HOGDescriptor()
            self._hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())

    def detect(self, image: Any) -> list[Person]:
        """Every person found in ``image`` (a path or RGB pixels, see :func:`load_image`).

        Returns
        -------
        list of Person
            Largest (keypoint box area) first.
        """
        return merge_people(self._scan(load_image(image))[0])[:self.max_people]

    def _scan(self, rgb: NDArray[np.uint8], known: Sequence[Person] = (), whole: bool = True,
              small_tiles: Sequence[tuple[int, int, int]] | None = None, hog: bool = True
              ) -> tuple[list[Person], set[int]]:
        """The scan of ``rgb`` (``detect``'s steps, or a share of them): the new people it
        finds, checked, and which of ``known`` (people already found, e.g. followed in a
        video) it saw again. The new people may still repeat each other (two partial
        skeletons found whole again as one person): the caller merges them, with ``known``
        where there are any (:func:`merge_people`, the one final NMS).

        The whole image and its square tiles (``whole``), then the small tiles
        (``small_tiles``: (x0, y0, side); None: the whole grid), then the HOG boxes (``hog``;
        not when ``known`` and the people found already make ``max_people``) not covered by
        a person already found. A new person of the image, its square tiles or the small
        tiles is checked to be one body (a HOG box's is the one-person landmarker's already);
        every new one, a partial one, is looked for whole again. A skeleton that is one of
        ``known`` found again (:func:`smplify.person_nms.same_person`) is not
        new: its ``known`` index is in the second output. A piece of one of ``known`` (inside
        their box, :func:`smplify.person_nms.parts_of_others`) is not new either, but does
        not count as seeing them: a large false skeleton spread over several real people
        would otherwise be confirmed by their pieces. With ``known`` empty this is
        ``detect`` before its final merge (:func:`merge_people`) and ``max_people``: the
        steps of ``detect`` before ``_scan`` existed, result for result (``_new`` adds a
        keypoint NMS of each HOG box's people, a no-op while ``_in_box``'s one-person
        landmarker returns at most one; were it to return more, two of one box repeating
        each other would be thinned before the final NMS instead of by it, which can keep
        another one when NMS is not transitive).
        """
        known = list(known)
        seen: set[int] = set()
        found: list[Person] = []
        if whole:
            found = self._people(self._whole, rgb, origin=(0.0, 0.0), scale=1.0,
                                 source="image")
            for x0, y0, side in self.tiles(rgb.shape[1], rgb.shape[0]):
                found += self._people(self._whole, rgb[y0:y0 + side, x0:x0 + side],
                                      origin=(x0, y0), scale=1.0, source="tile")
        people = [checked for person in _new(known, found, seen)
                  for checked in self._one_body(rgb, person)]
        small = self._small_tile_people(rgb, small_tiles)
        pieces = parts_of_others([p.box for p in known + people + small])
        small = [p for i, p in enumerate(small, len(known) + len(people)) if i not in pieces]
        people += [checked for person in _new(known, small, seen)
                   for checked in self._one_body(rgb, person)]
        if hog and self._hog is not None and len(known) + len(people) < self.max_people:
            for box in self.people_boxes(rgb):
                if any(box_inside(p.box, box) > 0.5 for p in known + people):
                    continue
                people += _new(known, self._in_box(rgb, box), seen)
        return [self._whole_again(rgb, p) for p in people], seen

    def tiles(self, width: int, height: int) -> list[tuple[int, int, int]]:
        """(x0, y0, side) of the square tiles of a long picture (none for a squarish one)."""
        return _square_tiles(width, height)

    def _small_tile_people(self, rgb: NDArray[np.uint8],
                           tiles: Sequence[tuple[int, int, int]] | None = None
                           ) -> list[Person]:
        """The people of the small tiles (``tiles``, (x0, y0, side); None: the whole grid)
        who pass their gates (SMALL_TILE_SIZE, SMALL_TILE_VISIBILITY, TILE_EDGE)."""
        height, width = rgb.shape[:2]
        out = []
        for x0, y0, side in self.small_tile_grid(width, height) if tiles is None else tiles:
            tile = rgb[y0:y0 + side, x0:x0 + side]
            for p in self._people(self._whole, tile, origin=(x0, y0), scale=1.0,
                                  source="small_tile"):
                if box_diagonal(p.box) >= SMALL_TILE_SIZE * side and \
                        p.keypoints[:, 2].mean() >= SMALL_TILE_VISIBILITY and \
                        _clear_of_edges(p.box, (x0, y0, side), (width, height)):
                    out.append(p)
        return out

    def small_tile_grid(self, width: int, height: int) -> list[tuple[int, int, int]]:
        """(x0, y0, side) of the ``small_tiles`` grids' tiles."""
        return [tile for fraction in self.small_tiles
                for tile in _small_tiles(width, height, fraction)]

    def _one_body(self, rgb: NDArray[np.uint8], person: Person) -> list[Person]:
        """``person`` if re-found in its own box; else what the box shows (see the module
        docstring): one of the two people a skeleton was spread over, or nobody."""
        first: list[Person] = []
        least = REFOUND_SIZE * box_diagonal(person.box)
        for margin in (CROP_MARGIN, RECHECK_MARGIN):
            refound = self._in_box(rgb, person.box, source="crop", margin=margin)
            if one_body(person.keypoints, [p.keypoints for p in refound]):
                return [person]
            first = first or [p for p in refound if box_diagonal(p.box) >= least]
        return first

    def _whole_again(self, rgb: NDArray[np.uint8], person: Person) -> Person:
        """``person``, or when partial (:func:`_whole_extent`) the same person found more
        whole in a crop of where their whole body would lie (inside the picture): similar on
        the keypoints both see, a larger box."""
        whole = _whole_extent(person.keypoints, person.box)
        if whole is None:
            return person
        height, width = rgb.shape[:2]
        whole = np.clip(whole, 0.0, [width, height, width, height])
        best = person
        for found in self._in_box(rgb, whole, source=person.source):
            if box_diagonal(found.box) > box_diagonal(best.box) and keypoint_similarity(
                    person.keypoints, found.keypoints) >= ONE_BODY_SIMILARITY:
                best = found
        return best

    def people_boxes(self, rgb: NDArray[np.uint8]) -> NDArray[np.float64]:
        """(M, 4) x0, y0, x1, y1 boxes of OpenCV's HOG people detector, pixels."""
        if self._hog is None:
            return np.zeros((0, 4))
        import cv2

        up = self.people_box_scale
        image = rgb if up == 1.0 else cv2.resize(rgb, None, fx=up, fy=up,
                                                 interpolation=cv2.INTER_LINEAR)
        boxes, _ = self._hog.detectMultiScale(image, winStride=(8, 8), padding=(8, 8),
                                              scale=1.05)
        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4) / up
        return np.c_[boxes[:, :2], boxes[:, :2] + boxes[:, 2:]]

    def look_in_box(self, image: Any, box: NDArray[np.float64], margin: float = CROP_MARGIN,
                    source: str = "crop") -> list[Person]:
        """The one-person landmarker on a square crop around ``box``: at most one person.

        Parameters
        ----------
        image : str, Path, or (H, W, 3) uint8 array_like
            The picture (see :func:`load_image`).
        box : (4,) float64
            x0, y0, x1, y1, pixels; the crop's side is ``margin`` times its longer side
            (zero-padded where it leaves the picture), scaled to CROP_SIZE.
        margin : float
            The crop's side over the box's longer side.
        source : str
            The found person's ``Person.source``.

        Returns
        -------
        list of Person
            The person found, or empty.

        Raises
        ------
        ValueError
            ``box`` is not 4 finite numbers, or ``margin`` not a finite number > 0.
        """
        try:
            box = np.asarray(box, dtype=np.float64)
        except (TypeError, ValueError) as e:
            raise ValueError(f"box: expected 4 numbers x0, y0, x1, y1, got {box!r}") from e
        if box.shape != (4,) or not np.all(np.isfinite(box)):
            raise ValueError(f"box: expected 4 finite numbers x0, y0, x1, y1, got {box!r}")
        if isinstance(margin, bool) or not isinstance(margin, (int, float, np.number)) \
                or not np.isfinite(margin) or margin <= 0:
            raise ValueError(f"margin: expected a finite number > 0, got {margin!r}")
        return self._in_box(load_image(image), box, source=source, margin=float(margin))

    def _in_box(self, rgb: NDArray[np.uint8], box: NDArray[np.float64],
                source: str = "hog", margin: float = CROP_MARGIN) -> list[Person]:
        """The pose inside a people box: a square crop (side ``margin`` times the box's
        longer side), zero-padded, scaled to CROP_SIZE."""
        import cv2

        side = margin * max(box[2] - box[0], box[3] - box[1])
        x0 = int(round((box[0] + box[2] - side) / 2))
        y0 = int(round((box[1] + box[3] - side) / 2))
        n = int(round(side))
        crop = np.zeros((n, n, 3), dtype=np.uint8)
        h, w = rgb.shape[:2]
        sx, sy = max(x0, 0), max(y0, 0)
        ex, ey = min(x0 + n, w), min(y0 + n, h)
        if n < 2 or ex <= sx or ey <= sy:  # a box (of keypoints guessed off the picture)
            # outside it, or of one point
            return []
        crop[sy - y0:ey - y0, sx - x0:ex - x0] = rgb[sy:ey, sx:ex]
        crop = cv2.resize(crop, (CROP_SIZE, CROP_SIZE), interpolation=cv2.INTER_LINEAR)
        return self._people(self._single, crop, origin=(x0, y0), scale=n / CROP_SIZE,
                            source=source)

    def _people(self, landmarker: Any, rgb: NDArray[np.uint8], origin: Sequence[float],
                scale: float, source: str) -> list[Person]:
        import mediapipe as mp

        h, w = rgb.shape[:2]
        result = landmarker.detect(mp.Image(image_format=mp.ImageFormat.SRGB,
                                            data=np.ascontiguousarray(rgb)))
        people = []
        for landmarks, world in zip(result.pose_landmarks, result.pose_world_landmarks,
                                    strict=True):
            lm = np.array([[p.x * w, p.y * h, p.visibility] for p in landmarks])
            lm[:, :2] = lm[:, :2] * scale + np.asarray(origin, dtype=np.float64)
            lm[:, 2] = np.clip(np.nan_to_num(lm[:, 2]), 0.0, 1.0)
            xyz = np.array([[p.x, p.y, p.z] for p in world], dtype=np.float64)
            people.append(Person(lm, xyz, _box(lm[:, :2], lm[:, 2]), source))
        return people

    def close(self) -> None:
        """Free MediaPipe's graphs."""
        for landmarker in (self._whole, self._single):
            landmarker.close()


def _nms(people: list[Person]) -> list[Person]:
    """``people`` without repeats of one person (keypoint NMS, ``person_nms``)."""
    return [people[i] for i in suppress_duplicates([p.keypoints for p in people])]


def _new(known: list[Person], found: list[Person], seen: set[int]) -> list[Person]:
    """``found`` without repeats (keypoint NMS) and without those that are one of ``known``
    found again (``person_nms.same_person``) or a piece of one of them; the
    indices of the ``known`` people so found again are added to ``seen``."""
    found = _nms(found)
    if not known:
        return found
    new = []
    for person in found:
        again = [k for k, other in enumerate(known)
                 if same_person(person.keypoints, other.keypoints)]
        seen.update(again)
        if again or len(known) in parts_of_others([p.box for p in known] + [person.box]):
            continue
        new.append(person)
    return new


def merge_people(people: list[Person]) -> list[Person]:
    """``people`` (of one picture, from any mix of sources) without repeats of one person
    (keypoint NMS) and pieces of others (``person_nms.parts_of_others``), largest (keypoint
    box area) first."""
    people = _nms(people)
    pieces = parts_of_others([p.box for p in people])
    people = [p for i, p in enumerate(people) if i not in pieces]
    people.sort(key=lambda p: -(p.box[2] - p.box[0]) * (p.box[3] - p.box[1]))
    return people


@functools.lru_cache(maxsize=4)
def _shared_detector(max_people: int, min_confidence: float, people_boxes: bool) -> Detector:
    return Detector(max_people, min_confidence, people_boxes)


def detect(image: Any, *, max_people: int = 10, min_confidence: float = 0.5,
           people_boxes: bool = True) -> list[NDArray[np.float64]]:
    """MediaPipe's 33 keypoints of every person in an image (``smplify[detect]``).

    Parameters
    ----------
    image : str, Path, or (H, W, 3) uint8 array_like
        A photo file or RGB pixels.
    max_people : int
        At most this many people.
    min_confidence : float
        Detection and pose-presence threshold, in (0, 1).
    people_boxes : bool
        Also search OpenCV's HOG people boxes (small, distant people).

    Returns
    -------
    list of (33, 3) float64 ndarray
        Per person, largest first: x, y in pixels and MediaPipe's visibility in [0, 1]
        (format "mediapipe33"); empty when nobody is found.

    Raises
    ------
    DetectorUnavailable
        mediapipe is not installed.
    """
    detector = _shared_detector(int(max_people), float(min_confidence), bool(people_boxes))
    return [p.keypoints for p in detector.detect(image)]
