#include "angle_prior_term.h"

#include <algorithm>
#include <cmath>

namespace smplify {
namespace {

// Indices into θ (72) and signs; body_pose index = θ index − 3.
constexpr int kPoseIndex[4] = {55, 58, 12, 15};
constexpr double kSign[4] = {1.0, -1.0, -1.0, -1.0};

}  // namespace

bool AnglePriorCost::Evaluate(double const* const* parameters, double* residuals,
                              double** jacobians) const {
  const double* body_pose = parameters[0];
  for (int i = 0; i < 4; ++i) {
    // λ_a = 0 (prior weights of 0): rows of 0 wherever θ is, not 0 · exp(s θ) = 0 · ∞ = NaN.
    residuals[i] = weight_ == 0.0
                       ? 0.0
                       : weight_ * scale_ * std::exp(kSign[i] * body_pose[kPoseIndex[i] - 3]);
    // exp overflows beyond s θ ≈ 709 rad: no value there. Returning false tells Ceres the
    // point cannot be evaluated (a rejected step); a non-finite residual would be logged.
    if (!std::isfinite(residuals[i])) return false;
  }
  if (jacobians != nullptr && jacobians[0] != nullptr) {
    std::fill(jacobians[0], jacobians[0] + 4 * kBodyPoseSize, 0.0);
    for (int i = 0; i < 4; ++i) jacobians[0][kBodyPoseSize * i + kPoseIndex[i] - 3] = kSign[i] * residuals[i];
  }
  return true;
}

}  // namespace smplify
