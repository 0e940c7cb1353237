"""Generated multi-person keypoint sequences: the open model walking across a camera's view.

Used by the front-end tests (sources, tracking, pipeline, CLI) to write OpenPose folders, COCO
files and .npz inputs with several people per frame, people entering and leaving.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from smplify.keypoints import resolve_format

IMAGE_SIZE = (640, 480)
FOCAL = 800.0


def person_points(model, format: str, yaw: float = 0.0) -> np.ndarray:
    """(K, 3) keypoints of the open model standing upright at the origin (camera axes)."""
    from scipy.spatial.transform import Rotation

    orient = (Rotation.from_rotvec([np.pi, 0.0, 0.0]) * Rotation.from_rotvec([0.0, yaw, 0.0]))
    out = model(global_orient=orient.as_rotvec())
    resolved = resolve_format(format, model.keypoint_names, model.num_vertices,
                              model.keypoint_regressor)
    return resolved.keypoint_positions(out.joints, out.vertices)


def project(points: np.ndarray, transl) -> np.ndarray:
    """(K, 3) image keypoints (confidence 1, 0 where the model has no such point) of
    ``points`` moved by ``transl`` (camera frame, metres)."""
    moved = points + np.asarray(transl, dtype=float)
    uv = FOCAL * moved[:, :2] / moved[:, 2:] + np.array(IMAGE_SIZE) / 2.0
    ok = np.isfinite(uv).all(axis=1)
    kp = np.zeros((len(uv), 3))
    kp[ok, :2], kp[ok, 2] = uv[ok], 1.0
    return kp


def person_keypoints(model, format: str, transl, yaw: float = 0.0) -> np.ndarray:
    """(K, 3) keypoints of the open model standing upright at ``transl`` (camera frame)."""
    return project(person_points(model, format, yaw), transl)


# Person "walker" crosses the whole sequence left to right; "visitor" is there in frames 2-4
# only; both at 5 m, 1.2 m apart in x.
SCHEDULE = {"walker": range(0, 6), "visitor": range(2, 5)}


def crowd(model, format: str, frames: int = 6) -> list[dict[str, np.ndarray]]:
    """Per frame: name -> (K, 3) keypoints of the people in view."""
    seq = []
    for t in range(frames):
        people = {}
        if t in SCHEDULE["walker"]:
            people["walker"] = person_keypoints(model, format, [-1.0 + 0.08 * t, 0.3, 5.0])
        if t in SCHEDULE["visitor"]:
            people["visitor"] = person_keypoints(model, format, [0.6 - 0.05 * t, 0.3, 5.5],
                                                 yaw=0.4)
        seq.append(people)
    return seq


def write_openpose_folder(folder: Path, seq: list[dict[str, np.ndarray]]) -> Path:
    """One ``<name>_<t>_keypoints.json`` per frame, people listed in a shuffled order."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for t, people in enumerate(seq):
        names = list(people)
        rng.shuffle(names)
        doc = {"version": 1.3, "people": [
            {"person_id": [-1], "pose_keypoints_2d": people[n].reshape(-1).tolist()}
            for n in names]}
        (folder / f"clip_{t:012d}_keypoints.json").write_text(json.dumps(doc))
    return folder


def write_coco_results(path: Path, seq: list[dict[str, np.ndarray]],
                       first_image_id: int = 0, score: float = 1.0) -> Path:
    """The sequence as a COCO keypoint-results JSON (one entry per person and frame)."""
    path.write_text(json.dumps([{"image_id": first_image_id + t, "category_id": 1,
                                 "score": score, "keypoints": kp.reshape(-1).tolist()}
                                for t, people in enumerate(seq) for kp in people.values()]))
    return path


def write_npz(path: Path, seq: list[dict[str, np.ndarray]], format: str) -> Path:
    """The sequence as smplify's .npz input: keypoints (T, P, K, 3), format, image_size."""
    num_people = max(len(people) for people in seq)
    num_keypoints = len(next(iter(seq[0].values())))
    arr = np.zeros((len(seq), num_people, num_keypoints, 3))
    for t, people in enumerate(seq):
        for p, kp in enumerate(people.values()):
            arr[t, p] = kp
    np.savez(path, keypoints=arr, format=format, image_size=np.array(IMAGE_SIZE))
    return path
