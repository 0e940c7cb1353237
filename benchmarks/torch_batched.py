"""SMPLify in PyTorch, batched: one L-BFGS over a batch of people, float32, every core.

The SMPLify-X pattern of ``torch_smplify.py`` (the same energy, stage weights, torso fit,
orientation test and smplify-x's ``FittingMonitor`` loop of LBFGS steps) run the way a
PyTorch user with many images would: the B people of a batch stacked along a leading axis,
one ``torch.optim.LBFGS(line_search_fn="strong_wolfe")`` minimising the sum of their
energies per stage, float32 tensors, ``torch.set_num_threads(os.cpu_count())``. Sideways
views enter the batch twice (as seen and turned by R_y(π)), and per person the orientation
with the lower data energy is kept, as in the single fit. One batch holds one keypoint format
(``fit_batch`` takes the problems of one format: the keypoint rows differ between formats).

What the batch changes, and why accuracy may differ from the per-person fit: the line search
and the stopping rule see the batch's total energy, so one person's slow stage keeps every
person iterating and a step that suits the sum may not suit each person; float32 carries ~7
significant digits against energies of 10³–10⁵. Camera depth and sideways test per person are
``torch_smplify.initial_translation`` (float64, NumPy arithmetic), then batched.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch_smplify as ts
from smplify.problem import FitProblem, start_poses

DTYPE = torch.float32


@dataclass
class Batch:
    """The tensors of B problems of one format (leading axis B), float32."""

    body: dict[str, Any]
    joint: torch.Tensor  # (K,)
    from_vertices: torch.Tensor  # (Kv,)
    surface_ids: torch.Tensor  # (Kv, V)
    surface_weights: torch.Tensor  # (Kv, V)
    keypoints: torch.Tensor  # (B, K, 2)
    weights: torch.Tensor  # (B, K)
    active: torch.Tensor  # (B, K)
    focal: torch.Tensor  # (B,)
    center: torch.Tensor  # (B, 2)
    sigma: float
    prior: dict[str, torch.Tensor]
    caps: dict[str, torch.Tensor]
    angle_scale: float
    sphere_scale: float

    def take(self, index: torch.Tensor) -> Batch:
        """The batch of rows ``index`` (people may repeat: both orientations)."""
        fields = dict(self.__dict__)
        for name in ("keypoints", "weights", "active", "focal", "center"):
            fields[name] = getattr(self, name)[index]
        return Batch(**fields)


def _body(tb: ts.TorchBody) -> dict[str, Any]:
    def f(t: torch.Tensor | None) -> torch.Tensor | None:
        return None if t is None else t.to(DTYPE)

    return {"v_template": f(tb.v_template), "shapedirs": f(tb.shapedirs),
            "posedirs": f(tb.posedirs), "J_regressor": f(tb.J_regressor),
            "weights": f(tb.weights), "J_template": f(tb.J_template),
            "J_shapedirs": f(tb.J_shapedirs), "parents": tb.parents, "chain": f(tb.chain)}


def make_batch(tps: list[ts.TorchProblem]) -> Batch:
    """Stack the per-person problems (one format, one model and prior)."""
    first = tps[0]
    if any(tp.problem.format != first.problem.format for tp in tps):
        raise ValueError("make_batch: one keypoint format per batch")
    return Batch(
        body=_body(first.body), joint=first.joint, from_vertices=first.from_vertices,
        surface_ids=first.surface_ids, surface_weights=first.surface_weights.to(DTYPE),
        keypoints=torch.stack([tp.keypoints for tp in tps]).to(DTYPE),
        weights=torch.stack([tp.weights for tp in tps]).to(DTYPE),
        active=torch.stack([tp.active for tp in tps]),
        focal=torch.tensor([tp.focal for tp in tps], dtype=DTYPE),
        center=torch.stack([tp.center for tp in tps]).to(DTYPE), sigma=first.sigma,
        prior={"means": first.prior_means.to(DTYPE), "chol": first.prior_chol.to(DTYPE),
               "neg_log_c": first.prior_neg_log_c.to(DTYPE)},
        caps={k: (v.to(DTYPE) if v.is_floating_point() else v) for k, v in first.caps.items()},
        angle_scale=first.problem.options.angle_prior_scale,
        sphere_scale=first.problem.options.sphere_sigma_scale)


def _positions(body: dict[str, Any], world: torch.Tensor, rest: torch.Tensor) -> torch.Tensor:
    """(B, 24, 3) posed joints before γ (TorchBody.positions, batched)."""
    par = body["parents"][1:]
    bones = rest[:, 1:] - rest[:, par]
    rotated = torch.einsum("bkij,bkj->bki", world[:, par], bones)
    return rest[:, :1] + torch.einsum("ik,bka->bia", body["chain"][:, 1:], rotated)


def forward(batch: Batch, pose: torch.Tensor, betas: torch.Tensor,
            transl: torch.Tensor) -> dict[str, torch.Tensor]:
    """smplx-style batched forward pass (every vertex skinned) and the format's keypoints."""
    body = batch.body
    n = pose.shape[0]
    rot = ts.rodrigues(pose.reshape(n, 24, 3))
    world = [rot[:, 0]]
    for i in range(1, 24):
        world.append(world[body["parents"][i]] @ rot[:, i])
    world_t = torch.stack(world, 1)
    v_shaped = body["v_template"] + torch.einsum("vkc,bc->bvk", body["shapedirs"], betas)
    rest = torch.einsum("jv,bvk->bjk", body["J_regressor"], v_shaped)
    posed = _positions(body, world_t, rest)
    v_posed = v_shaped
    if body["posedirs"] is not None:
        feature = (rot[:, 1:] - torch.eye(3, dtype=DTYPE)).reshape(n, 207)
        v_posed = v_posed + (feature @ body["posedirs"]).reshape(n, -1, 3)
    trans = posed - torch.einsum("bjik,bjk->bji", world_t, rest)
    a = torch.cat([world_t, trans[..., None]], dim=3).reshape(n, 24, 12)
    blend = torch.einsum("vj,bjc->bvc", body["weights"], a).reshape(n, -1, 3, 4)
    vertices = (torch.einsum("bvik,bvk->bvi", blend[..., :3], v_posed) + blend[..., 3]
                + transl[:, None])
    joints = posed + transl[:, None]
    points = joints[:, batch.joint]
    if batch.from_vertices.numel():
        surface = torch.einsum("kv,bkva->bka", batch.surface_weights,
                               vertices[:, batch.surface_ids])
        points = points.index_copy(1, batch.from_vertices, surface)
    return {"world": world_t, "joints": joints, "keypoints": points}


