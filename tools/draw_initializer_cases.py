"""Pictures of the learned initialiser on held-out cases: truth, top hypothesis, best of M.

    python tools/draw_initializer_cases.py OUT.png [--format coco17] [--cases 5] [--seed 7]

Each row is one held-out case as ``benchmarks/initializer.py`` makes them (held-out mocap pose,
random camera, detector-like errors): the truth (grey), the top-scored hypothesis (blue) and
the hypothesis closest to the truth (green), first as the camera sees them, then from the
camera's right (the depth axis runs left-right in those three tiles). Prints each case's
PA-MPJPE.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import smplify
from PIL import Image
from smplify import initializer as init
from smplify.initializer_metrics import posed_joints
from smplify.render import render_mesh
from smplify.synthetic import pa_mpjpe

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from initializer import cases_for  # noqa: E402

COLORS = {"truth": (150, 150, 160), "top": (90, 140, 220), "best": (90, 190, 120)}
TILE = (200, 260)


def camera_and_side(model: smplify.BodyModel, meshes: dict[str, np.ndarray],
                    colors: dict[str, tuple[int, int, int]]) -> np.ndarray:
    """One row of tiles: each mesh (camera-frame vertices) as the camera sees it, then each
    from the camera's right."""
    tiles = []
    for view in ("front", "right"):
        for name, v in meshes.items():
            upright = (v - v.mean(axis=0)) * [1.0, -1.0, -1.0]  # camera → y up
            tiles.append(render_mesh(upright, model.faces, view=view, image_size=TILE,
                                     color=colors[name]))
    return np.concatenate(tiles, axis=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--format", default="coco17")
    parser.add_argument("--cases", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    model = smplify.load_model("open")
    ini = init.load_initializer(args.format)
    cases = cases_for(model, args.format, args.cases, args.seed)
    rot, betas, scores = ini.decode(ini.raw(init.features(cases.keypoints, cases.image_size,
                                                           cases.focal)))
    aa = init.matrix_to_axis_angle(rot)
    joints = posed_joints(model, rot, betas[:, None])
    rows = []
    for i in range(args.cases):
        err = [pa_mpjpe(joints[i, h], cases.joints[i]) for h in range(ini.num_hypotheses)]
        top, best = int(np.argmax(scores[i])), int(np.argmin(err))
        print(f"case {i}: top-1 {1000 * err[top]:.0f} mm (score {scores[i, top]:.2f}), "
              f"best of {ini.num_hypotheses} {1000 * err[best]:.0f} mm (hypothesis {best})")
        go = init.matrix_to_axis_angle(cases.rotation[i])
        meshes = {"truth": model(global_orient=go, body_pose=cases.body_pose[i],
                                 betas=cases.betas[i]).vertices,
                  "top": model(global_orient=aa[i, top, 0], body_pose=aa[i, top, 1:].ravel(),
                               betas=betas[i]).vertices,
                  "best": model(global_orient=aa[i, best, 0],
                                body_pose=aa[i, best, 1:].ravel(), betas=betas[i]).vertices}
        rows.append(camera_and_side(model, meshes, COLORS))
    Image.fromarray(np.concatenate(rows, axis=0)).save(args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
