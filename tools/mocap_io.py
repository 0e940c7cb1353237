"""Readers for the three CMU mocap formats in ``../shared/data/mocap`` (build-time only).

Every reader returns a :class:`Clip`: named world points (metres) and named world bone
rotations per frame, in one frame convention for all sources — y up, the subject's rest
pose facing +z with its left side on +x (the SMPL frame) — plus the same quantities for the
source's reference T-pose. The first frame of the exp-map and Daz BVH files is a synthetic
T-pose / reference frame (see the data README) and is dropped from the motion.

Point names (not every source has every point): pelvis, spine_low, chest, neck, head,
head_end, leye, reye, and with l/r prefixes hip, knee, ankle, toe, toe_end, collar, shoulder,
elbow, wrist, finger_end, thumb_end, index1, pinky1. Bone rotations are keyed by the SMPL
joint index (0..23) whose rotation they correspond to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ASF_UNIT_M = 0.0254 / 0.45  # CMU ASF length unit: 1/0.45 inch


@dataclass
class Clip:
    name: str
    source: str
    points: dict[str, np.ndarray]      # name -> (F, 3) metres
    rots: dict[int, np.ndarray]        # SMPL joint -> (F, 3, 3) world rotation of the bone
    ref_points: dict[str, np.ndarray]  # name -> (3,) in the reference T-pose
    ref_rots: dict[int, np.ndarray]    # SMPL joint -> (3, 3) in the reference T-pose

    @property
    def num_frames(self) -> int:
        return next(iter(self.points.values())).shape[0]

    def take(self, frames: np.ndarray) -> Clip:
        return Clip(self.name, self.source, {k: v[frames] for k, v in self.points.items()},
                    {k: v[frames] for k, v in self.rots.items()}, self.ref_points,
                    self.ref_rots)


def _rot_axis(axis: str, angle: np.ndarray) -> np.ndarray:
    """(..., 3, 3) rotation by ``angle`` (radians) about x, y or z."""
    c, s = np.cos(angle), np.sin(angle)
    one, zero = np.ones_like(angle), np.zeros_like(angle)
    if axis == "x":
        rows = [[one, zero, zero], [zero, c, -s], [zero, s, c]]
    elif axis == "y":
        rows = [[c, zero, s], [zero, one, zero], [-s, zero, c]]
    else:
        rows = [[c, -s, zero], [s, c, zero], [zero, zero, one]]
    return np.stack([np.stack(r, axis=-1) for r in rows], axis=-2)


def rodrigues(v: np.ndarray) -> np.ndarray:
    """(..., 3) axis-angle -> (..., 3, 3) rotation matrix."""
    v = np.asarray(v, dtype=float)
    angle = np.linalg.norm(v, axis=-1, keepdims=True)
    small = angle < 1e-12
    axis = v / np.where(small, 1.0, angle)
    x, y, z = axis[..., 0], axis[..., 1], axis[..., 2]
    zero = np.zeros_like(x)
    k = np.stack([np.stack([zero, -z, y], -1), np.stack([z, zero, -x], -1),
                  np.stack([-y, x, zero], -1)], -2)
    a = angle[..., None]
    r = np.eye(3) + np.sin(a) * k + (1 - np.cos(a)) * (k @ k)
    return np.where(small[..., None], np.eye(3), r)


# ---------------------------------------------------------------- exp-map text files
# joint (1-based) -> (parent, offset in ASF units), from the README's skeleton table.
_EXPMAP_SKELETON = [
    (0, (0, 0, 0)), (1, (0, 0, 0)), (2, (1.65674, -1.80282, 0.62477)),
    (3, (2.59720, -7.13576, 0)), (4, (2.49236, -6.84770, 0)), (5, (0.19704, -0.54136, 2.14581)),
    (6, (0, 0, 1.11249)), (1, (0, 0, 0)), (8, (-1.61070, -1.80282, 0.62476)),
    (9, (-2.59502, -7.12977, 0)), (10, (-2.46780, -6.78024, 0)),
    (11, (-0.23024, -0.63258, 2.13368)), (12, (0, 0, 1.11569)), (1, (0, 0, 0)),
    (14, (0.01961, 2.05450, -0.14112)), (15, (0.01021, 2.06436, -0.05921)), (16, (0, 0, 0)),
    (17, (0.00713, 1.56711, 0.14968)), (18, (0.03429, 1.56041, -0.10006)),
    (19, (0.01305, 1.62560, -0.05265)), (16, (0, 0, 0)), (21, (3.54205, 0.90436, -0.17364)),
    (22, (4.86513, 0, 0)), (23, (3.35554, 0, 0)), (24, (0, 0, 0)), (25, (0.66117, 0, 0)),
    (26, (0.53306, 0, 0)), (24, (0, 0, 0)), (28, (0.54120, 0, 0.54120)), (16, (0, 0, 0)),
    (30, (-3.49802, 0.75994, -0.32616)), (31, (-5.02649, 0, 0)), (32, (-3.36431, 0, 0)),
    (33, (0, 0, 0)), (34, (-0.73041, 0, 0)), (35, (-0.58887, 0, 0)), (33, (0, 0, 0)),
    (37, (-0.59786, 0, 0.59786)),
]
_EXPMAP_POINTS = {
    "pelvis": 1, "lhip": 3, "lknee": 4, "lankle": 5, "ltoe": 6, "ltoe_end": 7,
    "rhip": 9, "rknee": 10, "rankle": 11, "rtoe": 12, "rtoe_end": 13,
    "spine_low": 15, "chest": 16, "neck": 18, "head": 19, "head_end": 20,
    "lshoulder": 22, "lelbow": 23, "lwrist": 24, "lfinger_end": 27, "lthumb_end": 29,
    "rshoulder": 31, "relbow": 32, "rwrist": 33, "rfinger_end": 36, "rthumb_end": 38,
}
_EXPMAP_ROTS = {0: 1, 1: 3, 2: 9, 3: 15, 4: 4, 5: 10, 6: 16, 7: 5, 8: 11, 9: 17, 10: 6, 11: 12,
                12: 18, 13: 21, 14: 30, 15: 19, 16: 22, 17: 31, 18: 23, 19: 32, 20: 24, 21: 33,
                22: 25, 23: 34}


def _expmap_fk(data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(F, 117) rows -> world rotations (F, 38, 3, 3), positions (F, 38, 3) in metres."""
    n = len(_EXPMAP_SKELETON)
    f = data.shape[0]
    # The converter's row-vector FK composes R_local(child)·R_parent, i.e. in column form the
    # world rotation is R_parent · Rodrigues(e)ᵀ.
    local = np.swapaxes(rodrigues(data[:, 3:].reshape(f, n, 3)), -1, -2)
    world_r = np.empty((f, n, 3, 3))
    world_p = np.empty((f, n, 3))
    for j, (parent, offset) in enumerate(_EXPMAP_SKELETON):
        if parent == 0:
            world_r[:, j] = local[:, j]
            world_p[:, j] = data[:, :3] * ASF_UNIT_M
        else:
            p = parent - 1
            world_r[:, j] = world_r[:, p] @ local[:, j]
            world_p[:, j] = world_p[:, p] + world_r[:, p] @ (np.array(offset) * ASF_UNIT_M)
    return world_r, world_p


