"""Run a benchmark with the learned initialiser's weights read from another folder.

    OPENBLAS_NUM_THREADS=1 nice .venv/bin/python benchmarks/with_weights.py FOLDER \\
        benchmarks/bench_video.py --seed 200 --output /tmp/bench_video_mix.json

FOLDER holds ``initializer_<format>.npz`` files (a format without one there has no
initialiser); they replace the shipped ones for that run only
(``initializer_weights.use_weights``), so two weights sets go through the same unchanged
benchmark, e.g. ``bench_video.py`` or ``bench_real_video.py`` (whose fit caches key on the
digest of the weights read: fits made with other weights are refitted, not read back).
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

from initializer_weights import use_weights


def main() -> None:
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    folder, script = Path(sys.argv[1]), sys.argv[2]
    if not folder.is_dir():
        sys.exit(f"with_weights.py: {folder} is not a folder of initializer_<format>.npz")
    use_weights(folder)
    sys.argv = [script, *sys.argv[3:]]
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
