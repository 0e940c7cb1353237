"""Where ``smplify.fit_sequence``'s CPU time goes, by stage, on bench_video's held-out clips.

The same clips, detector errors and call as ``bench_video.py``'s "fit_sequence" row (its
PA-MPJPE and acceleration error come out the same, to the digit), each stage's CPU time
(``time.process_time``, one thread: run with ``OPENBLAS_NUM_THREADS=1``) read by timers put
around the functions ``smplify.sequence`` calls: the start's first fit from scratch
(``first_fit``), each candidate track (``run_track``, by kind) and, inside them, the C++
fits by kind (warm: from a track's last frame; cold: from scratch, by the Python function
that asked for it), the path and the frames between (``viterbi_path``, ``motion.fill_missed``,
``label_between``, ...), the joint solve (``sequence_windows.solve``; its own clocks split
it into the linear solver and the evaluation with Jacobians, wall time). What no timer
covers is fit_sequence's own Python ("rest").

    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/sequence_stages.py --seed 100
    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/sequence_stages.py --seed 300 --repeat 3

Run with another build's Python (``/tmp/main/.venv/bin/python benchmarks/sequence_stages.py``)
it times that build's fit_sequence on the same clips; ``--joints FILE.npz`` keeps the
output joints to compare two builds bit for bit; ``--options JSON`` fits a variant. It also
counts the C++ fits from scratch and their distinct inputs (the C++ fitter and every
argument): two fits of one input would be one fit and a copy.

The joint solve's own report (``_core.fit_sequence``'s "steps": each Levenberg-Marquardt
step's damping, cost, trial cost, predicted decrease, acceptance and thread CPU seconds of
its linear solve and trial evaluation; the first evaluation's and the finish's CPU) is kept
per clip and summed. ``--replay-steps N`` then solves again from each clip's same start
(untimed) with 1..N iterations: how far each step moves the output joints (mean and largest
joint distance, mm, step k against k − 1) and the PA-MPJPE after k steps.

    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/sequence_stages.py --replay-steps 6
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import inspect
import json
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import smplify
from bench_video import FORMAT, SEQUENCES, clip_arguments, score
from smplify import core_fitter, fitter, focal, motion, sequence, sequence_windows
from smplify import synthetic_video as sv

RESULTS = Path(__file__).resolve().parent / "results" / "sequence_stages.json"
#: The functions of smplify.sequence timed (their names as the stages).
STAGES = ("first_fit", "viterbi_path", "label_between", "smooth_depth",
          "_torso_pixels", "_validate", "_relabelled_3d", "build_problem", "hypotheses",
          "reading_scores", "hard_keyframes", "scratch_track")


class Clocks:
    """CPU seconds and calls per stage; ``inside``: the stage being timed (innermost)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self.inside: list[str] = []
        #: Per distinct input of a C++ fit from scratch (its C++ fitter and every argument),
        #: how many such fits ran: a cache of fits from scratch pays only where one is > 1.
        self.cold_inputs: dict[str, int] = defaultdict(int)

    def wrap(self, module: Any, name: str, label: Any = None) -> None:
        """Times ``module.name`` under ``label`` (a name, or a function of the call's
        arguments giving one)."""
        function = getattr(module, name)

        @functools.wraps(function)
        def timed(*args: Any, **kwargs: Any) -> Any:
            stage = label(args) if callable(label) else (label or name)
            start = time.process_time()
            self.inside.append(stage)
            try:
                return function(*args, **kwargs)
            finally:
                self.inside.pop()
                self.seconds[stage] += time.process_time() - start
                self.calls[stage] += 1

        setattr(module, name, timed)

    def core_fits(self) -> None:
        """Times every C++ fit of the start's Fitters (``_core.Fitter.fit``), as "C++ fit,
        <stage>, warm|cold (<the Python function that asked>)"."""
        shared = core_fitter._shared_core_fitter
        clocks = self

        class Timed:
            def __init__(self, core: Any) -> None:
                self._core = core

            def fit(self, *args: Any, **kwargs: Any) -> Any:
                start = time.process_time()
                try:
                    return self._core.fit(*args, **kwargs)
                finally:
                    caller = sys._getframe(1).f_code.co_name
                    how = "warm" if "initial_pose" in kwargs else "cold"
                    if how == "cold":
                        clocks.cold_inputs[fit_key(self._core, kwargs)] += 1
                    where = clocks.inside[-1] if clocks.inside else "?"
                    stage = f"C++ fit, {where}, {how} ({caller})"
                    clocks.seconds[stage] += time.process_time() - start
                    clocks.calls[stage] += 1

            def __getattr__(self, name: str) -> Any:
                return getattr(self._core, name)

        # The joint solve's core goes to _core.fit_sequence as the C++ object itself.
        sequence_windows_core = sequence_windows._core

        class Unwrapping:
            def __getattr__(self, name: str) -> Any:
                return getattr(sequence_windows_core, name)

            @staticmethod
            def fit_sequence(core: Any, *args: Any, **kwargs: Any) -> Any:
                return sequence_windows_core.fit_sequence(getattr(core, "_core", core), *args,
                                                          **kwargs)

        sequence_windows._core = Unwrapping()
        def timed_core(problem: Any) -> Any:
            return Timed(shared(problem))

        # Every module that asks for the shared C++ fitter (the Fitter's frames, the focal
        # search, fit_sequence's own solves).
        fitter._shared_core_fitter = focal._shared_core_fitter = timed_core
        sequence._shared_core_fitter = timed_core


