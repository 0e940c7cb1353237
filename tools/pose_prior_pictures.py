"""Pictures for checking the pose prior build (dev tool; numpy + pillow).

    python tools/pose_prior_pictures.py FITS.npz PRIOR.npz OUTDIR [--model MODEL.npz]

- ``ik_<source>.png``: for a few frames of one clip per source, the mocap points (dots) and
  the fitted model skeleton (lines; red = left, blue = right), front and side views.
- ``prior_samples.png``: 16 poses sampled from the prior, posed on the open body model
  (linear blend skinning in NumPy), front view; stick figures if no model file is given.
- ``bending.txt``: the signs of elbow/knee bending angles in the fits (SPEC §2 angle prior).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_pose_prior import PARENTS, forward  # noqa: E402
from mocap_io import rodrigues  # noqa: E402

LEFT = {1, 4, 7, 10, 13, 16, 18, 20, 22}
RIGHT = {2, 5, 8, 11, 14, 17, 19, 21, 23}


def _color(j: int) -> tuple[int, int, int]:
    return (210, 30, 30) if j in LEFT else (30, 60, 210) if j in RIGHT else (40, 40, 40)


def draw_skeleton(d: ImageDraw.ImageDraw, p: np.ndarray, cx: float, cy: float, s: float,
                  view: int) -> None:
    """p (24,3) metres; view 0: front (x right... seen from +z), 1: side (z to the right)."""
    def uv(q: np.ndarray) -> tuple[float, float]:
        h = -q[0] if view == 0 else q[2]  # seen from the front, the body's left is on the right
        return cx + s * h, cy - s * q[1]
    for j in range(1, 24):
        d.line([uv(p[PARENTS[j]]), uv(p[j])], fill=_color(j), width=3)


def draw_points(d: ImageDraw.ImageDraw, pts: np.ndarray, cx: float, cy: float, s: float,
                view: int, color: tuple[int, int, int] = (0, 150, 0)) -> None:
    for q in pts:
        h = -q[0] if view == 0 else q[2]
        u, v = cx + s * h, cy - s * q[1]
        d.ellipse([u - 3, v - 3, u + 3, v + 3], outline=color, width=2)


def ik_pictures(fits: np.lib.npyio.NpzFile, outdir: Path) -> None:
    tags = sorted({k.rsplit(":", 1)[0] for k in fits.files})
    chosen = {}
    for tag in tags:
        kind = tag.split(":")[0]
        if kind not in chosen or "walking" in tag or "salsa/01" in tag or "35_01" in tag:
            chosen[kind] = tag
    for kind, tag in chosen.items():
        theta, transl = fits[f"{tag}:theta"], fits[f"{tag}:transl"]
        y, rest = fits[f"{tag}:y"], fits[f"{tag}:rest"]
        joint, offset, err = fits[f"{tag}:joint"], fits[f"{tag}:offset"], fits[f"{tag}:err"]
        picks = np.linspace(len(theta) * 0.1, len(theta) * 0.9, 4).astype(int)
        img = Image.new("RGB", (4 * 2 * 230, 470), "white")
        d = ImageDraw.Draw(img)
        d.text((10, 5), f"{tag}: mocap points (green circles) vs fitted skeleton; "
               "front | side", fill=(0, 0, 0))
        for col, f in enumerate(picks):
            g, p = forward(theta[f].reshape(1, 24, 3), rest)
            p = p[0] + transl[f]
            markers = p[joint] + (g[0, joint] @ offset[..., None])[..., 0]
            centre = p[0].copy()
            for view in (0, 1):
                cx, cy = 115 + (2 * col + view) * 230, 250
                draw_skeleton(d, p - centre, cx, cy, 200, view)
                draw_points(d, y[f] - centre, cx, cy, 200, view)
                draw_points(d, markers - centre, cx, cy, 200, view, color=(255, 170, 0))
            d.text((20 + 2 * col * 230, 450), f"frame {f}: rms {1000 * err[f]:.1f} mm",
                   fill=(0, 0, 0))
        img.save(outdir / f"ik_{kind}.png")


def lbs(model: dict[str, np.ndarray], body_pose: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vertices (N,3) and joints (24,3) of the model at zero betas, global rotation 0."""
    v = model["v_template"]
    rest = model["J_regressor"] @ v
    theta = np.concatenate([np.zeros(3), body_pose]).reshape(1, 24, 3)
    g, p = forward(theta, rest)
    g, p = g[0], p[0]
    if "posedirs" in model and model["posedirs"].size:
        feat = (rodrigues(theta[0, 1:]) - np.eye(3)).reshape(-1)
        v = v + model["posedirs"] @ feat
    t = p - np.einsum("jab,jb->ja", g, rest)  # joint transforms with the rest offset removed
    a = np.einsum("nj,jab->nab", model["weights"], g)
    b = model["weights"] @ t
    return np.einsum("nab,nb->na", a, v) + b, p


