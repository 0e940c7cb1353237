"""The steps of the offline capsule fit: its least-squares problem and Levenberg–Marquardt
updates (driven by `smplify.capsules.fit.fit_capsule_regressor`, which describes the method)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .parts import JOINT_TO_PART, NUM_PARTS, PART_JOINTS, PART_NAMES

_P = {name: i for i, name in enumerate(PART_NAMES)}

# Axis choice per part. Limbs, neck, collars, hands and feet run from their joint towards the
# child joint (start = 0: A sits near the joint). Pelvis and the three spine parts lie left to
# right across the body and are centred on the part (start = −0.5), as SMPLify's torso
# capsules: the torso is wider than deep, so a horizontal capsule of radius ≈ half the depth
# and length ≈ width − depth covers it, where a vertical one would need the half-width as
# radius and bulge out in front and behind. The head runs along the neck → head bone (roughly
# vertical, the head's longest extent), centred.
_CHILD_JOINT = {1: 4, 2: 5, 4: 7, 5: 8, 7: 10, 8: 11, 12: 15, 13: 16, 14: 17, 16: 18, 17: 19,
                18: 20, 19: 21, 20: 22, 21: 23}
_LEFT_RIGHT_PARTS = (_P["pelvis"], _P["spine1"], _P["spine2"], _P["spine3"])
_CENTRED_START = -0.5
_MIN_RADIUS = 2e-3  # metres, floor for the per-shape fits
_MIN_LENGTH = 0.0
_HUBER_DELTA = 0.01  # metres, Huber threshold of the capsule → mesh distance


def _vertex_areas(v: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """(N,) a third of the area of every triangle around each vertex, m²."""
    tri = v[faces]
    area = 0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1)
    return np.bincount(faces.ravel(), np.repeat(area / 3.0, 3), minlength=len(v))


def _orthonormal_frame(axis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(…, 3) unit vectors e1, e2 completing unit ``axis`` to a right-handed frame."""
    helper = np.zeros_like(axis)
    idx = np.argmin(np.abs(axis), axis=-1)
    np.put_along_axis(helper, idx[..., None], 1.0, axis=-1)
    e1 = np.cross(axis, helper)
    e1 /= np.linalg.norm(e1, axis=-1, keepdims=True)
    return e1, np.cross(axis, e1)


def _rotate(vectors: np.ndarray, rotvec: np.ndarray) -> np.ndarray:
    """Rotate (K, 3) ``vectors`` by (K, 3) axis-angle ``rotvec`` (Rodrigues)."""
    angle = np.linalg.norm(rotvec, axis=1, keepdims=True)
    k = rotvec / np.maximum(angle, 1e-12)
    cos, sin = np.cos(angle), np.sin(angle)
    kv = np.sum(k * vectors, axis=1, keepdims=True)
    return vectors * cos + np.cross(k, vectors) * sin + k * kv * (1.0 - cos)


# ---------------------------------------------------------------------------------------------
# The fit
# ---------------------------------------------------------------------------------------------


def _surface_template(rings: int = 4, around: int = 8) -> dict[str, np.ndarray]:
    """Points on a capsule in its own coordinates, P = base + (start + t) l a + r n.

    n = c_a · a + c_1 · e1 + c_2 · e2. Region 0: the cap at A (t = 0), 1: the cylinder,
    2: the cap at B (t = 1).
    """
    phi = np.linspace(0.0, 2.0 * np.pi, around, endpoint=False)
    t, ca, c1, c2, region = [], [], [], [], []
    for tt in np.linspace(0.0, 1.0, rings):
        t += [np.full(around, tt)]
        ca += [np.zeros(around)]
        c1 += [np.cos(phi)]
        c2 += [np.sin(phi)]
        region += [np.ones(around, dtype=int)]
    for cap, tt, sign in ((0, 0.0, -1.0), (2, 1.0, 1.0)):
        for polar in (np.pi / 6.0, np.pi / 3.0):
            t += [np.full(around, tt)]
            ca += [np.full(around, sign * np.cos(polar))]
            c1 += [np.sin(polar) * np.cos(phi + polar)]
            c2 += [np.sin(polar) * np.sin(phi + polar)]
            region += [np.full(around, cap)]
        t += [[tt]]
        ca += [[sign]]
        c1 += [[0.0]]
        c2 += [[0.0]]
        region += [[cap]]
    return {key: np.concatenate(value).astype(float if key != "region" else int)
            for key, value in (("t", t), ("ca", ca), ("c1", c1), ("c2", c2),
                               ("region", region))}


