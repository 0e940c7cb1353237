"""CMU mocap as SMPL poses (θ with the world root orientation) for the learned initialiser.

Build-time only. Reuses the pose prior's IK (``tools/build_pose_prior.py``: per-clip betas, then
per-frame θ) on every ``FRAME_STRIDE``-th frame of each clip (120 fps → 10 fps), keeps
well-spread frames (``SPREAD_M``) and caches the result as one ``.npz`` per clip under
``~/.cache/smplify-tools/initializer_ik/`` (keyed by clip path and the IK settings), so that a
rerun of the initialiser's build reads them in a second. Held-out clips are the prior's
(``build_pose_prior.HELDOUT``).

The world frame is the mocap's as ``mocap_io`` gives it: y up, the subject's rest pose facing
+z (the SMPL body frame), so θ[:3] is the body's orientation relative to gravity.
"""

from __future__ import annotations

import hashlib
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import build_pose_prior as bpp  # noqa: E402
import mocap_io  # noqa: E402

FRAME_STRIDE = 12   # 120 fps -> 10 fps before IK (the IK is the slow part)
SPREAD_M = 0.03     # keep a frame when its root-relative joints moved this far (mean)
CACHE = Path.home() / ".cache" / "smplify-tools" / "initializer_ik"


def _cache_path(path: Path, model: Path) -> Path:
    key = f"{path.resolve()}|{model.resolve()}|{model.stat().st_size}|{FRAME_STRIDE}|{SPREAD_M}"
    return CACHE / f"{hashlib.sha1(key.encode()).hexdigest()[:16]}.npz"


def clip_poses(kind: str, path: Path, asf: Path | None, skel: bpp.Skeleton,
               model: Path) -> np.ndarray:
    """(F, 72) well-spread θ of one clip (root = world orientation), cached."""
    cache = _cache_path(path, model)
    if cache.is_file():
        with np.load(cache) as z:
            return z["theta"]
    clip = mocap_io.read_clip(kind, path, asf)
    tg = bpp.clip_targets(clip)
    frames = np.arange(0, clip.num_frames, FRAME_STRIDE)
    shape_frames = frames[np.linspace(0, len(frames) - 1, min(48, len(frames))).astype(int)]
    betas = bpp.fit_betas(tg, skel, shape_frames)
    rest = skel.joints(betas)
    theta, _, _ = bpp.solve_ik(tg, rest, frames)
    theta = theta[bpp.spread_frames(theta, rest, SPREAD_M)]
    CACHE.mkdir(parents=True, exist_ok=True)
    np.savez(cache, theta=theta)
    return theta


def mirror_theta(theta: np.ndarray) -> np.ndarray:
    """Left-right mirror (x -> -x in the world and the body) of (N, 72) θ, root included."""
    root = theta[:, :3] * np.array([1.0, -1.0, -1.0])
    return np.concatenate([root, bpp.mirror_pose(theta[:, 3:])], axis=1)


def mocap_poses(mocap: Path, model: Path, verbose: bool = True) -> dict[str, np.ndarray]:
    """{"train": (N, 72), "heldout": (M, 72)} θ from every clip, mirrors added to both."""
    skel = bpp.skeleton_from_model(model)
    out: dict[str, list[np.ndarray]] = {"train": [], "heldout": []}
    t0 = time.time()
    for kind, path, asf in mocap_io.list_clips(mocap):
        theta = clip_poses(kind, path, asf, skel, model)
        held = bpp.is_heldout(path.name, path)
        out["heldout" if held else "train"].append(theta)
        if verbose:
            print(f"  {kind:6s} {path.name:28s} {len(theta):5d} poses "
                  f"{'HELD OUT ' if held else ''}{time.time() - t0:6.0f}s", flush=True)
    result = {}
    for split, parts in out.items():
        theta = np.concatenate(parts)
        result[split] = np.concatenate([theta, mirror_theta(theta)])
    return result
