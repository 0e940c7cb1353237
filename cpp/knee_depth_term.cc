#include "knee_depth_term.h"

#include <cmath>

namespace smplify {
namespace {

using RowMajorJacobian = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

}  // namespace

double KneeDepth(const Vec3& hip, const Vec3& knee, const Vec3& ankle,
                 Eigen::Matrix3d* gradient) {
  const Vec3 u = ankle - hip;
  const Vec3 w = knee - hip;
  const double uu = u.squaredNorm();
  if (!(uu > 1e-12)) {  // hip on the ankle: no line, no depth bend
    if (gradient != nullptr) gradient->setZero();
    return 0.0;
  }
  const double length = std::sqrt(uu);
  const double s = w.dot(u);
  const double o_z = w.z() - (s / uu) * u.z();
  const double d = o_z / length;
  if (gradient != nullptr) {
    const Vec3 e_z = Vec3::UnitZ();
    // ∂o_z/∂w = e_z − (u_z / u·u) u;  ∂o_z/∂u = −(u_z / u·u) w − (s / u·u) e_z + 2 s u_z u / (u·u)².
    const Vec3 d_ow = e_z - (u.z() / uu) * u;
    const Vec3 d_ou = -(u.z() / uu) * w - (s / uu) * e_z + (2.0 * s * u.z() / (uu * uu)) * u;
    const Vec3 d_w = d_ow / length;
    const Vec3 d_u = d_ou / length - (o_z / (uu * length)) * u;  // ∂(1/‖u‖)/∂u = −u / ‖u‖³
    gradient->row(0) = (-d_w - d_u).transpose();
    gradient->row(1) = d_w.transpose();
    gradient->row(2) = d_u.transpose();
  }
  return d;
}

KneeDepthCost::KneeDepthCost(BodyEvaluation* evaluation, const std::array<int, 6>& legs,
                             double sigma, double lambda, int num_betas)
    : evaluation_(evaluation), legs_(legs), sigma_(sigma), lambda_(lambda) {
  set_num_residuals(2);
  *mutable_parameter_block_sizes() = {3, kPoseSize - 3, num_betas, 3};
}

bool KneeDepthCost::Evaluate(double const* const* /*parameters*/, double* residuals,
                             double** jacobians) const {
  const bool want_jacobians = jacobians != nullptr;
  if (want_jacobians && !evaluation_->has_jacobians()) evaluation_->Update(true);
  const int num_betas = parameter_block_sizes()[2];
  Eigen::Map<RowMajorJacobian> d_orient(want_jacobians ? jacobians[0] : nullptr, 2, 3);
  Eigen::Map<RowMajorJacobian> d_body(want_jacobians ? jacobians[1] : nullptr, 2,
                                      kPoseSize - 3);
  Eigen::Map<RowMajorJacobian> d_betas(want_jacobians ? jacobians[2] : nullptr, 2, num_betas);
  Eigen::Map<RowMajorJacobian> d_transl(want_jacobians ? jacobians[3] : nullptr, 2, 3);
  for (int leg = 0; leg < 2; ++leg) {
    const int* ids = legs_.data() + 3 * leg;
    const bool present = ids[0] >= 0 && ids[1] >= 0 && ids[2] >= 0;
    Eigen::Matrix3d gradient = Eigen::Matrix3d::Zero();
    double slope = 0.0;
    residuals[leg] = 0.0;
    if (present) {
      const double d = KneeDepth(evaluation_->keypoint(ids[0]), evaluation_->keypoint(ids[1]),
                                 evaluation_->keypoint(ids[2]),
                                 want_jacobians ? &gradient : nullptr);
      const double s2d2 = sigma_ * sigma_ + d * d;
      residuals[leg] = lambda_ * sigma_ * d / std::sqrt(s2d2);
      slope = lambda_ * sigma_ * sigma_ * sigma_ / (s2d2 * std::sqrt(s2d2));
    }
    if (!want_jacobians) continue;
    // ∂r/∂q = ρ'(d) Σ_p ∂d/∂X_p ∂X_p/∂q over p = H, K, A.
    Eigen::Matrix<double, 1, kPoseSize> d_pose = Eigen::Matrix<double, 1, kPoseSize>::Zero();
    Eigen::RowVectorXd d_shape = Eigen::RowVectorXd::Zero(num_betas);
    Eigen::RowVector3d d_move = Eigen::RowVector3d::Zero();
    if (present) {
      for (int p = 0; p < 3; ++p) {
        const Eigen::RowVector3d g = slope * gradient.row(p);
        d_pose += g * evaluation_->keypoint_pose_jacobian(ids[p]);
        d_shape += g * evaluation_->keypoint_betas_jacobian(ids[p]);
        d_move += evaluation_->keypoint_transl_scale(ids[p]) * g;
      }
    }
    if (jacobians[0] != nullptr) d_orient.row(leg) = d_pose.leftCols<3>();
    if (jacobians[1] != nullptr) d_body.row(leg) = d_pose.rightCols<kPoseSize - 3>();
    if (jacobians[2] != nullptr) d_betas.row(leg) = d_shape;
    if (jacobians[3] != nullptr) d_transl.row(leg) = d_move;
  }
  return true;
}

}  // namespace smplify
