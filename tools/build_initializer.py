"""Train the learned 2D→3D initialiser, one small MLP per keypoint format (needs torch).

    python tools/build_initializer.py [--formats smpl24 coco17 openpose25 mediapipe33 lsp14]
        [--steps 10000] [--mocap ../shared/data/mocap] [--eval-every 2000 --curve-out DIR]
    python tools/build_initializer.py --shipped [--formats ...]   # rebuild what ships

What ships (each weights file records its recipe in its ``metrics``; ``--shipped`` reads it,
:func:`shipped_recipe`): smpl24 and lsp14 with 10,000 steps, coco17, openpose25 and
mediapipe33 with 5,000 (coco17's 10,000-step net was 5 mm better on its own held-out cases
but no better in the fit, docs/measurements.md), all five on the error model's confidences
only (``--low-share 0 --confidence-shares 1 0 0``: they were trained before the mix of step
3, which the defaults below now train), width 256, 2 blocks, batch 512, peak lr 2e-3, 30,000
bodies, no augmentation. The defaults of this tool are the recipe as it stands, not what
ships. ``--shipped`` draws the training cases as those weights' training did
(``detections.make_cases``); a bit-exact rebuild also needs the same mocap, IK cache and
torch build, and was not checked (2026-12-06: no torch in the session's environment).

1. Poses: CMU mocap → SMPL θ by the pose prior's IK (``tools/initializer_poses.py``, cached
   under ~/.cache/smplify-tools), with their left/right mirrors; train/held-out split by clip
   exactly as the prior's (``build_pose_prior.HELDOUT``). 9,158 training and 1,738 held-out
   poses (mirrors included) on the open model since its rebuild of 2026-12-05 (knee joints at
   the knee): the IK cache is keyed by the model file, so the IK reran on the new skeleton
   and kept 5,448 well-spread frames of the 67 clips where the model before kept 5,513
   (9,292 training poses, the figure quoted before); every shipped weights file records its
   counts in its metrics (``train_poses``, ``heldout_poses``).
   ``--augment N`` (off by default; ``tools/initializer_augment.py``) appends N augmented
   poses per training pose: limb mixing (legs, arms, trunk/root each from its own training
   pose, along the kinematic tree; a share ``--augment-mix``, 0.75) and a jitter in the pose
   prior's metric (``--augment-sigma`` s = 0.5 of its standard deviations), each kept only
   under the shipped prior's energy bound, the ``--augment-quantile`` (0.99) of the training
   poses' own energies (171.9; held-out poses: median 115.6, 90% 172.7); deterministic
   (seed 23), the held-out poses untouched; the metrics record it (``augment*``).
   Measured (2026-12-06, coco17, 3,000 steps each, docs/measurements.md "Session 17"):
   ``--augment 2`` made the training cases as hard as the held-out ones (gap 8.7 → −0.1 mm,
   two thirds of its training cases augmented) but did not lower the held-out error
   (top-1 / best of 6 95.1 / 82.8 → 94.8 / 83.2 mm at width 256; 90.0 / 78.5 → 91.0 / 78.1
   at width 512), while width 512 alone gained 5.1 / 4.3 mm (1.9 MB, 0.25 ms inference).
2. Bodies: each pose with random betas (N(0, 1) clipped to ±2.5) through the shipped open
   model; the format's keypoints are the model's own points for it (joints and surface
   keypoint regressors, ``resolve_format``: the definitions the fit uses). Cached too.
3. Every training batch draws fresh cameras and detector errors (``smplify.detections``:
   all yaws, pitch ±30°, 2–8 m, f 500–5,000 px, noise, drops, swaps, outliers), a share of
   low-noise cases and, per case, one of three confidence models: the error model's
   (falling steeply with the error), uniform and unrelated to the error, or saturated near 1
   with a mild link (real MediaPipe's) (``tools/initializer_mix.py``, ``--low-share``,
   ``--confidence-shares``; before session 11: the error model's only).
   Held out, besides the error model's cases, the same bodies with saturated, with uniform
   confidences and near-exact (``HELDOUT_VARIANTS``, in the metrics; ``--score DIR``
   prints them for any weights).
4. Network (``smplify.initializer``): features (box-normalised keypoints, confidences, CLIFF
   box features) → width-W MLP (input layer, residual ReLU blocks, linear out) → M hypotheses
   of root rotation in the camera frame and 23 joint rotations (6D each) + a score logit, and
   shared betas. Loss: relaxed winner-takes-all over hypotheses (the best gets 1 − ε, the
   others ε/(M − 1)) of the root-relative 3D joint error (torch forward kinematics of the
   model's rest joints J(β)) + 0.05 · squared rotation-matrix error + 0.01 · beta error; plus
   cross-entropy making the score logits pick the best hypothesis. Adam, one-cycle schedule
   (peak 2e-3, cosine decay), ``--steps`` of 512 (default 10,000: ~550 CPU s per format,
   one thread; the shipped coco17, openpose25 and mediapipe33 had 5,000, above).
   Recipe (2026-12-05, coco17, the held-out 1,000 cases below, ``--eval-every 2000``): 5,000
   steps gave top-1 / best of 6 PA-MPJPE 88.9 / 77.0 mm; 10,000 give 83.9 / 72.4, the curve
   still falling at the end (84.3 / 72.8 at 8,000) while the same net scores 73.6 / 62.4 on
   training poses: more distinct training poses (9,158 with mirrors) would likely help more
   than more steps.
5. Writes ``python/smplify/data/initializer_<format>.npz``: float16 weights, 8 fixed test
   inputs with the torch outputs for them (computed with the float16-rounded weights), the
   held-out figures (JSON) measured with the NumPy inference of what is written, and the
   trained-on model's ``smplify.initializer.model_fingerprint`` (the loader warns when the
   shipped model is not that one: rebuild the initialisers after rebuilding the model).

Deterministic: fixed seeds, one torch thread by default.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import build_pose_prior as bpp  # noqa: E402
import initializer_augment  # noqa: E402
import initializer_mix  # noqa: E402
import initializer_poses  # noqa: E402
import smplify  # noqa: E402
from mocap_io import rodrigues  # noqa: E402
from smplify import detections  # noqa: E402
from smplify import initializer as init  # noqa: E402
from smplify.initializer_metrics import evaluate  # noqa: E402
from smplify.keypoint_formats import get_format, resolve_format  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
CACHE = Path.home() / ".cache" / "smplify-tools"
SEED = 0
NUM_TRAIN_BODIES = 30000
NUM_HELDOUT_CASES = 1000
NUM_TEST_INPUTS = 8
BETA_CLIP = 2.5
WIDTH = 256
BLOCKS = 2
HYPOTHESES = 6
EPSILON = 0.05     # relaxed winner-takes-all
W_ROT, W_BETA, W_SCORE = 0.05, 0.01, 0.05
BATCH = 512
STEPS = 10000
MAX_LR = 2e-3
#: Held-out sets besides the error model's (``heldout``): the same held-out bodies with
#: ``initializer_mix``'s (low-noise share, confidence-model shares) for each.
HELDOUT_VARIANTS = {"heldout_saturated": (0.0, (0.0, 0.0, 1.0)),
                    "heldout_uniform": (0.0, (0.0, 1.0, 0.0)),
                    "heldout_clean": (1.0, (1.0, 0.0, 0.0))}


# ---------------------------------------------------------------- bodies
def bodies(model: smplify.BodyModel, theta: np.ndarray, n: int, seed: int,
           formats: list[str], tag: str) -> dict[str, np.ndarray]:
    """n bodies: θ drawn from ``theta``, random betas; keypoints of every format (cached,
    keyed by the poses, the model's template and shape space, and the formats' definitions:
    a format whose targets change, e.g. mediapipe33's blended hips, gets new keypoints)."""
    resolved = {f: resolve_format(f, model.keypoint_names, model.num_vertices,
                                  model.keypoint_regressor) for f in formats}
    rows = b"".join(w.tobytes() + i.tobytes() for r in resolved.values()
                    for i, w in zip(r.vertex_ids, r.vertex_weights, strict=True))
    key = hashlib.sha1(theta.tobytes() + model.v_template.tobytes()
                       + model.shapedirs.tobytes() + f"{n}|{seed}|{formats}|{BETA_CLIP}".encode()
                       + repr([resolved[f].target_names for f in formats]).encode() + rows)
    path = CACHE / f"initializer_bodies_{tag}_{key.hexdigest()[:16]}.npz"
    if path.is_file():
        with np.load(path) as z:
            return {k: z[k] for k in z.files}
    rng = np.random.default_rng(seed)
    th = theta[rng.permutation(np.resize(np.arange(len(theta)), n))]
    betas = np.clip(rng.normal(size=(n, model.num_betas)), -BETA_CLIP, BETA_CLIP)
    out = {"theta": th, "betas": betas}
    points, out["joints"] = detections.body_points(model, resolved, th, betas)
    out.update({f"points_{f}": p for f, p in points.items()})
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **out)
    return out


