#include "rotation.h"

#include <cmath>

#include <Eigen/Geometry>

namespace smplify {
namespace {

// Below this angle the coefficients come from their Taylor series, up to the t⁸ term: absolute
// error < 1e-16 for t < 0.1 (measured against 50-digit values: at most 6e-17). Just above it
// the closed form of c loses digits to the cancellation in t − sin t (absolute error ≤ 7e-15
// at t ≈ 0.1); a and b stay within 2e-16.
constexpr double kSeriesAngle = 0.1;

// a = sin t / t, b = (1 − cos t) / t², c = (t − sin t) / t³.
struct RodriguesCoefficients {
  double a, b, c;
};

RodriguesCoefficients Coefficients(double t) {
  const double t2 = t * t;
  if (t < kSeriesAngle) {
    return {1.0 - t2 / 6.0 * (1.0 - t2 / 20.0 * (1.0 - t2 / 42.0 * (1.0 - t2 / 72.0))),
            0.5 - t2 / 24.0 * (1.0 - t2 / 30.0 * (1.0 - t2 / 56.0 * (1.0 - t2 / 90.0))),
            1.0 / 6.0 - t2 / 120.0 * (1.0 - t2 / 42.0 * (1.0 - t2 / 72.0 * (1.0 - t2 / 110.0)))};
  }
  const double s = std::sin(t);
  const double half = std::sin(0.5 * t);
  return {s / t, 2.0 * half * half / t2, (t - s) / (t2 * t)};
}

}  // namespace

Mat3 Skew(const Vec3& v) {
  Mat3 m;
  m << 0.0, -v.z(), v.y(),  //
      v.z(), 0.0, -v.x(),   //
      -v.y(), v.x(), 0.0;
  return m;
}

Mat3 Rodrigues(const Vec3& axis_angle) {
  const auto k = Coefficients(axis_angle.norm());
  const Mat3 K = Skew(axis_angle);
  return Mat3::Identity() + k.a * K + k.b * K * K;
}

Mat3 RightJacobian(const Vec3& axis_angle) {
  const auto k = Coefficients(axis_angle.norm());
  const Mat3 K = Skew(axis_angle);
  return Mat3::Identity() - k.b * K + k.c * K * K;
}

Vec3 AxisAngle(const Mat3& rotation) {
  const Eigen::AngleAxisd aa(rotation);
  return aa.angle() * aa.axis();
}

}  // namespace smplify
