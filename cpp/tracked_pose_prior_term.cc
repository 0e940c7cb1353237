#include "tracked_pose_prior_term.h"

#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

#include <Eigen/Eigenvalues>

#include "pose_prior_term.h"

namespace smplify {

std::vector<PriorEigen> DecomposePrior(const PosePriorArrays& prior) {
  std::vector<PriorEigen> out(prior.precision_cholesky.size());
  for (size_t k = 0; k < out.size(); ++k) {
    // L_k's lower triangle only, as PosePriorCost reads it (L_kᵀ as its upper view): a factor
    // with entries above the diagonal then gives the same precision in both.
    const BodyPoseMatrix lower = prior.precision_cholesky[k].triangularView<Eigen::Lower>();
    const BodyPoseMatrix precision = lower * lower.transpose();
    const Eigen::SelfAdjointEigenSolver<BodyPoseMatrix> solver(precision);
    if (solver.info() != Eigen::Success) {
      throw std::invalid_argument("prior: precision factor " + std::to_string(k) +
                                  " has no eigendecomposition (its entries must be finite)");
    }
    out[k].vectors = solver.eigenvectors();
    out[k].values = solver.eigenvalues();
    out[k].rotated_mean = out[k].vectors.transpose() * prior.means.row(static_cast<Eigen::Index>(k)).transpose();
  }
  return out;
}

std::vector<double> FactorNorms(const std::vector<PriorEigen>& eigen) {
  std::vector<double> out;
  for (const PriorEigen& e : eigen) out.push_back(std::sqrt(e.values.maxCoeff()) * (1.0 + 1e-6));
  return out;
}

TrackedPosePriorCost::TrackedPosePriorCost(const PosePriorArrays& prior,
                                           const std::vector<PriorEigen>& eigen,
                                           const std::vector<double>& bounds, double weight,
                                           double track_weight,
                                           const BodyPoseVector& track_target)
    : prior_(prior),
      eigen_(eigen),
      choice_(prior, bounds),
      weight_(weight),
      track_weight_(track_weight),
      track_target_(track_target),
      components_(eigen.size()) {
  if (static_cast<Eigen::Index>(eigen.size()) != prior.means.rows()) {
    throw std::invalid_argument("tracked pose prior: one eigendecomposition per prior component");
  }
  // s_k² = λ_θ²/2 Λ_k + w² > 0 for every k (the rows divide by it): w² > 0 suffices as Λ_k ≥ 0,
  // but a tiny w whose square underflows, or a prior whose Λ_k round below 0, would not.
  const double w2 = track_weight * track_weight;
  for (const PriorEigen& e : eigen) {
    if (!((0.5 * weight * weight * e.values.array() + w2) > 0.0).all()) {
      throw std::invalid_argument(
          "tracked pose prior: needs s_k^2 = weight^2/2 Lambda_k + track_weight^2 > 0");
    }
  }
}

const TrackedPosePriorCost::Component& TrackedPosePriorCost::ComponentAt(int k) const {
  std::unique_ptr<Component>& slot = components_[static_cast<size_t>(k)];
  if (slot) return *slot;
  slot = std::make_unique<Component>();
  const PriorEigen& e = eigen_[static_cast<size_t>(k)];
  const double half = 0.5 * weight_ * weight_;     // λ_θ²/2
  const double w2 = track_weight_ * track_weight_;  // w²
  const BodyPoseVector prior_curvature = half * e.values;                   // λ_θ²/2 Λ
  const BodyPoseVector s2 = prior_curvature.array() + w2;                   // s²
  const BodyPoseVector& u = e.rotated_mean;                                 // V_kᵀ μ_k
  const BodyPoseVector v = e.vectors.transpose() * track_target_;           // V_kᵀ m
  const BodyPoseVector t =
      (prior_curvature.cwiseProduct(u) + w2 * v).cwiseQuotient(s2);         // V_kᵀ x*
  const double constant = (prior_curvature.array() * (t - u).array().square()).sum() +
                          weight_ * weight_ * prior_.neg_log_c(k) +
                          w2 * (t - v).squaredNorm();
  slot->jacobian = s2.cwiseSqrt().asDiagonal() * e.vectors.transpose();
  slot->centre = e.vectors * t;
  slot->constant = std::sqrt(constant);
  return *slot;
}

bool TrackedPosePriorCost::Evaluate(double const* const* parameters, double* residuals,
                                    double** jacobians) const {
  const Eigen::Map<const BodyPoseVector> body_pose(parameters[0]);
  if (cached_component_ < 0 ||
      std::memcmp(body_pose.data(), cached_pose_.data(), sizeof(double) * kBodyPoseSize) != 0) {
    Eigen::Matrix<double, kBodyPoseSize + 1, 1> rows;
    cached_component_ = choice_.Best(body_pose, &rows);
    cached_pose_ = body_pose;
  }
  const int k = cached_component_;
  if (k < 0) return false;
  const Component& c = ComponentAt(k);
  Eigen::Map<Eigen::Matrix<double, kBodyPoseSize + 1, 1>> r(residuals);
  r.head<kBodyPoseSize>() = c.jacobian * (body_pose - c.centre);
  r(kBodyPoseSize) = c.constant;
  if (jacobians != nullptr && jacobians[0] != nullptr) {
    Eigen::Map<Eigen::Matrix<double, kBodyPoseSize + 1, kBodyPoseSize, Eigen::RowMajor>> J(
        jacobians[0]);
    J.topRows<kBodyPoseSize>() = c.jacobian;
    J.row(kBodyPoseSize).setZero();
  }
  return true;
}

}  // namespace smplify