# ---------------------------------------------------------------- torch network
def build_net(torch, num_in: int, num_out: int, width: int = WIDTH, blocks: int = BLOCKS):
    nn = torch.nn

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layers = nn.ModuleList([nn.Linear(num_in, width)]
                                        + [nn.Linear(width, width) for _ in range(blocks)]
                                        + [nn.Linear(width, num_out)])

        def forward(self, x):
            h = torch.relu(self.layers[0](x))
            for layer in self.layers[1:-1]:
                h = h + torch.relu(layer(h))
            return self.layers[-1](h)

    net = Net()
    with torch.no_grad():
        net.layers[-1].weight.mul_(0.1)
        net.layers[-1].bias.zero_()
    return net


def rot6d(torch, x):
    x = x + torch.tensor([1.0, 0.0, 0.0, 0.0, 1.0, 0.0])
    b1 = torch.nn.functional.normalize(x[..., 0:3], dim=-1, eps=1e-8)
    a2 = x[..., 3:6] - (b1 * x[..., 3:6]).sum(-1, keepdim=True) * b1
    b2 = torch.nn.functional.normalize(a2, dim=-1, eps=1e-8)
    return torch.stack([b1, b2, torch.cross(b1, b2, dim=-1)], dim=-1)


def decode(torch, raw, m: int):
    per = raw[:, :m * init.HYPOTHESIS_WIDTH].reshape(len(raw), m, init.HYPOTHESIS_WIDTH)
    rot = rot6d(torch, per[..., :-1].reshape(len(raw), m, 24, 6))
    return rot, raw[:, m * init.HYPOTHESIS_WIDTH:], per[..., -1]


