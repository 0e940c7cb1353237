"""SMPL in plain NumPy (SPEC §1): shape blend, joints, Rodrigues, kinematics, skinning.

Every function broadcasts over leading batch dimensions ``...`` and works unchanged on
complex arrays, so that :mod:`smplify.reference.energy` can differentiate it by the complex
step (f'(x) = Im f(x + ih) / h). That is why nothing here calls ``abs``, ``sign``,
``np.linalg.norm`` or compares values other than through their real part.

Layout (docs/design.md): 24 joints in SMPL order, pose θ (72) = global_orient ‖ body_pose,
joint j owns θ[3j:3j+3] (axis-angle), posedirs (N, 3, 207) act on the 23 non-root
(R_j − I) flattened row by row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse

NUM_JOINTS = 24

# Below this θ² (rad²) Rodrigues uses its Taylor series: sin θ/θ and (1 − cos θ)/θ² are
# analytic in θ², but evaluating them through θ = √θ² is not at θ = 0.
_SMALL_ANGLE_SQ = 1e-6


@dataclass(frozen=True)
class BodyArrays:
    """The arrays of an SMPL-format model that the reference needs, as float64 NumPy.

    Attributes
    ----------
    v_template : (N, 3) rest mesh, metres.
    shapedirs : (N, 3, B) shape blend shapes.
    posedirs : (N, 3, 207) pose blend shapes, or None when the model has none (all zero).
    weights : (N, 24) skinning weights.
    parents : (24,) parent of each joint, −1 for the root.
    faces : (F, 3) triangles.
    J_template : (24, 3) rest joints at β = 0, J_regressor · v_template.
    J_shapedirs : (24, 3, B) J_regressor · shapedirs, so J(β) = J_template + J_shapedirs · β.
    keypoint_names : (M,) names of the model's extra surface keypoints (may be empty).
    keypoint_regressor : (M, N) their regressor over posed vertices (may be empty).
    """

    v_template: np.ndarray
    shapedirs: np.ndarray
    posedirs: np.ndarray | None
    weights: np.ndarray
    parents: np.ndarray
    faces: np.ndarray
    J_template: np.ndarray
    J_shapedirs: np.ndarray
    keypoint_names: tuple[str, ...]
    keypoint_regressor: np.ndarray

    @property
    def num_betas(self) -> int:
        """B, the number of shape coefficients."""
        return int(self.shapedirs.shape[2])

    @property
    def num_vertices(self) -> int:
        """N, the number of mesh vertices."""
        return int(self.v_template.shape[0])

    @classmethod
    def from_model(cls, model: Any) -> BodyArrays:
        """Read the arrays from a loaded model (attributes) or an SMPL ``.npz``-style dict.

        Parameters
        ----------
        model : object or mapping
            Anything with ``v_template``, ``shapedirs``, ``J_regressor``, ``weights`` and
            ``kintree_table`` or ``parents``; ``posedirs``, ``faces``/``f``,
            ``J_template``/``J_shapedirs``, ``keypoint_names``/``keypoint_regressor`` optional.
        """
        if isinstance(model, BodyArrays):
            return model

        def get(name: str, default: Any = None) -> Any:
            if isinstance(model, dict):
                return model.get(name, default)
            return getattr(model, name, default)

        missing = [n for n in ("v_template", "shapedirs", "J_regressor", "weights")
                   if get(n) is None]
        if missing:
            raise TypeError(f"model must provide SMPL arrays; missing {missing}")
        v_template = np.asarray(get("v_template"), dtype=float)
        shapedirs = np.asarray(get("shapedirs"), dtype=float)
        if shapedirs.ndim == 2:
            shapedirs = shapedirs[:, :, None]
        weights = np.asarray(get("weights"), dtype=float)
        n = v_template.shape[0]
        # A loaded BodyModel without pose blend shapes hands out a zero array (68 MB for the
        # open model) on request: don't ask it.
        posedirs = None if get("has_pose_blend_shapes", True) is False else get("posedirs")
        if posedirs is not None:
            posedirs = np.asarray(posedirs, dtype=float)
            if posedirs.size == 0 or not np.any(posedirs):
                posedirs = None
        parents = get("parents")
        if parents is None:
            parents = np.asarray(get("kintree_table"))[0].astype(np.int64).copy()
        parents = np.asarray(parents, dtype=np.int64).copy()
        parents[0] = -1
        faces = get("faces")
        if faces is None:
            faces = get("f")
        faces = np.zeros((0, 3), np.int64) if faces is None else np.asarray(faces, np.int64)
        j_template = get("J_template")
        j_shapedirs = get("J_shapedirs")
        if j_template is None or j_shapedirs is None:
            regressor = get("J_regressor")
            if scipy.sparse.issparse(regressor):
                regressor = regressor.toarray()
            regressor = np.asarray(regressor, dtype=float)
            # J_template[j, k] = Σ_n R[j, n] v_template[n, k];  J_shapedirs[j, k, b] likewise.
            j_template = regressor @ v_template
            j_shapedirs = np.einsum("jn,nkb->jkb", regressor, shapedirs)
        names = get("keypoint_names")
        names = () if names is None else tuple(str(s) for s in np.asarray(names).ravel())
        kp_regressor = get("keypoint_regressor")
        if kp_regressor is None:
            kp_regressor = np.zeros((0, n))
        if scipy.sparse.issparse(kp_regressor):
            kp_regressor = kp_regressor.toarray()
        return cls(v_template=v_template, shapedirs=shapedirs, posedirs=posedirs,
                   weights=weights, parents=parents, faces=faces,
                   J_template=np.asarray(j_template, dtype=float),
                   J_shapedirs=np.asarray(j_shapedirs, dtype=float),
                   keypoint_names=names,
                   keypoint_regressor=np.asarray(kp_regressor, dtype=float).reshape(-1, n))


def skew(v: np.ndarray) -> np.ndarray:
    """Cross-product matrices [v]_x.

    Parameters
    ----------
    v : (..., 3)

    Returns
    -------
    (..., 3, 3) with [v]_x w = v × w.
    """
    zero = np.zeros_like(v[..., 0])
    x, y, z = v[..., 0], v[..., 1], v[..., 2]
    return np.stack([np.stack([zero, -z, y], -1),
                     np.stack([z, zero, -x], -1),
                     np.stack([-y, x, zero], -1)], -2)


def rodrigues(rotvec: np.ndarray) -> np.ndarray:
    """Rotation matrices from axis-angle vectors.

    R = I + (sin θ / θ) [ω]_x + ((1 − cos θ) / θ²) [ω]_x², θ² = ω·ω, with
    (1 − cos θ) = 2 sin²(θ/2) to avoid cancellation and Taylor series below θ² = 1e-6.

    Parameters
    ----------
    rotvec : (..., 3) axis-angle, radians.

    Returns
    -------
    (..., 3, 3) rotation matrices.
    """
    rotvec = np.asarray(rotvec)
    theta_sq = np.einsum("...i,...i->...", rotvec, rotvec)  # (...), no conjugation
    small = theta_sq.real < _SMALL_ANGLE_SQ
    t2 = np.where(small, theta_sq, 0.0)
    a_series = 1.0 - t2 / 6.0 + t2 * t2 / 120.0
    b_series = 0.5 - t2 / 24.0 + t2 * t2 / 720.0
    t2_big = np.where(small, 1.0, theta_sq)
    theta = np.sqrt(t2_big)
    a = np.where(small, a_series, np.sin(theta) / theta)
    b = np.where(small, b_series, 2.0 * np.sin(0.5 * theta) ** 2 / t2_big)
    k = skew(rotvec)
    return np.eye(3) + a[..., None, None] * k + b[..., None, None] * (k @ k)


def rest_joints(body: BodyArrays, betas: np.ndarray) -> np.ndarray:
    """Shaped rest joints J(β) = J_template + J_shapedirs · β.

    Parameters
    ----------
    body : BodyArrays
    betas : (..., B)

    Returns
    -------
    (..., 24, 3) metres.
    """
    return body.J_template + np.einsum("jkb,...b->...jk", body.J_shapedirs, betas)


def forward_kinematics(rot_mats: np.ndarray, joints: np.ndarray,
                       parents: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Chain the local rotations down the kinematic tree.

    G_0 = (R_0, J_0); G_i = G_parent · (R_i, J_i − J_parent). The root rotates about its own
    rest position, so a pose leaves the root joint where J(β) puts it.

    Parameters
    ----------
    rot_mats : (..., 24, 3, 3) local rotations R_i = Rodrigues(θ_i).
    joints : (..., 24, 3) rest joints J(β).
    parents : (24,) parent indices, parents[i] < i, −1 for the root.

    Returns
    -------
    posed_joints : (..., 24, 3) joint positions p_i (before the translation γ).
    world_rot : (..., 24, 3, 3) world rotations of the joints' frames.
    """
    world = [rot_mats[..., 0, :, :]]
    posed = [joints[..., 0, :]]
    for i in range(1, len(parents)):
        p = int(parents[i])
        bone = joints[..., i, :] - joints[..., p, :]  # (..., 3)
        posed.append(posed[p] + np.einsum("...ab,...b->...a", world[p], bone))
        world.append(world[p] @ rot_mats[..., i, :, :])
    return np.stack(posed, -2), np.stack(world, -3)


