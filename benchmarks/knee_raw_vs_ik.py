"""Are the mocap's bent knees in the raw CMU data or made by the pose prior's IK?
(docs/video.md, "Bent knees": the source of the bend.)

    OPENBLAS_NUM_THREADS=1 nice .venv/bin/python tools/build_pose_prior.py \
        --model OLD_MODEL.npz --out /tmp/prior.npz --heldout-out /tmp/heldout.npz \
        --fits-out /tmp/fits.npz
    .venv/bin/python benchmarks/knee_raw_vs_ik.py /tmp/fits.npz [--mocap ../shared/data/mocap]

(OLD_MODEL.npz: ``git show 2aa90c8:python/smplify/data/open_body_neutral.npz``, the skeleton
the shipped prior was built on.) Prints:

1. per clip, on the IK's own frames (30 fps): the straighter knee's angle (degrees between
   thigh and shin, 0 straight) of the RAW mocap joint centres (hip, knee and ankle points as
   ``tools/mocap_io.py`` reads them, i.e. the IK's targets) and of the IK's model joints,
   median and 10th percentile, and the median per-frame difference IK − raw;
2. per clip, from every raw 120 fps frame: each knee's 1st percentile and median, and the share
   of frames in which a knee is exactly straight (< 0.01°: a channel that is constant zero, or
   clamped at zero), and the source skeleton's own knee angle in its rest/reference pose;
3. the open model's straight leg (body pose 0): the angle of its hip-knee-ankle joints and of
   its COCO hip-knee-ankle keypoints, in 3D and in the side (sagittal) plane, signed (+: the
   knee in front of the hip-ankle line, reads as flexed; −: behind, reads as hyperextended).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import smplify

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import build_pose_prior as bpp  # noqa: E402
import mocap_io  # noqa: E402

LEGS = ((1, 4, 7), (2, 5, 8))   # SMPL hip, knee, ankle: left, right
RAW_LEGS = (("lhip", "lknee", "lankle"), ("rhip", "rknee", "rankle"))


def knee_angle(hip: np.ndarray, knee: np.ndarray, ankle: np.ndarray) -> np.ndarray:
    """(...,) degrees between thigh and shin (0: straight); points (..., 3)."""
    u, v = hip - knee, ankle - knee
    cos = np.sum(u * v, axis=-1) / np.linalg.norm(u, axis=-1) / np.linalg.norm(v, axis=-1)
    return 180.0 - np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def sagittal_angle(hip: np.ndarray, knee: np.ndarray, ankle: np.ndarray) -> float:
    """Signed knee angle in the y-z (side) plane of the body frame, degrees (+ flexed)."""
    angle = float(knee_angle(*(np.array([0.0, p[1], p[2]]) for p in (hip, knee, ankle))))
    on_line = hip[2] + (ankle[2] - hip[2]) * (knee[1] - hip[1]) / (ankle[1] - hip[1])
    return angle if knee[2] >= on_line else -angle


def raw_vs_ik(fits: np.lib.npyio.NpzFile) -> None:
    print("1. the straighter knee (°) on the IK's frames: raw mocap joint centres | IK joints")
    clips = sorted({k.rsplit(":", 1)[0] for k in fits.files})
    for clip in clips:
        y, joint = fits[f"{clip}:y"], list(fits[f"{clip}:joint"])
        raw = np.minimum(*(knee_angle(*(y[:, joint.index(j)] for j in leg)) for leg in LEGS))
        th = fits[f"{clip}:theta"].reshape(-1, 24, 3).copy()
        th[:, 0] = 0
        _, p = bpp.forward(th, fits[f"{clip}:rest"])
        ik = np.minimum(*(knee_angle(*(p[:, j] for j in leg)) for leg in LEGS))
        print(f"  {clip:46s} raw median {np.median(raw):5.1f} p10 {np.percentile(raw, 10):5.1f}"
              f" | IK median {np.median(ik):5.1f} p10 {np.percentile(ik, 10):5.1f}"
              f" | IK − raw median {np.median(ik - raw):+5.1f}  frames {len(raw):4d}")


def raw_channels(mocap: Path) -> None:
    print("2. every raw frame, per knee (°): 1st percentile, median, share exactly straight;"
          " the source's rest-pose knee")
    for kind, path, asf in mocap_io.list_clips(mocap):
        clip = mocap_io.read_clip(kind, path, asf)
        cols = []
        for side, leg in zip("LR", RAW_LEGS, strict=True):
            a = knee_angle(*(clip.points[n] for n in leg))
            cols.append(f"{side} p1 {np.percentile(a, 1):5.1f} median {np.median(a):5.1f} "
                        f"straight {np.mean(a < 0.01):4.2f}")
        rest = float(knee_angle(*(clip.ref_points[n] for n in RAW_LEGS[0])))
        print(f"  {kind:6s} {'/'.join(path.parts[-3:]):48s} {' | '.join(cols)} | rest "
              f"{rest:4.1f}  frames {clip.num_frames:5d}")


def model_leg() -> None:
    print("3. the open model's straight leg (body pose 0): knee angle 3D / side plane (°)")
    model = smplify.load_model("open")
    names = list(model.keypoint_names)
    for label, betas in (("β = 0", None), ("β1 = +2", np.eye(10)[0] * 2),
                         ("β1 = −2", np.eye(10)[0] * -2)):
        out = model(betas=betas)
        kp = np.asarray(model.keypoint_regressor @ out.vertices)
        joints = [out.joints[j] for j in LEGS[0]]
        coco = [kp[names.index(f"coco_left_{n}")] for n in ("hip", "knee", "ankle")]
        print(f"  {label:8s} joints {float(knee_angle(*joints)):4.1f} / "
              f"{sagittal_angle(*joints):+5.1f}   COCO keypoints "
              f"{float(knee_angle(*coco)):4.1f} / {sagittal_angle(*coco):+5.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("fits", help="tools/build_pose_prior.py --fits-out file")
    parser.add_argument("--mocap", type=Path,
                        default=Path(__file__).resolve().parents[2] / "shared" / "data" / "mocap")
    args = parser.parse_args()
    with np.load(args.fits) as fits:
        raw_vs_ik(fits)
    raw_channels(args.mocap)
    model_leg()


if __name__ == "__main__":
    main()
