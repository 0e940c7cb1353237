"""Build the open GMM pose prior from CMU mocap (build-time tool; needs scikit-learn).

    python tools/build_pose_prior.py [--mocap ../shared/data/mocap] [--model MODEL.npz]

Steps (SMPLify learned its prior the same way from SMPL fits to CMU mocap):

1. Read every clip (``tools/mocap_io.py``; three formats) as world points and bone rotations.
2. Fit the body model's 24-joint skeleton to the mocap points, frame by frame (inverse
   kinematics, Levenberg-Marquardt with analytic Jacobians, batched over frames).
   Per clip the model's betas are fitted once (alternating with the IK on 48 frames), so bone
   lengths match the subject; then θ (72) and translation are fitted per frame with betas fixed.
   Residuals, in metres:
   - joint targets: model joint j − the mocap point that corresponds to it (pelvis, lower
     spine and chest get weight 0.05 only: their placement differs by 5-15 cm between the
     mocap skeletons and the model, and full weight bends the spine to reach them);
   - offset markers: model joint j + G_j · o − a mocap end site / finger / eye point, where o
     is that point's offset from joint j's mocap point in the source's reference T-pose
     (toe tips, finger tips, thumb, index and pinky knuckles, head end, eyes). These fix the
     twists of feet, hands and head that joint positions leave open;
   - a weak regulariser (0.02 m per radian) pulling each joint's rotation toward the mocap's
     own bone rotation retargeted to the model, G_j = R_bone(t) · R_bone(T-pose)ᵀ. It only
     decides what the positions leave undetermined (e.g. upper-arm twist with a straight
     elbow); it also gives the IK its starting point.
3. Keep the training poses (``--keep``): ``spread`` (the shipped prior): per clip, a frame
   only when its root-relative joints moved more than 2 cm (mean) since the last kept one;
   ``time``: every ``KEEP_STRIDE``-th IK frame (10 a second), so that each clip and each
   activity counts by its duration (standing still included, which ``spread`` keeps once).
   Add the left-right mirror of every pose. ``time`` was tried for the bent knees of
   standing people and not shipped (docs/video.md, "Bent knees"): the knees barely
   straightened (the mocap's own standing is bent 25-30°) and held-out crouches and
   fit_sequence got worse.
4. Fit an 8-component full-covariance GMM on θ[3:72] (scikit-learn, fixed seed, best of
   ``N_INIT`` k-means starts; the shipped prior: 1), order the components by weight, write
   ``python/smplify/data/open_pose_prior.npz`` byte-reproducibly (fixed zip timestamps) and
   ``tests/data/heldout_poses.npz`` (300 poses of the held-out clips, always chosen by the
   2 cm rule, so that the tests' and benchmarks' held-out set does not follow ``--keep``).
   The shipped files are the IK on the first open model's skeleton: ``--model`` its
   ``open_body_neutral.npz`` of commit 2aa90c8 (docs/design.md says why) rebuilds them
   (the prior to 1e-9, the held-out poses to float32 rounding).

Held out (never used for the GMM): ``cmu_expmap_motion_prediction/test/*``, BVH salsa/20,
martial/10, indian/15, and AMC 49_20.

Uncaptured limbs (``uncaptured_limbs``: a hip, knee, ankle, shoulder or elbow whose rotation
relative to its parent bone never changes in the whole clip) are reported. Only exp-map
basketball_signal_3 and _4 have one: their right hip, knee, ankle and toe channels are exactly
0 in every frame, so the right leg hangs straight at the source skeleton's rest direction (20°
out to the side) while the rest of the body moves (4% of the GMM's training poses).
``--skip-uncaptured`` leaves such clips out; the shipped prior keeps them: the prior without
them was measured and not shipped (docs/video.md, "Bent knees", session 12).
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # deterministic BLAS reductions, and a light footprint

import numpy as np  # noqa: E402
from scipy.spatial.transform import Rotation  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import mocap_io  # noqa: E402
from mocap_io import Clip, rodrigues  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
PARENTS = np.array([-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19,
                    20, 21])
MIRROR = np.array([0, 2, 1, 3, 5, 4, 6, 8, 7, 9, 11, 10, 12, 14, 13, 15, 17, 16, 19, 18, 21, 20,
                   23, 22])
HELDOUT = ("test/", "salsa/20", "martial/10", "indian/15", "49/49_20")
FRAME_STRIDE = 4       # 120 fps -> 30 fps before IK
SPREAD_M = 0.02        # keep a frame when the mean joint moved this far from the last kept
LIMB_JOINTS = (1, 2, 4, 5, 7, 8, 16, 17, 18, 19)  # hips, knees, ankles, shoulders, elbows
KEEP_STRIDE = 3        # training poses: every 3rd IK frame (120 fps / 4 / 3 = 10 a second)
REG_PER_RAD = 0.02     # m of residual per radian away from the retargeted rotation
BETA_REG = 0.05        # m of residual per unit beta, per frame of the shape fit
NUM_COMPONENTS = 8
N_INIT = 1             # k-means starts of the GMM fit (the best likelihood is kept)
SEED = 0

# (model joint, mocap point, weight): joint targets.
JOINT_TARGETS = [
    (0, "pelvis", 0.05), (1, "lhip", 1.0), (2, "rhip", 1.0), (3, "spine_low", 0.05),
    (4, "lknee", 1.0), (5, "rknee", 1.0), (7, "lankle", 1.0), (8, "rankle", 1.0),
    (9, "chest", 0.05), (10, "ltoe", 1.0), (11, "rtoe", 1.0), (12, "neck", 0.5),
    (13, "lcollar", 0.3), (14, "rcollar", 0.3), (15, "head", 0.5), (16, "lshoulder", 1.0),
    (17, "rshoulder", 1.0), (18, "lelbow", 1.0), (19, "relbow", 1.0), (20, "lwrist", 1.0),
    (21, "rwrist", 1.0),
]
# (model joint, its mocap anchor point, marker point, weight): offset markers.
OFFSET_MARKERS = [
    (10, "ltoe", "ltoe_end", 1.0), (11, "rtoe", "rtoe_end", 1.0),
    (7, "lankle", "ltoe_end", 1.0), (8, "rankle", "rtoe_end", 1.0),
    (20, "lwrist", "lfinger_end", 0.7), (21, "rwrist", "rfinger_end", 0.7),
    (20, "lwrist", "lthumb_end", 0.7), (21, "rwrist", "rthumb_end", 0.7),
    (20, "lwrist", "lindex1", 0.7), (21, "rwrist", "rindex1", 0.7),
    (20, "lwrist", "lpinky1", 0.7), (21, "rwrist", "rpinky1", 0.7),
    (15, "head", "head_end", 0.5), (15, "head", "leye", 0.5), (15, "head", "reye", 0.5),
]


# ---------------------------------------------------------------- skeleton
@dataclass
class Skeleton:
    """Rest joints J(β) = J0 + S·β of the body model (SMPL tree)."""

    J0: np.ndarray  # (24, 3)
    S: np.ndarray   # (24, 3, B)
    source: str

    def joints(self, betas: np.ndarray) -> np.ndarray:
        return self.J0 + self.S @ betas


def skeleton_from_model(path: Path) -> Skeleton:
    with np.load(path, allow_pickle=False) as z:
        reg = z["J_regressor"]
        j0 = reg @ z["v_template"]
        s = np.einsum("jn,ncb->jcb", reg, z["shapedirs"])
    return Skeleton(j0, s, path.name)


def skeleton_from_clip(clip: Clip) -> Skeleton:
    """Interim skeleton from a clip's own T-pose (no betas), used until the open model exists."""
    r = clip.ref_points
    j = np.zeros((24, 3))
    for jt, name, _ in JOINT_TARGETS:
        if name in r:
            j[jt] = r[name]
    j[6] = 0.5 * (j[3] + j[9])
    for side, (c, s, f, w, h) in (("l", (13, 16, 10, 20, 22)), ("r", (14, 17, 11, 21, 23))):
        j[c] = 0.5 * (j[9] + j[s]) if f"{side}collar" not in r else j[c]
        j[f] = r.get(f"{side}toe", j[f - 3] + [0, -0.05, 0.1])
        j[h] = j[w] + np.sign(j[w, 0] - j[0, 0]) * np.array([0.08, 0, 0])
    return Skeleton(j, np.zeros((24, 3, 0)), f"T-pose of {clip.name}")