@dataclass(frozen=True)
class PosedBody:
    """One evaluation of the body: what every energy term reads.

    Attributes
    ----------
    rest_joints : (..., 24, 3) J(β).
    rot_mats : (..., 24, 3, 3) local rotations.
    world_rot : (..., 24, 3, 3) world rotations R_j.
    joints : (..., 24, 3) posed joints p_j + γ, metres (camera frame when γ is the camera
        translation).
    transl : (..., 3) γ.
    """

    rest_joints: np.ndarray
    rot_mats: np.ndarray
    world_rot: np.ndarray
    joints: np.ndarray
    transl: np.ndarray


def pose_body(body: BodyArrays, pose: np.ndarray, betas: np.ndarray,
              transl: np.ndarray) -> PosedBody:
    """Rest joints, Rodrigues and forward kinematics for one (or a batch of) parameters.

    Parameters
    ----------
    body : BodyArrays
    pose : (..., 72) θ, axis-angle per joint, radians.
    betas : (..., B)
    transl : (..., 3) γ, metres.
    """
    pose = np.asarray(pose)
    # 1. Shaped rest joints: (..., 24, 3)
    joints_rest = rest_joints(body, betas)
    # 2. Local rotations: (..., 24, 3, 3)
    rot_mats = rodrigues(pose.reshape(pose.shape[:-1] + (NUM_JOINTS, 3)))
    # 3. Forward kinematics: (..., 24, 3), (..., 24, 3, 3)
    posed, world_rot = forward_kinematics(rot_mats, joints_rest, body.parents)
    transl = np.asarray(transl)
    return PosedBody(rest_joints=joints_rest, rot_mats=rot_mats, world_rot=world_rot,
                     joints=posed + transl[..., None, :], transl=transl)