def read_expmap(path: Path) -> Clip:
    data = np.loadtxt(path, delimiter=",", ndmin=2)
    rots, pos = _expmap_fk(data)
    pts = {k: pos[:, j - 1] for k, j in _EXPMAP_POINTS.items()}
    rr = {s: rots[:, j - 1] for s, j in _EXPMAP_ROTS.items()}
    # Row 0 is Hahne's added T-pose: the reference; the motion starts at row 1.
    ref_pts = {k: v[0] for k, v in pts.items()}
    ref_rots = {k: v[0] for k, v in rr.items()}
    return Clip(f"{path.parent.name}/{path.stem}", "expmap",
                {k: v[1:] for k, v in pts.items()}, {k: v[1:] for k, v in rr.items()},
                ref_pts, ref_rots)


# ---------------------------------------------------------------- BVH (Daz cgspeed)
def _parse_bvh(path: Path) -> tuple[list[str], list[int], np.ndarray, list[list[str]],
                                    np.ndarray, dict[str, tuple[int, np.ndarray]]]:
    tokens = path.read_text().split()
    names: list[str] = []
    parents: list[int] = []
    offsets: list[list[float]] = []
    channels: list[list[str]] = []
    ends: dict[str, tuple[int, np.ndarray]] = {}
    stack: list[int] = []
    i = 0
    pending_end = False
    while tokens[i] != "MOTION":
        t = tokens[i]
        if t in ("ROOT", "JOINT"):
            names.append(tokens[i + 1])
            parents.append(stack[-1] if stack else -1)
            offsets.append([0.0, 0.0, 0.0])
            channels.append([])
            i += 2
        elif t == "End":
            pending_end = True
            i += 2
        elif t == "{":
            stack.append(-2 if pending_end else len(names) - 1)
            i += 1
        elif t == "}":
            stack.pop()
            pending_end = False
            i += 1
        elif t == "OFFSET":
            off = [float(x) for x in tokens[i + 1:i + 4]]
            if pending_end:
                owner = stack[-2]
                ends[f"{names[owner]}_end"] = (owner, np.array(off))
            else:
                offsets[-1] = off
            i += 4
        elif t == "CHANNELS":
            k = int(tokens[i + 1])
            channels[-1] = tokens[i + 2:i + 2 + k]
            i += 2 + k
        else:
            i += 1
    nframes = int(tokens[i + 2])
    start = i + 6  # MOTION Frames: N Frame Time: dt
    values = np.array(tokens[start:], dtype=float).reshape(nframes, -1)
    return names, parents, np.array(offsets), channels, values, ends


