#include "pose_filter.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace smplify {
namespace {

using Quaternion = Eigen::Vector4d;  // (w, x, y, z)

constexpr double kPi = 3.14159265358979323846;

// α of a first-order low-pass at `cutoff` Hz, sampled at `rate` Hz.
double Alpha(double cutoff, double rate) { return 1.0 / (1.0 + rate / (2.0 * kPi * cutoff)); }

double Norm3(const Eigen::Vector3d& v) { return std::sqrt(v(0) * v(0) + v(1) * v(1) + v(2) * v(2)); }

// The unit quaternion of a rotation vector (sin(θ/2)/θ by its series below 1e-6 rad).
Quaternion FromRotationVector(const Eigen::Vector3d& v) {
  const double angle = Norm3(v);
  const double half = 0.5 * angle;
  const double scale = angle > 1e-6 ? std::sin(half) / angle : 0.5 - angle * angle / 48.0;
  return Quaternion(std::cos(half), v(0) * scale, v(1) * scale, v(2) * scale);
}

// The rotation vector (angle ≤ π, the shorter way round) of a unit quaternion.
Eigen::Vector3d ToRotationVector(const Quaternion& quat) {
  const Quaternion q = quat(0) < 0.0 ? Quaternion(-quat) : quat;
  const Eigen::Vector3d xyz = q.tail<3>();
  const double s = Norm3(xyz);
  const double angle = 2.0 * std::atan2(s, q(0));
  const double scale = s > 1e-12 ? angle / s : 2.0;
  return xyz * scale;
}

// The Hamilton product a b.
Quaternion Multiply(const Quaternion& a, const Quaternion& b) {
  return Quaternion(a(0) * b(0) - a(1) * b(1) - a(2) * b(2) - a(3) * b(3),
                    a(0) * b(1) + a(1) * b(0) + a(2) * b(3) - a(3) * b(2),
                    a(0) * b(2) - a(1) * b(3) + a(2) * b(0) + a(3) * b(1),
                    a(0) * b(3) + a(1) * b(2) - a(2) * b(1) + a(3) * b(0));
}

Quaternion Conjugate(const Quaternion& q) { return Quaternion(q(0), -q(1), -q(2), -q(3)); }

double Checked(const char* name, double value, bool zero_allowed) {
  if (!std::isfinite(value) || value < 0.0 || (!zero_allowed && value == 0.0)) {
    throw std::invalid_argument(std::string(name) + ": expected a finite number " +
                                (zero_allowed ? ">= 0" : "> 0") + ", got " +
                                std::to_string(value));
  }
  return value;
}

}  // namespace

PoseFilter::PoseFilter(double fps, double min_cutoff, double beta, double d_cutoff,
                       double keypoint_beta, double keypoint_floor)
    : fps_(Checked("fps", fps, false)),
      min_cutoff_(Checked("min_cutoff", min_cutoff, false)),
      beta_(Checked("beta", beta, true)),
      d_cutoff_(Checked("d_cutoff", d_cutoff, false)),
      keypoint_beta_(Checked("keypoint_beta", keypoint_beta, true)),
      keypoint_floor_(Checked("keypoint_floor", keypoint_floor, true)),
      a_d_(Alpha(d_cutoff_, fps_)),
      lag_((1.0 - Alpha(min_cutoff_, fps_)) / Alpha(min_cutoff_, fps_)) {
  Reset();
}

void PoseFilter::Reset() {
  started_ = false;
  rotation_.setZero();
  spin_.setZero();
  transl_.setZero();
  speed_.setZero();
}

void PoseFilter::Filter(const Pose& pose, const Eigen::Vector3d& transl, int frames,
                        Pose* pose_out, Eigen::Vector3d* transl_out,
                        const Speeds* keypoint_speed) {
  if (!pose.allFinite() || !transl.allFinite()) {
    throw std::invalid_argument("pose and transl: expected finite values");
  }
  if (keypoint_speed != nullptr &&
      (!keypoint_speed->allFinite() || keypoint_speed->minCoeff() < 0.0)) {
    throw std::invalid_argument("keypoint_speed: expected finite values >= 0");
  }
  // keypoint_beta max(0, s_j − keypoint_floor) of the cutoff (0 without speeds).
  Speeds opening = Speeds::Zero();
  if (keypoint_speed != nullptr) {
    opening = keypoint_beta_ * (keypoint_speed->array() - keypoint_floor_).max(0.0).matrix();
  }
  if (!started_) {  // the first frame of a track passes through
    for (int j = 0; j < kJoints; ++j) {
      rotation_.col(j) = FromRotationVector(pose.segment<3>(3 * j));
    }
    transl_ = transl;
    started_ = true;
    *pose_out = pose;
    *transl_out = transl;
    return;
  }
  const double rate = fps_ / (frames > 1 ? frames : 1);
  const double a_d = rate == fps_ ? a_d_ : Alpha(d_cutoff_, rate);
  for (int j = 0; j < kJoints; ++j) {
    const Quaternion last = rotation_.col(j);
    const Eigen::Vector3d step = ToRotationVector(
        Multiply(Conjugate(last), FromRotationVector(pose.segment<3>(3 * j))));
    spin_.col(j) = a_d * step * rate + (1.0 - a_d) * spin_.col(j);
    const double a = Alpha(min_cutoff_ + beta_ * Norm3(spin_.col(j)) + opening(j), rate);
    Quaternion next = Multiply(last, FromRotationVector(a * step));
    next /= std::sqrt(next(0) * next(0) + next(1) * next(1) + next(2) * next(2) +
                      next(3) * next(3));
    rotation_.col(j) = next;
    pose_out->segment<3>(3 * j) = ToRotationVector(next);
  }
  const Eigen::Vector3d move = transl - transl_;
  speed_ = a_d * move * rate + (1.0 - a_d) * speed_;
  for (int c = 0; c < 3; ++c) {
    const double cutoff = min_cutoff_ + beta_ * std::abs(speed_(c)) + opening(kJoints);
    transl_(c) = transl_(c) + Alpha(cutoff, rate) * move(c);
  }
  *transl_out = transl_;
}

}  // namespace smplify
