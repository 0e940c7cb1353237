"""One skeleton per person: the detector's duplicates and merged skeletons, before/after.

    XDG_CACHE_HOME=/tmp/dd_cache .venv/bin/python benchmarks/detector_dedup.py \\
        --before vtest=/tmp/dd_before/vtest_200_4a9abe4529ea.npz \\
        --before sports2d=/tmp/dd_before/sports2d_230_4a9abe4529ea.npz \\
        [--json /tmp/detector_dedup.json]

For each real video (``real_videos.py``: OpenCV's vtest.avi, the sports2d demo) and each set
of detections, "after" being the current detector's (detected now or cached under its
digest) and "before" a cache file of an older detector (``--before NAME=PATH``):

- people per frame;
- duplicates: pairs of one frame's people whose keypoint similarity
  (``smplify.person_nms.keypoint_similarity``) exceeds ``DUPLICATE_SIMILARITY``, per frame,
  and the frames with at least one;
- merged skeletons: people of the whole image or a tile (the sources the detector checks)
  and of the other sources, that the landmarker does not re-find in their own box
  (``person_nms.one_body``, the detector's check run again on the video's frames);
- tracks: how many ``real_videos.tracks`` (people tracked >= 30 frames) there are.

Prints a table per video, writes JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from real_videos import (  # noqa: E402
    FRAMES,
    Detections,
    detections,
    load_detections,
    tracks,
    video_path,
)


def duplicate_pairs(found: Detections) -> list[tuple[int, int, int, float]]:
    """(frame, row a, row b, similarity) of every same-frame pair above the threshold."""
    from smplify.person_nms import DUPLICATE_SIMILARITY, keypoint_similarity

    out = []
    for t in range(found.num_frames):
        rows = found.people(t)
        for i, a in enumerate(rows):
            for b in rows[i + 1:]:
                sim = keypoint_similarity(found.keypoints[a], found.keypoints[b])
                if sim > DUPLICATE_SIMILARITY:
                    out.append((t, int(a), int(b), sim))
    return out


def merged_rows(found: Detections, detector) -> list[int]:
    """Rows the one-body check rejects (the landmarker does not re-find them in their box)."""
    from smplify.detection import Person
    from smplify.sources import open_source
    from smplify.tracking import keypoint_box

    out = []
    for frame in open_source(video_path(found.name)).frames():
        if frame.index >= found.num_frames:
            break
        for row in found.people(frame.index):
            kp = found.keypoints[row]
            person = Person(kp, found.world[row], keypoint_box(kp), str(found.source[row]))
            kept = detector._one_body(frame.image, person)  # the detector's own check
            if not (len(kept) == 1 and kept[0] is person):
                out.append(int(row))
    return out


def figures(found: Detections, detector) -> dict:
    pairs = duplicate_pairs(found)
    merged = merged_rows(found, detector)
    checked = np.isin(found.source, ["image", "tile", "small_tile"])
    return {
        "frames": found.num_frames,
        "people": len(found.frame),
        "people_per_frame": len(found.frame) / found.num_frames,
        "sources": {s: int((found.source == s).sum()) for s in np.unique(found.source)},
        "duplicate_pairs": len(pairs),
        "duplicates_per_frame": len(pairs) / found.num_frames,
        "frames_with_duplicates": len({p[0] for p in pairs}),
        "duplicate_examples": [(t, a, b, round(s, 3)) for t, a, b, s in pairs[:10]],
        "merged_image_or_tile": int(sum(checked[r] for r in merged)),
        "merged_other_sources": int(sum(not checked[r] for r in merged)),
        "merged_frames": sorted({int(found.frame[r]) for r in merged}),
        "tracks_30_frames": len(tracks(found)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before", action="append", default=[], metavar="NAME=PATH",
                        help="an older detector's cached detections of video NAME")
    parser.add_argument("--videos", nargs="*", default=list(FRAMES))
    parser.add_argument("--json", default="detector_dedup.json")
    args = parser.parse_args()
    before = dict(item.split("=", 1) for item in args.before)
    from smplify.detection import Detector, detector_digest

    detector = Detector()
    results: dict = {"detector": detector_digest()}
    for name in args.videos:
        sets = {"after": detections(name, quiet=True)}
        if name in before:
            sets["before"] = load_detections(name, Path(before[name]))
        results[name] = {label: figures(found, detector) for label, found in sets.items()}
        print(f"\n{name}: {FRAMES[name]} frames")
        keys = ["people_per_frame", "duplicate_pairs", "duplicates_per_frame",
                "frames_with_duplicates", "merged_image_or_tile", "merged_other_sources",
                "tracks_30_frames"]
        labels = [label for label in ("before", "after") if label in results[name]]
        print(f"  {'':24s}" + "".join(f"{label:>10s}" for label in labels))
        for key in keys:
            row = [results[name][label][key] for label in labels]
            print(f"  {key:24s}" + "".join(f"{v:10.2f}" if isinstance(v, float) else
                                           f"{v:10d}" for v in row))
        for label in labels:
            print(f"  {label} sources {results[name][label]['sources']}, merged in frames "
                  f"{results[name][label]['merged_frames']}")
    detector.close()
    Path(args.json).write_text(json.dumps(results, indent=1))
    print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
