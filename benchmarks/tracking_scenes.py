"""Synthetic multi-person scenes with known ids, and CLEAR-MOT-style scores of a tracker.

A scene (:func:`scene`) is 2-5 people (COCO-17 stick figures, 1.5-1.9 m tall) walking on a
ground plane seen by a pinhole camera (1280 × 720, focal 1000 px, 1.6 m above the ground):
across the view both ways at 2-14 m, so they pass in front of each other, enter and leave.
The detector is imitated: keypoint noise (2% of the person's height), keypoints lost at
random (5%) and behind nearer people (their box); a person more than half hidden is not
detected; detections drop out for 2-8 frames at a time (small people more often); a one-frame
false person now and then (weak, 0.3-0.6 confidence); a person found twice now and then
(the second detection: half the keypoints, own noise; scored as a false one); occasional
left/right swaps. Every
detection carries its person's true id (-1: false), so scoring needs no box matching.

Scores (:func:`score`) over the detections the detector gave (a tracker cannot do better):
``fn`` true detections left without an id, ``fp`` false ones given one, ``idsw`` a person's
id changing from the one it last had (CLEAR MOT), ``frag`` a person's tracked run
interrupted (seen by the detector but given no id, then tracked again) or continued under a
new id, ``mota`` = 1 - (fn + fp + idsw) / true detections, ``idf1`` (the ids' F1 under the
best one-to-one map of true to tracker ids), ``ids_per_person``.

Scenes with an even seed are the tuning half, odd seeds the test half.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

IMAGE = (1280, 720)
FOCAL = 1000.0
CAMERA_HEIGHT = 1.6  # metres above the ground
K = 17
# COCO-17 standing pose: (x, y) in units of the person's height, y up from the feet, facing
# the camera (the person's left on the image's right).
_STAND = np.array([
    [0.0, 0.94], [0.02, 0.96], [-0.02, 0.96], [0.045, 0.95], [-0.045, 0.95],  # face
    [0.11, 0.82], [-0.11, 0.82], [0.13, 0.63], [-0.13, 0.63], [0.12, 0.47], [-0.12, 0.47],
    [0.07, 0.52], [-0.07, 0.52], [0.07, 0.28], [-0.07, 0.28], [0.07, 0.04], [-0.07, 0.04]])
_LEFT = [1, 3, 5, 7, 9, 11, 13, 15]
_RIGHT = [2, 4, 6, 8, 10, 12, 14, 16]


@dataclass
class Scene:
    """Per frame: the detections (each (K, 3) pixels + confidence) and their true ids."""

    fps: float
    people: list[list[np.ndarray]]
    truth: list[list[int]]


def _pose(phase: float, side: float) -> np.ndarray:
    """(K, 2) walking pose in height units: legs and arms swing with ``phase``; ``side``
    in [0, 1] narrows the body as it turns side-on."""
    p = _STAND.copy()
    p[:, 0] *= 1.0 - 0.6 * side
    swing = 0.12 * np.sin(phase)
    p[[13, 15], 0] += np.array([0.5, 1.0]) * swing * side
    p[[14, 16], 0] -= np.array([0.5, 1.0]) * swing * side
    p[[9], 0] -= 0.6 * swing * side
    p[[10], 0] += 0.6 * swing * side
    p[[15, 16], 1] += 0.02 * np.abs(np.sin(phase + np.array([0.0, np.pi])))
    return p


def _project(x: float, z: float, height: float, pose: np.ndarray) -> np.ndarray:
    """(K, 2) pixels of a person whose feet are at ground point (x, z) metres."""
    u = IMAGE[0] / 2 + FOCAL * (x + pose[:, 0] * height) / z
    v = IMAGE[1] / 2 + FOCAL * (CAMERA_HEIGHT - pose[:, 1] * height) / z
    return np.c_[u, v]


def scene(seed: int, frames: int = 120) -> Scene:
    """One scene (see the module docstring); ``seed`` sets everything."""
    rng = np.random.default_rng(seed)
    fps = float(rng.choice([10.0, 25.0, 30.0]))
    n = int(rng.integers(2, 6))
    walkers = []
    for i in range(n):
        z0 = rng.uniform(2.5, 14.0)
        half = (IMAGE[0] / 2) * z0 / FOCAL  # half the view's width at that depth
        direction = 1.0 if i % 2 == 0 else -1.0
        speed = rng.uniform(0.8, 1.6) * direction
        # start so that they cross the middle at some time in the clip
        t_mid = rng.uniform(0.25, 0.75) * frames / fps
        x0 = -speed * t_mid + rng.uniform(-0.3, 0.3) * half
        walkers.append(dict(z0=z0, vz=rng.uniform(-0.3, 0.3), x0=x0, vx=speed,
                            height=rng.uniform(1.5, 1.9), phase=rng.uniform(0, 2 * np.pi),
                            side=rng.uniform(0.3, 1.0), drop=0))
    people: list[list[np.ndarray]] = []
    truth: list[list[int]] = []
    for f in range(frames):
        t = f / fps
        seen = []
        for i, w in enumerate(walkers):
            z = max(w["z0"] + w["vz"] * t, 1.5)
            x = w["x0"] + w["vx"] * t
            uv = _project(x, z, w["height"], _pose(w["phase"] + 2 * np.pi * 0.9 * t,
                                                   w["side"]))
            box = np.r_[uv.min(axis=0), uv.max(axis=0)]
            inside = box[0] > -0.2 * (box[2] - box[0]) and box[2] < IMAGE[0] + \
                0.2 * (box[2] - box[0])
            if inside:
                seen.append((z, i, uv, box))
        seen.sort(key=lambda s: s[0])  # nearest first
        frame_people, frame_truth = [], []
        for rank, (_, i, uv, box) in enumerate(seen):
            w = walkers[i]
            h = box[3] - box[1]
            conf = rng.uniform(0.5, 1.0, K)
            hidden = np.zeros(K, dtype=bool)
            for _, _, _, near in seen[:rank]:
                hidden |= (uv[:, 0] > near[0]) & (uv[:, 0] < near[2]) & \
                    (uv[:, 1] > near[1]) & (uv[:, 1] < near[3])
            if w["drop"] > 0:
                w["drop"] -= 1
                continue
            if rng.random() < (0.04 if h > 150 else 0.10):
                w["drop"] = int(rng.integers(1, 8))  # this and the next 1-7 frames
                continue
            if hidden.mean() > 0.5:
                continue
            conf[hidden | (rng.random(K) < 0.05)] = 0.0
            kp = np.c_[uv + rng.normal(0.0, 0.02 * h, (K, 2)), conf]
            if rng.random() < 0.03:
                kp[_LEFT + _RIGHT] = kp[_RIGHT + _LEFT]
            frame_people.append(kp)
            frame_truth.append(i)
            if rng.random() < 0.03:
                twin = np.c_[uv + rng.normal(0.0, 0.02 * h, (K, 2)), conf]
                twin[rng.permutation(K)[:K // 2], 2] = 0.0
                frame_people.append(twin)
                frame_truth.append(-1)
        if rng.random() < 0.08:
            h = rng.uniform(60, 250)
            uv = _project(0.0, FOCAL * 1.7 / h, 1.7, _pose(0.0, 0.5))
            uv += rng.uniform([-500, -100], [500, 100])
            frame_people.append(np.c_[uv + rng.normal(0, 0.03 * h, (K, 2)),
                                      rng.uniform(0.3, 0.6, K)])
            frame_truth.append(-1)
        order = rng.permutation(len(frame_people))
        people.append([frame_people[o] for o in order])
        truth.append([frame_truth[o] for o in order])
    return Scene(fps, people, truth)


def score(scenes: Sequence[Scene],
          make: Callable[[float], Callable[[list], list[list[int]]]]) -> dict[str, float]:
    """CLEAR-MOT-style figures (module docstring) of the ids ``make(fps)(people per frame)``
    gives a scene (per frame, an id per person, -1 none), pooled over ``scenes``."""
    total = dict(gt=0, fn=0, fp=0, idsw=0, frag=0, idtp=0, hyp=0, persons=0, ids=0)
    for sc in scenes:
        last: dict[int, int] = {}
        tracked: dict[int, bool] = {}
        pairs: dict[tuple[int, int], int] = {}
        per_person: dict[int, set[int]] = {}
        for truth, ids in zip(sc.truth, make(sc.fps)(sc.people), strict=True):
            for g, h in zip(truth, ids, strict=True):
                total["hyp"] += h >= 0
                if g < 0:
                    total["fp"] += h >= 0
                    continue
                total["gt"] += 1
                if h < 0:
                    total["fn"] += 1
                    tracked[g] = False
                    continue
                if g in last and last[g] != h:
                    total["idsw"] += 1
                    total["frag"] += 1
                elif g in last and not tracked[g]:
                    total["frag"] += 1
                last[g], tracked[g] = h, True
                pairs[(g, h)] = pairs.get((g, h), 0) + 1
                per_person.setdefault(g, set()).add(h)
        if pairs:
            gs = sorted({g for g, _ in pairs})
            hs = sorted({h for _, h in pairs})
            counts = np.zeros((len(gs), len(hs)))
            for (g, h), c in pairs.items():
                counts[gs.index(g), hs.index(h)] = c
            r, c = linear_sum_assignment(-counts)
            total["idtp"] += int(counts[r, c].sum())
        total["persons"] += len(per_person)
        total["ids"] += sum(len(v) for v in per_person.values())
    gt = max(total["gt"], 1)
    return {"gt": total["gt"], "fn": total["fn"], "fp": total["fp"], "idsw": total["idsw"],
            "frag": total["frag"],
            "mota": 1.0 - (total["fn"] + total["fp"] + total["idsw"]) / gt,
            "idf1": 2.0 * total["idtp"] / max(total["gt"] + total["hyp"], 1),
            "ids_per_person": total["ids"] / max(total["persons"], 1)}


def scenes(split: str, count: int = 20, frames: int = 120) -> list[Scene]:
    """``count`` scenes of the ``split`` ("tune": even seeds, "test": odd seeds)."""
    if split not in ("tune", "test"):
        raise ValueError(f"split: expected 'tune' or 'test', got {split!r}")
    offset = 0 if split == "tune" else 1
    return [scene(2 * k + offset, frames) for k in range(count)]