def capture_solves() -> list[tuple[tuple[Any, ...], dict[str, Any], dict[str, Any]]]:
    """Keeps every joint solve's call (arguments) and report, in order, in the list returned
    (``sequence_windows.solve`` wrapped once more, outside its clock)."""
    calls: list[tuple[tuple[Any, ...], dict[str, Any], dict[str, Any]]] = []
    timed = sequence_windows.solve

    @functools.wraps(timed)
    def kept(*args: Any, **kwargs: Any) -> Any:
        report = timed(*args, **kwargs)
        calls.append((args, kwargs, report))
        return report

    sequence_windows.solve = kept
    return calls


def solve_figures(report: dict[str, Any]) -> dict[str, Any]:
    """The joint solve's steps (C++ report) and CPU split: first evaluation, each step's
    linear solve and trial evaluation, the finish (energies, joints at the result)."""
    steps = report.get("steps", [])
    return {"steps": steps,
            "accepted": sum(s["accepted"] for s in steps),
            "rejected": sum(not s["accepted"] for s in steps),
            "first_evaluation_cpu_seconds": report.get("first_evaluation_cpu_seconds", 0.0),
            "linear_cpu_seconds": sum(s["linear_cpu_seconds"] for s in steps),
            "evaluation_cpu_seconds": sum(s["evaluation_cpu_seconds"] for s in steps),
            "finish_cpu_seconds": report.get("finish_cpu_seconds", 0.0)}


def print_solve(row: dict[str, Any]) -> None:
    """One line per joint-solve step: acceptance, μ, the relative decrease (actual and
    predicted, of the cost before it), CPU ms; then the replayed steps' joint movement."""
    solve = row["solve"]
    print(f"    joint solve: first evaluation {1e3 * solve['first_evaluation_cpu_seconds']:.1f} "
          f"ms, finish {1e3 * solve['finish_cpu_seconds']:.1f} ms CPU")
    for k, s in enumerate(solve["steps"], 1):
        print(f"    step {k}: {'accepted' if s['accepted'] else 'rejected'}  mu {s['damping']:.2g}"
              f"  decrease {(s['cost'] - s['trial_cost']) / s['cost']:.2e} (predicted "
              f"{s['predicted'] / s['cost']:.2e})  linear {1e3 * s['linear_cpu_seconds']:.1f} ms"
              f"  evaluation{' +J' if s['jacobians'] else ''} "
              f"{1e3 * s['evaluation_cpu_seconds']:.1f} ms")
    for r in row.get("replay", []):
        print(f"    after {r['iterations']} steps: PA-MPJPE {r['pa_mpjpe_mm']:.2f} mm, accel "
              f"error {r['accel_error_mm']:.2f}; joints moved by the last step mean "
              f"{r['moved_mean_mm']:.2f} mm, largest {r['moved_max_mm']:.1f}")