@dataclass
class _Geometry:
    """Per-part geometry shared by all shapes: offset (20, 3), axis (20, 3), start (20,);
    e1 (20, 3) a unit vector normal to the axis that turns with it (with e2 = axis × e1 it
    places the surface template points); left_right (3,) the body's left-right direction
    (right hip → left hip at β = 0)."""

    offset: np.ndarray
    axis: np.ndarray
    start: np.ndarray
    e1: np.ndarray
    left_right: np.ndarray

    @property
    def e2(self) -> np.ndarray:
        return np.cross(self.axis, self.e1)

    def moved(self, shift: np.ndarray, rotvec: np.ndarray) -> _Geometry:
        """The geometry with offsets + ``shift`` (20, 3), frames turned by ``rotvec`` (20, 3)."""
        axis, e1 = _rotate(self.axis, rotvec), _rotate(self.e1, rotvec)
        axis /= np.linalg.norm(axis, axis=1, keepdims=True)
        e1 -= axis * np.sum(e1 * axis, axis=1, keepdims=True)
        e1 /= np.linalg.norm(e1, axis=1, keepdims=True)
        return _Geometry(self.offset + shift, axis, self.start, e1, self.left_right)

    def where(self, mask: np.ndarray, other: _Geometry) -> _Geometry:
        """Per part: this geometry where ``mask`` (20,), else ``other``."""
        m = mask[:, None]
        return _Geometry(np.where(m, self.offset, other.offset), np.where(m, self.axis, other.axis),
                         self.start, np.where(m, self.e1, other.e1), self.left_right)


class _Hold(NamedTuple):
    """What a few LM steps hold fixed: nearest vertex (G·K,) and weight (G·K,) per point."""

    nearest: np.ndarray
    weight: np.ndarray