def project(batch: Batch, points: torch.Tensor) -> torch.Tensor:
    """(B, P, 3) → (B, P, 2) pixels."""
    return (batch.focal[:, None, None] * points[..., :2] / points[..., 2:3]
            + batch.center[:, None])


def energies(batch: Batch, pose: torch.Tensor, betas: torch.Tensor, transl: torch.Tensor,
             lam: dict[str, float]) -> dict[str, torch.Tensor]:
    """Each term's (B,) energies at stage weights ``lam`` (torch_smplify.TorchProblem's)."""
    out = forward(batch, pose, betas, transl)
    kp = out["keypoints"]
    z = torch.where(batch.active, kp[..., 2], torch.ones_like(kp[..., 2]))
    uv = batch.focal[:, None, None] * kp[..., :2] / z[..., None] + batch.center[:, None]
    err = torch.where(batch.active[..., None], uv - batch.keypoints, torch.zeros_like(uv))
    s = batch.sigma
    rows = batch.weights[..., None] * (s * err / torch.sqrt(s * s + err * err))
    diff = pose[:, None, 3:] - batch.prior["means"]  # (B, M, 69)
    quad = torch.einsum("mji,bmj->bmi", batch.prior["chol"], diff)
    mixture = 0.5 * (quad * quad).sum(-1) + batch.prior["neg_log_c"]  # (B, M)
    chosen = mixture.gather(1, mixture.detach().argmin(1, keepdim=True))[:, 0]
    signs = ts._ANGLE_SIGNS.to(DTYPE)
    angle = batch.angle_scale * torch.exp(signs * pose[:, ts._ANGLE_INDICES])
    terms = {"data": (rows * rows).sum((1, 2)), "pose": lam["pose"] ** 2 * chosen,
             "angle": lam["angle"] ** 2 * (angle * angle).sum(1),
             "shape": lam["shape"] ** 2 * (betas * betas).sum(1),
             "interpenetration": torch.zeros(pose.shape[0], dtype=DTYPE)}
    if lam["interpenetration"] > 0 and batch.caps["pairs"].shape[0]:
        terms["interpenetration"] = (lam["interpenetration"] ** 2
                                     * _interpenetration(batch, out["world"], betas))
    return terms


