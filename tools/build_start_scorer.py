"""Learn the single-image fit's start scorer from training mocap subjects (NumPy only).

    python tools/build_start_scorer.py [--cases 1000] [--formats ...] [--temperature 30]
        [--l2 0.001] [--hidden 8] [--mocap ../shared/data/mocap]
        [--out python/smplify/data/start_scorer.npz]

(the defaults shown: ``CASES``, ``TEMPERATURE``, ``L2``, ``HIDDEN`` below).

1. Cases: ``--cases`` per format of the TRAINING mocap clips (``initializer_poses``, split by
   clip as the pose prior and the initialisers are: ``build_pose_prior.HELDOUT``; the realistic
   set's held-out poses are never used), each with a small random root tilt, random betas, a
   random camera and detector errors: the error model of ``benchmarks/realistic.py``
   (``smplify.detections.render_cases``).
2. Pools: each case fitted with today's defaults, every finished start kept
   (``tools/start_pools.py``): its features (``cpp/start_scorer.h``) and its PA-MPJPE. Cached
   under ~/.cache/smplify-tools, keyed by the model, the prior, the initialisers and the
   cases; ~75 CPU ms a case.
3. Model: a tiny MLP s = v · tanh(Wᵀ f + b) per start (H = ``--hidden`` units), lowest
   wins; (W, b, v) minimise the listwise cross-entropy between the softmax of −s over a
   case's starts and the target softmax of −mm / T (T = ``--temperature`` mm: near-best
   starts share the credit) plus ``--l2`` · ‖(W, b, v)‖², on the features scaled to unit
   standard deviation over the pools (divided, not centred: b absorbs no offset; L-BFGS
   from a seeded start: deterministic). All formats' pools train one shared scorer (the
   features do not depend on the format). A linear score gained about half as much on the
   training subjects' validation cases.
4. Writes W (in the raw features' units), b, v and the figures on the last fifth of each
   format's cases (held out from the fit): mean PA-MPJPE of the default's choice, of the
   scorer's and of the best start.

The options T and l2 were chosen on the realistic TUNE half (``benchmarks/start_scorer.py``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
from scipy.optimize import minimize  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import initializer_poses  # noqa: E402
import smplify  # noqa: E402
from smplify import detections  # noqa: E402
from smplify.reference.selection import START_FEATURES, kept_start, start_scores  # noqa: E402
from start_pools import Pools, record  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "python" / "smplify" / "data"
CACHE = Path.home() / ".cache" / "smplify-tools"
FORMATS = ("mediapipe33", "coco17", "openpose25", "smpl24", "lsp14")
SEED = 2026
CASES = 1000
CHUNK = 100
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


def _file_digest(path: Path) -> bytes:
    return hashlib.sha1(path.read_bytes()).digest() if path.is_file() else b""


def chunk_pools(model: smplify.BodyModel, theta: np.ndarray, fmt: str, chunk: int) -> Pools:
    """One chunk's pools, from the cache when the model, prior, initialiser and poses are
    the same."""
    key = hashlib.sha1(b"".join(_file_digest(DATA / name) for name in (
        "open_body_neutral.npz", "open_pose_prior.npz", f"initializer_{fmt}.npz"))
        + theta.tobytes()
        + f"{fmt}|{chunk}|{CHUNK}|{SEED}|{len(START_FEATURES)}".encode()).hexdigest()[:16]
    path = CACHE / f"start_pools_{fmt}_{key}.npz"
    if path.is_file():
        with np.load(path) as z:
            return Pools(**{k: z[k] for k in z.files})
    t0 = time.process_time()
    pools = record(model, fmt, training_cases(model, theta, fmt, chunk))
    print(f"{fmt} chunk {chunk}: {pools.case.max() + 1} pools in "
          f"{time.process_time() - t0:.0f} CPU s", flush=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **pools.arrays())
    return pools


def _segments(case: np.ndarray) -> np.ndarray:
    """Start index of each case's run (cases are contiguous and ascending)."""
    return np.flatnonzero(np.r_[True, case[1:] != case[:-1]])


def _softmax_by_case(x: np.ndarray, starts: np.ndarray, case_of: np.ndarray) -> np.ndarray:
    top = np.maximum.reduceat(x, starts)[case_of]
    e = np.exp(x - top)
    return e / np.add.reduceat(e, starts)[case_of]


