"""Two sets of initialiser weights through the online Fitter on bench_video's clips, with
option variants (e.g. without the warm frames' learned anchor, ``track_anchor`` 0).

The online Fitter meets the initialiser twice: its cold starts (the readings as starts and
the reading score) and, every ``track_anchor``-th warm frame, the top reading as an E_3D
anchor (``anchor_weight``). This runs ``bench_video``'s online row (its clips, frames
120..240, COCO-17, detector seed SEED + clip, the held-last joints) for each ``--seeds``
entry, each weights folder (``--before``, ``--after``: folders of ``initializer_coco17.npz``)
and each variant of ``--variants`` (a JSON list of option dicts over the defaults), and prints
the mean PA-MPJPE (mm) per clip and over the clip-seeds, with the paired after − before per
variant (mean ± s.e. over the clip-seeds).

    OPENBLAS_NUM_THREADS=1 nice .venv/bin/python benchmarks/initializer_online.py \\
        --before /tmp/old --after python/smplify/data --seeds 100 200 \\
        --variants '[{}, {"track_anchor": 0}]'          (~1 CPU min a seed)
    → benchmarks/results/initializer_online.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import bench_video
import numpy as np
import smplify
from initializer_weights import mean_se, use_weights
from smplify import synthetic_video as sv

RESULTS = Path(__file__).resolve().parent / "results" / "initializer_online.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", type=Path, required=True)
    parser.add_argument("--after", type=Path, required=True)
    parser.add_argument("--seeds", type=int, nargs="+", default=[100, 200])
    parser.add_argument("--variants", type=json.loads, default=[{}, {"track_anchor": 0}])
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    model = smplify.load_model("open")
    sequences = sv.load_sequences(bench_video.SEQUENCES)
    mm: dict[str, dict[str, list[float]]] = {"before": {}, "after": {}}
    clips = []
    for seed in args.seeds:
        for c, seq in enumerate(sequences):
            video = sv.make_video(model, seq, bench_video.FORMAT,
                                  np.random.default_rng(seed + c), sv.DetectorErrors(),
                                  frames=slice(120, 240))
            clips.append(f"{seq['name']} @{seed + c}")
            line = []
            for name in ("before", "after"):
                use_weights(getattr(args, name))
                for v in args.variants:
                    joints = bench_video.hold_last(bench_video.tracked(video, model, v))
                    value = bench_video.accuracy(joints, video)[0]
                    mm[name].setdefault(json.dumps(v), []).append(value)
                    line.append(f"{name} {json.dumps(v)} {value:5.1f}")
            print(f"{clips[-1]:34s} " + "  ".join(line), flush=True)
    out: dict = {"before": str(args.before), "after": str(args.after), "seeds": args.seeds,
                 "clips": clips, "variants": {}}
    for v in args.variants:
        key = json.dumps(v)
        b, a = np.array(mm["before"][key]), np.array(mm["after"][key])
        out["variants"][key] = {"before_mm": b.tolist(), "after_mm": a.tolist(),
                                "after_minus_before_mm": mean_se(a - b)}
        d = out["variants"][key]["after_minus_before_mm"]
        print(f"{key}: before {b.mean():.1f}  after {a.mean():.1f}  after − before "
              f"{d[0]:+.2f} ± {d[1]:.2f} mm ({len(a)} clip-seeds)")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
