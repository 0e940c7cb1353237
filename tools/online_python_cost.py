"""The online Fitter's Python around its C++ fits, alone: every C++ fit replayed.

A first pass runs the Fitter (defaults, or ``--option name=value``) over bench_video.py's
held-out clips and detector (as ``benchmarks/bench_online.py``) and records each C++ fit's
report (``_core.Fitter.fit``, the refits' fitter too). The timed passes run the same frames
again with a stand-in fitter that returns the recorded reports in order: the Fitter takes the
same decisions (the same reports), so what is left is its Python (and the small C++ calls it
makes itself: the anchor's poser, the track checks, the output filter), not the solves.

Prints per pass the median CPU us a frame, over all frames and over the plain warm frames
(``summary["start"]`` "warm", one fit); ``--profile`` adds cProfile's table of one pass
(its own overhead inflates small calls); ``--passes 0 --replays N`` runs N replays and no
timing, each inside ``operator.call`` (a C function nothing else here calls), so that
callgrind counts the instructions of the replays alone (the Python part of the frames,
without the set-up and the recording pass):

    .venv/bin/python tools/online_python_cost.py --clips 2 --passes 5
    valgrind --tool=callgrind --toggle-collect=_operator_call \\
        --callgrind-out-file=/tmp/cg.out \\
        .venv/bin/python tools/online_python_cost.py --clips 2 --passes 0 --replays 1
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before NumPy loads its BLAS

import argparse  # noqa: E402
import cProfile  # noqa: E402
import operator  # noqa: E402
import pstats  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import smplify  # noqa: E402
from online_trace import parse_option  # noqa: E402
from smplify import fitter as fitter_module  # noqa: E402
from smplify import track_decisions  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from bench_online import FORMAT, clips  # noqa: E402
from bench_video import clip_arguments  # noqa: E402


class Recorder:
    """The C++ fitter, its reports kept in call order (``log``)."""

    def __init__(self, core: Any, log: list[Any]) -> None:
        self.core, self.log = core, log

    def fit(self, **kwargs: Any) -> Any:
        report = self.core.fit(**kwargs)
        self.log.append(report)
        return report


class Replayer:
    """A stand-in C++ fitter: the recorded reports, in call order."""

    def __init__(self, log: list[Any], position: list[int]) -> None:
        self.log, self.position = log, position

    def fit(self, **kwargs: Any) -> Any:
        report = self.log[self.position[0]]
        self.position[0] += 1
        return report


def run(videos: list[Any], model: Any, options: dict[str, Any],
        wrap: Any) -> tuple[list[float], list[str]]:
    """Every clip's frames through a Fitter whose C++ fitters ``wrap(core)`` stands in
    for; per frame its CPU seconds and how it went."""
    shared, refit = fitter_module._shared_core_fitter, track_decisions._refit_core_fitter
    fitter_module._shared_core_fitter = lambda problem: wrap(shared(problem))
    track_decisions._refit_core_fitter = lambda problem: wrap(refit(problem))
    cpu, kinds = [], []
    try:
        for video in videos:
            f = smplify.Fitter(model, format=FORMAT, image_size=video.image_size,
                               focal_length=video.focal_length, threads=1, **options)
            for kp in video.keypoints:
                start = time.process_time()
                try:
                    kind = f.fit(kp).summary["start"]
                except smplify.KeypointError:
                    kind = "no output"
                cpu.append(time.process_time() - start)
                kinds.append(kind)
    finally:
        fitter_module._shared_core_fitter = shared
        track_decisions._refit_core_fitter = refit
    return cpu, kinds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    clip_arguments(parser)
    parser.add_argument("--option", action="append", default=[],
                        help="a Fitter option, name=value (repeatable)")
    parser.add_argument("--passes", type=int, default=5, help="timed replays")
    parser.add_argument("--replays", type=int, default=0,
                        help="untimed replays (for callgrind)")
    parser.add_argument("--profile", action="store_true", help="cProfile one replay")
    args = parser.parse_args()
    options = dict(parse_option(o) for o in args.option)
    model = smplify.load_model("open")
    videos = clips(model, args)
    log: list[Any] = []
    _, kinds = run(videos, model, options, lambda core: Recorder(core, log))

    def replay() -> tuple[list[float], list[str]]:
        position = [0]
        out = run(videos, model, options, lambda core: Replayer(log, position))
        if position[0] != len(log) or out[1] != kinds:
            raise SystemExit("the replay took other decisions than the recording")
        return out

    for _ in range(args.replays):
        operator.call(replay)  # callgrind --toggle-collect=_operator_call counts this alone
    plain = np.array([k == "warm" for k in kinds])
    for p in range(args.passes):
        cpu = 1e6 * np.array(replay()[0])
        print(f"pass {p}: {len(cpu)} frames ({plain.sum()} plain warm), Python CPU us a frame "
              f"median {np.median(cpu):.1f}, plain warm median {np.median(cpu[plain]):.1f}, "
              f"mean {cpu.mean():.1f}; load {os.getloadavg()[0]:.1f}")
    if args.profile:
        profile = cProfile.Profile()
        profile.enable()
        replay()
        profile.disable()
        pstats.Stats(profile).sort_stats("tottime").print_stats(45)


if __name__ == "__main__":
    main()