class _Problem:
    """Sampled shapes of one model, split into (shape, part) groups, g = s · 20 + p."""

    GAP = 1.0e3  # metres between groups in the k-d tree's 4th coordinate

    def __init__(self, v_template, shapedirs, J_regressor, weights, faces, betas,
                 max_vertices_per_part, rng):
        self.betas = betas  # (S, B)
        s = len(betas)
        part = JOINT_TO_PART[np.argmax(weights, axis=1)]  # (N,)
        area = _vertex_areas(v_template, faces)
        keep = []
        for p in range(NUM_PARTS):
            ids = np.flatnonzero(part == p)
            if len(ids) == 0:
                raise ValueError(f"weights: no vertex has part {PART_NAMES[p]!r} as its "
                                 "dominant skinning part")
            if len(ids) > max_vertices_per_part:
                ids = np.sort(rng.choice(ids, max_vertices_per_part, replace=False))
            keep.append(ids)
        keep = np.concatenate(keep)
        self.part_of_vertex = part[keep]  # (M,)
        # J(β) = J_regressor · v(β), linear in β.
        j_template = J_regressor @ v_template  # (24, 3)
        j_shapedirs = np.einsum("jn,nkb->jkb", J_regressor, shapedirs)  # (24, 3, B)
        self.joints = j_template[None] + np.einsum("jkb,sb->sjk", j_shapedirs, betas)
        # Targets of the capsule → mesh distance: the kept vertices and the centroids of (a
        # subset of) each part's triangles, so that a coarse mesh does not quantise it.
        face_part = part[faces]
        inner = np.flatnonzero(np.all(face_part == face_part[:, :1], axis=1))
        chosen = []
        for p in range(NUM_PARTS):
            ids = inner[face_part[inner, 0] == p]
            if len(ids) > 2 * max_vertices_per_part:
                ids = np.sort(rng.choice(ids, 2 * max_vertices_per_part, replace=False))
            chosen.append(ids)
        tri = faces[np.concatenate(chosen)]  # (T, 3)
        used = np.unique(np.concatenate([keep, tri.ravel()]))
        local = np.full(len(v_template), -1)
        local[used] = np.arange(len(used))
        shaped = v_template[used][None] + np.einsum("nkb,sb->snk", shapedirs[used], betas)
        self.points = shaped[:, local[keep]].reshape(-1, 3)  # (S·M, 3)
        centroids = shaped[:, local[tri]].mean(axis=2)  # (S, T, 3)
        w = area[keep] + 1e-12
        w /= np.bincount(self.part_of_vertex, w, minlength=NUM_PARTS)[self.part_of_vertex]
        self.vertex_weight = np.tile(w, s)  # sums to 1 per group
        self.vertex_group = (np.arange(s)[:, None] * NUM_PARTS + self.part_of_vertex).ravel()
        self.num_groups = s * NUM_PARTS
        self.group_part = np.tile(np.arange(NUM_PARTS), s)
        self.group_sample = np.repeat(np.arange(s), NUM_PARTS)
        tri_group = (np.arange(s)[:, None] * NUM_PARTS + part[tri[:, 0]][None, :]).ravel()
        self.targets = np.concatenate([self.points, centroids.reshape(-1, 3)])
        target_group = np.concatenate([self.vertex_group, tri_group])
        from scipy.spatial import cKDTree  # only a capsule fit needs it (import ~0.1 s)

        self.tree = cKDTree(np.concatenate([self.targets, self.GAP * target_group[:, None]], 1))
        self.template = _surface_template()
        k = len(self.template["t"])
        self.point_group = np.repeat(np.arange(self.num_groups), k)  # (G·K,)
        self.point_t = np.tile(self.template["t"], self.num_groups)

    def base(self, geom: _Geometry) -> np.ndarray:
        """(G, 3) reference point J_joint + offset of every group."""
        p = self.group_part
        return self.joints[self.group_sample, PART_JOINTS[p]] + geom.offset[p]

    def surface_points(self, geom: _Geometry, r: np.ndarray, l: np.ndarray):
        """Template points on every group's capsule: (G·K, 3) points, (G·K, 3) unit n."""
        p = self.group_part
        axis, start, e1, e2 = geom.axis[p], geom.start[p], geom.e1[p], geom.e2[p]
        t = self.template
        normal_dir = (t["ca"][None, :, None] * axis[:, None] + t["c1"][None, :, None] * e1[:, None]
                      + t["c2"][None, :, None] * e2[:, None])  # (G, K, 3)
        along = (start[:, None] + t["t"][None]) * l[:, None]  # (G, K)
        pts = (self.base(geom)[:, None] + along[..., None] * axis[:, None]
               + r[:, None, None] * normal_dir)
        return pts.reshape(-1, 3), normal_dir.reshape(-1, 3)

    def correspond(self, geom: _Geometry, r: np.ndarray, l: np.ndarray) -> _Hold:
        """Capsule → mesh correspondences and template point weights at (geom, r, l).

        For each template point (G·K) the nearest target (vertex or triangle centroid) of the
        same shape and part; and
        its weight, the area its point stands for over the capsule's area (cylinder 2πrl,
        caps 2πr² each). The fit holds both while it takes a few steps (ICP style).
        """
        pts, _ = self.surface_points(geom, r, l)
        query = np.concatenate([pts, self.GAP * self.point_group[:, None]], axis=1)
        nearest = self.tree.query(query)[1]
        region = self.template["region"]
        cyl = 2.0 * np.pi * r * np.maximum(l, 0.0)
        cap = 2.0 * np.pi * r**2
        region_area = np.stack([cap, cyl, cap], axis=1) / np.bincount(region, minlength=3)
        weight = region_area[:, region] / (cyl + 2.0 * cap)[:, None]  # (G, K), rows sum to 1
        return _Hold(nearest, weight.ravel())

    def evaluate(self, geom: _Geometry, r: np.ndarray, l: np.ndarray, hold: _Hold,
                 jacobian: bool):
        """Residual rows of both terms of E for all groups, with ``hold`` (`correspond`).

        Returns (res (R,), w (R,), group (R,), jac (R, 7) or None); the Jacobian columns are
        ∂/∂(r, l, offset_x, offset_y, offset_z, ω_1, ω_2) with ω a rotation of the capsule
        about its reference point, about e1 and e2 of the axis frame.
        """
        p = self.group_part
        axis, start = geom.axis[p], geom.start[p]  # (G, 3), (G,)
        base = self.base(geom)
        # Mesh → capsule: d = ‖v − c‖ − r, c the closest point of the segment.
        g = self.vertex_group
        x = self.points
        axis_g, start_g, l_g = axis[g], start[g], l[g]
        rel_a = x - base[g] - (start_g * l_g)[:, None] * axis_g
        tau = np.clip(np.einsum("ij,ij->i", rel_a, axis_g) / np.maximum(l_g, 1e-9), 0.0, 1.0)
        diff = rel_a - (tau * l_g)[:, None] * axis_g  # x − c
        dist = np.maximum(np.linalg.norm(diff, axis=1), 1e-12)
        res_v = dist - r[g]
        # Capsule → mesh: ‖P − q‖ (robust), q = the part vertex nearest P.
        pts, normal_dir = self.surface_points(geom, r, l)
        gap = pts - self.targets[hold.nearest]
        dist_p = np.maximum(np.linalg.norm(gap, axis=1), 1e-12)
        toward = gap / dist_p[:, None]  # ∂‖P − q‖/∂P
        # Huber on ‖P − q‖: ρ(d) = d² up to δ, 2δd − δ² beyond; the row is √ρ(d), whose
        # derivative is ρ'(d) / (2√ρ(d)) = δ / √ρ(d) beyond δ. Capsule surface that cannot
        # reach the part (the caps inside the body where two parts meet) then pulls linearly.
        far = dist_p > _HUBER_DELTA
        res_p = np.where(far, np.sqrt(np.maximum(2 * _HUBER_DELTA * dist_p - _HUBER_DELTA**2,
                                                 0.0)), dist_p)
        slope = np.where(far, _HUBER_DELTA / np.maximum(res_p, 1e-12), 1.0)
        res = np.concatenate([res_v, res_p])
        w = np.concatenate([self.vertex_weight, hold.weight])
        group = np.concatenate([g, self.point_group])
        if not jacobian:
            return res, w, group, None
        e1, e2 = geom.e1[p], geom.e2[p]
        u = diff / dist[:, None]
        rel = x - diff - base[g]  # c − base
        jac_v = np.empty((len(res_v), 7))
        jac_v[:, 0] = -1.0
        jac_v[:, 1] = -np.einsum("ij,ij->i", u, axis_g) * (start_g + tau)
        jac_v[:, 2:5] = -u
        rel_x_u = np.cross(rel, u)
        jac_v[:, 5] = -np.einsum("ij,ij->i", e1[g], rel_x_u)
        jac_v[:, 6] = -np.einsum("ij,ij->i", e2[g], rel_x_u)
        gk = self.point_group
        jac_p = np.empty((len(res_p), 7))
        jac_p[:, 0] = np.einsum("ij,ij->i", toward, normal_dir)
        jac_p[:, 1] = (start[gk] + self.point_t) * np.einsum("ij,ij->i", toward, axis[gk])
        jac_p[:, 2:5] = toward
        rel_p_x_t = np.cross(pts - base[gk], toward)
        jac_p[:, 5] = np.einsum("ij,ij->i", e1[gk], rel_p_x_t)
        jac_p[:, 6] = np.einsum("ij,ij->i", e2[gk], rel_p_x_t)
        jac_p *= slope[:, None]
        return res, w, group, np.concatenate([jac_v, jac_p])

    def group_cost(self, geom, r, l, hold: _Hold | None = None) -> np.ndarray:
        """(G,) E of every group (correspondences and weights recomputed unless held)."""
        if hold is None:
            hold = self.correspond(geom, r, l)
        res, w, group, _ = self.evaluate(geom, r, l, hold, jacobian=False)
        return np.bincount(group, w * res**2, minlength=self.num_groups)


