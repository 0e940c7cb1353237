// Everything a fit needs besides the body model, as plain arrays (no Python types).
#pragma once

#include "reading_score.h"

#include <array>
#include <string>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include "body_model.h"
#include "camera.h"

namespace smplify {

// The fit's parameter blocks; Ceres reads and writes these arrays in place.
struct BodyParameters {
  Vec3 global_orient = Vec3::Zero();                                // θ[0:3]
  Eigen::Matrix<double, kBodyPoseSize, 1> body_pose =
      Eigen::Matrix<double, kBodyPoseSize, 1>::Zero();           // θ[3:72]
  Eigen::VectorXd betas;                                            // β
  Vec3 transl = Vec3::Zero();                                       // γ

  PoseVector Pose() const {
    PoseVector pose;
    pose << global_orient, body_pose;
    return pose;
  }
};

// Where each detector keypoint sits on the model: an SMPL joint, or Σ w·vertex.
struct KeypointTargets {
  std::vector<int> joint;  // K entries: joint index, or −1 for a surface keypoint
  std::vector<std::vector<std::pair<int, double>>> vertices;  // K lists of (vertex id, weight)
  std::vector<FoldedVertexCombination> folded;  // K: the lists folded per joint (FoldTargets)
  int size() const { return static_cast<int>(joint.size()); }
};

// Folds every surface keypoint's vertex list once (BodyModel::Fold).
void FoldTargets(const BodyModel& model, KeypointTargets* targets);

// One reading of an image by a learned initialiser, a start of its fit besides the prior's
// (FitOptions prior_starts): the body's rotation in the camera frame, its body pose, its
// betas (empty, or fewer than the model's: the rest are 0), and, optionally, its own E_3D targets (the reading's keypoints, K × 3, any origin; empty: the
// observation's keypoints_3d). log_score = log p, the initialiser's probability of this
// reading, which the start selection adds to the data term (hypothesis_score_weight).
struct StartHypothesis {
  Vec3 global_orient = Vec3::Zero();
  Eigen::Matrix<double, kBodyPoseSize, 1> body_pose =
      Eigen::Matrix<double, kBodyPoseSize, 1>::Zero();
  Eigen::VectorXd betas;
  MatX3 keypoints_3d;
  double log_score = 0.0;
};

// The 2D observations of one image.
struct Observation {
  Eigen::Matrix<double, Eigen::Dynamic, 2> keypoints;  // K × 2, pixels
  Eigen::VectorXd weights;     // K: confidence · format weight (data term)
  Eigen::VectorXd confidence;  // K: detector confidence (torso initialisation)
  // Keypoint indices of left shoulder, right shoulder, left hip, right hip (−1: none).
  std::array<int, 4> torso = {-1, -1, -1, -1};
  PinholeCamera camera;
  // Optional 3D keypoints (SPEC §6 depth evidence): K × 3 metres in camera-aligned axes, any
  // origin; a row with a non-finite entry is unknown. Empty: no relative 3D term.
  MatX3 keypoints_3d;
  // λ_3D of this image's E_3D: the detector's 3D keypoints or the learned initialiser's
  // anchor weigh differently (FitOptions keypoints_3d_weight / anchor_weight in Python).
  double keypoints_3d_weight = 0.0;
  // Readings of this image to start from besides (or instead of) the prior's starts; used by
  // a fit from scratch only (a warm start is its own single start).
  std::vector<StartHypothesis> hypotheses;
  // The learned initialiser's readings as a mixture for the start selection's reading score
  // (reading_score.h; FitOptions reading_weight); empty: no reading score.
  ReadingMixture readings;
  // Factor on FitOptions reading_weight for this image: λ_R = reading_weight · scale. Python's
  // FitOptions reading_weight_size s₀ and reading_weight_exponent a make it (s / s₀)^a, s the
  // diagonal of the confident keypoints' box (px): E_sel is in px², R in nats; 1: unscaled.
  double reading_weight_scale = 1.0;
};

// Max-mixture Gaussian pose prior over θ[3:72] (docs/design.md "Pose prior file").
struct PosePriorArrays {
  Eigen::MatrixXd means;                         // M × 69
  std::vector<Eigen::MatrixXd> precision_cholesky;  // M of 69 × 69, lower: Σ⁻¹ = L Lᵀ
  Eigen::VectorXd neg_log_c;                     // M, −log c_k > 0
};

// Linear capsule regressor β → (radius, length) and the capsules' rest geometry.
struct CapsuleArrays {
  std::vector<int> joint;                       // C: joint each capsule is attached to
  Eigen::Matrix<double, Eigen::Dynamic, 3> axis;    // C × 3 unit axes (rest frame)
  Eigen::Matrix<double, Eigen::Dynamic, 3> offset;  // C × 3
  Eigen::VectorXd start;                        // C
  Eigen::VectorXd radius_mean;                  // C
  Eigen::MatrixXd radius_betas;                 // C × B
  Eigen::VectorXd length_mean;                  // C
  Eigen::MatrixXd length_betas;                 // C × B
  std::vector<std::pair<int, int>> incompatible;  // pairs of capsule indices
};

// SPEC §3 constants and solver settings. Python's FitOptions has each of these fields with the
// same default (flip "auto"/False/True coded −1/0/1) except `threads`, whose None (one per
// core) Python resolves to a number before it gets here. Its init_pose and multi_start exist
// in Python only: they choose the FitContext's start poses. Bound as _core.FitOptions;
// tests/test_documented.py keeps these defaults equal to Python's.
struct FitOptions {
  std::vector<double> pose_prior_weights = {404.0, 404.0, 57.4, 4.78};
  std::vector<double> shape_prior_weights = {100.0, 50.0, 10.0, 5.0};
  double angle_prior_ratio = 0.317;
  double angle_prior_scale = 10.0;
  double interpenetration_weight = 1000.0;
  double sphere_sigma_scale = 1.0 / 3.0;
  double data_sigma = 100.0;
  double depth_weight = 100.0;
  int max_iterations = 100;
  double function_tolerance = 1e-4;
  int flip = -1;  // −1 auto (sideways test), 0 never, 1 always
  double sideways_ratio = 0.4;
  bool refine_translation = true;  // γ free in the stages too (SMPLify keeps it fixed)
  // Which of several start poses' results an orientation keeps: the lowest data term E_J
  // measured with the Geman-McClure σ = selection_sigma (px), or the lowest total energy.
  bool select_start_by_data = true;
  double selection_sigma = 20.0;
  // E_3D's Geman-McClure σ in metres (its λ comes with each Observation).
  double keypoints_3d_sigma = 0.2;
  // E_knee (knee_depth_term.h) in every stage: λ_k (0: off) and σ; leg_keypoints the left hip,
  // knee, ankle, right hip, knee, ankle keypoint ids of the format (−1: none; empty: no term).
  double knee_depth_weight = 0.0;
  double knee_depth_sigma = 0.1;
  std::vector<int> leg_keypoints;
  // Online tracking (TrackHistory in fitter.h): weights of the acceleration rows on the global
  // rotation matrix, body pose (rad) and translation (m), per pixel of a 1 m lever at the
  // person's depth, and the velocity rows' weight as a ratio of those.
  double track_orient_weight = 0.5;
  double track_pose_weight = 0.1;
  double track_transl_weight = 0.5;
  double track_velocity_ratio = 0.1;
  // Ceres' function tolerance of a tracked warm fit's solve (function_tolerance: the others).
  double track_function_tolerance = 1e-4;
  // SMPL joints (1..23, each once) whose rotations a tracked warm fit holds at its start (the
  // last frame's): their 3 columns each leave the solve, whose dense JᵀJ costs ∝ columns².
  // Empty (the default): none held.
  std::vector<int> track_held_joints;
  // Ceres iterations at most of a tracked warm fit's solve (0: max_iterations).
  int track_max_iterations = 0;
  // Ending a solve after an accepted step when the next step's relative decrease is predicted
  // below a tolerance (convergence_stop.h): of a tracked warm fit's solves, of every other
  // solve (fits from scratch: torso, stages, β-held solve); 0: off. stop_rule 0 predicts it
  // as d_k² / d_{k−1}, 1 takes d_k itself, 2 predicts it as d_k (g_k / g_{k−1})².
  double track_stop_tolerance = 0.0;
  double stop_tolerance = 0.0;
  int stop_rule = 0;
  // Stages a warm-started fit runs: the last this many.
  int warm_stages = 1;
  // Starts: the prior's (context starts, per orientation) unless an observation brings
  // hypotheses and prior_starts is false. A hypothesis runs the stages from
  // hypothesis_first_stage (0-based; the last if there are fewer; the strong-prior stages would pull it back to the
  // prior's reading); among hypotheses, and between the best hypothesis and the prior's
  // winner, the lower  DataEnergy(σ = selection_sigma) + hypothesis_score_weight ·
  // (log p_max − log p)  wins (p_max: the best-scored reading; 0 for the prior's starts).
  bool prior_starts = true;
  int hypothesis_first_stage = 2;
  double hypothesis_score_weight = 0.0;
  // Every start comparison above (among the prior's starts, between orientations, among
  // hypotheses, between the two) also adds reading_weight · reading_weight_scale · R (R the
  // observation's reading score, reading_score.h, τ = reading_sigma metres; the scale the
  // observation's), when it brings readings; 0: off.
  double reading_weight = 300.0;
  double reading_sigma = 0.1;
  // A fit from scratch with a reading score also tries its winner with each leg's depth
  // mirrored (leg_flip.h; legs that turn by less than 0.3 rad are skipped), refined by the
  // last stage, and keeps whichever scores lower (DataEnergy(σ = selection_sigma) +
  // reading_weight · reading_weight_scale · R).
  bool leg_flips = false;
  // A learned start selection (start_scorer.h): empty, off; else [F, W, b, v], the feature
  // count F (must be this build's kNumStartFeatures) then the weights (IsStartScorerOption). A fit
  // from scratch with hypotheses then keeps, of all its finished starts (the prior's in each
  // orientation and the readings), the one with the lowest score v · tanh(Wᵀ f + b).
  std::vector<double> start_scorer;
  // Keep every finished start's features and joints in the FitReport (start_features).
  bool record_starts = false;
  // Pruning a fit from scratch's prior starts (both 0, the default: every start runs every
  // stage): each orientation's starts run the stages up to and including prune_stage
  // (1-based, as the reports name them) and are ranked by the score the orientation's choice
  // uses (DataEnergy(σ = selection_sigma) + reading_weight · reading_weight_scale · R, or the
  // total energy at the last stage's weights without select_start_by_data; ties to the
  // earlier start). Going down that ranking, a start whose joints lie within prune_distance
  // (metres, mean over the 24 joints, camera frame; 0: off) of one already kept is dropped
  // (the same basin), and at most prune_starts are kept (0: no cap). Only the kept run the
  // rest; the dropped reach no selection, pool or start scorer. No effect when prune_stage is
  // not before the last stage.
  int prune_starts = 0;
  int prune_stage = 2;
  double prune_distance = 0.0;
  int threads = 1;
};

}  // namespace smplify
