#include "temporal_term.h"

#include <algorithm>

#include <Eigen/Core>

#include "rotation.h"

namespace smplify {
namespace {

constexpr double kCoefficient[3] = {1.0, -2.0, 1.0};  // second difference a − 2b + c

}  // namespace

bool TemporalCost::Evaluate(double const* const* parameters, double* residuals,
                            double** jacobians) const {
  Eigen::Map<Eigen::Matrix<double, 81, 1>> r(residuals);
  r.setZero();
  Mat3 rotation[3];
  for (int f = 0; f < 3; ++f) {
    const Eigen::Map<const Vec3> omega(parameters[f]);
    rotation[f] = Rodrigues(omega);
    const Eigen::Map<const Eigen::Matrix<double, 69, 1>> theta(parameters[3 + f]);
    const Eigen::Map<const Vec3> gamma(parameters[6 + f]);
    for (int i = 0; i < 3; ++i) {
      r.segment<3>(3 * i) += weights_.orient * kCoefficient[f] * rotation[f].row(i).transpose();
    }
    r.segment<69>(9) += weights_.pose * kCoefficient[f] * theta;
    r.segment<3>(78) += weights_.transl * kCoefficient[f] * gamma;
  }
  if (jacobians == nullptr) return true;
  for (int f = 0; f < 3; ++f) {
    if (jacobians[f] != nullptr) {  // ∂r/∂ω_f: only the 9 rotation rows
      Eigen::Map<Eigen::Matrix<double, 81, 3, Eigen::RowMajor>> J(jacobians[f]);
      J.setZero();
      const Mat3 right = RightJacobian(Eigen::Map<const Vec3>(parameters[f]));
      for (int k = 0; k < 3; ++k) {
        const Mat3 dR = rotation[f] * Skew(right.col(k));
        for (int i = 0; i < 3; ++i) {
          J.block<3, 1>(3 * i, k) = weights_.orient * kCoefficient[f] * dR.row(i).transpose();
        }
      }
    }
    if (jacobians[3 + f] != nullptr) {  // ∂r/∂θ_f: c_f λ_θ I on the pose rows
      Eigen::Map<Eigen::Matrix<double, 81, 69, Eigen::RowMajor>> J(jacobians[3 + f]);
      J.setZero();
      J.block<69, 69>(9, 0).diagonal().setConstant(weights_.pose * kCoefficient[f]);
    }
    if (jacobians[6 + f] != nullptr) {  // ∂r/∂γ_f: c_f λ_γ I on the translation rows
      Eigen::Map<Eigen::Matrix<double, 81, 3, Eigen::RowMajor>> J(jacobians[6 + f]);
      J.setZero();
      J.block<3, 3>(78, 0).diagonal().setConstant(weights_.transl * kCoefficient[f]);
    }
  }
  return true;
}

}  // namespace smplify
