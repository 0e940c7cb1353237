"""SMPLify in PyTorch, fitted the way PyTorch ports do it: a benchmark baseline, not a library.

The same fit as ``smplify.fit(..., multi_start=False)`` and ``smplify.reference.fit``: the same
:class:`smplify.problem.FitProblem` (``build_problem``: validated keypoints, weights, resolved
targets, camera, prior, capsule spheres), the same five energy terms written as in
``smplify/reference/energy.py`` (docs/design.md), the same stage weights, the same camera
initialisation (ported, see below) and orientation test. What differs is the solver, as in
smplify-x and its descendants: every stage minimises the scalar energy over (θ, β, γ) with
``torch.optim.LBFGS(line_search_fn="strong_wolfe")`` and gradients from autograd, run in
"steps" of ``LBFGS_STEP_ITERATIONS`` iterations until the relative decrease of the energy over
one step falls to ``options.function_tolerance`` (smplify-x's ``FittingMonitor``).

Body model: ``surface="mesh"`` (default) runs the smplx-style forward pass at every energy
evaluation (shape blend shapes, joints regressed from the shaped mesh, pose blend shapes,
forward kinematics as a loop over the joints, linear blend skinning of every vertex) and reads
surface keypoints off the posed mesh, as the PyTorch ports do. ``surface="sparse"`` skins only
the vertices the keypoints use and takes the rest joints from the precomputed
J(β) = J_template + J_shapedirs·β: a leaner PyTorch port, same numbers.

Energy, as docs/design.md defines it (E = Σ of squared residual rows; λ multiplies rows):

- E_J = Σ_i Σ_{u,v} (w_i ρ(π(X_i) − x̂_i))², ρ(e) = σ e / √(σ² + e²), σ = ``data_sigma`` px;
  X_i a posed joint + γ, or Σ_v c_iv (posed vertex v + γ) for a surface keypoint.
- E_a = Σ (λ_a · 10 · exp(s_i θ[i]))², (i, s) = (55, +), (58, −), (12, −), (15, −).
- E_θ = λ_θ² min_k (½ ‖L_kᵀ (θ[3:] − μ_k)‖² − log c_k), the max-mixture GMM (the gradient
  flows through the chosen component only).
- E_sp = Σ_pairs (λ_sp exp(−‖C_i − C_j‖² / (2(σ_i² + σ_j²))))², σ = r/3, with β held (the
  sphere centres and radii are computed from a detached β, so E_sp moves θ only).
- E_β = λ_β² ‖β‖².

Camera initialisation (SPEC §3 steps 1–3, docs/design.md), ported to PyTorch rather than
reusing ``smplify.reference.init``: the depth from the similar-triangles ratio of the
shoulder–hip lengths, γ_0 on the ray through the 2D torso centre, then the torso fit over
(ω, γ) (9 rows: confidence · reprojection error of the 4 torso keypoints, and
depth_weight · (γ_z − γ_0,z)) with the same LBFGS as the stages. Sideways views try both
orientations (R(ω) · R_y(π)); the one with the lower final data energy wins.

Single start, as the authors' SMPLify: the body pose starts at the prior's weighted mean
(``init_pose="mean"``) or the rest pose; ``multi_start`` is ignored. CPU, float64, one thread
(``torch.set_num_threads(1)`` at import: a single-core comparison with the C++ fit).
"""

from __future__ import annotations

import time
import weakref
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import torch
from smplify.problem import FitProblem, build_problem, start_poses
from smplify.reference.arrays import padded_vertex_rows, reference_arrays

torch.set_num_threads(1)

DTYPE = torch.float64

#: LBFGS iterations per optimizer step (torch's default ``max_iter``); the stage loop checks
#: the relative energy decrease after every step.
LBFGS_STEP_ITERATIONS = 20

#: Optimizer steps per stage at most (so at most 20 · 20 = 400 LBFGS iterations a stage).
LBFGS_MAX_STEPS = 20

#: LBFGS memory (torch's default).
LBFGS_HISTORY = 100

# (pose index, sign) of the angle prior: left elbow, right elbow, left knee, right knee.
_ANGLE_INDICES = torch.tensor([55, 58, 12, 15])
_ANGLE_SIGNS = torch.tensor([1.0, -1.0, -1.0, -1.0], dtype=DTYPE)
_INITIAL_ORIENTATION = (np.pi, 0.0, 0.0)
_SMALL_ANGLE_SQ = 1e-6
_TORSO_PAIRS = ((0, 2), (1, 3))