def replay_steps(solve: tuple[tuple[Any, ...], dict[str, Any], dict[str, Any]], steps: int,
                 video: sv.SyntheticVideo) -> list[dict[str, float]]:
    """The joint solve run again from its start with 1..``steps`` iterations (the same call
    otherwise): after k steps, the PA-MPJPE and acceleration error and how far step k moved
    the joints from k − 1 (mm; for k = 1 from the start's joints, i.e. 0 iterations'). A
    single window's solve only (sequence_windows' windows each start anew)."""
    args, kwargs, _ = solve
    names = list(inspect.signature(sequence_windows.solve).parameters)
    call = dict(zip(names, args, strict=False), **kwargs)
    out, previous = [], None
    for k in range(0, steps + 1):
        if k == 0:  # the start: a step at the largest damping moves nothing
            report = sequence_windows.solve(**dict(call, iterations=1, initial_damping=1e30,
                                                   retries=0))
        else:
            report = sequence_windows.solve(**dict(call, iterations=k))
        joints = np.asarray(report["joints"]).reshape(-1, 24, 3)
        if previous is not None:
            moved = 1000 * np.linalg.norm(joints - previous, axis=-1)
            accuracy = score(joints, video, (1.0, 1.0))
            out.append({"iterations": k, "pa_mpjpe_mm": accuracy["pa_mpjpe_mm"],
                        "accel_error_mm": accuracy["accel_error_mm"],
                        "moved_mean_mm": float(moved.mean()),
                        "moved_max_mm": float(moved.max())})
        previous = joints
    return out