def fk(torch, rot, rest):
    """rot (..., 24, 3, 3) local rotations (root: camera frame), rest (..., 24, 3) → joints
    relative to the pelvis (..., 24, 3)."""
    g = [rot[..., 0, :, :]]
    p = [torch.zeros_like(rest[..., 0, :])]
    for j in range(1, 24):
        par = int(bpp.PARENTS[j])
        bone = (rest[..., j, :] - rest[..., par, :]).unsqueeze(-1)
        p.append(p[par] + (g[par] @ bone).squeeze(-1))
        g.append(g[par] @ rot[..., j, :, :])
    return torch.stack(p, dim=-2)


# ---------------------------------------------------------------- the shipped recipe
#: The training-cases mix of the shipped weights (all five trained before the mix existed):
#: the error model's confidences only, no low-noise share.
ERROR_MODEL_ONLY = {"low_share": 0.0, "confidence_shares": (1.0, 0.0, 0.0)}
#: The metrics' names of the recipe's arguments (``--shipped`` takes them from the file).
RECIPE_METRICS = {"steps": "steps", "batch": "batch", "width": "width", "blocks": "blocks",
                  "lr": "lr", "bodies": "train_bodies"}


def error_model_only(args: argparse.Namespace) -> bool:
    """Whether ``args`` ask for the error model's cases only (:data:`ERROR_MODEL_ONLY`):
    then :func:`batch` draws them with ``detections.make_cases``, as the shipped weights'
    training did (``initializer_mix.mixed_cases`` gives the same cases but draws more from
    the generator, so every later batch would differ)."""
    return float(args.low_share) == 0.0 and \
        tuple(float(x) for x in args.confidence_shares) == ERROR_MODEL_ONLY["confidence_shares"]