Surface = Literal["mesh", "sparse"]


# ---------------------------------------------------------------------------------------------
# Body model
# ---------------------------------------------------------------------------------------------

def rodrigues(rotvec: torch.Tensor) -> torch.Tensor:
    """(..., 3) axis-angle → (..., 3, 3) rotations, with a Taylor branch near 0 (finite
    gradients)."""
    theta_sq = (rotvec * rotvec).sum(-1)
    small = theta_sq < _SMALL_ANGLE_SQ
    t2 = torch.where(small, theta_sq, torch.zeros_like(theta_sq))
    t2_big = torch.where(small, torch.ones_like(theta_sq), theta_sq)
    theta = torch.sqrt(t2_big)
    a = torch.where(small, 1.0 - t2 / 6.0 + t2 * t2 / 120.0, torch.sin(theta) / theta)
    b = torch.where(small, 0.5 - t2 / 24.0 + t2 * t2 / 720.0,
                    2.0 * torch.sin(0.5 * theta) ** 2 / t2_big)
    x, y, z = rotvec.unbind(-1)
    zero = torch.zeros_like(x)
    k = torch.stack([zero, -z, y, z, zero, -x, -y, x, zero], -1).reshape(rotvec.shape + (3,))
    eye = torch.eye(3, dtype=rotvec.dtype)
    return eye + a[..., None, None] * k + b[..., None, None] * (k @ k)


class TorchBody:
    """An SMPL-format body model as float64 tensors (built once per model, like an smplx layer).

    Attributes
    ----------
    v_template : (N, 3).  shapedirs : (N, 3, B).  posedirs : (207, 3N) or None.
    J_regressor : (24, N) dense.  weights : (N, 24).  J_template : (24, 3).
    J_shapedirs : (24, 3, B).  parents : list of 24 int.
    chain : (24, 24) chain[i, k] = 1 when k ≥ 1 lies on the path from the root to i (inclusive).
    """

    def __init__(self, model: Any):
        def t(a: Any) -> torch.Tensor:
            return torch.as_tensor(np.ascontiguousarray(np.asarray(a, dtype=np.float64)))

        self.v_template = t(model.v_template)
        n = self.v_template.shape[0]
        self.shapedirs = t(model.shapedirs)
        self.posedirs = (t(np.asarray(model.posedirs).reshape(n * 3, 207).T)
                         if model.has_pose_blend_shapes else None)
        self.J_regressor = t(model.J_regressor)
        self.weights = t(model.weights)
        self.J_template = t(model.J_template)
        self.J_shapedirs = t(model.J_shapedirs)
        self.parents = [int(p) for p in model.parents]
        chain = np.zeros((24, 24))
        for i in range(1, 24):
            chain[i] = chain[self.parents[i]]
            chain[i, i] = 1.0
        self.chain = t(chain)

    @property
    def num_vertices(self) -> int:
        """N."""
        return int(self.v_template.shape[0])

    def world_rotations(self, rot: torch.Tensor) -> torch.Tensor:
        """(24, 3, 3) global rotations chained down the tree (a loop over joints, as smplx)."""
        world = [rot[0]]
        for i in range(1, 24):
            world.append(world[self.parents[i]] @ rot[i])
        return torch.stack(world)

    def positions(self, world: torch.Tensor, rest: torch.Tensor) -> torch.Tensor:
        """(24, 3) posed joints before γ.

        p_i = J_0 + Σ_k R_parent(k) (J_k − J_parent(k)) over the joints k ≥ 1 of i's chain.
        """
        par = self.parents[1:]
        bones = rest[1:] - rest[par]  # (23, 3)
        rotated = torch.einsum("kab,kb->ka", world[par], bones)
        return rest[0] + self.chain[:, 1:] @ rotated

    def pose(self, pose: torch.Tensor, betas: torch.Tensor, transl: torch.Tensor,
             vertex_ids: torch.Tensor | None, surface: Surface) -> dict[str, torch.Tensor]:
        """One forward pass.

        Parameters
        ----------
        pose : (72,) radians.  betas : (B,).  transl : (3,) metres.
        vertex_ids : (V,) vertices to skin in "sparse" mode (None: none).
        surface : "mesh" (skin every vertex, joints regressed from the shaped mesh: smplx) or
            "sparse" (skin ``vertex_ids`` only, joints from J_template + J_shapedirs·β).

        Returns
        -------
        dict: ``rot`` (24, 3, 3) local, ``world`` (24, 3, 3), ``rest`` (24, 3) J(β),
        ``joints`` (24, 3) posed + γ, ``vertices`` (N or V, 3) posed + γ (absent in sparse
        mode without vertex_ids).
        """
        rot = rodrigues(pose.reshape(24, 3))
        world = self.world_rotations(rot)
        if surface == "mesh":
            v_shaped = self.v_template + torch.einsum("nkb,b->nk", self.shapedirs, betas)
            rest = self.J_regressor @ v_shaped
            ids = None
        else:
            rest = self.J_template + torch.einsum("jkb,b->jk", self.J_shapedirs, betas)
            ids = vertex_ids
        posed = self.positions(world, rest)
        out = {"rot": rot, "world": world, "rest": rest, "joints": posed + transl}
        if surface == "sparse":
            if ids is None:
                return out
            v_shaped = self.v_template[ids] + torch.einsum("nkb,b->nk", self.shapedirs[ids],
                                                             betas)
        v_posed = v_shaped
        if self.posedirs is not None:
            feature = (rot[1:] - torch.eye(3, dtype=DTYPE)).reshape(207)
            if ids is None:
                offsets = (feature @ self.posedirs).reshape(-1, 3)
            else:
                cols = (3 * ids[:, None] + torch.arange(3)).reshape(-1)
                offsets = (feature @ self.posedirs[:, cols]).reshape(-1, 3)
            v_posed = v_posed + offsets
        # Linear blend skinning: T_v = Σ_j w_vj [R_j | p_j − R_j J_j]  (V, 3, 4)
        trans = posed - torch.einsum("jab,jb->ja", world, rest)
        a = torch.cat([world, trans[:, :, None]], dim=2).reshape(24, 12)
        w = self.weights if ids is None else self.weights[ids]
        blend = (w @ a).reshape(-1, 3, 4)
        out["vertices"] = (torch.einsum("vab,vb->va", blend[:, :, :3], v_posed)
                           + blend[:, :, 3] + transl)
        return out


