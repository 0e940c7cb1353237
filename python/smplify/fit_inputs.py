"""``smplify fit INPUT ...`` for photos, videos, folders and multi-person keypoint files.

Each INPUT is opened by ``smplify.sources.open_source`` and run through
``smplify.pipeline.run``; a progress bar (tqdm, on stderr) runs over the frames of videos and
folders, and each INPUT ends with one summary line. A bad INPUT prints one line naming it and
the others still run. Exit status: 0 all done, 2 some INPUT was bad, 1 something is not
installed (an extra: the detector for pictures, the renderer for overlays).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from .errors import SmplifyError

__all__ = ["fit_inputs", "EXIT_OK", "EXIT_BAD_INPUT", "EXIT_UNAVAILABLE"]

EXIT_OK, EXIT_UNAVAILABLE, EXIT_BAD_INPUT = 0, 1, 2
_BAD_INPUT = (SmplifyError, ValueError, TypeError, FileNotFoundError, OSError)


def _progress(source: Any, enabled: bool, max_frames: int | None) -> Any:
    if not (enabled and source.is_sequence):
        return None
    from functools import partial

    from tqdm import tqdm

    total = source.num_frames
    if max_frames is not None and total is not None:
        total = min(total, max_frames)
    return partial(tqdm, total=total, desc=source.path.name, unit="frame", leave=False,
                   dynamic_ncols=True)


def _targets(inputs: Sequence[str | Path], out_dir: Path) -> list[Path]:
    """Each input's output folder: ``out_dir`` for one input, else ``out_dir/<stem>``, with
    ``-2``, ``-3``, ... after a stem already taken (a/clip.mp4 and b/clip.mp4 wrote into one
    folder, the second's files over the first's)."""
    if len(inputs) == 1:
        return [out_dir]
    taken: set[str] = set()
    targets = []
    for item in inputs:
        stem, name, k = Path(item).stem, Path(item).stem, 1
        while name in taken:
            k += 1
            name = f"{stem}-{k}"
        taken.add(name)
        targets.append(out_dir / name)
    return targets


def fit_inputs(inputs: Sequence[str | Path], out_dir: str | Path, *, model: Any,
               format: str | None = None, image_size: Sequence[int] | None = None,
               focal_length: float | str | None = None, mesh_suffix: str = ".obj",
               render: bool = True, max_frames: int | None = None, progress: bool = True,
               stdout: TextIO | None = None, stderr: TextIO | None = None,
               overlap: bool = False, motion: Sequence[str] = (), motion_fit: str = "online",
               **options: Any) -> int:
    """Fit every person of every INPUT and write the results (see ``smplify.pipeline``).

    Parameters
    ----------
    inputs : sequence of str or Path
        Photos, videos, folders, OpenPose/COCO/smplify JSON or .npz files.
    out_dir : str or Path
        Output folder; with several inputs each gets ``out_dir/<input stem>/`` (``<stem>-2``,
        ``-3``, ... for a stem already taken).
    model : BodyModel
        The loaded body model.
    format : str, optional
        Keypoint format of files that do not say it.
    image_size : (width, height), optional
        For keypoint files that do not say it.
    focal_length : float, "estimate" or None, optional
        Pixels; None: the image diagonal; "estimate": from the keypoints (smplify.fit).
    mesh_suffix : str
        ".obj", ".ply" or ".glb".
    render : bool
        Write overlays (and side views, overlay videos).
    max_frames : int, optional
        Stop each input after this many frames.
    progress : bool
        Show a progress bar on videos and folders.
    overlap : bool
        Draw and write each frame on a second thread while the next one is detected and
        fitted (``smplify.pipeline.run``'s ``overlap``); False: one after the other.
    motion : sequence of str
        Videos and folders: each track's motion files, "glb", "bvh", "npz"
        (``<input>_track<k>_motion.*``; ``smplify.track_motion``); () (default): none.
    motion_fit : str
        "online" (the track's own frames, default) or "sequence" (``smplify.fit_sequence``
        over each track's keypoints).
    stdout, stderr : text streams, optional
        Where the summary lines and the errors go (default: sys.stdout, sys.stderr).
    **options
        Fit options, as for ``smplify.fit``.

    Returns
    -------
    int
        The exit status.
    """
    from ._gl import RenderUnavailable
    from .detection import DetectorUnavailable
    from .pipeline import run
    from .sources import open_source

    stdout, stderr = stdout or sys.stdout, stderr or sys.stderr
    status = EXIT_OK
    for item, target in zip(inputs, _targets(inputs, Path(out_dir)), strict=True):
        path = Path(item)
        start = time.perf_counter()
        try:
            source = open_source(path, format=format, image_size=image_size)
            summary = run(source, target, model=model, focal_length=focal_length,
                          render=render, mesh_suffix=mesh_suffix, max_frames=max_frames,
                          progress=_progress(source, progress, max_frames), overlap=overlap,
                          motion=motion, motion_fit=motion_fit, **options)
        except (DetectorUnavailable, RenderUnavailable) as err:
            hint = " (or --no-render)" if isinstance(err, RenderUnavailable) else ""
            print(f"smplify fit: {path}: {err}{hint}", file=stderr)
            return EXIT_UNAVAILABLE
        except _BAD_INPUT as err:
            message = str(err) if str(path) in str(err) else f"{path}: {err}"
            print(f"smplify fit: error: {message}", file=stderr)
            status = EXIT_BAD_INPUT
            continue
        frames = f"{summary.frames} frame{'s' if summary.frames != 1 else ''}"
        skipped = f", {len(summary.skipped)} skipped" if summary.skipped else ""
        bodies = f"{summary.fits} {'body' if summary.fits == 1 else 'bodies'}"
        people = f"{summary.tracks} {'person' if summary.tracks == 1 else 'people'}"
        print(f"{path}: {source.kind}, {frames}, {bodies} of {people}{skipped}, "
              f"{time.perf_counter() - start:.1f} s -> {target}/ ({len(summary.files)} files)",
              file=stdout)
        for line in summary.skipped[:3]:
            print(f"  skipped {line}", file=stdout)
        if motion and not source.is_sequence:
            print("  no motion files: one frame is no motion (--motion is for videos and "
                  "folders)", file=stdout)
    return status