def shipped_recipe(fmt: str, data_dir: Path = REPO / "python" / "smplify" / "data"
                   ) -> dict[str, Any]:
    """The recipe ``initializer_<fmt>.npz`` in ``data_dir`` records in its metrics, as this
    tool's arguments (steps, batch, width, blocks, lr, bodies, low_share, confidence_shares;
    no augmentation): what ``--shipped`` trains. A file without the mix's fields was trained
    on the error model's confidences only."""
    with np.load(data_dir / f"initializer_{fmt}.npz") as z:
        metrics = json.loads(str(z["metrics"].reshape(-1)[0]))
    recipe = {arg: type(metrics[name])(metrics[name]) for arg, name in RECIPE_METRICS.items()}
    if "low_noise_share" in metrics:
        shares = metrics["confidence_shares"]
        recipe.update(low_share=float(metrics["low_noise_share"]),
                      confidence_shares=tuple(float(shares[m])
                                              for m in initializer_mix.CONFIDENCE_MODELS))
    else:
        recipe.update(ERROR_MODEL_ONLY)
    recipe["augment"] = int(metrics.get("augment", 0))
    return recipe


def format_recipes(args: argparse.Namespace, ap: argparse.ArgumentParser
                   ) -> dict[str, argparse.Namespace]:
    """Each format's arguments: ``args``, with ``--shipped`` its shipped file's recipe over
    them. The formats share one set of training bodies, so their recorded bodies and
    augmentation must agree (an argparse error otherwise)."""
    recipes = {fmt: argparse.Namespace(**{**vars(args), **(shipped_recipe(fmt)
                                                           if args.shipped else {})})
               for fmt in args.formats}
    if len({(r.bodies, r.augment) for r in recipes.values()}) > 1:
        ap.error("--shipped: the formats' recorded training bodies differ; build them apart")
    return recipes


# ---------------------------------------------------------------- training
def batch(data: dict[str, np.ndarray], fmt: str, rng: np.random.Generator, n: int,
          names: tuple[str, ...], available: np.ndarray, body_rot: np.ndarray,
          args: argparse.Namespace) -> tuple[np.ndarray, ...]:
    idx = rng.integers(len(data["theta"]), size=n)
    if error_model_only(args):  # the shipped recipe's cases, drawn as it drew them
        cases = detections.make_cases(data[f"points_{fmt}"][idx], data["joints"][idx],
                                      data["theta"][idx], data["betas"][idx], names, rng,
                                      available)
    else:
        cases = initializer_mix.mixed_cases(
            data[f"points_{fmt}"][idx], data["joints"][idx], data["theta"][idx],
            data["betas"][idx], names, rng, available, args.low_share,
            tuple(args.confidence_shares))
    x = init.features(cases.keypoints, cases.image_size, cases.focal)
    rot = np.concatenate([cases.rotation[:, None], body_rot[idx]], axis=1)
    return x, rot.astype(np.float32), cases.joints.astype(np.float32), \
        data["betas"][idx].astype(np.float32)


