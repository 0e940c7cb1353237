"""Draw a body model with its interpenetration capsules and spheres (smplify.render + Pillow).

    python tools/draw_capsules.py [MODEL.npz] [--out DIR] [--betas "0;3,0,...;-3,0,..."]

MODEL defaults to python/smplify/data/open_body_neutral.npz. For each β one PNG with three
orthographic panels of the shaped rest (T-pose) body: front (camera on +z, the body's left on
the image right), side (camera on the body's left, +x; the body faces the image right), and
the spheres of E_sp over the front view. The mesh is shaded grey (OpenGL, smplify.render:
needs the render extra); each capsule is its
exact orthographic outline (a 2D capsule of the same radius around the projected axis),
filled translucent in its part's colour; incompatible part pairs are not marked.
The capsule regressor comes from `smplify.capsules.capsules_for_model` (shipped file if it
matches, else fitted and cached).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from smplify.capsules import PART_NAMES, capsules_for_model, surface_distances
from smplify.render import OrthoCamera, render_mesh

ROOT = Path(__file__).resolve().parents[1]

SIZE = 560  # pixels per panel
MARGIN = 0.08  # metres around the body


def _palette(n: int) -> list[tuple[int, int, int]]:
    colours = []
    for i in range(n):
        h = (i * 0.618034) % 1.0
        k = np.array([5.0, 3.0, 1.0]) + h * 6.0
        rgb = 1.0 - 0.75 * np.clip(np.minimum(k % 6.0, 4.0 - k % 6.0), 0.0, 1.0)
        colours.append(tuple(int(255 * c) for c in rgb[::-1]))
    return colours


COLOURS = _palette(len(PART_NAMES))


def _view(points: np.ndarray, view: str) -> tuple[np.ndarray, np.ndarray]:
    """(N, 2) image-plane coordinates (u right, v up) and depth towards the camera."""
    if view == "front":
        return points[:, [0, 1]], points[:, 2]
    return points[:, [2, 1]], points[:, 0]  # side: camera on +x, u = z


def _to_pixels(uv: np.ndarray, box: tuple[np.ndarray, float]) -> np.ndarray:
    centre, scale = box
    return np.stack([SIZE / 2 + scale * (uv[:, 0] - centre[0]),
                     SIZE / 2 - scale * (uv[:, 1] - centre[1])], axis=1)


# World-to-camera rotations of the two orthographic views (rows: image right, image down,
# viewing direction). The side view keeps u = z, as _view does, so it is mirrored (det -1).
_ROTATIONS = {"front": np.array([[1.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, -1.0]]),
              "side": np.array([[0.0, 0.0, 1.0], [0.0, -1.0, 0.0], [-1.0, 0.0, 0.0]])}


def _draw_mesh(img: Image.Image, v: np.ndarray, faces: np.ndarray, view: str, box) -> None:
    """The mesh, grey and shaded, through smplify.render (OpenGL) in the panel's framing."""
    centre, scale = box
    camera = OrthoCamera(_ROTATIONS[view], scale,
                         (SIZE / 2 - scale * centre[0], SIZE / 2 + scale * centre[1]))
    picture = render_mesh(v, faces, camera=camera, image=np.asarray(img),
                          color=(0.85, 0.85, 0.85), ambient=0.35, smooth=True, samples=4)
    img.paste(Image.fromarray(picture))


def _stadium(a: np.ndarray, b: np.ndarray, r: float, n: int = 24) -> np.ndarray:
    """Outline (M, 2) of the 2D capsule of radius r around segment a-b."""
    d = b - a
    angle = np.arctan2(d[1], d[0]) if np.linalg.norm(d) > 1e-12 else 0.0
    half = np.linspace(-np.pi / 2, np.pi / 2, n)
    end_b = b + r * np.stack([np.cos(angle + half), np.sin(angle + half)], axis=1)
    end_a = a + r * np.stack([np.cos(angle + np.pi + half), np.sin(angle + np.pi + half)], 1)
    return np.concatenate([end_b, end_a])


