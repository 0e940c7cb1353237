"""The ``smplify`` command: pose, info, fit (with the real fit when present, else a stand-in)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import smplify
import smplify.installed
from extras import need_renderer
from hand_fit import HandFit
from PIL import Image
from smplify.cli import main
from smplify.export import load_mesh, load_params, save_params
from smplify.keypoints.readers import read_keypoint_file

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "messi5_mediapipe33.json"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_user_error(code: int, err: str, *fragments: str) -> None:
    assert code == 2
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err


@pytest.fixture()
def hand_fit(monkeypatch) -> HandFit:
    fit = HandFit()
    monkeypatch.setattr(smplify, "fit", fit, raising=False)
    return fit


def openpose_file(tmp_path: Path) -> Path:
    rng = np.random.default_rng(3)
    rows = np.column_stack([rng.uniform(100, 500, 25), rng.uniform(50, 300, 25),
                            rng.uniform(0.5, 1.0, 25)])
    rows[19:] = 0.0  # no feet found
    path = tmp_path / "frame_keypoints.json"
    path.write_text(json.dumps({"version": 1.3, "people": [
        {"person_id": [-1], "pose_keypoints_2d": rows.reshape(-1).tolist()}]}))
    return path


# --- pose --------------------------------------------------------------------------------------
def test_pose_writes_the_posed_mesh(tmp_path, capsys, procedural_npz, procedural_model):
    out = tmp_path / "body.ply"
    code, stdout, _ = run(capsys, "pose", "--model", procedural_npz, "--out", out,
                          "--betas", "1.5", "-0.5", "--global-orient", "0", "1.0", "0",
                          "--transl", "0", "0", "2")
    assert code == 0 and f"wrote {out}" in stdout
    vertices, faces = load_mesh(out)
    expected = procedural_model(betas=[1.5, -0.5] + [0.0] * 8, global_orient=[0, 1.0, 0],
                                transl=[0, 0, 2]).vertices
    np.testing.assert_array_equal(vertices, expected.astype(np.float32))
    np.testing.assert_array_equal(faces, procedural_model.faces)


def test_pose_from_saved_params_reproduces_the_fit(tmp_path, capsys, procedural_npz,
                                                    procedural_model):
    fit = HandFit()
    keypoints = np.column_stack([np.full((24, 2), 100.0), np.ones(24)])
    result = fit(keypoints, format="smpl24", image_size=(640, 480), model=procedural_model)
    params = save_params(tmp_path / "fit.json", result)
    out = tmp_path / "again.obj"
    code, _, _ = run(capsys, "pose", "--model", procedural_npz, "--params", params, "--out", out)
    assert code == 0
    vertices, _ = load_mesh(out)
    np.testing.assert_allclose(vertices, result.vertices, rtol=0, atol=1e-5)


@pytest.mark.parametrize("args, fragment", [
    (["--out", "body.stl"], "--out"),
    (["--out", "body.obj", "--body-pose", "0.1", "0.2"], "--body-pose: expected 69"),
    (["--out", "body.obj", "--betas"] + ["0.1"] * 11, "--betas"),
    (["--out", "body.obj", "--params", "missing.npz"], "missing.npz"),
])
def test_pose_reports_bad_input_without_traceback(tmp_path, capsys, procedural_npz, args,
                                                  fragment):
    args = [str(tmp_path / a) if a.endswith((".stl", ".obj", ".npz")) else a for a in args]
    code, _, err = run(capsys, "pose", "--model", procedural_npz, *args)
    assert_user_error(code, err, fragment)


def test_missing_model_file_is_a_user_error(tmp_path, capsys):
    code, _, err = run(capsys, "pose", "--model", tmp_path / "nope.npz", "--out",
                       tmp_path / "b.obj")
    assert_user_error(code, err, "nope.npz")


def test_missing_open_model_is_explained(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(smplify.installed, "DATA_DIR", tmp_path)
    code, _, err = run(capsys, "pose", "--out", tmp_path / "b.obj")
    assert code == 1 and "open body model is not installed" in err and "Traceback" not in err
    code, out, _ = run(capsys, "info")  # info still reports what it can
    assert code == 0 and "open body model is not installed" in out


def test_argparse_errors_return_2(capsys):
    code, _, err = run(capsys, "bogus")
    assert code == 2 and "invalid choice" in err
    code, _, _ = run(capsys, "pose")  # --out is required
    assert code == 2


# --- info -------------------------------------------------------------------------------------
def test_fit_help_names_the_default_output_folder(capsys):
    """A user who runs `smplify fit clip.mp4` (README) without --out finds the files where
    the help says."""
    from smplify.cli import build_parser

    parser = build_parser()
    default = parser.parse_args(["fit", "x.json"]).out
    code, out, _ = run(capsys, "fit", "--help")
    assert code == 0 and f"(default: {default})" in " ".join(out.split())


def test_fit_help_names_the_solver_defaults(capsys):
    """`--threads` and `--max-iterations` say what a fit uses without them (FitOptions')."""
    code, out, _ = run(capsys, "fit", "--help")
    text = " ".join(out.split())
    assert code == 0
    assert "(default: one per core, at most one per start)" in text
    assert f"per solver stage (default: {smplify.FitOptions().max_iterations})" in text


def test_info_describes_the_model(capsys, procedural_npz, procedural_model):
    code, out, _ = run(capsys, "info", "--model", procedural_npz)
    assert code == 0
    assert f"smplify {smplify.__version__}" in out
    assert f"{procedural_model.num_vertices} vertices" in out
    assert "pose blend shapes: yes" in out
    assert "mediapipe33" in out


def test_info_says_what_of_the_extras_is_installed(capsys, monkeypatch, tmp_path):
    """Whether the overlay video will be H.264 is a line of ``smplify info``, not a surprise
    after a video's fit."""
    from importlib import metadata

    from extras import need_module

    need_module("imageio_ffmpeg", "render")
    code, out, _ = run(capsys, "info")
    assert code == 0
    line = next(x for x in out.splitlines() if x.strip().startswith("extras:"))
    assert f"imageio-ffmpeg {metadata.version('imageio-ffmpeg')}: overlay videos H.264" in line
    fake = tmp_path / "ffmpeg"
    fake.write_text("#!/bin/sh\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("IMAGEIO_FFMPEG_EXE", str(fake))  # an ffmpeg without libx264
    code, out, _ = run(capsys, "info")
    assert "overlay videos mp4v (no imageio-ffmpeg with libx264)" in out


# --- reading keypoint files -------------------------------------------------------------------
def test_read_keypoint_file_own_layout_and_openpose(tmp_path):
    kp = read_keypoint_file(EXAMPLE)
    assert kp.format == "mediapipe33" and kp.image_size == (548, 342)
    assert kp.keypoints.shape == (33, 3)
    op = read_keypoint_file(openpose_file(tmp_path))
    assert op.format == "openpose25" and op.image_size is None
    assert op.keypoints.shape == (25, 3) and np.all(op.keypoints[19:] == 0)


@pytest.mark.parametrize("content, fragment", [
    ("not json", "not a JSON file"),
    (json.dumps({"points": []}), "'keypoints'"),
    (json.dumps({"keypoints": [1, 2, 3]}), "(K, 3)"),
    (json.dumps({"keypoints": [[1, 2, 1]], "image_size": [0, 10]}), "image size"),
])
def test_read_keypoint_file_rejects_bad_files(tmp_path, content, fragment):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(ValueError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        read_keypoint_file(path)


# --- fit --------------------------------------------------------------------------------------
def test_fit_writes_mesh_params_and_picture(tmp_path, capsys, procedural_npz, procedural_model,
                                           hand_fit):
    need_renderer()  # --render draws the fit (smplify[render])
    out_dir = tmp_path / "out"
    code, out, err = run(capsys, "fit", EXAMPLE, "--model", procedural_npz, "--out", out_dir,
                         "--render", "--flip", "always", "--threads", "2", "--focal", "600")
    assert code == 0, err
    call = hand_fit.calls[-1]
    assert call["format"] == "mediapipe33" and call["image_size"] == (548, 342)
    assert call["focal_length"] == 600.0
    assert call["options"] == {"flip": True, "threads": 2}
    stem = EXAMPLE.stem
    vertices, faces = load_mesh(out_dir / f"{stem}.obj")
    assert vertices.shape == (procedural_model.num_vertices, 3)
    params = load_params(out_dir / f"{stem}_params.npz")
    assert params["focal_length"] == 600.0 and params["orientation"] == "initial"
    assert load_params(out_dir / f"{stem}_params.json")["energy"] == params["energy"]
    with Image.open(out_dir / f"{stem}_fit.png") as picture:
        assert picture.size == (548, 342)
        pixels = np.asarray(picture.convert("RGB"))
    assert np.any(np.all(pixels == (255, 255, 255), axis=2))  # blank canvas
    assert np.any(np.any(pixels != (255, 255, 255), axis=2))  # and a body on it
    assert "energies:" in out and "data" in out and "total" in out
    assert "orientation: initial" in out and "time:" in out


def test_fit_overlays_on_a_photo_and_reads_openpose(tmp_path, capsys, procedural_npz, hand_fit):
    need_renderer()  # --render draws the fit (smplify[render])
    photo = tmp_path / "photo.png"
    Image.new("RGB", (640, 360), (0, 0, 90)).save(photo)
    code, _, err = run(capsys, "fit", openpose_file(tmp_path), "--image-size", "640", "360",
                       "--model", procedural_npz, "--out", tmp_path, "--render", photo,
                       "--mesh-format", "glb", "--name", "op")
    assert code == 0, err
    assert hand_fit.calls[-1]["format"] == "openpose25"
    assert (tmp_path / "op.glb").is_file()
    with Image.open(tmp_path / "op_fit.png") as picture:
        pixels = np.asarray(picture.convert("RGB"))
    assert np.any(np.all(pixels == (0, 0, 90), axis=2))  # the photo shows around the body


@pytest.mark.parametrize("extra, fragment", [
    (["--format", "coco17"], "contradicts"),
    (["--image-size", "640", "-1"], "--image-size"),
    (["--focal", "-5"], "--focal"),
    (["--render", "__PHOTO__"], "keypoints are for 548 x 342"),
])
def test_fit_reports_bad_input(tmp_path, capsys, procedural_npz, hand_fit, extra, fragment):
    photo = tmp_path / "small.png"
    Image.new("RGB", (10, 10)).save(photo)
    extra = [str(photo) if a == "__PHOTO__" else a for a in extra]
    code, _, err = run(capsys, "fit", EXAMPLE, "--model", procedural_npz, "--out", tmp_path,
                       *extra)
    assert_user_error(code, err, fragment)
    assert not hand_fit.calls


def test_fit_needs_image_size_for_openpose(tmp_path, capsys, procedural_npz, hand_fit):
    code, _, err = run(capsys, "fit", openpose_file(tmp_path), "--model", procedural_npz)
    assert_user_error(code, err, "--image-size")


def test_fit_checks_the_keypoints_against_the_format(tmp_path, capsys, procedural_npz, hand_fit):
    path = tmp_path / "short.json"
    path.write_text(json.dumps({"format": "coco17", "image_size": [100, 100],
                                "keypoints": [[1.0, 2.0, 1.0]] * 5}))
    code, _, err = run(capsys, "fit", path, "--model", procedural_npz)
    assert_user_error(code, err, "(17, 3)")


@pytest.mark.parametrize("row", [[float("nan")] * 3, [1.0, 2.0, 0.0]])
def test_fit_of_nobody_names_the_file(tmp_path, capsys, procedural_npz, hand_fit, row):
    path = tmp_path / "nobody.json"  # NaN rows (JSON's NaN) or confidence 0 throughout
    path.write_text(json.dumps({"format": "coco17", "image_size": [100, 100],
                                "keypoints": [row] * 17}))
    code, _, err = run(capsys, "fit", path, "--model", procedural_npz, "--out", tmp_path)
    assert_user_error(code, err, "nobody.json: keypoints: every confidence is zero or NaN")
    assert not hand_fit.calls


def test_fit_without_smplify_fit_says_so(tmp_path, capsys, procedural_npz, monkeypatch):
    monkeypatch.delattr(smplify, "fit", raising=False)
    code, _, err = run(capsys, "fit", EXAMPLE, "--model", procedural_npz, "--out", tmp_path)
    assert code == 1 and "no smplify.fit" in err


def test_fit_end_to_end_with_the_real_fit(tmp_path, capsys, procedural_npz):
    need_renderer()  # --render draws the fit (smplify[render])
    code, out, err = run(capsys, "fit", EXAMPLE, "--model", procedural_npz, "--out", tmp_path,
                         "--render")
    assert code == 0, err
    params = load_params(tmp_path / f"{EXAMPLE.stem}_params.npz")
    assert np.isfinite(params["energy"]["total"]) and params["transl"][0, 2] > 0
    assert (tmp_path / f"{EXAMPLE.stem}_fit.png").is_file()
    assert "energies:" in out


def test_fit_with_the_reference_fit(tmp_path, capsys, procedural_npz):
    # the pure NumPy fit, cut short: a real fit through the command (every start and stage,
    # one solver iteration each: what this test checks is the command's path, not the fit)
    code, out, err = run(capsys, "fit", EXAMPLE, "--model", procedural_npz, "--out", tmp_path,
                         "--reference", "--max-iterations", "1", "--flip", "never")
    assert code == 0, err
    params = load_params(tmp_path / f"{EXAMPLE.stem}_params.npz")
    energy = params["energy"]
    assert set(energy) >= {"data", "pose", "angle", "shape", "interpenetration", "total"}
    assert energy["total"] == pytest.approx(sum(v for k, v in energy.items() if k != "total"))
    assert params["transl"][0, 2] > 0  # in front of the camera
    assert "reference" in out
