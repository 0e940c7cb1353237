// The torso fit's depth regulariser (SPEC §3.2):  r = w (t_z − t_z,init),  w = 100.
// Parameter block: transl (3).
#pragma once

#include <ceres/sized_cost_function.h>

namespace smplify {

class DepthPriorCost : public ceres::SizedCostFunction<1 /* residual */, 3 /* transl */> {
 public:
  DepthPriorCost(double initial_depth, double weight)
      : initial_depth_(initial_depth), weight_(weight) {}

  bool Evaluate(double const* const* parameters, double* residuals,
                double** jacobians) const override {
    residuals[0] = weight_ * (parameters[0][2] - initial_depth_);
    if (jacobians != nullptr && jacobians[0] != nullptr) {
      jacobians[0][0] = 0.0;
      jacobians[0][1] = 0.0;
      jacobians[0][2] = weight_;
    }
    return true;
  }

 private:
  const double initial_depth_;  // t_z,init (metres)
  const double weight_;         // w
};

}  // namespace smplify