def _draw_capsules(img: Image.Image, caps, view: str, box) -> Image.Image:
    overlay = Image.new("RGBA", img.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    _, depth = _view(0.5 * (caps.a + caps.b), view)
    scale = box[1]
    for c in np.argsort(depth):
        a, b = _view(caps.a[c:c + 1], view)[0][0], _view(caps.b[c:c + 1], view)[0][0]
        outline = _to_pixels(_stadium(a, b, caps.radius[c]), box)
        colour = COLOURS[c]
        draw.polygon([tuple(p) for p in outline], fill=colour + (70,), outline=colour + (255,))
        pa, pb = _to_pixels(np.stack([a, b]), box)
        draw.line([tuple(pa), tuple(pb)], fill=colour + (255,), width=2)
    del scale
    return Image.alpha_composite(img.convert("RGBA"), overlay)


def _draw_spheres(img: Image.Image, spheres, view: str, box) -> Image.Image:
    overlay = Image.new("RGBA", img.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    uv, depth = _view(spheres.centres, view)
    px = _to_pixels(uv, box)
    for i in np.argsort(depth):
        r = spheres.radii[i] * box[1]
        colour = COLOURS[spheres.capsule_of_sphere[i]]
        x, y = px[i]
        draw.ellipse([x - r, y - r, x + r, y + r], fill=colour + (60,), outline=colour + (255,))
        s = r / 3.0  # σ = r / 3
        draw.ellipse([x - s, y - s, x + s, y + s], outline=(0, 0, 0, 160))
    return Image.alpha_composite(img.convert("RGBA"), overlay)


def render(model: dict, regressor, betas: np.ndarray, title: str) -> tuple[Image.Image, dict]:
    """Three panels (front + capsules, side + capsules, front + spheres) and coverage stats."""
    v = model["v_template"] + model["shapedirs"] @ betas
    joints = model["J_regressor"] @ v
    caps = regressor.evaluate(betas, joints)
    spheres = regressor.spheres(betas, joints)
    faces = model["f"].astype(np.int64)
    panels = []
    for view, what in (("front", "capsules"), ("side", "capsules"), ("front", "spheres")):
        uv, _ = _view(v, view)
        lo, hi = uv.min(axis=0) - MARGIN, uv.max(axis=0) + MARGIN
        box = ((lo + hi) / 2, SIZE / max(hi - lo))
        img = Image.new("RGB", (SIZE, SIZE), "white")
        _draw_mesh(img, v, faces, view, box)
        img = (_draw_capsules(img, caps, view, box) if what == "capsules"
               else _draw_spheres(img, spheres, view, box))
        panels.append(img.convert("RGB"))
    out = Image.new("RGB", (3 * SIZE, SIZE + 28), "white")
    for i, panel in enumerate(panels):
        out.paste(panel, (i * SIZE, 28))
    dist = surface_distances(caps, v)
    stats = {"within_3cm": float(np.mean(dist < 0.03)), "median_mm": 1e3 * float(np.median(dist)),
             "p90_mm": 1e3 * float(np.percentile(dist, 90)), "spheres": len(spheres.radii)}
    text = (f"{title}   {stats['within_3cm'] * 100:.1f}% of vertices within 3 cm of a capsule "
            f"surface, median {stats['median_mm']:.1f} mm, {stats['spheres']} spheres")
    ImageDraw.Draw(out).text((8, 8), text, fill=(0, 0, 0), font=ImageFont.load_default())
    return out, stats


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", nargs="?",
                        default=str(ROOT / "python/smplify/data/open_body_neutral.npz"))
    parser.add_argument("--out", default="/work/pictures/capsules")
    parser.add_argument("--name", default=None, help="file name prefix (default: model stem)")
    parser.add_argument("--betas", default=None,
                        help="';'-separated comma lists; default: 0, ±3 on β1, ±3 on β2")
    args = parser.parse_args(argv)
    with np.load(args.model) as data:
        model = {k: data[k] for k in ("v_template", "shapedirs", "J_regressor", "weights", "f")}
    num_betas = model["shapedirs"].shape[2]
    regressor = capsules_for_model(v_template=model["v_template"], shapedirs=model["shapedirs"],
                                   J_regressor=model["J_regressor"], weights=model["weights"],
                                   faces=model["f"])
    if args.betas:
        sets = [np.array([float(x) for x in s.split(",")]) for s in args.betas.split(";")]
        sets = [np.pad(b, (0, num_betas - len(b))) for b in sets]
    else:
        sets = [np.zeros(num_betas)]
        for k in (0, 1):
            for sign in (3.0, -3.0):
                b = np.zeros(num_betas)
                b[k] = sign
                sets.append(b)
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    name = args.name or Path(args.model).stem
    for betas in sets:
        nz = np.flatnonzero(betas)
        label = "beta0" if len(nz) == 0 else "_".join(f"b{k}{betas[k]:+g}" for k in nz)
        img, stats = render(model, regressor, betas, f"{name} {label}")
        path = out_dir / f"{name}_{label}.png"
        img.save(path)
        print(f"{path}: {stats}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