_BODIES: weakref.WeakKeyDictionary[Any, TorchBody] = weakref.WeakKeyDictionary()


def torch_body(model: Any) -> TorchBody:
    """The :class:`TorchBody` of a loaded model, built on first use and cached."""
    body = _BODIES.get(model)
    if body is None:
        body = _BODIES[model] = TorchBody(model)
    return body


# ---------------------------------------------------------------------------------------------
# The problem as tensors, and the energy
# ---------------------------------------------------------------------------------------------

@dataclass
class TorchProblem:
    """The per-image tensors of a :class:`FitProblem` (docs/design.md conventions)."""

    problem: FitProblem
    body: TorchBody
    surface: Surface
    keypoints: torch.Tensor  # (K, 2) pixels
    weights: torch.Tensor  # (K,) w_i
    active: torch.Tensor  # (K,) bool, w_i > 0
    joint: torch.Tensor  # (K,) SMPL joint, clamped ≥ 0
    from_vertices: torch.Tensor  # (Kv,) keypoint rows read off vertices
    surface_ids: torch.Tensor  # (Kv, V) vertex ids (into the mesh, or into skinned_ids)
    surface_weights: torch.Tensor  # (Kv, V)
    skinned_ids: torch.Tensor | None  # (U,) vertices skinned in sparse mode
    focal: float
    center: torch.Tensor  # (2,)
    sigma: float
    prior_means: torch.Tensor  # (M, 69)
    prior_chol: torch.Tensor  # (M, 69, 69) L_k, Σ_k⁻¹ = L_k L_kᵀ
    prior_neg_log_c: torch.Tensor  # (M,)
    caps: dict[str, torch.Tensor] = field(default_factory=dict)

    @classmethod
    def build(cls, problem: FitProblem, surface: Surface = "mesh") -> TorchProblem:
        """Convert a built problem (the body model tensors are cached per model)."""
        if surface not in ("mesh", "sparse"):
            raise ValueError(f"surface must be 'mesh' or 'sparse', got {surface!r}")
        body = torch_body(problem.model)
        rows = np.flatnonzero(problem.keypoint_joint < 0)
        padded_ids, padded_weights = padded_vertex_rows(problem)
        ids = padded_ids[rows]
        skinned = None
        if surface == "sparse" and rows.size:
            skinned_np, inverse = np.unique(ids, return_inverse=True)
            ids = inverse.reshape(ids.shape)
            skinned = torch.as_tensor(skinned_np)
        prior = problem.prior
        caps = {name: torch.as_tensor(np.asarray(value, dtype=np.float64))
                for name, value in problem.capsule_arrays.items() if name != "joint"}
        caps["joint"] = torch.as_tensor(np.asarray(problem.capsule_arrays["joint"], np.int64))
        spheres = reference_arrays(problem)
        caps["sphere_capsule"] = torch.as_tensor(np.array(spheres.sphere_capsule))
        caps["sphere_fraction"] = torch.as_tensor(np.array(spheres.sphere_fraction))
        caps["pairs"] = torch.as_tensor(np.array(spheres.sphere_pairs)).reshape(-1, 2)
        return cls(
            problem=problem, body=body, surface=surface,
            keypoints=torch.tensor(problem.keypoints, dtype=DTYPE),
            weights=torch.tensor(problem.weights, dtype=DTYPE),
            active=torch.as_tensor(problem.weights > 0),
            joint=torch.as_tensor(np.maximum(problem.keypoint_joint, 0)),
            from_vertices=torch.as_tensor(rows),
            surface_ids=torch.as_tensor(ids),
            surface_weights=torch.as_tensor(padded_weights[rows], dtype=DTYPE),
            skinned_ids=skinned, focal=float(problem.focal_length),
            center=torch.tensor(problem.center, dtype=DTYPE),
            sigma=float(problem.options.data_sigma),
            prior_means=torch.as_tensor(np.asarray(prior.means, np.float64)),
            prior_chol=torch.as_tensor(np.asarray(prior.precision_cholesky, np.float64)),
            prior_neg_log_c=torch.as_tensor(np.asarray(prior.neg_log_c, np.float64)),
            caps=caps)

    def forward(self, pose: torch.Tensor, betas: torch.Tensor,
                transl: torch.Tensor) -> dict[str, torch.Tensor]:
        """Body forward pass plus ``keypoints`` (K, 3), camera frame, metres."""
        out = self.body.pose(pose, betas, transl, self.skinned_ids, self.surface)
        points = out["joints"][self.joint]
        if self.from_vertices.numel():
            surface = torch.einsum("kv,kva->ka", self.surface_weights,
                                   out["vertices"][self.surface_ids])
            points = points.index_copy(0, self.from_vertices, surface)
        out["keypoints"] = points
        return out

    def project(self, points: torch.Tensor) -> torch.Tensor:
        """π(X) = f X/Z + c, (..., 3) → (..., 2) pixels."""
        return self.focal * points[..., :2] / points[..., 2:3] + self.center

    # -- terms (energies: sums of squared weighted rows) ----------------------------------------
    def data(self, keypoints: torch.Tensor) -> torch.Tensor:
        """E_J, per-coordinate Geman-McClure, inactive keypoints exactly 0."""
        z = torch.where(self.active, keypoints[:, 2], torch.ones_like(keypoints[:, 2]))
        uv = self.focal * keypoints[:, :2] / z[:, None] + self.center
        err = torch.where(self.active[:, None], uv - self.keypoints, torch.zeros_like(uv))
        s = self.sigma
        rows = self.weights[:, None] * (s * err / torch.sqrt(s * s + err * err))
        return (rows * rows).sum()

    def pose_prior(self, pose: torch.Tensor) -> torch.Tensor:
        """min_k ‖r_k(θ[3:])‖² (max-mixture, unweighted)."""
        diff = pose[3:] - self.prior_means  # (M, 69)
        quad = torch.einsum("mba,mb->ma", self.prior_chol, diff)
        energy = 0.5 * (quad * quad).sum(-1) + self.prior_neg_log_c  # (M,)
        return energy[int(torch.argmin(energy.detach()))]

    def angle(self, pose: torch.Tensor) -> torch.Tensor:
        """Σ (10 exp(s θ[i]))² (unweighted)."""
        scale = self.problem.options.angle_prior_scale
        rows = scale * torch.exp(_ANGLE_SIGNS * pose[_ANGLE_INDICES])
        return (rows * rows).sum()

    def interpenetration(self, world: torch.Tensor, betas: torch.Tensor) -> torch.Tensor:
        """Σ_pairs exp(−d² / (σ_i² + σ_j²)) (unweighted), β held (detached)."""
        caps = self.caps
        b = betas.detach()
        rest = self.body.J_template + torch.einsum("jkb,b->jk", self.body.J_shapedirs, b)
        posed = self.body.positions(world, rest)  # γ cancels in the distances
        radius = caps["radius_mean"] + caps["radius_betas"] @ b
        length = caps["length_mean"] + caps["length_betas"] @ b
        c = caps["sphere_capsule"]
        along = (caps["start"][c] + caps["sphere_fraction"]) * length[c]
        local = caps["offset"][c] + along[:, None] * caps["axis"][c]
        joint = caps["joint"][c]
        centres = torch.einsum("sab,sb->sa", world[joint], local) + posed[joint]
        i, j = caps["pairs"][:, 0], caps["pairs"][:, 1]
        d = centres[i] - centres[j]
        sigma = self.problem.options.sphere_sigma_scale * radius[c]
        var = sigma[i] ** 2 + sigma[j] ** 2
        return torch.exp(-(d * d).sum(-1) / var).sum()

    def energies(self, pose: torch.Tensor, betas: torch.Tensor, transl: torch.Tensor,
                 lam: dict[str, float]) -> dict[str, torch.Tensor]:
        """Each term's energy at stage weights ``lam`` (λ multiplies rows: λ² on energies)."""
        out = self.forward(pose, betas, transl)
        terms = {
            "data": self.data(out["keypoints"]),
            "pose": lam["pose"] ** 2 * self.pose_prior(pose),
            "angle": lam["angle"] ** 2 * self.angle(pose),
            "shape": lam["shape"] ** 2 * (betas * betas).sum(),
            "interpenetration": torch.zeros((), dtype=DTYPE),
        }
        if lam["interpenetration"] > 0 and self.caps["pairs"].shape[0]:
            terms["interpenetration"] = (lam["interpenetration"] ** 2
                                         * self.interpenetration(out["world"], betas))
        return terms


