// E_β, the shape prior (SPEC §2) for unit-variance betas:  r = λ_β β,  ∂r/∂β = λ_β I.
// Parameter block: betas (B).
#pragma once

#include <ceres/cost_function.h>

namespace smplify {

class ShapePriorCost : public ceres::CostFunction {
 public:
  ShapePriorCost(int num_betas, double weight) : weight_(weight) {
    set_num_residuals(num_betas);
    *mutable_parameter_block_sizes() = {num_betas};
  }

  bool Evaluate(double const* const* parameters, double* residuals,
                double** jacobians) const override;

 private:
  const double weight_;  // λ_β
};

}  // namespace smplify