def train(pools: Pools, temperature: float, l2: float, hidden: int = HIDDEN) -> np.ndarray:
    """The scorer's weights [W (F, H) row by row, b (H,), v (H,)] in the raw features' units
    (module docstring, step 3)."""
    scale = pools.features.std(axis=0)
    scale[scale < 1e-9] = 1.0
    x = pools.features / scale
    starts = _segments(pools.case)
    case_of = np.cumsum(np.r_[False, pools.case[1:] != pools.case[:-1]])
    q = _softmax_by_case(-pools.mm / temperature, starts, case_of)
    count, f = len(starts), x.shape[1]

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
        ds = (q - np.exp(log_p)) / count  # ∂loss/∂s
        dh = np.outer(ds, v) * (1.0 - h ** 2)
        grad = np.concatenate([(x.T @ dh).ravel(), dh.sum(axis=0), h.T @ ds])
        return -np.sum(q * log_p) / count + l2 * float(theta @ theta), grad + 2.0 * l2 * theta

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
    d, s = chosen_mm(pools, None), chosen_mm(pools, weights)
    ok = np.isfinite(d)
    diff = s[ok] - d[ok]
    return {"cases": int(ok.sum()), "default_mm": round(float(d[ok].mean()), 2),
            "scorer_mm": round(float(s[ok].mean()), 2),
            "paired_mm": round(float(diff.mean()), 2),
            "paired_se": round(float(diff.std(ddof=1) / np.sqrt(ok.sum())), 2),
            "best_of_starts_mm": round(float(best_mm(pools)[ok].mean()), 2)}


def training_pools(args: argparse.Namespace) -> dict[str, Pools]:
    """``args.cases`` (rounded up to CHUNK) pools per format, chunk by chunk round the
    formats (so that every format has some when a run is cut short; chunks are cached)."""
    model = smplify.load_model("open")
    theta = initializer_poses.mocap_poses(args.mocap, DATA / "open_body_neutral.npz",
                                          verbose=False)["train"]
    chunks = -(-args.cases // CHUNK)
    parts: dict[str, list[Pools]] = {fmt: [] for fmt in args.formats}
    for chunk in range(chunks):
        for fmt in args.formats:
            parts[fmt].append(chunk_pools(model, theta, fmt, chunk))
    return {fmt: Pools.concatenate(p) for fmt, p in parts.items()}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--formats", nargs="+", default=list(FORMATS))
    ap.add_argument("--cases", type=int, default=CASES, help="training cases per format")
    ap.add_argument("--temperature", type=float, default=TEMPERATURE)
    ap.add_argument("--l2", type=float, default=L2)
    ap.add_argument("--hidden", type=int, default=HIDDEN, help="hidden units H")
    ap.add_argument("--mocap", type=Path, default=REPO.parent / "shared" / "data" / "mocap")
    ap.add_argument("--out", type=Path, default=DATA / "start_scorer.npz")
    args = ap.parse_args(argv)
    pools = training_pools(args)
    fit_part = {fmt: split(p, VALIDATION) for fmt, p in pools.items()}
    weights = train(Pools.concatenate([a for a, _ in fit_part.values()]),
                    args.temperature, args.l2, args.hidden)
    metrics = {"validation": {fmt: figures(b, weights) for fmt, (_, b) in fit_part.items()},
               "temperature": args.temperature, "l2": args.l2, "hidden": args.hidden,
               "cases": args.cases,
               "formats": list(args.formats), "seed": SEED}
    for fmt, fig in metrics["validation"].items():
        print(f"{fmt}: {json.dumps(fig)}")
    # Shipped: trained on every case (the validation figures above are of the 4/5 fit).
    weights = train(Pools.concatenate(list(pools.values())), args.temperature, args.l2,
                    args.hidden)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    f, h = len(START_FEATURES), args.hidden
    np.savez(args.out, W=weights[:f * h].reshape(f, h), b=weights[f * h:f * h + h],
             v=weights[f * h + h:], features=np.array(START_FEATURES),
             metrics=np.array(json.dumps(metrics, sort_keys=True)))
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
