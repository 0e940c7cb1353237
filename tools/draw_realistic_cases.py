"""Pictures of the realistic-error set: the truth, the old default fit and the new default fit.

    python tools/draw_realistic_cases.py OUT.png [--format coco17] [--cases 0 1 2 3]
        [--new "{'reading_weight': 300.0}"] [--old "{}"] [--split tune --of 100]

Each row is one case of the TEST half (or ``--split tune``) of ``benchmarks/realistic.py``
(held-out mocap pose, random camera of any yaw, detector errors): the truth (grey), the fit
with the old defaults (``realistic.OLD_DEFAULTS``, orange; or ``--old``) and with the new
defaults (blue; or ``--new``, a dict of options over the defaults), first as the camera sees
them, then from the camera's right (the depth axis runs left-right in those tiles).
Prints each case's PA-MPJPE and what the new fit did (hypothesis kept, labels swapped back).
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

import numpy as np
import smplify
from PIL import Image
from smplify.synthetic import _axis_angle, pa_mpjpe

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import realistic  # noqa: E402
from draw_initializer_cases import camera_and_side  # noqa: E402

COLORS = {"truth": (150, 150, 160), "old": (220, 150, 80), "new": (90, 140, 220)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--format", default="coco17", choices=realistic.ALL_FORMATS)
    parser.add_argument("--cases", type=int, nargs="*", default=[0, 1, 2, 3])
    parser.add_argument("--of", type=int, default=60, help="size of the drawn set")
    parser.add_argument("--split", choices=("tune", "test"), default="test",
                        help="which half (tune: the cases benchmarks/realistic_errors.py "
                             "analyses, with its --cases as --of)")
    parser.add_argument("--new", default="{}", help="options of the blue fit (a dict literal)")
    parser.add_argument("--old", default=None,
                        help="options of the orange fit (a dict literal; default "
                             "realistic.OLD_DEFAULTS)")
    args = parser.parse_args()
    new_options = ast.literal_eval(args.new)
    old_options = realistic.OLD_DEFAULTS if args.old is None else ast.literal_eval(args.old)
    model = smplify.load_model("open")
    data = realistic.cases(model, args.format, args.of, args.split)
    rows = []
    for i in args.cases:
        size, f = tuple(data.image_size[i]), float(data.focal[i])
        try:
            fits = {name: smplify.fit(data.keypoints[i], args.format, size, f, model=model,
                                      **options)
                    for name, options in (("old", old_options), ("new", new_options))}
        except smplify.KeypointError as err:  # as realistic.fit_cases counts it: refused
            print(f"{args.format} {args.split} case {i}: not drawn, the fit refuses its "
                  f"keypoints ({err})")
            continue
        errors = {n: 1000 * pa_mpjpe(r.joints - r.joints[0], data.joints[i])
                  for n, r in fits.items()}
        new = fits["new"].summary
        print(f"{args.format} {args.split} case {i}: old {errors['old']:.0f} mm, new "
              f"{errors['new']:.0f} mm (hypothesis {new['hypothesis']}, legs flipped "
              f"{new['legs_flipped']}, labels "
              f"{new['left_right']}; swaps in the detections: {data.swaps[i].tolist()})")
        meshes = {"truth": model(global_orient=_axis_angle(data.rotation[i]),
                                 body_pose=data.body_pose[i], betas=data.betas[i]).vertices,
                  "old": fits["old"].vertices, "new": fits["new"].vertices}
        rows.append(camera_and_side(model, meshes, COLORS))
    if not rows:
        raise SystemExit("no case drawn: the fit refused every case given")
    Image.fromarray(np.concatenate(rows, axis=0)).save(args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