def train(fmt: str, data: dict[str, np.ndarray], model: smplify.BodyModel,
          args: argparse.Namespace, curve: Any = None) -> tuple[object, dict[str, float]]:
    """Train one format's net by the recipe in ``args`` (steps, batch, width, blocks, lr);
    ``curve(net, step)``, if given, is called every ``args.eval_every`` steps (and at the
    end) with the net in eval mode, its returned figures logged."""
    import torch

    torch.manual_seed(SEED)
    torch.set_num_threads(args.threads)
    names = get_format(fmt).keypoint_names
    available = resolve_format(fmt, model.keypoint_names, model.num_vertices).available
    body_rot = rodrigues(data["theta"][:, 3:].reshape(-1, 23, 3)).astype(np.float32)
    k = len(names)
    m = HYPOTHESES
    steps = args.steps
    net = build_net(torch, 3 * k + 3, m * init.HYPOTHESIS_WIDTH + init.NUM_BETAS,
                    args.width, args.blocks)
    opt = torch.optim.Adam(net.parameters(), lr=args.lr / 2)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=steps,
                                                pct_start=0.05)
    j_template = torch.tensor(model.J_template, dtype=torch.float32)
    j_dirs = torch.tensor(model.J_shapedirs, dtype=torch.float32)
    rng = np.random.default_rng(SEED + 1)
    t0, cpu0, log, points = time.time(), time.process_time(), {}, []
    for step in range(steps):
        x, rot_t, joints_t, betas_t = (torch.from_numpy(a) for a in
                                       batch(data, fmt, rng, args.batch, names, available,
                                             body_rot, args))
        rot, betas, logits = decode(torch, net(x), m)
        rest = j_template + torch.einsum("jcb,nb->njc", j_dirs, betas)
        joints = fk(torch, rot, rest[:, None].expand(-1, m, -1, -1))
        l_joint = (joints - joints_t[:, None]).norm(dim=-1).mean(-1)          # (B, M)
        l_rot = ((rot - rot_t[:, None]) ** 2).sum((-1, -2)).mean(-1)        # (B, M)
        per_hyp = l_joint + W_ROT * l_rot
        best = per_hyp.detach().argmin(1)
        w = torch.full_like(per_hyp, EPSILON / (m - 1))
        w.scatter_(1, best[:, None], 1.0 - EPSILON)
        l_beta = ((betas - betas_t) ** 2).mean(-1)
        ce = torch.nn.functional.cross_entropy(logits, best)
        loss = (w * per_hyp).sum(1).mean() + W_BETA * l_beta.mean() + W_SCORE * ce
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 250 == 0 or step == steps - 1:
            log = {"step": step, "loss": loss.item(), "best_mpjpe_mm":
                   1000 * l_joint.detach().min(1).values.mean().item(), "ce": ce.item()}
            print(f"  {fmt} {json.dumps(log)} {time.time() - t0:5.0f}s", flush=True)
        if curve is not None and args.eval_every and (
                (step + 1) % args.eval_every == 0 or step == steps - 1):
            with torch.no_grad():
                figures = {"step": step + 1, "lr": sched.get_last_lr()[0], **curve(net)}
            points.append(figures)
            print(f"  {fmt} curve {json.dumps(figures)}", flush=True)
    log["train_seconds"] = time.time() - t0
    log["train_cpu_seconds"] = time.process_time() - cpu0
    log["curve"] = points
    return net, log


# ---------------------------------------------------------------- export and evaluation
def header(net, fmt: str, k: int) -> dict[str, np.ndarray]:
    return {"format": np.array(fmt), "num_keypoints": np.array(k),
            "num_hypotheses": np.array(HYPOTHESES), "num_layers": np.array(len(net.layers)),
            "metrics": np.array("{}")}


def current_initializer(net, fmt: str, k: int) -> init.Initializer:
    """The NumPy initialiser of the net's current float32 weights (the net is unchanged)."""
    arrays = header(net, fmt, k)
    for i, layer in enumerate(net.layers):
        arrays[f"w{i}"] = layer.weight.detach().numpy().copy()
        arrays[f"b{i}"] = layer.bias.detach().numpy().copy()
    return init.Initializer(arrays)