def _interpenetration(batch: Batch, world: torch.Tensor, betas: torch.Tensor) -> torch.Tensor:
    """(B,) Σ_pairs exp(−d² / (σ_i² + σ_j²)), β held (TorchProblem.interpenetration)."""
    caps, body = batch.caps, batch.body
    b = betas.detach()
    rest = body["J_template"] + torch.einsum("jkc,bc->bjk", body["J_shapedirs"], b)
    posed = _positions(body, world, rest)
    radius = caps["radius_mean"] + b @ caps["radius_betas"].T  # (B, C)
    length = caps["length_mean"] + b @ caps["length_betas"].T
    c = caps["sphere_capsule"]
    along = (caps["start"][c] + caps["sphere_fraction"]) * length[:, c]  # (B, S)
    local = caps["offset"][c] + along[..., None] * caps["axis"][c]
    joint = caps["joint"][c]
    centres = torch.einsum("bsij,bsj->bsi", world[:, joint], local) + posed[:, joint]
    i, j = caps["pairs"][:, 0], caps["pairs"][:, 1]
    d = centres[:, i] - centres[:, j]
    sigma = batch.sphere_scale * radius[:, c]
    var = sigma[:, i] ** 2 + sigma[:, j] ** 2
    return torch.exp(-(d * d).sum(-1) / var).sum(-1)


def _torso_fit(batch: Batch, tps: list[ts.TorchProblem], tolerance: float
               ) -> tuple[torch.Tensor, torch.Tensor, list[bool]]:
    """Batched torso fit over (ω, γ): (B, 3), (B, 3) and each person's sideways flag."""
    starts = [ts.initial_translation(tp) for tp in tps]
    gamma0 = torch.stack([g for g, _ in starts]).to(DTYPE)
    torso = torch.as_tensor(np.stack([tp.problem.torso_keypoints for tp in tps]))
    conf = torch.as_tensor(np.stack([np.where(tp.problem.torso_confident,
                                              tp.problem.confidence[tp.problem.torso_keypoints],
                                              0.0) for tp in tps]), dtype=DTYPE)
    obs = torch.gather(batch.keypoints, 1, torso[..., None].expand(-1, -1, 2))
    n = len(tps)
    orient = torch.tensor(ts._INITIAL_ORIENTATION, dtype=DTYPE).repeat(n, 1).requires_grad_()
    transl = gamma0.clone().requires_grad_(True)
    zeros_pose = torch.zeros(n, 69, dtype=DTYPE)
    zeros_betas = torch.zeros(n, tps[0].problem.num_betas, dtype=DTYPE)
    weight = tps[0].problem.options.depth_weight

    def energy() -> torch.Tensor:
        kp = forward(batch, torch.cat([orient, zeros_pose], 1), zeros_betas, transl)["keypoints"]
        points = torch.gather(kp, 1, torso[..., None].expand(-1, -1, 3))
        rows = conf[..., None] * (project(batch, points) - obs)
        depth = weight * (transl[:, 2] - gamma0[:, 2])
        return (rows * rows).sum() + (depth * depth).sum()

    ts.minimise([orient, transl], energy, "torso", tolerance)
    return orient.detach(), transl.detach(), [s for _, s in starts]