def stage_weights(problem: FitProblem, stage: int) -> dict[str, float]:
    """λ of each term in a stage (as ``smplify.reference.energy.StageWeights``)."""
    opts = problem.options
    lam_pose = opts.pose_prior_weights[stage]
    return {"pose": lam_pose, "shape": opts.shape_prior_weights[stage],
            "angle": opts.angle_prior_ratio * lam_pose,
            "interpenetration": opts.interpenetration_weight, "data": 1.0}


# ---------------------------------------------------------------------------------------------
# The solver loop (smplify-x's FittingMonitor)
# ---------------------------------------------------------------------------------------------

@dataclass
class StageRun:
    """What one LBFGS stage did."""

    name: str
    steps: int
    iterations: int
    evaluations: int
    initial_energy: float
    final_energy: float
    seconds: float


def minimise(params: list[torch.Tensor], energy: Any, name: str,
             function_tolerance: float) -> StageRun:
    """LBFGS (strong Wolfe) steps until the relative energy decrease of a step ≤ tolerance."""
    start = time.perf_counter()
    optimizer = torch.optim.LBFGS(params, lr=1.0, max_iter=LBFGS_STEP_ITERATIONS,
                                  history_size=LBFGS_HISTORY, line_search_fn="strong_wolfe")
    evaluations = 0

    def closure() -> torch.Tensor:
        nonlocal evaluations
        evaluations += 1
        optimizer.zero_grad()
        loss = energy()
        loss.backward()
        return loss

    with torch.no_grad():
        initial = float(energy())
    previous = initial
    steps = 0
    while steps < LBFGS_MAX_STEPS:
        steps += 1
        optimizer.step(closure)
        with torch.no_grad():
            current = float(energy())
        change = abs(previous - current) / max(abs(previous), abs(current), 1.0)
        previous = current
        if change <= function_tolerance:
            break
    state = optimizer.state[optimizer.param_groups[0]["params"][0]]
    return StageRun(name=name, steps=steps, iterations=int(state.get("n_iter", 0)),
                    evaluations=evaluations, initial_energy=initial, final_energy=previous,
                    seconds=time.perf_counter() - start)


