"""One process's share of an A/B of the default single-image fit: ``N`` realistic test-half
cases per format fitted with the given ``FitOptions`` (JSON); prints one JSON line with the
median wall and CPU ms per fit. Run it from two builds in turn (A B A B ...) and compare the
whole processes and these medians (docs/measurements.md, session 14: ``prune_starts``).

    OPENBLAS_NUM_THREADS=1 nice .venv/bin/python benchmarks/prune_starts_ab.py 6 \\
        '{"prune_starts": 2, "threads": 1}'
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np
import realistic
import smplify


def main() -> None:
    model = smplify.load_model("open")
    n = int(sys.argv[1])
    options = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
    wall, cpu = [], []
    for fmt in realistic.ALL_FORMATS:
        data = realistic.cases(model, fmt, n, "test")
        for i in range(n):
            w, c = time.perf_counter(), time.process_time()
            try:
                smplify.fit(data.keypoints[i], fmt, tuple(data.image_size[i]),
                            float(data.focal[i]), model=model, **options)
            except smplify.KeypointError:
                continue
            wall.append(1000 * (time.perf_counter() - w))
            cpu.append(1000 * (time.process_time() - c))
    print(json.dumps({"fits": len(wall), "wall_ms_median": float(np.median(wall)),
                      "cpu_ms_median": float(np.median(cpu)), "options": options}))


if __name__ == "__main__":
    main()
