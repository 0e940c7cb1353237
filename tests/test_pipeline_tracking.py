"""Which people smplify.pipeline.run fits: tracked sequences against photos, weak
detections, people never tracked, the Fitter of a track lost for a frame."""

from __future__ import annotations

import json

import numpy as np
import pytest
from crowd import IMAGE_SIZE, crowd, person_keypoints, write_coco_results, write_npz
from smplify import fitter
from smplify.pipeline import run
from smplify.sources import InputError, open_source


def test_a_weak_person_in_one_photo_is_fitted(tmp_path, open_model):
    """Confidences of 0.45 (below the tracker's old min_score 0.5): still a person."""
    kp = person_keypoints(open_model, "coco17", [0.0, 0.3, 5.0])
    kp[:, 2] = 0.45
    coco = write_coco_results(tmp_path / "one.json", [{"p": kp}])
    summary = run(open_source(coco, image_size=IMAGE_SIZE), tmp_path / "o", model=open_model,
                  render=False, write=False)
    assert (summary.fits, summary.tracks, summary.untracked) == (1, 1, 0)


def test_a_coco_annotation_file_of_photos_fits_everyone_apart(tmp_path, open_model):
    """Four unrelated photos, one person each at a different place: four people, each
    fitted (the tracker, on them as a sequence, dropped the middle two as one-frame
    detections)."""
    places = ([-1.5, 0.3, 5.0], [1.2, 0.3, 4.0], [-0.2, 0.3, 8.0], [1.5, 0.3, 6.0])
    doc = {"images": [{"id": i, "file_name": f"photo{i}.jpg", "width": IMAGE_SIZE[0],
                       "height": IMAGE_SIZE[1]} for i in range(4)],
           "annotations": []}
    for i, place in enumerate(places):
        kp = person_keypoints(open_model, "coco17", place)
        kp[:, 2] = 2.0  # visibility flag: seen
        doc["annotations"].append({"image_id": i, "category_id": 1,
                                   "keypoints": kp.reshape(-1).tolist()})
    path = tmp_path / "photos.json"
    path.write_text(json.dumps(doc))
    source = open_source(path)
    assert not source.tracked
    summary = run(source, tmp_path / "o", model=open_model, render=False, write=False)
    assert (summary.fits, summary.tracks, summary.untracked) == (4, 4, 0)
    assert open_source(write_coco_results(tmp_path / "r.json", crowd(open_model, "coco17", 2)),
                       image_size=IMAGE_SIZE).tracked  # a results file: a video's frames


def _sequence(tmp_path, open_model, frames):
    seq = [{f"p{i}": person_keypoints(open_model, "coco17", place)
            for i, place in enumerate(people)} for people in frames]
    seq[0].setdefault("empty", np.zeros((17, 3)))  # write_npz sizes K from the first frame
    return open_source(write_npz(tmp_path / "seq.npz", seq, "coco17"))


def test_people_never_tracked_are_counted(tmp_path, open_model):
    walker = [[-1.0 + 0.05 * t, 0.3, 5.0] for t in range(4)]
    frames = [[walker[0]], [walker[1]], [walker[2], [1.5, 0.3, 3.0]], [walker[3]]]
    summary = run(_sequence(tmp_path, open_model, frames), tmp_path / "o", model=open_model,
                  render=False, write=False)
    assert (summary.fits, summary.tracks, summary.untracked) == (4, 1, 1)
    lonely = [[], [[-1.5, 0.3, 5.0]], [[1.5, 0.3, 3.0]], []]
    with pytest.raises(InputError, match="2 detections never tracked"):
        run(_sequence(tmp_path, open_model, lonely), tmp_path / "p", model=open_model,
            render=False, write=False)


def test_the_last_frame_lists_people_confirmed_at_the_end(tmp_path, open_model):
    """The visitor of crowd's frame 2 of 3 is fitted by Tracker.finish: a fit of the last
    frame."""
    source = open_source(write_npz(tmp_path / "s.npz", crowd(open_model, "coco17", 3),
                                   "coco17"))
    summary = run(source, tmp_path / "o", model=open_model, render=False, write=False)
    assert sorted(track for track, _, _ in summary.last) == [0, 1]


def test_a_lost_person_s_fitter_skips_the_frame(tmp_path, open_model, monkeypatch):
    skipped = []

    class Spy(fitter.Fitter):
        def skip(self) -> None:
            skipped.append(self)
            super().skip()

    monkeypatch.setattr(fitter, "Fitter", Spy)
    walker = [[-1.0 + 0.05 * t, 0.3, 5.0] for t in range(4)]
    frames = [[walker[0]], [walker[1]], [], [walker[3]]]
    summary = run(_sequence(tmp_path, open_model, frames), tmp_path / "o", model=open_model,
                  render=False, write=False)
    assert (summary.fits, summary.tracks) == (3, 1)
    assert len(skipped) == 1
