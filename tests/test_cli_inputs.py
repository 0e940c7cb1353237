"""``smplify fit INPUT``: photos, videos, OpenPose folders, COCO and .npz files, end to end."""

from __future__ import annotations

import numpy as np
import pytest
from crowd import IMAGE_SIZE, crowd, write_coco_results, write_npz, write_openpose_folder
from extras import need_module, need_renderer, opencv_sample
from PIL import Image
from smplify.cli import main
from smplify.export import load_params

W, H = (str(v) for v in IMAGE_SIZE)


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def openpose_seq(open_model):
    return crowd(open_model, "openpose25")


def test_openpose_folder_several_people_entering_and_leaving(tmp_path, capsys, openpose_seq):
    folder = write_openpose_folder(tmp_path / "json", openpose_seq)
    code, out, err = run(capsys, "fit", folder, "--image-size", W, H, "--out", tmp_path / "o",
                         "--no-render")
    assert code == 0, err
    lines = out.strip().splitlines()
    assert len(lines) == 1 and "openpose, 6 frames, 9 bodies of 2 people" in lines[0]
    stacks = sorted((tmp_path / "o").glob("json_track*.npz"))
    assert [np.load(s)["frame"].tolist() for s in stacks] in (
        [[0, 1, 2, 3, 4, 5], [2, 3, 4]], [[2, 3, 4], [0, 1, 2, 3, 4, 5]])
    params = load_params(tmp_path / "o" / "frames" / "clip_000000000003_p1_params.json")
    assert params["frame"] == 3 and params["track_id"] == 1


def test_coco_and_npz_with_overlays(tmp_path, capsys, open_model):
    need_renderer()
    seq = crowd(open_model, "coco17", frames=3)
    coco = write_coco_results(tmp_path / "results.json", seq)
    npz = write_npz(tmp_path / "seq.npz", seq, "coco17")
    code, out, err = run(capsys, "fit", coco, npz, "--image-size", W, H, "--out", tmp_path / "o",
                         "--mesh-format", "ply")
    assert code == 0, err
    assert len(out.strip().splitlines()) == 2  # one summary line per input
    assert "coco, 3 frames, 4 bodies of 2 people" in out
    assert "npz, 3 frames, 4 bodies of 2 people" in out
    for name in ("results", "seq"):
        frames = tmp_path / "o" / name / "frames"
        assert len(list(frames.glob("*_overlay.png"))) == 3
        assert len(list(frames.glob("*.ply"))) == 4


def test_the_photo_every_person_overlay_and_side_view(tmp_path, capsys):
    need_module("mediapipe", "detect")
    need_renderer()
    photo = opencv_sample("messi5.jpg")
    code, out, err = run(capsys, "fit", photo, "--out", tmp_path)
    assert code == 0, err
    assert "image, 1 frame, 1 body of 1 person" in out
    for name in ("messi5_p0.obj", "messi5_p0_params.npz", "messi5_p0_params.json",
                 "messi5_p0_side.png"):
        assert (tmp_path / name).is_file(), name
    with Image.open(photo) as img:
        original = np.asarray(img.convert("RGB"))
    with Image.open(tmp_path / "messi5_overlay.png") as img:
        overlay = np.asarray(img.convert("RGB"))
    assert overlay.shape == original.shape
    assert np.array_equal(overlay[:20, :20], original[:20, :20])  # the photo around the body
    assert np.mean(np.any(overlay != original, axis=2)) > 0.05  # and a body on it


def test_a_video_tracks_people_and_writes_an_overlay_video(tmp_path, capsys):
    cv2 = need_module("cv2", "detect")
    need_module("mediapipe", "detect")
    need_renderer()
    code, out, err = run(capsys, "fit", opencv_sample("vtest.avi"), "--out", tmp_path,
                         "--max-frames", "3")
    assert code == 0, err
    assert "video, 3 frames" in out
    capture = cv2.VideoCapture(str(tmp_path / "vtest_overlay.mp4"))
    frames = 0
    while capture.read()[0]:
        frames += 1
    assert frames == 3
    stacks = list(tmp_path.glob("vtest_track*.npz"))
    assert stacks and all(np.load(s)["body_pose"].shape[1] == 69 for s in stacks)


