"""The ``smplify`` command: fit keypoints, pose the model, show what is installed.

::

    smplify fit KEYPOINTS.json [--format coco17] [--image-size W H] [--focal F]
                [--model open|PATH] [--gender neutral] [--out DIR] [--render [IMAGE]]
    smplify pose --out body.obj [--betas B ...] [--body-pose ...] [--params FIT.npz]
    smplify info [--model open|PATH]

Keypoint files: smplify's own JSON layout (``{"image_size": [w, h], "format": "coco17",
"keypoints": [[x, y, confidence], ...]}``, pixels; see ``examples/``) or an OpenPose
``--write_json`` file (format ``openpose25``; give ``--image-size``).

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
from .errors import SmplifyError
from .export import MESH_SUFFIXES, load_params, save_mesh, save_params
from .keypoint_formats import format_names, keypoints_from_openpose_json, validate_keypoints
from .model import BodyModel, load_model
from .model_io import DATA_DIR

__all__ = ["FitFiles", "KeypointFile", "fit_function", "load_model_or_explain", "load_photo",
           "main", "print_fit_report", "read_keypoint_file", "render_fit", "write_fit_outputs"]

USER_ERRORS = (SmplifyError, ValueError, TypeError, FileNotFoundError, OSError)
EXIT_USER_ERROR = 2
EXIT_UNAVAILABLE = 1


class UserError(SmplifyError, ValueError):
    """A problem with the command line or its files, reported without a traceback."""


class Unavailable(SmplifyError, RuntimeError):
    """Something this installation lacks (the open model file, ``smplify.fit``)."""


# --- reading keypoints -----------------------------------------------------------------------
class KeypointFile:
    """Keypoints read from a file, with what the file says about them.

    Attributes
    ----------
    keypoints : (K, 3) float64
        x, y in pixels, confidence.
    format : str or None
        Keypoint format named by the file (``openpose25`` for OpenPose files).
    image_size : (width, height) or None
        Image size in pixels named by the file.
    """

    def __init__(self, keypoints: np.ndarray, format: str | None,
                 image_size: tuple[int, int] | None):
        self.keypoints = keypoints
        self.format = format
        self.image_size = image_size


def _image_size(value: Any, where: str) -> tuple[int, int]:
    try:
        size = np.asarray(value, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        size = np.zeros(0)
    if size.shape != (2,) or not np.all(np.isfinite(size)) or np.any(size <= 0) or \
            np.any(size != np.round(size)):
        raise UserError(f"{where}: image size must be two positive integers (width height), "
                        f"got {value!r}")
    return int(size[0]), int(size[1])


def read_keypoint_file(path: str | Path, person: int = 0) -> KeypointFile:
    """Read a keypoint JSON file: smplify's layout or OpenPose's.

    Parameters
    ----------
    path : str or Path
        JSON file: ``{"keypoints": [[x, y, c], ...], "format": ..., "image_size": [w, h]}``
        (``format`` and ``image_size`` optional), or OpenPose's ``{"people": [...]}``.
    person : int
        Which person of an OpenPose file.

    Returns
    -------
    KeypointFile
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"keypoint file not found: {path}")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise UserError(f"{path}: not a JSON file ({err})") from None
    if isinstance(doc, Mapping) and "people" in doc:
        return KeypointFile(keypoints_from_openpose_json(doc, person=person), "openpose25", None)
    if not isinstance(doc, Mapping) or "keypoints" not in doc:
        raise UserError(f"{path}: expected an object with 'keypoints' (smplify layout) or "
                        "'people' (OpenPose)")
    try:
        keypoints = np.asarray(doc["keypoints"], dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise UserError(f"{path}: 'keypoints' must be a list of [x, y, confidence] rows "
                        f"({err})") from None
    if keypoints.ndim != 2 or keypoints.shape[1] not in (2, 3):
        raise UserError(f"{path}: 'keypoints' must be (K, 3) or (K, 2) rows, got shape "
                        f"{keypoints.shape}")
    fmt = doc.get("format")
    if fmt is not None and not isinstance(fmt, str):
        raise UserError(f"{path}: 'format' must be a string, got {fmt!r}")
    size = doc.get("image_size")
    return KeypointFile(keypoints, fmt,
                        None if size is None else _image_size(size, f"{path}: image_size"))


# --- shared by the CLI and the demo ----------------------------------------------------------
def load_model_or_explain(name_or_path: str, gender: str = "neutral",
                          num_betas: int = 10) -> BodyModel:
    """``load_model``, with a clear message when the shipped open model is not installed."""
    if name_or_path == "open":
        path = DATA_DIR / f"open_body_{gender}.npz"
        if not path.is_file():
            raise Unavailable(
                f"the open body model is not installed (no {path}); pass --model with the "
                "path of an SMPL .pkl/.npz file")
    return load_model(name_or_path, gender=gender, num_betas=num_betas)


def fit_function(reference: bool = False) -> Any:
    """``smplify.fit`` (or ``smplify.reference.fit``); Unavailable if it is not installed."""
    if reference:
        from .reference import fit as reference_fit

        return reference_fit
    import smplify

    fit = getattr(smplify, "fit", None)
    if not callable(fit):
        raise Unavailable("this installation of smplify has no smplify.fit (the pure NumPy "
                          "smplify.reference.fit runs with --reference)")
    return fit


class FitFiles:
    """Paths written by :func:`write_fit_outputs` (``picture`` None when not rendered)."""

    def __init__(self, mesh: Path, params_npz: Path, params_json: Path,
                 picture: Path | None):
        self.mesh = mesh
        self.params_npz = params_npz
        self.params_json = params_json
        self.picture = picture

    def __iter__(self):
        return iter(p for p in (self.mesh, self.params_npz, self.params_json, self.picture)
                    if p is not None)


def load_photo(path: Path, image_size: tuple[int, int]) -> np.ndarray:
    from PIL import Image

    if not path.is_file():
        raise FileNotFoundError(f"image not found: {path}")
    with Image.open(path) as img:
        photo = np.asarray(img.convert("RGB"))
    if (photo.shape[1], photo.shape[0]) != tuple(image_size):
        raise UserError(f"{path}: the image is {photo.shape[1]} x {photo.shape[0]} px but the "
                        f"keypoints are for {image_size[0]} x {image_size[1]} px")
    return photo


def render_fit(result: Any, keypoints: np.ndarray, image_size: tuple[int, int],
               photo: np.ndarray | None = None) -> np.ndarray:
    """Picture of a fit: the mesh through the fit's camera over ``photo`` (or white).

    Parameters
    ----------
    result : FitResult
    keypoints : (K, 3) detected keypoints (pixels, confidence), drawn in red.
    image_size : (width, height) in pixels.
    photo : (H, W, 3) uint8, optional background.

    Returns
    -------
    (H, W, 3) uint8; the model's keypoints (``result.keypoints_2d``) are drawn in green.
    """
    from .render import draw_points, render_mesh

    picture = render_mesh(result.vertices, result.faces, camera=result.camera, image=photo,
                          image_size=image_size, keypoints_2d=keypoints)
    model_points = np.asarray(result.keypoints_2d, dtype=np.float64)
    available = np.all(np.isfinite(model_points), axis=1)
    return draw_points(picture, model_points[available], color=(30, 170, 60), radius=2.0)


def write_fit_outputs(result: Any, out_dir: str | Path, name: str, *, model: Any = None,
                      mesh_suffix: str = ".obj", keypoints: np.ndarray | None = None,
                      image_size: tuple[int, int] | None = None,
                      photo: np.ndarray | None = None, render: bool = False) -> FitFiles:
    """Write a fit's mesh, parameters (.npz and .json) and, if ``render``, its picture."""
    out_dir = Path(out_dir)
    mesh = save_mesh(out_dir / f"{name}{mesh_suffix}", result.vertices, result.faces)
    params_npz = save_params(out_dir / f"{name}_params.npz", result, model=model)
    params_json = save_params(out_dir / f"{name}_params.json", result, model=model)
    picture = None
    if render:
        if keypoints is None or image_size is None:
            raise ValueError("keypoints and image_size are needed to render the fit")
        from .render import save_png

        picture = out_dir / f"{name}_fit.png"
        save_png(picture, render_fit(result, keypoints, image_size, photo))
    return FitFiles(mesh, params_npz, params_json, picture)


def print_fit_report(result: Any, seconds: float, out: Any = None) -> None:
    """Print a fit's per-term energies, the chosen orientation and the time."""
    out = out or sys.stdout
    energy = dict(result.energy)
    terms = [k for k in ("data", "pose", "angle", "shape", "interpenetration") if k in energy]
    terms += [k for k in energy if k not in terms and k != "total"]
    print("energies:", file=out)
    for key in [*terms, "total"] if "total" in energy else terms:
        print(f"  {key:<17} {energy[key]:14.4f}", file=out)
    summary = dict(result.summary or {})
    orientation = summary.get("orientation", "unknown")
    detail = []
    if "sideways" in summary:
        detail.append("sideways view" if summary["sideways"] else "not sideways")
    tried = summary.get("tried")
    if isinstance(tried, Mapping) and len(tried) > 1:
        detail.append("data energy " + ", ".join(f"{k} {float(v):.2f}" for k, v in tried.items()))
    go = np.asarray(result.global_orient, dtype=np.float64)
    print(f"orientation: {orientation}" + (f" ({'; '.join(detail)})" if detail else "")
          + f", global_orient ({go[0]:.3f}, {go[1]:.3f}, {go[2]:.3f}) rad", file=out)
    transl = np.asarray(result.transl, dtype=np.float64)
    print(f"translation: ({transl[0]:.3f}, {transl[1]:.3f}, {transl[2]:.3f}) m, "
          f"focal length {float(result.camera.focal_length):.1f} px", file=out)
    fit_seconds = summary.get("seconds")
    timing = f"time: {seconds:.3f} s"
    if fit_seconds is not None:
        timing += f" (fit {float(fit_seconds):.3f} s"
        if summary.get("implementation"):
            timing += f", {summary['implementation']}"
        timing += ")"
    print(timing, file=out)


# --- subcommands -----------------------------------------------------------------------------
def _mesh_suffix(path: Path, arg: str) -> str:
    suffix = path.suffix.lower()
    if suffix not in MESH_SUFFIXES:
        raise UserError(f"{arg}: expected a file ending in {', '.join(MESH_SUFFIXES)}, got "
                        f"{str(path)!r}")
    return suffix


def _cmd_fit(args: argparse.Namespace) -> int:
    kp = read_keypoint_file(args.keypoints, person=args.person)
    fmt = args.format or kp.format
    if fmt is None:
        raise UserError(f"{args.keypoints}: the file does not name its keypoint format; give "
                        f"--format ({', '.join(format_names())})")
    if args.format and kp.format and args.format != kp.format:
        raise UserError(f"--format {args.format} contradicts the file, which says "
                        f"{kp.format!r}")
    image_size = (_image_size(args.image_size, "--image-size") if args.image_size
                  else kp.image_size)
    if image_size is None:
        raise UserError(f"{args.keypoints}: the file does not give the image size; pass "
                        "--image-size W H")
    if args.focal is not None and not (np.isfinite(args.focal) and args.focal > 0):
        raise UserError(f"--focal must be a positive number of pixels, got {args.focal}")
    validate_keypoints(kp.keypoints, fmt)  # shape and values, before anything is loaded
    photo = None
    if args.render:
        photo = load_photo(Path(args.render), image_size)
    fit = fit_function(reference=args.reference)
    model = load_model_or_explain(args.model, gender=args.gender, num_betas=args.num_betas)
    options: dict[str, Any] = {}
    if args.flip is not None:
        options["flip"] = {"auto": "auto", "always": True, "never": False}[args.flip]
    if args.threads is not None:
        options["threads"] = args.threads
    if args.max_iterations is not None:
        options["max_iterations"] = args.max_iterations
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

    from . import _core

    print(f"smplify {__version__}")
    print(f"  C++ core: {getattr(_core, '__version__', 'unknown version')} ({_core.__file__})")
    print(f"  python {platform.python_version()}, numpy {np.__version__}, "
          f"scipy {scipy.__version__}, trimesh {trimesh.__version__}")
    print(f"  keypoint formats: {', '.join(format_names())}")
    data_files = sorted(p.name for p in DATA_DIR.glob("*.npz")) if DATA_DIR.is_dir() else []
    print(f"  data ({DATA_DIR}): {', '.join(data_files) if data_files else 'none'}")
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

    fit = sub.add_parser("fit", help="fit the body model to a keypoint file",
                         description="Fit the body model to 2D keypoints and write the mesh, "
                                     "the parameters and optionally a picture.")
    fit.add_argument("keypoints", help="keypoint JSON (smplify layout or OpenPose)")
    fit.add_argument("--format", choices=format_names(), default=None,
                     help="keypoint format (default: what the file says)")
    fit.add_argument("--image-size", nargs=2, type=float, metavar=("W", "H"), default=None,
                     help="image width and height in pixels (default: what the file says)")
    fit.add_argument("--focal", type=float, default=None,
                     help="focal length in pixels (default 5000 px, SPEC §2)")
    _add_model_args(fit)
    fit.add_argument("--out", default="smplify_output", help="output folder")
    fit.add_argument("--name", default=None, help="output file stem (default: the input's)")
    fit.add_argument("--mesh-format", default="obj", choices=[s[1:] for s in MESH_SUFFIXES],
                     help="mesh file format (default obj)")
    fit.add_argument("--render", nargs="?", const="", default=None, metavar="IMAGE",
                     help="write <name>_fit.png: the fit over IMAGE, or a blank canvas")
    fit.add_argument("--person", type=int, default=0, help="person index in an OpenPose file")
    fit.add_argument("--flip", choices=("auto", "always", "never"), default=None,
                     help="also try the body turned 180° (default: auto, when sideways)")
    fit.add_argument("--threads", type=int, default=None, help="solver threads")
    fit.add_argument("--max-iterations", type=int, default=None, help="per solver stage")
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