def render_mesh(d: ImageDraw.ImageDraw, verts: np.ndarray, faces: np.ndarray, cx: float,
                cy: float, s: float) -> None:
    """Flat-shaded orthographic front view (camera on +z), painter's algorithm."""
    tri = verts[faces]
    n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    n /= np.linalg.norm(n, axis=1, keepdims=True) + 1e-12
    light = np.array([0.3, 0.4, 1.0])
    shade = np.clip(np.abs(n @ (light / np.linalg.norm(light))), 0.15, 1.0)
    order = np.argsort(tri[:, :, 2].mean(1))
    for i in order:
        pts = [(cx + s * q[0], cy - s * q[1]) for q in tri[i]]
        c = int(60 + 180 * shade[i])
        d.polygon(pts, fill=(c, int(c * 0.9), int(c * 0.8)))


def sample_pictures(prior_path: Path, model_path: Path | None, outdir: Path) -> None:
    with np.load(prior_path) as z:
        means, covars, weights = z["means"], z["covars"], z["weights"]
    rng = np.random.default_rng(7)
    comp = rng.choice(len(weights), size=16, p=weights / weights.sum())
    poses = np.stack([rng.multivariate_normal(means[k], covars[k]) for k in comp])
    model = None
    if model_path is not None and model_path.is_file():
        with np.load(model_path, allow_pickle=False) as z:
            model = {k: z[k] for k in z.files}
    img = Image.new("RGB", (4 * 260, 4 * 300), "white")
    d = ImageDraw.Draw(img)
    for i, pose in enumerate(poses):
        cx, cy = 130 + 260 * (i % 4), 170 + 300 * (i // 4)
        if model is not None:
            verts, joints = lbs(model, pose)
            c = joints[0]
            render_mesh(d, verts - c, model["f"].astype(int), cx, cy, 120)
        else:
            from build_pose_prior import skeleton_from_clip  # noqa: F401
            th = np.concatenate([np.zeros(3), pose]).reshape(1, 24, 3)
            _, p = forward(th, np.load(outdir / "interim_rest.npy"))
            draw_skeleton(d, p[0] - p[0, 0], cx, cy, 120, 0)
        d.text((cx - 120, cy - 160), f"component {comp[i]}", fill=(0, 0, 0))
    img.save(outdir / "prior_samples.png")


def bending_report(fits: np.lib.npyio.NpzFile, outdir: Path) -> str:
    thetas = np.concatenate([fits[k] for k in fits.files if k.endswith(":theta")])
    lines = ["index  joint            mean    5%     50%    95%   frac>0   "
             "angle-prior sign s (E_a = exp(s·θ))"]
    for idx, name, s in ((55, "left elbow y", +1), (58, "right elbow y", -1),
                         (12, "left knee x", -1), (15, "right knee x", -1)):
        t = thetas[:, idx]
        lines.append(f"{idx:5d}  {name:15s} {t.mean():6.2f} {np.percentile(t, 5):6.2f} "
                     f"{np.median(t):6.2f} {np.percentile(t, 95):6.2f}  {np.mean(t > 0):5.2f}"
                     f"    {s:+d} -> mean exp(s·θ) = {np.mean(np.exp(s * t)):.3f}")
    text = "\n".join(lines)
    (outdir / "bending.txt").write_text(text + "\n")
    return text


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("fits", type=Path)
    ap.add_argument("prior", type=Path)
    ap.add_argument("outdir", type=Path)
    ap.add_argument("--model", type=Path, default=None)
    args = ap.parse_args()
    args.outdir.mkdir(parents=True, exist_ok=True)
    fits = np.load(args.fits)
    ik_pictures(fits, args.outdir)
    if args.model is None or not args.model.is_file():
        tag = next(k for k in fits.files if k.endswith(":rest"))
        np.save(args.outdir / "interim_rest.npy", fits[tag])
    sample_pictures(args.prior, args.model, args.outdir)
    print(bending_report(fits, args.outdir))


if __name__ == "__main__":
    main()