@pytest.mark.parametrize("make, fragment", [
    (lambda d: d / "empty", "no OpenPose .json files and no images"),
    (lambda d: (d / "x.json").write_text("[1, 2]") and d / "x.json", "COCO entry"),
    (lambda d: (d / "x.json").write_text('{"a": 1}') and d / "x.json", "neither OpenPose"),
    (lambda d: (d / "x.jpg").write_bytes(b"nope") and d / "x.jpg", "not a readable image"),
    (lambda d: (d / "x.mp4").write_bytes(b"\0" * 99) and d / "x.mp4", "no frames"),
    (lambda d: (d / "x_keypoints.json").write_text('{"people": []}') and
     d / "x_keypoints.json", "no person found"),
])
def test_bad_input_is_one_line_naming_the_file(tmp_path, capsys, make, fragment):
    (tmp_path / "empty").mkdir()
    path = make(tmp_path)
    if path.suffix == ".mp4":
        need_module("cv2", "detect")
    code, out, err = run(capsys, "fit", path, "--image-size", W, H, "--out", tmp_path / "o",
                         "--no-render")
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0] and fragment in lines[0], err
    assert "Traceback" not in err
    assert not (tmp_path / "o").exists()  # nothing written: no empty output folder left


def test_one_bad_input_does_not_stop_the_others(tmp_path, capsys, openpose_seq):
    folder = write_openpose_folder(tmp_path / "json", openpose_seq[:2])
    code, out, err = run(capsys, "fit", tmp_path / "missing.json", folder, "--image-size", W, H,
                         "--out", tmp_path / "o", "--no-render")
    assert code == 2 and "missing.json" in err
    assert "openpose, 2 frames" in out
    assert (tmp_path / "o" / "json" / "json_track0.npz").is_file()


def test_inputs_of_one_name_get_folders_of_their_own(tmp_path, capsys, open_model):
    """a/seq.npz and b/seq.npz wrote into one folder, the second's files over the first's."""
    seq = crowd(open_model, "coco17", frames=3)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = write_npz(tmp_path / "a" / "seq.npz", seq, "coco17")
    second = write_npz(tmp_path / "b" / "seq.npz", seq[:2], "coco17")
    code, out, err = run(capsys, "fit", first, second, "--out", tmp_path / "o", "--no-render")
    assert code == 0, err
    for folder, source in (("seq", first), ("seq-2", second)):
        assert f"{source}: npz" in out and f"{tmp_path / 'o' / folder}/" in out
        frames = {int(np.load(s)["frame"].max()) for s in (tmp_path / "o" / folder).glob(
            "seq_track*.npz")}
        assert frames == ({2} if folder == "seq" else {1})


def _written_video(cv2, path) -> tuple[bytes, int, tuple[int, int]]:
    """A video file as a reader sees it: its codec's tag, frame count and size."""
    capture = cv2.VideoCapture(str(path))
    tag = int(capture.get(cv2.CAP_PROP_FOURCC)).to_bytes(4, "little")
    size = (int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)),
            int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    frames = 0
    while capture.read()[0]:
        frames += 1
    return tag, frames, size


def _write_overlay(path, frames: int = 4):
    from smplify.overlay_video import VideoOut

    video = VideoOut(path, 10.0)
    for i in range(frames):  # odd sides: H.264's 4:2:0 needs even ones
        video.write(np.full((47, 63, 3), 40 * i, dtype=np.uint8))
    assert video.close() == path
    return video.codec


def test_the_overlay_video_is_h264_where_imageio_ffmpeg_is_installed(tmp_path):
    """Browsers play H.264, not OpenCV's mp4v."""
    cv2 = need_module("cv2", "detect")
    need_module("imageio_ffmpeg", "render")
    assert _write_overlay(tmp_path / "a" / "v.mp4") == "h264"
    assert _written_video(cv2, tmp_path / "a" / "v.mp4") == (b"h264", 4, (64, 48))
    assert b"avc1" in (tmp_path / "a" / "v.mp4").read_bytes()


