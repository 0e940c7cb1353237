"""The result rows: their Parquet schema, and shards written so a partial one never looks done.

One row per person and frame (a failed fit too, with its status and message):

==========================  ====================================================================
column                      meaning
==========================  ====================================================================
source, frame, frame_name   the input the person came from, the frame's index in it, its name
person, track               index among the frame's people; track id (photos: = person; -1: none)
status, message             :data:`STATUSES`; the error, for the rows that have none of the below
start, termination          "cold"/"warm"/...; the last stage's Ceres termination
iterations, seconds         solver iterations over the stages; wall time of the fit
format                      keypoint format
image_width, image_height   pixels
focal_length, center        pixels; (2,) principal point
betas, global_orient,       (B,), (3,), (69,), (3,): smplx naming, camera frame, metres
body_pose, transl
energy_<term>               data, pose, angle, shape, interpenetration, keypoints_3d, anchor, total
reprojection_px             median 2D error over the person's confident keypoints, pixels
==========================  ====================================================================

Rows of failed fits have NaN parameters, camera and energies.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["STATUSES", "ENERGY_TERMS", "schema", "write_shard", "read_rows", "TIMING_COLUMNS"]

#: What a row's ``status`` says.
STATUSES = {
    "converged": "the last solver stage converged",
    "iteration_limit": "the last stage stopped at max_iterations (the fit is usable)",
    "bad_keypoints": "the keypoints were rejected before solving (e.g. too few torso "
                     "keypoints for a cold start); message says why",
    "bad_input": "the person's settings were rejected (format, image size); message says why",
    "evaluation_failed": "a stage stopped where a term could not be evaluated (NaN); the "
                         "fit is the last point that could (FitResult.summary['status'])",
    "fit_failed": "the solve failed (energy not finite); message says why",
    "error": "anything else went wrong for this person; message has the exception",
    "unreadable": "the unit could not be read (one row, frame and person -1)",
}
ENERGY_TERMS = ("data", "pose", "angle", "shape", "interpenetration", "keypoints_3d", "anchor",
                "total")
#: Columns that differ from run to run (everything else is reproducible).
TIMING_COLUMNS = ("seconds",)


def schema() -> Any:
    """The pyarrow schema of a shard."""
    import pyarrow as pa

    f64 = pa.float64()
    return pa.schema(
        [("source", pa.string()), ("frame", pa.int64()), ("frame_name", pa.string()),
         ("person", pa.int32()), ("track", pa.int32()), ("status", pa.string()),
         ("message", pa.string()), ("start", pa.string()), ("termination", pa.string()),
         ("iterations", pa.int32()), ("seconds", f64), ("format", pa.string()),
         ("image_width", pa.int32()), ("image_height", pa.int32()), ("focal_length", f64),
         ("center", pa.list_(f64, 2)), ("betas", pa.list_(f64)),
         ("global_orient", pa.list_(f64, 3)), ("body_pose", pa.list_(f64, 69)),
         ("transl", pa.list_(f64, 3))]
        + [(f"energy_{t}", f64) for t in ENERGY_TERMS] + [("reprojection_px", f64)])


def write_shard(path: str | os.PathLike[str], rows: Sequence[dict[str, Any]],
                metadata: dict[str, str] | None = None) -> Path:
    """Write rows to ``path`` atomically: a temporary file in the same folder, flushed to
    disk, then renamed. A crash leaves either no shard or the whole one; two writers of the
    same chunk (a task Dask ran twice) both leave the same complete file.

    Parameters
    ----------
    path : path-like
        The shard's final name.
    rows : sequence of dict
        Column name -> value, every column of :func:`schema`.
    metadata : dict of str, optional
        Stored in the file's key-value metadata (the chunk, the run's identity, the build of
        the core that fitted it).

    Returns
    -------
    Path
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    final = Path(path)
    sch = schema()
    if metadata:
        sch = sch.with_metadata({k.encode(): v.encode() for k, v in metadata.items()})
    table = pa.Table.from_pylist(list(rows), schema=sch)
    tmp = final.with_name(f".{final.name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(tmp, "wb") as fh:
            pq.write_table(table, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)
    return final


def read_rows(paths: Sequence[str | os.PathLike[str]]) -> Any:
    """The rows of shards as one pyarrow Table, in shard order (rows keep their order)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    tables = [pq.read_table(p) for p in paths]
    if not tables:
        return schema().empty_table()
    return pa.concat_tables([t.replace_schema_metadata(None) for t in tables])
