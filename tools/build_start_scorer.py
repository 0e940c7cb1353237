"""Learn the single-image fit's start scorer from training mocap subjects (NumPy only).

    python tools/build_start_scorer.py [--cases 400] [--video-cases 400] [--clip-weight 0]
        [--prune-starts 2] [--formats ...] [--temperature 30] [--l2 0.001] [--hidden 8]
        [--mocap ../shared/data/mocap] [--out python/smplify/data/start_scorer.npz]

(the defaults shown: ``CASES``, ``VIDEO_CASES``, ``CLIP_WEIGHT``, ``PRUNE_STARTS``,
``TEMPERATURE``, ``L2``, ``HIDDEN`` below).

1. Cases, all from poses of the TRAINING mocap clips (``initializer_poses``, split by clip as
   the pose prior and the initialisers are: ``build_pose_prior.HELDOUT``; the realistic set's
   and the video benchmarks' held-out clips are never used), per format:
   - ``--cases`` single images: a small random root tilt, random betas, a random camera and
     detector errors: the error model of ``benchmarks/realistic.py``
     (``smplify.detections.render_cases``);
   - ``--video-cases`` video frames: the poses with their mocap root orientation (upright as
     filmed) at a random heading, ±1 m around a point 5 m ahead, seen by
     ``smplify.synthetic_video``'s camera (f = 1200 px) with its detector error model
     (noise of 1% of the person's size, dropped frames and keypoints, whole-body swap bursts,
     limb swaps, occlusions), in pseudo-clips of ``VIDEO_CLIP`` frames (one body each): what
     ``bench_video``'s per-frame fits and the online ``Fitter``'s fits from scratch see;
   - with ``--clip-weight`` > 0 (off by default: ``CLIP_WEIGHT``), also every 3rd frame of the
     training clips among the tuning clips (``sequence_clips``), filmed as videos.
2. Pools: each case fitted with today's defaults as a photo's fit runs them (the prior's starts
   pruned to ``--prune-starts`` per orientation after stage 2, as ``FitOptions.for_photo``
   makes ``prune_starts="auto"``: the scorer's features are relative to the pool, so it
   learns from pools like those it ranks; 0: every start, the pools before session 16),
   every finished start kept (``tools/start_pools.py``): its features (``cpp/start_scorer.h``)
   and its PA-MPJPE. Cached under ~/.cache/smplify-tools, keyed by the model, the prior, the
   initialisers, the compiled core, the fit's defaults and pruning, the error models' sources
   and the cases; ~75 CPU ms a case.
3. Model: a tiny MLP s = v · tanh(Wᵀ f + b) per start (H = ``--hidden`` units), lowest
   wins; (W, b, v) minimise the listwise cross-entropy between the softmax of −s over a
   case's starts and the target softmax of −mm / T (T = ``--temperature`` mm: near-best
   starts share the credit) plus ``--l2`` · ‖(W, b, v)‖², on the features scaled to unit
   standard deviation over the pools (divided, not centred: b absorbs no offset; L-BFGS
   from a seeded start: deterministic). All formats' pools train one shared scorer (the
   features do not depend on the format). A linear score gained about half as much on the
   training subjects' validation cases.
4. Writes W (in the raw features' units), b, v, the figures on the last fifth of each
   format's cases of each kind (held out from the fit): mean PA-MPJPE of the default's
   choice, of the scorer's and of the best start; and the body model's fingerprint
   (``smplify.initializer.model_fingerprint``: ``smplify.start_scorer`` warns when the shipped
   model is another).

T, l2 and H were chosen on the tuning data (session 10: ``benchmarks/start_scorer.py --split
tune`` and ``--split video-tuning``, the sum of the two paired gains: T = 10 mm, l2 = 1e-3,
H = 8). Session 16 retrained the scorer on pruned pools (``PRUNE_STARTS``) for photos only
(``start_scorer="auto"``) and chose on the realistic tune half alone (``--split tune
--prune-starts 2 --train-cases 400 --train-video-cases 400``, 150 cases per format, pooled
paired mm against the energy's choice): T = 30 −1.82 ± 0.86, T = 10 −1.71, T = 20 −0.90,
T = 5 −0.38, l2 = 1e-2 −0.85, H = 16 −1.51 (session 10's weights on the same pools +0.32);
400 single images per format (not 600: the run was cut there for time).
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
from scipy.optimize import minimize  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import build_pose_prior as bpp  # noqa: E402
import initializer_poses  # noqa: E402
import smplify  # noqa: E402
from smplify import detections  # noqa: E402
from smplify import synthetic_video as sv  # noqa: E402
from smplify.initializer import model_fingerprint  # noqa: E402
from smplify.options import PHOTO_PRUNE_STARTS  # noqa: E402
from smplify.reference.selection import START_FEATURES, kept_start, start_scores  # noqa: E402
from smplify.synthetic import _axis_angle, _rotation  # noqa: E402
from start_pools import Pools, record, video_cases  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "python" / "smplify" / "data"
CACHE = Path.home() / ".cache" / "smplify-tools"
FORMATS = ("mediapipe33", "coco17", "openpose25", "smpl24", "lsp14")
SEED = 2026
CASES = 400
VIDEO_CASES = 400
CHUNK = 100
VIDEO_CLIP = 20  # frames (one body, one heading of the world) of a video pseudo-clip
#: Training clips filmed as videos (``sequence_clips``, ``--clip-weight``): formats, detector
#: seeds, frame step, and their cases' weight in the loss against the other pools'. Off: on the
#: tuning data (realistic tune half; the tuning file's held-out-subject clips, which the clips'
#: pools leave out) weights 1 / 3 / 10 gave −2.0 / −1.5 / −0.5 mm and −7.8 / −8.1 / −8.5 mm
#: paired against −3.2 and −7.7 without them (benchmarks/start_scorer.py --clip-weight W).
CLIP_FORMATS = ("coco17", "mediapipe33", "openpose25")
CLIP_SEEDS = 3
CLIP_STEP = 3
CLIP_WEIGHT = 0.0
TUNING_SEQUENCES = REPO / "tests" / "data" / "tuning_sequences.npz"
#: The prior's starts each orientation finishes in a pool's fit: a photo's default
#: (``prune_starts="auto"`` in ``smplify.fit``).
PRUNE_STARTS = PHOTO_PRUNE_STARTS
TEMPERATURE = 30.0
L2 = 0.001
HIDDEN = 8
#: The defaults' selection_sigma (px): the scorer's gate (``cpp/start_scorer.h``).
SELECTION_SIGMA = smplify.FitOptions().selection_sigma
MAX_ITER = 1000
VALIDATION = 0.2  # the last fifth of each format's cases


def training_cases(model: smplify.BodyModel, theta: np.ndarray, fmt: str, chunk: int
                   ) -> detections.Cases:
    """Chunk ``chunk`` (CHUNK cases) of ``fmt`` from training poses ``theta`` (N, 72), drawn
    as ``benchmarks/initializer.py``'s ``cases_for`` draws the held-out ones."""
    n = CHUNK
    rng = np.random.default_rng([SEED, FORMATS.index(fmt), chunk])
    pick = rng.choice(len(theta), n, replace=False)
    pose = np.concatenate([rng.normal(scale=0.1, size=(n, 3)), theta[pick, 3:]], axis=1)
    betas = np.clip(rng.normal(size=(n, model.num_betas)), -2.5, 2.5)
    return detections.render_cases(model, fmt, pose, betas, rng)


