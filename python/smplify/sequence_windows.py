"""The joint solve of ``smplify.fit_sequence``, over all frames or in overlapping windows.

One solve over T frames keeps two block-banded normal-equation systems of
T · (3 · 75² + 10 · 75) doubles (~33 MB for 120 frames, ~0.28 GB for 1000): a long video is
solved in windows of ``window`` frames instead, so memory stays bounded by the window:

- window 0 covers frames [0, W) with β free: the shape the video keeps;
- each next window starts ``overlap`` = W // 4 frames before the last one ended, its first
  two frames held where the window before left them (``fixed_frames``) and β held
  (``hold_betas``): their second differences join the windows smoothly, and the frames after
  them are solved again with the frames that follow in view;
- a window is widened until it holds a frame with keypoints beyond its two held frames (the
  solve needs one).

Each frame's result (pose, translation, energies, joints, keypoints) is the last window's
that solved it; the temporal energy of a window's last held frame is the earlier window's
(its triple's third frame moved since). The shared shape energy is the first window's scaled
to all observed frames ((λ_β √T_obs)² ‖β‖² is linear in T_obs).

Measured (tests/test_sequence_windows.py, exact keypoints, 72 frames, windows of 32): the
first window's frames equal the single solve's (2 mm; 12 mm since the start's path is judged
by acceleration, session 10), the later ones differ by ~2–5 cm on
single frames (2 LM steps from the start are far from converged, and which frames share a
step changes them; with detector errors either may be the better: 72 vs 81 mm PA-MPJPE on
that clip); PA-MPJPE the same within 1 mm; acceleration error up to ~1.5× the single
solve's: where a window starts, its first free frames start from the start path while the
frames before them are solved (a step 2 LM steps partly leave). Moving the unsolved frames
by the last solved frame's change removed that step but moved the later windows further from
the single solve; not kept.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _core

#: Frames a window holds at the start (the temporal rows reach two frames back).
HELD = 2


def windows(num_frames: int, window: int, observed: np.ndarray) -> list[tuple[int, int]]:
    """[a, b) of each window (module docstring); one window when ``window`` is 0 or covers
    every frame. observed (T,) bool: frames with a keypoint."""
    if window == 0 or num_frames <= window:
        return [(0, num_frames)]
    overlap = max(HELD, window // 4)
    out: list[tuple[int, int]] = []
    a = 0
    while True:
        first_free = a + (HELD if out else 0)
        b = min(a + window, num_frames)
        while b < num_frames and not observed[first_free:b].any():
            b += 1
        if out and not observed[first_free:b].any():
            # Nothing left to fit: the last frames stay where the start put them and are
            # solved with the window before (widened to the end).
            out[-1] = (out[-1][0], num_frames)
            break
        out.append((a, b))
        if b == num_frames:
            break
        a = b - overlap
    return out


def solve(core: Any, frame_xy: np.ndarray, weights: np.ndarray, focal_length: float,
          center: np.ndarray, pose: np.ndarray, betas: np.ndarray, transl: np.ndarray,
          temporal: np.ndarray, iterations: int, iterative: bool, window: int,
          keypoints_3d: np.ndarray | None, keypoints_3d_weight: float,
          initial_damping: float, retries: int = 0) -> dict[str, Any]:
    """The joint solve (``_core.fit_sequence``) over all frames, or in windows of ``window``
    frames (module docstring). frame_xy (T, K, 2), weights (T, K), pose (T, 72), betas (B,),
    transl (T, 3); keypoints_3d (T, K, 3) metres (NaN where unknown) or None, each frame's
    relative 3D term at ``keypoints_3d_weight``; ``initial_damping``: each solve's first
    Levenberg-Marquardt damping μ₀; ``retries``: its rejected steps not counted against
    ``iterations``, up to this many. Returns the core's report dict with every
    per-frame field stacked over the T frames and the counters summed over the windows."""
    num_frames, num_keypoints = weights.shape
    observed = (weights > 0).any(axis=1)
    spans = windows(num_frames, window, observed)
    pose, transl = pose.copy(), transl.copy()
    merged: dict[str, Any] = {}
    for k, (a, b) in enumerate(spans):
        report = _core.fit_sequence(
            core, np.ascontiguousarray(frame_xy[a:b].reshape(-1, 2)),
            np.ascontiguousarray(weights[a:b]), focal_length, center,
            np.ascontiguousarray(pose[a:b]), betas, np.ascontiguousarray(transl[a:b]),
            temporal, iterations, 1e-6, iterative,
            fixed_frames=list(range(HELD)) if k > 0 else [], hold_betas=k > 0,
            keypoints_3d=None if keypoints_3d is None
            else np.ascontiguousarray(keypoints_3d[a:b].reshape(-1, 3)),
            keypoints_3d_weight=keypoints_3d_weight, initial_damping=initial_damping,
            retries=retries)
        if len(spans) == 1:
            return report
        if k == 0:
            betas = np.asarray(report["betas"])
            merged = {"betas": betas, "pose": pose, "transl": transl,
                      "energies": np.zeros((num_frames, 6)),
                      "joints": np.zeros((num_frames * 24, 3)),
                      "keypoints": np.zeros((num_frames * num_keypoints, 3)),
                      "shape_energy": report["shape_energy"] / max(report["num_observed"], 1)
                      * int(observed.sum()),
                      "num_observed": int(observed.sum()), "solver": report["solver"],
                      "iterations": 0, "rejected_steps": 0, "seconds": 0.0,
                      "linear_solver_seconds": 0.0, "evaluation_seconds": 0.0,
                      "termination": report["termination"], "initial_cost": 0.0}
        own = slice(HELD if k > 0 else 0, b - a)  # the frames this window solved
        frames = slice(a + own.start, b)
        pose[frames] = report["pose"][own]
        transl[frames] = report["transl"][own]
        merged["energies"][frames] = report["energies"][own]
        merged["joints"][24 * frames.start:24 * b] = report["joints"][24 * own.start:]
        merged["keypoints"][num_keypoints * frames.start:num_keypoints * b] = \
            report["keypoints"][num_keypoints * own.start:]
        for key in ("iterations", "rejected_steps", "seconds", "linear_solver_seconds",
                    "evaluation_seconds", "initial_cost"):
            merged[key] += report[key]
        if report["termination"] == "FAILURE":
            merged["termination"] = "FAILURE"
    merged["windows"] = spans
    return merged

