"""The online Fitter with two option sets side by side, frame by frame (issue 11's
≤ 1 ms a frame): paired CPU time a frame on a shared machine.

Two Fitters (``--a`` and ``--b`` options over the defaults, one thread) are fed bench_video's
held-out clips (``bench_online.py``'s: frames ``--start``.., detector seed ``--seed`` +
clip) in lockstep; each frame is fitted by both, in alternating order, so that both see the
same load. Per set: median and mean CPU ms a frame, the median over the frames both fitted
as plain warm frames (``summary["start"]`` "warm" with the keypoints as seen), and the
paired ratio b / a of those frames (median, and the ratio of their sums), PA-MPJPE and
acceleration error (bench_video's ``accuracy``; the tracks themselves may part).
``--rounds`` repeats the whole run; the median over rounds of each figure is reported.

    OPENBLAS_NUM_THREADS=1 nice .venv/bin/python benchmarks/online_lockstep.py \\
        --b '{"track_held_joints": "unseen"}' --output benchmarks/results/X.json
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before NumPy loads its BLAS

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import smplify  # noqa: E402
from bench_online import FORMAT, clips  # noqa: E402
from bench_video import accuracy, clip_arguments, hold_last  # noqa: E402


def _fit(fitter: smplify.Fitter, kp: np.ndarray) -> tuple[float, object]:
    start = time.process_time()
    try:
        result = fitter.fit(kp)
    except smplify.KeypointError:
        result = None
    return time.process_time() - start, result


def _plain(result: object) -> bool:
    return result is not None and result.summary["start"] == "warm" and \
        result.summary.get("labelling", "as seen") == "as seen"


def one_round(model: object, videos: list, sets: list[dict]) -> dict:
    cpu = [[], []]
    plain = []
    scores = [[], []]
    for video in videos:
        fitters = [smplify.Fitter(model, format=FORMAT, image_size=video.image_size,
                                  focal_length=video.focal_length, threads=1, **options)
                   for options in sets]
        joints = [[], []]
        for t, kp in enumerate(video.keypoints):
            order = (0, 1) if t % 2 == 0 else (1, 0)
            out = {}
            for i in order:
                out[i] = _fit(fitters[i], kp)
            for i in (0, 1):
                cpu[i].append(out[i][0])
                joints[i].append(None if out[i][1] is None else out[i][1].joints)
            plain.append(_plain(out[0][1]) and _plain(out[1][1]))
        for i in (0, 1):
            scores[i].append(accuracy(hold_last(joints[i]), video))
    a, b, both = 1000 * np.array(cpu[0]), 1000 * np.array(cpu[1]), np.array(plain)
    row = {"load": os.getloadavg()[0], "plain_frames": int(both.sum()),
           "plain_ratio_median": float(np.median(b[both] / a[both])),
           "plain_ratio_sum": float(b[both].sum() / a[both].sum())}
    for name, c, s in (("a", a, scores[0]), ("b", b, scores[1])):
        row[name] = {"median_cpu_ms": float(np.median(c)), "mean_cpu_ms": float(np.mean(c)),
                     "plain_median_cpu_ms": float(np.median(c[both])),
                     "pa_mpjpe_mm": float(np.mean([x[0] for x in s])),
                     "accel_error_mm": float(np.mean([x[1] for x in s])),
                     "per_clip": [[float(x[0]), float(x[1])] for x in s]}
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    clip_arguments(parser)
    parser.add_argument("--a", type=json.loads, default={}, help="options of set a (JSON)")
    parser.add_argument("--b", type=json.loads, required=True, help="options of set b (JSON)")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args()
    model = smplify.load_model("open")
    videos = clips(model, args)
    rounds = []
    for r in range(args.rounds):
        row = one_round(model, videos, [args.a, args.b])
        rounds.append(row)
        sides = "; ".join(
            f"{n} {opts}: median {row[n]['median_cpu_ms']:.2f} mean {row[n]['mean_cpu_ms']:.2f}"
            f" plain {row[n]['plain_median_cpu_ms']:.2f} ms, {row[n]['pa_mpjpe_mm']:.1f} mm / "
            f"{row[n]['accel_error_mm']:.1f}" for n, opts in (("a", args.a), ("b", args.b)))
        print(f"round {r}: load {row['load']:.1f}; {sides}; plain frames b/a median "
              f"{row['plain_ratio_median']:.3f}, sums {row['plain_ratio_sum']:.3f} "
              f"({row['plain_frames']} frames)", flush=True)
    if args.output is not None:
        args.output.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()},
                                           "rounds": rounds}, indent=1) + "\n")
        print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
