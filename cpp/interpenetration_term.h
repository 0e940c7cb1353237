// E_sp, the sphere-Gaussian interpenetration term (SPEC §2):
//
//   r_ij = λ_sp · exp(−‖C_i − C_j‖² / (2 (σ_i² + σ_j²)))      one row per incompatible pair,
//   so r_ij² = λ_sp² exp(−d² / (σ_i² + σ_j²)).
//   ∂r_ij/∂C_i = −r_ij (C_i − C_j) / (σ_i² + σ_j²) = −∂r_ij/∂C_j.
//
// C: sphere centres (BodyEvaluation) on the skeleton held at the stage's starting β, σ = r/3:
// within a stage E_sp depends on θ only, so its gradient flows to θ only (SPEC §2). Parameter blocks: global_orient (3), body_pose (69).
#pragma once

#include <ceres/cost_function.h>

#include "body_evaluation.h"

namespace smplify {

class InterpenetrationCost : public ceres::CostFunction {
 public:
  InterpenetrationCost(BodyEvaluation* evaluation, double weight);

  bool Evaluate(double const* const* parameters, double* residuals,
                double** jacobians) const override;

 private:
  BodyEvaluation* evaluation_;
  const double weight_;  // λ_sp
};

}  // namespace smplify
