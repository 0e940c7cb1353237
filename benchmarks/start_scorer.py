"""The learned start scorer against the energy's start selection on the realistic-error set
and on video frames.

Every case of ``--split`` is fitted once with the defaults but the energy's selection
(``start_scorer="energy"``, "default" below: the default before the scorer), every finished
start kept (``tools/start_pools.py``); a selection rule then only picks one of them, so each
rule's PA-MPJPE per case is exact (the fit with ``start_scorer="learned"`` keeps the same
start: ``tests/test_start_scorer.py``). For each (temperature, l2, H) of ``--grid`` the scorer is
trained on the training-subject pools of ``tools/build_start_scorer.py`` (cached) and scored
on the split: mean PA-MPJPE of the default's choice, the scorer's, the best start's, and the
paired difference scorer − default with its standard error, per format and pooled.

Splits: ``tune`` / ``test``, the realistic set's halves (``benchmarks/realistic.py``: held-out
mocap poses); ``video-tuning``, every 2nd frame of the tuning clips
(``tests/data/tuning_sequences.npz``, COCO-17, detector seed 200 + clip), to choose;
``video-heldout``, ``bench_video``'s frames exactly (its four held-out clips, frames 120..240,
COCO-17, seed 100 + clip: the per-frame row's fits, with the frames no fit accepts left out),
to report; ``video-heldout-seeds``, the same stretches with four other detector seeds (and so
camera headings) each, every 3rd frame: a clip's frames share one heading, so four clips
are four draws of it.
``video-tuning4`` (every 4th frame of the tuning clips) and ``video-heldout-300``
(``bench_video.py --seed 300``'s frames) serve ``benchmarks/start_scorer_shift.py``.

    OPENBLAS_NUM_THREADS=1 nice .venv/bin/python benchmarks/start_scorer.py --split tune \
        --cases 150 --grid "[(10, 0.001, 8), (5, 0.001, 8), (20, 0.001, 8), (10, 0.01, 8),
        (10, 0.001, 4), (10, 0.001, 16)]"
    → benchmarks/results/start_scorer_<split>.json

``--split test`` and ``video-heldout`` take one grid point only (the one chosen on tune and
video-tuning): tuning on held-out data is refused. With ``--tracked`` a video split also runs
the online Fitter and fit_sequence with either ``start_scorer`` (the shipped weights) on its
clips (``bench_video``'s rows for ``video-heldout``)::

    OPENBLAS_NUM_THREADS=1 nice .venv/bin/python benchmarks/start_scorer.py \
        --split video-heldout --grid "[(10, 0.001, 8)]" --tracked
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import bench_video
import numpy as np
import realistic
import smplify
from smplify import start_scorer as shipped_scorer
from smplify import synthetic_video as sv

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import build_start_scorer as bss  # noqa: E402
from start_pools import Pools, record, video_cases  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


#: Sequences file, frames, frame step of the pools, detector seeds of clip 0 (clip c: + c; the
#: seed also draws the camera's heading, which moves a clip's per-frame figures by ±15 mm).
VIDEO_SPLITS = {
    "video-tuning": (bss.TUNING_SEQUENCES, slice(None), 2, (200,)),
    "video-heldout": (bench_video.SEQUENCES, slice(120, 240), 1, (100,)),
    "video-heldout-seeds": (bench_video.SEQUENCES, slice(120, 240), 3,
                            (1100, 2100, 3100, 4100)),
    # Lighter splits (benchmarks/start_scorer_shift.py): every 4th frame of the tuning clips;
    # bench_video's frames with its seed 300 (bench_video.py --seed 300's per-frame row).
    "video-tuning4": (bss.TUNING_SEQUENCES, slice(None), 4, (200,)),
    "video-heldout-300": (bench_video.SEQUENCES, slice(120, 240), 1, (300,))}

#: The video splits that only report (one grid point: tuning on them is refused).
HELDOUT_SPLITS = ("video-heldout", "video-heldout-seeds", "video-heldout-300")


def _videos(model: smplify.BodyModel, split: str, skip: set[str] | frozenset[str] = frozenset()
            ) -> Iterator[tuple[str, int, dict[str, Any], int]]:
    """(name, clip index, sequence, detector seed) of each clip and seed of a video split;
    the name carries the seed when the split has several."""
    path, _, _, seeds = VIDEO_SPLITS[split]
    for base in seeds:
        for c, seq in enumerate(sv.load_sequences(path)):
            if seq["name"] not in skip:
                name = seq["name"] if len(seeds) == 1 else f"{seq['name']} @{base + c}"
                yield name, c, seq, base + c


def split_pools(model: smplify.BodyModel, fmt: str, n: int, split: str, prune: int = 0
                ) -> Pools:
    """The realistic split's pools for ``fmt`` fitted with ``prune``
    (``build_start_scorer.pool_options``; 0: every start), cached like the training pools."""
    options, tag = bss.pool_options(prune)
    key = bss.pools_key(fmt, hashlib.sha1(Path(realistic.__file__).read_bytes()).digest(),
                        f"{n}|{split}".encode() + tag)
    return bss.cached_pools(f"{split}_{fmt}{'_pruned' if prune else ''}", key,
                            lambda: record(model, fmt, realistic.cases(model, fmt, n, split),
                                           options))


def video_pools(model: smplify.BodyModel, split: str, clip_weight: float = 0.0,
                errors: sv.DetectorErrors | None = None, prune: int = 0) -> dict[str, Pools]:
    """{clip name: pools of its frames' fits} of a video split (``VIDEO_SPLITS``) through
    the synthetic detector's ``errors``, fitted with ``prune``
    (``build_start_scorer.pool_options``; 0: every start), cached; without the clips the
    scorer trains on when ``clip_weight`` > 0 (``build_start_scorer.sequence_clips``);
    ``errors`` None: the default."""
    errors = errors or sv.DetectorErrors()
    options, tag = bss.pool_options(prune)
    path, frames, step, _ = VIDEO_SPLITS[split]
    out = {}
    # The clips the scorer learned from are not for choosing.
    trained_on = {seq["name"] for seq in bss.sequence_clips()} if clip_weight > 0 else set()
    for name, c, seq, seed in _videos(model, split, trained_on):
        def make(seq: dict[str, Any] = seq, seed: int = seed) -> Pools:
            video = sv.make_video(model, seq, bench_video.FORMAT,
                                  np.random.default_rng(seed), errors, frames=frames)
            cases = video_cases(video)
            keep = np.arange(0, video.num_frames, step)
            return record(model, bench_video.FORMAT, type(cases)(
                *(getattr(cases, f)[keep] for f in ("keypoints", "image_size", "focal",
                                                   "rotation", "joints", "transl",
                                                   "body_pose", "betas"))), options)
        key = bss.pools_key(bench_video.FORMAT, bss._file_digest(path),
                            f"{split}|{c}|{frames}|{step}|{seed}|{errors}".encode() + tag)
        out[name] = bss.cached_pools(f"{split}_{c}_{seed}{'_pruned' if prune else ''}", key,
                                     make)
    return out


def tracked_rows(model: smplify.BodyModel, split: str,
                 errors: sv.DetectorErrors | None = None) -> dict[str, Any]:
    """The online Fitter's and fit_sequence's PA-MPJPE and accel error (mm) on a video
    split's clips (all frames of its stretch; ``errors`` None: the detector's default) with
    ``start_scorer`` "energy" and "learned" (the shipped weights): they differ only where a
    fit starts from scratch."""
    errors = errors or sv.DetectorErrors()
    frames = VIDEO_SPLITS[split][1]
    rows: dict[str, Any] = {}
    for name, _, seq, seed in _videos(model, split):
        video = sv.make_video(model, seq, bench_video.FORMAT, np.random.default_rng(seed),
                              errors, frames=frames)
        for kind in ("energy", "learned"):
            online = bench_video.hold_last(bench_video.tracked(video, model,
                                                               {"start_scorer": kind}))
            fitted = smplify.fit_sequence(video.keypoints, bench_video.FORMAT,
                                          video.image_size, video.focal_length, model=model,
                                          threads=1, start_scorer=kind)
            row = {"online": bench_video.accuracy(online, video),
                   "fit_sequence": bench_video.accuracy(fitted.joints, video)}
            rows.setdefault(kind, {})[name] = row
            print(f"{name:40s} {kind:8s} " + "  ".join(
                f"{m} {a:5.1f} mm, accel {b:5.1f}" for m, (a, b) in row.items()), flush=True)
    for kind, clips in rows.items():
        means = {m: float(np.mean([r[m][0] for r in clips.values()]))
                 for m in ("online", "fit_sequence")}
        clips["mean_pa_mpjpe_mm"] = means
        print(f"{kind}: mean PA-MPJPE online {means['online']:.1f}, fit_sequence "
              f"{means['fit_sequence']:.1f} mm", flush=True)
    names = [k for k in rows["energy"] if k != "mean_pa_mpjpe_mm"]
    for m in ("online", "fit_sequence"):
        d = np.array([rows["learned"][k][m][0] - rows["energy"][k][m][0] for k in names])
        rows[f"{m}_paired_mm"] = [float(d.mean()), float(d.std(ddof=1) / np.sqrt(len(d)))]
        print(f"{m}: learned − energy {d.mean():+.2f} ± {rows[f'{m}_paired_mm'][1]:.2f} mm "
              f"(s.e. over {len(d)} clip stretches)", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", choices=("tune", "test", *VIDEO_SPLITS), default="tune")
    parser.add_argument("--cases", type=int, default=150, help="cases per format")
    parser.add_argument("--formats", nargs="+", default=list(realistic.ALL_FORMATS))
    parser.add_argument("--grid", default=f"[({bss.TEMPERATURE}, {bss.L2}, {bss.HIDDEN})]",
                        help="list of (temperature mm, l2, hidden units) to train and score")
    parser.add_argument("--prune-starts", type=int, default=bss.PRUNE_STARTS,
                        help="the prior's starts each orientation finishes in every pool's "
                        "fit, the training pools' and the split's (0: every start)")
    parser.add_argument("--train-cases", type=int, default=bss.CASES)
    parser.add_argument("--train-video-cases", type=int, default=bss.VIDEO_CASES)
    parser.add_argument("--tracked", action="store_true",
                        help="video splits: also the online Fitter and fit_sequence with "
                        "either start_scorer (the shipped weights)")
    parser.add_argument("--clip-weight", type=float, default=bss.CLIP_WEIGHT,
                        help="the training clips' weight (0: no training clips)")
    bench_video.confidence_argument(
        parser, help="video splits: the detector's confidence model (DetectorErrors)")
    parser.add_argument("--shipped", action="store_true",
                        help="score the shipped weights (smplify/data/start_scorer.npz) "
                        "instead of training on --grid's point")
    parser.add_argument("--mocap", type=Path,
                        default=bss.REPO.parent / "shared" / "data" / "mocap")
    args = parser.parse_args()
    grid = ast.literal_eval(args.grid)
    if args.split in ("test", *HELDOUT_SPLITS) and len(grid) != 1:
        parser.error(f"--split test scores one (temperature, l2, hidden), got {len(grid)}: "
                     "choose among several on --split tune, then report the choice on test")
    model = smplify.load_model("open")
    errors = sv.DetectorErrors(confidence_model=args.confidence)
    held = (video_pools(model, args.split, args.clip_weight, errors, args.prune_starts)
            if args.split in VIDEO_SPLITS else
            {fmt: split_pools(model, fmt, args.cases, args.split, args.prune_starts)
             for fmt in args.formats})
    train_args = argparse.Namespace(formats=list(bss.FORMATS), cases=args.train_cases,
                                    video_cases=args.train_video_cases, mocap=args.mocap,
                                    clip_weight=args.clip_weight,
                                    prune_starts=args.prune_starts)
    if not args.shipped:
        training, case_weight = bss.training_set(bss.training_pools(train_args),
                                                 args.clip_weight)
    out: dict[str, Any] = {"split": args.split, "confidence": args.confidence,
                           "shipped": args.shipped, "cases_per_format": args.cases,
                           "prune_starts": args.prune_starts,
                           "train_cases": args.train_cases,
                           "train_video_cases": args.train_video_cases,
                           "clip_weight": args.clip_weight, "runs": []}
    for temperature, l2, hidden in grid:
        w = np.asarray(shipped_scorer.weights()) if args.shipped else \
            bss.train(training, float(temperature), float(l2), int(hidden), case_weight)
        run: dict[str, Any] = {"temperature": temperature, "l2": l2, "hidden": hidden,
                               "weights": [float(v) for v in w], "formats": {}}
        diffs = []
        for fmt, pools in held.items():
            fig = bss.figures(pools, w)
            d, s = bss.chosen_mm(pools, None), bss.chosen_mm(pools, w)
            ok = np.isfinite(d)
            diffs.append(s[ok] - d[ok])
            fig["per_case_default_mm"] = [round(float(v), 2) for v in d]
            fig["per_case_scorer_mm"] = [round(float(v), 2) for v in s]
            run["formats"][fmt] = fig
            print(f"T={temperature} l2={l2} H={hidden} {fmt:14s} default "
                  f"{fig['default_mm']:6.1f}  scorer "
                  f"{fig['scorer_mm']:6.1f}  paired {fig['paired_mm']:+5.1f} ± "
                  f"{fig['paired_se']:.1f}  best of starts {fig['best_of_starts_mm']:.1f} "
                  f"({fig['cases']} cases)", flush=True)
        if args.split in VIDEO_SPLITS:  # frames of a clip share its camera: s.e. over clips
            per_clip = np.array([d.mean() for d in diffs])
            run["clip_paired_mm"] = float(per_clip.mean())
            run["clip_paired_se"] = float(per_clip.std(ddof=1) / np.sqrt(len(per_clip)))
            print(f"T={temperature} l2={l2} H={hidden} over {len(per_clip)} clip stretches: "
                  f"{run['clip_paired_mm']:+.2f} ± {run['clip_paired_se']:.2f} mm", flush=True)
        all_d = np.concatenate(diffs)
        run["pooled_paired_mm"] = float(all_d.mean())
        run["pooled_paired_se"] = float(all_d.std(ddof=1) / np.sqrt(len(all_d)))
        print(f"T={temperature} l2={l2} H={hidden} all: default "
              f"{np.mean([run['formats'][k]['default_mm'] for k in held]):.1f} paired "
              f"{run['pooled_paired_mm']:+.2f} ± {run['pooled_paired_se']:.2f} mm", flush=True)
        out["runs"].append(run)
    if args.tracked and args.split in VIDEO_SPLITS:
        out["tracked"] = tracked_rows(model, args.split, errors)
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / (f"start_scorer_{args.split}"
                      f"{'' if args.confidence == 'error-linked' else '_' + args.confidence}"
                      f"{'_shipped' if args.shipped else ''}"
                      f"{f'_prune{args.prune_starts}' if args.prune_starts else ''}.json")
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
