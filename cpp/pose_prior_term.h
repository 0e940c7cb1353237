// E_θ, the max-mixture Gaussian pose prior (SPEC §2, docs/design.md "Pose prior file"):
//
//   r_k(x) = λ_θ [ √½ L_kᵀ (x − μ_k) ; √(−log c_k) ]    (70 rows),   x = θ[3:72]
//   k* = argmin_k ‖r_k(x)‖², re-chosen at every new point;  ∂r/∂x = λ_θ [√½ L_k*ᵀ ; 0]
//
// A pose at which no component's ‖r_k‖² is finite (NaN, or so large that it overflows) cannot
// be evaluated: Evaluate returns false and Ceres treats the point as invalid.
//
// L_k: lower Cholesky factor of Σ_k⁻¹; c_k: mixture weight over the Gaussian normaliser.
// Parameter block: body_pose (69).
#pragma once

#include <ceres/sized_cost_function.h>

#include "fit_inputs.h"

namespace smplify {

class PosePriorCost : public ceres::SizedCostFunction<kBodyPoseSize + 1 /* residuals */, kBodyPoseSize /* body_pose */> {
 public:
  PosePriorCost(const PosePriorArrays& prior, double weight) : prior_(prior), weight_(weight) {}

  bool Evaluate(double const* const* parameters, double* residuals,
                double** jacobians) const override;

  // The component argmin_k ‖r_k(x)‖² (the first of equals) and its unweighted 70 rows; −1,
  // and *rows untouched, if no component's ‖r_k(x)‖² is finite.
  static int BestComponent(const PosePriorArrays& prior,
                           const Eigen::Ref<const Eigen::VectorXd>& body_pose,
                           Eigen::Matrix<double, 70, 1>* rows);

 private:
  const PosePriorArrays& prior_;
  const double weight_;  // λ_θ
  // The last point's k* and rows: Ceres evaluates an accepted step's point twice (its cost,
  // then its Jacobian), and k* costs M triangular 69 × 69 products. Keyed by the point's bits;
  // not thread-safe (one cost per problem, solved on one thread: SolverOptions).
  mutable Eigen::Matrix<double, kBodyPoseSize, 1> cached_pose_;
  mutable Eigen::Matrix<double, 70, 1> cached_rows_;
  mutable int cached_component_ = -1;
};

}  // namespace smplify
