#include "interpenetration_term.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace smplify {

InterpenetrationCost::InterpenetrationCost(BodyEvaluation* evaluation, double weight)
    : evaluation_(evaluation), weight_(weight) {
  set_num_residuals(evaluation_->sphere_layout()->num_capsule_pairs());
  *mutable_parameter_block_sizes() = {3, kPoseSize - 3};
}

bool InterpenetrationCost::Evaluate(double const* const* /*parameters*/, double* residuals,
                                    double** jacobians) const {
  const bool want_jacobians = jacobians != nullptr;
  if (want_jacobians && !evaluation_->has_jacobians()) evaluation_->Update(true);
  const SphereLayout& layout = *evaluation_->sphere_layout();
  using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const int rows = num_residuals();
  Eigen::Map<RowMajor> d_orient(want_jacobians ? jacobians[0] : nullptr, rows, 3);
  Eigen::Map<RowMajor> d_body(want_jacobians ? jacobians[1] : nullptr, rows, kBodyPoseSize);

  std::vector<double> exponent;  // a_ij = −d² / s2, per sphere pair of the capsule pair
  for (int g = 0; g < rows; ++g) {
    const int begin = layout.pair_begin[g], end = layout.pair_begin[g + 1];
    exponent.resize(end - begin);
    double largest = -std::numeric_limits<double>::infinity();
    for (int p = begin; p < end; ++p) {
      const auto [i, j] = layout.pairs[p];
      const double s_i = evaluation_->sphere_sigma(i), s_j = evaluation_->sphere_sigma(j);
      if (!(s_i > 0.0 && s_j > 0.0)) return false;  // r(β) ≤ 0 (or NaN): no sphere to test
      const double a = -(evaluation_->sphere_centre(i) - evaluation_->sphere_centre(j)).squaredNorm() /
                       (s_i * s_i + s_j * s_j);
      if (std::isnan(a)) return false;
      exponent[p - begin] = a;
      largest = std::max(largest, a);
    }
    // Σ e_ij = e^m · S, S = Σ e^(a_ij − m) ∈ [1, n]: r_g = λ e^(m/2) sqrt(S). A group too far
    // apart for e^(m/2) to be a double (m = −∞ included) has r_g = 0 and a zero gradient.
    const double root = std::exp(0.5 * largest);
    if (root == 0.0) {
      residuals[g] = 0.0;
      if (want_jacobians && jacobians[0] != nullptr) d_orient.row(g).setZero();
      if (want_jacobians && jacobians[1] != nullptr) d_body.row(g).setZero();
      continue;
    }
    double scaled_sum = 0.0;
    for (double a : exponent) scaled_sum += std::exp(a - largest);
    residuals[g] = weight_ * root * std::sqrt(scaled_sum);
    if (!std::isfinite(residuals[g])) return false;
    if (!want_jacobians) continue;
    // ∂r_g/∂θ = λ e^(m/2) / (2 sqrt(S)) · Σ e^(a − m) · (−2 / s2) dᵀ (∂C_i/∂θ − ∂C_j/∂θ)
    Eigen::Matrix<double, 1, kPoseSize> dr = Eigen::Matrix<double, 1, kPoseSize>::Zero();
    const double scale = weight_ * root / (2.0 * std::sqrt(scaled_sum));
    for (int p = begin; p < end; ++p) {
      const double share = std::exp(exponent[p - begin] - largest);
      if (share == 0.0) continue;
      const auto [i, j] = layout.pairs[p];
      const double s_i = evaluation_->sphere_sigma(i), s_j = evaluation_->sphere_sigma(j);
      const Vec3 d = evaluation_->sphere_centre(i) - evaluation_->sphere_centre(j);
      dr.noalias() += (share * -2.0 / (s_i * s_i + s_j * s_j)) * d.transpose() *
                      (evaluation_->sphere_pose_jacobian(i) - evaluation_->sphere_pose_jacobian(j));
    }
    dr *= scale;
    if (!dr.allFinite()) return false;
    if (jacobians[0] != nullptr) d_orient.row(g) = dr.leftCols<3>();
    if (jacobians[1] != nullptr) d_body.row(g) = dr.rightCols<kBodyPoseSize>();
  }
  return true;
}

}  // namespace smplify