def curve_figures(model: smplify.BodyModel, fmt: str, k: int, sets: dict[str, Any]) -> Any:
    """``train``'s curve callback: top-1 and best-of-M PA-MPJPE (mm) on each case set."""
    def figures(net) -> dict[str, float]:
        out = {}
        for name, cases in sets.items():
            e = evaluate(current_initializer(net, fmt, k), model, cases)
            out[f"{name}_top1_mm"] = round(e["pa_mpjpe_top1_mm"], 2)
            out[f"{name}_best_mm"] = round(e["pa_mpjpe_best_of_m_mm"], 2)
        return out
    return figures


def export_arrays(torch, net, fmt: str, k: int) -> dict[str, np.ndarray]:
    """float16 weights; the torch net is set to the rounded weights (its outputs are the
    reference the NumPy inference is tested against)."""
    arrays = header(net, fmt, k)
    with torch.no_grad():
        for i, layer in enumerate(net.layers):
            for name, p in (("w", layer.weight), ("b", layer.bias)):
                half = p.detach().numpy().astype(np.float16)
                p.copy_(torch.from_numpy(half.astype(np.float32)))
                arrays[f"{name}{i}"] = half
    return arrays


def heldout_sets(held_data: dict[str, np.ndarray], fmt: str, names: tuple[str, ...],
                 available: np.ndarray) -> dict[str, detections.Cases]:
    """The held-out bodies seen by random cameras: ``heldout`` with the error model's
    detections (the figures in the weights' metrics), and ``HELDOUT_VARIANTS``."""
    args = (held_data[f"points_{fmt}"], held_data["joints"], held_data["theta"],
            held_data["betas"], names)
    sets = {"heldout": detections.make_cases(*args, np.random.default_rng(SEED + 11),
                                             available)}
    for i, (name, (low, shares)) in enumerate(HELDOUT_VARIANTS.items()):
        sets[name] = initializer_mix.mixed_cases(
            *args, np.random.default_rng(SEED + 17 + i), available, low, shares)
    return sets


def score(model: smplify.BodyModel, fmt: str, sets: dict[str, detections.Cases],
          folders: list[Path]) -> dict[str, dict[str, float]]:
    """Top-1 / best-of-M PA-MPJPE (mm) of each folder's ``initializer_<fmt>.npz`` on every
    held-out set, and the median ms of one person's C++ inference (all M readings); printed
    and returned ({folder: {figure: value}})."""
    out: dict[str, dict[str, float]] = {}
    for folder in folders:
        with np.load(folder / f"initializer_{fmt}.npz") as z:
            ini = init.Initializer({k: z[k] for k in z.files})
        row = []
        for name, cases in sets.items():
            e = evaluate(ini, model, cases)
            row.append(f"{name} {e['pa_mpjpe_top1_mm']:.1f} / {e['pa_mpjpe_best_of_m_mm']:.1f}")
            out.setdefault(str(folder), {}).update(
                {f"{name}_top1_mm": round(e["pa_mpjpe_top1_mm"], 2),
                 f"{name}_best_mm": round(e["pa_mpjpe_best_of_m_mm"], 2)})
        c = sets["heldout"]
        times = []
        for i in range(200):
            t = time.perf_counter()
            ini.readings(c.keypoints[i], c.image_size[i], float(c.focal[i]))
            times.append(time.perf_counter() - t)
        out[str(folder)]["inference_ms_median"] = round(1000 * float(np.median(times)), 4)
        print(f"{fmt} {folder}: " + ", ".join(row)
              + f"; {1000 * np.median(times):.3f} ms per inference", flush=True)
    return out


