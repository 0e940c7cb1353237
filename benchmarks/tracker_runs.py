"""The trackers ``bench_tracker.py`` compares and ``tools/draw_tracks.py`` draws: before and
after issue 11's rework, each as a whole sequence's ids the way the front end ends up giving
them (the new tracker's people fitted from their first sighting once confirmed:
``track_all``)."""

from __future__ import annotations

from collections.abc import Callable

from smplify.tracking import track_all
from tracker_before import TrackerBefore

#: name -> (fps -> (per-frame people -> per-frame ids))
Run = Callable[[float], Callable[[list], list[list[int]]]]


def _before(fps: float) -> Callable[[list], list[list[int]]]:
    tracker = TrackerBefore()
    return lambda frames: [tracker.update(people) for people in frames]


def _after(fps: float) -> Callable[[list], list[list[int]]]:
    return lambda frames: track_all(frames, fps=fps)


TRACKERS: dict[str, Run] = {"before": _before, "after": _after}
