"""Build ``tests/data/heldout_sequences.npz``: held-out CMU mocap clips as SMPL pose sequences.

    python tools/build_heldout_sequences.py [--mocap ../shared/data/mocap] [--frames 240]
    python tools/build_heldout_sequences.py --set tuning --frames 144   # tuning_sequences.npz

The video tests and ``benchmarks/bench_video.py`` need real human motion that the pose prior
never saw. This takes a few clips of the HELDOUT split of ``tools/build_pose_prior.py`` and
runs that tool's own inverse kinematics on them (its ``clip_targets``, ``fit_betas`` and
``solve_ik``: per clip the betas of the open neutral model are fitted to the subject, then
θ and the translation per frame), at 30 fps (every 4th frame of the 120 fps sources),
``--frames`` consecutive frames from the middle of each clip.

Written (float32, byte-reproducible zip): ``names`` (C,) str, ``fps`` (1,), ``betas`` (C, 10),
``global_orient`` (C, T, 3), ``body_pose`` (C, T, 69), ``transl`` (C, T, 3), the mocap's
world frame (y up, metres), ``ik_error`` (C, T) rms marker error of the IK in metres. No raw
mocap is copied.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import build_pose_prior as bpp  # noqa: E402  (sets the BLAS thread variables first)
import mocap_io  # noqa: E402

# Held-out clips long enough for 240 frames: jumping, two dances, martial arts.
CLIPS = ("test/jumping/jumping_1.txt", "salsa/20.bvh", "indian/15.bvh",
         "martial/10.bvh")
# For tuning the video tracking (``--set tuning``), never scored by the tests or benchmarks
# (which use CLIPS): the other held-out clips (slow: the shortest has 144 frames at 30 fps),
# and, for motion as fast as the scoring clips', other takes of the same kinds of motion from
# the pose prior's training clips (the prior saw these, so fits of them are a little easier).
TUNING_CLIPS = ("test/basketball/basketball_1.txt", "test/soccer/soccer_1.txt",
                "test/washwindow/washwindow_1.txt", "49/49_20.amc",
                "train/jumping/jumping_2.txt", "salsa/03.bvh", "indian/07.bvh",
                "martial/05.bvh")
FPS = 120.0 / bpp.FRAME_STRIDE


def sequence(kind: str, path: Path, asf: Path | None, skel: bpp.Skeleton,
             num_frames: int) -> dict[str, np.ndarray]:
    """IK of ``num_frames`` consecutive 30 fps frames from the middle of one clip."""
    clip = mocap_io.read_clip(kind, path, asf)
    tg = bpp.clip_targets(clip)
    strided = np.arange(0, clip.num_frames, bpp.FRAME_STRIDE)
    if len(strided) < num_frames:
        raise SystemExit(f"{path}: only {len(strided)} frames at 30 fps, need {num_frames}")
    first = (len(strided) - num_frames) // 2
    frames = strided[first:first + num_frames]
    shape_frames = frames[np.linspace(0, len(frames) - 1, 48).astype(int)]
    betas = bpp.fit_betas(tg, skel, shape_frames)
    theta, transl, err = bpp.solve_ik(tg, skel.joints(betas), frames)
    return {"betas": betas, "global_orient": theta[:, :3], "body_pose": theta[:, 3:],
            "transl": transl, "ik_error": err}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mocap", type=Path, default=bpp.REPO.parent / "shared" / "data" / "mocap")
    ap.add_argument("--model", type=Path,
                    default=bpp.REPO / "python" / "smplify" / "data" / "open_body_neutral.npz")
    ap.add_argument("--frames", type=int, default=240)
    ap.add_argument("--clips", nargs="+", default=None,
                    help="held-out clips (path endings) instead of the set's; other held-out "
                         "clips than the default make a tuning set that the tests and "
                         "bench_video never score, e.g. test/basketball/basketball_1.txt "
                         "test/soccer/soccer_1.txt")
    ap.add_argument("--set", choices=("scoring", "tuning"), default="scoring",
                    help="scoring: the clips tests and benchmarks score on (default); tuning: "
                    "TUNING_CLIPS, for choosing the online tracking's options")
    ap.add_argument("--out", type=Path, default=None,
                    help="default tests/data/heldout_sequences.npz (scoring) or "
                    "tests/data/tuning_sequences.npz (tuning)")
    args = ap.parse_args(argv)
    tuning = args.set == "tuning" and args.clips is None
    clips = args.clips or (TUNING_CLIPS if tuning else CLIPS)
    if args.out is None:
        args.out = bpp.REPO / "tests" / "data" / (
            "tuning_sequences.npz" if tuning else "heldout_sequences.npz")
    skel = bpp.skeleton_from_model(args.model)
    listing = {str(p): (kind, p, asf) for kind, p, asf in mocap_io.list_clips(args.mocap)}
    seqs, names = [], []
    for clip in clips:
        match = [v for k, v in listing.items() if k.endswith(clip)]
        # TUNING_CLIPS has training clips of the prior on purpose; anything else is held out.
        if len(match) != 1 or (not tuning and not bpp.is_heldout(clip, match[0][1])):
            raise SystemExit(f"{clip}: not found once among the held-out clips of {args.mocap}")
        seqs.append(sequence(*match[0], skel, args.frames))
        names.append(clip)
        err = seqs[-1]["ik_error"]
        print(f"{clip:36s} IK rms error median {1000 * np.median(err):.1f} mm, "
              f"|beta| {np.linalg.norm(seqs[-1]['betas']):.2f}")
    arrays = {"names": np.array(names), "fps": np.array(FPS, dtype=np.float32)}
    for key in ("betas", "global_orient", "body_pose", "transl", "ik_error"):
        arrays[key] = np.stack([s[key] for s in seqs]).astype(np.float32)
    bpp.write_npz(args.out, arrays)
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
