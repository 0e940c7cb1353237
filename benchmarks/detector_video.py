"""The video front end's cost and recall: the detector's video mode against the photo detector
on every frame, over bench_real_video's stretches.

    OPENBLAS_NUM_THREADS=1 nice .venv/bin/python benchmarks/detector_video.py \\
        [--split heldout|tune] [--full-every 10 --full-every 5 ...] [--lost-after 1 ...] \\
        [--photo-every 5] [--reference vtest=PATH ...] [--variant spread --variant both ...]
        [--confirm-within 0 --confirm-within 20 ...]

- ``video_N_L``: ``smplify.video_detection.VideoDetector(full_every=N, lost_after=L)`` run
  through the stretch in order, as ``smplify fit VIDEO`` runs it (held-out: vtest's frames 0-199 and
  the sports2d demo's 0-229, ``real_videos.FRAMES``; tune: vtest 290-700, sports2d 0-229);
  ``--variant``: "scan" (the full scan every N frames and for lost people), "search" (a lost
  person searched near where they should be first, ``search_lost``), "spread" (the full
  scan spread over the frames, ``spread``), "both"; the mode's name gets the variant's;
  ``--confirm-within C``: ``VideoDetector(confirm_within=C)`` (0: None), the name ``_cC``.
- ``photo``: ``Detector.detect`` on each frame alone (the detector before the video mode),
  on every ``--photo-every``-th frame of the stretch and the annotated ones.

Per mode: CPU seconds a frame (``time.process_time``, MediaPipe's threads included; median
over the frames detected; run with OPENBLAS_NUM_THREADS=1), full scans, people per frame,
same-frame pairs of one person (``detector_dedup.duplicate_pairs``), the people dropped
unconfirmed (``VideoDetector.unconfirmed``: frame, box), and on the annotated
frames of the split (``people_boxes.json``, scored as ``detector_recall.py`` does) recall,
recall of people >= 60 px, duplicates and false people; with ``--reference``, on every frame
the share of the photo detector's people (a cache file of ``Detector.detect`` on each frame)
found too, and the people it lacks. The default mode's held-out detections are saved into
``real_videos``' cache (what bench_tracker and bench_real_video read), the other modes' as
``<key>_<mode>.npz`` beside them. JSON:
``results/detector_video.json`` (``detector_video_tune.json`` for tune).
"""

from __future__ import annotations

import argparse
import inspect
import json
import platform
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from detector_dedup import duplicate_pairs  # noqa: E402
from detector_recall import ANNOTATION, match, new_tally, tally, write_results  # noqa: E402
from real_videos import (  # noqa: E402
    FRAMES,
    Detections,
    cache_dir,
    detect_video,
    detections_key,
    load_detections,
    save_detections,
)

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "detector_video.json"
#: (start, end) frames of each video's stretch per split
STRETCHES = {"heldout": {"vtest": (0, FRAMES["vtest"]), "sports2d": (0, FRAMES["sports2d"])},
             "tune": {"vtest": (290, 701), "sports2d": (0, FRAMES["sports2d"])}}


def score(found: Detections, truth: dict[int, np.ndarray]) -> dict[str, object]:
    """Recall, duplicates and false people of ``found`` on the annotated frames (counted as
    ``detector_recall.py`` counts them, :func:`detector_recall.tally`)."""
    from smplify.detection import _box

    out = new_tally()
    for t, boxes in sorted(truth.items()):
        tally(out, boxes, [_box(found.keypoints[i, :, :2], found.keypoints[i, :, 2])
                           for i in found.people(t)], f"{found.name}:{t}")
    return out


def agreement(found: Detections, reference: Detections) -> dict[str, float]:
    """Per frame, the share of the reference's people (the photo detector on every frame)
    that ``found`` has too (box fit >= MATCH, as for the annotation), and the people per
    frame ``found`` has that the reference lacks; over the frames both detected."""
    from smplify.detection import _box

    def boxes(d: Detections, t: int) -> list[np.ndarray]:
        return [_box(d.keypoints[i, :, :2], d.keypoints[i, :, 2]) for i in d.people(t)]

    frames = sorted(set(found.frame.tolist()) | set(reference.frame.tolist()))
    shared, total, extra = 0, 0, 0
    for t in frames:
        ref, got = boxes(reference, t), boxes(found, t)
        m = match(np.asarray(ref).reshape(-1, 4), got)
        shared += len(m["found"])  # type: ignore[arg-type]
        total += len(ref)
        extra += len(got) - len(m["found"])  # type: ignore[arg-type]
    return {"reference_people": total, "kept": shared / max(total, 1),
            "extra_per_frame": extra / max(len(frames), 1)}


VARIANTS = {"scan": (False, False), "search": (False, True), "spread": (True, False),
            "both": (True, True)}  # (spread, search_lost)


