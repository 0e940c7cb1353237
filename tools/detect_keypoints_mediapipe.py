"""Detect the 33 MediaPipe (BlazePose) keypoints of one person in a photo; write them as JSON.

Dev tool, not runtime: it needs ``mediapipe`` (and the OpenCV wheel it pulls in), installed in a
throwaway venv, never in the project's environment::

    python3.11 -m venv /work/venvs/mp
    /work/venvs/mp/bin/pip install mediapipe==0.10.21
    /work/venvs/mp/bin/python tools/detect_keypoints_mediapipe.py \
        /usr/share/doc/opencv-doc/examples/data/messi5.jpg \
        --out examples/messi5_mediapipe33.json --overlay /tmp/messi5_keypoints.png

It runs the legacy ``mediapipe.solutions.pose`` graph in static-image mode. Its pose detector and
the "full" landmark model (``model_complexity=1``) are files inside the wheel; the "heavy" (2) and
"lite" (0) models are downloaded on first use, which this tool refuses to do, so 1 is the highest
complexity that works offline.

Output JSON: ``image`` (file name), ``source`` (how it was made), ``image_size`` [w, h] in pixels,
``format`` "mediapipe33", ``keypoints`` 33 × [x_px, y_px, visibility] in MediaPipe's landmark
order (see ``smplify.keypoints``). MediaPipe's "left" is the person's own left.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
from pathlib import Path

import cv2
import mediapipe as mp
import numpy as np

# The 35 edges of MediaPipe's pose topology, by landmark index (drawn on the overlay).
_EDGES = (
    (0, 1), (1, 2), (2, 3), (3, 7), (0, 4), (4, 5), (5, 6), (6, 8), (9, 10),
    (11, 12), (11, 13), (13, 15), (15, 17), (15, 19), (15, 21), (17, 19),
    (12, 14), (14, 16), (16, 18), (16, 20), (16, 22), (18, 20),
    (11, 23), (12, 24), (23, 24), (23, 25), (24, 26), (25, 27), (26, 28),
    (27, 29), (29, 31), (27, 31), (28, 30), (30, 32), (28, 32),
)  # fmt: skip
_LEFT = {1, 2, 3, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31}
_RIGHT = {4, 5, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32}


def detect(image_bgr: np.ndarray, model_complexity: int = 1) -> np.ndarray:
    """Run MediaPipe Pose on one image.

    Parameters
    ----------
    image_bgr : (H, W, 3) uint8
        The photo, OpenCV channel order.
    model_complexity : int
        0, 1 or 2; only 1 ships inside the wheel (the others would be downloaded).

    Returns
    -------
    (33, 5) float64
        Per landmark: x, y normalised to [0, 1] by the image width and height, z (relative depth,
        MediaPipe's scale), visibility, presence.
    """
    if model_complexity != 1:
        raise ValueError(
            f"model_complexity={model_complexity}: only 1 (the 'full' model) ships in the "
            "mediapipe wheel; 0 and 2 would be downloaded, and this tool works offline"
        )
    with mp.solutions.pose.Pose(
        static_image_mode=True,
        model_complexity=model_complexity,
        enable_segmentation=False,
        min_detection_confidence=0.5,
    ) as pose:
        result = pose.process(cv2.cvtColor(image_bgr, cv2.COLOR_BGR2RGB))
    if result.pose_landmarks is None:
        raise RuntimeError("MediaPipe found no person in the image")
    return np.array(
        [[lm.x, lm.y, lm.z, lm.visibility, lm.presence] for lm in result.pose_landmarks.landmark],
        dtype=np.float64,
    )


def draw(image_bgr: np.ndarray, keypoints: np.ndarray, scale: int = 2) -> np.ndarray:
    """Overlay keypoints: the person's left in red, right in blue, centre (nose) in green.

    Parameters
    ----------
    image_bgr : (H, W, 3) uint8
    keypoints : (33, 3) float64
        x, y in pixels, visibility.
    scale : int
        Upscaling of the picture so that labels stay legible.

    Returns
    -------
    (scale·H, scale·W, 3) uint8
    """
    h, w = image_bgr.shape[:2]
    out = cv2.resize(image_bgr, (w * scale, h * scale), interpolation=cv2.INTER_CUBIC)
    pts = keypoints[:, :2] * scale

    def colour(i: int) -> tuple[int, int, int]:
        return (0, 0, 255) if i in _LEFT else (255, 0, 0) if i in _RIGHT else (0, 200, 0)

    for a, b in _EDGES:
        side = a if a in _LEFT or a in _RIGHT else b
        pa = tuple(int(round(v)) for v in pts[a])
        pb = tuple(int(round(v)) for v in pts[b])
        cv2.line(out, pa, pb, colour(side), 2, cv2.LINE_AA)
    for i, (x, y) in enumerate(pts):
        c = (int(round(x)), int(round(y)))
        cv2.circle(out, c, 4, colour(i), -1, cv2.LINE_AA)
        cv2.putText(
            out,
            str(i),
            (c[0] + 5, c[1] - 4),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.45,
            (255, 255, 255),
            1,
            cv2.LINE_AA,
        )
    cv2.putText(
        out,
        "red = person's LEFT, blue = person's RIGHT",
        (10, 24),
        cv2.FONT_HERSHEY_SIMPLEX,
        0.7,
        (255, 255, 255),
        2,
        cv2.LINE_AA,
    )
    return out


def _dump(doc: dict) -> str:
    """JSON text with one keypoint per line (readable diffs)."""
    head = {k: v for k, v in doc.items() if k != "keypoints"}
    text = json.dumps(head, indent=1)[:-2]
    rows = ",\n  ".join(json.dumps(row) for row in doc["keypoints"])
    return text + ',\n "keypoints": [\n  ' + rows + "\n ]\n}\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("image", type=Path, help="photo (JPEG/PNG)")
    parser.add_argument("--out", type=Path, required=True, help="keypoints JSON to write")
    parser.add_argument("--overlay", type=Path, help="PNG with the keypoints drawn over the photo")
    parser.add_argument("--model-complexity", type=int, default=1)
    args = parser.parse_args()

    image = cv2.imread(os.fspath(args.image), cv2.IMREAD_COLOR)
    if image is None:
        raise FileNotFoundError(f"image: cannot read {args.image}")
    h, w = image.shape[:2]
    lms = detect(image, args.model_complexity)
    keypoints = np.column_stack([lms[:, 0] * w, lms[:, 1] * h, lms[:, 3]])

    doc = {
        "image": args.image.name,
        "image_sha256": hashlib.sha256(args.image.read_bytes()).hexdigest(),
        "source": (
            f"mediapipe {mp.__version__}, mediapipe.solutions.pose.Pose(static_image_mode=True, "
            f"model_complexity={args.model_complexity}) (BlazePose 'full' landmark model from "
            "the wheel); x_px = x * width, y_px = y * height, confidence = visibility"
        ),
        "image_size": [w, h],
        "format": "mediapipe33",
        "keypoints": [
            [round(float(v), 2) for v in row[:2]] + [round(float(row[2]), 4)] for row in keypoints
        ],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(_dump(doc))
    print(f"wrote {args.out}: {len(keypoints)} keypoints, image {w}x{h}")
    for i, (x, y, v) in enumerate(keypoints):
        print(f"{i:2d} x={x:7.1f} y={y:7.1f} vis={v:.3f}")
    if args.overlay is not None:
        args.overlay.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(os.fspath(args.overlay), draw(image, keypoints))
        print(f"wrote {args.overlay}")


if __name__ == "__main__":
    main()