# ---------------------------------------------------------------------------------------------
# Camera initialisation (SPEC §3 steps 1–3)
# ---------------------------------------------------------------------------------------------

def _torso_points(tp: TorchProblem, orient: torch.Tensor, transl: torch.Tensor) -> torch.Tensor:
    """(4, 3) torso keypoint targets posed with ``orient``, θ_body = 0, β = 0."""
    pose = torch.cat([orient, torch.zeros(69, dtype=DTYPE)])
    betas = torch.zeros(tp.problem.num_betas, dtype=DTYPE)
    torso = torch.as_tensor(np.array(tp.problem.torso_keypoints))
    return tp.forward(pose, betas, transl)["keypoints"][torso]


def initial_translation(tp: TorchProblem) -> tuple[torch.Tensor, bool]:
    """γ_0 (3,) and whether the view is sideways (docs/design.md "Camera initialisation")."""
    p = tp.problem
    ok = p.torso_confident
    zero = torch.zeros(3, dtype=DTYPE)
    with torch.no_grad():
        rest = _torso_points(tp, zero, zero).numpy()
        posed = _torso_points(tp, torch.tensor(_INITIAL_ORIENTATION, dtype=DTYPE),
                              zero).numpy()
    obs = p.keypoints[p.torso_keypoints]
    pairs = [(a, b) for a, b in _TORSO_PAIRS if ok[a] and ok[b]]
    l3 = np.mean([np.linalg.norm(rest[a] - rest[b]) for a, b in pairs])
    l2 = np.mean([np.linalg.norm(obs[a] - obs[b]) for a, b in pairs])
    depth = p.focal_length * l3 / l2
    c3 = posed[ok].mean(axis=0)
    ray = (obs[ok].mean(axis=0) - p.center) / p.focal_length
    gamma = np.array([depth * ray[0] - c3[0], depth * ray[1] - c3[1], depth - c3[2]])
    sideways = not (ok[0] and ok[1]) or bool(
        np.linalg.norm(obs[0] - obs[1]) < p.options.sideways_ratio * l2)
    return torch.as_tensor(gamma), sideways