_DAZ_POINTS = {
    "pelvis": "hip", "spine_low": "abdomen", "chest": "chest", "neck": "neck", "head": "head",
    "leye": "leftEye", "reye": "rightEye",
    "lhip": "lThigh", "lknee": "lShin", "lankle": "lFoot", "ltoe_end": "lFoot_end",
    "rhip": "rThigh", "rknee": "rShin", "rankle": "rFoot", "rtoe_end": "rFoot_end",
    "lcollar": "lCollar", "lshoulder": "lShldr", "lelbow": "lForeArm", "lwrist": "lHand",
    "lindex1": "lIndex1", "lpinky1": "lPinky1", "lfinger_end": "lMid2_end",
    "rcollar": "rCollar", "rshoulder": "rShldr", "relbow": "rForeArm", "rwrist": "rHand",
    "rindex1": "rIndex1", "rpinky1": "rPinky1", "rfinger_end": "rMid2_end",
}
_DAZ_ROTS = {0: "hip", 1: "lThigh", 2: "rThigh", 3: "abdomen", 4: "lShin", 5: "rShin",
             6: "chest", 7: "lFoot", 8: "rFoot", 9: "chest", 10: "lFoot", 11: "rFoot",
             12: "neck", 13: "lCollar", 14: "rCollar", 15: "head", 16: "lShldr", 17: "rShldr",
             18: "lForeArm", 19: "rForeArm", 20: "lHand", 21: "rHand", 22: "lHand",
             23: "rHand"}


