"""Why standing people come out with bent knees and hips pushed back (issue 11, real videos):
the experiments of docs/video.md, "Bent knees of standing people".

    OPENBLAS_NUM_THREADS=1 nice .venv/bin/python benchmarks/knee_bend_causes.py \
        [--cases 6] [--videos vtest sports2d] [--parts 1 2 3 4 5] [--share-frames 30] \
        [--options '{"knee_depth_weight": 400, "knee_depth_sigma": 0.05}']

1. **Perfect keypoints of a standing body.** The open model's mean body, straight (body
   pose 0), upright, seen from the front and from the side (``smplify.synthetic.make_case``:
   ±30° / 90 ± 15° of yaw, 2.5-6 m, f 1000-5000 px), its own mediapipe33 keypoints without
   noise, fitted with the defaults, with the prior's starts only (no learned initialiser),
   ``preset="paper"``, and with its own 3D keypoints as ``keypoints_3d``. Prints the median
   knee bend and hip flexion (degrees; 0 straight) of the fits.
2. **The pose prior's means**: each component's knee and hip flexion (its mean body pose's
   x rotation, degrees) and the weighted mean.
3. **Where MediaPipe puts the hips**: on bench_real_video's detections (its cache), the
   hips' midpoint projected on the shoulders-to-knees line (2D), as a fraction of it, per
   person (median over the frames where all six are sure), against the open model's own
   keypoints (standing, β = 0).
4. **What hips placed as MediaPipe places them do to a straight body**: the front views of
   1. with both 2D hips put a share of the way from the body's COCO hips to its COCO knees
   (``--shifts``: 0, 8, 11.5 (part 5's share), 16, 24%; MediaPipe's 0.60-0.62 and the
   sports2d man's 0.669 of the shoulders-to-knees line, against the model's 0.569, are ~10%
   and ~23% of hip → knee), fitted with the defaults.
5. **Where MediaPipe puts the hips on the fitted body** (the share behind
   ``smplify.keypoints.MEDIAPIPE_HIP_SHARE``): the same people, ``--share-frames`` sure
   frames each, fitted with the defaults but without the hips (2D confidence × 0.01, world
   landmarks NaN); the detected hips projected on the fitted body's own 2D COCO hip → knee,
   as a share of it (0: at its COCO hip), median per person and over the people.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import smplify
from smplify.keypoints import resolve_format
from smplify.synthetic import make_case

sys.path.insert(0, str(Path(__file__).resolve().parent))
from real_video_metrics import knee_bend  # noqa: E402

#: MediaPipe shoulders, hips, knees (left, right).
SHOULDERS, HIPS, KNEES = (11, 12), (23, 24), (25, 26)
VARIANTS = {"defaults": {}, "prior's starts only": {"starts": "prior", "learned_init": False,
                                                     "reading_weight": 0.0},
            'preset="paper"': {"preset": "paper"}, "defaults + true 3D": None}


def hip_flexion(joints: np.ndarray) -> float:
    """Median over bodies and legs of the angle between the thigh and the trunk's downward
    axis (neck → pelvis), degrees (0: straight). joints (N, 24, 3)."""
    down = joints[:, 0] - joints[:, 12]
    angles = []
    for hip, knee in ((1, 4), (2, 5)):
        thigh = joints[:, knee] - joints[:, hip]
        cos = np.sum(down * thigh, axis=1) / np.linalg.norm(down, axis=1) / \
            np.linalg.norm(thigh, axis=1)
        angles.append(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))
    return float(np.median(np.concatenate(angles)))


def hip_fraction(keypoints: np.ndarray) -> np.ndarray:
    """(N,) the hips' midpoint projected on the shoulders' → knees' midpoints line, as a
    fraction of it. keypoints (N, 33, ≥2) mediapipe33."""
    kp = np.asarray(keypoints)[..., :2]
    top, hip, knee = (kp[:, list(i)].mean(axis=1) for i in (SHOULDERS, HIPS, KNEES))
    line = knee - top
    return np.sum((hip - top) * line, axis=1) / np.sum(line * line, axis=1)


def standing_cases(model: object, view: str, cases: int) -> list:
    """Part 1's ``cases`` straight standing bodies (body pose 0) seen from ``view`` ("front"
    or "side"), their perfect mediapipe33 keypoints (``make_case``, seed 0)."""
    prior = smplify.load_prior("open")
    rng = np.random.default_rng(0)
    return [make_case(model, prior, "mediapipe33", rng, view=view, poses=np.zeros((1, 69)))
            for _ in range(cases)]


def standing_joints(model: object, made: list, options: dict, true_3d: bool = False
                    ) -> np.ndarray:
    """(N, 24, 3): the joints of the fits of ``made`` (:func:`standing_cases`) with
    ``options`` (FitOptions fields) and, with ``true_3d``, each body's own 3D keypoints
    (camera frame) as ``keypoints_3d``."""
    resolved = resolve_format("mediapipe33", model.keypoint_names, model.num_vertices,
                              model.keypoint_regressor)
    joints = []
    for case in made:
        points = None
        if true_3d:
            out = model(betas=case.betas, body_pose=case.body_pose,
                        global_orient=case.global_orient, transl=case.transl)
            points = resolved.keypoint_positions(out.joints, out.vertices)
        res = smplify.fit(case.keypoints, "mediapipe33", case.image_size,
                          focal_length=case.focal_length, model=model, threads=1,
                          keypoints_3d=points, **options)
        joints.append(np.asarray(res.joints))
    return np.stack(joints)


def standing_fits(model: object, cases: int, extra: dict | None = None) -> None:
    for view in ("front", "side"):
        made = standing_cases(model, view, cases)
        for name, options in VARIANTS.items():
            j = standing_joints(model, made, {**(options or {}), **(extra or {})},
                                true_3d=options is None)
            print(f"  {view:5s} {name:22s} knee bend {knee_bend(j, np.ones(len(j), bool)):5.1f}°"
                  f"  hip flexion {hip_flexion(j):5.1f}°", flush=True)


def hip_shift_fits(model: object, cases: int, shifts: tuple[float, ...],
                   extra: dict | None = None) -> None:
    coco = resolve_format("coco17", model.keypoint_names, model.num_vertices,
                          model.keypoint_regressor)
    c_hip, c_knee = (coco.format.index(f"left_{j}") for j in ("hip", "knee"))
    made = standing_cases(model, "front", cases)
    for shift in shifts:
        joints = []
        for case in made:
            kp = np.array(case.keypoints, dtype=float)
            # the body's COCO hips and knees, projected as make_case projects
            out = model(betas=case.betas, body_pose=case.body_pose,
                        global_orient=case.global_orient, transl=case.transl)
            p3 = coco.keypoint_positions(out.joints, out.vertices)
            uv = case.focal_length * p3[:, :2] / p3[:, 2:] + np.array(case.image_size) / 2.0
            for side, hip in enumerate(HIPS):
                a, b = uv[c_hip + side], uv[c_knee + side]
                kp[hip, :2] = a + shift * (b - a)
            res = smplify.fit(kp, "mediapipe33", case.image_size,
                              focal_length=case.focal_length, model=model, threads=1,
                              **(extra or {}))
            joints.append(np.asarray(res.joints))
        j = np.stack(joints)
        print(f"  hips {100 * shift:4.1f}% of hip → knee below the COCO hips: knee bend "
              f"{knee_bend(j, np.ones(len(j), bool)):5.1f}°  hip flexion {hip_flexion(j):5.1f}°",
              flush=True)


def prior_means() -> None:
    prior = smplify.load_prior("open")
    knee = np.degrees(prior.means[:, [9, 12]].mean(axis=1))   # left/right knee x rotation
    hip = -np.degrees(prior.means[:, [0, 3]].mean(axis=1))    # hip flexion (forward +)
    for k, (w, a, b) in enumerate(zip(prior.weights, knee, hip, strict=True)):
        print(f"  component {k}: weight {w:.3f}  knee {a:5.1f}°  hip {b:5.1f}°")
    print(f"  weighted mean: knee {np.average(knee, weights=prior.weights):5.1f}°  "
          f"hip {np.average(hip, weights=prior.weights):5.1f}°")


def hip_placement(model: object, videos: list[str]) -> None:
    from real_videos import detections, tracks

    resolved = resolve_format("mediapipe33", model.keypoint_names, model.num_vertices,
                              model.keypoint_regressor)
    out = model(global_orient=np.array([np.pi, 0.0, 0.0]))
    own = hip_fraction(resolved.keypoint_positions(out.joints, out.vertices)[None])[0]
    print(f"  the open model's keypoints (standing, β = 0): {own:.3f}")
    for video in videos:
        for track in tracks(detections(video))[:8]:
            kp = track.keypoints[track.seen]
            sure = np.min(kp[:, [*SHOULDERS, *HIPS, *KNEES], 2], axis=1) >= 0.5
            if sure.any():
                print(f"  {video} person {track.id}: {np.median(hip_fraction(kp[sure])):.3f} "
                      f"({int(sure.sum())} frames)")


def hip_share(model: object, videos: list[str], per_person: int) -> None:
    """Part 5: where MediaPipe's hips sit along the fitted body's COCO hip → knee, as a share
    of it (0: at ``coco_*_hip``, 1: at ``coco_*_knee``), per leg and frame, median per person.
    The fits ignore the hips (2D confidence × 0.01, world landmarks NaN), so the hips cannot pull
    the body onto themselves; the body is placed by the other keypoints."""
    from real_videos import FRAMES, detections, tracks

    coco = resolve_format("coco17", model.keypoint_names, model.num_vertices,
                          model.keypoint_regressor)
    c_hip, c_knee = (coco.format.index(f"left_{j}") for j in ("hip", "knee"))
    everyone = []
    for video in videos:
        found = detections(video, FRAMES[video], quiet=True)
        for track in tracks(found)[:8]:
            kp_all = track.keypoints
            sure = track.seen & (np.min(kp_all[:, [*SHOULDERS, *HIPS, *KNEES], 2], axis=1)
                                 >= 0.5)
            frames = np.flatnonzero(sure)
            if frames.size < 3:
                continue
            frames = frames[np.linspace(0, frames.size - 1, min(per_person, frames.size))
                            .round().astype(int)]
            shares = []
            for t in frames:
                kp = np.array(kp_all[t], dtype=float)
                world = np.array(track.world[t], dtype=float)
                kp[list(HIPS), 2] *= 0.01  # present for the camera placement only
                world[list(HIPS)] = np.nan
                res = smplify.fit(kp, "mediapipe33", found.image_size, model=model,
                                  keypoints_3d=world, threads=1)
                pts = res.camera.project(coco.keypoint_positions(res.joints, res.vertices))
                for side, hip in enumerate(HIPS):
                    a, b = pts[c_hip + side], pts[c_knee + side]
                    d = b - a
                    shares.append(float(np.dot(kp_all[t, hip, :2] - a, d) / np.dot(d, d)))
            everyone.append(np.median(shares))
            print(f"  {video} person {track.id}: {np.median(shares):+.3f} "
                  f"(IQR {np.percentile(shares, 25):+.3f}..{np.percentile(shares, 75):+.3f},"
                  f" {len(frames)} frames)", flush=True)
    print(f"  median over the {len(everyone)} people: {np.median(everyone):+.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=6)
    parser.add_argument("--videos", nargs="*", default=["sports2d", "vtest"])
    parser.add_argument("--parts", nargs="*", type=int, default=[1, 2, 3, 4, 5])
    parser.add_argument("--shifts", nargs="*", type=float,
                        default=[0.0, 0.08, 0.115, 0.16, 0.24],
                        help="part 4: the 2D hips' share of COCO hip → knee")
    parser.add_argument("--share-frames", type=int, default=30,
                        help="part 5: fitted frames per person")
    parser.add_argument("--options", type=json.loads, default={},
                        help="parts 1 and 4: FitOptions fields (JSON) added to every fit's, "
                             "e.g. '{\"knee_depth_weight\": 400, \"knee_depth_sigma\": 0.05}'")
    args = parser.parse_args()
    model = smplify.load_model("open")
    if 1 in args.parts:
        print("1. fits of perfect keypoints of a straight standing body:")
        standing_fits(model, args.cases, args.options)
    if 2 in args.parts:
        print("2. the pose prior's means:")
        prior_means()
    if 3 in args.parts:
        print("3. MediaPipe's hips on the shoulders-to-knees line (fraction):")
        hip_placement(model, args.videos)
    if 4 in args.parts:
        print("4. the straight body from the front with its 2D hips lower (MediaPipe's "
              "placement):")
        hip_shift_fits(model, args.cases, tuple(args.shifts), args.options)
    if 5 in args.parts:
        print("5. MediaPipe's hips along the fitted body's COCO hip → knee (share; fits "
              "without the hips):")
        hip_share(model, args.videos, args.share_frames)


if __name__ == "__main__":
    main()
