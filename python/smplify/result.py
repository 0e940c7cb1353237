"""The result of a fit (SPEC §5), shared by the C++ fitter and ``smplify.reference``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Camera:
    """Pinhole camera at the origin, OpenCV axes (x right, y down, z forward).

    u = focal_length · X / Z + center[0],  v = focal_length · Y / Z + center[1].
    """

    focal_length: float
    center: np.ndarray  # (2,) pixels

    def project(self, points: np.ndarray) -> np.ndarray:
        """Project (..., 3) camera-frame points (metres) to (..., 2) pixels."""
        points = np.asarray(points, dtype=float)
        return self.focal_length * points[..., :2] / points[..., 2:3] + self.center


@dataclass(frozen=True)
class StageSummary:
    """What one solver stage did."""

    name: str                 # "torso" or "stage 1".."stage 4"
    weights: dict[str, float]  # λ values of the stage
    iterations: int           # all solver iterations of the stage
    termination: str          # solver's termination type, e.g. "CONVERGENCE"
    initial_cost: float       # ½‖r‖² as the solver reports it
    final_cost: float
    seconds: float
    # Of ``iterations``, those of the follow-up solve over θ and γ with β held, run when
    # the solve over (θ, β, γ) stalled on E_sp's θ-only gradient (docs/design.md).
    fixed_shape_iterations: int = 0
    message: str = ""         # the solver's own word on why it stopped


class _Mesh:
    """The ``vertices`` field of :class:`FitResult` (and the keypoints of a smoothed online
    frame): an array, or a callable that returns it, called on the first read and kept (SPEC
    §1: the mesh is posed only when the caller asks for it; the online Fitter skips it per
    frame)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self._slot = "_" + name

    def __get__(self, obj: Any, owner: type | None = None) -> np.ndarray:
        if obj is None:  # class access: no default for the dataclass field
            raise AttributeError("vertices")
        value = obj.__dict__[self._slot]
        if callable(value):
            value = value()
            obj.__dict__[self._slot] = value
        return value

    def __set__(self, obj: Any, value: Any) -> None:
        obj.__dict__[self._slot] = value