def run(name: str, split: str, mode: str, full_every: int, lost_after: int,
        photo_every: int, truth: dict[int, np.ndarray], variant: str = "scan",
        confirm_within: int | None | str = "default"
        ) -> tuple[dict[str, object], Detections]:
    start, end = STRETCHES[split][name]
    unconfirmed: list = []
    if mode == "photo":
        only = set(range(start, end, photo_every)) | set(truth)
        found, cpu, scans = detect_video(name, end, start=start, full=True, only=only,
                                         quiet=True)
    else:
        spread, search_lost = VARIANTS[variant]
        found, cpu, scans = detect_video(name, end, start=start, full_every=full_every,
                                         lost_after=lost_after, spread=spread,
                                         search_lost=search_lost, quiet=True,
                                         confirm_within=confirm_within,
                                         unconfirmed=unconfirmed)
    frames = len(cpu)
    return {"frames": frames, "scans": scans,
            "unconfirmed": [[start + t] + [round(float(v), 1) for v in box]
                            for t, box in unconfirmed],
            "cpu_s_per_frame_median": float(np.median(cpu)),
            "cpu_s_per_frame_mean": float(np.mean(cpu)),
            "people_per_frame": len(found.frame) / max(frames, 1),
            "duplicate_pairs": len(duplicate_pairs(found)),
            "sources": {str(s): int(n) for s, n in zip(*np.unique(found.source,
                                                                  return_counts=True),
                                                          strict=True)},
            "annotated": score(found, truth)}, found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--split", choices=["tune", "heldout"], default="heldout")
    parser.add_argument("--full-every", type=int, action="append",
                        help="video mode's full_every (repeatable; default its own)")
    parser.add_argument("--lost-after", type=int, action="append",
                        help="video mode's lost_after (repeatable; default its own)")
    parser.add_argument("--reference", action="append", default=[], metavar="VIDEO=PATH",
                        help="the photo detector's detections of the stretch (a real_videos "
                        "cache file) to compare each frame with")
    parser.add_argument("--photo-every", type=int, default=0,
                        help="also time Detector.detect on every k-th frame (0: not)")
    parser.add_argument("--variant", action="append", choices=list(VARIANTS),
                        help="the video mode's variant (repeatable; default its own)")
    parser.add_argument("--confirm-within", type=int, action="append",
                        help="video mode's confirm_within (repeatable; 0: None, off; else at "
                        "least --full-every; default its own)")
    parser.add_argument("--video", action="append", choices=list(FRAMES))
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    from smplify.detection import detector_digest
    from smplify.video_detection import FULL_EVERY, LOST_AFTER, VideoDetector

    parameters = inspect.signature(VideoDetector).parameters
    own = next(v for v, flags in VARIANTS.items()
               if flags == (parameters["spread"].default, parameters["search_lost"].default))

    annotation = json.loads(ANNOTATION.read_text())["videos"]
    out: dict[str, object] = {"machine": platform.platform(), "split": args.split,
                              "detector": detector_digest(), "videos": {}}
    confirm = parameters["confirm_within"].default
    modes = [("photo", 0, 0, "", confirm)] if args.photo_every else []
    modes += [(f"video_{n}_{k}" + ("" if v == "scan" else f"_{v}")
               + ("" if args.confirm_within is None else f"_c{c or 0}"), n, k, v, c)
              for v in (args.variant or [own]) for n in (args.full_every or [FULL_EVERY])
              for k in (args.lost_after or [LOST_AFTER])
              for c in ([confirm] if args.confirm_within is None else
                        [c or None for c in args.confirm_within])]
    references = dict(r.split("=", 1) for r in args.reference)
    for name in args.video or list(FRAMES):
        truth = {int(k): np.asarray(v, dtype=float)
                 for k, v in annotation[name][args.split].items()}
        results = out["videos"].setdefault(name, {})  # type: ignore[union-attr]
        for mode, n, k, v, c in modes:
            r, found = run(name, args.split, mode, n, k, args.photo_every, truth, v or "scan",
                           c)
            if name in references and mode != "photo":  # (photo: some frames only)
                r["agreement"] = agreement(found, load_detections(name,
                                                                  Path(references[name])))
                print(f"  {name} {mode} vs reference: {r['agreement']}")
            results[mode] = r
            a = r["annotated"]
            print(f"{name:9s} {mode:16s} {r['frames']:4d} frames {r['scans']:4d} scans "
                  f"CPU {r['cpu_s_per_frame_median']:.3f} s/frame (mean "
                  f"{r['cpu_s_per_frame_mean']:.3f}) people/frame "
                  f"{r['people_per_frame']:.2f} dup pairs {r['duplicate_pairs']} | recall "
                  f"{a['found']}/{a['people']} tall {a['tall_found']}/{a['tall']} dup "
                  f"{a['duplicates']} false {a['false']} missed {' '.join(a['missed'])} "
                  f"unconfirmed {len(r['unconfirmed'])}", flush=True)  # type: ignore[arg-type]
            if args.split == "heldout" and mode != "photo":  # (bench_tracker reads the
                # default mode's; the others' for it under their name in another cache)
                is_default = (n, k, v, c) == (FULL_EVERY, LOST_AFTER, own, confirm)
                path = cache_dir() / (f"{detections_key(name)}"
                                      f"{'' if is_default else '_' + mode}.npz")
                save_detections(found, path)
                print(f"  saved {path}")
    write_results(out, args.json, RESULTS if args.split == "heldout" else
                  RESULTS.with_name("detector_video_tune.json"))


if __name__ == "__main__":
    main()
