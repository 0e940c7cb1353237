"""A small procedural body model in the SMPL layout, for tests.

`make_procedural_model` builds a deterministic stand-in for an SMPL file (NumPy only, a few
milliseconds): one closed tube per SMPL joint around the 24-joint T-pose skeleton (metres, y up,
facing +z, +x is the body's left), so every array has the real shapes and meanings:

    v_template (N, 3), shapedirs (N, 3, B), posedirs (N, 3, 207), J_regressor (24, N),
    weights (N, 24), kintree_table (2, 24), f (F, 3)

Construction, per joint j:
    the tube of joint j runs along an axis from J_j towards its child (or a chosen direction),
    extended past both ends and closed with poles; its radius profile is a superellipse, so the
    sides are nearly straight and the ends round. One ring of every tube sits exactly at s = 0
    (on J_j), and J_regressor row j is the uniform average of that ring, so J_regressor ·
    v_template reproduces the skeleton exactly (a convex combination of nearby vertices).
    Skinning weights are 1 on the tube's own joint, blended (at most 0.45) towards the child
    joint near the far end and towards the parent near the near end.

Shape space (B = num_betas, unit-variance coefficients; the first ten are designed, the rest
random per-tube girth changes):
    0 height (uniform scale), 1 girth (radial scale of every tube), 2 arm length, 3 leg length,
    4 belly depth, 5 shoulder width, 6 hip width, 7.. random per-tube girth.
"""

from __future__ import annotations

import numpy as np

SMPL_PARENTS = np.array(
    [-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21]
)

# Rest joints for the left side and the midline (metres); the right side mirrors x.
_JOINTS = np.array(
    [
        [0.000, -0.220, 0.020],  # 0 pelvis
        [0.070, -0.310, 0.020],  # 1 left_hip
        [-0.070, -0.310, 0.020],  # 2 right_hip
        [0.000, -0.110, 0.000],  # 3 spine1
        [0.100, -0.690, 0.010],  # 4 left_knee
        [-0.100, -0.690, 0.010],  # 5 right_knee
        [0.000, 0.020, 0.000],  # 6 spine2
        [0.090, -1.110, -0.040],  # 7 left_ankle
        [-0.090, -1.110, -0.040],  # 8 right_ankle
        [0.000, 0.070, 0.020],  # 9 spine3
        [0.120, -1.160, 0.080],  # 10 left_foot
        [-0.120, -1.160, 0.080],  # 11 right_foot
        [0.000, 0.290, -0.010],  # 12 neck
        [0.070, 0.200, -0.010],  # 13 left_collar
        [-0.070, 0.200, -0.010],  # 14 right_collar
        [0.000, 0.360, 0.030],  # 15 head
        [0.170, 0.220, -0.020],  # 16 left_shoulder
        [-0.170, 0.220, -0.020],  # 17 right_shoulder
        [0.430, 0.210, -0.040],  # 18 left_elbow
        [-0.430, 0.210, -0.040],  # 19 right_elbow
        [0.690, 0.210, -0.040],  # 20 left_wrist
        [-0.690, 0.210, -0.040],  # 21 right_wrist
        [0.770, 0.210, -0.050],  # 22 left_hand
        [-0.770, 0.210, -0.050],  # 23 right_hand
    ]
)

# Per joint: end point (None: the child joint), width direction of the cross-section,
# (width, depth) radii at start and end, extension before start and after end (metres).
_X, _Y, _Z = np.eye(3)
_TUBES: dict[int, tuple] = {
    0: ((0.0, -0.40, 0.02), _X, (0.16, 0.11), (0.14, 0.10), 0.10, 0.03),
    1: (4, _X, (0.085, 0.085), (0.055, 0.055), 0.07, 0.03),
    3: (6, _X, (0.15, 0.10), (0.15, 0.10), 0.07, 0.03),
    4: (7, _X, (0.055, 0.055), (0.04, 0.04), 0.03, 0.02),
    6: ((0.0, 0.12, 0.0), _X, (0.155, 0.10), (0.16, 0.105), 0.03, 0.02),
    7: (10, _X, (0.045, 0.045), (0.045, 0.03), 0.05, 0.02),
    9: (12, _X, (0.165, 0.11), (0.15, 0.09), 0.02, 0.01),
    10: ((0.12, -1.16, 0.16), _X, (0.045, 0.025), (0.04, 0.02), 0.02, 0.02),
    12: (15, _X, (0.055, 0.055), (0.055, 0.055), 0.03, 0.02),
    13: (16, _Z, (0.06, 0.055), (0.06, 0.055), 0.03, 0.03),
    15: ((0.0, 0.56, 0.02), _X, (0.08, 0.095), (0.07, 0.085), 0.06, 0.005),
    16: (18, _Z, (0.05, 0.05), (0.04, 0.04), 0.04, 0.02),
    18: (20, _Z, (0.04, 0.04), (0.03, 0.03), 0.02, 0.02),
    20: (22, _Z, (0.045, 0.016), (0.045, 0.015), 0.02, 0.02),
    22: ((0.86, 0.21, -0.05), _Z, (0.04, 0.012), (0.035, 0.01), 0.02, 0.01),
}
_MIRROR = {2: 1, 5: 4, 8: 7, 11: 10, 14: 13, 17: 16, 19: 18, 21: 20, 23: 22}
_ARM_JOINTS = (16, 18, 20, 22)
_LEG_JOINTS = (1, 4, 7, 10)
_RING_SPACING = 0.045  # metres between rings along a tube
_RING_POINTS = 12
_PROFILE_EXPONENT = 4.0