def fit_torso(tp: TorchProblem) -> tuple[torch.Tensor, torch.Tensor, bool, StageRun]:
    """Torso fit over (ω, γ): returns ω (3,), γ (3,), sideways, the stage record."""
    p = tp.problem
    gamma0, sideways = initial_translation(tp)
    orient = torch.tensor(_INITIAL_ORIENTATION, dtype=DTYPE, requires_grad=True)
    transl = gamma0.clone().requires_grad_(True)
    conf = torch.as_tensor(np.where(p.torso_confident, p.confidence[p.torso_keypoints], 0.0))
    obs = torch.as_tensor(p.keypoints[p.torso_keypoints], dtype=DTYPE)
    depth_weight = p.options.depth_weight

    def energy() -> torch.Tensor:
        points = _torso_points(tp, orient, transl)
        rows = conf[:, None] * (tp.project(points) - obs)
        depth = depth_weight * (transl[2] - gamma0[2])
        return (rows * rows).sum() + depth * depth

    run = minimise([orient, transl], energy, "torso", p.options.function_tolerance)
    return orient.detach(), transl.detach(), sideways, run


def flipped(orient: torch.Tensor) -> torch.Tensor:
    """Axis-angle of R(ω) · R_y(π)."""
    from scipy.spatial.transform import Rotation

    r = Rotation.from_rotvec(orient.numpy()) * Rotation.from_rotvec([0.0, np.pi, 0.0])
    return torch.as_tensor(r.as_rotvec())


# ---------------------------------------------------------------------------------------------
# The fit
# ---------------------------------------------------------------------------------------------