def video_training_cases(model: smplify.BodyModel, theta: np.ndarray, fmt: str, chunk: int
                         ) -> detections.Cases:
    """Chunk ``chunk`` (CHUNK frames) of ``fmt``'s video cases from training poses ``theta``
    (module docstring, step 1): CHUNK / VIDEO_CLIP pseudo-clips through
    ``synthetic_video.make_video``; a frame's heading is turned into its root orientation
    (the pelvis stays put, so it is the camera's heading)."""
    rng = np.random.default_rng([SEED, 100 + FORMATS.index(fmt), chunk])
    parts = []
    for _ in range(CHUNK // VIDEO_CLIP):
        n = VIDEO_CLIP
        th = theta[rng.choice(len(theta), n, replace=False)]
        yaw = rng.uniform(-np.pi, np.pi, n)
        orient = np.stack([_axis_angle(_rotation(np.array([0.0, y, 0.0])) @ _rotation(r))
                           for y, r in zip(yaw, th[:, :3], strict=True)])
        sequence = {"betas": np.clip(rng.normal(size=model.num_betas), -2.5, 2.5),
                    "global_orient": orient, "body_pose": th[:, 3:],
                    "transl": np.c_[rng.uniform(-1, 1, n), np.zeros(n), rng.uniform(-1, 1, n)],
                    "fps": 30.0}
        parts.append(video_cases(sv.make_video(model, sequence, fmt, rng, yaw=0.0)))
    return detections.Cases(*(np.concatenate([getattr(p, f.name) for p in parts])
                              for f in dataclasses.fields(detections.Cases)
                              if f.name != "swaps"))


def sequence_clips() -> list[dict[str, Any]]:
    """The TRAINING mocap clips among the tuning clips (``tests/data/tuning_sequences.npz``:
    those not in ``build_pose_prior.HELDOUT``; never a clip the tests or benchmarks score)."""
    return [seq for seq in sv.load_sequences(TUNING_SEQUENCES)
            if not any(h in seq["name"] for h in bpp.HELDOUT)]


def clip_pools(model: smplify.BodyModel, fmt: str, clip: int, seed: int,
               prune: int = PRUNE_STARTS) -> Pools:
    """Pools of every ``CLIP_STEP``-th frame of training clip ``clip`` (:func:`sequence_clips`)
    filmed by ``synthetic_video.make_video`` (random heading) with detector seed ``seed``,
    fitted with ``prune`` (:func:`pool_options`)."""
    seq = sequence_clips()[clip]
    options, tag = pool_options(prune)
    key = pools_key(fmt, _file_digest(TUNING_SEQUENCES),
                    f"clip|{seq['name']}|{seed}|{CLIP_STEP}|{SEED}".encode() + tag)

    def make() -> Pools:
        rng = np.random.default_rng([SEED, 200 + FORMATS.index(fmt), clip, seed])
        video = sv.make_video(model, seq, fmt, rng, frames=slice(None, None, CLIP_STEP))
        return record(model, fmt, video_cases(video), options)

    return cached_pools(f"clip_{fmt}_{clip}_{seed}", key, make)


def _file_digest(path: Path) -> bytes:
    return hashlib.sha1(path.read_bytes()).digest() if path.is_file() else b""


def pools_key(fmt: str, *extra: bytes) -> str:
    """What a pool depends on beyond its cases: the model, prior and initialiser files, the
    compiled core (the fit and the features), the fit's defaults, the error models' and the
    recording's sources, the keypoint formats' definitions (a target that moves moves the
    cases' keypoints), the feature count; and ``extra``."""
    keypoints = Path(detections.__file__).with_name("keypoints")
    sources = [Path(smplify._core.__file__), Path(detections.__file__), Path(sv.__file__),
               Path(__file__).with_name("start_pools.py"), keypoints / "formats.py",
               keypoints / "resolve.py"]
    return hashlib.sha1(b"".join(_file_digest(DATA / name) for name in (
        "open_body_neutral.npz", "open_pose_prior.npz", f"initializer_{fmt}.npz"))
        + b"".join(_file_digest(path) for path in sources)
        + repr(smplify.FitOptions()).encode()
        + f"{fmt}|{len(START_FEATURES)}".encode() + b"".join(extra)).hexdigest()[:16]


def pool_options(prune: int) -> tuple[dict[str, Any], bytes]:
    """The fit options a pool is recorded with for ``prune`` (``prune_starts``; 0: every
    start) and what they add to its cache key (nothing for 0: the keys of the pools before
    ``--prune-starts`` stay valid)."""
    return {"prune_starts": prune}, (f"|prune {prune}".encode() if prune else b"")


def cached_pools(name: str, key: str, make: Callable[[], Pools]) -> Pools:
    """The pools cached as ``name``_``key``, made (and cached) when missing."""
    path = CACHE / f"start_pools_{name}_{key}.npz"
    if path.is_file():
        with np.load(path) as z:
            return Pools(**{k: z[k] for k in z.files})
    t0 = time.process_time()
    pools = make()
    print(f"{name}: {pools.case.max() + 1} pools in {time.process_time() - t0:.0f} CPU s",
          flush=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **pools.arrays())
    return pools


def chunk_pools(model: smplify.BodyModel, theta: np.ndarray, fmt: str, chunk: int,
                video: bool = False, prune: int = PRUNE_STARTS) -> Pools:
    """One chunk's pools (single images, or with ``video`` video frames) fitted with
    ``prune`` (:func:`pool_options`), from the cache when everything they depend on is the
    same (:func:`pools_key`)."""
    kind = "video" if video else "image"
    options, tag = pool_options(prune)
    key = pools_key(fmt, theta.tobytes(),
                    f"{kind}|{chunk}|{CHUNK}|{VIDEO_CLIP}|{SEED}".encode() + tag)
    cases = video_training_cases if video else training_cases
    return cached_pools(f"{kind}_{fmt}_{chunk}{'_pruned' if prune else ''}", key,
                        lambda: record(model, fmt, cases(model, theta, fmt, chunk), options))


def _segments(case: np.ndarray) -> np.ndarray:
    """Start index of each case's run (cases are contiguous and ascending)."""
    return np.flatnonzero(np.r_[True, case[1:] != case[:-1]])


def _softmax_by_case(x: np.ndarray, starts: np.ndarray, case_of: np.ndarray) -> np.ndarray:
    top = np.maximum.reduceat(x, starts)[case_of]
    e = np.exp(x - top)
    return e / np.add.reduceat(e, starts)[case_of]


def train(pools: Pools, temperature: float, l2: float, hidden: int = HIDDEN,
          case_weight: np.ndarray | None = None) -> np.ndarray:
    """The scorer's weights [W (F, H) row by row, b (H,), v (H,)] in the raw features' units
    (module docstring, step 3); ``case_weight`` (C,): each case's weight in the loss (None:
    1; scaled to mean 1)."""
    scale = pools.features.std(axis=0)
    scale[scale < 1e-9] = 1.0
    x = pools.features / scale
    starts = _segments(pools.case)
    case_of = np.cumsum(np.r_[False, pools.case[1:] != pools.case[:-1]])
    q = _softmax_by_case(-pools.mm / temperature, starts, case_of)
    count, f = len(starts), x.shape[1]
    cw = np.ones(count) if case_weight is None else np.asarray(case_weight, dtype=np.float64)
    cw = (cw / cw.mean())[case_of]

    def unpack(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return (theta[:f * hidden].reshape(f, hidden), theta[f * hidden:f * hidden + hidden],
                theta[f * hidden + hidden:])

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b, v = unpack(theta)
        h = np.tanh(x @ w + b)
        neg = -(h @ v)
        top = np.maximum.reduceat(neg, starts)
        lse = top + np.log(np.add.reduceat(np.exp(neg - top[case_of]), starts))
        log_p = neg - lse[case_of]
        ds = cw * (q - np.exp(log_p)) / count  # ∂loss/∂s
        dh = np.outer(ds, v) * (1.0 - h ** 2)
        grad = np.concatenate([(x.T @ dh).ravel(), dh.sum(axis=0), h.T @ ds])
        return (-np.sum(cw * q * log_p) / count + l2 * float(theta @ theta),
                grad + 2.0 * l2 * theta)

    rng = np.random.default_rng(SEED)
    theta0 = np.concatenate([rng.normal(scale=0.3, size=f * hidden), np.zeros(hidden),
                             rng.normal(scale=0.3, size=hidden)])
    out = minimize(loss, theta0, jac=True, method="L-BFGS-B", options={"maxiter": MAX_ITER})
    w, b, v = unpack(out.x)
    return np.concatenate([(w / scale[:, None]).ravel(), b, v])


def chosen_mm(pools: Pools, weights: np.ndarray | None) -> np.ndarray:
    """Per case the PA-MPJPE of the start the scorer keeps (the lowest score among those
    within the gate, the first of equals), or with ``weights`` None the default's."""
    starts = _segments(pools.case)
    if weights is None:
        kept = pools.default
        out = np.full(len(starts), np.nan)
        out[pools.case[kept] - pools.case[starts[0]]] = pools.mm[kept]
        return out
    s = start_scores(pools.features, weights)
    ends = np.r_[starts[1:], len(s)]
    return np.array([pools.mm[a + kept_start(pools.features[a:b], s[a:b], SELECTION_SIGMA)]
                     for a, b in zip(starts, ends, strict=True)])


def best_mm(pools: Pools) -> np.ndarray:
    return np.minimum.reduceat(pools.mm, _segments(pools.case))


def split(pools: Pools, fraction: float) -> tuple[Pools, Pools]:
    """The first (1 − fraction) of the cases and the rest."""
    cut = int(round((1.0 - fraction) * (pools.case.max() + 1)))
    return pools.subset(pools.case < cut), pools.subset(pools.case >= cut, cut)


def figures(pools: Pools, weights: np.ndarray) -> dict[str, float]:
    """The default's, the scorer's and the best start's mean PA-MPJPE over ``pools``' cases,
    the paired difference scorer − default and its standard error (mm)."""
    d, s = chosen_mm(pools, None), chosen_mm(pools, weights)
    ok = np.isfinite(d)
    diff = s[ok] - d[ok]
    return {"cases": int(ok.sum()), "default_mm": round(float(d[ok].mean()), 2),
            "scorer_mm": round(float(s[ok].mean()), 2),
            "paired_mm": round(float(diff.mean()), 2),
            "paired_se": round(float(diff.std(ddof=1) / np.sqrt(ok.sum())), 2),
            "best_of_starts_mm": round(float(best_mm(pools)[ok].mean()), 2)}


def training_pools(args: argparse.Namespace) -> dict[str, Pools]:
    """{"image <format>": ``args.cases``, "video <format>": ``args.video_cases`` pools (each
    rounded up to CHUNK)}, chunk by chunk round the formats and kinds (so that every one has
    some when a run is cut short; chunks are cached)."""
    model = smplify.load_model("open")
    theta = initializer_poses.mocap_poses(args.mocap, DATA / "open_body_neutral.npz",
                                          verbose=False)["train"]
    counts = {"image": -(-args.cases // CHUNK), "video": -(-args.video_cases // CHUNK)}
    parts: dict[str, list[Pools]] = {}
    for chunk in range(max(counts.values())):
        for kind, count in counts.items():
            for fmt in args.formats:
                if chunk < count:
                    parts.setdefault(f"{kind} {fmt}", []).append(
                        chunk_pools(model, theta, fmt, chunk, video=kind == "video",
                                    prune=args.prune_starts))
    for fmt in CLIP_FORMATS if args.clip_weight > 0 else ():
        parts[f"clips {fmt}"] = [clip_pools(model, fmt, c, seed, args.prune_starts)
                                 for seed in range(CLIP_SEEDS)
                                 for c in range(len(sequence_clips()))]
    return {name: Pools.concatenate(p) for name, p in parts.items()}


def training_set(pools: dict[str, Pools], clip_weight: float) -> tuple[Pools, np.ndarray]:
    """All pools as one and each case's weight (``clip_weight`` for the training clips')."""
    weight = np.concatenate([np.full(p.case.max() + 1, clip_weight if name.startswith("clips")
                                     else 1.0) for name, p in pools.items()])
    return Pools.concatenate(list(pools.values())), weight


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--formats", nargs="+", default=list(FORMATS))
    ap.add_argument("--cases", type=int, default=CASES,
                    help="single-image training cases per format")
    ap.add_argument("--video-cases", type=int, default=VIDEO_CASES,
                    help="video-frame training cases per format")
    ap.add_argument("--clip-weight", type=float, default=CLIP_WEIGHT,
                    help="weight of the training clips' video cases (0: none)")
    ap.add_argument("--prune-starts", type=int, default=PRUNE_STARTS,
                    help="the prior's starts each orientation finishes in the pools' fits "
                    "(0: every start)")
    ap.add_argument("--temperature", type=float, default=TEMPERATURE)
    ap.add_argument("--l2", type=float, default=L2)
    ap.add_argument("--hidden", type=int, default=HIDDEN, help="hidden units H")
    ap.add_argument("--mocap", type=Path, default=REPO.parent / "shared" / "data" / "mocap")
    ap.add_argument("--out", type=Path, default=DATA / "start_scorer.npz")
    args = ap.parse_args(argv)
    pools = training_pools(args)
    fit_part = {fmt: split(p, VALIDATION) for fmt, p in pools.items()}
    fitted, case_weight = training_set({k: a for k, (a, _) in fit_part.items()},
                                       args.clip_weight)
    weights = train(fitted, args.temperature, args.l2, args.hidden, case_weight)
    metrics = {"validation": {fmt: figures(b, weights) for fmt, (_, b) in fit_part.items()},
               "temperature": args.temperature, "l2": args.l2, "hidden": args.hidden,
               "cases": args.cases, "video_cases": args.video_cases,
               "clip_weight": args.clip_weight, "clip_formats": list(CLIP_FORMATS),
               "prune_starts": args.prune_starts,
               "clip_seeds": CLIP_SEEDS, "clip_step": CLIP_STEP,
               "formats": list(args.formats), "seed": SEED}
    for fmt, fig in metrics["validation"].items():
        print(f"{fmt}: {json.dumps(fig)}")
    # Shipped: trained on every case (the validation figures above are of the 4/5 fit).
    every, case_weight = training_set(pools, args.clip_weight)
    weights = train(every, args.temperature, args.l2, args.hidden, case_weight)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    f, h = len(START_FEATURES), args.hidden
    np.savez(args.out, W=weights[:f * h].reshape(f, h), b=weights[f * h:f * h + h],
             v=weights[f * h + h:], features=np.array(START_FEATURES),
             metrics=np.array(json.dumps(metrics, sort_keys=True)),
             model_fingerprint=np.array(model_fingerprint(smplify.load_model("open"))))
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
