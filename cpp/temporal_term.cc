#include "temporal_term.h"

#include <Eigen/Core>

#include "body_model.h"
#include "rotation.h"

namespace smplify {
namespace {

constexpr double kCoefficient[3] = {1.0, -2.0, 1.0};  // second difference a − 2b + c

}  // namespace

bool TemporalRootCost::Evaluate(double const* const* parameters, double* residuals,
                                double** jacobians) const {
  Eigen::Map<Eigen::Matrix<double, 12, 1>> r(residuals);
  r.setZero();
  Mat3 rotation[3];
  for (int f = 0; f < 3; ++f) {
    rotation[f] = Rodrigues(Eigen::Map<const Vec3>(parameters[f]));
    for (int i = 0; i < 3; ++i) {
      r.segment<3>(3 * i) += weights_.orient * kCoefficient[f] * rotation[f].row(i).transpose();
    }
    r.segment<3>(9) += weights_.transl * kCoefficient[f] * Eigen::Map<const Vec3>(parameters[3 + f]);
  }
  if (jacobians == nullptr) return true;
  for (int f = 0; f < 3; ++f) {
    if (jacobians[f] != nullptr) {  // ∂r/∂ω_f: only the 9 rotation rows
      Eigen::Map<Eigen::Matrix<double, 12, 3, Eigen::RowMajor>> J(jacobians[f]);
      J.setZero();
      const Mat3 right = RightJacobian(Eigen::Map<const Vec3>(parameters[f]));
      for (int k = 0; k < 3; ++k) {
        const Mat3 dR = rotation[f] * Skew(right.col(k));
        for (int i = 0; i < 3; ++i) {
          J.block<3, 1>(3 * i, k) = weights_.orient * kCoefficient[f] * dR.row(i).transpose();
        }
      }
    }
    if (jacobians[3 + f] != nullptr) {  // ∂r/∂γ_f: c_f λ_γ I on the translation rows
      Eigen::Map<Eigen::Matrix<double, 12, 3, Eigen::RowMajor>> J(jacobians[3 + f]);
      J.setZero();
      J.block<3, 3>(9, 0).diagonal().setConstant(weights_.transl * kCoefficient[f]);
    }
  }
  return true;
}

bool TemporalJointCost::Evaluate(double const* const* parameters, double* residuals,
                                 double** jacobians) const {
  Eigen::Map<Vec3> r(residuals);
  r.setZero();
  for (int f = 0; f < 3; ++f) {
    r += pose_weight_ * kCoefficient[f] * Eigen::Map<const Vec3>(parameters[f]);
  }
  if (jacobians == nullptr) return true;
  for (int f = 0; f < 3; ++f) {
    if (jacobians[f] != nullptr) {  // ∂r/∂θ_f,j = c_f λ_θ I
      Eigen::Map<Eigen::Matrix<double, 3, 3, Eigen::RowMajor>> J(jacobians[f]);
      J.setZero();
      J.diagonal().setConstant(pose_weight_ * kCoefficient[f]);
    }
  }
  return true;
}

// The 81 rows stacked from the split costs: r_R (0–8), r_θ joint by joint (9–77), r_γ (78–80).
bool TemporalCost::Evaluate(double const* const* parameters, double* residuals,
                            double** jacobians) const {
  constexpr int kJoints = kBodyPoseSize / 3;
  const TemporalRootCost root(weights_);
  const TemporalJointCost joint(weights_.pose);
  const double* root_parameters[6] = {parameters[0], parameters[1], parameters[2],
                                      parameters[6], parameters[7], parameters[8]};
  double root_rows[12];
  Eigen::Matrix<double, 12, 3, Eigen::RowMajor> root_jacobians[6];
  double* root_jacobian_ptrs[6];
  for (int b = 0; b < 6; ++b) root_jacobian_ptrs[b] = root_jacobians[b].data();
  root.Evaluate(root_parameters, root_rows,
                jacobians == nullptr ? nullptr : root_jacobian_ptrs);
  Eigen::Map<Eigen::Matrix<double, 81, 1>> r(residuals);
  r.head<9>() = Eigen::Map<const Eigen::Matrix<double, 9, 1>>(root_rows);
  r.tail<3>() = Eigen::Map<const Vec3>(root_rows + 9);
  Eigen::Matrix<double, 3, 3, Eigen::RowMajor> joint_jacobians[3];
  double* joint_jacobian_ptrs[3] = {joint_jacobians[0].data(), joint_jacobians[1].data(),
                                    joint_jacobians[2].data()};
  for (int j = 0; j < kJoints; ++j) {
    const double* joint_parameters[3] = {parameters[3] + 3 * j, parameters[4] + 3 * j,
                                         parameters[5] + 3 * j};
    joint.Evaluate(joint_parameters, residuals + 9 + 3 * j,
                   jacobians == nullptr ? nullptr : joint_jacobian_ptrs);
    if (jacobians == nullptr) continue;
    for (int f = 0; f < 3; ++f) {
      if (jacobians[3 + f] == nullptr) continue;
      Eigen::Map<Eigen::Matrix<double, 81, 69, Eigen::RowMajor>> J(jacobians[3 + f]);
      if (j == 0) J.setZero();
      J.block<3, 3>(9 + 3 * j, 3 * j) = joint_jacobians[f];
    }
  }
  if (jacobians == nullptr) return true;
  for (int f = 0; f < 3; ++f) {
    const int blocks[2] = {f, 6 + f};  // ω_f, γ_f: the root rows 0–8 and 78–80
    for (int b = 0; b < 2; ++b) {
      if (jacobians[blocks[b]] == nullptr) continue;
      Eigen::Map<Eigen::Matrix<double, 81, 3, Eigen::RowMajor>> J(jacobians[blocks[b]]);
      J.setZero();
      J.topRows<9>() = root_jacobians[3 * b + f].topRows<9>();
      J.bottomRows<3>() = root_jacobians[3 * b + f].bottomRows<3>();
    }
  }
  return true;
}

}  // namespace smplify
