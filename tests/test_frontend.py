"""Inputs (smplify.sources) and the per-frame pipeline (smplify.pipeline) end to end, on
generated keypoint files with several people per frame, people entering and leaving."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from crowd import IMAGE_SIZE, crowd, write_coco_results, write_npz, write_openpose_folder
from extras import need_module, need_renderer
from PIL import Image
from smplify.export import load_mesh, load_params
from smplify.pipeline import run
from smplify.sources import InputError, open_source


@pytest.fixture(scope="module")
def openpose_seq(open_model):
    return crowd(open_model, "openpose25")


def _true_identity(people_by_name, kp):
    for name, truth in people_by_name.items():
        if np.allclose(truth[:, :2], kp[:, :2]):
            return name
    raise AssertionError("keypoints of nobody")


def test_openpose_folder_tracks_people_entering_and_leaving(tmp_path, open_model, openpose_seq):
    folder = write_openpose_folder(tmp_path / "json", openpose_seq)
    source = open_source(folder, image_size=IMAGE_SIZE)
    assert (source.kind, source.format, source.num_frames) == ("openpose", "openpose25", 6)
    summary = run(source, tmp_path / "out", model=open_model, render=False)
    assert (summary.frames, summary.fits, summary.tracks) == (6, 9, 2)
    assert summary.skipped == []
    # Each track is one true person, whatever order the files list them in.
    ids = {}
    for t, people in enumerate(openpose_seq):
        for track in (0, 1):
            params = tmp_path / "out" / "frames" / f"clip_{t:012d}_p{track}_params.npz"
            if not params.is_file():
                continue
            p = load_params(params)
            assert (p["track_id"], p["frame"]) == (track, t)
            stack = np.load(tmp_path / "out" / f"json_track{track}.npz")
            row = list(stack["frame"]).index(t)
            ids.setdefault(track, set()).add(_true_identity(people, stack["keypoints"][row]))
    assert sorted(map(tuple, ids.values())) == [("visitor",), ("walker",)]
    walker = next(k for k, v in ids.items() if v == {"walker"})
    stack = np.load(tmp_path / "out" / f"json_track{walker}.npz")
    assert stack["frame"].tolist() == [0, 1, 2, 3, 4, 5]
    assert stack["body_pose"].shape == (6, 69) and stack["betas"].shape[0] == 6
    # The walker moves right by 8 cm a frame: so does the fitted translation (up to depth).
    dx = np.diff(stack["transl"][:, 0] / stack["transl"][:, 2])
    assert np.all(dx > 0)
    visitor = 1 - walker
    assert np.load(tmp_path / "out" / f"json_track{visitor}.npz")["frame"].tolist() == [2, 3, 4]


def test_a_one_frame_false_person_is_not_fitted_and_a_lost_person_keeps_their_id(
        tmp_path, open_model, openpose_seq):
    """A person found in one frame only (a detector's false alarm) gets no track and no
    files; the walker, missed in frame 4, continues their track in frame 5."""
    seq = [dict(people) for people in openpose_seq]
    ghost = seq[1]["walker"].copy()  # half the walker's size, top right, away from all
    ghost[:, :2] = 0.5 * (ghost[:, :2] - ghost[:, :2].mean(axis=0)) + [520.0, 90.0]
    seq[1]["ghost"] = ghost
    del seq[4]["walker"]
    folder = write_openpose_folder(tmp_path / "json", seq)
    summary = run(open_source(folder, image_size=IMAGE_SIZE), tmp_path / "out",
                  model=open_model, render=False)
    assert (summary.fits, summary.tracks) == (8, 2)
    frames = sorted(np.load(s)["frame"].tolist()
                    for s in (tmp_path / "out").glob("json_track*.npz"))
    assert frames == [[0, 1, 2, 3, 5], [2, 3, 4]]
    assert not list((tmp_path / "out" / "frames").glob("clip_000000000001_p2*"))


def test_params_round_trip_and_mesh(tmp_path, open_model, openpose_seq):
    folder = write_openpose_folder(tmp_path / "json", openpose_seq[:1])
    summary = run(open_source(folder / "clip_000000000000_keypoints.json",
                              image_size=IMAGE_SIZE), tmp_path, model=open_model,
                  render=False, mesh_suffix=".ply")
    assert summary.fits == 1
    a, b = load_params(tmp_path / "clip_000000000000_p0_params.npz"), \
        load_params(tmp_path / "clip_000000000000_p0_params.json")
    for key in ("betas", "global_orient", "body_pose", "transl", "camera_center"):
        np.testing.assert_array_equal(a[key], b[key])
    assert a["energy"] == pytest.approx(b["energy"]) and a["track_id"] == b["track_id"] == 0
    assert a["focal_length"] == b["focal_length"]
    vertices, faces = load_mesh(tmp_path / "clip_000000000000_p0.ply")
    posed = open_model(betas=a["betas"][0], body_pose=a["body_pose"][0],
                       global_orient=a["global_orient"][0], transl=a["transl"][0])
    np.testing.assert_allclose(vertices, posed.vertices, atol=1e-5)


def test_a_photos_people_are_fits_of_one_image(tmp_path, open_model, openpose_seq):
    """prune_starts "auto" in the pipeline: a photo's people (untracked) are fitted as
    smplify.fit fits one image, pruned; the same options' Fitter fit would keep every start."""
    folder = write_openpose_folder(tmp_path / "json", openpose_seq[:1])
    summary = run(open_source(folder / "clip_000000000000_keypoints.json",
                              image_size=IMAGE_SIZE), tmp_path, model=open_model,
                  render=False, write=False)
    assert summary.last and all(r.summary["pruned_starts"] > 0 for _, _, r in summary.last)


def test_coco_results_and_npz_inputs(tmp_path, open_model):
    seq = crowd(open_model, "coco17", frames=3)
    coco = write_coco_results(tmp_path / "results.json", seq, first_image_id=100, score=0.9)
    with pytest.raises(InputError, match=r"results.json.*image size"):
        open_source(coco)
    source = open_source(coco, image_size=IMAGE_SIZE)
    assert (source.kind, source.format, source.num_frames) == ("coco", "coco17", 3)
    summary = run(source, tmp_path / "coco", model=open_model, render=False)
    assert (summary.fits, summary.tracks) == (4, 2)  # the visitor arrives in frame 2
    stack = np.load(tmp_path / "coco" / "results_track0.npz")
    assert stack["frame"].tolist() == [0, 1, 2]

    npz = write_npz(tmp_path / "seq.npz", seq, "coco17")
    summary = run(open_source(npz), tmp_path / "npz", model=open_model, render=False)
    assert (summary.frames, summary.fits, summary.tracks) == (3, 4, 2)


def test_a_track_file_keeps_its_focal_length_and_is_refitted_with_it(tmp_path, open_model):
    """``smplify fit track.npz`` fits with the camera the track was fitted with (the file's
    ``focal_length``), not the default, unless the caller gives one; a bad one is named."""
    seq = crowd(open_model, "coco17", frames=3)
    npz = write_npz(tmp_path / "seq.npz", seq, "coco17")
    run(open_source(npz), tmp_path / "first", model=open_model, render=False,
        focal_length=1234.5)
    track = tmp_path / "first" / "seq_track0.npz"
    assert float(np.load(track)["focal_length"]) == 1234.5
    again = open_source(track)
    assert again.focal_length == 1234.5
    run(again, tmp_path / "again", model=open_model, render=False)
    refit = np.load(tmp_path / "again" / "seq_track0.npz")
    assert float(refit["focal_length"]) == 1234.5
    first = np.load(track)
    for key in ("global_orient", "body_pose", "transl", "betas"):
        np.testing.assert_array_equal(refit[key], first[key])
    run(open_source(track), tmp_path / "given", model=open_model, render=False,
        focal_length=900.0)  # the caller's focal length wins
    assert float(np.load(tmp_path / "given" / "seq_track0.npz")["focal_length"]) == 900
    bad = tmp_path / "bad.npz"
    np.savez(bad, **{**np.load(track), "focal_length": np.float64(-1.0)})
    with pytest.raises(InputError, match="bad.npz: 'focal_length' must be one number > 0"):
        open_source(bad)


def test_a_sequence_filters_at_its_own_frame_rate(tmp_path, open_model):
    """The online output filter's time unit is the input's frame rate (vtest.avi: 10 fps),
    not FitOptions' 30: its lag at rest, fps / (2π f_c) frames, follows the file's fps."""
    seq = crowd(open_model, "coco17", frames=3)
    npz = write_npz(tmp_path / "seq.npz", seq, "coco17")
    with np.load(npz) as z:
        np.savez(npz, **dict(z), fps=10.0)
    lags = {}
    for name, options in (("file", {}), ("given", {"track_fps": 30.0})):
        summary = run(open_source(npz), tmp_path / name, model=open_model, render=False,
                      write=False, **options)
        lags[name] = summary.last[0][2].summary["smoothing_lag_frames"]
    assert lags["file"] == pytest.approx(lags["given"] / 3.0, rel=0.05), lags
    for bogus in (1e5,):  # an absurd rate keeps FitOptions' default (npz refuses <= 0)
        with np.load(npz) as z:
            np.savez(npz, **{**dict(z), "fps": bogus})
        summary = run(open_source(npz), tmp_path / "bogus", model=open_model, render=False,
                      write=False)
        assert summary.last[0][2].summary["smoothing_lag_frames"] == \
            pytest.approx(lags["given"], rel=0.05)


def test_keypoint_file_overlay_and_side_view(tmp_path, open_model, openpose_seq):
    need_renderer()
    folder = write_openpose_folder(tmp_path / "json", openpose_seq[3:4])
    run(open_source(folder / "clip_000000000000_keypoints.json", image_size=IMAGE_SIZE),
        tmp_path, model=open_model)
    with Image.open(tmp_path / "clip_000000000000_overlay.png") as img:
        assert img.size == IMAGE_SIZE
        overlay = np.asarray(img)
    assert np.any(overlay != 255) and overlay[0, 0].tolist() == [255, 255, 255]
    for track in (0, 1):
        with Image.open(tmp_path / f"clip_000000000000_p{track}_side.png") as img:
            side = np.asarray(img)
        assert side.shape[0] > side.shape[1]  # a standing person, cropped around the body


@pytest.mark.parametrize("make, message", [
    (lambda d: d / "empty", "has no OpenPose .json files and no images"),
    (lambda d: (d / "x.json").write_text('{"a": 1}') and d / "x.json", "neither OpenPose"),
    (lambda d: (d / "x.json").write_text("{not json") and d / "x.json", "not a JSON file"),
    (lambda d: (d / "x.png").write_bytes(b"not a png") and d / "x.png", "not a readable image"),
    (lambda d: (d / "x.avi").write_bytes(b"\0" * 64) and d / "x.avi", "no frames"),
    (lambda d: (d / "x.txt").write_text("1") and d / "x.txt", "unknown input type"),
    (lambda d: (np.savez(d / "x.npz", other=1), d / "x.npz")[1], "no 'keypoints'"),
    # a format that cannot be the file's, found on opening it, not on every frame's fit
    (lambda d: (np.savez(d / "x.npz", keypoints=np.ones((2, 33, 3)), format="coco18"),
                d / "x.npz")[1], "unknown keypoint format 'coco18'"),
    (lambda d: (np.savez(d / "x.npz", keypoints=np.ones((2, 33, 3)), format="coco17"),
                d / "x.npz")[1], "33 points a person, but format 'coco17' has 17.*mediapipe33"),
    (lambda d: (d / "x.json").write_text('{"format": "lsp14", "keypoints": [[1, 2, 1]]}')
     and d / "x.json", "1 points a person, but format 'lsp14' has 14"),
])
def test_bad_inputs_name_the_file(tmp_path, make, message):
    (tmp_path / "empty").mkdir()
    path = make(tmp_path)
    if path.suffix == ".avi":
        need_module("cv2", "detect")  # videos are read through OpenCV
    with pytest.raises(InputError, match=message) as err:
        open_source(path, image_size=IMAGE_SIZE)
    assert path.name in str(err.value)


def test_a_folder_of_photos_of_two_sizes_stops_at_the_odd_one(tmp_path):
    """A folder is one camera's sequence: its fits take the first image's size, so a photo of
    another size would be fitted through the wrong camera (its centre off)."""
    folder = tmp_path / "photos"
    folder.mkdir()
    for name, size in (("a.png", (64, 48)), ("b.png", (64, 48)), ("c.png", (64, 30))):
        Image.new("RGB", size).save(folder / name)
    source = open_source(folder)
    frames = source.frames()
    assert [next(frames).name for _ in range(2)] == ["a", "b"]
    with pytest.raises(InputError, match=r"c.png: 64 x 30 px, but the folder's first image "
                                         r"a.png is 64 x 48 px"):
        next(frames)


def pictures_source(num_frames, read):
    """A Source of blank pictures that counts the frames read into ``read``."""
    from smplify.sources import Frame, Source

    def frames():
        for i in range(num_frames):
            read.append(i)
            yield Frame(i, f"f{i}", image=np.zeros((48, 64, 3), np.uint8))

    return Source(Path("clip"), "images", "mediapipe33", (64, 48), num_frames, None, frames)


def test_an_error_while_fitting_clears_the_progress_bar(tmp_path, open_model):
    """An error raised between frames (here the detector's) closes the progress wrapper, so
    the bar is cleared before the caller prints the error (not glued to its line)."""
    closed = []

    class Progress:
        def __init__(self, frames):
            self.frames = frames

        def __iter__(self):
            return iter(self.frames)

        def close(self):
            closed.append(True)

    class Failing:  # on the second frame: the bar starts once the first is done
        calls = 0

        def detect(self, image):
            self.calls += 1
            if self.calls == 2:
                raise OSError("the detector failed")
            return []

    with pytest.raises(OSError, match="the detector failed"):
        run(pictures_source(3, []), tmp_path / "out", model=open_model, render=False,
            detector=Failing(), progress=Progress)
    assert closed


def test_the_progress_bar_starts_after_the_first_frame_and_is_closed_at_the_end(
        tmp_path, open_model, monkeypatch):
    """MediaPipe prints its log lines on stderr when the detector is made and when it first
    finds someone: the bar starts after the first frame, so they come before it, not over
    it; every frame still passes through it, once, and it is closed before the summary is
    printed, also when ``max_frames`` stops it short (the summary was glued to it)."""
    from smplify import detection

    events = []

    class Detector:
        def detect(self, image):
            events.append("detect")
            return []

    def made(*args):
        events.append("made")
        return Detector()

    def progress(frames):
        events.append("bar")
        try:
            for frame in frames:
                events.append(f"frame {frame.index}")
                yield frame
        finally:
            events.append("closed")

    monkeypatch.setattr(detection, "_shared_detector", made)
    with pytest.raises(InputError, match="no person found"):
        run(pictures_source(3, []), tmp_path / "out", model=open_model, render=False,
            progress=progress)
    assert events == ["made", "detect", "bar", "frame 0", "frame 1", "detect", "frame 2",
                      "detect", "closed"]
    events.clear()  # stopped short of the input's end: the bar is closed all the same
    with pytest.raises(InputError, match="no person found") as caught:
        run(pictures_source(3, []), tmp_path / "out", model=open_model, render=False,
            progress=progress, max_frames=2)
    # (by run itself: ``caught`` keeps run's frame, and its iterators, alive here)
    assert events == ["made", "detect", "bar", "frame 0", "frame 1", "detect", "closed"]
    del caught


def test_a_refitted_track_file_keeps_its_name_and_never_overwrites_itself(tmp_path,
                                                                          open_model):
    """A track file fitted again is named after it, not ``<input>_track0_track0``: in another
    folder ``<input>.npz``, in its own folder ``<input>_refit.npz`` (the input untouched);
    its motion files follow the same name; a bad ``track_id`` is named."""
    seq = crowd(open_model, "coco17", frames=3)
    run(open_source(write_npz(tmp_path / "seq.npz", seq, "coco17")), tmp_path / "first",
        model=open_model, render=False)
    track = tmp_path / "first" / "seq_track0.npz"
    assert open_source(track).track_id == 0
    before = track.read_bytes()
    run(open_source(track), tmp_path / "again", model=open_model, render=False,
        motion=("npz",))
    assert sorted(p.name for p in (tmp_path / "again").glob("*.npz")) == [
        "seq_track0.npz", "seq_track0_motion.npz"]
    run(open_source(track), tmp_path / "first", model=open_model, render=False,
        motion=("npz",))
    assert track.read_bytes() == before
    assert {"seq_track0_refit.npz", "seq_track0_refit_motion.npz"} <= \
        {p.name for p in (tmp_path / "first").glob("*.npz")}
    again = np.load(tmp_path / "first" / "seq_track0_refit.npz")
    np.testing.assert_array_equal(again["transl"], np.load(tmp_path / "again" /
                                                          "seq_track0.npz")["transl"])
    bad = tmp_path / "bad.npz"
    np.savez(bad, **{**np.load(track), "track_id": np.float64(0.5)})
    with pytest.raises(InputError, match="bad.npz: 'track_id' must be one integer >= 0"):
        open_source(bad)


@pytest.mark.parametrize("options, error", [({"threads": 0}, ValueError),
                                            ({"not_an_option": 1}, TypeError)])
def test_fit_options_are_checked_before_the_first_frame(tmp_path, open_model, options, error):
    read = []
    with pytest.raises(error, match=next(iter(options))):
        run(pictures_source(2, read), tmp_path / "out", model=open_model, render=False,
            detector=SimpleNamespace(detect=lambda image: []), **options)
    assert read == []


def test_a_photos_side_view_holds_the_whole_body(open_model):
    """A person whose feet reach below the photo: the side view at the photo's place and scale
    cuts them off; the pipeline's side view holds every vertex, at the same scale."""
    need_renderer()
    from smplify.pictures import draw_fit_side
    from smplify.pipeline import _draw
    from smplify.result import Camera

    body = open_model(global_orient=np.array([np.pi, 0.0, 0.0]), transl=np.array([0.0, 0.3, 3.0]))
    size = (320, 240)  # f = 400 px: the feet, 1.2 m below the centre, project to v ≈ 280
    camera = Camera(400.0, np.array([160.0, 120.0]))
    fit = SimpleNamespace(vertices=body.vertices, faces=open_model.faces, camera=camera,
                          keypoints_2d=camera.project(body.joints))
    cut = draw_fit_side(fit, size)
    whole = _draw(SimpleNamespace(image=None), [(0, None, fit)],
                  SimpleNamespace(image_size=size), side=True)["p0_side"]

    def drawn(picture):
        return np.any(picture != 255, axis=2)

    assert drawn(cut)[-1].any()  # the case: the photo's frame cuts the body
    edges = drawn(whole)
    assert not (edges[0].any() or edges[-1].any() or edges[:, 0].any() or edges[:, -1].any())
    rows = np.flatnonzero(drawn(whole).any(axis=1))
    assert rows[-1] - rows[0] > np.ptp(np.flatnonzero(drawn(cut).any(axis=1)))
    assert drawn(whole).sum() > drawn(cut).sum()


def test_frames_with_nobody(tmp_path, open_model):
    empty = tmp_path / "none_keypoints.json"
    empty.write_text(json.dumps({"people": []}))
    with pytest.raises(InputError, match="none_keypoints.json: no person found"):
        run(open_source(empty, image_size=IMAGE_SIZE), tmp_path / "out", model=open_model,
            render=False)


def test_a_track_files_frames_keep_their_gaps(tmp_path, open_model):
    """A track file skips the video's frames where its person was not seen; read back, its
    rows are those frames (``frame``) and the frames between them have nobody, so the
    track's Fitter spans the gap (its temporal terms, the filter's time step) as it did."""
    from crowd import person_keypoints

    fmt = "coco17"
    rows = np.stack([person_keypoints(open_model, fmt, [0.05 * t, 0.3, 5.0])
                     for t in range(3)])
    path = tmp_path / "clip_track0.npz"
    np.savez(path, keypoints=rows, frame=np.array([4, 5, 9]), format=np.str_(fmt),
             image_size=np.array(IMAGE_SIZE), fps=np.float64(30.0))
    source = open_source(path)
    assert source.num_frames == 6
    frames = list(source.frames())
    assert [f.index for f in frames] == list(range(6))
    assert [len(f.people) for f in frames] == [1, 1, 0, 0, 0, 1]
    np.testing.assert_array_equal(frames[5].people[0], rows[2])
    np.savez(path, keypoints=rows, frame=np.array([4, 9, 5]), format=np.str_(fmt),
             image_size=np.array(IMAGE_SIZE))
    with pytest.raises(InputError, match="'frame' must be"):
        open_source(path)


def test_track_files_keep_the_detectors_3d_keypoints_and_are_read_back(tmp_path, open_model,
                                                                       monkeypatch):
    """A track file stores the detector's 3D keypoints (NaN on a frame without), its format
    and image size; fitted again (``smplify fit track.npz``) the 3D keypoints reach the fit."""
    from crowd import person_keypoints, person_points
    from smplify.fitter import Fitter
    from smplify.sources import Frame, Source

    fmt, frames = "mediapipe33", 5
    world = person_points(open_model, fmt)  # metres, camera axes: as MediaPipe's world
    worlds = [world + 0.01 * t if t != 3 else None for t in range(frames)]

    def pictures():
        for t in range(frames):
            yield Frame(t, f"f{t}", image=np.zeros((48, 64, 3), np.uint8))

    found = iter(range(frames))

    def detect(image):
        t = next(found)
        return [SimpleNamespace(keypoints=person_keypoints(open_model, fmt, [0.05 * t, 0.3, 5.0]),
                                world=worlds[t])]

    source = Source(Path("clip"), "images", fmt, IMAGE_SIZE, frames, None, pictures)
    run(source, tmp_path / "out", model=open_model, render=False,
        detector=SimpleNamespace(detect=detect), multi_start=False)
    (track,) = sorted((tmp_path / "out").glob("clip_track*.npz"))
    saved = np.load(track)
    assert str(saved["format"]) == fmt and tuple(saved["image_size"]) == IMAGE_SIZE
    assert list(saved["frame"]) == list(range(frames))
    for t in range(frames):
        if worlds[t] is None:
            assert np.isnan(saved["keypoints_3d"][t]).all()
        else:
            np.testing.assert_allclose(saved["keypoints_3d"][t], worlds[t], rtol=1e-12)

    given = []
    fit = Fitter.fit

    def spy(self, keypoints, *args, **kwargs):
        given.append(kwargs.get("keypoints_3d"))
        return fit(self, keypoints, *args, **kwargs)

    monkeypatch.setattr(Fitter, "fit", spy)
    again = open_source(track)  # format and image size from the file
    assert (again.format, again.image_size) == (fmt, IMAGE_SIZE)
    run(again, tmp_path / "again", model=open_model, render=False, multi_start=False)
    assert len(given) == frames
    for t in range(frames):
        if worlds[t] is None:
            assert given[t] is None
        else:
            np.testing.assert_allclose(given[t], worlds[t], rtol=1e-12)

    # without 3D keypoints, none stored; a keypoints_3d of another shape: the file named
    worlds[:] = [None] * frames
    found = iter(range(frames))
    run(source, tmp_path / "plain", model=open_model, render=False,
        detector=SimpleNamespace(detect=detect), multi_start=False)
    (plain,) = (tmp_path / "plain").glob("clip_track*.npz")
    assert "keypoints_3d" not in np.load(plain)
    bad = tmp_path / "bad.npz"
    np.savez(bad, **{**np.load(track), "keypoints_3d": saved["keypoints_3d"][:2]})
    with pytest.raises(InputError, match="bad.npz: 'keypoints_3d' must have the keypoints' "
                                         "shape"):
        open_source(bad)
