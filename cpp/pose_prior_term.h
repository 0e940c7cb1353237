// E_θ, the max-mixture Gaussian pose prior (SPEC §2, docs/design.md "Pose prior file"):
//
//   r_k(x) = λ_θ [ √½ L_kᵀ (x − μ_k) ; √(−log c_k) ]    (70 rows),   x = θ[3:72]
//   k* = argmin_k ‖r_k(x)‖²,  re-chosen at every evaluation;  ∂r/∂x = λ_θ [√½ L_k*ᵀ ; 0]
//
// L_k: lower Cholesky factor of Σ_k⁻¹; c_k: mixture weight over the Gaussian normaliser.
// Parameter block: body_pose (69).
#pragma once

#include <ceres/sized_cost_function.h>

#include "fit_inputs.h"

namespace smplify {

class PosePriorCost : public ceres::SizedCostFunction<70 /* residuals */, 69 /* body_pose */> {
 public:
  PosePriorCost(const PosePriorArrays& prior, double weight) : prior_(prior), weight_(weight) {}

  bool Evaluate(double const* const* parameters, double* residuals,
                double** jacobians) const override;

  // The component argmin_k ‖r_k(x)‖² and its unweighted 70 rows.
  static int BestComponent(const PosePriorArrays& prior,
                           const Eigen::Ref<const Eigen::VectorXd>& body_pose,
                           Eigen::Matrix<double, 70, 1>* rows);

 private:
  const PosePriorArrays& prior_;
  const double weight_;  // λ_θ
};

}  // namespace smplify
