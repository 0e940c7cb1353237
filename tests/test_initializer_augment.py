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


SHIPPED_FORMATS = ("smpl24", "coco17", "openpose25", "mediapipe33", "lsp14")


def test_the_docstring_says_the_steps_each_shipped_file_records() -> None:
    """The tool's help and docstring say which steps ship (the docs had said 10,000 for all;
    coco17, openpose25 and mediapipe33 ship with 5,000): each format's stated steps are its
    shipped file's recorded ones."""
    import json
    import re

    data = Path(build_initializer.__file__).resolve().parents[1] / "python" / "smplify" / "data"
    help_text = " ".join(build_initializer.__doc__.split())
    for fmt in SHIPPED_FORMATS:
        with np.load(data / f"initializer_{fmt}.npz") as z:
            metrics = json.loads(str(z["metrics"].reshape(-1)[0]))
        said = re.search(rf"(?:{fmt}[ ,a-z0-9]*?)with ([0-9,]+)", help_text)
        assert said and int(said.group(1).replace(",", "")) == metrics["steps"], fmt


def test_shipped_recipe_reads_a_files_metrics_as_the_tools_arguments(tmp_path) -> None:
    """shipped_recipe maps a weights file's metrics to --shipped's arguments (train_bodies to
    bodies, the mix's shares in initializer_mix's order, augment), and a file recorded before
    the mix (no low_noise_share) to the error model's confidences only: checked on files
    whose metrics differ from every default, so a name read wrong shows."""
    import json

    base = {"steps": 1234, "batch": 77, "width": 96, "blocks": 3, "lr": 0.0025,
            "train_bodies": 4321, "pa_mpjpe_top1_mm": 80.0}
    mixed = {**base, "low_noise_share": 0.15, "augment": 2,
             "confidence_shares": {"saturated": 0.5, "error": 0.2, "uniform": 0.3}}
    for name, metrics in (("old", base), ("mixed", mixed)):
        (tmp_path / name).mkdir()
        np.savez(tmp_path / name / "initializer_coco17.npz", metrics=np.array(json.dumps(metrics)))
    common = {"steps": 1234, "batch": 77, "width": 96, "blocks": 3, "lr": 0.0025,
              "bodies": 4321}
    assert build_initializer.shipped_recipe("coco17", tmp_path / "old") == {
        **common, "low_share": 0.0, "confidence_shares": (1.0, 0.0, 0.0), "augment": 0}
    assert build_initializer.shipped_recipe("coco17", tmp_path / "mixed") == {
        **common, "low_share": 0.15, "confidence_shares": (0.2, 0.3, 0.5), "augment": 2}


def test_error_model_only_batches_draw_as_the_shipped_training_did() -> None:
    """With the error model only, a training batch is detections.make_cases' cases drawn from
    the generator as before the mix (mixed_cases gives the same cases but draws more, so
    every later batch of a rebuild would differ from the shipped training's)."""
    from smplify import detections

    rng = np.random.default_rng(0)
    from smplify.keypoints import get_format

    n, names = 12, get_format("coco17").keypoint_names
    data = {"theta": rng.normal(scale=0.3, size=(n, 72)), "betas": rng.normal(size=(n, 10)),
            "points_coco17": rng.normal(scale=0.4, size=(n, len(names), 3)),
            "joints": rng.normal(scale=0.4, size=(n, 24, 3))}
    body_rot = np.tile(np.eye(3), (n, 23, 1, 1))
    available = np.ones(len(names), dtype=bool)
    args = argparse.Namespace(**build_initializer.ERROR_MODEL_ONLY)
    assert build_initializer.error_model_only(args)
    a, b = np.random.default_rng(5), np.random.default_rng(5)
    x, *_ = build_initializer.batch(data, "coco17", a, 8, names, available, body_rot, args)
    idx = b.integers(n, size=8)
    cases = detections.make_cases(data["points_coco17"][idx], data["joints"][idx],
                                  data["theta"][idx], data["betas"][idx], names, b, available)
    from smplify import initializer

    np.testing.assert_array_equal(x, initializer.features(cases.keypoints, cases.image_size,
                                                          cases.focal))
    assert a.random() == b.random()  # the generator left where the old training left it
    mixed = argparse.Namespace(low_share=0.2, confidence_shares=(0.4, 0.25, 0.35))
    assert not build_initializer.error_model_only(mixed)


def test_shipped_overrides_the_recipe_options_per_format() -> None:
    ap = argparse.ArgumentParser()
    given = dict(formats=["coco17", "lsp14"], steps=123, batch=64, width=128, blocks=1,
                 lr=1e-3, bodies=30000, low_share=0.2, confidence_shares=(0.4, 0.25, 0.35),
                 augment=0)
    plain = build_initializer.format_recipes(argparse.Namespace(shipped=False, **given), ap)
    assert [plain[f].steps for f in given["formats"]] == [123, 123]
    shipped = build_initializer.format_recipes(argparse.Namespace(shipped=True, **given), ap)
    for fmt in given["formats"]:
        recipe = build_initializer.shipped_recipe(fmt)
        assert {k: getattr(shipped[fmt], k) for k in recipe} == recipe
        assert build_initializer.error_model_only(shipped[fmt])
    assert (shipped["coco17"].steps, shipped["lsp14"].steps) == (5000, 10000)
