#include "keypoint_data_term.h"

#include <cmath>
#include <utility>

namespace smplify {
namespace {

constexpr double kMinDepth = 1e-6;  // metres; a keypoint behind the camera is an invalid step

using RowMajorJacobian = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

}  // namespace

KeypointDataCost::KeypointDataCost(BodyEvaluation* evaluation, const Observation& observation,
                             std::vector<int> keypoint_ids, Eigen::VectorXd weights, bool robust,
                             double sigma, int num_betas)
    : evaluation_(evaluation),
      observation_(observation),
      keypoint_ids_(std::move(keypoint_ids)),
      weights_(std::move(weights)),
      robust_(robust),
      sigma_(sigma) {
  set_num_residuals(2 * static_cast<int>(keypoint_ids_.size()));
  *mutable_parameter_block_sizes() = {3, kPoseSize - 3, num_betas, 3};
}

bool KeypointDataCost::Evaluate(double const* const* /*parameters*/, double* residuals,
                             double** jacobians) const {
  const bool want_jacobians = jacobians != nullptr;
  if (want_jacobians && !evaluation_->has_jacobians()) evaluation_->Update(true);
  const int rows = num_residuals();
  const int num_betas = parameter_block_sizes()[2];
  Eigen::Map<RowMajorJacobian> d_orient(want_jacobians ? jacobians[0] : nullptr, rows, 3);
  Eigen::Map<RowMajorJacobian> d_body(want_jacobians ? jacobians[1] : nullptr, rows, kBodyPoseSize);
  Eigen::Map<RowMajorJacobian> d_betas(want_jacobians ? jacobians[2] : nullptr, rows, num_betas);
  Eigen::Map<RowMajorJacobian> d_transl(want_jacobians ? jacobians[3] : nullptr, rows, 3);

  for (size_t m = 0; m < keypoint_ids_.size(); ++m) {
    const int k = keypoint_ids_[m];
    const Vec3 X = evaluation_->keypoint(k);
    if (!(X.z() > kMinDepth)) return false;
    const Eigen::Vector2d e = observation_.camera.Project(X) - observation_.keypoints.row(k).transpose();
    Eigen::Vector2d r = e, slope = Eigen::Vector2d::Ones();
    if (robust_) {
      for (int c = 0; c < 2; ++c) {
        const double s2e2 = sigma_ * sigma_ + e(c) * e(c);
        r(c) = sigma_ * e(c) / std::sqrt(s2e2);
        slope(c) = sigma_ * sigma_ * sigma_ / (s2e2 * std::sqrt(s2e2));
      }
    }
    const double w = weights_(static_cast<Eigen::Index>(m));
    residuals[2 * m] = w * r(0);
    residuals[2 * m + 1] = w * r(1);
    if (!want_jacobians) continue;
    // ∂r/∂X = w · diag(ρ') · ∂π/∂X (2 × 3), then chain through the keypoint's Jacobians.
    const Eigen::Matrix<double, 2, 3> dr_dX =
        w * slope.asDiagonal() * observation_.camera.ProjectionJacobian(X);
    const auto d_pose = evaluation_->keypoint_pose_jacobian(k);
    if (jacobians[0] != nullptr) d_orient.middleRows<2>(2 * m) = dr_dX * d_pose.leftCols<3>();
    if (jacobians[1] != nullptr) d_body.middleRows<2>(2 * m) = dr_dX * d_pose.rightCols<kBodyPoseSize>();
    if (jacobians[2] != nullptr) {
      d_betas.middleRows<2>(2 * m) = dr_dX * evaluation_->keypoint_betas_jacobian(k);
    }
    if (jacobians[3] != nullptr) {
      d_transl.middleRows<2>(2 * m) = evaluation_->keypoint_transl_scale(k) * dr_dX;
    }
  }
  return true;
}

}  // namespace smplify