def _normal_equations(jac, res, w, ids, num):
    """Per-id Gauss-Newton systems: H (num, k, k) = Σ w JᵀJ, grad (num, k) = Σ w J r."""
    k = jac.shape[1]
    hess = np.empty((num, k, k))
    for i in range(k):
        for j in range(i, k):
            hess[:, i, j] = hess[:, j, i] = np.bincount(ids, w * jac[:, i] * jac[:, j], num)
    grad = np.stack([np.bincount(ids, w * jac[:, i] * res, num) for i in range(k)], axis=1)
    return hess, grad


def _damped_step(hess, grad, lam):
    diag = np.einsum("gii->gi", hess)
    # Levenberg–Marquardt scaling; a column that is identically zero (a frozen direction)
    # gets a unit diagonal so the system stays solvable and its step is zero.
    damp = lam[:, None] * (diag + 1e-9) + (diag == 0.0)
    damped = hess + damp[:, :, None] * np.eye(hess.shape[1])
    return -np.linalg.solve(damped, grad[..., None])[..., 0]


def _refine_shapes(prob: _Problem, geom: _Geometry, r, l, iterations: int):
    """LM on every group's (r, l) with the shared geometry held."""
    lam = np.full(prob.num_groups, 1e-3)
    hold = prob.correspond(geom, r, l)
    for _ in range(iterations):
        res, w, group, jac = prob.evaluate(geom, r, l, hold, jacobian=True)
        cost = np.bincount(group, w * res**2, minlength=prob.num_groups)
        hess, grad = _normal_equations(jac[:, :2], res, w, group, prob.num_groups)
        step = _damped_step(hess, grad, lam)
        r_new = np.maximum(r + step[:, 0], _MIN_RADIUS)
        l_new = np.maximum(l + step[:, 1], _MIN_LENGTH)
        better = prob.group_cost(geom, r_new, l_new, hold) < cost
        r, l = np.where(better, r_new, r), np.where(better, l_new, l)
        lam = np.where(better, lam * 0.3, lam * 10.0)
    return r, l


