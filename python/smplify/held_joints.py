"""``FitOptions.track_held_joints``: which SMPL joints a tracked warm fit holds
(cpp/held_joints.h), and "unseen": the joints no keypoint of the format follows."""

from __future__ import annotations

from typing import Any

import numpy as np

#: A keypoint follows joint j when at least this fraction of its regressor's weight lies on
#: vertices skinned to j's subtree (a vertex moves with the rotations of the joints it is
#: skinned to and their ancestors); COCO-17's ankles carry ~1e-4 of the toes.
SEEN_FRACTION = 0.01


def unseen_joints(format: Any, model: Any) -> tuple[int, ...]:
    """SMPL joints 1..23 whose rotation moves no keypoint of ``format`` (a name or a
    KeypointFormat) that enters the data term (a model point and format weight > 0) on
    ``model``: e.g. COCO-17's toes and hands, MediaPipe-33's hands."""
    from .problem import _targets

    resolved = _targets(format, model)
    parents = np.asarray(model.parents)
    num_joints = len(parents)
    # subtree[j, s]: joint s is j or below it.
    subtree = np.eye(num_joints, dtype=bool)
    for s in range(num_joints):
        a = parents[s]
        while a >= 0:
            subtree[a, s] = True
            a = parents[a]
    skin = np.asarray(model.weights)  # (N, 24)
    seen = np.zeros(num_joints, dtype=bool)
    used = np.asarray(resolved.available) & (np.asarray(resolved.weights) > 0)
    for k in np.flatnonzero(used):
        joint = int(resolved.joint_index[k])
        if joint >= 0:  # the joint's position: its strict ancestors' rotations move it
            seen |= subtree[:, joint] & (np.arange(num_joints) != joint)
            continue
        ids, weights = resolved.vertex_ids[k], np.abs(resolved.vertex_weights[k])
        total = weights.sum()
        if total <= 0:
            continue
        # The share of the keypoint on each joint's subtree.
        share = (weights @ skin[ids]) @ subtree.T / total
        seen |= share >= SEEN_FRACTION
    return tuple(int(j) for j in range(1, num_joints) if not seen[j])


def core_held_joints(problem: Any) -> list[int]:
    """The C++ FitOptions' ``track_held_joints`` of ``problem``'s options."""
    held = problem.options.track_held_joints
    if held == "unseen":
        return list(unseen_joints(problem.keypoint_format, problem.model))
    return list(held)