def read_bvh(path: Path) -> Clip:
    names, parents, offsets, channels, values, ends = _parse_bvh(path)
    f = values.shape[0]
    n = len(names)
    world_r = np.empty((f + 1, n, 3, 3))
    world_p = np.empty((f + 1, n, 3))
    col = 0
    scale = 0.01  # centimetres
    for j in range(n):
        local = np.broadcast_to(np.eye(3), (f, 3, 3)).copy()
        root_pos = np.zeros((f, 3))
        for ch in channels[j]:
            v = values[:, col]
            col += 1
            if ch.endswith("position"):
                root_pos[:, "XYZ".index(ch[0])] = v * scale
            else:  # channels listed left to right compose as R = R1 · R2 · R3
                local = local @ _rot_axis(ch[0].lower(), np.deg2rad(v))
        # index 0 is the zero-rotation rest pose (the skeleton's T-pose), 1.. the frames
        local = np.concatenate([np.eye(3)[None], local])
        root_pos = np.concatenate([np.zeros((1, 3)), root_pos])
        if parents[j] < 0:
            world_r[:, j] = local
            world_p[:, j] = root_pos + offsets[j] * scale
        else:
            p = parents[j]
            world_r[:, j] = world_r[:, p] @ local
            world_p[:, j] = world_p[:, p] + world_r[:, p] @ (offsets[j] * scale)
    index = {nm: j for j, nm in enumerate(names)}
    pts: dict[str, np.ndarray] = {}
    for key, nm in _DAZ_POINTS.items():
        if nm in index:
            pts[key] = world_p[:, index[nm]]
        else:
            owner, off = ends[nm]
            pts[key] = world_p[:, owner] + world_r[:, owner] @ (off * scale)
    rr = {s: world_r[:, index[nm]] for s, nm in _DAZ_ROTS.items()}
    # Motion frame 1 is a reference pose, not capture: drop it (slot 0 is the rest pose).
    return Clip(f"{path.parent.name}/{path.stem}", "bvh",
                {k: v[2:] for k, v in pts.items()}, {k: v[2:] for k, v in rr.items()},
                {k: v[0] for k, v in pts.items()}, {k: v[0] for k, v in rr.items()})


# ---------------------------------------------------------------- ASF / AMC
def _euler_xyz(deg: np.ndarray) -> np.ndarray:
    """Acclaim 'XYZ' order: x applied first, R = Rz · Ry · Rx; deg (..., 3)."""
    r = np.deg2rad(deg)
    return _rot_axis("z", r[..., 2]) @ _rot_axis("y", r[..., 1]) @ _rot_axis("x", r[..., 0])


def _parse_asf(path: Path) -> tuple[dict, dict[str, list[str]]]:
    text = path.read_text()
    bones: dict[str, dict] = {}
    for block in re.findall(r"begin(.*?)end", text.split(":bonedata")[1].split(":hierarchy")[0],
                            re.S):
        info: dict = {"dof": []}
        for line in block.strip().splitlines():
            parts = line.split()
            if not parts:
                continue
            if parts[0] == "name":
                info["name"] = parts[1]
            elif parts[0] == "direction":
                info["direction"] = np.array(parts[1:4], dtype=float)
            elif parts[0] == "length":
                info["length"] = float(parts[1])
            elif parts[0] == "axis":
                info["axis"] = np.array(parts[1:4], dtype=float)
            elif parts[0] == "dof":
                info["dof"] = parts[1:]
        bones[info["name"]] = info
    children: dict[str, list[str]] = {}
    hier = text.split(":hierarchy")[1]
    hier = hier[hier.index("begin") + 5:hier.rindex("end")]
    for line in hier.strip().splitlines():
        parts = line.split()
        if parts:
            children[parts[0]] = parts[1:]
    return bones, children


def _parse_amc(path: Path) -> list[dict[str, np.ndarray]]:
    frames: list[dict[str, np.ndarray]] = []
    for line in path.read_text().splitlines():
        parts = line.split()
        if not parts or line.startswith(("#", ":")):
            continue
        if len(parts) == 1 and parts[0].isdigit():
            frames.append({})
        else:
            frames[-1][parts[0]] = np.array(parts[1:], dtype=float)
    return frames


