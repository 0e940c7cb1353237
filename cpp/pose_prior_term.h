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

#include <vector>

#include <ceres/sized_cost_function.h>

#include "fit_inputs.h"

namespace smplify {

// k* of the prior at a run of points (one cost's solve), as PosePriorCost::BestComponent
// chooses it, with fewer of the M triangular products: a component is skipped at x when its
// ‖r_k(x)‖² is provably above that of a component already computed there, by
//
//   ‖L_kᵀ(x − μ_k)‖ ≥ ‖L_kᵀ(x' − μ_k)‖ − σ_k ‖x − x'‖
//
// (x' the last point it was computed at, σ_k ≥ L_k's largest singular value: `bounds`), with a
// margin far above the arithmetic's rounding. The components computed are BestComponent's own
// arithmetic (PosePriorCost::ComponentRows), and the last point's k* is computed first (a solve
// rarely changes it): k* (the first of equals) and its rows are the same bits. Empty `bounds`
// (or one per component not given): every component is computed. Not thread-safe (one per
// cost, solved on one thread).
class ComponentChoice {
 public:
  ComponentChoice(const PosePriorArrays& prior, std::vector<double> bounds);

  // BestComponent(prior, body_pose, rows).
  int Best(const Eigen::Ref<const Eigen::VectorXd>& body_pose, Eigen::Matrix<double, 70, 1>* rows);

  // Components computed so far (each a triangular 69 × 69 product; tests).
  long computed() const { return computed_; }

 private:
  const PosePriorArrays& prior_;
  const std::vector<double> bounds_;  // σ_k, or empty
  Eigen::MatrixXd points_;            // 69 × M: x' per component
  Eigen::VectorXd lengths_;           // M: ‖L_kᵀ(x' − μ_k)‖ (NaN: not computed yet)
  int last_ = -1;                     // the last point's k*
  long computed_ = 0;
};

class PosePriorCost : public ceres::SizedCostFunction<kBodyPoseSize + 1 /* residuals */, kBodyPoseSize /* body_pose */> {
 public:
  // bounds: σ_k ≥ ‖L_k‖₂ per component (ComponentChoice), or empty.
  PosePriorCost(const PosePriorArrays& prior, double weight, std::vector<double> bounds = {})
      : prior_(prior), weight_(weight), choice_(prior, std::move(bounds)) {}

  bool Evaluate(double const* const* parameters, double* residuals,
                double** jacobians) const override;

  // The component argmin_k ‖r_k(x)‖² (the first of equals) and its unweighted 70 rows; −1,
  // and *rows untouched, if no component's ‖r_k(x)‖² is finite.
  static int BestComponent(const PosePriorArrays& prior,
                           const Eigen::Ref<const Eigen::VectorXd>& body_pose,
                           Eigen::Matrix<double, 70, 1>* rows);

  // Component k's unweighted 70 rows at `body_pose` into *rows and their ‖·‖² (returned), and
  // ‖L_kᵀ(x − μ_k)‖ into *length unless null: BestComponent's arithmetic for one component.
  static double ComponentRows(const PosePriorArrays& prior, int k,
                              const Eigen::Ref<const Eigen::VectorXd>& body_pose,
                              Eigen::Matrix<double, 70, 1>* rows, double* length = nullptr);

 private:
  const PosePriorArrays& prior_;
  const double weight_;  // λ_θ
  // The last point's k* and rows: Ceres evaluates an accepted step's point twice (its cost,
  // then its Jacobian), and k* costs M triangular 69 × 69 products. Keyed by the point's bits;
  // not thread-safe (one cost per problem, solved on one thread: SolverOptions).
  mutable Eigen::Matrix<double, kBodyPoseSize, 1> cached_pose_;
  mutable Eigen::Matrix<double, 70, 1> cached_rows_;
  mutable int cached_component_ = -1;
  mutable ComponentChoice choice_;
};

}  // namespace smplify
