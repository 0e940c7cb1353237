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
    residuals[i] = weight_ * scale_ * std::exp(kSign[i] * body_pose[kPoseIndex[i] - 3]);
  }
  if (jacobians != nullptr && jacobians[0] != nullptr) {
    std::fill(jacobians[0], jacobians[0] + 4 * kBodyPoseSize, 0.0);
    for (int i = 0; i < 4; ++i) jacobians[0][kBodyPoseSize * i + kPoseIndex[i] - 3] = kSign[i] * residuals[i];
  }
  return true;
}

}  // namespace smplify
