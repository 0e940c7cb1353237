"""A fit's outputs: its mesh, parameters and picture written to a folder, its report printed."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .export import save_mesh, save_params
from .pictures import render_fit


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