@dataclass
class BatchedResult:
    """One person's fit (float64 NumPy): pose (72,), betas (B,), transl (3,)."""

    pose: np.ndarray
    betas: np.ndarray
    transl: np.ndarray


def fit_batch(problems: list[FitProblem], threads: int | None = None) -> list[BatchedResult]:
    """Fit B problems of one format together (module docstring); one result per problem.

    ``threads``: torch threads during the fit (default: every core); restored afterwards.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(threads or os.cpu_count() or 1)
    try:
        return _fit_batch(problems)
    finally:
        torch.set_num_threads(before)


def _fit_batch(problems: list[FitProblem]) -> list[BatchedResult]:
    tps = [ts.TorchProblem.build(p, "mesh") for p in problems]
    batch = make_batch(tps)
    opts = problems[0].options
    orient, gamma, sideways = _torso_fit(batch, tps, opts.function_tolerance)
    # Candidates: every person as seen, and sideways ones turned by R_y(π) too.
    person = list(range(len(tps)))
    orients = [orient[i] for i in person]
    for i, side in enumerate(sideways):
        if opts.flip is True or (opts.flip == "auto" and side):
            person.append(i)
            orients.append(ts.flipped(orient[i].double()).to(DTYPE))
    index = torch.as_tensor(person)
    cand = batch.take(index)
    body_pose = torch.as_tensor(start_poses(problems[0])[0], dtype=DTYPE)
    pose = torch.cat([torch.stack(orients), body_pose.repeat(len(person), 1)], 1)
    pose.requires_grad_(True)
    betas = torch.zeros(len(person), problems[0].num_betas, dtype=DTYPE, requires_grad=True)
    transl = gamma[index].clone().requires_grad_(True)
    params = [pose, betas] + ([transl] if opts.refine_translation else [])
    for stage in range(opts.num_stages):
        lam = ts.stage_weights(problems[0], stage)

        def energy(lam: dict[str, float] = lam) -> torch.Tensor:
            return sum(energies(cand, pose, betas, transl, lam).values()).sum()

        ts.minimise(params, energy, f"stage {stage + 1}", opts.function_tolerance)
    with torch.no_grad():
        data = energies(cand, pose, betas, transl,
                        ts.stage_weights(problems[0], opts.num_stages - 1))["data"]
    best: dict[int, int] = {}
    for row, i in enumerate(person):
        if i not in best or data[row] < data[best[i]]:
            best[i] = row
    return [BatchedResult(pose=pose[best[i]].detach().double().numpy().copy(),
                          betas=betas[best[i]].detach().double().numpy().copy(),
                          transl=transl[best[i]].detach().double().numpy().copy())
            for i in range(len(tps))]


def fit_all(problems: list[FitProblem], batch_size: int = 64,
            threads: int | None = None) -> tuple[list[BatchedResult], float]:
    """Every problem, grouped by format into batches of ≤ ``batch_size``; results in input
    order and the wall seconds of all batches."""
    order: dict[str, list[int]] = {}
    for i, p in enumerate(problems):
        order.setdefault(p.format, []).append(i)
    results: list[BatchedResult | None] = [None] * len(problems)
    start = time.perf_counter()
    for ids in order.values():
        for k in range(0, len(ids), batch_size):
            chunk = ids[k:k + batch_size]
            for i, r in zip(chunk, fit_batch([problems[i] for i in chunk], threads),
                            strict=True):
                results[i] = r
    return [r for r in results if r is not None], time.perf_counter() - start
