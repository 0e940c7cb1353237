"""The demo (``python -m smplify.demo``) run into a temporary folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import smplify
import smplify.installed
from extras import need_module, need_renderer, unavailable
from hand_fit import HandFit
from PIL import Image
from smplify import demo
from smplify.export import load_mesh, load_params

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_packaged_keypoints_are_the_example_file():
    # the wheel carries a copy of examples/messi5_mediapipe33.json; they must not drift apart
    assert demo.EXAMPLE_KEYPOINTS.read_bytes() == \
        (EXAMPLES / "messi5_mediapipe33.json").read_bytes()


def test_pose_only_demo_writes_a_posed_mesh(tmp_path, capsys, procedural_npz, procedural_model):
    need_renderer()  # the demo draws its pictures (smplify[render])
    code = demo.main(["--output", str(tmp_path), "--model", str(procedural_npz), "--pose-only"])
    out = capsys.readouterr().out
    assert code == 0
    vertices, faces = load_mesh(tmp_path / "body.obj")
    expected = procedural_model(body_pose=demo.demo_pose()).vertices
    np.testing.assert_allclose(vertices, expected, rtol=0, atol=1e-8)
    np.testing.assert_array_equal(faces, procedural_model.faces)
    assert not np.allclose(vertices, procedural_model().vertices)  # not the T-pose
    with Image.open(tmp_path / "body.png") as picture:
        assert picture.size == (1024, 512)
    assert "wrote" in out and "time:" in out


def test_demo_says_when_there_is_no_fit(tmp_path, capsys, procedural_npz, monkeypatch):
    monkeypatch.delattr(smplify, "fit", raising=False)
    code = demo.main(["--output", str(tmp_path), "--model", str(procedural_npz),
                      "--keypoints", str(demo.EXAMPLE_KEYPOINTS)])
    assert code == 1
    assert "no smplify.fit" in capsys.readouterr().err


@pytest.mark.parametrize("with_photo", [False, True])
def test_demo_fit_path_writes_everything(tmp_path, capsys, procedural_npz, procedural_model,
                                         monkeypatch, with_photo):
    need_renderer()  # the demo draws its pictures (smplify[render])
    hand_fit = HandFit()
    monkeypatch.setattr(smplify, "fit", hand_fit, raising=False)
    photo = tmp_path / "photo.png"
    if with_photo:
        Image.new("RGB", (548, 342), (10, 120, 10)).save(photo)
    out_dir = tmp_path / "out"
    code = demo.main(["--output", str(out_dir), "--model", str(procedural_npz),
                      "--image", str(photo), "--keypoints", str(demo.EXAMPLE_KEYPOINTS)])
    out = capsys.readouterr().out
    assert code == 0
    call = hand_fit.calls[-1]
    assert call["format"] == "mediapipe33" and call["image_size"] == (548, 342)
    assert call["keypoints"].shape == (33, 3)
    vertices, _ = load_mesh(out_dir / "messi5.obj")
    assert vertices.shape == (procedural_model.num_vertices, 3)
    params = load_params(out_dir / "messi5_params.npz")
    assert params["body_pose"].shape == (1, 69)
    with Image.open(out_dir / "messi5_fit.png") as picture:
        assert picture.size == (548, 342)
        pixels = np.asarray(picture.convert("RGB"))
    background = (10, 120, 10) if with_photo else (255, 255, 255)
    assert np.any(np.all(pixels == background, axis=2))
    assert (out_dir / "messi5_side.png").is_file()
    assert ("blank canvas" in out) != with_photo
    for fragment in ("energies:", "data", "total", "orientation: initial", "time:"):
        assert fragment in out


def test_demo_explains_a_missing_open_model(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(smplify.installed, "DATA_DIR", tmp_path)
    code = demo.main(["--output", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 1 and "open body model is not installed" in err


def test_demo_reports_a_bad_model_path(tmp_path, capsys):
    code = demo.main(["--output", str(tmp_path), "--model", str(tmp_path / "none.npz")])
    err = capsys.readouterr().err
    assert code == 2 and "none.npz" in err and "Traceback" not in err


def test_demo_with_the_real_fit(tmp_path, capsys, procedural_npz):
    need_renderer()  # the demo draws its pictures (smplify[render])
    code = demo.main(["--output", str(tmp_path), "--model", str(procedural_npz),
                      "--image", str(tmp_path / "no_photo.jpg")])
    out = capsys.readouterr().out
    assert code == 0
    params = load_params(tmp_path / "messi5_params.npz")
    assert np.isfinite(params["energy"]["total"])
    assert params["orientation"] in ("initial", "flipped")
    assert "energies:" in out and "orientation:" in out


def test_demo_on_the_photo_detects_fits_and_draws(tmp_path, capsys):
    need_module("mediapipe", "detect")
    need_renderer()
    if not demo.EXAMPLE_PHOTO.is_file():
        unavailable(f"{demo.EXAMPLE_PHOTO} (Debian package opencv-doc)")
    code = demo.main(["--output", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0
    assert "found and fitted 1 person" in out and "energies:" in out
    params = load_params(tmp_path / "messi5_p0_params.json")
    assert params["track_id"] == 0 and np.isfinite(params["energy"]["total"])
    vertices, _ = load_mesh(tmp_path / "messi5_p0.obj")
    assert np.all(vertices[:, 2] > 0)  # in front of the camera
    with Image.open(demo.EXAMPLE_PHOTO) as img:
        photo = np.asarray(img.convert("RGB"))
    with Image.open(tmp_path / "messi5_overlay.png") as img:
        overlay = np.asarray(img.convert("RGB"))
    changed = np.any(overlay != photo, axis=2)
    assert not changed[:, :40].any()  # the photo left of the player (he spans x 70..460)
    assert changed.mean() > 0.1
    with Image.open(tmp_path / "messi5_p0_side.png") as img:
        assert img.size[1] > 100