@dataclass(frozen=True)
class FitResult:
    """A fitted body: SMPL parameters (smplx naming), camera, geometry, energies.

    Attributes
    ----------
    betas : (B,) shape coefficients.
    global_orient : (3,) axis-angle of the root in the camera frame.
    body_pose : (69,) axis-angle of joints 1..23.
    transl : (3,) metres, camera frame.
    camera : Camera.
    joints : (24, 3) posed joints, camera frame, metres.
    vertices : (N, 3) posed mesh, camera frame, metres.
    faces : (F, 3) triangle indices of the mesh.
    keypoints_3d : (K, 3) the model's keypoints in the input format, camera frame, metres
        (NaN where the model has no such keypoint).
    keypoints_2d : (K, 2) the same projected into the image, pixels.
    energy : dict with keys data, pose, angle, shape, interpenetration, keypoints_3d (E_3D
        to the detector's 3D keypoints; 0 without ``keypoints_3d``), knee_depth, anchor (the
        same E_3D term to the learned initialiser's readings, ``learned_init``; 0 when off or
        when ``keypoints_3d`` is given, which turns the anchor off), total (their sum).
    summary : dict, what the fit did. Keys of every fit:

        - ``stages``: list of StageSummary (the torso fit, then the chosen run's stages);
        - ``orientation``: "initial" or "flipped";
        - ``sideways``: bool, whether the view looked sideways;
        - ``tried``: data energy per orientation tried ("initial", "flipped");
        - ``focal_length``: the focal length used, pixels (= ``camera.focal_length``);
        - ``focal_length_source``: where it came from: "given", "image diagonal",
          "default_focal_length" (the caller gave none) or "estimated"
          (``focal_length="estimate"``, :mod:`smplify.focal`);
        - ``seconds``: wall time of the whole fit;
        - ``implementation``: "cpp" or "reference";
        - ``solver``: the solver and Jacobians used.

        Keys of the C++ fit only:

        - ``solver_seconds``: time inside the C++ solves;
        - ``initial_depth``: camera depth from similar triangles, metres;
        - ``num_starts``: the prior's start poses per orientation (0 with
          ``starts="initializer"``);
        - ``num_hypotheses``, ``hypothesis``: the learned initialiser's readings tried as
          starts (``starts``), and the index of the one the fit kept (best score first; −1: a
          prior start);
        - ``pruned_starts``: the prior's starts stopped after stage ``prune_stage``
          (``prune_starts``; 0 without pruning), over the orientations;
        - ``left_right``: "as given", or what ``left_right`` undid of the detector's
          left/right swaps: "swapped back" (the whole body), "arms swapped back", "legs
          swapped back", comma-separated;
        - ``label_permutation``: None, or the (K,) list p with fitted keypoint k = given
          keypoint p[k] (``left_right`` relabelled);
        - ``legs_flipped``: how many legs' mirrored depth readings the fit kept
          (``leg_flips``);
        - ``num_spheres``, ``num_sphere_pairs``: the interpenetration term's spheres and
          sphere pairs;
        - ``start``: "cold", "warm", or "warm, <why>, then cold" (``Fitter``; why: "lost
          the person", "faced the wrong way", "turned or jumped"), "warm, lost the person,
          held" (a first frame the track's 2D cannot explain: the track's own fit, the
          frame spanned as a missed one), "warm, refitted" (a
          periodic or strain refit replaced the track at once, ``track_switch_frames`` = 0)
          or "warm, switched track" (a competing track from such a refit won after its
          ``track_switch_frames`` frames; :mod:`smplify.online`) or "warm, spun back,
          refitted" (``track_max_spin``: the frame read the other way round, held at the
          facing before a slow spin);
        - ``labelling``: the reading of the keypoints fitted: "as seen", or on a
          ``Fitter``'s tracked frame "left/right swapped", "arms swapped" or "legs swapped";
        - ``track_energy``: the online track's temporal energy E_track at the result (0
          for a fit from scratch);
        - ``unsmoothed``, ``smoothing_lag_frames``: None and 0, or on a tracking
          ``Fitter``'s frame with ``track_smoothing`` the fit's own global_orient,
          body_pose and transl (dict; the result's are the output filter's) and the
          filter's lag at rest, frames;
        - ``status``: how the solver stages ended: "converged" (every stage met its
          tolerance), "iteration_limit" (a stage stopped at ``max_iterations``) or
          "evaluation_failed" (a term could not be evaluated, e.g. NaN, at a point a stage
          had accepted: the stage stopped there; the result is the last point every term
          could be evaluated at, finite but possibly short of a minimum);
        - ``message``: one line per stage that did not converge, with the solver's message
          ("every stage converged" when they all did).

        Key of :func:`smplify.fit_image`'s fits only:

        - ``picture_signature``: (8, 8) array, the fitted picture's coarse content
          (``image_fit.picture_signature``), by which ``smplify.pictures`` refuses that
          picture turned (a photo read without its EXIF orientation).
    """

    betas: np.ndarray
    global_orient: np.ndarray
    body_pose: np.ndarray
    transl: np.ndarray
    camera: Camera
    joints: np.ndarray
    vertices: np.ndarray = _Mesh()  # type: ignore[assignment]  # an array, or posed on read
    faces: np.ndarray
    keypoints_3d: np.ndarray = _Mesh()  # type: ignore[assignment]  # the same
    keypoints_2d: np.ndarray = _Mesh()  # type: ignore[assignment]
    energy: dict[str, float]
    summary: dict[str, Any] = field(default_factory=dict)

    def __getstate__(self) -> dict[str, Any]:
        """Pickled with the mesh (and keypoints) posed (a deferred one holds the C++ model)."""
        state = dict(self.__dict__)
        for name in ("vertices", "keypoints_3d", "keypoints_2d"):
            state["_" + name] = getattr(self, name)
        return state

    @property
    def pose(self) -> np.ndarray:
        """(72,) full pose θ = global_orient ‖ body_pose."""
        return np.concatenate([self.global_orient, self.body_pose])

    def smplx_params(self) -> dict[str, np.ndarray]:
        """Parameters as the smplx package's SMPL layer takes them (batch of one, float32)."""
        return {
            "betas": self.betas[None].astype(np.float32),
            "global_orient": self.global_orient[None].astype(np.float32),
            "body_pose": self.body_pose[None].astype(np.float32),
            "transl": self.transl[None].astype(np.float32),
        }


def split_anchor(energy: dict[str, float], anchored: bool) -> dict[str, float]:
    """The C++ energies with E_3D named for its targets: ``keypoints_3d`` for the detector's
    3D keypoints, ``anchor`` for the learned initialiser's readings (one term, one of the two
    targets a frame; the other reads 0). ``total`` is unchanged: still the sum of the rest."""
    out = {}
    for key, value in energy.items():
        if key == "keypoints_3d":  # both in its place (the printout's and JSON's order)
            out["keypoints_3d"], out["anchor"] = (0.0, value) if anchored else (value, 0.0)
        else:
            out[key] = value
    return out