def fit_key(core: Any, kwargs: dict[str, Any]) -> str:
    """A digest of a C++ fit's inputs: the C++ fitter (its identity: one per model, targets
    and options) and every argument, arrays by their bytes."""
    digest = hashlib.sha1(str(id(core)).encode())
    for name in sorted(kwargs):
        value = kwargs[name]
        digest.update(name.encode())
        digest.update(value.tobytes() if isinstance(value, np.ndarray) else repr(value).encode())
    return digest.hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    clip_arguments(parser)
    parser.add_argument("--repeat", type=int, default=1, help="fits of each clip (the CPU "
                        "figures: medians over them)")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--joints", type=Path, default=None,
                        help=".npz of each clip's output joints (to compare builds)")
    parser.add_argument("--options", type=json.loads, default={},
                        help="fit_sequence options (JSON), e.g. '{\"start_prune_starts\": 2}'")
    parser.add_argument("--replay-steps", type=int, default=0,
                        help="solve again from each clip's start with 1..N iterations "
                             "(untimed): each step's movement of the joints (docstring)")
    args = parser.parse_args()

    model = smplify.load_model("open")
    videos = [(seq["name"], sv.make_video(model, seq, FORMAT,
                                          np.random.default_rng(args.seed + c),
                                          sv.DetectorErrors(confidence_model=args.confidence),
                                          frames=slice(args.start, args.start + args.frames)))
              for c, seq in enumerate(sv.load_sequences(SEQUENCES)[:args.clips])]
    clocks = Clocks()
    for name in STAGES:
        if hasattr(sequence, name):
            clocks.wrap(sequence, name)
    clocks.wrap(motion, "fill_missed")  # the frames between keyframes (imported at the call)
    clocks.wrap(sequence, "run_track", lambda a: f"track {a[0]}")
    clocks.wrap(sequence_windows, "solve", "joint solve")
    solves = capture_solves()
    clocks.core_fits()

    def fit(video: sv.SyntheticVideo) -> Any:
        return smplify.fit_sequence(video.keypoints, FORMAT, video.image_size,
                                    video.focal_length, model=model, threads=1,
                                    **args.options)

    fit(videos[0][1])  # warm-up: imports, caches, the core fitters
    rows, joints = [], {}
    totals: dict[str, list[float]] = defaultdict(list)
    for name, video in videos:
        cpu: list[float] = []
        for _ in range(args.repeat):
            clocks.seconds.clear()
            clocks.cold_inputs.clear()
            clocks.calls.clear()
            start = time.process_time()
            result = fit(video)
            cpu.append(time.process_time() - start)
            for stage, seconds in clocks.seconds.items():
                totals[stage].append(seconds)
        joints[name] = result.joints
        accuracy = score(result.joints, video, (cpu[-1], cpu[-1]))
        last_solve = solves[-1]  # (the last repeat's) joint solve: its call and report
        row = {"clip": name, "frames": video.num_frames, "cpu_seconds": cpu,
               "cpu_fps": video.num_frames / float(np.median(cpu)),
               "pa_mpjpe_mm": accuracy["pa_mpjpe_mm"],
               "accel_error_mm": accuracy["accel_error_mm"],
               "stages": {k: [v, clocks.calls[k]] for k, v in clocks.seconds.items()},
               "solver_wall": {k: result.summary[k] for k in
                               ("linear_solver_seconds", "evaluation_seconds")},
               "solve": solve_figures(last_solve[2]),
               # (the last repeat's) C++ fits from scratch, and how many distinct inputs
               "fits_from_scratch": [sum(clocks.cold_inputs.values()),
                                     len(clocks.cold_inputs)]}
        if args.replay_steps:
            row["replay"] = replay_steps(last_solve, args.replay_steps, video)
        solves.clear()
        rows.append(row)
        print(f"{name:28s} {row['cpu_fps']:7.1f} CPU frames/s  PA-MPJPE "
              f"{row['pa_mpjpe_mm']:.1f} mm  accel error {row['accel_error_mm']:.1f}")
        print_solve(row)
    total = sum(float(np.median(r["cpu_seconds"])) for r in rows)
    frames = sum(r["frames"] for r in rows)
    # Every clip's stage seconds summed, per repeat: the medians over repeats.
    repeats = args.repeat
    stages = {k: float(np.median(np.reshape(v, (-1, repeats)).sum(axis=0)))
              if len(v) == len(rows) * repeats else float(np.sum(v)) / repeats
              for k, v in totals.items()}
    top = sum(v for k, v in stages.items() if not k.startswith("C++ fit"))
    stages["rest (fit_sequence's own Python)"] = total - top
    print(f"\nover {len(rows)} clips: {frames / total:.1f} CPU frames/s (all frames over all "
          f"CPU), median over clips {np.median([r['cpu_fps'] for r in rows]):.1f}; "
          f"PA-MPJPE {np.mean([r['pa_mpjpe_mm'] for r in rows]):.1f} mm, accel error "
          f"{np.mean([r['accel_error_mm'] for r in rows]):.1f}")
    cold = np.sum([r["fits_from_scratch"] for r in rows], axis=0)
    print(f"  C++ fits from scratch: {cold[0]}, of distinct inputs: {cold[1]}")
    for stage, seconds in sorted(stages.items(), key=lambda kv: -kv[1]):
        print(f"  {stage:62s} {seconds:7.3f} s  {100 * seconds / total:5.1f} %")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()},
                                       "smplify": smplify.__file__,
                                       "cpu_fps": frames / total, "stages": stages,
                                       "clips": rows}, indent=1, default=float) + "\n")
    print(f"wrote {args.output}")
    if args.joints is not None:
        np.savez(args.joints, **joints)


if __name__ == "__main__":
    main()
