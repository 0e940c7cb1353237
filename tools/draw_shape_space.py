#!/usr/bin/env python3
"""Draw a body model's shape space: the mean body (β = 0) and ±2σ on its first components,
each from the front and from the left side, at one scale (so heights compare), and print the
model's adult measurements under β ~ N(0, I) (the shape prior's population).

    .venv/bin/python tools/draw_shape_space.py open_body_neutral.npz shape.png --components 3

Rows: β = 0, then per component k: β_k = −2 and β_k = +2. Needs the ``render`` extra.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import smplify
from smplify.render import render_mesh, save_png, view_camera

TILE = (300, 560)  # width, height of one view, pixels
#: The box every view frames (metres, SMPL frame): the same scale for every body.
FRAME = np.array([[-0.6, -1.2, -0.6], [0.6, 1.05, 0.6]])


def measurements(model: smplify.BodyModel, betas: np.ndarray) -> dict[str, np.ndarray]:
    """Stature, shoulder width, hip width, leg length and shin length (metres) of rest-pose
    bodies of shapes ``betas`` (S, B): vertex height span, and distances between the COCO
    keypoints of the model (the points a detector marks)."""
    names = list(model.keypoint_names)
    ids = [names.index(f"coco_{s}_{p}") for s in ("left", "right")
           for p in ("shoulder", "hip", "knee", "ankle")]
    reg = model.keypoint_regressor
    reg = np.asarray(reg.toarray() if hasattr(reg, "toarray") else reg, dtype=np.float64)[ids]
    out: dict[str, list[float]] = {k: [] for k in ("stature", "shoulder width", "hip width",
                                                   "leg (hip-ankle)", "shin (knee-ankle)")}
    for b in betas:
        v = np.asarray(model.v_template) + np.asarray(model.shapedirs) @ b
        k = reg @ v  # l_sh, l_hip, l_knee, l_ankle, r_sh, r_hip, r_knee, r_ankle
        out["stature"].append(float(np.ptp(v[:, 1])))
        out["shoulder width"].append(float(k[0, 0] - k[4, 0]))
        out["hip width"].append(float(k[1, 0] - k[5, 0]))
        out["leg (hip-ankle)"].append(float(k[1, 1] - k[3, 1]))
        out["shin (knee-ankle)"].append(float(k[2, 1] - k[3, 1]))
    return {key: np.asarray(v) for key, v in out.items()}


def draw(model: smplify.BodyModel, components: int) -> np.ndarray:
    rows = []
    for k in [None, *range(components)]:
        tiles = []
        for sign in ([0.0] if k is None else [-2.0, 2.0]):
            betas = np.zeros(model.num_betas)
            if k is not None:
                betas[k] = sign
            out = model(betas=betas)
            for view in ("front", "left"):
                cam = view_camera(FRAME, view, TILE)
                tiles.append(render_mesh(out.vertices, model.faces, camera=cam,
                                         image_size=TILE, view=view))
        rows.append(np.concatenate(tiles, axis=1))
    width = max(r.shape[1] for r in rows)
    rows = [np.pad(r, ((0, 0), (0, width - r.shape[1]), (0, 0)), constant_values=255)
            for r in rows]
    return np.concatenate(rows, axis=0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", help="model file or 'open'")
    parser.add_argument("output", type=Path, help="PNG to write")
    parser.add_argument("--components", type=int, default=3)
    parser.add_argument("--samples", type=int, default=2000,
                        help="bodies β ~ N(0, I) for the measurements")
    args = parser.parse_args(argv)
    model = smplify.load_model(args.model)
    save_png(args.output, draw(model, args.components))
    betas = np.random.default_rng(0).normal(size=(args.samples, model.num_betas))
    for name, values in measurements(model, betas).items():
        print(f"{name:18s} mean {100 * values.mean():6.1f} cm  sd {100 * values.std():5.1f} cm")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