def skin_vertices(body: BodyArrays, posed: PosedBody, betas: np.ndarray,
                  vertex_ids: np.ndarray | None = None) -> np.ndarray:
    """Linear blend skinning of all or of selected vertices.

    Parameters
    ----------
    body : BodyArrays
    posed : PosedBody of the same parameters.
    betas : (..., B)
    vertex_ids : (V,) int or None for all N vertices.

    Returns
    -------
    (..., V, 3) posed vertices plus γ, metres.
    """
    ids = np.arange(body.num_vertices) if vertex_ids is None else np.asarray(vertex_ids)
    # 1. Shape blend: v_shaped[v, k] = v_template[v, k] + Σ_b shapedirs[v, k, b] β_b
    #    (..., V, 3)
    v_shaped = body.v_template[ids] + np.einsum("vkb,...b->...vk", body.shapedirs[ids], betas)
    # 2. Pose blend: pose_feature (..., 207) = (R_j − I), j = 1..23, flattened row by row
    if body.posedirs is not None:
        pose_feature = (posed.rot_mats[..., 1:, :, :] - np.eye(3))
        pose_feature = pose_feature.reshape(pose_feature.shape[:-3] + (207,))
        v_posed = v_shaped + np.einsum("vkp,...p->...vk", body.posedirs[ids], pose_feature)
    else:
        v_posed = v_shaped
    # 3. Rigid transforms with the rest offset removed: A_j x = R_j (x − J_j) + p_j
    #    rotation (..., 24, 3, 3), translation (..., 24, 3)
    posed_root = posed.joints - posed.transl[..., None, :]
    a_trans = posed_root - np.einsum("...jab,...jb->...ja", posed.world_rot, posed.rest_joints)
    # 4. Blend: T_v = Σ_j w_vj A_j   (..., V, 3, 3), (..., V, 3)
    t_rot = np.einsum("vj,...jab->...vab", body.weights[ids], posed.world_rot)
    t_trans = np.einsum("vj,...ja->...va", body.weights[ids], a_trans)
    # 5. Skin: v = T_rot v_posed + T_trans + γ   (..., V, 3)
    return (np.einsum("...vab,...vb->...va", t_rot, v_posed) + t_trans
            + posed.transl[..., None, :])


