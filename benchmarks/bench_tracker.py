"""The front end's person tracker, before and after issue 11's rework, on synthetic scenes with
known ids and on the real videos' cached detections.

    OPENBLAS_NUM_THREADS=1 nice .venv/bin/python benchmarks/bench_tracker.py [--scenes 20]

- Synthetic (``tracking_scenes.py``): the test half (odd seeds; the constants were chosen
  on the tune half by ``tune_tracker.py``): id switches, fragmentations, MOTA, IDF1, ids per
  person, pooled over the scenes.
- Real (``real_videos.py``: vtest's first 200 frames at 10 fps, the sports2d demo's 230 at
  30 fps; MediaPipe + HOG detections from bench_real_video's cache, detected if missing):
  ids given, ids on >= 30 frames (the people bench_real_video fits), their lengths, people
  left without an id (the new tracker's false and duplicate detections), and handovers: a
  track whose keypoint box diagonal jumps more than 1.5x between consecutive sightings (a
  box growing or shrinking that fast is someone else, or a detection of part of the
  person).
- CPU ms per frame of the tracker (median of 3 runs over every scene).

JSON: ``benchmarks/results/bench_tracker.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
from real_videos import FRAMES, detections
from smplify.tracking import keypoint_box
from tracker_runs import TRACKERS, Run
from tracking_scenes import scenes, score

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "bench_tracker.json"
JUMP = 1.5
LONG = 30  # frames: bench_real_video fits the people seen at least this long


def _diag(kp: np.ndarray) -> float:
    box = keypoint_box(kp)
    return float(np.hypot(*(box[2:] - box[:2])))


def real_video(name: str, make: Run) -> dict[str, object]:
    """Ids, lengths and handovers of one tracker on a real video's cached detections."""
    found = detections(name, FRAMES[name], quiet=True)
    frames = [[found.keypoints[i] for i in found.people(t)] for t in range(found.num_frames)]
    rows: dict[int, list[int]] = {}
    unassigned = 0
    for t, ids in enumerate(make(found.fps)(frames)):
        for i, track in zip(found.people(t), ids, strict=True):
            if track < 0:
                unassigned += 1
            else:
                rows.setdefault(track, []).append(int(i))
    jumps = []
    for track, seen in rows.items():
        d = np.array([_diag(found.keypoints[i]) for i in seen])
        ratio = np.maximum(d[1:] / d[:-1], d[:-1] / d[1:])
        for k in np.flatnonzero(ratio > JUMP):
            jumps.append({"track": track, "frame": int(found.frame[seen[k + 1]]),
                          "ratio": round(float(ratio[k]), 2)})
    lengths = sorted((len(v) for v in rows.values()), reverse=True)
    return {"detections": len(found.frame), "ids": len(rows),
            "ids_long": sum(n >= LONG for n in lengths), "lengths": lengths,
            "long_lengths": [n for n in lengths if n >= LONG], "unassigned": unassigned,
            "handovers": len(jumps), "jumps": jumps}


def cpu_ms_per_frame(held_out: list, make: Run) -> float:
    """Median over 3 runs of the tracker's CPU time per frame over every scene."""
    frames = sum(len(sc.people) for sc in held_out)
    runs = []
    for _ in range(3):
        start = time.process_time()
        for sc in held_out:
            make(sc.fps)(sc.people)
        runs.append(1000 * (time.process_time() - start) / frames)
    return float(np.median(runs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scenes", type=int, default=20, help="test-half scenes")
    parser.add_argument("--videos", nargs="*", default=["vtest", "sports2d"])
    args = parser.parse_args()
    held_out = scenes("test", count=args.scenes)
    out: dict[str, object] = {"machine": platform.platform(), "scenes": args.scenes,
                              "synthetic": {}, "real": {}, "cpu_ms_per_frame": {}}
    print(f"synthetic test half, {args.scenes} scenes of 120 frames")
    print(f"{'tracker':8s} {'idsw':>5s} {'frag':>5s} {'fn':>5s} {'fp':>5s} {'MOTA':>6s} "
          f"{'IDF1':>6s} {'ids/person':>10s} {'ms/frame':>8s}")
    for name, make in TRACKERS.items():
        s = score(held_out, make)
        ms = cpu_ms_per_frame(held_out, make)
        out["synthetic"][name] = s  # type: ignore[index]
        out["cpu_ms_per_frame"][name] = ms  # type: ignore[index]
        print(f"{name:8s} {s['idsw']:5d} {s['frag']:5d} {s['fn']:5d} {s['fp']:5d} "
              f"{s['mota']:6.3f} {s['idf1']:6.3f} {s['ids_per_person']:10.2f} {ms:8.3f}")
    for video in args.videos:
        print(f"\n{video}")
        out["real"][video] = {}  # type: ignore[index]
        for name, make in TRACKERS.items():
            r = real_video(video, make)
            out["real"][video][name] = r  # type: ignore[index]
            print(f"{name:8s} ids {r['ids']:3d} (>= {LONG} frames: {r['ids_long']:2d}, "
                  f"lengths {r['long_lengths']}), no id {r['unassigned']:3d}, "
                  f"box jumps > {JUMP}x {r['handovers']}: "
                  + ", ".join(f"track {j['track']} frame {j['frame']} {j['ratio']}x"
                              for j in r["jumps"]))  # type: ignore[union-attr]
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=1) + "\n")
    print(f"\nwrote {RESULTS}")


if __name__ == "__main__":
    main()
