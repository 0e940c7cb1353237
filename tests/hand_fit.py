"""A stand-in for ``smplify.fit`` in CLI and demo tests: a FitResult built by hand.

It poses the given model upright and facing the camera, projects it, and scores the given
keypoints against the projected joints, so the CLI's and the demo's own work (reading,
writing, rendering, reporting) can be tested without the solver.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from smplify import Camera, FitResult


class HandFit:
    """Callable with ``smplify.fit``'s signature; remembers the calls it got."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __call__(self, keypoints: Any, *, format: str, image_size: tuple[int, int],
                 focal_length: float | None = None, model: Any = None,
                 **options: Any) -> FitResult:
        start = time.perf_counter()
        self.calls.append({"keypoints": np.asarray(keypoints), "format": format,
                           "image_size": tuple(image_size), "focal_length": focal_length,
                           "model": model, "options": options})
        w, h = image_size
        f = 5000.0 if focal_length is None else float(focal_length)
        camera = Camera(focal_length=f, center=np.array([w / 2.0, h / 2.0]))
        global_orient = np.array([np.pi, 0.0, 0.0])  # upright, facing the camera
        rest = model(global_orient=global_orient)
        height = np.ptp(rest.vertices[:, 1])
        transl = np.array([0.0, 0.0, f * height / (0.8 * h)])  # 80 % of the image height
        out = model(global_orient=global_orient, transl=transl)
        kp = np.asarray(keypoints, dtype=np.float64)
        keypoints_3d = np.full((len(kp), 3), np.nan)
        n = min(len(kp), 24)
        keypoints_3d[:n] = out.joints[:n]
        keypoints_2d = camera.project(keypoints_3d)
        conf = kp[:n, 2] if kp.shape[1] == 3 else np.ones(n)
        data = float(np.sum(conf[:, None] * (keypoints_2d[:n] - kp[:n, :2]) ** 2))
        energy = {"data": data, "pose": 0.0, "angle": 0.0, "shape": 0.0,
                  "interpenetration": 0.0, "total": data}
        summary = {"orientation": "initial", "sideways": False, "tried": {"initial": data},
                   "seconds": time.perf_counter() - start, "implementation": "hand"}
        return FitResult(betas=np.zeros(model.num_betas), global_orient=global_orient,
                         body_pose=np.zeros(69), transl=transl, camera=camera,
                         joints=out.joints, vertices=out.vertices, faces=model.faces,
                         keypoints_3d=keypoints_3d, keypoints_2d=keypoints_2d, energy=energy,
                         summary=summary)
