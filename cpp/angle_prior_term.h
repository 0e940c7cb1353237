// E_a, the elbow/knee angle prior (SPEC §2):
//
//   r_i = λ_a · α · exp(s_i θ[n_i]),   (n, s) = (55, +1), (58, −1), (12, −1), (15, −1),
//   α = 10;   ∂r_i/∂θ[n_i] = s_i r_i.
//
// Bending the elbows and knees the natural way drives r toward 0; the wrong way, up steeply.
// λ_a = 0 gives rows of 0 for any θ; where exp overflows (s_i θ > ~709) Evaluate returns false.
// Parameter block: body_pose (69) = θ[3:72].
#pragma once

#include <ceres/sized_cost_function.h>

#include "body_model.h"

namespace smplify {

class AnglePriorCost
    : public ceres::SizedCostFunction<4 /* residuals */, kBodyPoseSize /* body_pose */> {
 public:
  AnglePriorCost(double weight, double scale) : weight_(weight), scale_(scale) {}

  bool Evaluate(double const* const* parameters, double* residuals,
                double** jacobians) const override;

 private:
  const double weight_;  // λ_a
  const double scale_;   // α
};

}  // namespace smplify
