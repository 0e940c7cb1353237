// E_3D, the relative 3D keypoint term (SPEC §6, "Depth evidence" and "Anchor term"):
//
//   r_{i,c} = λ · w_i · ρ((X_i − X̄)_c − (Ŷ_i − Ȳ)_c),   c ∈ {x, y, z},  i ∈ S,
//   X̄ = (1/|S|) Σ_{j∈S} X_j,   Ȳ = (1/|S|) Σ_{j∈S} Ŷ_j,
//   ρ(e) = σ e / sqrt(σ² + e²)   (Geman-McClure per coordinate, as E_J),
//   ρ'(e) = σ³ / (σ² + e²)^{3/2}.
//
// Both point sets are taken relative to their own centroid over S, so the target may have any
// origin (MediaPipe's world landmarks sit between the hips; a lifter's at the pelvis) and the
// camera translation cancels: the term constrains the body's 3D shape as seen from the camera
// (which limb is nearer, how far a knee bends toward the camera), not where it is.
// Symbols: X_i keypoint i of the model (metres, camera frame), Ŷ_i its 3D target in
// camera-aligned axes (x right, y down, z away; metres), w_i its weight, S the keypoints with
// w_i > 0 and a finite target, σ (metres), λ the term's weight.
// Parameter blocks: global_orient (3), body_pose (69), betas (B), transl (3).
#pragma once

#include <vector>

#include <ceres/cost_function.h>

#include "body_evaluation.h"

namespace smplify {

class RelativeKeypointCost : public ceres::CostFunction {
 public:
  // keypoint_ids: S (rows 3m..3m+2 for keypoint_ids[m]); targets: Ŷ, one row per id;
  // weights: w per id. Needs at least two ids (a single point has no relative position).
  RelativeKeypointCost(BodyEvaluation* evaluation, std::vector<int> keypoint_ids,
                       MatX3 targets, Eigen::VectorXd weights, double sigma, double lambda,
                       int num_betas);

  bool Evaluate(double const* const* parameters, double* residuals,
                double** jacobians) const override;

 private:
  BodyEvaluation* evaluation_;
  const std::vector<int> keypoint_ids_;
  const MatX3 relative_targets_;  // Ŷ_i − Ȳ
  const Eigen::VectorXd weights_;
  const double sigma_;
  const double lambda_;
};

}  // namespace smplify
