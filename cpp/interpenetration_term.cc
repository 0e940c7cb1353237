#include "interpenetration_term.h"

#include <cmath>

namespace smplify {

InterpenetrationCost::InterpenetrationCost(BodyEvaluation* evaluation, double weight)
    : evaluation_(evaluation), weight_(weight) {
  set_num_residuals(static_cast<int>(evaluation_->sphere_layout()->pairs.size()));
  *mutable_parameter_block_sizes() = {3, kPoseSize - 3};
}

bool InterpenetrationCost::Evaluate(double const* const* /*parameters*/, double* residuals,
                                    double** jacobians) const {
  const bool want_jacobians = jacobians != nullptr;
  if (want_jacobians && !evaluation_->has_jacobians()) evaluation_->Update(true);
  const auto& pairs = evaluation_->sphere_layout()->pairs;
  using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const int rows = num_residuals();
  Eigen::Map<RowMajor> d_orient(want_jacobians ? jacobians[0] : nullptr, rows, 3);
  Eigen::Map<RowMajor> d_body(want_jacobians ? jacobians[1] : nullptr, rows, 69);

  for (int p = 0; p < rows; ++p) {
    const auto [i, j] = pairs[p];
    const Vec3 d = evaluation_->sphere_centre(i) - evaluation_->sphere_centre(j);
    const double s_i = evaluation_->sphere_sigma(i), s_j = evaluation_->sphere_sigma(j);
    const double s2 = s_i * s_i + s_j * s_j;
    const double r = weight_ * std::exp(-d.squaredNorm() / (2.0 * s2));
    residuals[p] = r;
    if (!want_jacobians) continue;
    // ∂r/∂θ = −r/s2 · dᵀ (∂C_i/∂θ − ∂C_j/∂θ)
    const Eigen::Matrix<double, 1, kPoseSize> dr =
        (-r / s2) * d.transpose() *
        (evaluation_->sphere_pose_jacobian(i) - evaluation_->sphere_pose_jacobian(j));
    if (jacobians[0] != nullptr) d_orient.row(p) = dr.leftCols<3>();
    if (jacobians[1] != nullptr) d_body.row(p) = dr.rightCols<69>();
  }
  return true;
}

}  // namespace smplify
