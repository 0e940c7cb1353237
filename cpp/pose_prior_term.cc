#include "pose_prior_term.h"

#include <cmath>
#include <cstring>
#include <limits>

namespace smplify {

int PosePriorCost::BestComponent(const PosePriorArrays& prior,
                                 const Eigen::Ref<const Eigen::VectorXd>& body_pose,
                                 Eigen::Matrix<double, 70, 1>* rows) {
  const double sqrt_half = std::sqrt(0.5);
  int best = -1;
  double best_energy = std::numeric_limits<double>::infinity();
  Eigen::Matrix<double, 70, 1> candidate;
  for (int k = 0; k < prior.means.rows(); ++k) {
    const Eigen::Matrix<double, kBodyPoseSize, 1> d = body_pose - prior.means.row(k).transpose();
    const Eigen::Matrix<double, kBodyPoseSize, 1> whitened =
        prior.precision_cholesky[k].transpose().triangularView<Eigen::Upper>() * d;  // L_kᵀ(x − μ_k)
    candidate.head<kBodyPoseSize>() = sqrt_half * whitened;
    candidate(kBodyPoseSize) = std::sqrt(prior.neg_log_c(k));
    const double energy = candidate.squaredNorm();
    if (energy < best_energy) {
      best_energy = energy;
      best = k;
      *rows = candidate;
    }
  }
  return best;
}

bool PosePriorCost::Evaluate(double const* const* parameters, double* residuals,
                             double** jacobians) const {
  const Eigen::Map<const Eigen::Matrix<double, kBodyPoseSize, 1>> body_pose(parameters[0]);
  if (cached_component_ < 0 ||
      std::memcmp(body_pose.data(), cached_pose_.data(), sizeof(double) * kBodyPoseSize) != 0) {
    cached_component_ = BestComponent(prior_, body_pose, &cached_rows_);
    cached_pose_ = body_pose;
  }
  const int k = cached_component_;
  if (k < 0) return false;
  Eigen::Map<Eigen::Matrix<double, 70, 1>> r(residuals);
  r = weight_ * cached_rows_;
  if (jacobians != nullptr && jacobians[0] != nullptr) {
    Eigen::Map<Eigen::Matrix<double, kBodyPoseSize + 1, kBodyPoseSize, Eigen::RowMajor>> J(jacobians[0]);
    J.topRows<kBodyPoseSize>() = (weight_ * std::sqrt(0.5)) * prior_.precision_cholesky[k].transpose();
    J.row(kBodyPoseSize).setZero();
  }
  return true;
}

}  // namespace smplify
