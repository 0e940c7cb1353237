"""The initialiser's pose augmentation (tools/initializer_augment.py): limb mixing along the
kinematic tree, jitter in the pose prior's metric, and the plausibility bound."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pytest
import smplify

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import build_initializer  # noqa: E402
import build_pose_prior  # noqa: E402
import initializer_augment as aug  # noqa: E402


@pytest.fixture(scope="module")
def prior():
    return smplify.load_prior("open")


def poses(prior, n: int, seed: int) -> np.ndarray:
    """n poses θ (n, 72): the prior's samples with a random root orientation."""
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.normal(scale=0.5, size=(n, 3)), prior.sample(n, rng)], axis=1)


def test_groups_are_whole_subtrees() -> None:
    legs, arms = set(aug.LEGS), set(aug.ARMS)
    trunk = set(range(24)) - legs - arms
    assert not legs & arms and trunk == {0, 3, 6, 9, 12, 15}
    parents = build_pose_prior.PARENTS
    for group, attach in ((legs, 0), (arms, 9)):
        for j in group:     # a limb hangs from the trunk at one joint only
            assert parents[j] in group or parents[j] == attach
        for j in range(1, 24):  # and holds every descendant of its joints
            if parents[j] in group:
                assert j in group


def test_mix_takes_each_group_from_one_donor() -> None:
    n = 50
    theta = np.repeat(np.arange(n, dtype=float)[:, None], 72, axis=1)  # pose i: all values i
    out = aug.mix_limbs(theta, np.random.default_rng(3), 400).reshape(-1, 24, 3)
    trunk = [j for j in range(24) if j not in aug.LEGS + aug.ARMS]
    donors = []
    for group in (aug.LEGS, aug.ARMS, trunk):
        values = out[:, group].reshape(len(out), -1)
        assert (values == values[:, :1]).all()  # one donor for the whole group
        donors.append(values[:, 0])
    legs, arms, trunk_d = donors
    assert (legs != arms).mean() > 0.9 and (legs != trunk_d).mean() > 0.9


def test_jitter_follows_the_prior_spread(prior) -> None:
    theta = np.concatenate([np.zeros((prior.num_components, 3)), prior.means], axis=1)
    theta = np.repeat(theta, 200, axis=0)
    s = 0.3
    moved = aug.jitter(theta, np.random.default_rng(1), s, prior)
    np.testing.assert_array_equal(moved[:, :3], theta[:, :3])  # the root stays
    rise = prior.energies(moved[:, 3:]) - prior.energies(theta[:, 3:])
    # At its component's mean a pose's energy rises by s²‖z‖²/2 under that component
    # (less if another component takes over): ~s² · 69 / 2 on average.
    assert 0.5 * s * s * 69 * 0.7 < rise.mean() <= 0.5 * s * s * 69 * 1.1
    assert np.array_equal(aug.jitter(theta, np.random.default_rng(1), 0.0, prior), theta)


def test_augment_keeps_only_plausible_poses_deterministically(prior) -> None:
    theta = poses(prior, 300, 0)
    before = theta.copy()
    a = aug.augment(theta, prior, 500, np.random.default_rng(7), 0.75, 0.5, 0.9)
    b = aug.augment(theta, prior, 500, np.random.default_rng(7), 0.75, 0.5, 0.9)
    np.testing.assert_array_equal(a.theta, b.theta)
    np.testing.assert_array_equal(theta, before)  # the training poses are not changed
    assert a.theta.shape == (500, 72)
    assert a.bound == pytest.approx(np.quantile(prior.energies(theta[:, 3:]), 0.9))
    assert (prior.energies(a.theta[:, 3:]) <= a.bound).all()
    assert 0.0 < a.acceptance < 1.0  # the bound rejected some draws
    # Roots come from training poses (the trunk's donor); body poses are new.
    root_dist = np.abs(a.theta[:, None, :3] - theta[None, :, :3]).sum(-1).min(1)
    assert (root_dist == 0).all()
    assert (np.abs(a.theta[:, None, 3:] - theta[None, :, 3:]).sum(-1).min(1) > 0).all()


@pytest.mark.parametrize("kw", [{"mix": 1.5}, {"sigma": -1.0}, {"quantile": 0.0}])
def test_augment_rejects_bad_settings(prior, kw) -> None:
    with pytest.raises(ValueError, match="augment"):
        aug.augment(poses(prior, 10, 0), prior, 5, np.random.default_rng(0), **kw)


def test_build_tool_appends_augmented_poses_only_when_asked(prior) -> None:
    theta = poses(prior, 40, 2)
    args = argparse.Namespace(augment=0, augment_mix=0.75, augment_sigma=0.5,
                              augment_quantile=0.99)
    same, info = build_initializer.training_poses(theta, args)
    assert same is theta and info == {}
    args.augment = 2
    more, info = build_initializer.training_poses(theta, args)
    assert more.shape == (120, 72) and info["augmented_poses"] == 80
    np.testing.assert_array_equal(more[:40], theta)