def _rotation_basis(geom: _Geometry) -> np.ndarray:
    """(20, 2, 3) axes about which each part's capsule may turn (zero rows: frozen).

    Limbs turn freely (two directions normal to their axis). The midline parts keep the
    body's left-right mirror symmetry: the left-right torso capsules do not turn at all, the
    neck and head only pitch about the left-right direction. The collars keep the bone's
    direction: their parts are small patches on top of the shoulders (a few dozen vertices in
    the open model), too little surface to orient a capsule by.
    """
    basis = np.stack([geom.e1, geom.e2], axis=1)
    basis[list(_LEFT_RIGHT_PARTS) + [_P["left_collar"], _P["right_collar"]]] = 0.0
    for p in (_P["neck"], _P["head"]):
        pitch = geom.left_right - geom.axis[p] * (geom.left_right @ geom.axis[p])
        basis[p] = [pitch / max(np.linalg.norm(pitch), 1e-12), np.zeros(3)]
    return basis


def _refine_geometry(prob: _Problem, geom: _Geometry, r, l, iterations: int) -> _Geometry:
    """LM on every part's (offset, axis rotation) over all shapes with (r, l) held."""
    lam = np.full(NUM_PARTS, 1e-3)
    part_of = prob.group_part
    hold = prob.correspond(geom, r, l)
    for _ in range(iterations):
        res, w, group, jac = prob.evaluate(geom, r, l, hold, jacobian=True)
        part = part_of[group]
        cost = np.bincount(part, w * res**2, minlength=NUM_PARTS)
        # Columns 5, 6 turn about e1, e2; a turn about k ⊥ axis is (k·e1, k·e2) of them.
        basis = _rotation_basis(geom)
        mix = np.stack([basis @ geom.e1[:, :, None], basis @ geom.e2[:, :, None]], axis=2)
        jac_rot = np.einsum("rc,rkc->rk", jac[:, 5:7], mix[part, :, :, 0])
        hess, grad = _normal_equations(np.concatenate([jac[:, 2:5], jac_rot], axis=1), res, w,
                                       part, NUM_PARTS)
        step = _damped_step(hess, grad, lam)
        trial = geom.moved(step[:, :3], np.einsum("pk,pkc->pc", step[:, 3:], basis))
        new_cost = np.bincount(part_of, prob.group_cost(trial, r, l, hold), NUM_PARTS)
        better = new_cost < cost
        geom = trial.where(better, geom)
        lam = np.where(better, lam * 0.3, lam * 10.0)
    return geom


_MIRROR_PAIRS = tuple((i, PART_NAMES.index("right_" + name[5:]))
                      for i, name in enumerate(PART_NAMES) if name.startswith("left_"))
