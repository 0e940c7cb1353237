"""The detector's recall and false people, stage by stage, on frames annotated by eye.

    OPENBLAS_NUM_THREADS=1 nice .venv/bin/python benchmarks/detector_recall.py \\
        [--split heldout|tune] [--variant default --variant ...] [--json PATH]

Ground truth: ``people_boxes.json`` (our own annotation, how it was made is in its "about"):
a box for every person at least about half visible in 10 frames of OpenCV's vtest.avi and 8
of the sports2d demo (``real_videos.py`` fetches both), split by time into tune and held-out
frames. Constants are chosen on ``--split tune``; figures are quoted on ``heldout``.

A skeleton finds an annotated person when the box of its confident keypoints
(``Person.box``) fits the person's box (:func:`fit`, vertical IoU times the share of its
width inside) at least ``MATCH`` (one skeleton per person, greedily by fit). Of the
skeletons left over, a "duplicate" fits an already found person that well, a "false" one
nobody.

Stages, each alone on the frame (what it would find without the others):

- ``image``: the whole-image landmarker; ``tiles``: the square-tile landmarker (halves of a
  long picture); ``tiles_F``: on the grid of small tiles ``F`` of the shorter side;
- ``hog_boxes``: OpenCV's HOG people boxes themselves (boxes, not skeletons; the part of
  the box a person fills, :func:`person_part`);
- ``hog_crops``: the one-person landmarker in every HOG box (none skipped);
- ``detect``: the detector's output (one-body check, NMS, max_people).

Variants (``VARIANTS``) are Detector settings. CPU per frame: ``time.process_time`` of
``Detector.detect`` (all threads), median over the frames; run with OPENBLAS_NUM_THREADS=1.
Writes JSON (``results/detector_recall.json`` for the held-out split by default,
``results/detector_recall_tune.json`` for the tune split: a tune run never overwrites the
held-out figures the documents quote).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from real_videos import video_path  # noqa: E402

HERE = Path(__file__).resolve().parent
ANNOTATION = HERE / "people_boxes.json"
RESULTS = HERE / "results" / "detector_recall.json"
MATCH = 0.5
#: people shorter than this (pixels) are counted apart too ("tall" recall)
TALL = 60
#: Detector keyword arguments of each variant
VARIANTS: dict[str, dict] = {
    "default": {},
    "no_small_tiles": {"small_tiles": ()},
    "no_hog": {"people_boxes": False},
    "whole_only": {"people_boxes": False, "small_tiles": ()},
    "hog_1.5": {"people_box_scale": 1.5},
    "tiles_0.5": {"small_tiles": (0.5,)},
    "tiles_0.4": {"small_tiles": (0.4,)},
    "tiles_0.25": {"small_tiles": (0.25,)},
    "tiles_0.5_0.33": {"small_tiles": (0.5, 1 / 3)},
}


def fit(person: np.ndarray, found: np.ndarray) -> float:
    """How well a found box is the annotated ``person``, in [0, 1]: the IoU of their
    vertical extents times the share of the found box's width inside the person's.

    Not the boxes' IoU: a skeleton seen side-on is much narrower than the annotated box with
    its arms and swinging legs, and is still that person; a skeleton spread over two people
    has half its width outside either.
    """
    top, bottom = max(person[1], found[1]), min(person[3], found[3])
    span = max(person[3], found[3]) - min(person[1], found[1])
    inside = min(person[2], found[2]) - max(person[0], found[0])
    width = max(found[2] - found[0], 1.0)
    return max(bottom - top, 0.0) / max(span, 1e-9) * min(max(inside, 0.0) / width, 1.0)


def person_part(box: np.ndarray) -> np.ndarray:
    """The part of a HOG box the person fills: its window (64 x 128 px) holds a person ~96
    px tall and ~32 wide, centred; matched against the annotation instead of the box."""
    cx, w, h = (box[0] + box[2]) / 2, box[2] - box[0], box[3] - box[1]
    return np.array([cx - w / 4, box[1] + h / 8, cx + w / 4, box[3] - h / 8])


def match(truth: np.ndarray, found: list[np.ndarray]) -> dict[str, object]:
    """Found people, duplicates and false boxes of one frame (greedy by IoU)."""
    pairs = sorted(((fit(t, f), i, j) for i, t in enumerate(truth)
                    for j, f in enumerate(found)), reverse=True)
    hit_t: dict[int, int] = {}
    used: set[int] = set()
    for score, i, j in pairs:
        if score < MATCH:
            break
        if i not in hit_t and j not in used:
            hit_t[i] = j
            used.add(j)
    left = [j for j in range(len(found)) if j not in used]
    dup = [j for j in left if any(fit(truth[i], found[j]) >= MATCH for i in hit_t)]
    return {"found": sorted(hit_t), "duplicates": len(dup), "false": len(left) - len(dup),
            "false_rows": [j for j in left if j not in dup]}


def new_tally() -> dict[str, object]:
    """An empty count for :func:`tally`."""
    return {"people": 0, "found": 0, "tall": 0, "tall_found": 0, "duplicates": 0,
            "false": 0, "missed": []}


def tally(count: dict[str, object], truth: np.ndarray, found: list[np.ndarray],
          frame: str) -> None:
    """Add one frame to ``count``: its annotated people ``truth`` (N, 4) against the boxes
    ``found`` (:func:`match`): found, tall ones (>= TALL px) found, duplicates, false
    people, and the missed ones named ``frame:i``."""
    m = match(truth, found)
    tall = (truth[:, 3] - truth[:, 1]) >= TALL
    count["people"] += len(truth)  # type: ignore[operator]
    count["found"] += len(m["found"])  # type: ignore[arg-type, operator]
    count["tall"] += int(tall.sum())  # type: ignore[operator]
    count["tall_found"] += int(tall[m["found"]].sum())  # type: ignore[index, operator]
    count["duplicates"] += m["duplicates"]  # type: ignore[operator]
    count["false"] += m["false"]  # type: ignore[operator]
    count["missed"] += [f"{frame}:{i}" for i in range(len(truth))  # type: ignore[operator]
                        if i not in m["found"]]  # type: ignore[operator]


def frames_of(video: str, wanted: list[int]):
    """(index, RGB image) of the wanted frames."""
    from smplify.sources import open_source

    want = set(wanted)
    for frame in open_source(video_path(video)).frames():
        if frame.index in want:
            yield frame.index, frame.image
            want.discard(frame.index)
        if not want:
            break


def stages(detector, rgb: np.ndarray) -> dict[str, list[np.ndarray]]:
    """Boxes each stage finds alone (see the module docstring)."""
    from smplify.detection import _small_tiles, _square_tiles

    out = {"image": [p.box for p in detector._people(detector._whole, rgb, (0.0, 0.0), 1.0,
                                                      "image")]}
    height, width = rgb.shape[:2]
    grids = {"tiles": _square_tiles(width, height)}  # small tiles unfiltered
    for fraction in detector.small_tiles:
        grids[f"tiles_{fraction:.2f}"] = _small_tiles(width, height, fraction)
    for name, grid in grids.items():
        out[name] = [p.box for x0, y0, side in grid
                     for p in detector._people(detector._whole,
                                               rgb[y0:y0 + side, x0:x0 + side], (x0, y0),
                                               1.0, "tile")]
    boxes = detector.people_boxes(rgb)
    out["hog_boxes"] = [person_part(box) for box in boxes]
    out["hog_crops"] = [p.box for box in boxes for p in detector._in_box(rgb, box)]
    return out


def evaluate(variant: str, split: str, with_stages: bool) -> dict[str, object]:
    from smplify.detection import Detector

    truth = json.loads(ANNOTATION.read_text())["videos"]
    detector = Detector(**VARIANTS[variant])
    per: dict[str, dict] = {}
    cpu: list[float] = []
    false_people: list[str] = []
    for video, splits in truth.items():
        frames = {int(k): np.asarray(v, dtype=float) for k, v in splits[split].items()}
        for index, rgb in frames_of(video, sorted(frames)):
            boxes = frames[index]
            start = time.process_time()
            people = detector.detect(rgb)
            cpu.append(time.process_time() - start)
            found = {"detect": [p.box for p in people]}
            false = match(boxes, found["detect"])["false_rows"]
            false_people += [f"{video}:{index}:{people[j].source}:" + ",".join(
                f"{v:.0f}" for v in people[j].box) for j in false]  # type: ignore[union-attr]
            if with_stages:
                found.update(stages(detector, rgb))
            for stage, got in found.items():
                tally(per.setdefault(stage, new_tally()), boxes, got, f"{video}:{index}")
    detector.close()
    for s in per.values():
        s["recall"] = s["found"] / max(s["people"], 1)
        s["tall_recall"] = s["tall_found"] / max(s["tall"], 1)
    return {"settings": VARIANTS[variant], "frames": len(cpu),
            "cpu_s_per_frame_median": float(np.median(cpu)),
            "cpu_s_per_frame": [round(c, 3) for c in cpu], "stages": per,
            "false_people": false_people}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--split", choices=["tune", "heldout"], default="heldout")
    parser.add_argument("--variant", action="append", choices=list(VARIANTS))
    parser.add_argument("--no-stages", action="store_true", help="the detector's output only")
    parser.add_argument("--json", default=None,
                        help=f"default {RESULTS.name} (held-out) or detector_recall_tune.json")
    args = parser.parse_args()
    from smplify.detection import detector_digest

    out: dict[str, object] = {"machine": platform.platform(), "split": args.split,
                              "detector": detector_digest(), "match": MATCH,
                              "variants": {}}
    for variant in args.variant or ["default"]:
        r = evaluate(variant, args.split, not args.no_stages)
        out["variants"][variant] = r  # type: ignore[index]
        print(f"\n{variant} {r['settings']} ({args.split}, {r['frames']} frames, "
              f"median CPU {r['cpu_s_per_frame_median']:.2f} s/frame)")
        print(f"  {'stage':10s} {'recall':>12s} {'tall (>=60px)':>14s} {'dup':>4s} "
              f"{'false':>5s}")
        for stage, s in r["stages"].items():  # type: ignore[union-attr]
            print(f"  {stage:10s} {s['found']:3d}/{s['people']:3d} {s['recall']:5.2f} "
                  f"{s['tall_found']:4d}/{s['tall']:3d} {s['tall_recall']:5.2f} "
                  f"{s['duplicates']:4d} {s['false']:5d}")
        print(f"  missed by detect: {' '.join(r['stages']['detect']['missed'])}")  # type: ignore[index]
        print(f"  false people (video:frame:source:box): {' '.join(r['false_people'])}")  # type: ignore[arg-type]
    write_results(out, args.json, RESULTS if args.split == "heldout" else
                  RESULTS.with_name("detector_recall_tune.json"))


def write_results(out: dict[str, object], given: str | None, default: Path) -> None:
    """``out`` as JSON to ``given`` (a path), else ``default`` (its folder made)."""
    path = Path(given) if given else default
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
