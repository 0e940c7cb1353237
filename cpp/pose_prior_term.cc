#include "pose_prior_term.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <utility>
#include <vector>

namespace smplify {

double PosePriorCost::ComponentRows(const PosePriorArrays& prior, int k,
                                    const Eigen::Ref<const Eigen::VectorXd>& body_pose,
                                    Eigen::Matrix<double, 70, 1>* rows, double* length) {
  const double sqrt_half = std::sqrt(0.5);
  const Eigen::Matrix<double, kBodyPoseSize, 1> d = body_pose - prior.means.row(k).transpose();
  const Eigen::Matrix<double, kBodyPoseSize, 1> whitened =
      prior.precision_cholesky[k].transpose().triangularView<Eigen::Upper>() * d;  // L_kᵀ(x − μ_k)
  rows->head<kBodyPoseSize>() = sqrt_half * whitened;
  (*rows)(kBodyPoseSize) = std::sqrt(prior.neg_log_c(k));
  if (length != nullptr) *length = whitened.norm();
  return rows->squaredNorm();
}

int PosePriorCost::BestComponent(const PosePriorArrays& prior,
                                 const Eigen::Ref<const Eigen::VectorXd>& body_pose,
                                 Eigen::Matrix<double, 70, 1>* rows) {
  int best = -1;
  double best_energy = std::numeric_limits<double>::infinity();
  Eigen::Matrix<double, 70, 1> candidate;
  for (int k = 0; k < prior.means.rows(); ++k) {
    const double energy = ComponentRows(prior, k, body_pose, &candidate);
    if (energy < best_energy) {
      best_energy = energy;
      best = k;
      *rows = candidate;
    }
  }
  return best;
}

ComponentChoice::ComponentChoice(const PosePriorArrays& prior, std::vector<double> bounds)
    : prior_(prior),
      bounds_(static_cast<Eigen::Index>(bounds.size()) == prior.means.rows() ? std::move(bounds)
                                                                            : std::vector<double>{}),
      // zeros: the bound in Best reads x' before k's first compute (NaN either way through
      // its NaN length, but reading unset memory is undefined behaviour)
      points_(Eigen::MatrixXd::Zero(kBodyPoseSize, prior.means.rows())),
      lengths_(Eigen::VectorXd::Constant(prior.means.rows(),
                                         std::numeric_limits<double>::quiet_NaN())) {}

int ComponentChoice::Best(const Eigen::Ref<const Eigen::VectorXd>& body_pose,
                          Eigen::Matrix<double, 70, 1>* rows) {
  const int count = static_cast<int>(prior_.means.rows());
  if (bounds_.empty()) {
    computed_ += count;
    return PosePriorCost::BestComponent(prior_, body_pose, rows);
  }
  int best = -1;
  double least = std::numeric_limits<double>::infinity();  // of those computed so far
  Eigen::Matrix<double, 70, 1> candidate;
  const auto compute = [&](int k) {
    double length = 0.0;
    const double energy = PosePriorCost::ComponentRows(prior_, k, body_pose, &candidate, &length);
    points_.col(k) = body_pose;
    lengths_(k) = length;
    ++computed_;
    // As BestComponent: the least ‖r_k‖², the first (lowest k) of equals.
    if (energy < least || (energy == least && k < best)) {
      least = energy;
      best = k;
      *rows = candidate;
    }
  };
  const int first = last_;  // the last point's k*, computed first: the bound is then tight
  if (first >= 0) compute(first);
  for (int k = 0; k < count; ++k) {
    if (k == first) continue;
    // ‖r_k(x)‖² ≥ ½ (‖L_kᵀ(x' − μ_k)‖ − σ_k ‖x − x'‖)² − log c_k; NaN anywhere: computed.
    const double reach = lengths_(k) - bounds_[k] * (body_pose - points_.col(k)).norm();
    if (reach > 0.0) {
      const double floor = 0.5 * reach * reach + prior_.neg_log_c(k);
      if (floor > least + 1e-9 * (std::abs(least) + 1.0)) continue;  // rounding: ~1e-13 of it
    }
    compute(k);
  }
  last_ = best;
  return best;
}

bool PosePriorCost::Evaluate(double const* const* parameters, double* residuals,
                             double** jacobians) const {
  const Eigen::Map<const Eigen::Matrix<double, kBodyPoseSize, 1>> body_pose(parameters[0]);
  if (cached_component_ < 0 ||
      std::memcmp(body_pose.data(), cached_pose_.data(), sizeof(double) * kBodyPoseSize) != 0) {
    cached_component_ = choice_.Best(body_pose, &cached_rows_);
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
