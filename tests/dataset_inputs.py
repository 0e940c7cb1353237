"""A generated keypoint dataset for the ``smplify.dataset`` tests and benchmark: walking people
in .npz videos, an OpenPose folder, COCO photos and a Parquet keypoint file, with detector-like
noise, and one person-frame too sparse to fit (its row must say so)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from crowd import IMAGE_SIZE, person_points, project


def _walk(points: np.ndarray, frames: int, x0: float, z: float, rng: np.random.Generator,
          noise_px: float = 1.5) -> list[np.ndarray]:
    out = []
    for t in range(frames):
        kp = project(points, [x0 + 0.015 * t, 0.3 + 0.02 * np.sin(0.3 * t), z])
        kp[:, :2] += rng.normal(0.0, noise_px, (len(kp), 2))
        out.append(kp)
    return out


def write_dataset(root: Path, model, videos: int = 15, frames: int = 64) -> int:
    """Write the dataset under ``root``; returns its person-frame count.

    ``videos`` .npz files of ``frames`` frames with two people each; an OpenPose folder
    (20 frames, one person); a COCO results file (40 photos, one person each); a Parquet file
    of two sources (20 frames, one person). In the first video the second person's first
    frame keeps only its head (no torso to place the camera): a ``bad_keypoints`` row.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(7)
    root.mkdir(parents=True, exist_ok=True)
    coco = {"front": person_points(model, "coco17"),
            "turned": person_points(model, "coco17", yaw=0.5)}
    count = 0
    for v in range(videos):
        a = _walk(coco["front"], frames, -1.2 + 0.01 * v, 5.0, rng)
        b = _walk(coco["turned"], frames, 0.4 - 0.01 * v, 6.0, rng)
        kp = np.stack([np.stack(a), np.stack(b)], axis=1)  # (T, 2, K, 3)
        if v == 0:
            kp[0, 1, 5:, 2] = 0.0  # only the face: no torso for a cold start
        np.savez(root / f"video_{v:03d}.npz", keypoints=kp, format="coco17",
                 image_size=np.array(IMAGE_SIZE))
        count += kp.shape[0] * kp.shape[1]
    folder = root / "openpose_clip"
    folder.mkdir(exist_ok=True)
    for t, kp in enumerate(_walk(person_points(model, "openpose25"), 20, -0.5, 5.0, rng)):
        doc = {"version": 1.3, "people": [{"pose_keypoints_2d": kp.reshape(-1).tolist()}]}
        (folder / f"clip_{t:012d}_keypoints.json").write_text(json.dumps(doc))
    count += 20
    photos = _walk(coco["front"], 40, -1.0, 4.0, rng, noise_px=3.0)
    (root / "photos.json").write_text(json.dumps([
        {"image_id": 1000 + i, "category_id": 1, "score": 0.9,
         "keypoints": kp.reshape(-1).tolist()} for i, kp in enumerate(photos)]))
    count += 40
    rows = [{"source": f"cam{c}", "frame": t, "keypoints": kp.reshape(-1).tolist(),
             "format": "coco17", "image_width": IMAGE_SIZE[0], "image_height": IMAGE_SIZE[1]}
            for c in range(2) for t, kp in enumerate(_walk(coco["turned"], 20, -0.8, 5.5, rng))]
    pq.write_table(pa.Table.from_pylist(rows), root / "keypoints.parquet")
    count += len(rows)
    return count