def _tube_spec(joint: int) -> tuple:
    """Return (start, end, width_dir, r_start, r_end, ext0, ext1) in metres for one joint."""
    mirror = joint in _MIRROR
    end, width, r0, r1, e0, e1 = _TUBES[_MIRROR.get(joint, joint)]
    start = _JOINTS[joint]
    if isinstance(end, int):
        end_point = _JOINTS[end + (1 if mirror else 0)]
    else:
        end_point = np.array(end, dtype=float)
        if mirror:
            end_point = end_point * np.array([-1.0, 1.0, 1.0])
    return start, end_point, width, np.array(r0), np.array(r1), e0, e1


def _child(joint: int) -> int | None:
    children = np.flatnonzero(SMPL_PARENTS == joint)
    return int(children[0]) if len(children) == 1 else None


def make_procedural_model(num_betas: int = 10, seed: int = 0) -> dict[str, np.ndarray]:
    """Build a deterministic SMPL-format body model made of closed tubes.

    Parameters
    ----------
    num_betas : int
        Number of shape coefficients B (>= 1). The first ten are designed directions (see the
        module docstring); further ones are random per-tube girth changes.
    seed : int
        Seed of the random parts (posedirs, the random shape directions).

    Returns
    -------
    dict of str to numpy.ndarray
        ``v_template`` (N, 3) f64 metres, ``shapedirs`` (N, 3, B) metres per unit beta,
        ``posedirs`` (N, 3, 207) small random, ``J_regressor`` (24, N) dense, rows convex,
        ``weights`` (N, 24) rows summing to 1, ``kintree_table`` (2, 24) int64 with parent -1
        for the root, ``f`` (F, 3) int64 outward-facing triangles. N is about 1500.
    """
    if int(num_betas) < 1:
        raise ValueError(f"num_betas must be >= 1, got {num_betas}")
    num_betas = int(num_betas)
    verts, faces, owner, s_along, radial, j_rows = [], [], [], [], [], []
    tube_len, tube_ext = np.zeros(24), np.zeros((24, 2))
    num = 0
    for j in range(24):
        start, end, width, r0, r1, e0, e1 = _tube_spec(j)
        axis = end - start
        length = float(np.linalg.norm(axis))
        axis /= length
        e_w = width - axis * (width @ axis)
        e_w /= np.linalg.norm(e_w)
        e_d = np.cross(axis, e_w)
        tube_len[j], tube_ext[j] = length, (e0, e1)
        total = length + e0 + e1
        count = max(3, int(round(total / _RING_SPACING)))
        s_ring = np.linspace(-e0, length + e1, count + 2)[1:-1]
        s_ring = np.sort(np.concatenate([s_ring[np.abs(s_ring) > 0.3 * _RING_SPACING], [0.0]]))
        u = (s_ring + e0) / total
        profile = (1.0 - np.abs(2.0 * u - 1.0) ** _PROFILE_EXPONENT) ** (1.0 / _PROFILE_EXPONENT)
        frac = np.clip(s_ring / length, 0.0, 1.0)[:, None]
        radii = ((1.0 - frac) * r0 + frac * r1) * profile[:, None]  # (K, 2)
        phi = np.linspace(0.0, 2.0 * np.pi, _RING_POINTS, endpoint=False)
        ring_dir = (
            np.cos(phi)[None, :, None] * e_w * radii[:, 0, None, None]
            + np.sin(phi)[None, :, None] * e_d * radii[:, 1, None, None]
        )  # (K, M, 3)
        centres = start + s_ring[:, None] * axis  # (K, 3)
        ring_verts = centres[:, None, :] + ring_dir
        poles = np.stack([start - e0 * axis, start + (length + e1) * axis])
        k, m = len(s_ring), _RING_POINTS
        verts += [ring_verts.reshape(-1, 3), poles]
        s_along += [np.repeat(s_ring, m), np.array([-e0, length + e1])]
        radial += [ring_dir.reshape(-1, 3), np.zeros((2, 3))]
        owner += [np.full(k * m + 2, j)]
        # Faces: two triangles per quad between rings, a fan at each pole.
        idx = num + np.arange(k * m).reshape(k, m)
        nxt = np.roll(idx, -1, axis=1)
        quads_a = np.stack([idx[:-1], idx[1:], nxt[1:]], axis=-1).reshape(-1, 3)
        quads_b = np.stack([idx[:-1], nxt[1:], nxt[:-1]], axis=-1).reshape(-1, 3)
        low, high = num + k * m, num + k * m + 1
        fan_low = np.stack([np.full(m, low), idx[0], nxt[0]], axis=-1)
        fan_high = np.stack([np.full(m, high), nxt[-1], idx[-1]], axis=-1)
        faces += [quads_a, quads_b, fan_low, fan_high]
        zero_ring = int(np.flatnonzero(s_ring == 0.0)[0])
        j_rows.append(idx[zero_ring])
        num += k * m + 2
    v_template = np.concatenate(verts)
    faces_arr = np.concatenate(faces)[:, ::-1].astype(np.int64)  # reversed: outward normals
    owner_arr = np.concatenate(owner)
    s_arr = np.concatenate(s_along)
    radial_arr = np.concatenate(radial)
    n = len(v_template)

    j_regressor = np.zeros((24, n))
    for j, ring in enumerate(j_rows):
        j_regressor[j, ring] = 1.0 / len(ring)

    weights = np.zeros((n, 24))
    weights[np.arange(n), owner_arr] = 1.0
    length_v, ext_v = tube_len[owner_arr], tube_ext[owner_arr]
    for v_ids, other, blend in (
        _blend_towards_child(owner_arr, s_arr, length_v, ext_v),
        _blend_towards_parent(owner_arr, s_arr, ext_v),
    ):
        weights[v_ids, owner_arr[v_ids]] -= blend
        weights[v_ids, other] += blend

    shapedirs = _shape_directions(
        v_template, owner_arr, radial_arr, num_betas, np.random.default_rng([seed, 1])
    )
    posedirs = 1e-3 * np.random.default_rng([seed, 2]).standard_normal((n, 3, 207))
    kintree = np.stack([SMPL_PARENTS, np.arange(24)]).astype(np.int64)
    return {
        "v_template": v_template,
        "shapedirs": shapedirs,
        "posedirs": posedirs,
        "J_regressor": j_regressor,
        "weights": weights,
        "kintree_table": kintree,
        "f": faces_arr,
    }


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def _blend_towards_child(owner, s, length, ext):
    child = np.full(24, -1)
    for j in range(24):
        c = _child(j)
        if c is not None and np.allclose(_tube_spec(j)[1], _JOINTS[c]):
            child[j] = c  # the tube ends on its only child joint
    t = (s - 0.75 * length) / (0.25 * length + ext[:, 1])
    ids = np.flatnonzero((child[owner] >= 0) & (t > 0))
    return ids, child[owner[ids]], 0.45 * _smoothstep(t[ids])


