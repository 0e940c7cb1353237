"""Synthetic detections: random cameras and a realistic 2D detector error model.

One model of "what a single-view detector gives", shared by the initialiser's training tool
(``tools/build_initializer.py``), its tests and ``benchmarks/initializer.py``, so that the
training and every held-out figure use the same errors. Everything is batched over N cases and
drawn from a ``numpy.random.Generator`` (reproducible).

Cameras (OpenCV axes: x right, y down, z forward; principal point at the image centre): any
yaw of the person about the vertical, camera pitch ±30°, roll ±5°, distance 2–8 m, focal length
500–5,000 px (log-uniform), an image whose size frames the person at a realistic fill (the
person 35–90% of the image height), the pelvis anywhere in the middle half of the image.

Detector errors, per case:

- pixel noise, σ = 0.4–2.5% of the person's 2D size (log-uniform per case), ×1.5 at wrists,
  hands, ankles and feet, ×0.6 on the face, with a heavy tail (5% of keypoints ×4);
- dropped keypoints (confidence 0, position 0): 0–15% at random per case, a whole lower limb
  in 10% of cases, and keypoints that fall outside the image (80% of them);
- left/right swaps: the whole body's labels in 8% of cases (the classic back/front confusion),
  the two arms' or the two legs' labels in 6% of cases each;
- outliers: 3% of keypoints moved 10–50% of the person's size;
- confidences that fall with the error (a swapped or noisy keypoint tends to get a lower
  confidence, but detectors are often confidently wrong: a swap costs half what its
  displacement would).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .keypoint_box import keypoint_diagonal

__all__ = ["Cases", "Views", "body_points", "camera_rotations", "detector_3d", "detector_errors",
           "error_confidence", "facing_camera", "make_cases", "mirror_permutation", "project",
           "random_views", "render_cases", "shin_depth_order"]

_ARM = ("elbow", "wrist", "pinky", "index", "thumb", "hand")
_LEG = ("knee", "ankle", "heel", "toe", "foot")
_EXTREMITY = ("wrist", "pinky", "index", "thumb", "hand", "ankle", "heel", "toe", "foot")
_FACE = ("nose", "eye", "ear", "mouth", "head")


@dataclass(frozen=True)
class Views:
    """N random cameras. Rotations map the world (y up, SMPL body frame) to the camera."""

    rotation: np.ndarray    # (N, 3, 3) camera-from-world
    distance: np.ndarray    # (N,) metres from the camera to the pelvis along the optical axis
    focal: np.ndarray       # (N,) pixels
    image_size: np.ndarray  # (N, 2) width, height, pixels
    pelvis_px: np.ndarray   # (N, 2) where the pelvis projects, pixels


def _rot(axis: int, angle: np.ndarray) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    out = np.zeros((len(angle), 3, 3))
    i, j = [(1, 2), (0, 2), (0, 1)][axis]
    out[:, axis, axis] = 1.0
    out[:, i, i], out[:, j, j] = c, c
    sign = -1.0 if axis == 1 else 1.0  # R_y has +sin above the diagonal
    out[:, i, j], out[:, j, i] = -sign * s, sign * s
    return out


def camera_rotations(yaw: np.ndarray, pitch: np.ndarray, roll: np.ndarray) -> np.ndarray:
    """(N, 3, 3) camera-from-world: R_z(roll) R_x(pitch) R_x(π) R_y(yaw).

    World y up; R_x(π) turns it to camera y down, so a body with zero root rotation faces
    the camera at yaw 0 (global orient in the camera ≈ (π, 0, 0)). Positive pitch looks down.
    """
    flip = np.diag([1.0, -1.0, -1.0])
    return _rot(2, roll) @ _rot(0, -pitch) @ flip @ _rot(1, yaw)


def random_views(rng: np.random.Generator, n: int, person_height_m: float = 1.7) -> Views:
    """N random cameras around a person of about ``person_height_m`` (module docstring)."""
    yaw = rng.uniform(-np.pi, np.pi, n)
    pitch = rng.uniform(-np.pi / 6, np.pi / 6, n)
    roll = rng.uniform(-np.pi / 36, np.pi / 36, n)
    distance = rng.uniform(2.0, 8.0, n)
    focal = np.exp(rng.uniform(np.log(500.0), np.log(5000.0), n))
    person_px = focal * person_height_m / distance
    height = np.clip(person_px / rng.uniform(0.35, 0.9, n), 240, 8000)
    aspect = rng.choice(np.array([4 / 3, 3 / 4, 16 / 9, 9 / 16, 1.0, 3 / 2, 2 / 3]), n)
    size = np.round(np.stack([height * aspect, height], axis=1))
    pelvis = size * rng.uniform(0.25, 0.75, (n, 2))
    return Views(camera_rotations(yaw, pitch, roll), distance, focal, size, pelvis)


def project(points_world: np.ndarray, pelvis_world: np.ndarray,
            views: Views) -> tuple[np.ndarray, np.ndarray]:
    """Place and project world points (N, P, 3) relative to the pelvis (N, 3).

    Returns
    -------
    uv : (N, P, 2) pixels; transl : (N, 3) the camera-frame position of the pelvis, so that a
    point's camera coordinates are ``R (p − pelvis) + transl``.
    """
    c = views.image_size / 2.0
    ray = np.concatenate([(views.pelvis_px - c) / views.focal[:, None],
                          np.ones((len(c), 1))], axis=1)
    transl = ray * views.distance[:, None]
    cam = np.einsum("nab,npb->npa", views.rotation, points_world - pelvis_world[:, None])
    cam = cam + transl[:, None]
    z = np.maximum(cam[..., 2:], 1e-3)
    return views.focal[:, None, None] * cam[..., :2] / z + c[:, None], transl


def mirror_permutation(keypoint_names: tuple[str, ...] | list[str],
                       only: tuple[str, ...] | None = None) -> np.ndarray:
    """(K,) index of each keypoint's left/right twin (itself if none).

    ``only``: swap only keypoints whose name contains one of these words (e.g. the legs).
    """
    names = list(keypoint_names)
    perm = np.arange(len(names))
    for k, name in enumerate(names):
        if only is not None and not any(w in name for w in only):
            continue
        for a, b in (("left", "right"), ("right", "left")):
            if a in name:
                twin = name.replace(a, b)
                if twin in names:
                    perm[k] = names.index(twin)
    return perm


def _multiplier(names: list[str]) -> np.ndarray:
    return np.array([1.5 if any(w in n for w in _EXTREMITY) else
                     0.6 if any(w in n for w in _FACE) else 1.0 for n in names])


def detector_errors(uv: np.ndarray, keypoint_names: tuple[str, ...] | list[str],
                    image_size: np.ndarray, rng: np.random.Generator,
                    available: np.ndarray | None = None,
                    swaps: np.ndarray | None = None) -> np.ndarray:
    """Detector-like keypoints from true pixel positions.

    Parameters
    ----------
    uv : (N, K, 2) true keypoint positions, pixels.
    keypoint_names : the format's K keypoint names (for swaps and per-keypoint noise).
    image_size : (N, 2) width, height, pixels.
    rng : random generator.
    available : (K,) bool, keypoints the model has a point for (others always dropped).
    swaps : (N, 3) bool array, optional; filled with which swaps each case got (whole body,
        arms, legs), for scoring a swap detector. The draws are the same either way.

    Returns
    -------
    (N, K, 3) x, y, confidence; dropped keypoints are (0, 0, 0).
    """
    n, k, _ = uv.shape
    names = list(keypoint_names)
    size = keypoint_diagonal(uv)  # (N,) 2D diagonal
    out = uv.copy()
    # Swaps: the whole body, or both arms / both legs.
    for kind, (perm, p) in enumerate(((mirror_permutation(names), 0.08),
                                      (mirror_permutation(names, _ARM), 0.06),
                                      (mirror_permutation(names, _LEG), 0.06))):
        hit = rng.random(n) < p
        out[hit] = out[hit][:, perm]
        if swaps is not None:
            swaps[:, kind] = hit
    swap_err = np.linalg.norm(out - uv, axis=2) / size[:, None]
    # Noise, heavy-tailed, growing with the person's size.
    sigma = size * np.exp(rng.uniform(np.log(0.004), np.log(0.025), n))
    scale = sigma[:, None] * _multiplier(names)[None] * \
        np.where(rng.random((n, k)) < 0.05, 4.0, 1.0)
    out += rng.normal(size=(n, k, 2)) * scale[..., None]
    # Outliers.
    outlier = rng.random((n, k)) < 0.03
    angle = rng.uniform(0, 2 * np.pi, (n, k))
    radius = rng.uniform(0.1, 0.5, (n, k)) * size[:, None]
    jump = np.stack([np.cos(angle), np.sin(angle)], axis=2) * radius[..., None]
    out = np.where(outlier[..., None], out + jump, out)
    # Confidence falls with the error (swaps at half their cost).
    conf = error_confidence(np.linalg.norm(out - uv, axis=2) / size[:, None] - 0.5 * swap_err,
                            rng)
    # Dropped keypoints.
    drop = rng.random((n, k)) < rng.uniform(0.0, 0.15, n)[:, None]
    limb = rng.random(n) < 0.10
    legs = {side: np.array([side in nm and any(w in nm for w in _LEG) for nm in names])
            for side in ("left", "right")}
    lower = np.where((rng.random(n) < 0.5)[:, None], legs["left"], legs["right"])
    drop |= limb[:, None] & lower
    outside = ((out < 0) | (out > image_size[:, None])).any(axis=2)
    drop |= outside & (rng.random((n, k)) < 0.8)
    if available is not None:
        drop |= ~np.asarray(available, dtype=bool)[None]
    out = np.concatenate([out, conf[..., None]], axis=2)
    out[drop] = 0.0
    return out


def error_confidence(error: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The error model's confidences: 0.95 − 4 × error + N(0, 0.08), clipped to [0.05, 1].

    ``error`` (...) is each keypoint's displacement in units of the person's 2D size (the
    bounding box diagonal); one normal draw per keypoint from ``rng``.
    """
    return np.clip(0.95 - 4.0 * error + rng.normal(scale=0.08, size=error.shape), 0.05, 1.0)


