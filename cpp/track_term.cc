#include "track_term.h"

#include <cmath>

#include "body_model.h"
#include "rotation.h"

namespace smplify {

namespace {

// The 9 rotation rows W_R ⊙ (vec R(ω) − M_R) into residuals[0..8] and, with `jacobian`,
// ∂r/∂ω of a block of `Rows` rows (row-major Rows × 3: these 9 rows set, the others 0),
// shared by TrackCost and TrackRootCost.
template <int Rows>
void RotationRows(const Eigen::Map<const Vec3>& omega, const Eigen::Matrix<double, 9, 1>& weight,
                  const Eigen::Matrix<double, 9, 1>& target, double* residuals,
                  double* jacobian) {
  const Mat3 R = Rodrigues(omega);
  Eigen::Map<Eigen::Matrix<double, 9, 1>> r(residuals);
  for (int i = 0; i < 3; ++i) {
    r.segment<3>(3 * i) =
        weight.segment<3>(3 * i).cwiseProduct(R.row(i).transpose() - target.segment<3>(3 * i));
  }
  if (jacobian == nullptr) return;
  Eigen::Map<Eigen::Matrix<double, Rows, 3, Eigen::RowMajor>> J(jacobian);
  J.setZero();
  const Mat3 right = RightJacobian(omega);
  for (int k = 0; k < 3; ++k) {
    const Mat3 dR = R * Skew(right.col(k));
    for (int i = 0; i < 3; ++i) {
      J.template block<3, 1>(3 * i, k) = weight.segment<3>(3 * i).cwiseProduct(dR.row(i).transpose());
    }
  }
}

}  // namespace

Eigen::Matrix<double, TrackCost::kRows, 1> TrackCost::Features(
    const Eigen::Matrix<double, 75, 1>& frame) {
  Eigen::Matrix<double, kRows, 1> g;
  const Mat3 R = Rodrigues(frame.head<3>());
  for (int i = 0; i < 3; ++i) g.segment<3>(3 * i) = R.row(i).transpose();
  g.segment<kBodyPoseSize>(9) = frame.segment<kBodyPoseSize>(3);
  g.tail<3>() = frame.tail<3>();
  return g;
}

TrackCost::TrackCost(const Eigen::Matrix<double, 75, 1>& before,
                     const Eigen::Matrix<double, 75, 1>& last,
                     const TemporalWeights& acceleration, double velocity_ratio,
                     double before_gap, double gap) {
  const Eigen::Matrix<double, kRows, 1> g_last = Features(last);
  const Eigen::Matrix<double, kRows, 1> prediction =
      g_last + (gap / before_gap) * (g_last - Features(before));
  Eigen::Matrix<double, kRows, 1> a;  // A per row
  a.head<9>().setConstant(acceleration.orient);
  a.segment<kBodyPoseSize>(9).setConstant(acceleration.pose);
  a.tail<3>().setConstant(acceleration.transl);
  // Weights per frame of the gap, not rescaled by it (cpp/track_term.h).
  const Eigen::Matrix<double, kRows, 1> a2 = a.cwiseAbs2();
  const Eigen::Matrix<double, kRows, 1> v2 = (velocity_ratio * a).cwiseAbs2();
  const Eigen::Matrix<double, kRows, 1> w2 = a2 + v2;
  weight_ = w2.cwiseSqrt();
  double c = 0.0;
  for (int i = 0; i < kRows; ++i) {
    if (w2(i) > 0.0) {
      target_(i) = (a2(i) * prediction(i) + v2(i) * g_last(i)) / w2(i);
      const double gap = prediction(i) - g_last(i);
      c += a2(i) * v2(i) / w2(i) * gap * gap;
    } else {
      target_(i) = 0.0;  // no weight: the row is 0
    }
  }
  constant_ = std::sqrt(c);
}

bool TrackCost::Evaluate(double const* const* parameters, double* residuals,
                         double** jacobians) const {
  const Eigen::Map<const Vec3> omega(parameters[0]);
  RotationRows<82>(omega, weight_.head<9>(), target_.head<9>(), residuals,
                   jacobians != nullptr ? jacobians[0] : nullptr);
  Eigen::Map<Eigen::Matrix<double, 82, 1>> r(residuals);
  r.segment<kBodyPoseSize>(9) = weight_.segment<kBodyPoseSize>(9).cwiseProduct(
      Eigen::Map<const Eigen::Matrix<double, kBodyPoseSize, 1>>(parameters[1]) -
      target_.segment<kBodyPoseSize>(9));
  r.segment<3>(78) = weight_.tail<3>().cwiseProduct(Eigen::Map<const Vec3>(parameters[2]) -
                                                     target_.tail<3>());
  r(81) = constant_;
  if (jacobians == nullptr) return true;
  if (jacobians[1] != nullptr) {  // ∂r/∂θ = W_θ I
    Eigen::Map<Eigen::Matrix<double, 82, kBodyPoseSize, Eigen::RowMajor>> J(jacobians[1]);
    J.setZero();
    for (int j = 0; j < kBodyPoseSize; ++j) J(9 + j, j) = weight_(9 + j);
  }
  if (jacobians[2] != nullptr) {  // ∂r/∂γ = W_γ I
    Eigen::Map<Eigen::Matrix<double, 82, 3, Eigen::RowMajor>> J(jacobians[2]);
    J.setZero();
    for (int j = 0; j < 3; ++j) J(78 + j, j) = weight_(78 + j);
  }
  return true;
}

TrackRootCost::TrackRootCost(const TrackCost& track) : constant_(track.constant()) {
  weight_ << track.weight().head<9>(), track.weight().tail<3>();
  target_ << track.target().head<9>(), track.target().tail<3>();
}

bool TrackRootCost::Evaluate(double const* const* parameters, double* residuals,
                             double** jacobians) const {
  const Eigen::Map<const Vec3> omega(parameters[0]);
  RotationRows<13>(omega, weight_.head<9>(), target_.head<9>(), residuals,
                   jacobians != nullptr ? jacobians[0] : nullptr);
  Eigen::Map<Eigen::Matrix<double, 13, 1>> r(residuals);
  r.segment<3>(9) = weight_.tail<3>().cwiseProduct(Eigen::Map<const Vec3>(parameters[1]) -
                                                    target_.tail<3>());
  r(12) = constant_;
  if (jacobians != nullptr && jacobians[1] != nullptr) {  // ∂r/∂γ = W_γ I
    Eigen::Map<Eigen::Matrix<double, 13, 3, Eigen::RowMajor>> J(jacobians[1]);
    J.setZero();
    for (int j = 0; j < 3; ++j) J(9 + j, j) = weight_(9 + j);
  }
  return true;
}

}  // namespace smplify
