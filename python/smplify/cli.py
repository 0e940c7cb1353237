"""The ``smplify`` command: fit keypoints, pose the model, show what is installed.

::

    smplify fit INPUT [INPUT ...] [--format coco17] [--image-size W H] [--focal F]
                [--model open|PATH] [--gender neutral] [--out DIR] [--no-render]
                [--max-frames N] [--mesh-format obj|ply|glb] [--render [IMAGE]] [--overlap]
                [--motion glb bvh npz] [--motion-fit online|sequence]
    smplify pose --out body.obj [--betas B ...] [--body-pose ...] [--params FIT.npz]
    smplify info [--model open|PATH]
    smplify dataset INPUT [INPUT ...] --out DIR [--engine local|dask] [--scheduler ADDR]
                    [--chunk N] [--workers N] [--force]   (smplify.dataset.command)

INPUT: a photo, a video, a folder (of photos or of OpenPose JSON files), an OpenPose or COCO
keypoint JSON, or an ``.npz``: every person is fitted (tracked across the frames of videos and
folders) by ``smplify.fit_inputs`` (see ``smplify.pipeline`` for what it writes). A keypoint
file of one person gets the detailed single fit below. With ``--motion``, each person of a
video or folder also gets motion files at the video's frame rate:
``<input>_track<k>_motion.glb`` (animated, skinned glTF: Blender, three.js), ``.bvh`` (the
SMPL skeleton) and ``.npz`` (smplx parameters), from the online fits (``--motion-fit
online``, as drawn on the overlay) or from ``smplify.fit_sequence`` over the person's
keypoints (``--motion-fit sequence``: smoother, one shape; slower); ``smplify.track_motion``.

Keypoint files of one person: smplify's own JSON layout (``{"image_size": [w, h],
"format": "coco17", "keypoints": [[x, y, confidence], ...]}``, pixels; see ``examples/``) or
an OpenPose ``--write_json`` file of one person, or ``--person N`` (format ``openpose25``;
give ``--image-size``).

``fit`` writes, into ``--out``: ``<name>.obj`` (the fitted mesh, camera frame, metres),
``<name>_params.npz`` and ``<name>_params.json`` (smplx SMPL parameters, camera, energies; see
``smplify.export``) and, with ``--render``, ``<name>_fit.png`` (the mesh over the image, or over
a blank canvas, with the detected keypoints in red and the model's in green). It prints the
energies, the chosen orientation and the time.

Errors in the input (missing files, wrong shapes, unknown formats) print one line and exit with
status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__
from .errors import KeypointError, SmplifyError, Unavailable
from .export import MESH_SUFFIXES, load_params, save_mesh
from .installed import fit_function, load_model_or_explain
from .keypoints import format_names, validate_keypoints
from .keypoints.readers import KeypointFile, parse_image_size, read_keypoint_file
from .model_io import DATA_DIR
from .options import FitOptions
from .outputs import FitFiles, print_fit_report, write_fit_outputs
from .pictures import load_photo, render_fit
from .track_motion import MOTION_FITS, MOTION_FORMATS

# The helpers this module shared with the demo live in the library (installed, outputs,
# pictures, keypoints.readers); they stay importable from here.

__all__ = ["FitFiles", "KeypointFile", "fit_function", "load_model_or_explain", "load_photo",
           "main", "print_fit_report", "read_keypoint_file", "render_fit", "write_fit_outputs"]

USER_ERRORS = (SmplifyError, ValueError, TypeError, FileNotFoundError, OSError)
EXIT_USER_ERROR = 2
EXIT_UNAVAILABLE = 1


class UserError(SmplifyError, ValueError):
    """A problem with the command line, reported without a traceback."""


# --- subcommands -----------------------------------------------------------------------------
def _mesh_suffix(path: Path, arg: str) -> str:
    suffix = path.suffix.lower()
    if suffix not in MESH_SUFFIXES:
        raise UserError(f"{arg}: expected a file ending in {', '.join(MESH_SUFFIXES)}, got "
                        f"{str(path)!r}")
    return suffix


def _one_person_file(path: Path, person: int | None) -> bool:
    """A JSON file of one person's keypoints: smplify's layout, or OpenPose's with one person
    (or ``--person`` chosen). These get the single-fit report; everything else goes through
    ``smplify.fit_inputs`` (photos, videos, folders, several people, COCO, .npz)."""
    if path.suffix.lower() != ".json" or not path.is_file():
        return False
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError, OSError):
        return True  # read_keypoint_file reports it
    if isinstance(doc, Mapping) and "keypoints" in doc:
        return True
    people = doc.get("people") if isinstance(doc, Mapping) else None
    return isinstance(people, list) and (person is not None or len(people) == 1)


def _cmd_fit_inputs(args: argparse.Namespace) -> int:
    from .fit_inputs import fit_inputs

    if args.motion_fit is not None and not args.motion:
        raise UserError("--motion-fit chooses where --motion's files come from; give --motion "
                        "(glb, bvh, npz)")
    if args.reference or args.render is not None or args.name is not None:
        raise UserError("--reference, --render and --name apply to one keypoint file of one "
                        "person; photos, videos, folders and multi-person files are drawn "
                        "unless --no-render")
    args.focal = parse_focal(args.focal)
    if args.max_frames is not None and args.max_frames < 1:
        raise UserError(f"--max-frames must be a positive integer, got {args.max_frames}")
    image_size = parse_image_size(args.image_size, "--image-size") if args.image_size else None
    model = load_model_or_explain(args.model, gender=args.gender, num_betas=args.num_betas)
    return fit_inputs(args.inputs, args.out, model=model, format=args.format,
                      image_size=image_size, focal_length=args.focal,
                      mesh_suffix=f".{args.mesh_format}", render=not args.no_render,
                      max_frames=args.max_frames, overlap=args.overlap,
                      motion=args.motion or (), motion_fit=args.motion_fit or "online",
                      **_fit_options(args))


def parse_focal(value: str | None) -> float | str | None:
    """--focal: pixels > 0, "estimate" or None."""
    if value is None or value == "estimate":
        return value
    try:
        focal = float(value)
    except ValueError:
        focal = float("nan")
    if not (np.isfinite(focal) and focal > 0):
        raise UserError(f"--focal must be a positive number of pixels or 'estimate', "
                        f"got {value}")
    return focal


def _fit_options(args: argparse.Namespace) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if args.flip is not None:
        options["flip"] = {"auto": "auto", "always": True, "never": False}[args.flip]
    if args.threads is not None:
        options["threads"] = args.threads
    if args.max_iterations is not None:
        options["max_iterations"] = args.max_iterations
    return options


def _cmd_fit(args: argparse.Namespace) -> int:
    if len(args.inputs) != 1 or not _one_person_file(Path(args.inputs[0]), args.person):
        return _cmd_fit_inputs(args)
    args.keypoints = args.inputs[0]
    kp = read_keypoint_file(args.keypoints, person=args.person or 0)
    fmt = args.format or kp.format
    if fmt is None:
        raise UserError(f"{args.keypoints}: the file does not name its keypoint format; give "
                        f"--format ({', '.join(format_names())})")
    if args.format and kp.format and args.format != kp.format:
        raise UserError(f"--format {args.format} contradicts the file, which says "
                        f"{kp.format!r}")
    image_size = (parse_image_size(args.image_size, "--image-size") if args.image_size
                  else kp.image_size)
    if image_size is None:
        raise UserError(f"{args.keypoints}: the file does not give the image size; pass "
                        "--image-size W H")
    args.focal = parse_focal(args.focal)
    try:  # shape and values, before anything is loaded; the message names the file
        _, confidence = validate_keypoints(kp.keypoints, fmt)
        if not np.any(confidence > 0):
            raise KeypointError("keypoints: every confidence is zero or NaN; nothing to fit")
    except KeypointError as err:
        raise UserError(f"{args.keypoints}: {err}") from None
    photo = None
    if args.render:
        photo = load_photo(Path(args.render), image_size)
    fit = fit_function(reference=args.reference)
    model = load_model_or_explain(args.model, gender=args.gender, num_betas=args.num_betas)
    options = _fit_options(args)
    start = time.perf_counter()
    result = fit(kp.keypoints, format=fmt, image_size=image_size, focal_length=args.focal,
                 model=model, **options)
    seconds = time.perf_counter() - start
    name = args.name or Path(args.keypoints).stem
    files = write_fit_outputs(result, args.out, name, model=model,
                              mesh_suffix=f".{args.mesh_format}",
                              keypoints=kp.keypoints, image_size=image_size, photo=photo,
                              render=args.render is not None)
    print(f"fitted {fmt} keypoints of {args.keypoints} ({image_size[0]} x {image_size[1]} px) "
          f"with model {model.name} ({model.gender})")
    print_fit_report(result, seconds)
    for path in files:
        print(f"wrote {path}")
    return 0


def _values(values: Sequence[float] | None, name: str, size: int | None = None
            ) -> np.ndarray | None:
    if values is None:
        return None
    array = np.asarray(values, dtype=np.float64)
    if size is not None and array.shape != (size,):
        raise UserError(f"{name}: expected {size} numbers, got {len(array)}")
    if not np.all(np.isfinite(array)):
        raise UserError(f"{name}: values must be finite")
    return array


def _cmd_pose(args: argparse.Namespace) -> int:
    out = Path(args.out)
    _mesh_suffix(out, "--out")
    model = load_model_or_explain(args.model, gender=args.gender, num_betas=args.num_betas)
    params: dict[str, np.ndarray | None] = {
        "betas": None, "body_pose": None, "global_orient": None, "transl": None}
    if args.params:
        saved = load_params(args.params)
        for key in params:
            params[key] = saved[key][0].astype(np.float64)
    betas = _values(args.betas, "--betas")
    if betas is not None:
        if len(betas) > model.num_betas:
            raise UserError(f"--betas: the model has {model.num_betas} shape coefficients, got "
                            f"{len(betas)} (use --num-betas)")
        params["betas"] = np.concatenate([betas, np.zeros(model.num_betas - len(betas))])
    elif params["betas"] is not None and len(params["betas"]) != model.num_betas:
        saved_betas = params["betas"]
        n = min(len(saved_betas), model.num_betas)
        params["betas"] = np.concatenate([saved_betas[:n], np.zeros(model.num_betas - n)])
    for key, size in (("body_pose", 69), ("global_orient", 3), ("transl", 3)):
        value = _values(getattr(args, key), f"--{key.replace('_', '-')}", size)
        if value is not None:
            params[key] = value
    posed = model(**params)
    save_mesh(out, posed.vertices, model.faces)
    v = posed.vertices
    extent = v.max(axis=0) - v.min(axis=0)
    print(f"model {model.name} ({model.gender}): {model.num_vertices} vertices, "
          f"{len(model.faces)} faces, {model.num_betas} betas")
    print(f"bounding box {extent[0]:.3f} x {extent[1]:.3f} x {extent[2]:.3f} m")
    print(f"wrote {out}")
    return 0


def _cmd_info(args: argparse.Namespace) -> int:
    import platform

    import scipy
    import trimesh

    from . import _core, core_variant

    print(f"smplify {__version__}")
    print(f"  C++ core: {getattr(_core, '__version__', 'unknown version')}, "
          f"{core_variant()} build ({_core.__file__})")
    print(f"  python {platform.python_version()}, numpy {np.__version__}, "
          f"scipy {scipy.__version__}, trimesh {trimesh.__version__}")
    print(f"  keypoint formats: {', '.join(format_names())}")
    data_files = sorted(p.name for p in DATA_DIR.glob("*.npz")) if DATA_DIR.is_dir() else []
    print(f"  data ({DATA_DIR}): {', '.join(data_files) if data_files else 'none'}")
    print(f"  extras: {_extras()}")
    try:
        model = load_model_or_explain(args.model, gender=args.gender, num_betas=args.num_betas)
    except Unavailable as err:
        if args.model_given:
            raise
        print(f"model: {err}")
        return 0
    rest = model()
    height = float(np.ptp(rest.vertices[:, 1]))
    print(f"model: {model.name} ({model.gender})")
    print(f"  {model.num_vertices} vertices, {len(model.faces)} faces, {model.num_betas} betas, "
          f"pose blend shapes: {'yes' if model.has_pose_blend_shapes else 'no'}")
    print(f"  rest-pose height {height:.3f} m")
    if model.keypoint_names:
        print(f"  surface keypoints: {', '.join(model.keypoint_names)}")
    return 0


def _extras() -> str:
    """What of the extras is installed (versions from the packages' metadata, nothing
    imported), and how ``smplify fit VIDEO`` will write its overlay video."""
    from importlib import metadata

    from .overlay_video import h264_ffmpeg

    def version(name: str) -> str:
        try:
            return f"{name} {metadata.version(name)}"
        except metadata.PackageNotFoundError:
            return f"{name} not installed"

    video = "H.264" if h264_ffmpeg() else "mp4v (no imageio-ffmpeg with libx264)"
    return (f"detect ({version('mediapipe')}), render ({version('moderngl')}, "
            f"{version('imageio-ffmpeg')}: overlay videos {video}), dask ({version('dask')})")


# --- argument parsing ------------------------------------------------------------------------
def _add_model_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default=None,
                        help="'open' (the shipped model, default) or an SMPL .pkl/.npz file")
    parser.add_argument("--gender", default="neutral", choices=("neutral", "male", "female"))
    parser.add_argument("--num-betas", type=int, default=10, help="shape coefficients")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``smplify`` command."""
    parser = argparse.ArgumentParser(
        prog="smplify", description="SMPLify: fit the SMPL body model to 2D keypoints.")
    parser.add_argument("--version", action="version", version=f"smplify {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    fit = sub.add_parser("fit", help="fit every person of photos, videos or keypoint files",
                         description="Fit the body model to every person of each INPUT and "
                                     "write meshes, parameters and overlays. INPUT: a photo, "
                                     "a video, a folder (photos or OpenPose JSON), an OpenPose "
                                     "or COCO keypoint JSON, an .npz, or a smplify keypoint "
                                     "JSON (one person: the detailed single-fit report).")
    fit.add_argument("inputs", nargs="+", metavar="INPUT",
                     help="photo, video, folder, keypoint .json (OpenPose, COCO, smplify) "
                          "or .npz")
    fit.add_argument("--format", choices=format_names(), default=None,
                     help="keypoint format (default: what the file says)")
    fit.add_argument("--image-size", nargs=2, type=float, metavar=("W", "H"), default=None,
                     help="image width and height in pixels (default: what the file says)")
    fit.add_argument("--focal", "--focal-length", dest="focal", default=None,
                     metavar="F|estimate",
                     help="focal length in pixels, or 'estimate' (searched from the keypoints; "
                          "default: a track file's own, else the image diagonal)")
    _add_model_args(fit)
    fit.add_argument("--out", default="smplify_output",
                     help="output folder (default: smplify_output)")
    fit.add_argument("--name", default=None, help="output file stem (default: the input's)")
    fit.add_argument("--mesh-format", default="obj", choices=[s[1:] for s in MESH_SUFFIXES],
                     help="mesh file format (default obj)")
    fit.add_argument("--render", nargs="?", const="", default=None, metavar="IMAGE",
                     help="write <name>_fit.png: the fit over IMAGE, or a blank canvas")
    fit.add_argument("--person", type=int, default=None,
                     help="fit only this person of an OpenPose file (index)")
    fit.add_argument("--no-render", action="store_true",
                     help="photos, videos, folders: write no overlays (no render extra needed)")
    fit.add_argument("--max-frames", type=int, default=None,
                     help="videos and folders: stop after this many frames")
    fit.add_argument("--overlap", action="store_true",
                     help="videos and folders: draw and write each frame on a second thread "
                          "while the next is detected and fitted (same outputs)")
    fit.add_argument("--motion", nargs="+", choices=MOTION_FORMATS, default=None,
                     metavar="FORMAT",
                     help="videos and folders: also write each person's motion at the video's "
                          "frame rate: <input>_track<k>_motion.glb (animated skinned glTF), "
                          ".bvh (SMPL skeleton), .npz (smplx parameters); FORMAT: glb, bvh, npz")
    fit.add_argument("--motion-fit", choices=MOTION_FITS, default=None,
                     help="where --motion comes from: online (default: each frame's fit, as "
                          "drawn) or sequence (smplify.fit_sequence over the person's "
                          "keypoints: one shape, smoother; slower)")
    fit.add_argument("--flip", choices=("auto", "always", "never"), default=None,
                     help="also try the body turned 180° (default: auto, when sideways)")
    fit.add_argument("--threads", type=int, default=None,
                     help="solver threads for one fit (default: one per core, at most one per "
                          "start)")
    fit.add_argument("--max-iterations", type=int, default=None,
                     help=f"per solver stage (default: {FitOptions().max_iterations})")
    fit.add_argument("--reference", action="store_true",
                     help="fit with smplify.reference.fit (pure NumPy/SciPy, minutes)")
    fit.set_defaults(run=_cmd_fit)

    pose = sub.add_parser("pose", help="pose the model and write its mesh",
                          description="Pose the body model and write the mesh (.obj/.ply/.glb)."
                                      " Unset parameters are zero (T-pose, mean shape).")
    pose.add_argument("--out", required=True, help="mesh file: .obj, .ply or .glb")
    _add_model_args(pose)
    pose.add_argument("--params", default=None,
                      help="start from a parameter file written by 'smplify fit'")
    pose.add_argument("--betas", nargs="+", type=float, default=None,
                      help="shape coefficients (missing trailing ones are 0)")
    pose.add_argument("--body-pose", nargs="+", type=float, default=None,
                      help="69 axis-angle values of joints 1..23, radians")
    pose.add_argument("--global-orient", nargs=3, type=float, default=None,
                      help="axis-angle of the root, radians")
    pose.add_argument("--transl", nargs=3, type=float, default=None, help="metres")
    pose.set_defaults(run=_cmd_pose)

    from .dataset.command import add_parser as add_dataset_parser

    add_dataset_parser(sub, _add_model_args)

    info = sub.add_parser("info", help="versions, data files and the model")
    _add_model_args(info)
    info.set_defaults(run=_cmd_info)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``smplify`` command; returns the exit status (0 ok, 2 bad input)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse has printed its message
        return int(exit_.code) if isinstance(exit_.code, int) else EXIT_USER_ERROR
    args.model_given = args.model is not None
    if args.model is None:
        args.model = "open"
    try:
        return int(args.run(args))
    except Unavailable as err:
        print(f"smplify {args.command}: {err}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    except USER_ERRORS as err:
        print(f"smplify {args.command}: error: {err}", file=sys.stderr)
        return EXIT_USER_ERROR


if __name__ == "__main__":
    sys.exit(main())