_ASF_POINTS = {
    "pelvis": "root", "lhip": "lhipjoint", "lknee": "lfemur", "lankle": "ltibia",
    "ltoe": "lfoot", "ltoe_end": "ltoes", "rhip": "rhipjoint", "rknee": "rfemur",
    "rankle": "rtibia", "rtoe": "rfoot", "rtoe_end": "rtoes", "spine_low": "lowerback",
    "chest": "upperback", "neck": "lowerneck", "head": "upperneck", "head_end": "head",
    "lshoulder": "lclavicle", "lelbow": "lhumerus", "lwrist": "lradius",
    "lfinger_end": "lfingers", "lthumb_end": "lthumb", "rshoulder": "rclavicle",
    "relbow": "rhumerus", "rwrist": "rradius", "rfinger_end": "rfingers",
    "rthumb_end": "rthumb",
}  # each bone's END point (root: its position)
_ASF_ROTS = {0: "root", 1: "lfemur", 2: "rfemur", 3: "lowerback", 4: "ltibia", 5: "rtibia",
             6: "upperback", 7: "lfoot", 8: "rfoot", 9: "thorax", 10: "ltoes", 11: "rtoes",
             12: "upperneck", 13: "lclavicle", 14: "rclavicle", 15: "head", 16: "lhumerus",
             17: "rhumerus", 18: "lradius", 19: "rradius", 20: "lhand", 21: "rhand",
             22: "lfingers", 23: "rfingers"}


def read_asf_amc(asf: Path, amc: Path) -> Clip:
    bones, children = _parse_asf(asf)
    frames = _parse_amc(amc)
    f = len(frames) + 1  # slot 0: the zero pose (the ASF rest pose) as reference
    world_r: dict[str, np.ndarray] = {}
    end_p: dict[str, np.ndarray] = {}
    root = np.stack([np.zeros(6)] + [fr["root"] for fr in frames])
    world_r["root"] = _euler_xyz(root[:, 3:6])
    end_p["root"] = root[:, :3] * ASF_UNIT_M
    order = ["root"]
    while order:
        parent = order.pop(0)
        for child in children.get(parent, []):
            b = bones[child]
            c = _euler_xyz(b["axis"])
            dof = np.zeros((f, 3))
            for fi, fr in enumerate(frames, start=1):
                if child in fr:
                    for d, v in zip(b["dof"], fr[child], strict=True):
                        dof[fi, "xyz".index(d[1])] = v
            motion = _euler_xyz(dof)
            world_r[child] = world_r[parent] @ c @ motion @ c.T
            end_p[child] = end_p[parent] + world_r[child] @ (b["direction"] * b["length"]
                                                             * ASF_UNIT_M)
            order.append(child)
    pts = {k: end_p[nm] for k, nm in _ASF_POINTS.items()}
    rr = {s: world_r[nm] for s, nm in _ASF_ROTS.items()}
    return Clip(f"{amc.parent.name}/{amc.stem}", "asf",
                {k: v[1:] for k, v in pts.items()}, {k: v[1:] for k, v in rr.items()},
                {k: v[0] for k, v in pts.items()}, {k: v[0] for k, v in rr.items()})


def list_clips(root: Path) -> list[tuple[str, Path, Path | None]]:
    """All motion files as (kind, path, asf_or_None), sorted for determinism."""
    out: list[tuple[str, Path, Path | None]] = []
    for p in sorted((root / "cmu_expmap_motion_prediction").glob("*/*/*.txt")):
        out.append(("expmap", p, None))
    for p in sorted((root / "cmu_daz_bvh_acrnn").glob("*/*.bvh")):
        out.append(("bvh", p, None))
    for p in sorted((root / "cmu_asfamc").glob("*/*/*.amc")):
        asf = next(p.parent.glob("*.asf"))
        out.append(("asf", p, asf))
    return out


def read_clip(kind: str, path: Path, asf: Path | None) -> Clip:
    if kind == "expmap":
        return read_expmap(path)
    if kind == "bvh":
        return read_bvh(path)
    assert asf is not None
    return read_asf_amc(asf, path)
