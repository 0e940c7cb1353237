"""``smplify fit VIDEO --motion``: each track's motion files (smplify.track_motion), read back."""

from __future__ import annotations

import numpy as np
import pytest
from crowd import IMAGE_SIZE, person_keypoints
from scipy.spatial.transform import Rotation
from smplify.cli import main
from test_motion import read_bvh, read_glb

FPS, FRAMES, MISSED = 12.0, 7, 3


@pytest.fixture(scope="module")
def clip(tmp_path_factory, open_model):
    """One person walking right and turning, missed by the detector on frame 3, at 12 fps."""
    path = tmp_path_factory.mktemp("clip") / "clip.npz"
    keypoints = np.stack([person_keypoints(open_model, "coco17", [-0.6 + 0.1 * t, 0.3, 5.0],
                                           yaw=0.15 * t) for t in range(FRAMES)])
    keypoints[MISSED, :, 2] = 0.0
    np.savez(path, keypoints=keypoints, format=np.str_("coco17"),
             image_size=np.array(IMAGE_SIZE), fps=np.float64(FPS))
    return path


def _fit(tmp_path, capsys, clip, *options):
    code = main(["fit", str(clip), "--out", str(tmp_path), "--no-render", *options])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def test_the_online_fits_as_motion_files(tmp_path, capsys, clip, open_model):
    """glb, BVH and smplx .npz over every frame from the track's first to its last, at the
    video's rate: the track's own fits where it was seen, the missed frame filled between
    its neighbours; one shape (the track's last)."""
    import trimesh

    out = _fit(tmp_path, capsys, clip, "--motion", "glb", "bvh", "npz")
    assert "clip.npz: npz, 7 frames, 6 bodies of 1 person" in out
    track = np.load(tmp_path / "clip_track0.npz")
    assert track["frame"].tolist() == [0, 1, 2, 4, 5, 6]

    with np.load(tmp_path / "clip_track0_motion.npz") as motion:
        assert motion["body_pose"].shape == (FRAMES, 69) and float(motion["fps"]) == FPS
        seen = track["frame"]
        for key in ("global_orient", "body_pose", "transl"):
            np.testing.assert_allclose(motion[key][seen], track[key], atol=1e-6)
        np.testing.assert_allclose(motion["betas"], np.tile(track["betas"][-1], (FRAMES, 1)))
        # the missed frame: halfway between its neighbours, on the rotation group
        np.testing.assert_allclose(motion["transl"][MISSED],
                                   track["transl"][2:4].mean(axis=0), atol=1e-6)
        before, after, missed = (Rotation.from_rotvec(r) for r in
                                 (track["global_orient"][2], track["global_orient"][3],
                                  motion["global_orient"][MISSED]))
        half = (before.inv() * after).magnitude() / 2
        assert half > 1e-3
        assert (before.inv() * missed).magnitude() == pytest.approx(half, abs=1e-5)
        assert (missed.inv() * after).magnitude() == pytest.approx(half, abs=1e-5)
        posed = open_model(betas=motion["betas"][0], body_pose=motion["body_pose"][5],
                           global_orient=motion["global_orient"][5], transl=motion["transl"][5])
        np.testing.assert_allclose(motion["joints"][5], posed.joints, atol=1e-5)
        joints = motion["joints"]

    glb = tmp_path / "clip_track0_motion.glb"
    scene = trimesh.load(glb, process=False)  # an independent reader opens it
    assert sum(len(g.vertices) for g in scene.geometry.values()) == open_model.num_vertices
    doc, accessor = read_glb(glb)
    animation = doc["animations"][0]
    np.testing.assert_allclose(accessor(animation["samplers"][0]["input"]),
                               np.arange(FRAMES) / FPS, atol=1e-6)
    root = accessor(animation["samplers"][24]["output"])  # the pelvis, y-up
    np.testing.assert_allclose(root, joints[:, 0] * [1, -1, -1], atol=1e-5)

    names, _, _, data = read_bvh(tmp_path / "clip_track0_motion.bvh")
    assert len(names) == 24 and data.shape == (FRAMES, 75)
    np.testing.assert_allclose(data[:, :3], joints[:, 0] * [1, -1, -1], atol=1e-5)
    assert f"Frame Time: {1 / FPS:.8f}" in (tmp_path / "clip_track0_motion.bvh").read_text()


def test_fit_sequence_as_motion(tmp_path, capsys, clip):
    """``--motion-fit sequence``: fit_sequence over the track's keypoints, every frame."""
    _fit(tmp_path, capsys, clip, "--motion", "npz", "--motion-fit", "sequence")
    assert not (tmp_path / "clip_track0_motion.glb").exists()
    track = np.load(tmp_path / "clip_track0.npz")
    with np.load(tmp_path / "clip_track0_motion.npz") as motion:
        assert motion["body_pose"].shape == (FRAMES, 69)
        assert np.all(np.isfinite(motion["body_pose"])) and np.all(np.isfinite(motion["joints"]))
        assert float(motion["focal_length"]) == float(track["focal_length"])
        # not the online fits: one shape from the start, its own poses
        assert np.abs(motion["body_pose"][track["frame"]] - track["body_pose"]).max() > 1e-3
        np.testing.assert_allclose(motion["transl"][track["frame"]], track["transl"], atol=0.2)


def test_motion_arguments_are_checked(tmp_path, capsys, clip):
    assert main(["fit", str(clip), "--out", str(tmp_path), "--motion", "gif"]) == 2
    assert "invalid choice: 'gif'" in capsys.readouterr().err
    assert main(["fit", str(clip), "--out", str(tmp_path), "--motion-fit", "sequence"]) == 2
    assert "give --motion" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_a_single_frame_says_it_has_no_motion(tmp_path, capsys, clip):
    one = tmp_path / "one.npz"
    with np.load(clip) as z:
        np.savez(one, **{**dict(z), "keypoints": z["keypoints"][:1]})
    out = _fit(tmp_path / "out", capsys, one, "--motion", "glb")
    assert "no motion files: one frame is no motion" in out
    assert not list((tmp_path / "out").glob("*motion*"))
