#include "relative_keypoint_term.h"

#include <cmath>
#include <stdexcept>
#include <utility>

namespace smplify {
namespace {

using RowMajorJacobian = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

MatX3 RelativeToCentroid(MatX3 points) {
  const Eigen::RowVector3d centroid = points.colwise().mean();
  points.rowwise() -= centroid;
  return points;
}

}  // namespace

RelativeKeypointCost::RelativeKeypointCost(BodyEvaluation* evaluation,
                                           std::vector<int> keypoint_ids, MatX3 targets,
                                           Eigen::VectorXd weights, double sigma, double lambda,
                                           int num_betas)
    : evaluation_(evaluation),
      keypoint_ids_(std::move(keypoint_ids)),
      relative_targets_(RelativeToCentroid(std::move(targets))),
      weights_(std::move(weights)),
      sigma_(sigma),
      lambda_(lambda) {
  const auto n = static_cast<Eigen::Index>(keypoint_ids_.size());
  if (n < 2 || relative_targets_.rows() != n || weights_.size() != n) {
    throw std::invalid_argument("relative keypoint term: need >= 2 ids, one target and weight each");
  }
  set_num_residuals(3 * static_cast<int>(n));
  *mutable_parameter_block_sizes() = {3, kPoseSize - 3, num_betas, 3};
}

bool RelativeKeypointCost::Evaluate(double const* const* /*parameters*/, double* residuals,
                                    double** jacobians) const {
  const bool want_jacobians = jacobians != nullptr;
  if (want_jacobians && !evaluation_->has_jacobians()) evaluation_->Update(true);
  const auto n = static_cast<Eigen::Index>(keypoint_ids_.size());
  const int num_betas = parameter_block_sizes()[2];

  // X_i − X̄ over S.
  MatX3 relative(n, 3);
  for (Eigen::Index m = 0; m < n; ++m) {
    relative.row(m) = evaluation_->keypoint(keypoint_ids_[m]).transpose();
  }
  relative = RelativeToCentroid(std::move(relative));

  // ∂X̄/∂(θ, β) and ∂X̄/∂γ = s̄ I, shared by every row.
  Eigen::Matrix<double, 3, kPoseSize> d_mean_pose = Eigen::Matrix<double, 3, kPoseSize>::Zero();
  Eigen::MatrixXd d_mean_betas = Eigen::MatrixXd::Zero(3, num_betas);
  double mean_transl_scale = 0.0;
  if (want_jacobians) {
    for (int k : keypoint_ids_) {
      d_mean_pose += evaluation_->keypoint_pose_jacobian(k);
      d_mean_betas += evaluation_->keypoint_betas_jacobian(k);
      mean_transl_scale += evaluation_->keypoint_transl_scale(k);
    }
    d_mean_pose /= static_cast<double>(n);
    d_mean_betas /= static_cast<double>(n);
    mean_transl_scale /= static_cast<double>(n);
  }

  const int rows = num_residuals();
  Eigen::Map<RowMajorJacobian> d_orient(want_jacobians ? jacobians[0] : nullptr, rows, 3);
  Eigen::Map<RowMajorJacobian> d_body(want_jacobians ? jacobians[1] : nullptr, rows,
                                      kPoseSize - 3);
  Eigen::Map<RowMajorJacobian> d_betas(want_jacobians ? jacobians[2] : nullptr, rows, num_betas);
  Eigen::Map<RowMajorJacobian> d_transl(want_jacobians ? jacobians[3] : nullptr, rows, 3);
  for (Eigen::Index m = 0; m < n; ++m) {
    const Vec3 e = (relative.row(m) - relative_targets_.row(m)).transpose();
    Vec3 slope;
    const double w = lambda_ * weights_(m);
    for (int c = 0; c < 3; ++c) {
      const double s2e2 = sigma_ * sigma_ + e(c) * e(c);
      residuals[3 * m + c] = w * sigma_ * e(c) / std::sqrt(s2e2);
      slope(c) = w * sigma_ * sigma_ * sigma_ / (s2e2 * std::sqrt(s2e2));
    }
    if (!want_jacobians) continue;
    // ∂r/∂q = λ w diag(ρ') (∂X_i/∂q − ∂X̄/∂q).
    const int k = keypoint_ids_[m];
    const Eigen::Matrix<double, 3, kPoseSize> d_pose =
        slope.asDiagonal() * (evaluation_->keypoint_pose_jacobian(k) - d_mean_pose);
    if (jacobians[0] != nullptr) d_orient.middleRows<3>(3 * m) = d_pose.leftCols<3>();
    if (jacobians[1] != nullptr) d_body.middleRows<3>(3 * m) = d_pose.rightCols<kPoseSize - 3>();
    if (jacobians[2] != nullptr) {
      d_betas.middleRows<3>(3 * m) =
          slope.asDiagonal() * (evaluation_->keypoint_betas_jacobian(k) - d_mean_betas);
    }
    if (jacobians[3] != nullptr) {
      const double scale = evaluation_->keypoint_transl_scale(k) - mean_transl_scale;
      d_transl.middleRows<3>(3 * m) = Eigen::Matrix3d(scale * slope.asDiagonal());
    }
  }
  return true;
}

}  // namespace smplify
