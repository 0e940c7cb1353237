"""Export a fitted sequence as motion: animated skinned glTF (.glb), BVH, and smplx .npz.

- ``save_glb``: the shaped mesh in its rest pose, the 24-joint skeleton (one node per joint,
  local translation = the fitted bone, inverse bind matrices), and one animation with a
  rotation channel per joint and a translation channel for the pelvis, one keyframe per
  frame (linear interpolation). glTF is y-up: a root node turns the camera frame (x right,
  y down, z forward) 180° about x, as ``smplify.export`` does for meshes. Skinning is
  linear blend skinning with each vertex's 4 largest weights (renormalised); pose blend
  shapes (SMPL's, not the open model's) cannot be expressed in glTF and are left out.
- ``save_bvh``: the SMPL skeleton with the fitted bone lengths (metres), y-up as above,
  channels Xposition Yposition Zposition on the pelvis and Zrotation Xrotation Yrotation
  (degrees, R = R_z R_x R_y) on every joint; end sites continue the last bone.
- ``save_npz``: the stacked parameters with smplx's SMPL keys, a batch of T frames (betas
  repeated per frame), float32, plus fps, the camera and the joints.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import numpy as np
from scipy.spatial.transform import Rotation

from .model import JOINT_NAMES, load_model

__all__ = ["save_bvh", "save_glb", "save_npz"]

#: How :func:`fill_missed` fills the 23 body joints' rotations (the root's is always slerped).
FILL_RULES = ("slerp", "linear")

#: Camera frame → glTF/BVH y-up frame: 180° about x.
_FLIP = np.diag([1.0, -1.0, -1.0])
_GLB_MAGIC, _JSON_CHUNK, _BIN_CHUNK = 0x46546C67, 0x4E4F534A, 0x004E4942
_FLOAT, _UNSIGNED_SHORT, _UNSIGNED_INT = 5126, 5123, 5125
_ARRAY_BUFFER, _ELEMENT_ARRAY_BUFFER = 34962, 34963


def fill_missed(pose: np.ndarray, transl: np.ndarray, fitted: np.ndarray,
                body: str = "slerp") -> tuple[np.ndarray, np.ndarray]:
    """A motion's frames without a fit filled between the fitted ones, held at the ends.

    The one rule for missed frames, shared by ``smplify fit --motion``'s online motion
    (``track_motion.online_motion``: a track's lost frames, up to 2 s of them) and
    ``fit_sequence``'s start (``sequence._start``: the frames between its keyframes, a few
    frames apart). The translation is linear in time; the root's rotation is slerped (the
    shortest arc between its neighbours); the 23 body joints' rotations follow ``body``:

    - ``"slerp"``: slerped as the root (each joint on its shortest arc, at constant speed): the
      motion files' rule, where a gap can be long and a joint turn far;
    - ``"linear"``: linear in each axis-angle component: fit_sequence's start, kept as main
      had it. With ``"slerp"`` there fit_sequence's held-out PA-MPJPE showed no significant
      difference: +2.3 ± 1.9 mm (1.2 s.e.; acceleration error +1.5 ± 1.6), bench_video's
      4 held-out clips × seeds 100 and 300 paired; slerp was worse on 2 of the 8 clip-seeds
      (salsa seed 300 +13.7 mm, martial seed 300 +7.0: the joint solve starts elsewhere and
      ends in another basin), better on 1 (salsa seed 100 −2.0), the other 5 within 0.05 mm
      (``results/fill_rule_sequence_start.json``). Between keyframes a few frames apart the
      two rules agree to second order in the angle a joint turns.

    Parameters
    ----------
    pose : (T, 72) axis-angle of the 24 joints (root first); rows not ``fitted`` are ignored.
    transl : (T, 3)
    fitted : (T,) bool, at least one True.
    body : one of :data:`FILL_RULES`.

    Returns
    -------
    pose (T, 72), transl (T, 3): new arrays; the fitted rows' rotations are the same rotations
    (the slerped ones through a rotation's round trip, so equal up to rounding).
    """
    from scipy.spatial.transform import Slerp

    if body not in FILL_RULES:
        raise ValueError(f"body: expected one of {FILL_RULES}, got {body!r}")
    num_frames = len(pose)
    pose, transl = np.array(pose, dtype=np.float64), np.array(transl, dtype=np.float64)
    idx = np.flatnonzero(fitted)
    if len(idx) == 0:
        raise ValueError("fitted: no fitted frame to fill from")
    frames = np.arange(num_frames)
    for c in range(3):
        transl[:, c] = np.interp(frames, idx, transl[idx, c])
    slerped = range(24) if body == "slerp" else range(1)
    if body == "linear":
        for c in range(3, 72):
            pose[:, c] = np.interp(frames, idx, pose[idx, c])
    clamped = np.clip(frames, idx[0], idx[-1])
    for j in slerped:
        rotations = Rotation.from_rotvec(pose[idx, 3 * j:3 * j + 3])
        pose[:, 3 * j:3 * j + 3] = (Slerp(idx, rotations)(clamped) if len(idx) > 1
                                    else rotations[np.zeros(num_frames, dtype=int)]).as_rotvec()
    return pose, transl


def _check(result: Any, fps: Any) -> float:
    """``fps`` as a float, once it and the sequence's parameters are checked: a motion file
    with a NaN or infinite time or value, or a photo's fit taken for T frames, is an error
    naming the argument, not a file no viewer can play (or a NumPy error)."""
    rate = np.asarray(fps) if not isinstance(fps, (bool, str)) and fps is not None else None
    if rate is None or rate.shape != () or rate.dtype.kind not in "iuf" or \
            not (np.isfinite(rate) and rate > 0):
        raise ValueError(f"fps: expected a positive number of frames per second, got {fps!r}")
    body_pose = np.asarray(result.body_pose)
    if body_pose.ndim != 2 or body_pose.shape[1] != 69 or len(body_pose) == 0:
        raise ValueError(f"result: expected a sequence's parameters, body_pose (T, 69) with "
                         f"T >= 1, got shape {body_pose.shape} (a photo's fit is one body: "
                         "smplify.export.save_mesh / save_params write it)")
    shapes = {"global_orient": (len(body_pose), 3), "transl": (len(body_pose), 3)}
    for name in ("betas", "global_orient", "body_pose", "transl"):
        value = np.asarray(getattr(result, name), dtype=np.float64)
        if name in shapes and value.shape != shapes[name]:
            raise ValueError(f"result: {name} must be {shapes[name]} for {len(body_pose)} "
                             f"frames, got {value.shape}")
        if name == "betas" and value.ndim != 1:
            raise ValueError(f"result: betas must be (B,), one shape for the sequence, got "
                             f"{value.shape}")
        if not np.all(np.isfinite(value)):
            raise ValueError(f"result: {name} must be finite, got NaN or inf")
    return float(rate)


def _rest(model: Any, result: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shaped rest vertices (N, 3), rest joints (24, 3) and parents (24,) of a result."""
    out = model(betas=result.betas)
    return out.vertices, model.rest_joints(result.betas), np.asarray(model.parents)


def _local_rotations(result: Any) -> np.ndarray:
    """(T, 24, 3, 3) local joint rotations; joint 0's includes the turn to y-up."""
    pose = np.concatenate([result.global_orient, result.body_pose], axis=1)
    mats = Rotation.from_rotvec(pose.reshape(-1, 3)).as_matrix().reshape(len(pose), 24, 3, 3)
    mats[:, 0] = _FLIP @ mats[:, 0]
    return mats


class _Buffer:
    """The BIN chunk: buffer views and accessors appended one array at a time."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.views: list[dict[str, Any]] = []
        self.accessors: list[dict[str, Any]] = []

    def add(self, array: np.ndarray, component: int, kind: str, target: int | None = None,
            bounds: bool = False) -> int:
        view = {"buffer": 0, "byteOffset": len(self.data), "byteLength": array.nbytes}
        if target is not None:
            view["target"] = target
        self.data += array.tobytes()
        self.data += b"\0" * (-len(self.data) % 4)
        self.views.append(view)
        count = array.shape[0]
        accessor = {"bufferView": len(self.views) - 1, "componentType": component,
                    "count": int(count), "type": kind}
        if bounds:
            flat = array.reshape(count, -1)
            accessor["min"] = flat.min(axis=0).tolist()
            accessor["max"] = flat.max(axis=0).tolist()
        self.accessors.append(accessor)
        return len(self.accessors) - 1


def save_glb(path: str | Path, result: Any, model: Any, fps: float = 30.0) -> Path:
    """Write a sequence as an animated, skinned glTF 2.0 binary.

    Parameters
    ----------
    path : output file (``.glb``).
    result : a :class:`smplify.SequenceResult` (betas (B,), global_orient (T, 3),
        body_pose (T, 69), transl (T, 3)).
    model : the body model it was fitted with (a BodyModel, "open" or a model file).
    fps : frames per second of the animation.

    Returns
    -------
    Path of the file written.

    Raises
    ------
    ValueError : fps not a positive number; result not T frames of finite parameters.
    """
    path, fps, model = Path(path), _check(result, fps), load_model(model)
    vertices, joints, parents = _rest(model, result)
    num_frames = len(result.body_pose)
    buf = _Buffer()
    # Bind pose: the rest pose under the root's turn to y-up, so positions are turned too.
    position = buf.add((vertices @ _FLIP).astype(np.float32), _FLOAT, "VEC3", _ARRAY_BUFFER,
                       bounds=True)
    weights = np.asarray(model.weights, dtype=np.float64)
    top = np.argsort(-weights, axis=1)[:, :4]
    top_w = np.take_along_axis(weights, top, axis=1)
    top_w /= top_w.sum(axis=1, keepdims=True)
    joints_acc = buf.add(top.astype(np.uint16), _UNSIGNED_SHORT, "VEC4", _ARRAY_BUFFER)
    weights_acc = buf.add(top_w.astype(np.float32), _FLOAT, "VEC4", _ARRAY_BUFFER)
    indices = buf.add(np.asarray(model.faces, dtype=np.uint32).reshape(-1), _UNSIGNED_INT,
                      "SCALAR", _ELEMENT_ARRAY_BUFFER)
    # Inverse bind matrices: (Flip · T(J_j))⁻¹ = T(−J_j) · Flip, column-major.
    ibm = np.tile(np.eye(4), (24, 1, 1))
    ibm[:, :3, :3] = _FLIP
    ibm[:, :3, 3] = -joints
    ibm_acc = buf.add(np.ascontiguousarray(ibm.transpose(0, 2, 1)).astype(np.float32),
                      _FLOAT, "MAT4")
    times = buf.add((np.arange(num_frames) / fps).astype(np.float32), _FLOAT, "SCALAR",
                    bounds=True)
    quats = Rotation.from_matrix(_local_rotations(result).reshape(-1, 3, 3)).as_quat()
    quats = quats.reshape(num_frames, 24, 4)
    # Consecutive quaternions on the same hemisphere, so linear interpolation takes the
    # short way.
    for t in range(1, num_frames):
        flip = np.sum(quats[t] * quats[t - 1], axis=1) < 0
        quats[t, flip] *= -1
    samplers, channels = [], []
    for j in range(24):
        out = buf.add(quats[:, j].astype(np.float32), _FLOAT, "VEC4")
        samplers.append({"input": times, "output": out, "interpolation": "LINEAR"})
        channels.append({"sampler": j, "target": {"node": j, "path": "rotation"}})
    root = (_FLIP @ (joints[0] + np.asarray(result.transl)).T).T
    out = buf.add(root.astype(np.float32), _FLOAT, "VEC3")
    samplers.append({"input": times, "output": out, "interpolation": "LINEAR"})
    channels.append({"sampler": 24, "target": {"node": 0, "path": "translation"}})

    nodes: list[dict[str, Any]] = []
    for j in range(24):
        offset = joints[j] - joints[parents[j]] if j > 0 else _FLIP @ joints[0]
        node: dict[str, Any] = {"name": JOINT_NAMES[j], "translation": offset.tolist()}
        children = [int(c) for c in np.flatnonzero(parents == j) if c != j]
        if children:
            node["children"] = children
        nodes.append(node)
    nodes.append({"name": "body", "mesh": 0, "skin": 0})
    doc = {
        "asset": {"version": "2.0", "generator": "smplify.motion"},
        "scene": 0, "scenes": [{"nodes": [0, 24]}], "nodes": nodes,
        "meshes": [{"name": "body", "primitives": [{
            "attributes": {"POSITION": position, "JOINTS_0": joints_acc,
                           "WEIGHTS_0": weights_acc},
            "indices": indices, "mode": 4}]}],
        "skins": [{"joints": list(range(24)), "inverseBindMatrices": ibm_acc, "skeleton": 0}],
        "animations": [{"name": "fit", "samplers": samplers, "channels": channels}],
        "buffers": [{"byteLength": len(buf.data)}],
        "bufferViews": buf.views, "accessors": buf.accessors,
    }
    # The root's own turn to y-up is its rotation at every frame (the animation's joint-0
    # quaternion holds Flip · R_0), so its rest rotation is the turn alone.
    nodes[0]["rotation"] = Rotation.from_matrix(_FLIP).as_quat().tolist()
    text = json.dumps(doc, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 4)
    binary = bytes(buf.data)
    total = 12 + 8 + len(text) + 8 + len(binary)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        f.write(struct.pack("<III", _GLB_MAGIC, 2, total))
        f.write(struct.pack("<II", len(text), _JSON_CHUNK) + text)
        f.write(struct.pack("<II", len(binary), _BIN_CHUNK) + binary)
    return path


def save_bvh(path: str | Path, result: Any, model: Any, fps: float = 30.0) -> Path:
    """Write a sequence as BVH motion of the SMPL skeleton with the fitted bone lengths.

    Parameters
    ----------
    path : output file (``.bvh``).
    result : a :class:`smplify.SequenceResult`.
    model : the body model it was fitted with (a BodyModel, "open" or a model file).
    fps : frames per second.

    Returns
    -------
    Path of the file written.

    Raises
    ------
    ValueError : fps not a positive number; result not T frames of finite parameters.
    """
    path, fps, model = Path(path), _check(result, fps), load_model(model)
    _, joints, parents = _rest(model, result)
    lines = ["HIERARCHY"]
    order: list[int] = []  # joints in the file's (depth-first) order, which MOTION follows

    def write(j: int, depth: int) -> None:
        order.append(j)
        pad = "  " * depth
        offset = _FLIP @ joints[0] if j == 0 else joints[j] - joints[parents[j]]
        lines.append(f"{pad}{'ROOT' if j == 0 else 'JOINT'} {JOINT_NAMES[j]}")
        lines.append(f"{pad}{{")
        lines.append(f"{pad}  OFFSET {offset[0]:.6f} {offset[1]:.6f} {offset[2]:.6f}")
        channels = "6 Xposition Yposition Zposition" if j == 0 else "3"
        lines.append(f"{pad}  CHANNELS {channels} Zrotation Xrotation Yrotation")
        children = [int(c) for c in np.flatnonzero(parents == j) if c != j]
        for c in children:
            write(c, depth + 1)
        if not children:
            end = 0.5 * (joints[j] - joints[parents[j]])
            lines.extend([f"{pad}  End Site", f"{pad}  {{",
                          f"{pad}    OFFSET {end[0]:.6f} {end[1]:.6f} {end[2]:.6f}", f"{pad}  }}"])
        lines.append(f"{pad}}}")

    write(0, 0)
    num_frames = len(result.body_pose)
    euler = Rotation.from_matrix(_local_rotations(result).reshape(-1, 3, 3)).as_euler(
        "ZXY", degrees=True).reshape(num_frames, 24, 3)[:, order].reshape(num_frames, 72)
    root = (_FLIP @ (joints[0] + np.asarray(result.transl)).T).T
    lines += ["MOTION", f"Frames: {num_frames}", f"Frame Time: {1.0 / fps:.8f}"]
    lines += [" ".join(f"{v:.6f}" for v in np.concatenate([root[t], euler[t]]))
              for t in range(num_frames)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def save_npz(path: str | Path, result: Any, fps: float = 30.0) -> Path:
    """Write the stacked parameters as smplx's SMPL layer takes them for a batch of T frames.

    Keys: betas (T, B), global_orient (T, 3), body_pose (T, 69), transl (T, 3) (float32,
    camera frame), fps (), focal_length (), camera_center (2,), joints (T, 24, 3) float32.
    A ValueError names ``fps`` or ``result`` when they are not a positive rate and T frames of
    finite parameters.
    """
    path, fps = Path(path), _check(result, fps)
    num_frames = len(result.body_pose)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, betas=np.tile(result.betas, (num_frames, 1)).astype(np.float32),
             global_orient=np.asarray(result.global_orient, dtype=np.float32),
             body_pose=np.asarray(result.body_pose, dtype=np.float32),
             transl=np.asarray(result.transl, dtype=np.float32), fps=np.float64(fps),
             focal_length=np.float64(result.camera.focal_length),
             camera_center=np.asarray(result.camera.center, dtype=np.float64),
             joints=np.asarray(result.joints, dtype=np.float32))
    return path