def chains() -> list[list[int]]:
    """chain[j]: j and its ancestors, root last."""
    out = []
    for j in range(24):
        c = [j]
        while PARENTS[c[-1]] >= 0:
            c.append(int(PARENTS[c[-1]]))
        out.append(c)
    return out


CHAINS = chains()


# ---------------------------------------------------------------- kinematics
def skew(v: np.ndarray) -> np.ndarray:
    z = np.zeros(v.shape[:-1])
    x, y, w = v[..., 0], v[..., 1], v[..., 2]
    return np.stack([np.stack([z, -w, y], -1), np.stack([w, z, -x], -1),
                     np.stack([-y, x, z], -1)], -2)


def right_jacobian(theta: np.ndarray) -> np.ndarray:
    """(..., 3) -> (..., 3, 3) Jr with dR = R [Jr dθ]×."""
    a = np.linalg.norm(theta, axis=-1)[..., None, None]
    k = skew(theta)
    small = a < 1e-6
    a_safe = np.where(small, 1.0, a)
    c1 = np.where(small, 0.5, (1 - np.cos(a_safe)) / a_safe**2)
    c2 = np.where(small, 1.0 / 6.0, (a_safe - np.sin(a_safe)) / a_safe**3)
    return np.eye(3) - c1 * k + c2 * (k @ k)