@dataclass(frozen=True)
class Cases:
    """N rendered cases of one format: the detections and the truth in the camera frame."""

    keypoints: np.ndarray      # (N, K, 3) detections: x, y (pixels), confidence
    image_size: np.ndarray     # (N, 2)
    focal: np.ndarray          # (N,)
    rotation: np.ndarray       # (N, 3, 3) true root rotation in the camera frame
    joints: np.ndarray         # (N, 24, 3) true joints, camera axes, relative to the pelvis
    transl: np.ndarray         # (N, 3) camera-frame position of the pelvis
    body_pose: np.ndarray      # (N, 69) true body pose
    betas: np.ndarray          # (N, B) true shape
    swaps: np.ndarray | None = None  # (N, 3) bool: labels swapped for the body, arms, legs


def body_points(model: object, resolved: dict[str, object], theta: np.ndarray,
                betas: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """World keypoints {format: (N, K, 3)} of resolved formats and joints (N, 24, 3), all
    relative to the pelvis, of N bodies θ (N, 72) (root = orientation in the world) with
    shapes ``betas`` (N, B), posed by ``model`` (a BodyModel)."""
    points: dict[str, list[np.ndarray]] = {name: [] for name in resolved}
    joints = []
    for th, b in zip(theta, betas, strict=True):
        out = model(betas=b, body_pose=th[3:], global_orient=th[:3])  # type: ignore[operator]
        for name, fmt in resolved.items():
            points[name].append(fmt.keypoint_positions(out.joints, out.vertices)  # type: ignore
                                - out.joints[0])
        joints.append(out.joints - out.joints[0])
    return {name: np.asarray(p) for name, p in points.items()}, np.asarray(joints)


def make_cases(points: np.ndarray, joints: np.ndarray, theta: np.ndarray, betas: np.ndarray,
               keypoint_names: tuple[str, ...] | list[str], rng: np.random.Generator,
               available: np.ndarray | None = None) -> Cases:
    """Random views of N bodies θ (N, 72), betas (N, B) and detector-like keypoints of them.

    ``points`` (N, K, 3) and ``joints`` (N, 24, 3) are their world positions relative to the
    pelvis (``body_points``); θ[:, :3] is the root's world orientation (y up).
    """
    n = len(points)
    views = random_views(rng, n)
    zero = np.zeros((n, 3))
    uv, transl = project(np.nan_to_num(points), zero, views)
    swaps = np.zeros((n, 3), dtype=bool)
    kp = detector_errors(uv, keypoint_names, views.image_size, rng, available, swaps)
    return Cases(kp, views.image_size, views.focal, views.rotation @ _rodrigues(theta[:, :3]),
                 np.einsum("nab,njb->nja", views.rotation, joints), transl, theta[:, 3:], betas,
                 swaps)


def facing_camera(rotation: np.ndarray) -> np.ndarray:
    """(..., 3, 3) root rotations in the camera frame → whether the body's front (+z of the
    SMPL body frame) points toward the camera."""
    return rotation[..., 2, 2] < 0


def shin_depth_order(joints: np.ndarray) -> np.ndarray:
    """(..., 24, 3) camera-frame joints → (..., 2) ankle depth − knee depth, left and right
    (positive: the foot is farther from the camera than the knee)."""
    return joints[..., [7, 8], 2] - joints[..., [4, 5], 2]


def render_cases(model: object, format: str, theta: np.ndarray, betas: np.ndarray,
                 rng: np.random.Generator) -> Cases:
    """N bodies θ (N, 72) (root = orientation in the world, y up), betas (N, B), posed by the
    model, seen by random cameras through ``format``'s keypoints with detector errors."""
    from .keypoint_formats import get_format, resolve_format

    resolved = resolve_format(format, model.keypoint_names,  # type: ignore[attr-defined]
                              model.num_vertices,  # type: ignore[attr-defined]
                              model.keypoint_regressor)  # type: ignore[attr-defined]
    points, joints = body_points(model, {format: resolved}, theta, betas)
    return make_cases(points[format], joints, theta, betas, get_format(format).keypoint_names,
                      rng, resolved.available)


def _rodrigues(v: np.ndarray) -> np.ndarray:
    """(N, 3) axis-angle → (N, 3, 3)."""
    angle = np.linalg.norm(v, axis=1)[:, None, None]
    k = v / np.maximum(angle[:, 0], 1e-12)
    zero = np.zeros(len(v))
    kx = np.stack([np.stack([zero, -k[:, 2], k[:, 1]], -1), np.stack([k[:, 2], zero, -k[:, 0]], -1),
                   np.stack([-k[:, 1], k[:, 0], zero], -1)], -2)
    return np.eye(3) + np.sin(angle) * kx + (1 - np.cos(angle)) * kx @ kx


def detector_3d(model: object, format: str, cases: Cases, rng: np.random.Generator,
                noise_m: tuple[float, float, float] = (0.03, 0.03, 0.06),
                scale_range: tuple[float, float] = (0.9, 1.1)) -> np.ndarray:
    """(N, K, 3) the 3D keypoints a detector such as MediaPipe gives with ``cases``' 2D ones
    (its world landmarks): the true keypoints relative to the pelvis in camera-aligned axes,
    scaled by one factor per case (the detector's own idea of the body's size), with
    per-keypoint Gaussian noise ``noise_m`` (metres; depth, the last, is what a single view
    knows least), NaN where the 2D keypoint was dropped. An assumed model, not a measured one.
    """
    from .keypoints import resolve_format
    from .synthetic import _axis_angle

    resolved = resolve_format(format, model.keypoint_names,  # type: ignore[attr-defined]
                              model.num_vertices,  # type: ignore[attr-defined]
                              model.keypoint_regressor)  # type: ignore[attr-defined]
    out = []
    for i in range(len(cases.keypoints)):
        body = model(betas=cases.betas[i], body_pose=cases.body_pose[i],  # type: ignore
                     global_orient=_axis_angle(cases.rotation[i]))
        points = resolved.keypoint_positions(body.joints, body.vertices) - body.joints[0]
        points = rng.uniform(*scale_range) * points
        points = points + rng.normal(size=points.shape) * np.asarray(noise_m)
        points[cases.keypoints[i, :, 2] <= 0] = np.nan
        out.append(points)
    return np.asarray(out)
