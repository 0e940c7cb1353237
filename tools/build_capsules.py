"""Build the capsule regressors (SPEC §2 E_sp) shipped with the open body models.

    python tools/build_capsules.py [--data-dir DIR] [--gender neutral --gender male ...]
    python tools/build_capsules.py --model SMPL.npz --output SMPL_capsules.npz

Without --model: fits `smplify.capsules.fit_capsule_regressor` to each
``open_body_{gender}.npz`` in the data folder (default python/smplify/data) and writes
``open_body_{gender}_capsules.npz`` next to it; rerun whenever an open model changes (the
files carry the model's hash, and a stale file is ignored at run time and refitted). With
--model: fits one SMPL-format .npz and writes the capsule file to --output.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
from smplify.capsules import DATA_DIR, fit_capsule_regressor


def build_open_model_capsules(data_dir: str | os.PathLike[str] | None = None,
                              genders: tuple[str, ...] = ("neutral", "male", "female")
                              ) -> list[Path]:
    """Fit and write ``open_body_{gender}_capsules.npz`` next to each ``open_body_{gender}.npz``.

    Returns
    -------
    list of the written paths.
    """
    folder = Path(data_dir) if data_dir is not None else DATA_DIR
    written = []
    for gender in genders:
        source = folder / f"open_body_{gender}.npz"
        if not source.is_file():
            raise FileNotFoundError(f"open model not found: {source}")
        with np.load(source, allow_pickle=False) as data:
            arrays = [data["v_template"], data["shapedirs"], data["J_regressor"],
                      data["weights"], data["f"]]
        regressor = fit_capsule_regressor(*arrays)
        written.append(regressor.save(folder / f"open_body_{gender}_capsules.npz"))
    return written


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=None, help="folder of open_body_*.npz")
    parser.add_argument("--gender", action="append", choices=("neutral", "male", "female"))
    parser.add_argument("--model", default=None, help="an SMPL-format .npz to fit instead")
    parser.add_argument("--output", default=None, help="capsule file to write with --model")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    if args.model:
        if not args.output:
            parser.error("--model needs --output")
        with np.load(args.model, allow_pickle=False) as data:
            arrays = [data[k] for k in ("v_template", "shapedirs", "J_regressor", "weights", "f")]
        print(f"wrote {fit_capsule_regressor(*arrays).save(args.output)}")
    else:
        genders = tuple(args.gender) if args.gender else ("neutral", "male", "female")
        for path in build_open_model_capsules(args.data_dir, genders):
            print(f"wrote {path}")
    print(f"{time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
