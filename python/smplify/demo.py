"""The demo (``make demo``): a real photo in, the people's bodies out.

::

    python -m smplify.demo --output demo_output

Finds the football player in OpenCV's sample photo ``messi5.jpg`` (Debian's ``opencv-doc``,
``/usr/share/doc/opencv-doc/examples/data/messi5.jpg``; ``make demo`` installs it) with
``smplify.detect`` (MediaPipe Pose, the ``detect`` extra), fits the body model to every person
found and writes, into ``--output`` (``smplify.pipeline``):

- ``messi5_p0.obj``: the fitted mesh in the camera frame (metres);
- ``messi5_p0_params.npz``, ``messi5_p0_params.json``: SMPL parameters in smplx's layout, the
  camera, the energies and the person's track id (``smplify.export``);
- ``messi5_overlay.png``: the shaded, semi-transparent mesh over the photo through the fitted
  camera, detected keypoints red, the model's green (``smplify.render``, the ``render`` extra);
- ``messi5_p0_side.png``: the body seen from its side, to judge the depth of the pose;

and prints the per-term energies, the chosen orientation and the time.

Without the photo or the detector it fits the shipped keypoints of the same photo instead
(``smplify/data/examples/messi5_mediapipe33.json``, see ``examples/README.md``), as does
``--keypoints FILE``: then it writes ``messi5.obj``, ``messi5_params.*``, ``messi5_fit.png``
(over the photo if there, else a blank canvas) and ``messi5_side.png``. ``--reference`` fits
the keypoints with the pure NumPy/SciPy ``smplify.reference.fit`` (minutes instead of a few
seconds). ``--pose-only`` poses the model instead of fitting it and writes ``body.obj`` with
front and side pictures (``body.png``).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .cli import USER_ERRORS
from .errors import Unavailable
from .export import save_mesh
from .installed import fit_function, load_model_or_explain
from .keypoints.readers import read_keypoint_file
from .outputs import print_fit_report, write_fit_outputs
from .pictures import load_photo

EXAMPLE_KEYPOINTS = Path(__file__).resolve().parent / "data" / "examples" / \
    "messi5_mediapipe33.json"
EXAMPLE_PHOTO = Path("/usr/share/doc/opencv-doc/examples/data/messi5.jpg")
# Camera frame (y down, z forward) → a y-up frame: a half turn about x.
_Y_UP = np.diag([1.0, -1.0, -1.0])


def demo_pose(num_body_joints: int = 23) -> np.ndarray:
    """(69,) body pose of a relaxed standing person: arms down, hips and knees a little bent."""
    pose = np.zeros((num_body_joints, 3))
    joint = {"left_hip": 1, "right_hip": 2, "left_knee": 4, "right_knee": 5,
             "left_shoulder": 16, "right_shoulder": 17, "left_elbow": 18, "right_elbow": 19}
    # body_pose row j − 1 belongs to joint j; SMPL frame: y up, +x the body's left, faces +z
    pose[joint["left_shoulder"] - 1] = (0.0, 0.0, -1.2)  # left arm (+x) turned down
    pose[joint["right_shoulder"] - 1] = (0.0, 0.0, 1.2)
    pose[joint["left_elbow"] - 1] = (0.0, -0.3, 0.0)  # forearms a little forward
    pose[joint["right_elbow"] - 1] = (0.0, 0.3, 0.0)
    pose[joint["left_hip"] - 1] = (-0.25, 0.0, 0.05)  # thighs forward
    pose[joint["right_hip"] - 1] = (-0.25, 0.0, -0.05)
    pose[joint["left_knee"] - 1] = (0.35, 0.0, 0.0)  # shins back
    pose[joint["right_knee"] - 1] = (0.35, 0.0, 0.0)
    return pose.reshape(-1)


def _views(vertices: np.ndarray, faces: np.ndarray, views: Sequence[str] = ("front", "left"),
           size: int = 512) -> np.ndarray:
    """Orthographic views of a y-up mesh side by side, (size, len(views)·size, 3) uint8."""
    from .render import render_mesh

    return np.concatenate([render_mesh(vertices, faces, view=view, image_size=(size, size))
                           for view in views], axis=1)


def run_pose_only(model, out_dir: Path) -> int:
    """The interim demo: pose the model, write ``body.obj`` and ``body.png``."""
    from .render import save_png

    start = time.perf_counter()
    posed = model(body_pose=demo_pose())
    mesh = save_mesh(out_dir / "body.obj", posed.vertices, model.faces)
    picture = out_dir / "body.png"
    save_png(picture, _views(posed.vertices, model.faces))
    print(f"posed model {model.name} ({model.gender}): {model.num_vertices} vertices, "
          f"{len(model.faces)} faces")
    print(f"time: {time.perf_counter() - start:.3f} s")
    print(f"wrote {mesh}")
    print(f"wrote {picture}")
    return 0


def run_fit(model, out_dir: Path, keypoints_path: Path, image_path: Path,
            reference: bool = False) -> int:
    """The demo proper: fit the keypoints, write mesh, parameters and pictures, report."""
    from .render import save_png

    fit = fit_function(reference=reference)
    kp = read_keypoint_file(keypoints_path)
    if kp.format is None or kp.image_size is None:
        raise ValueError(f"{keypoints_path}: the demo needs 'format' and 'image_size' in the "
                         "file")
    photo = None
    if image_path.is_file():
        photo = load_photo(image_path, kp.image_size)
        print(f"photo: {image_path}")
    else:
        print(f"photo: {image_path} not found (apt-get install opencv-doc); drawing on a "
              "blank canvas")
    print(f"fitting {len(kp.keypoints)} {kp.format} keypoints from {keypoints_path.name} "
          f"({kp.image_size[0]} x {kp.image_size[1]} px) with model {model.name} "
          f"({model.gender})")
    start = time.perf_counter()
    result = fit(kp.keypoints, format=kp.format, image_size=kp.image_size, model=model)
    seconds = time.perf_counter() - start
    name = keypoints_path.stem.split("_")[0] or "fit"
    files = write_fit_outputs(result, out_dir, name, model=model, keypoints=kp.keypoints,
                              image_size=kp.image_size, photo=photo, render=True)
    side = out_dir / f"{name}_side.png"
    save_png(side, _views(result.vertices @ _Y_UP.T, result.faces, views=("left",)))
    print_fit_report(result, seconds)
    for path in [*files, side]:
        print(f"wrote {path}")
    return 0


def run_photo(model, out_dir: Path, image_path: Path) -> int:
    """The demo proper: detect the people of the photo, fit each, write and report."""
    from .pipeline import run
    from .sources import open_source

    source = open_source(image_path)
    print(f"photo: {image_path} ({source.image_size[0]} x {source.image_size[1]} px); "
          f"detecting people (MediaPipe Pose) and fitting model {model.name} ({model.gender})")
    start = time.perf_counter()
    summary = run(source, out_dir, model=model)
    seconds = time.perf_counter() - start
    print(f"found and fitted {summary.fits} {'person' if summary.fits == 1 else 'people'} "
          f"(detect {summary.seconds['detect']:.2f} s, fit {summary.seconds['fit']:.2f} s, "
          f"render {summary.seconds['render']:.2f} s)")
    for track, _, result in summary.last:
        print(f"person {track}:")
        print_fit_report(result, seconds)
    for path in summary.files:
        print(f"wrote {path}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo; returns the exit status (0 ok, 1 something not installed, 2 bad input)."""
    parser = argparse.ArgumentParser(prog="python -m smplify.demo",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", default="demo_output", help="output folder")
    parser.add_argument("--model", default="open", help="'open' or an SMPL .pkl/.npz file")
    parser.add_argument("--gender", default="neutral", choices=("neutral", "male", "female"))
    parser.add_argument("--keypoints", type=Path, default=None,
                        help="fit this keypoint JSON (smplify's layout) instead of detecting "
                             "people in the photo (default without the photo or the detector: "
                             "the shipped messi5 keypoints)")
    parser.add_argument("--image", type=Path, default=EXAMPLE_PHOTO,
                        help="photo to draw the fit on (default: OpenCV's messi5.jpg)")
    parser.add_argument("--pose-only", action="store_true",
                        help="pose the model and write it instead of fitting")
    parser.add_argument("--reference", action="store_true",
                        help="fit with smplify.reference.fit (pure NumPy/SciPy, minutes)")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code) if isinstance(exit_.code, int) else 2
    out_dir = Path(args.output)
    try:
        model = load_model_or_explain(args.model, gender=args.gender)
        out_dir.mkdir(parents=True, exist_ok=True)
        if args.pose_only:
            return run_pose_only(model, out_dir)
        if args.keypoints is None and not args.reference and args.image.is_file():
            from .detection import DetectorUnavailable

            try:
                return run_photo(model, out_dir, args.image)
            except DetectorUnavailable as err:
                print(f"demo: {err}; fitting the shipped keypoints of the photo instead")
        return run_fit(model, out_dir, args.keypoints or EXAMPLE_KEYPOINTS, args.image,
                       reference=args.reference)
    except Unavailable as err:
        print(f"demo: {err}", file=sys.stderr)
        return 1
    except USER_ERRORS as err:
        print(f"demo: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