def _blend_towards_parent(owner, s, ext):
    parent = SMPL_PARENTS[owner]
    t = -s / np.maximum(ext[:, 0], 1e-9)
    ids = np.flatnonzero((parent >= 0) & (t > 0))
    return ids, parent[ids], 0.3 * _smoothstep(t[ids])


def _shape_directions(v, owner, radial, num_betas, rng):
    """Return shapedirs (N, 3, B): linear displacements per unit beta (metres)."""
    n = len(v)
    dirs = np.zeros((n, 3, max(num_betas, 10)))
    side = np.sign(v[:, 0])
    is_arm = np.isin(owner, _ARM_JOINTS + tuple(j + 1 for j in _ARM_JOINTS))
    is_leg = np.isin(owner, _LEG_JOINTS + tuple(j + 1 for j in _LEG_JOINTS))
    is_foot = np.isin(owner, (7, 8, 10, 11))
    is_collar = np.isin(owner, (13, 14))
    dirs[:, :, 0] = 0.05 * v  # height: uniform scale about the origin
    dirs[:, :, 1] = 0.10 * radial  # girth
    shoulder_x = _JOINTS[16, 0]
    dirs[is_arm, 0, 2] = 0.07 * (v[is_arm, 0] - side[is_arm] * shoulder_x)  # arm length
    hip_y, ankle_y = _JOINTS[1, 1], _JOINTS[7, 1]
    leg_y = np.where(is_foot, ankle_y, v[:, 1])
    dirs[is_leg, 1, 3] = 0.07 * (leg_y[is_leg] - hip_y)  # leg length
    belly = np.isin(owner, (0, 3, 6))
    dirs[belly, 2, 4] = 0.15 * np.maximum(radial[belly, 2], 0.0)  # belly depth
    collar_x = _JOINTS[13, 0]
    stretch = np.clip((np.abs(v[:, 0]) - collar_x) / (shoulder_x - collar_x), 0.0, 1.0)
    dirs[is_collar, 0, 5] = 0.03 * side[is_collar] * stretch[is_collar]  # shoulder width
    dirs[is_arm, 0, 5] = 0.03 * side[is_arm]
    dirs[is_leg, 0, 6] = 0.02 * side[is_leg]  # hip width
    dirs[owner == 0, 0, 6] = 0.12 * radial[owner == 0, 0]
    extra = dirs.shape[2] - 7
    girth = 0.04 * rng.standard_normal((extra, 24)).T  # (24, extra), prefix-stable in B
    dirs[:, :, 7:] = radial[:, :, None] * girth[owner][:, None, :]
    return dirs[:, :, :num_betas].copy()