_MIDLINE_PARTS = tuple(i for i, name in enumerate(PART_NAMES)
                       if not name.startswith(("left_", "right_")))


def _symmetrise(geom: _Geometry) -> _Geometry:
    """Make the shared geometry mirror-symmetric about the body's midplane.

    The mirror is the reflection M v = v − 2 (v·n) n with n the left-right direction. Each
    left part and the mirror image of its right part are averaged (axis, offset) and the right
    part gets the mirror image of the result; midline parts lose the left-right component of
    their offset. The per-part fits of two mirrored parts differ only by noise (random vertex
    subsets, ill-determined turns of short capsules); left and right capsules should not.
    """
    n = geom.left_right

    def mirror(v: np.ndarray) -> np.ndarray:
        return v - 2.0 * np.outer(v @ n, n) if v.ndim == 2 else v - 2.0 * (v @ n) * n

    offset, axis, e1 = geom.offset.copy(), geom.axis.copy(), geom.e1.copy()
    for left, right in _MIRROR_PAIRS:
        a = axis[left] + mirror(axis[right])
        axis[left] = a / np.linalg.norm(a)
        offset[left] = 0.5 * (offset[left] + mirror(offset[right]))
        e1[left] = e1[left] - axis[left] * (e1[left] @ axis[left])
        e1[left] /= np.linalg.norm(e1[left])
        axis[right], offset[right], e1[right] = (mirror(axis[left]), mirror(offset[left]),
                                                 mirror(e1[left]))
    mid = list(_MIDLINE_PARTS)
    offset[mid] -= np.outer(offset[mid] @ n, n)
    return _Geometry(offset, axis, geom.start, e1, geom.left_right)


def _initial_geometry(prob: _Problem) -> tuple[_Geometry, np.ndarray, np.ndarray]:
    """Axes along the bones (torso left-right, head neck → head), radius and length guesses.

    Returns the geometry and per-group (r, l) from the β = 0 shape (sample 0).
    """
    joints = prob.joints[0]
    axis = np.zeros((NUM_PARTS, 3))
    start = np.zeros(NUM_PARTS)
    offset = np.zeros((NUM_PARTS, 3))
    left_right = joints[1] - joints[2]
    left_right = left_right / np.linalg.norm(left_right) if np.linalg.norm(left_right) > 0 else (
        np.array([1.0, 0.0, 0.0]))
    m = len(prob.part_of_vertex)
    pts0, w0 = prob.points[:m], prob.vertex_weight[:m]
    r0 = np.zeros(NUM_PARTS)
    l0 = np.zeros(NUM_PARTS)
    for p in range(NUM_PARTS):
        j = PART_JOINTS[p]
        sel = prob.part_of_vertex == p
        pts, w = pts0[sel], w0[sel]
        if p in _LEFT_RIGHT_PARTS:
            axis[p], start[p] = left_right, _CENTRED_START
        elif p == _P["head"]:
            axis[p], start[p] = joints[15] - joints[12], _CENTRED_START
        else:
            axis[p] = joints[_CHILD_JOINT[j]] - joints[j]
        norm = np.linalg.norm(axis[p])
        axis[p] = axis[p] / norm if norm > 1e-9 else np.array([0.0, 1.0, 0.0])
        if start[p] != 0.0:
            offset[p] = (w @ pts) / w.sum() - joints[j]
        rel = pts - joints[j] - offset[p]
        s = rel @ axis[p]
        radial = np.linalg.norm(rel - s[:, None] * axis[p], axis=1)
        r0[p] = max(float(np.median(radial)), 0.01)
        if start[p] == 0.0:
            l0[p] = max(float(np.percentile(s, 95)) - r0[p], 0.01)
        else:
            l0[p] = max(2.0 * (float(np.percentile(np.abs(s), 95)) - r0[p]), 0.01)
    geom = _Geometry(offset, axis, start, _orthonormal_frame(axis)[0], left_right)
    return geom, r0[prob.group_part], l0[prob.group_part]


# LM iterations: pass 1 per-shape start; pass 1 rounds; iterations per block and round;
# pass 2 geometry; pass 2 per-shape. Each block holds its correspondences (one k-d tree query).
