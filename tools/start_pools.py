"""Every finished start of the default single-image fit, with its features and its error.

Shared by ``tools/build_start_scorer.py`` (pools of training-subject cases, to learn from) and
``benchmarks/start_scorer.py`` (pools of the realistic tune / test halves, to choose and
report). A case's pool is what ``smplify.fit`` with ``options`` runs from scratch (the prior's
starts in each orientation and the initialiser's readings), recorded by the C++ fit
(``FitOptions.record_starts``): per start its features (``cpp/start_scorer.h``), its
PA-MPJPE against the truth (mm) and whether the energy's selection (``start_scorer="energy"``,
the default before the scorer) kept it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import smplify
from smplify import detections
from smplify import synthetic_video as sv
from smplify.core_fitter import _core_fitter, _core_options, _observation
from smplify.problem import build_problem
from smplify.synthetic import pa_mpjpe


@dataclass
class Pools:
    """Ragged pools of C cases, S starts in all.

    features : (S, F) float64, each start's features.
    mm : (S,) PA-MPJPE of each start's fit, mm.
    case : (S,) int64, the case each start belongs to (0..C-1, ascending).
    default : (S,) bool, the start the energy's selection kept (one per case, or none where a
        leg flip replaced it).
    joints : (S, 24, 3) float32, each start's joints (camera frame, metres): for trying
        other features offline.
    """

    features: np.ndarray
    mm: np.ndarray
    case: np.ndarray
    default: np.ndarray
    joints: np.ndarray

    def arrays(self) -> dict[str, np.ndarray]:
        return {"features": self.features, "mm": self.mm, "case": self.case,
                "default": self.default, "joints": self.joints}

    def subset(self, rows: np.ndarray, case_offset: int = 0) -> Pools:
        """The starts ``rows`` (bool mask), their cases shifted down by ``case_offset``."""
        return Pools(self.features[rows], self.mm[rows], self.case[rows] - case_offset,
                     self.default[rows], self.joints[rows])

    @classmethod
    def concatenate(cls, parts: list[Pools]) -> Pools:
        offset, cases = 0, []
        for p in parts:
            cases.append(p.case + offset)
            offset += int(p.case.max()) + 1 if len(p.case) else 0
        return cls(np.concatenate([p.features for p in parts]),
                   np.concatenate([p.mm for p in parts]), np.concatenate(cases),
                   np.concatenate([p.default for p in parts]),
                   np.concatenate([p.joints for p in parts]))


def video_cases(video: sv.SyntheticVideo) -> detections.Cases:
    """A synthetic video's frames as single-image cases (what ``bench_video``'s per-frame fits
    and the online Fitter's fits from scratch see: its camera and detector error model)."""
    n = video.num_frames
    joints = video.joints - video.joints[:, :1]
    rotation = np.stack([detections._rodrigues(video.global_orient[t:t + 1])[0]
                         for t in range(n)])
    return detections.Cases(
        keypoints=video.keypoints, image_size=np.tile(np.asarray(video.image_size, float), (n, 1)),
        focal=np.full(n, video.focal_length), rotation=rotation, joints=joints,
        transl=video.joints[:, 0].copy(), body_pose=video.body_pose,
        betas=np.tile(video.betas, (n, 1)), swaps=None)


def record(model: smplify.BodyModel, fmt: str, data: detections.Cases,
           options: dict[str, Any] | None = None, progress: bool = False) -> Pools:
    """The pools of ``data``'s cases fitted with ``options`` over the defaults (one thread;
    ``start_scorer="energy"`` unless given: ``default`` marks the energy selection's choice);
    cases the fit refuses (too few torso keypoints) or without hypotheses are left out."""
    options = {"threads": 1, "start_scorer": "energy", **(options or {})}
    feats, mm, case, default, all_joints = [], [], [], [], []
    fitter = None
    for i in range(len(data.keypoints)):
        try:
            problem = build_problem(data.keypoints[i], fmt, tuple(data.image_size[i]),
                                    float(data.focal[i]), model, "open", options)
        except smplify.KeypointError:
            continue
        if fitter is None:
            core = _core_options(problem)
            core.record_starts = True
            fitter = _core_fitter(problem, core)
        report = fitter.fit(**_observation(problem))
        f = np.asarray(report.start_features)
        if not len(f) or not np.isfinite(np.asarray(report.joints)).all():
            continue
        joints = [np.asarray(j) for j in report.start_joints]
        chosen = np.asarray(report.joints)
        err = [1000.0 * pa_mpjpe(j - j[0], data.joints[i]) for j in joints]
        kept = np.array([np.array_equal(j, chosen) for j in joints])
        if kept.sum() > 1:  # equal bodies: the first is the one selection keeps
            kept[np.argmax(kept) + 1:] = False
        feats.append(f)
        mm.append(err)
        case.append(np.full(len(f), len(feats) - 1))
        default.append(kept)
        all_joints.append(np.asarray(joints, dtype=np.float32))
        if progress and len(feats) % 100 == 0:
            print(f"  {fmt}: {len(feats)} cases", flush=True)
    if not feats:
        raise RuntimeError(f"{fmt}: no case produced a pool of starts")
    return Pools(np.concatenate(feats), np.concatenate(mm).astype(np.float64),
                 np.concatenate(case).astype(np.int64), np.concatenate(default),
                 np.concatenate(all_joints))
