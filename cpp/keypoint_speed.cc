#include "keypoint_speed.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace smplify {
namespace {

double Norm2(double x, double y) { return std::sqrt(x * x + y * y); }

}  // namespace

KeypointSpeed::KeypointSpeed(const Eigen::Matrix<int, kJoints, Eigen::Dynamic>& moved,
                             const Eigen::Vector4i& torso, const Eigen::VectorXi& mirror,
                             double fps)
    : moved_(moved), torso_(torso), mirror_(mirror), fps_(fps) {
  const int k = static_cast<int>(mirror.size());
  if (moved.cols() != k) {
    throw std::invalid_argument("moved: expected (24, " + std::to_string(k) +
                                ") to match mirror, got (24, " +
                                std::to_string(moved.cols()) + ")");
  }
  if (k > 0 && (mirror.minCoeff() < 0 || mirror.maxCoeff() >= k)) {
    throw std::invalid_argument("mirror: expected indices in [0, " + std::to_string(k) + ")");
  }
  if (torso.minCoeff() < 0 || torso.maxCoeff() >= k) {
    throw std::invalid_argument("torso: expected indices in [0, " + std::to_string(k) + ")");
  }
  if (!std::isfinite(fps) || fps <= 0.0) {
    throw std::invalid_argument("fps: expected a finite number > 0, got " +
                                std::to_string(fps));
  }
}

KeypointSpeed::Speeds KeypointSpeed::Compute(const Points& xy,
                                             const Eigen::VectorXd& confidence, double size,
                                             int frames) {
  const int k = num_keypoints();
  if (xy.rows() != k || confidence.size() != k) {
    throw std::invalid_argument("xy and confidence: expected (" + std::to_string(k) +
                                ", 2) and (" + std::to_string(k) + ",)");
  }
  if (!xy.allFinite() || !confidence.allFinite()) {
    throw std::invalid_argument("xy and confidence: expected finite values");
  }
  const Eigen::VectorXd conf = confidence.cwiseMax(0.0).cwiseMin(1.0);
  Speeds out = Speeds::Zero();
  const bool had_last = has_last_;
  Points last_xy;
  Eigen::VectorXd last_conf;
  if (had_last) {
    last_xy.swap(last_xy_);
    last_conf.swap(last_confidence_);
  }
  last_xy_ = xy;
  last_confidence_ = conf;
  has_last_ = true;
  if (!had_last || !std::isfinite(size) || size <= 0.0) return out;
  // The torso keypoints seen in both frames, and their centres.
  double cx = 0.0, cy = 0.0, lx = 0.0, ly = 0.0, torso_conf = 1.0;
  int used = 0;
  for (int i = 0; i < 4; ++i) {
    const int t = torso_(i);
    if (conf(t) > 0.0 && last_conf(t) > 0.0) {
      cx += xy(t, 0);
      cy += xy(t, 1);
      lx += last_xy(t, 0);
      ly += last_xy(t, 1);
      torso_conf = std::min(torso_conf, std::min(conf(t), last_conf(t)));
      ++used;
    }
  }
  if (used < 2) return out;
  cx /= used;
  cy /= used;
  lx /= used;
  ly /= used;
  const double scale = fps_ / (std::max(frames, 1) * size);
  Eigen::VectorXd v(k);
  for (int i = 0; i < k; ++i) {
    const double rx = xy(i, 0) - cx, ry = xy(i, 1) - cy;
    const int m = mirror_(i);
    const double own = Norm2(rx - (last_xy(i, 0) - lx), ry - (last_xy(i, 1) - ly));
    const double swapped = Norm2(rx - (last_xy(m, 0) - lx), ry - (last_xy(m, 1) - ly));
    v(i) = std::min(conf(i), last_conf(i)) * std::min(own, swapped) * scale;
  }
  for (int j = 1; j < kJoints; ++j) {
    for (int i = 0; i < k; ++i) {
      if (moved_(j, i) != 0) out(j) = std::max(out(j), v(i));
    }
  }
  for (int i = 0; i < 4; ++i) out(0) = std::max(out(0), v(torso_(i)));
  out(kJoints) = torso_conf * Norm2(cx - lx, cy - ly) * scale;
  return out;
}

}  // namespace smplify
