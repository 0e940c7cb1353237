"""smplify's C++ core: SMPL body model, SMPLify energy terms and solver (private module).

Arrays are float64 NumPy unless stated; row-major (N, 3) matrices come back as (N, 3).
Bad input raises ValueError naming the argument; a term that cannot be evaluated raises
RuntimeError. ``smplify.core_fitter`` (and the fits it builds: ``smplify.fitter``,
``smplify.track_decisions``), ``smplify.initializer`` and ``smplify.anchor`` are the intended
callers.
"""

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

__version__: str

class BodyModel:
    """SMPL-format body model: forward kinematics, skinning, analytic Jacobians."""

    def __init__(self, v_template: ArrayLike, shapedirs: ArrayLike, posedirs: ArrayLike,
                 J_regressor: object, weights: object, parents: Sequence[int]) -> None:
        """Arrays: v_template (N,3), shapedirs (3N,B), posedirs (3N,207) or (0,0),
        J_regressor (24,N) sparse, weights (N,24) sparse, parents (24,)."""
    @property
    def num_betas(self) -> int: ...
    @property
    def num_vertices(self) -> int: ...
    @property
    def J_template(self) -> NDArray[np.float64]:
        """(24, 3) rest joints at β = 0."""
    @property
    def J_shapedirs(self) -> NDArray[np.float64]:
        """(72, B), row 3k + c."""
    def rest_joints(self, betas: ArrayLike) -> NDArray[np.float64]:
        """Rest joints J(β), (24, 3)."""
    def joints(self, pose: ArrayLike, betas: ArrayLike, transl: ArrayLike) -> NDArray[np.float64]:
        """Posed joints (24, 3)."""
    def joints_and_jacobian(
        self, pose: ArrayLike, betas: ArrayLike, transl: ArrayLike
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64],
               NDArray[np.float64]]:
        """(joints (24,3), d_pose (72,72), d_betas (72,B), d_transl (72,3)), row 3k + c."""
    def vertices(self, pose: ArrayLike, betas: ArrayLike,
                 transl: ArrayLike) -> NDArray[np.float64]:
        """Posed vertices (N, 3)."""
    def vertices_and_jacobian(
        self, pose: ArrayLike, betas: ArrayLike, transl: ArrayLike, vertex_ids: Sequence[int]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64],
               NDArray[np.float64]]:
        """(vertices (n,3), d_pose (3n,72), d_betas (3n,B), d_transl (3n,3)), row 3i + c."""
    def vertex_combination_and_jacobian(
        self, pose: ArrayLike, betas: ArrayLike, transl: ArrayLike,
        combination: Sequence[tuple[int, float]]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """Σ c_v · posed vertex v for [(v, c_v)], folded per joint: (x (3,), d_pose (3,72),
        d_betas (3,B))."""

class FitOptions:
    """SPEC §3 constants and solver settings (smplify.FitOptions' C++ side; same defaults,
    flip coded −1 auto / 0 never / 1 always, threads a number)."""

    pose_prior_weights: list[float]
    shape_prior_weights: list[float]
    angle_prior_ratio: float
    angle_prior_scale: float
    interpenetration_weight: float
    sphere_sigma_scale: float
    data_sigma: float
    depth_weight: float
    max_iterations: int
    function_tolerance: float
    flip: int
    sideways_ratio: float
    refine_translation: bool
    select_start_by_data: bool
    selection_sigma: float
    keypoints_3d_sigma: float
    knee_depth_weight: float
    knee_depth_sigma: float
    leg_keypoints: list[int]
    track_orient_weight: float
    track_pose_weight: float
    track_transl_weight: float
    track_velocity_ratio: float
    track_function_tolerance: float
    track_held_joints: list[int]
    track_max_iterations: int
    track_stop_tolerance: float
    stop_tolerance: float
    stop_rule: int
    warm_stages: int
    prior_starts: bool
    hypothesis_first_stage: int
    hypothesis_score_weight: float
    reading_weight: float
    reading_sigma: float
    leg_flips: bool
    start_scorer: list[float]
    record_starts: bool
    prune_starts: int
    prune_stage: int
    prune_distance: float
    threads: int
    def __init__(self) -> None:
        """The defaults."""

class StageWeights:
    """The λ of one stage (they multiply residuals)."""

    @property
    def pose(self) -> float: ...
    @property
    def shape(self) -> float: ...
    @property
    def angle(self) -> float: ...
    @property
    def interpenetration(self) -> float: ...

class TermEnergies:
    """Sum of squares of each term's weighted rows."""

    @property
    def data(self) -> float: ...
    @property
    def pose(self) -> float: ...
    @property
    def angle(self) -> float: ...
    @property
    def shape(self) -> float: ...
    @property
    def interpenetration(self) -> float: ...
    @property
    def keypoints_3d(self) -> float: ...
    @property
    def knee_depth(self) -> float: ...
    @property
    def total(self) -> float:
        """Sum of the terms."""
    def as_dict(self) -> dict[str, float]:
        """data, pose, angle, shape, interpenetration, keypoints_3d, knee_depth and total by
        name."""

class StageReport:
    """One solver stage: weights, iterations, costs, time."""

    @property
    def name(self) -> str:
        """"torso", "stage 1" .. "stage N"."""
    @property
    def weights(self) -> StageWeights: ...
    @property
    def iterations(self) -> int: ...
    @property
    def fixed_shape_iterations(self) -> int: ...
    @property
    def termination(self) -> str: ...
    @property
    def message(self) -> str:
        """Ceres' summary message: why the solve stopped."""
    @property
    def initial_cost(self) -> float: ...
    @property
    def final_cost(self) -> float: ...
    @property
    def seconds(self) -> float: ...

class FitReport:
    """What Fitter.fit returns: the chosen fit and its stages."""

    @property
    def global_orient(self) -> NDArray[np.float64]:
        """(3,)."""
    @property
    def body_pose(self) -> NDArray[np.float64]:
        """(69,)."""
    @property
    def betas(self) -> NDArray[np.float64]:
        """(B,)."""
    @property
    def transl(self) -> NDArray[np.float64]:
        """(3,), metres, camera frame."""
    @property
    def energy(self) -> TermEnergies: ...
    @property
    def finite(self) -> bool:
        """Whether the total energy, parameters, joints and vertices are all finite."""
    @property
    def stages(self) -> list[StageReport]:
        """The torso fit, then the chosen orientation's stages."""
    @property
    def sideways(self) -> bool: ...
    @property
    def flipped(self) -> bool: ...
    @property
    def tried(self) -> list[float]:
        """Data energy per orientation tried: initial, then flipped."""
    @property
    def initial_depth(self) -> float: ...
    @property
    def num_starts(self) -> int: ...
    @property
    def num_hypotheses(self) -> int: ...
    @property
    def num_pruned(self) -> int:
        """The prior's starts stopped early by FitOptions prune_starts, over the
        orientations."""
    @property
    def legs_flipped(self) -> int: ...
    @property
    def hypothesis(self) -> int:
        """The chosen start's hypothesis index, -1 for one of the prior's starts."""
    @property
    def start_features(self) -> NDArray[np.float64]:
        """(N, F) features of every finished start (start_scorer / record_starts)."""
    @property
    def start_joints(self) -> list[NDArray[np.float64]]:
        """N (24, 3) joints, camera frame."""
    @property
    def start_parameters(self) -> list[tuple[NDArray[np.float64], NDArray[np.float64],
                                             NDArray[np.float64]]]:
        """N (pose (72,), betas (B,), transl (3,)) of the recorded starts."""
    @property
    def start_keypoints(self) -> list[NDArray[np.float64]]:
        """N (K, 3) keypoints, camera frame (0 for a keypoint the model has none for)."""
    @property
    def start_hypotheses(self) -> list[int]:
        """Per start its hypothesis index, -1 for one of the prior's starts."""
    @property
    def start_default_scores(self) -> NDArray[np.float64]:
        """(N,) the default selection score S of each start."""
    @property
    def start_total_scores(self) -> NDArray[np.float64]:
        """(N,) what start_selection="total" compares: E_total + the reading penalty."""
    @property
    def chosen_start(self) -> int:
        """The start the learned scorer kept (-1: no scorer)."""
    @property
    def num_spheres(self) -> int: ...
    @property
    def num_sphere_pairs(self) -> int: ...
    @property
    def joints(self) -> NDArray[np.float64]:
        """(24, 3), metres, camera frame."""
    @property
    def vertices(self) -> NDArray[np.float64]:
        """(N, 3), metres, camera frame."""
    @property
    def keypoints(self) -> NDArray[np.float64]:
        """(K, 3) the targets' points (0 where the model has none), metres, camera frame."""
    @property
    def track_energy(self) -> float:
        """E_track at the result (the online track's temporal rows; 0 without a track)."""
    @property
    def seconds(self) -> float: ...

class Fitter:
    """The staged SMPLify fit for one model and keypoint format."""

    def __init__(self, model: BodyModel, joint: Sequence[int],
                 vertex_ids: Sequence[ArrayLike], vertex_weights: Sequence[ArrayLike],
                 prior_means: ArrayLike, precision_cholesky: Sequence[ArrayLike],
                 neg_log_c: ArrayLike, capsules: dict[str, object] | None,
                 options: FitOptions, starts: Sequence[ArrayLike]) -> None:
        """joint (K,): SMPL joint or −1; vertex_ids / vertex_weights: K arrays, the vertex row
        of each surface keypoint (empty for joints); prior (M,69), M of (69,69), (M,);
        capsules: the capsule-file arrays plus ``incompatible`` pairs, or None; starts: body
        poses (69,) the stages start from."""
    def fit(self, keypoints: ArrayLike, weights: ArrayLike, confidence: ArrayLike,
            torso: Sequence[int], focal_length: float, center: ArrayLike,
            initial_pose: ArrayLike | None = None, initial_betas: ArrayLike | None = None,
            initial_transl: ArrayLike | None = None,
            keypoints_3d: ArrayLike | None = None,
            keypoints_3d_weight: float = 0.0, track_pose: ArrayLike | None = None,
            track_transl: ArrayLike | None = None, hold_shape: bool = False,
            hypotheses: Sequence[tuple[ArrayLike, ArrayLike, ArrayLike | None, float]]
            | None = None,
            readings: tuple[Sequence[ArrayLike], ArrayLike] | None = None,
            vertices: bool = True,
            track_gaps: tuple[float, float] = (1.0, 1.0),
            reading_weight_scale: float = 1.0) -> FitReport:
        """Fit one image; returns its FitReport (parameters, energies, per-stage reports).
        track_pose (2 x 72) and track_transl (2 x 3), the two frames before (older first),
        add the online track's temporal rows (cpp/fitter.h TrackHistory); hold_shape keeps
        the initial betas. hypotheses: (pose (72,), betas, keypoints_3d (K, 3) or None, log
        score) readings a cold fit starts from besides (options.prior_starts) the prior's.
        readings: (list of K x 3 keypoints, log weights) for the start selection's reading
        score (cpp/reading_score.h); reading_weight_scale: this image's factor on
        options.reading_weight (λ_R = reading_weight · scale, >= 0). vertices=False leaves
        the report's vertices (0, 3) (posed later when wanted); track_gaps: frames from the
        older track frame to the last and from the last to this one (> 1 across frames the
        detector missed)."""
    def evaluate_term(self, term: str, stage: int, keypoints: ArrayLike, weights: ArrayLike,
                      torso: Sequence[int], focal_length: float, center: ArrayLike,
                      pose: ArrayLike, betas: ArrayLike,
                      transl: ArrayLike, keypoints_3d: ArrayLike | None = None,
                      keypoints_3d_weight: float = 0.0
                      ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Residuals and Jacobian over [global_orient, body_pose, betas, transl] of one term at
        stage `stage`'s weights (spheres built from `betas`)."""

class Initializer:
    """The learned initialiser's inference (cpp/learned_initializer.h)."""

    num_keypoints: int
    num_hypotheses: int

    def __init__(self, weights: Sequence[ArrayLike], biases: Sequence[ArrayLike],
                 num_keypoints: int, num_hypotheses: int) -> None:
        """weights: per layer (out, in) float32; biases: per layer (out,) float32."""
    def features(self, keypoints: ArrayLike, image_size: ArrayLike,
                 focal_length: float) -> NDArray[np.float32]:
        """Network input (3K + 3,) float32 of keypoints (K, 3)."""
    def raw(self, features: ArrayLike) -> NDArray[np.float32]:
        """Network output (M * 145 + 10,) float32 of features (3K + 3,)."""
    def predict(self, keypoints: ArrayLike, image_size: ArrayLike, focal_length: float,
                count: int = 0) -> tuple[NDArray[np.int32], NDArray[np.float64],
                                         NDArray[np.float64], NDArray[np.float64],
                                         NDArray[np.float64]]:
        """The best `count` readings (0: all M), best first: (index (n,), score (n,), pose
        (n, 72) axis-angle, betas (10,), rotations (n, 216): 24 row-major 3 x 3 each)."""


class KeypointPoser:
    """A format's keypoints of a body, no Jacobians (cpp/keypoint_poser.h)."""

    def __init__(self, model: BodyModel, joint: Sequence[int],
                 vertex_ids: Sequence[ArrayLike], vertex_weights: Sequence[ArrayLike]) -> None:
        """joint (K,): SMPL joint or −1; vertex_ids / vertex_weights: K arrays, the vertex row
        of each surface keypoint (empty for joints)."""
    def pose(self, pose: ArrayLike, betas: ArrayLike) -> NDArray[np.float64]:
        """Keypoints (K, 3) metres of the body posed at `pose` (72,) with `betas` at the
        origin."""
    def pose_top_reading(self, initializer: Initializer, keypoints: ArrayLike,
                         image_size: ArrayLike, focal_length: float,
                         betas: ArrayLike | None = None) -> NDArray[np.float64]:
        """Keypoints (K, 3) metres of the initialiser's top reading of `keypoints` (K, 3),
        posed at the origin with `betas` (None: the reading's own, as far as the model has
        them): Initializer.predict and pose in one call (the online Fitter's anchor)."""


class PoseFilter:
    """The online Fitter's output filter (cpp/pose_filter.h): the One Euro filter on (72,)
    SMPL poses (per joint, on the rotation group) and (3,) translations, one frame at a
    time; twin: smplify.pose_filter.PoseOneEuro."""

    def __init__(self, fps: float, min_cutoff: float, beta: float,
                 d_cutoff: float = 1.0, keypoint_beta: float = 0.0,
                 keypoint_floor: float = 0.0) -> None:
        """fps, min_cutoff, d_cutoff > 0 and beta, keypoint_beta, keypoint_floor >= 0,
        finite (else ValueError)."""
    def reset(self) -> None:
        """Forget the past: the next frame passes through unchanged."""
    def __call__(self, pose: ArrayLike, transl: ArrayLike, frames: int = 1,
                 keypoint_speed: ArrayLike | None = None
                 ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """This frame's filtered (pose (72,), transl (3,)); ``frames`` since the last one
        filtered; ``keypoint_speed`` (25,) person sizes/s (pose_filter.KeypointSpeed) or
        None. ValueError on wrong sizes or non-finite input (the state unchanged)."""
    def lag_frames(self) -> float:
        """Frames a ramp is followed behind at rest."""
    @property
    def lag(self) -> float: ...

class KeypointSpeed:
    """Per-joint 2D keypoint speeds, person sizes / s, for PoseFilter's keypoint_speed
    (cpp/keypoint_speed.h); twin: smplify.pose_filter.KeypointSpeed."""

    def __init__(self, moved: ArrayLike, torso: ArrayLike, mirror: ArrayLike,
                 fps: float) -> None:
        """moved (24, K) 0/1, torso (4,) and mirror (K,) indices, fps > 0 (else
        ValueError)."""
    def reset(self) -> None:
        """Forget the last frame: the next one's speeds are zero."""
    def __call__(self, xy: ArrayLike, confidence: ArrayLike, size: float,
                 frames: int = 1) -> NDArray[np.float64]:
        """(25,) speeds (per joint, then the torso's centre) of keypoints xy (K, 2) px with
        confidence (K,), a person ``size`` px (NaN: unknown), ``frames`` since the last."""

def labelling_scores(predicted: ArrayLike, xy: ArrayLike, weights: ArrayLike,
                     permutations: ArrayLike, sigma: float) -> NDArray[np.float64]:
    """(P,) Σ_k w_π(k) ρ(‖x̂_k − x_π(k)‖²) per permutation π (P, K) of the keypoints xy
    (K, 2) against the predicted ones (K, 2), Geman-McClure at σ pixels (cpp/track_checks.h;
    twin: smplify.online.labelling_scores)."""

def median_error_fraction(report: FitReport, xy: ArrayLike, weights: ArrayLike,
                          focal_length: float, center: ArrayLike) -> float:
    """The report's median 2D error over the keypoints used (weights > 0) over their
    bounding box's diagonal; inf if not finite (twin: smplify.online.median_error_fraction)."""

def fit_sequence(fitter: Fitter, keypoints: ArrayLike, weights: ArrayLike, focal_length: float,
                 center: ArrayLike, initial_pose: ArrayLike, initial_betas: ArrayLike,
                 initial_transl: ArrayLike, temporal_weights: ArrayLike, max_iterations: int,
                 function_tolerance: float, iterative: bool = False,
                 fixed_frames: Sequence[int] = (), hold_betas: bool = False,
                 keypoints_3d: ArrayLike | None = None, keypoints_3d_weight: float = 0.0,
                 initial_damping: float = 1e-4, retries: int = 0) -> dict[str, object]:
    """One sparse solve over T frames (cpp/sequence_fitter.h): keypoints (T·K, 2), weights
    (T, K), initial_pose (T, 72), initial_betas (B,), initial_transl (T, 3), temporal_weights
    (λ_R, λ_θ, λ_γ); iterative: conjugate gradients even where a sparse Cholesky exists
    (what a Ceres without a sparse back end runs); fixed_frames: frames held at their start;
    hold_betas: β held at initial_betas; keypoints_3d: (T·K, 3) metres, NaN rows unknown, or
    None: each frame's relative 3D term at keypoints_3d_weight; initial_damping: the first
    Levenberg-Marquardt damping μ₀; retries: rejected steps not counted against
    max_iterations, up to this many (the block-banded solver's). Returns a dict: betas,
    pose (T, 72), transl (T, 3), energies (T, 6: data, pose, angle, interpenetration,
    temporal, keypoints_3d), shape_energy, num_observed, iterations, rejected_steps,
    termination, initial_cost, final_cost, joints (T·24, 3), keypoints (T·K, 3), seconds,
    linear_solver_seconds, evaluation_seconds, solver; steps (the block-banded solve's, a
    dict each: accepted, damping, cost, trial_cost, predicted, jacobians,
    linear_cpu_seconds, evaluation_cpu_seconds), first_evaluation_cpu_seconds,
    finish_cpu_seconds (this thread's CPU)."""


def sequence_normal_equations(fitter: Fitter, keypoints: ArrayLike, weights: ArrayLike,
                              focal_length: float, center: ArrayLike, initial_pose: ArrayLike,
                              initial_betas: ArrayLike, initial_transl: ArrayLike,
                              temporal_weights: ArrayLike,
                              keypoints_3d: ArrayLike | None = None,
                              keypoints_3d_weight: float = 0.0,
                              reuse_pose_prior_products: bool = True
                              ) -> dict[str, NDArray[np.float64] | int]:
    """The sequence fit's Gauss-Newton normal equations at the start (arguments as
    fit_sequence's, E_3D included when keypoints_3d is given with keypoints_3d_weight > 0), two ways
    (cpp/sequence_fitter.h, SequenceNormalEquations): "hessian" JᵀJ and "gradient" −Jᵀr
    as the block-banded solve sums them, "jacobian" J and "residuals" r as Ceres evaluates
    the same energy; columns per frame ω, θ, γ, then β. ``reuse_pose_prior_products``: the
    assembly's cache of the pose prior's JᵀJ (BandedAssembly::PosePriorGram) on, as in the
    fit, or off; "pose_prior_products_computed" and "pose_prior_products_reused" count them."""


def block_banded_solve(h: ArrayLike, g: ArrayLike, num_frames: int, frame_size: int,
                       border_size: int, damping: float = 0.0,
                       fixed: list[int] = ..., then: list[float] = ...
                       ) -> NDArray[np.float64]:
    """x solving (H + damping diag(H)) x = g, H (n, n) block-banded (frames couple to t ± 2)
    plus a border of border_size, n = num_frames * frame_size + border_size; ``fixed``
    indices get x = 0 (cpp/block_banded.h, the sequence fit's linear solver). ``then``: more
    dampings solved after the first through one reused workspace (as the joint solve's
    steps); the solutions then come as rows (len(then) + 1, n)."""


def track_term(before: ArrayLike, last: ArrayLike, frame: ArrayLike, weights: ArrayLike,
               velocity_ratio: float, gaps: tuple[float, float] = (1.0, 1.0)
               ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The online track's E_track rows (cpp/track_term.h: 82) and their Jacobian (82, 75)
    over the frame's [orient, body_pose, transl]; frames as 75 values [ω, θ, γ] each,
    weights (λ_R, λ_θ, λ_γ), gaps (h₁, h₂) in frames."""


def track_root_term(before: ArrayLike, last: ArrayLike, frame: ArrayLike, weights: ArrayLike,
                    velocity_ratio: float, gaps: tuple[float, float] = (1.0, 1.0)
                    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """E_track's rows without the body pose's (cpp/track_term.h TrackRootCost: 13) and their
    Jacobian (13, 6) over the frame's [orient, transl]; arguments as :func:`track_term`."""


def tracked_pose_prior_term(means: ArrayLike, precision_cholesky: list[ArrayLike],
                            neg_log_c: ArrayLike, weight: float, track_weight: float,
                            track_target: ArrayLike, body_pose: ArrayLike
                            ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """E_θ joined to the track's body-pose rows (cpp/tracked_pose_prior_term.h): 70 rows and
    their Jacobian (70, 69) at ``body_pose`` (69,), for the prior's means (M, 69), lower
    precision factors (M of (69, 69)), −log c (M,), λ_θ ``weight`` and the track's
    w ``track_weight`` > 0 and m ``track_target`` (69,)."""


def temporal_term(orient: ArrayLike, body_pose: ArrayLike, transl: ArrayLike,
                  weights: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The temporal term's 81 residuals and Jacobian (81, 225) for frames t−1, t, t+1:
    orient (3, 3), body_pose (3, 69), transl (3, 3), weights (λ_R, λ_θ, λ_γ)."""