@dataclass(frozen=True)
class SurfaceBlend:
    """Posed surface keypoints x_k = Σ_v c_kv · (posed vertex v), skinning folded into c.

    Linear blend skinning is linear in each joint's transform, so for a fixed regressor c
    (K × N, sparse rows) the sums over vertices can be done once:

        x_k = Σ_v c_kv [Σ_j w_vj (R_j v̄_v + t_j) + γ],   v̄_v = v_template_v + S_v β + P_v f(θ)
            = Σ_j R_j (rest_kj + shape_kj · β + pose_kj · f(θ)) + Σ_j skin_kj t_j + (Σ_v c_kv) γ

    with t_j = p_j − R_j J_j (as in :func:`skin_vertices`), skin_kj = Σ_v c_kv w_vj,
    rest_kj = Σ_v c_kv w_vj v_template_v, shape_kj = Σ_v c_kv w_vj S_v, pose_kj = Σ_v c_kv w_vj P_v.
    Same numbers as skinning the vertices and applying c (tests check it), without skinning
    thousands of vertices per evaluation.

    Attributes
    ----------
    skin : (K, 24).  rest : (K, 24, 3).  shape : (K, 24, 3, B).
    pose : (K, 24, 3, 207) or None.  total : (K,) Σ_v c_kv.
    """

    skin: np.ndarray
    rest: np.ndarray
    shape: np.ndarray
    pose: np.ndarray | None
    total: np.ndarray

    @classmethod
    def build(cls, body: BodyArrays, vertex_ids: np.ndarray,
              vertex_weights: np.ndarray) -> SurfaceBlend:
        """Fold skinning into the regressor rows (K, V) ids / (K, V) weights (zero-padded)."""
        ids = np.asarray(vertex_ids)
        c = np.asarray(vertex_weights, dtype=float)
        # cw[k, v, j] = c_kv w_vj   (K, V, 24)
        cw = c[:, :, None] * body.weights[ids]
        pose = None
        if body.posedirs is not None:
            pose = np.einsum("kvj,kvap->kjap", cw, body.posedirs[ids])
        return cls(skin=cw.sum(axis=1),
                   rest=np.einsum("kvj,kva->kja", cw, body.v_template[ids]),
                   shape=np.einsum("kvj,kvab->kjab", cw, body.shapedirs[ids]),
                   pose=pose, total=c.sum(axis=1))

    def points(self, posed: PosedBody, betas: np.ndarray) -> np.ndarray:
        """Posed keypoints (..., K, 3), metres, for the parameters of ``posed``."""
        # local[..., k, j, a] = rest + shape · β (+ pose · f(θ))
        local = self.rest + np.einsum("kjab,...b->...kja", self.shape, betas)
        if self.pose is not None:
            feature = posed.rot_mats[..., 1:, :, :] - np.eye(3)
            feature = feature.reshape(feature.shape[:-3] + (207,))
            local = local + np.einsum("kjap,...p->...kja", self.pose, feature)
        posed_root = posed.joints - posed.transl[..., None, :]
        t = posed_root - np.einsum("...jab,...jb->...ja", posed.world_rot, posed.rest_joints)
        return (np.einsum("...jab,...kjb->...ka", posed.world_rot, local)
                + np.einsum("kj,...ja->...ka", self.skin, t)
                + self.total[:, None] * posed.transl[..., None, :])


def model_output(body: BodyArrays, pose: np.ndarray, betas: np.ndarray,
                 transl: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Posed joints and the full posed mesh for single (unbatched) parameters.

    Parameters
    ----------
    body : BodyArrays
    pose : (72,) θ, radians.
    betas : (B,)
    transl : (3,) metres.

    Returns
    -------
    joints : (24, 3) metres.
    vertices : (N, 3) metres.
    """
    posed = pose_body(body, pose, betas, transl)
    return posed.joints, skin_vertices(body, posed, betas)
