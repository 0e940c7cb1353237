// The offline sequence fit (SPEC §6 "Time"): one Ceres problem over T frames with one shared
// shape β, each frame's SMPLify terms at the last stage's weights, and temporal smoothness
// terms (temporal_term.h) on every three consecutive frames:
//
//   E = Σ_t [E_J,t + λ_θ² E_θ,t + λ_a² E_a,t + λ_sp² E_sp,t + E_3D,t] + (λ_β √T_obs)² E_β
//       + Σ_t E_T,t
//
// E_3D,t: the relative 3D keypoint term of a frame given 3D keypoints (relative_keypoint_term.h,
// the single-frame fit's, at the observation's keypoints_3d_weight λ_3D; none for a frame
// without, or with fewer than two finite 3D keypoints among its data term's).
// T_obs: frames with at least one keypoint of weight > 0. The shape prior's weight grows
// with √T_obs so that prior and data keep the ratio of a single-frame fit (T_obs frames'
// data terms constrain the one β). A frame without keypoints keeps its priors and the
// temporal terms, which fill it in. The solve refines a start (per-frame fits, warm-started);
// the normal equations are block-banded (each frame couples to t ± 1 and t ± 2) plus the
// shared β columns: Levenberg-Marquardt factors them in O(T) with block_banded.h (Ceres'
// sparse Cholesky spent ~0.1 s a step forming JᵀJ for 120 frames); `iterative` uses Ceres'
// Levenberg-Marquardt with conjugate gradients instead.
#pragma once

#include <string>
#include <vector>

#include "fitter.h"
#include "temporal_term.h"

namespace smplify {

struct SequenceOptions {
  TemporalWeights temporal;  // λ_R, λ_θ, λ_γ on residuals (already in the data term's units)
  int max_iterations = 50;
  double function_tolerance = 1e-6;
  // μ₀, Levenberg-Marquardt's first damping (Ceres' default: 1e-4, an initial trust region
  // radius of 1e4). The start is a per-frame fit, near the joint optimum; from it the
  // nearly undamped Gauss-Newton step overshoots into E_sp's wall (a sphere pair apart has
  // no gradient, one that meets costs ~10³ times a frame's data term), and each rejected
  // step (μ ×2, ×4, ×8, …) costs a whole evaluation: at μ₀ = 1e-4 the first 5 steps were
  // rejected (docs/video.md, "The joint solve's stall"). Kept as the default: held out
  // μ₀ = 1e-2 was a draw, and on real video rougher (the solve then follows the detections).
  double initial_damping = 1e-4;
  // Rejected steps not counted against max_iterations, up to this many (the block-banded
  // solver's; Ceres' `iterative` one counts every step): at a far person's start the steps
  // at μ₀ are rejected 2–5 times before one is taken (vtest.avi, docs/video.md "Temporal
  // weights for far people"), and with 2 iterations the solve returns its start. 0: every
  // step counts (the behaviour before).
  int retries = 0;
  // Conjugate gradients (Levenberg-Marquardt, CGNR) even where Ceres has a sparse Cholesky:
  // what a Ceres without a sparse back end runs (the wheel's).
  bool iterative = false;
  // Frames held at their start (all 75 parameters), e.g. the frames a window shares with
  // the window before it (their second differences then join the two smoothly).
  std::vector<int> fixed_frames;
  // β held at its start (a window after the first keeps the shape the first one fitted).
  bool hold_betas = false;
};

// One Levenberg-Marquardt step of the block-banded solve (its report, for measuring the
// solve: sequence_stages.py). CPU seconds are this thread's (CLOCK_THREAD_CPUTIME_ID).
struct SequenceStep {
  bool accepted = false;
  double damping = 0.0;     // μ the damped system was solved at
  double cost = 0.0;        // ½‖r‖² before the step
  double trial_cost = 0.0;  // at the trial point (+∞: not evaluated or not finite)
  double predicted = 0.0;   // the model's decrease gᵀδ − ½ δᵀHδ (0: not factorised)
  bool jacobians = false;   // the trial evaluated with its Jacobians (the next system)
  double linear_cpu_seconds = 0.0, evaluation_cpu_seconds = 0.0;
};

struct SequenceReport {
  Eigen::VectorXd betas;                 // the shared β
  std::vector<BodyParameters> frames;    // per frame (each with betas = the shared β)
  std::vector<TermEnergies> energies;    // per frame: data, pose, angle, interpenetration,
                                         // keypoints_3d (shape 0 here; the shared E_β is
                                         // `shape_energy`)
  Eigen::VectorXd temporal_energies;     // per frame t: ‖r_T‖² of the triple centred on t
  double shape_energy = 0.0;             // (λ_β √T_obs)² ‖β‖²
  int num_observed = 0;                  // T_obs
  int iterations = 0;
  // Of the iterations: steps not taken (gain ratio ρ ≤ 1e-3, i.e. the cost rose or fell by
  // too little, a non-finite cost, or a damped system that could not be factorised).
  int rejected_steps = 0;
  std::string termination;
  double initial_cost = 0.0, final_cost = 0.0;  // Ceres' ½‖r‖²
  double linear_solver_seconds = 0.0, evaluation_seconds = 0.0;  // of the solve
  std::vector<SequenceStep> steps;  // the block-banded solve's, in order (none: iterative)
  // CPU seconds (this thread's): the first evaluation with Jacobians, and the energies,
  // joints and keypoints at the result after the solve.
  double first_evaluation_cpu_seconds = 0.0, finish_cpu_seconds = 0.0;
  MatX3 joints;     // (T · 24) × 3, camera frame
  MatX3 keypoints;  // (T · K) × 3, camera frame
  double seconds = 0.0;
  std::string solver;  // minimiser and linear solver used
};

// Fits the frames' observations (one per frame; a frame with no person has every weight 0)
// from `initial` (one per frame; β taken from the first). The fitter supplies the model,
// targets, prior, capsules and the last stage's weights. Throws std::invalid_argument on bad
// input (sizes, non-finite start, no frame with a keypoint).
SequenceReport FitSequence(const Fitter& fitter, const std::vector<Observation>& observations,
                           const std::vector<BodyParameters>& initial,
                           const SequenceOptions& options);

// The Gauss-Newton normal equations at `initial` two ways, to test the assembly: `hessian`
// JᵀJ and `gradient` −Jᵀr as the block-banded solve sums them (θ per joint in the temporal
// term), and `jacobian` J and `residuals` r as Ceres evaluates the same E (Problem::Evaluate
// over the `iterative` solve's blocks: θ one 69-block, the temporal term one cost). Columns
// of both: per frame ω (3), θ (69), γ (3), then β; no parameter held. The assembly's cache
// of the pose prior's JᵀJ (one per distinct Jacobian) on or off by
// `reuse_pose_prior_products`; how many of those products it computed and reused.
struct NormalEquations {
  Eigen::MatrixXd hessian;
  Eigen::VectorXd gradient;
  Eigen::MatrixXd jacobian;
  Eigen::VectorXd residuals;
  int pose_prior_products_computed = 0, pose_prior_products_reused = 0;
};
NormalEquations SequenceNormalEquations(const Fitter& fitter,
                                        const std::vector<Observation>& observations,
                                        const std::vector<BodyParameters>& initial,
                                        const SequenceOptions& options,
                                        bool reuse_pose_prior_products = true);

}  // namespace smplify