def training_poses(theta: np.ndarray, args: argparse.Namespace
                   ) -> tuple[np.ndarray, dict[str, Any]]:
    """The training poses θ, with ``args.augment`` augmented poses per pose appended
    (``initializer_augment``; the held-out poses are never augmented), and the recipe's
    figures for the metrics ({} without augmentation: the shipped recipe's metrics)."""
    if not args.augment:
        return theta, {}
    aug = initializer_augment.augment(
        theta, smplify.load_prior("open"), args.augment * len(theta),
        np.random.default_rng(SEED + 23), args.augment_mix, args.augment_sigma,
        args.augment_quantile)
    info = {"augment": args.augment, "augment_mix": args.augment_mix,
            "augment_sigma": args.augment_sigma, "augment_quantile": args.augment_quantile,
            "augment_bound": round(aug.bound, 2), "augment_acceptance": round(aug.acceptance, 4),
            "augmented_poses": len(aug.theta)}
    print(f"augmented: {json.dumps(info)}", flush=True)
    return np.concatenate([theta, aug.theta]), info


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--formats", nargs="+", default=list(smplify.format_names()))
    ap.add_argument("--steps", type=int, default=STEPS,
                    help=f"training steps (default {STEPS}; --shipped: each file's own)")
    ap.add_argument("--batch", type=int, default=BATCH)
    ap.add_argument("--width", type=int, default=WIDTH)
    ap.add_argument("--blocks", type=int, default=BLOCKS)
    ap.add_argument("--lr", type=float, default=MAX_LR, help="peak learning rate (one cycle)")
    ap.add_argument("--bodies", type=int, default=NUM_TRAIN_BODIES,
                    help="training bodies (poses drawn with repetition, random betas)")
    ap.add_argument("--eval-every", type=int, default=0,
                    help="print the held-out curve every N steps (0: only at the end)")
    ap.add_argument("--curve-out", type=Path, default=None,
                    help="folder for curve_<format>.json (figures against steps)")
    ap.add_argument("--curve-train-cases", type=int, default=0,
                    help="also score N fixed cases of training bodies on the curve")
    ap.add_argument("--low-share", type=float, default=initializer_mix.LOW_NOISE_SHARE,
                    help="share of low-noise training cases (tools/initializer_mix.py)")
    ap.add_argument("--confidence-shares", type=float, nargs=3,
                    default=initializer_mix.CONFIDENCE_SHARES,
                    help="shares of the error / uniform / saturated confidence models")
    ap.add_argument("--augment", type=int, default=0, metavar="N",
                    help="add N augmented poses per training pose (tools/initializer_augment.py;"
                    " 0: none, the shipped recipe)")
    ap.add_argument("--augment-mix", type=float, default=initializer_augment.MIX_SHARE,
                    help="share of the augmented poses that are limb-mixed")
    ap.add_argument("--augment-sigma", type=float, default=initializer_augment.SIGMA,
                    help="jitter of the augmented poses (the prior's standard deviations)")
    ap.add_argument("--augment-quantile", type=float, default=initializer_augment.QUANTILE,
                    help="pose-prior energy bound: this quantile of the training poses' own")
    ap.add_argument("--shipped", action="store_true",
                    help="rebuild what ships: each format by the recipe its shipped weights "
                    "file records (smpl24, lsp14: 10,000 steps; coco17, openpose25, "
                    "mediapipe33: 5,000; the error model's confidences only), overriding the "
                    "recipe options above")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--score", type=Path, nargs="+", default=None,
                    help="no training: score the weights in these folders on the held-out sets")
    ap.add_argument("--score-out", type=Path, default=None, help="JSON of --score's figures")
    ap.add_argument("--mocap", type=Path, default=REPO.parent / "shared" / "data" / "mocap")
    ap.add_argument("--out-dir", type=Path, default=REPO / "python" / "smplify" / "data")
    args = ap.parse_args(argv)
    recipes = format_recipes(args, ap)
    import torch

    model = smplify.load_model("open")
    model_file = REPO / "python" / "smplify" / "data" / "open_body_neutral.npz"
    t0 = time.time()
    poses = initializer_poses.mocap_poses(args.mocap, model_file, verbose=False)
    print(f"poses: {len(poses['train'])} train, {len(poses['heldout'])} held out (mirrors "
          f"included), {time.time() - t0:.0f}s", flush=True)
    all_formats = list(smplify.format_names())
    args = next(iter(recipes.values()), args)
    train_theta, augmented = training_poses(poses["train"], args)
    train_data = bodies(model, train_theta, args.bodies, SEED, all_formats, "train")
    held_data = bodies(model, poses["heldout"], NUM_HELDOUT_CASES, SEED + 7, all_formats,
                       "heldout")
    print(f"bodies ready {time.time() - t0:.0f}s", flush=True)
    scored: dict[str, Any] = {}
    for fmt in args.formats:
        args = recipes[fmt]
        if args.shipped:
            print(f"{fmt}: the shipped recipe {json.dumps(shipped_recipe(fmt))}", flush=True)
        names = get_format(fmt).keypoint_names
        available = resolve_format(fmt, model.keypoint_names, model.num_vertices).available
        sets = heldout_sets(held_data, fmt, names, available)
        held = sets["heldout"]
        if args.score:
            scored[fmt] = score(model, fmt, sets, args.score)
            continue
        if args.curve_train_cases:
            n = args.curve_train_cases
            sets["train"] = detections.make_cases(
                train_data[f"points_{fmt}"][:n], train_data["joints"][:n],
                train_data["theta"][:n], train_data["betas"][:n], names,
                np.random.default_rng(SEED + 13), available)
        net, log = train(fmt, train_data, model, args,
                         curve_figures(model, fmt, len(names), sets))
        arrays = export_arrays(torch, net, fmt, len(names))
        t = np.arange(NUM_TEST_INPUTS)
        arrays["test_keypoints"] = held.keypoints[t]
        arrays["test_image_size"] = held.image_size[t]
        arrays["test_focal"] = held.focal[t]
        x = init.features(held.keypoints[t], held.image_size[t], held.focal[t])
        with torch.no_grad():
            raw = net(torch.from_numpy(x))
            rot, _, _ = decode(torch, raw, HYPOTHESES)
        arrays["test_raw"] = raw.numpy()
        arrays["test_rotations"] = rot.numpy()
        metrics = {k: v for k, v in evaluate(init.Initializer(arrays), model, held).items()
                   if not isinstance(v, np.ndarray)}
        for name in HELDOUT_VARIANTS:
            e = evaluate(init.Initializer(arrays), model, sets[name])
            metrics[f"{name}_top1_mm"] = round(e["pa_mpjpe_top1_mm"], 2)
            metrics[f"{name}_best_mm"] = round(e["pa_mpjpe_best_of_m_mm"], 2)
        metrics.update({"train_seconds": round(log["train_seconds"], 1),
                        "low_noise_share": args.low_share,
                        "confidence_shares": dict(zip(initializer_mix.CONFIDENCE_MODELS,
                                                      args.confidence_shares, strict=True)),
                        "train_cpu_seconds": round(log["train_cpu_seconds"], 1),
                        "steps": args.steps, "batch": args.batch, "lr": args.lr,
                        "hypotheses": HYPOTHESES, "width": args.width,
                        "blocks": args.blocks, "train_bodies": args.bodies,
                        "train_poses": len(poses["train"]), **augmented,
                        "heldout_poses": len(poses["heldout"])})
        arrays["metrics"] = np.array(json.dumps(metrics, sort_keys=True))
        # The model trained on: its betas mean this model's bodies only (shares_shape_space).
        arrays["model_fingerprint"] = np.array(init.model_fingerprint(model))
        out = args.out_dir / f"initializer_{fmt}.npz"
        bpp.write_npz(out, arrays)
        if args.curve_out is not None:
            args.curve_out.mkdir(parents=True, exist_ok=True)
            (args.curve_out / f"curve_{fmt}.json").write_text(
                json.dumps({"recipe": metrics, "curve": log["curve"]}, indent=1))
        print(f"wrote {out} ({out.stat().st_size} bytes): {json.dumps(metrics)}", flush=True)
    if args.score_out is not None and scored:
        args.score_out.write_text(json.dumps(scored, indent=1) + "\n")
        print(f"wrote {args.score_out}")


if __name__ == "__main__":
    main()
