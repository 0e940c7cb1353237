"""Pictures of recovery cases: the true body and the fit, from the camera and from the side.

    python tools/draw_recovery_cases.py OUT.png [FORMAT:SEED ...]

Each row is one synthetic case of the test recovery set (``smplify.synthetic.make_case`` with
``numpy.random.default_rng(SEED)``; tests/test_fit.py uses seed 100·format_index + i): the truth
(grey) and the default fit (blue), each seen from the camera and from the body's left. Where the
fit is far off in PA-MPJPE but agrees with the truth from the camera, the side view shows which
depths (torso lean, a leg toward or away from the camera) the 2D left open and the energy read
the other way. The defaults are three of the set's worst cases (89-126 mm).
"""

from __future__ import annotations

import argparse

import numpy as np
import smplify
from PIL import Image
from smplify.render import render_mesh
from smplify.synthetic import make_case, pa_mpjpe

TRUTH_COLOR, FIT_COLOR = (150, 150, 160), (90, 140, 220)
TILE = (256, 320)


def row(model, prior, format: str, seed: int) -> np.ndarray:
    case = make_case(model, prior, format, np.random.default_rng(seed))
    fit = smplify.fit(case.keypoints, format, case.image_size, case.focal_length, model=model,
                      prior=prior)
    truth = model(betas=case.betas, body_pose=case.body_pose, global_orient=case.global_orient,
                  transl=case.transl)
    print(f"{format}:{seed}: PA-MPJPE {1000 * pa_mpjpe(fit.joints, case.joints):.1f} mm")
    tiles = []
    for vertices, color in ((truth.vertices, TRUTH_COLOR), (fit.vertices, FIT_COLOR)):
        # Camera frame (y down, z away from the camera) -> y up, facing the viewer.
        upright = (vertices - vertices.mean(axis=0)) * [1.0, -1.0, -1.0]
        for view in ("front", "left"):
            tiles.append(render_mesh(upright, model.faces, view=view, image_size=TILE,
                                     color=color))
    return np.concatenate(tiles, axis=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="PNG file to write")
    parser.add_argument("cases", nargs="*", default=["coco17:104", "coco17:107", "lsp14:401"],
                        help="FORMAT:SEED, e.g. coco17:104")
    args = parser.parse_args()
    model, prior = smplify.load_model("open"), smplify.load_prior("open")
    rows = []
    for spec in args.cases:
        format, seed = spec.split(":")
        rows.append(row(model, prior, format, int(seed)))
    Image.fromarray(np.concatenate(rows, axis=0)).save(args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