def forward(theta: np.ndarray, rest: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """theta (F, 24, 3), rest (24, 3) -> world rotations G (F,24,3,3), joints p (F,24,3)."""
    r = rodrigues(theta)
    g = np.empty_like(r)
    p = np.empty(theta.shape)
    g[:, 0] = r[:, 0]
    p[:, 0] = rest[0]
    for j in range(1, 24):
        par = PARENTS[j]
        g[:, j] = g[:, par] @ r[:, j]
        p[:, j] = p[:, par] + g[:, par] @ (rest[j] - rest[par])
    return g, p


def rotvec(m: np.ndarray) -> np.ndarray:
    shape = m.shape[:-2]
    return Rotation.from_matrix(m.reshape(-1, 3, 3)).as_rotvec().reshape(*shape, 3)


# ---------------------------------------------------------------- targets of one clip
@dataclass
class Targets:
    joint: np.ndarray    # (M,) model joint of each marker
    offset: np.ndarray   # (M, 3) rest-frame offset from that joint
    weight: np.ndarray   # (M,)
    y: np.ndarray        # (F, M, 3) mocap positions
    theta_ret: np.ndarray  # (F, 24, 3) retargeted mocap rotations


def clip_targets(clip: Clip) -> Targets:
    joint, offset, weight, ys = [], [], [], []
    for j, name, w in JOINT_TARGETS:
        if name in clip.points:
            joint.append(j), offset.append(np.zeros(3)), weight.append(w)
            ys.append(clip.points[name])
    for j, anchor, name, w in OFFSET_MARKERS:
        if name in clip.points and anchor in clip.points:
            if j in (7, 8) and f"{anchor[0]}toe" in clip.points:
                continue  # the toe tip hangs on the toe joint when the source has one
            joint.append(j), weight.append(w), ys.append(clip.points[name])
            offset.append(clip.ref_points[name] - clip.ref_points[anchor])
    # Retarget: the model's world rotation of joint j is the mocap bone's rotation relative
    # to the reference T-pose; local rotations follow down the tree.
    g = np.stack([clip.rots[j] @ clip.ref_rots[j].T for j in range(24)], axis=1)
    local = np.empty_like(g)
    local[:, 0] = g[:, 0]
    local[:, 1:] = np.swapaxes(g[:, PARENTS[1:]], -1, -2) @ g[:, 1:]
    return Targets(np.array(joint), np.array(offset), np.array(weight),
                   np.stack(ys, axis=1), rotvec(local))


# ---------------------------------------------------------------- IK
def residuals(theta: np.ndarray, transl: np.ndarray, rest: np.ndarray, tg: Targets,
              sel: slice | np.ndarray, jac: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """Marker residuals (F, 3M) and, if asked, their Jacobian (F, 3M, 75) w.r.t. (θ, transl)."""
    g, p = forward(theta, rest)
    pred = p[:, tg.joint] + (g[:, tg.joint] @ tg.offset[..., None])[..., 0]
    r = (pred + transl[:, None] - tg.y[sel]) * tg.weight[:, None]
    f, m = r.shape[:2]
    if not jac:
        return r.reshape(f, -1), None
    w_world = g @ right_jacobian(theta)  # (F, 24, 3, 3): world angular velocity per dθ_k
    jmat = np.zeros((f, m, 3, 75))
    for i in range(m):
        for k in CHAINS[tg.joint[i]]:
            jmat[:, i, :, 3 * k:3 * k + 3] = -tg.weight[i] * (skew(pred[:, i] - p[:, k])
                                                              @ w_world[:, k])
        jmat[:, i, :, 72:75] = tg.weight[i] * np.eye(3)
    return r.reshape(f, -1), jmat.reshape(f, 3 * m, 75)


def solve_ik(tg: Targets, rest: np.ndarray, sel: np.ndarray, iterations: int = 30,
             chunk: int = 384) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """LM per frame (batched). Returns θ (F,72), transl (F,3), rms marker error (F,) m."""
    n = len(sel)
    out_t = np.empty((n, 24, 3))
    out_tr = np.empty((n, 3))
    out_err = np.empty(n)
    reg = np.zeros(75)
    reg[3:72] = REG_PER_RAD
    for s0 in range(0, n, chunk):
        idx = sel[s0:s0 + chunk]
        prior = tg.theta_ret[idx]
        theta = prior.copy()
        transl = tg.y[idx, 0] - rest[0]  # the first target is the pelvis (JOINT_TARGETS)

        def cost(th: np.ndarray, tr: np.ndarray, idx: np.ndarray = idx,
                 prior: np.ndarray = prior) -> np.ndarray:
            r, _ = residuals(th, tr, rest, tg, idx, jac=False)
            d = (th - prior).reshape(len(idx), -1)[:, 3:] * REG_PER_RAD
            return (r**2).sum(1) + (d**2).sum(1)

        mu = np.full(len(idx), 1e-3)
        c = cost(theta, transl)
        for _ in range(iterations):
            r, jm = residuals(theta, transl, rest, tg, idx, jac=True)
            jt = np.swapaxes(jm, 1, 2)
            h = jt @ jm
            grad = (jt @ r[..., None])[..., 0]
            grad[:, 3:72] += REG_PER_RAD**2 * (theta - prior).reshape(len(idx), -1)[:, 3:]
            h[:, np.arange(75), np.arange(75)] += reg**2
            diag = h[:, np.arange(75), np.arange(75)].copy()
            h[:, np.arange(75), np.arange(75)] += mu[:, None] * (diag + 1e-6)
            step = -np.linalg.solve(h, grad[..., None])[..., 0]
            th_new = theta + step[:, :72].reshape(-1, 24, 3)
            tr_new = transl + step[:, 72:]
            c_new = cost(th_new, tr_new)
            ok = c_new < c
            theta[ok], transl[ok], c[ok] = th_new[ok], tr_new[ok], c_new[ok]
            mu = np.where(ok, mu / 3, mu * 4)
        r, _ = residuals(theta, transl, rest, tg, idx, jac=False)
        w2 = np.repeat(tg.weight, 3) ** 2
        out_err[s0:s0 + len(idx)] = np.sqrt((r**2).sum(1) / w2.sum())
        out_t[s0:s0 + len(idx)] = theta
        out_tr[s0:s0 + len(idx)] = transl
    return out_t.reshape(n, 72), out_tr, out_err


def fit_betas(tg: Targets, skel: Skeleton, frames: np.ndarray, rounds: int = 3) -> np.ndarray:
    """Alternate IK and a linear least-squares update of the betas on a few frames."""
    b = skel.S.shape[2]
    betas = np.zeros(b)
    if b == 0:
        return betas
    for _ in range(rounds):
        rest = skel.joints(betas)
        theta, transl, _ = solve_ik(tg, rest, frames, iterations=20)
        g, p = forward(theta.reshape(-1, 24, 3), rest)
        # d p_j / d β: D_j = D_parent + G_parent (S_j − S_parent), D_0 = S_0.
        d = np.empty((len(frames), 24, 3, b))
        d[:, 0] = skel.S[0]
        for j in range(1, 24):
            par = PARENTS[j]
            d[:, j] = d[:, par] + g[:, par] @ (skel.S[j] - skel.S[par])
        pred = p[:, tg.joint] + np.einsum("fmab,mb->fma", g[:, tg.joint], tg.offset)
        r = (pred + transl[:, None] - tg.y[frames]) * tg.weight[:, None]
        a = d[:, tg.joint] * tg.weight[None, :, None, None]
        a = a.reshape(-1, b)
        lam = len(frames) * BETA_REG**2
        lhs = a.T @ a + lam * np.eye(b)
        rhs = -(a.T @ r.reshape(-1)) - lam * betas
        betas = betas + np.linalg.solve(lhs, rhs)
    return betas


# ---------------------------------------------------------------- selection and GMM
def spread_frames(theta: np.ndarray, rest: np.ndarray, min_move: float) -> np.ndarray:
    """Indices of frames whose root-relative joints moved > min_move from the last kept."""
    th = theta.reshape(-1, 24, 3).copy()
    th[:, 0] = 0
    _, p = forward(th, rest)
    keep = [0]
    for i in range(1, len(p)):
        if np.linalg.norm(p[i] - p[keep[-1]], axis=1).mean() > min_move:
            keep.append(i)
    return np.array(keep)


def mirror_pose(body_pose: np.ndarray) -> np.ndarray:
    """Left-right mirror (x -> -x) of (N, 69) body poses."""
    full = np.concatenate([np.zeros((len(body_pose), 3)), body_pose], 1).reshape(-1, 24, 3)
    m = full[:, MIRROR] * np.array([1.0, -1.0, -1.0])
    return m.reshape(-1, 72)[:, 3:]


def fit_gmm(x: np.ndarray, n_init: int = N_INIT) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from sklearn.mixture import GaussianMixture

    gmm = GaussianMixture(NUM_COMPONENTS, covariance_type="full", reg_covar=1e-3, n_init=n_init,
                          max_iter=200, tol=1e-3, random_state=SEED, init_params="kmeans")
    gmm.fit(x)
    order = np.argsort(-gmm.weights_, kind="stable")
    return gmm.means_[order], gmm.covariances_[order], gmm.weights_[order]


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """np.savez_compressed with fixed zip timestamps, so equal arrays give equal bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for key, arr in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(arr), allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, buf.getvalue())


# ---------------------------------------------------------------- driver
@dataclass
class ClipFit:
    clip: Clip
    frames: np.ndarray   # indices into the clip
    theta: np.ndarray    # (F, 72)
    transl: np.ndarray   # (F, 3)
    err: np.ndarray      # (F,) rms marker error, m
    rest: np.ndarray     # (24, 3) shaped rest joints
    betas: np.ndarray
    targets: Targets


def fit_clip(clip: Clip, skel: Skeleton) -> ClipFit:
    tg = clip_targets(clip)
    frames = np.arange(0, clip.num_frames, FRAME_STRIDE)
    shape_frames = frames[np.linspace(0, len(frames) - 1, min(48, len(frames))).astype(int)]
    betas = fit_betas(tg, skel, shape_frames)
    rest = skel.joints(betas)
    theta, transl, err = solve_ik(tg, rest, frames)
    return ClipFit(clip, frames, theta, transl, err, rest, betas, tg)


def check_against_core(model_path: Path) -> float:
    """Max |NumPy − C++| of joints and d joints/d pose on random poses (needs smplify._core).

    The IK here is batched over frames in NumPy and also needs offset markers, so it does not
    call the C++ model per frame; this check shows both compute the same kinematics.
    """
    import smplify

    model = smplify.load_model(str(model_path))
    core = model.core
    skel = skeleton_from_model(model_path)
    rng = np.random.default_rng(SEED)
    tg = Targets(np.arange(24), np.zeros((24, 3)), np.ones(24), np.zeros((1, 24, 3)),
                 np.zeros((1, 24, 3)))
    worst = 0.0
    for _ in range(5):
        pose = rng.normal(size=72) * 0.5
        betas = rng.normal(size=skel.S.shape[2])
        transl = rng.normal(size=3)
        joints, d_pose, _, _ = core.joints_and_jacobian(pose, betas, transl)
        r, jac = residuals(pose.reshape(1, 24, 3), transl[None], skel.joints(betas), tg,
                          np.array([0]), jac=True)
        assert jac is not None
        worst = max(worst, float(np.abs(r[0] - joints.reshape(-1)).max()),
                    float(np.abs(jac[0][:, :72] - d_pose).max()))
    return worst


def uncaptured_limbs(clip: Clip) -> list[int]:
    """SMPL limb joints (``LIMB_JOINTS``) whose rotation relative to the parent bone is the same
    in every frame of the clip: a channel the source never captured (constant, often exactly 0),
    not a pose. Returns their indices (empty for a usable clip)."""
    dead = []
    for j in LIMB_JOINTS:
        local = np.swapaxes(clip.rots[int(PARENTS[j])], -1, -2) @ clip.rots[j]
        if np.abs(local - local[0]).max() < 1e-9:
            dead.append(j)
    return dead


def is_heldout(name: str, path: Path) -> bool:
    s = str(path)
    return any(h in s for h in HELDOUT)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mocap", type=Path, default=REPO.parent / "shared" / "data" / "mocap")
    ap.add_argument("--model", type=Path,
                    default=REPO / "python" / "smplify" / "data" / "open_body_neutral.npz")
    ap.add_argument("--out", type=Path,
                    default=REPO / "python" / "smplify" / "data" / "open_pose_prior.npz")
    ap.add_argument("--heldout-out", type=Path, default=REPO / "tests" / "data" /
                    "heldout_poses.npz")
    ap.add_argument("--fits-out", type=Path, default=None,
                    help="optional .npz with every IK fit (for pictures); not shipped")
    ap.add_argument("--keep", choices=("spread", "time"), default="spread",
                    help="training poses: moved 2 cm since the last kept (shipped), or by time")
    ap.add_argument("--skip-uncaptured", action="store_true",
                    help="leave out clips with a limb that never moves (uncaptured channels)")
    ap.add_argument("--n-init", type=int, default=N_INIT, help="k-means starts of the GMM fit")
    ap.add_argument("--limit", type=int, default=0, help="debug: only the first N clips")
    ap.add_argument("--check-core", action="store_true",
                    help="only compare this tool's kinematics with smplify._core and exit")
    args = ap.parse_args(argv)
    if args.check_core:
        print(f"max |NumPy - C++| (joints, d_pose): {check_against_core(args.model):.3g}")
        return

    listing = mocap_io.list_clips(args.mocap)
    if args.limit:
        listing = listing[:args.limit]
    if args.model.is_file():
        skel = skeleton_from_model(args.model)
    else:
        print(f"warning: {args.model} missing; using a skeleton from the mocap's own T-pose")
        first = mocap_io.read_clip(*listing[0])
        skel = skeleton_from_clip(first)
    train, held = [], []
    fits_dump: dict[str, np.ndarray] = {}
    stats = {"frames_read": 0, "frames_ik": 0}
    errs_all = []
    t0 = time.time()
    for kind, path, asf in listing:
        clip = mocap_io.read_clip(kind, path, asf)
        dead = uncaptured_limbs(clip)
        if dead:
            print(f"{kind:6s} {clip.name:28s} joints {dead} never move (uncaptured)"
                  f"{': SKIPPED' if args.skip_uncaptured else ''}")
            if args.skip_uncaptured:
                continue
        fit = fit_clip(clip, skel)
        ho = is_heldout(clip.name, path)
        keep = np.arange(0, len(fit.frames), KEEP_STRIDE) if args.keep == "time" and not ho \
            else spread_frames(fit.theta, fit.rest, SPREAD_M)
        stats["frames_read"] += clip.num_frames
        stats["frames_ik"] += len(fit.frames)
        errs_all.append(fit.err)
        (held if ho else train).append(fit.theta[keep, 3:])
        print(f"{kind:6s} {clip.name:28s} frames {clip.num_frames:5d} ik {len(fit.frames):4d} "
              f"kept {len(keep):4d} err med {1000 * np.median(fit.err):5.1f} mm "
              f"p90 {1000 * np.percentile(fit.err, 90):5.1f} mm  |β| "
              f"{np.linalg.norm(fit.betas):.2f} {'HELD OUT' if ho else ''}  "
              f"{time.time() - t0:6.0f}s", flush=True)
        if args.fits_out is not None:
            tag = f"{kind}:{'heldout:' if ho else ''}{clip.name}"  # test/ and train/ share names
            fits_dump[f"{tag}:theta"] = fit.theta
            fits_dump[f"{tag}:transl"] = fit.transl
            fits_dump[f"{tag}:frames"] = fit.frames
            fits_dump[f"{tag}:rest"] = fit.rest
            fits_dump[f"{tag}:y"] = fit.targets.y[fit.frames]
            fits_dump[f"{tag}:joint"] = fit.targets.joint
            fits_dump[f"{tag}:offset"] = fit.targets.offset
            fits_dump[f"{tag}:err"] = fit.err
    x = np.concatenate(train)
    x = np.concatenate([x, mirror_pose(x)])
    errs = np.concatenate(errs_all)
    print(f"frames read {stats['frames_read']}, IK {stats['frames_ik']}, GMM training poses "
          f"{len(x)} (half mirrored); IK rms error median {1000 * np.median(errs):.1f} mm, "
          f"90% {1000 * np.percentile(errs, 90):.1f} mm")
    means, covars, weights = fit_gmm(x, args.n_init)
    write_npz(args.out, {"means": means, "covars": covars, "weights": weights})
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes), weights {np.round(weights, 3)}")
    h = np.concatenate(held)
    pick = np.linspace(0, len(h) - 1, min(300, len(h))).astype(int)
    write_npz(args.heldout_out, {"body_pose": h[pick].astype(np.float32)})
    print(f"wrote {args.heldout_out}: {len(pick)} of {len(h)} held-out spread poses")
    if args.fits_out is not None:
        np.savez_compressed(args.fits_out, **fits_dump)


if __name__ == "__main__":
    main()
