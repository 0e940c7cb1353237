"""More distinct training poses for the learned initialiser: limb mixing and joint jitter.

Build-time only (``tools/build_initializer.py --augment N``); the held-out poses are never
touched. Each augmented pose is built from the TRAINING poses θ (N, 72) (root = world
orientation, mirrors included):

- limb mixing (a share ``mix`` of them): along the kinematic tree, the legs' local rotations
  (hips, knees, ankles, feet: ``LEGS``) from one training pose, the arms' (collars,
  shoulders, elbows, wrists, hands: ``ARMS``) from a second, the trunk, neck, head and the
  root's world orientation from a third; each subtree keeps its pose relative to its parent
  joint, so a limb stays a limb as captured, only its company changes;
- the others are copies of one training pose;
- then the body pose (69 axis-angle values, the pose prior's variables) is jittered in the
  prior's own metric, θ_b ← θ_b + s · C_k z, z ~ N(0, I₆₉), C_k the Cholesky factor of the
  covariance of the pose's best prior component (a jitter shaped like the captured poses'
  spread: wide at the shoulders, narrow along the spine; E_θ grows by ~s² · 69 / 2 on
  average); the root is not jittered (the cameras draw every view);
- kept only if plausible: E_θ(θ) ≤ E_max, E_θ the shipped pose prior's energy
  (``GMMPosePrior.energies``) and E_max the ``quantile`` of the training poses' own E_θ
  (the bound lies inside the captured poses' distribution); draws go on until N · count are
  kept.

Deterministic for a seed (``augment``'s ``rng``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: SMPL joints of the legs' and the arms' subtrees (the rest: pelvis, spine, neck, head).
LEGS = (1, 2, 4, 5, 7, 8, 10, 11)
ARMS = (13, 14, 16, 17, 18, 19, 20, 21, 22, 23)
MIX_SHARE = 0.75
SIGMA = 0.5     # s, in the prior's standard deviations
QUANTILE = 0.99
DRAW = 4096   # candidates drawn at a time


@dataclass
class Augmented:
    theta: np.ndarray       # (M, 72) the kept augmented poses
    bound: float            # E_max
    acceptance: float       # kept / drawn


def mix_limbs(theta: np.ndarray, rng: np.random.Generator, n: int) -> np.ndarray:
    """(n, 72) poses: legs, arms and trunk/root each from its own random pose of ``theta``."""
    legs, arms, trunk = (theta[rng.integers(len(theta), size=n)].reshape(n, 24, 3)
                         for _ in range(3))
    out = trunk.copy()
    out[:, LEGS] = legs[:, LEGS]
    out[:, ARMS] = arms[:, ARMS]
    return out.reshape(n, 72)


def best_components(prior: object, body_pose: np.ndarray) -> np.ndarray:
    """(n,) index of each pose's least-energy prior component, for (n, 69) body poses."""
    d = body_pose[:, None, :] - prior.means[None]  # type: ignore[attr-defined]
    quad = 0.5 * (np.einsum("kij,nki->nkj", prior.precision_cholesky, d) ** 2).sum(axis=2)  # type: ignore[attr-defined]
    return (quad + prior.neg_log_c[None]).argmin(axis=1)  # type: ignore[attr-defined]


def jitter(theta: np.ndarray, rng: np.random.Generator, sigma: float,
           prior: object) -> np.ndarray:
    """``theta`` (n, 72) with the body pose moved by s · C_k z (see the module's docstring,
    s = ``sigma``); the root unchanged."""
    out = theta.copy()
    if sigma <= 0 or not len(theta):
        return out
    chol = np.linalg.cholesky(prior.covars)  # type: ignore[attr-defined]
    k = best_components(prior, theta[:, 3:])
    z = rng.normal(size=(len(theta), 69))
    out[:, 3:] += sigma * np.einsum("nij,nj->ni", chol[k], z)
    return out


def augment(theta: np.ndarray, prior: object, count: int, rng: np.random.Generator,
            mix: float = MIX_SHARE, sigma: float = SIGMA,
            quantile: float = QUANTILE) -> Augmented:
    """``count`` plausible augmented poses of the training poses ``theta`` (N, 72) (see the
    module's docstring); ``prior`` has ``energies((M, 69)) -> (M,)``."""
    if count < 0 or not 0.0 <= mix <= 1.0 or sigma < 0 or not 0.0 < quantile <= 1.0:
        raise ValueError(f"augment: count {count} must be >= 0, mix {mix} in [0, 1], "
                         f"sigma {sigma} >= 0, quantile {quantile} in (0, 1]")
    bound = float(np.quantile(prior.energies(theta[:, 3:]), quantile))  # type: ignore[attr-defined]
    kept: list[np.ndarray] = []
    have = drawn = 0
    while have < count:
        mixed = rng.random(DRAW) < mix
        cand = theta[rng.integers(len(theta), size=DRAW)]
        cand[mixed] = mix_limbs(theta, rng, int(mixed.sum()))
        cand = jitter(cand, rng, sigma, prior)
        ok = prior.energies(cand[:, 3:]) <= bound  # type: ignore[attr-defined]
        kept.append(cand[ok])
        have += int(ok.sum())
        drawn += DRAW
        if drawn > 1000 * max(count, 1):
            raise RuntimeError(f"augment: {have} of {count} poses kept after {drawn} draws")
    out = np.concatenate(kept)[:count] if kept else np.zeros((0, 72))
    return Augmented(out, bound, have / max(drawn, 1))