@pytest.mark.parametrize("when", ["at the end", "at once"])
def test_a_failed_h264_encode_is_an_error_not_a_broken_file(tmp_path, monkeypatch, when):
    """An ffmpeg that fails (at the end, e.g. a full disk as it writes the index; or at once,
    so the frames meet a closed pipe) is an OSError naming the file and quoting ffmpeg; the
    broken file is removed. (It was a generator closed without a look at ffmpeg's status.)"""
    from smplify.overlay_video import VideoOut

    need_module("imageio_ffmpeg", "render")
    _failing_ffmpeg(tmp_path, monkeypatch, when)
    path = tmp_path / "v.mp4"
    video = VideoOut(path, 10.0)
    with pytest.raises(OSError, match=r"v.mp4: the H.264 encoder \(ffmpeg\) failed with exit "
                                      r"status 1: No space left on device"):
        for _ in range(8):  # 120 kB frames: more than a pipe holds
            video.write(np.zeros((200, 200, 3), dtype=np.uint8))
        video.close()
    assert video.codec == "h264" and not path.exists()


def _failing_ffmpeg(folder, monkeypatch, when: str = "at the end") -> None:
    """IMAGEIO_FFMPEG_EXE: an ffmpeg with libx264 that fails (a full disk), reading every
    frame first ("at the end") or none ("at once")."""
    fake = folder / "ffmpeg"
    read = "cat > /dev/null; " if when == "at the end" else ""
    fake.write_text("#!/bin/sh\ncase \"$*\" in *-encoders*) echo ' V....D libx264  H.264'; "
                    f"exit 0;; esac\n{read}echo 'No space left on device' >&2\n"
                    "touch \"$(eval echo \\${$#})\"; exit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("IMAGEIO_FFMPEG_EXE", str(fake))


def test_a_failed_overlay_video_still_leaves_the_tracks_files(tmp_path, monkeypatch,
                                                             open_model):
    """The overlay video's encoder failing as it is closed (the end of a run) is the run's
    error, raised after the finished fits' track file and motion files are written (they
    were lost: the video was closed first)."""
    import dataclasses

    from crowd import person_keypoints
    from smplify.pipeline import run
    from smplify.sources import open_source

    need_module("imageio_ffmpeg", "render")
    need_renderer()
    _failing_ffmpeg(tmp_path, monkeypatch)
    kp = np.stack([person_keypoints(open_model, "coco17", [-0.6 + 0.1 * t, 0.3, 5.0])
                   for t in range(3)])
    np.savez(tmp_path / "clip.npz", keypoints=kp, format=np.str_("coco17"),
             image_size=np.array(IMAGE_SIZE), fps=np.float64(10.0))
    # a video's run (its overlay video) without decoding one: the .npz's frames as a video's
    source = dataclasses.replace(open_source(tmp_path / "clip.npz"), kind="video")
    out = tmp_path / "out"
    with pytest.raises(OSError, match=r"clip_overlay.mp4: the H.264 encoder \(ffmpeg\) "
                                      "failed with exit status 1: No space left on device"):
        run(source, out, model=open_model, motion=("npz",))
    with np.load(out / "clip_track0.npz") as track:
        assert track["frame"].tolist() == [0, 1, 2]
    with np.load(out / "clip_track0_motion.npz") as motion:
        assert motion["body_pose"].shape == (3, 69)
    assert not (out / "clip_overlay.mp4").exists()  # the broken video removed


@pytest.mark.parametrize("without", ["imageio_ffmpeg", "libx264"])
def test_the_overlay_video_falls_back_to_mp4v(tmp_path, monkeypatch, capfd, without):
    """No imageio-ffmpeg, or an ffmpeg without libx264: OpenCV's mp4v, without a word."""
    import sys

    cv2 = need_module("cv2", "detect")
    if without == "imageio_ffmpeg":
        monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)  # import fails
    else:
        need_module("imageio_ffmpeg", "render")
        fake = tmp_path / "ffmpeg"
        fake.write_text("#!/bin/sh\nexit 1\n")
        fake.chmod(0o755)
        monkeypatch.setenv("IMAGEIO_FFMPEG_EXE", str(fake))
    capfd.readouterr()
    assert _write_overlay(tmp_path / "v.mp4") == "mp4v"
    assert _written_video(cv2, tmp_path / "v.mp4")[:2] == (b"FMP4", 4)
    assert capfd.readouterr().err == ""
