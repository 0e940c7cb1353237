// E_J, the keypoint data term (SPEC §2; joints and surface keypoints alike):
//
//   r_{i,c} = λ · w_i · ρ(π_c(X_i) − x̂_{i,c}),   c ∈ {u, v},
//   ρ(e) = σ e / sqrt(σ² + e²)   (Geman-McClure per coordinate; ρ(e)² = σ² e² / (σ² + e²)),
//   ρ'(e) = σ³ / (σ² + e²)^{3/2}.
//
// X_i: keypoint i of the posed model in the camera frame (from BodyEvaluation), π: the pinhole
// projection, x̂_i: the detection, w_i: its weight. robust = false uses ρ(e) = e (the torso fit).
// Parameter blocks: global_orient (3), body_pose (69), betas (B), transl (3).
// Symbols: X_i keypoint (metres, camera frame), x̂_i detection (px), w_i weight, σ (px), λ = 1.
#pragma once

#include <vector>

#include <ceres/cost_function.h>

#include "body_evaluation.h"
#include "fit_inputs.h"

namespace smplify {

class KeypointDataCost : public ceres::CostFunction {
 public:
  // keypoint_ids: which keypoints enter (rows 2m, 2m+1 for keypoint_ids[m]); weights: w per id.
  KeypointDataCost(BodyEvaluation* evaluation, const Observation& observation,
                std::vector<int> keypoint_ids, Eigen::VectorXd weights, bool robust,
                double sigma, int num_betas);

  bool Evaluate(double const* const* parameters, double* residuals,
                double** jacobians) const override;

 private:
  BodyEvaluation* evaluation_;
  const Observation& observation_;
  const std::vector<int> keypoint_ids_;
  const Eigen::VectorXd weights_;
  const bool robust_;
  const double sigma_;
};

}  // namespace smplify