@dataclass
class TorchFitResult:
    """Result of :func:`fit` (NumPy arrays; the fields the benchmark reads).

    pose : (72,).  betas : (B,).  transl : (3,) metres.  joints : (24, 3) camera frame, metres.
    keypoints_2d : (K, 2) pixels, NaN where the model has no point.  energy : per term at the
    last stage's weights, and ``total``.  summary : stages, orientation, sideways, seconds.
    """

    pose: np.ndarray
    betas: np.ndarray
    transl: np.ndarray
    joints: np.ndarray
    keypoints_2d: np.ndarray
    energy: dict[str, float]
    summary: dict[str, Any]

    @property
    def global_orient(self) -> np.ndarray:
        """(3,)"""
        return self.pose[:3]

    @property
    def body_pose(self) -> np.ndarray:
        """(69,)"""
        return self.pose[3:]


def fit_problem(problem: FitProblem, surface: Surface = "mesh") -> TorchFitResult:
    """Torso fit, orientation test and the weight stages on a built problem (single start)."""
    start = time.perf_counter()
    tp = TorchProblem.build(problem, surface)
    opts = problem.options
    orient, gamma, sideways, torso = fit_torso(tp)
    candidates = [("initial", orient)]
    if opts.flip is True or (opts.flip == "auto" and sideways):
        candidates.append(("flipped", flipped(orient)))
    body_pose = torch.as_tensor(start_poses(problem)[0], dtype=DTYPE)
    last = stage_weights(problem, opts.num_stages - 1)
    runs = []
    for name, start_orient in candidates:
        pose = torch.cat([start_orient, body_pose]).requires_grad_(True)
        betas = torch.zeros(problem.num_betas, dtype=DTYPE, requires_grad=True)
        transl = gamma.clone().requires_grad_(True)
        params = [pose, betas] + ([transl] if opts.refine_translation else [])
        stages = []
        for stage in range(opts.num_stages):
            lam = stage_weights(problem, stage)

            def energy(lam: dict[str, float] = lam, pose: torch.Tensor = pose,
                       betas: torch.Tensor = betas,
                       transl: torch.Tensor = transl) -> torch.Tensor:
                return sum(tp.energies(pose, betas, transl, lam).values())

            stages.append(minimise(params, energy, f"stage {stage + 1}",
                                   opts.function_tolerance))
        with torch.no_grad():
            terms = {k: float(v) for k, v in tp.energies(pose, betas, transl, last).items()}
        terms["total"] = float(sum(terms.values()))
        runs.append((terms["data"], name, pose.detach(), betas.detach(), transl.detach(),
                     terms, stages))
    tried = {name: data for data, name, *_ in runs}
    _, orientation, pose, betas, transl, terms, stages = min(runs, key=lambda run: run[0])
    with torch.no_grad():
        out = tp.forward(pose, betas, transl)
        kp2d = tp.project(out["keypoints"]).numpy().copy()
    kp2d[~problem.keypoint_available] = np.nan
    return TorchFitResult(
        pose=pose.numpy().copy(), betas=betas.numpy().copy(), transl=transl.numpy().copy(),
        joints=out["joints"].numpy().copy(), keypoints_2d=kp2d, energy=terms,
        summary={"stages": [torso, *stages], "orientation": orientation,
                 "sideways": sideways, "tried": tried, "surface": surface,
                 "seconds": time.perf_counter() - start, "implementation": "torch",
                 "solver": f"torch.optim.LBFGS strong_wolfe, {LBFGS_STEP_ITERATIONS} "
                           f"iterations/step, autograd"})


def fit(keypoints: Any, format: str, image_size: Any, focal_length: float | None = None,
        model: Any = "open", prior: Any = "open", surface: Surface = "mesh",
        **options: Any) -> TorchFitResult:
    """Fit like ``smplify.fit(..., multi_start=False)``, with PyTorch LBFGS + autograd.

    Parameters
    ----------
    keypoints : (K, 3) x, y, confidence, or (K, 2), pixels.
    format : keypoint format name.  image_size : (width, height) pixels.
    focal_length : pixels or None (5000).  model, prior : as ``smplify.fit``.
    surface : "mesh" (smplx-style full forward, default) or "sparse" (skin keypoint vertices only).
    **options : fields of :class:`smplify.FitOptions` (``multi_start`` and ``threads`` ignored).

    Returns
    -------
    TorchFitResult
    """
    start = time.perf_counter()
    problem = build_problem(keypoints, format, image_size, focal_length, model, prior, options)
    result = fit_problem(problem, surface)
    result.summary["seconds"] = time.perf_counter() - start
    return result
