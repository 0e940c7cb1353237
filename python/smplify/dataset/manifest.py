"""The run's manifest (``manifest.json`` in the output folder): what the shards were made from.

It records the inputs (every unit, and the size of every input file), the fit options (all of
``smplify.FitOptions``, defaults included), the model and prior (names and SHA-256 hashes of
their arrays), the chunk size, the smplify version and the build of the C++ core that fits
(``smplify.core_variant()``: "baseline" or "x86-64-v3", whose fits differ in rounding). A
restart compares the new run's identity with the stored one: equal, finished shards are
kept; different, the run refuses to mix results (:class:`DatasetMismatchError`) unless
told to start over.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import SmplifyError
from .chunk_fit import FitSpec
from .inputs import Unit

__all__ = ["DatasetMismatchError", "MANIFEST", "identity", "identity_hash", "check_or_write"]

MANIFEST = "manifest.json"


class DatasetMismatchError(SmplifyError, ValueError):
    """The output folder holds results of a run with other inputs, options, model, version or
    build of the core (or the Dask workers run another build than the client)."""


def _array_hash(*arrays: Any) -> str:
    digest = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(np.asarray(a, dtype=np.float64))
        digest.update(str(a.shape).encode())
        digest.update(a.tobytes())
    return digest.hexdigest()


def identity(units: list[Unit], spec: FitSpec, chunk_frames: int, model: Any,
             prior: Any) -> dict[str, Any]:
    """What a run's results depend on, as plain JSON values.

    Parameters
    ----------
    units : list of Unit
    spec : FitSpec
    chunk_frames : int
    model, prior : the loaded body model and pose prior

    Returns
    -------
    dict
    """
    from .. import __version__
    from ..capsules import model_hash
    from ..cpu_variant import core_variant
    from ..options import FitOptions

    options = FitOptions.from_kwargs(**dict(spec.options)).to_dict()
    options.pop("threads", None)  # every dataset fit runs on one thread
    sizes = {u.path: os.path.getsize(u.path) for u in units if os.path.isfile(u.path)}
    doc = {
        "smplify_version": __version__, "core_variant": core_variant(),
        "model": {"name": spec.model, "gender": spec.gender, "num_betas": spec.num_betas,
                  "hash": model_hash(model.v_template, model.shapedirs, model.J_regressor,
                                     model.weights, model.faces)},
        "prior": {"name": spec.prior,
                  "hash": _array_hash(prior.means, prior.covars, prior.weights)},
        "format": spec.format, "image_size": spec.image_size,
        "focal_length": spec.focal_length, "options": options, "chunk": chunk_frames,
        "inputs": {"units": [[u.kind, u.path, u.source, u.start, u.stop, u.video]
                             for u in units], "file_sizes": sizes},
    }
    return json.loads(json.dumps(doc))


def identity_hash(doc: dict[str, Any]) -> str:
    """SHA-256 of an identity (names a run in shard metadata and Dask task keys)."""
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


def _differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    out = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        if key == "inputs":
            out.append(f"inputs ({len((a or {}).get('units', []))} units before, "
                       f"{len((b or {}).get('units', []))} now, or their files changed)")
        elif key == "options" and isinstance(a, dict) and isinstance(b, dict):
            changed = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
            out += [f"option {k}: {a.get(k)!r} before, {b.get(k)!r} now" for k in changed]
        elif key == "core_variant":
            out.append(f"core_variant: {a!r} before, {b!r} now (the C++ core's builds round "
                       f"differently; SMPLIFY_CPU={a} resumes with the earlier one)")
        else:
            out.append(f"{key}: {a!r} before, {b!r} now")
    return out


def check_or_write(out_dir: Path, doc: dict[str, Any], chunks: int, overwrite: bool) -> bool:
    """Compare ``doc`` with the folder's manifest, or write it.

    Parameters
    ----------
    out_dir : Path
        The output folder (created).
    doc : dict
        This run's :func:`identity`.
    chunks : int
        Chunks in the plan.
    overwrite : bool
        On a mismatch, delete the old shards and manifest instead of refusing.

    Returns
    -------
    bool
        True when an earlier run of the same identity is resumed.

    Raises
    ------
    DatasetMismatchError
        The folder holds another run's results (or shards without a manifest).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / MANIFEST
    shards = out_dir / "shards"
    if path.exists():
        try:
            old = json.loads(path.read_text(encoding="utf-8"))["identity"]
        except (json.JSONDecodeError, KeyError, TypeError, UnicodeDecodeError):
            old = {"manifest": "unreadable"}
        if old == doc:
            return True
        problem = "; ".join(_differences(old, doc)[:6])
    elif shards.is_dir() and any(shards.iterdir()):
        problem = "shards without a manifest"
    else:
        problem = ""
    if problem:
        if not overwrite:
            raise DatasetMismatchError(
                f"out: {out_dir} holds results of a different run ({problem}); use another "
                "folder, or overwrite=True (--force) to delete them and start over")
        for shard in shards.glob("*"):
            shard.unlink()
        path.unlink(missing_ok=True)
    record = {"identity": doc, "identity_hash": identity_hash(doc), "chunks": chunks,
              "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    tmp = path.with_name(f".{MANIFEST}.tmp")
    tmp.write_text(json.dumps(record, indent=1), encoding="utf-8")
    os.replace(tmp, path)
    return False
