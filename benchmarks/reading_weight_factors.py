"""Variants of ``reading_weight_pools.py``'s splits that swap one factor between the
single-image set and the video frames, to find which one makes λ_R (``reading_weight``) 50–150
better on video and 300 on single images.

The realistic set (``realistic.py``) draws a random root tilt (N(0, 0.1) rad per axis), random
cameras (pitch ±30°, roll ±5°, focal 500–5,000 px, 2–8 m) and ``smplify.detections``' error
model (noise 0.4–2.5% of the person's size, heavy tail, 3% outliers, 8% whole-body / 6% arm /
6% leg swaps, 0–15% drops, confidences linear in the error). The video frames
(``bench_video`` / the tuning clips) are upright mocap seen by a level camera (f = 1,200 px,
5 m) through ``synthetic_video``'s detector (noise 1%, swap bursts, one-frame limb swaps,
occlusions, sigmoid error-linked confidences, some confidently wrong). A split
``BASE+MOD[+MOD]`` (BASE ``tune`` / ``test`` / ``video-tuning``) changes:

- ``upright`` (single images): no root tilt and a level camera (pitch = roll = 0);
- ``videocam`` (single images): f = 1,200 px at 5 m (the video's camera);
- ``videoerr`` (single images): the video detector's errors (``synthetic_video``'s default
  ``DetectorErrors``, each case a frame of one long "clip") instead of the single-image ones;
- ``imageerr`` (video frames): the single-image detector errors on the true keypoints.

Every other draw is the base split's (same poses, betas, seeds), so the paired difference
to the base is the factor's.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import realistic
import smplify
from initializer import POSE_SPLITS, POSES
from smplify import detections
from smplify import synthetic_video as sv
from smplify.keypoint_formats import get_format, resolve_format

SINGLE_MODS = ("upright", "videocam", "videoerr")
VIDEO_MODS = ("imageerr",)


def parse(split: str) -> tuple[str, tuple[str, ...]]:
    """``"tune+upright"`` → (``"tune"``, (``"upright"``,)), checking the modifiers fit."""
    base, *mods = split.split("+")
    allowed = SINGLE_MODS if base in ("tune", "test") else VIDEO_MODS
    bad = [m for m in mods if m not in allowed]
    if bad or base not in ("tune", "test", "video-tuning"):
        raise ValueError(f"split: expected BASE+MOD with BASE tune/test/video-tuning and MODs "
                         f"from {allowed} for it, got {split!r}")
    return base, tuple(mods)


def _views(rng: np.random.Generator, n: int, mods: tuple[str, ...]) -> detections.Views:
    """``detections.random_views``' draws (the same ones), with ``mods`` applied."""
    yaw = rng.uniform(-np.pi, np.pi, n)
    pitch = rng.uniform(-np.pi / 6, np.pi / 6, n)
    roll = rng.uniform(-np.pi / 36, np.pi / 36, n)
    distance = rng.uniform(2.0, 8.0, n)
    focal = np.exp(rng.uniform(np.log(500.0), np.log(5000.0), n))
    if "upright" in mods:
        pitch, roll = np.zeros(n), np.zeros(n)
    if "videocam" in mods:
        distance, focal = np.full(n, 5.0), np.full(n, 1200.0)
    person_px = focal * 1.7 / distance
    height = np.clip(person_px / rng.uniform(0.35, 0.9, n), 240, 8000)
    aspect = rng.choice(np.array([4 / 3, 3 / 4, 16 / 9, 9 / 16, 1.0, 3 / 2, 2 / 3]), n)
    size = np.round(np.stack([height * aspect, height], axis=1))
    pelvis = size * rng.uniform(0.25, 0.75, (n, 2))
    return detections.Views(detections.camera_rotations(yaw, pitch, roll), distance, focal,
                            size, pelvis)


def single_cases(model: smplify.BodyModel, fmt: str, n: int, split: str,
                 mods: tuple[str, ...]) -> detections.Cases:
    """``realistic.cases(model, fmt, n, split)`` with ``mods`` (the module docstring)."""
    rng = np.random.default_rng(realistic.SEEDS[split] + realistic.ALL_FORMATS.index(fmt))
    poses = np.load(POSES)["body_pose"].astype(np.float64)[POSE_SPLITS[split]]
    pick = rng.choice(len(poses), n, replace=len(poses) < n)
    theta = np.concatenate([rng.normal(scale=0.1, size=(n, 3)), poses[pick]], axis=1)
    betas = np.clip(rng.normal(size=(n, model.num_betas)), -2.5, 2.5)
    if "upright" in mods:
        theta[:, :3] = 0.0
    resolved = resolve_format(fmt, model.keypoint_names, model.num_vertices,
                              model.keypoint_regressor)
    points, joints = detections.body_points(model, {fmt: resolved}, theta, betas)
    views = _views(rng, n, mods)
    uv, transl = detections.project(np.nan_to_num(points[fmt]), np.zeros((n, 3)), views)
    if "videoerr" in mods:
        kp = sv._detect(uv, fmt, rng, sv.DetectorErrors())[0]
        kp[:, ~resolved.available] = 0.0
    else:
        kp = detections.detector_errors(uv, get_format(fmt).keypoint_names, views.image_size,
                                        rng, resolved.available)
    return detections.Cases(kp, views.image_size, views.focal,
                            views.rotation @ detections._rodrigues(theta[:, :3]),
                            np.einsum("nab,njb->nja", views.rotation, joints), transl,
                            theta[:, 3:], betas)


def image_errors(video: sv.SyntheticVideo, fmt: str, rng: np.random.Generator
                 ) -> sv.SyntheticVideo:
    """``video`` with the single-image detector errors, drawn from ``rng``, on its true
    keypoints (``video.clean``) instead of its own detector's."""
    size = np.tile(np.asarray(video.image_size, float), (video.num_frames, 1))
    kp = detections.detector_errors(video.clean, get_format(fmt).keypoint_names, size, rng)
    return replace(video, keypoints=kp)
