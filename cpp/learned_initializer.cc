#include "learned_initializer.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>
#include <utility>

#include <Eigen/Geometry>

namespace smplify {
namespace {

void Require(bool ok, const std::string& message) {
  if (!ok) throw std::invalid_argument(message);
}

}  // namespace

LearnedInitializer::LearnedInitializer(std::vector<DenseLayer> layers, int num_keypoints,
                                       int num_hypotheses)
    : layers_(std::move(layers)), num_keypoints_(num_keypoints), num_hypotheses_(num_hypotheses) {
  Require(num_keypoints >= 1 && num_hypotheses >= 1,
          "initializer: num_keypoints and num_hypotheses must be >= 1");
  Require(layers_.size() >= 2, "initializer: need at least an input and an output layer, got " +
                                   std::to_string(layers_.size()));
  for (size_t i = 0; i < layers_.size(); ++i) {
    const DenseLayer& layer = layers_[i];
    const std::string name = "initializer: layer " + std::to_string(i);
    Require(layer.weight.rows() >= 1 && layer.weight.cols() >= 1 &&
                layer.bias.size() == layer.weight.rows(),
            name + ": w (out x in) and b (out) do not match");
    Require(layer.weight.allFinite() && layer.bias.allFinite(), name + ": non-finite weights");
    if (i > 0) {
      Require(layer.weight.cols() == layers_[i - 1].weight.rows(),
              name + ": its input width differs from the layer before's output width");
    }
    if (i > 0 && i + 1 < layers_.size()) {
      Require(layer.weight.rows() == layer.weight.cols(), name + ": a residual layer must be square");
    }
  }
  Require(layers_.front().weight.cols() == 3 * num_keypoints + 3,
          "initializer: input width must be 3K + 3 = " + std::to_string(3 * num_keypoints + 3));
  Require(layers_.back().weight.rows() == num_hypotheses * kReadingWidth + kNumBetas,
          "initializer: output width must be M * 145 + 10 = " +
              std::to_string(num_hypotheses * kReadingWidth + kNumBetas));
}

Eigen::VectorXf LearnedInitializer::Features(const Eigen::Ref<const Eigen::MatrixXd>& keypoints,
                                             const Eigen::Vector2d& image_size,
                                             double focal) const {
  Require(keypoints.rows() == num_keypoints_ && keypoints.cols() == 3,
          "keypoints: expected shape (" + std::to_string(num_keypoints_) + ", 3)");
  Require(image_size.allFinite() && (image_size.array() > 0.0).all(),
          "image_size: expected (width, height) > 0 in pixels");
  Require(std::isfinite(focal) && focal > 0.0, "focal_length: expected a positive number of pixels");
  const int k_count = num_keypoints_;
  std::vector<bool> seen(k_count);
  Eigen::Vector2d lo = Eigen::Vector2d::Constant(std::numeric_limits<double>::infinity());
  Eigen::Vector2d hi = -lo;
  bool any = false;
  for (int k = 0; k < k_count; ++k) {
    const bool finite = keypoints.row(k).allFinite();  // else: unseen (the twin zeroes it)
    const double conf = keypoints(k, 2);
    Require(!finite || (conf >= 0.0 && conf <= 1.0),
            "keypoints: confidences (column 2) must lie in [0, 1]");
    seen[k] = finite && conf > 0.0;
    if (!seen[k]) continue;
    any = true;
    lo = lo.cwiseMin(keypoints.row(k).head<2>().transpose());
    hi = hi.cwiseMax(keypoints.row(k).head<2>().transpose());
  }
  Require(any, "keypoints: no keypoint has a confidence above 0");
  const Eigen::Vector2d centre = (lo + hi) / 2.0;
  const double scale = std::max((hi - lo).maxCoeff(), 1.0);
  Eigen::VectorXf x = Eigen::VectorXf::Zero(3 * k_count + 3);
  for (int k = 0; k < k_count; ++k) {
    if (!seen[k]) continue;
    x(3 * k) = static_cast<float>((keypoints(k, 0) - centre(0)) / scale);
    x(3 * k + 1) = static_cast<float>((keypoints(k, 1) - centre(1)) / scale);
    x(3 * k + 2) = static_cast<float>(keypoints(k, 2));
  }
  x(3 * k_count) = static_cast<float>((centre(0) - image_size(0) / 2.0) / focal);
  x(3 * k_count + 1) = static_cast<float>((centre(1) - image_size(1) / 2.0) / focal);
  x(3 * k_count + 2) = static_cast<float>(scale / focal);
  return x;
}

Eigen::VectorXf LearnedInitializer::Hidden(const Eigen::VectorXf& x) const {
  Require(x.size() == layers_.front().weight.cols(),
          "features: expected " + std::to_string(layers_.front().weight.cols()) + " values");
  Eigen::VectorXf h = (layers_.front().weight * x + layers_.front().bias).cwiseMax(0.0f);
  for (size_t i = 1; i + 1 < layers_.size(); ++i) {
    h += (layers_[i].weight * h + layers_[i].bias).cwiseMax(0.0f);
  }
  return h;
}

Eigen::VectorXf LearnedInitializer::Raw(const Eigen::VectorXf& x) const {
  return layers_.back().weight * Hidden(x) + layers_.back().bias;
}

std::vector<InitializerReading> LearnedInitializer::Predict(const Eigen::VectorXf& x,
                                                            int count) const {
  const Eigen::VectorXf h = Hidden(x);
  const DenseLayer& out = layers_.back();
  const int m_count = num_hypotheses_;
  // Output rows of reading m: [m·145, m·145 + 144) rotations, m·145 + 144 its logit.
  auto rows = [&](int first, int n) -> Eigen::VectorXd {
    return (out.weight.middleRows(first, n) * h + out.bias.segment(first, n)).cast<double>();
  };
  Eigen::VectorXd logits(m_count);
  for (int m = 0; m < m_count; ++m) logits(m) = rows(m * kReadingWidth + kReadingWidth - 1, 1)(0);
  const Eigen::VectorXd e = (logits.array() - logits.maxCoeff()).exp();
  const Eigen::VectorXd scores = e / e.sum();
  std::vector<int> order(m_count);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return scores(a) > scores(b); });
  const int n = count <= 0 ? m_count : std::min(count, m_count);
  const Eigen::VectorXd betas = rows(m_count * kReadingWidth, kNumBetas);
  Eigen::Matrix<double, 6, 1> identity;
  identity << 1.0, 0.0, 0.0, 0.0, 1.0, 0.0;  // a zero output reads as the identity
  std::vector<InitializerReading> readings(n);
  for (int i = 0; i < n; ++i) {
    InitializerReading& r = readings[i];
    r.index = order[i];
    r.score = scores(r.index);
    r.betas = betas;
    const Eigen::VectorXd six = rows(r.index * kReadingWidth, kReadingWidth - 1);
    for (int j = 0; j < 24; ++j) {
      r.rotations[j] = RotationFrom6d(six.segment<6>(6 * j) + identity);
      r.pose.segment<3>(3 * j) = AxisAngleShepperd(r.rotations[j]);
    }
  }
  return readings;
}

Mat3 RotationFrom6d(const Eigen::Matrix<double, 6, 1>& six) {
  const Vec3 a1 = six.head<3>();
  const Vec3 b1 = a1 / std::max(a1.norm(), 1e-8);
  const Vec3 a2 = six.tail<3>() - b1.dot(six.tail<3>()) * b1;
  const Vec3 b2 = a2 / std::max(a2.norm(), 1e-8);
  Mat3 r;
  r << b1, b2, b1.cross(b2);
  return r;
}

Vec3 AxisAngleShepperd(const Mat3& r) {
  const Eigen::Vector4d t(1 + r(0, 0) + r(1, 1) + r(2, 2), 1 + r(0, 0) - r(1, 1) - r(2, 2),
                          1 - r(0, 0) + r(1, 1) - r(2, 2), 1 - r(0, 0) - r(1, 1) + r(2, 2));
  Eigen::Index i = 0;
  t.maxCoeff(&i);  // the first largest, as np.argmax
  const double s = 2.0 * std::sqrt(std::max(t(i), 1e-12));
  const double zy = r(2, 1) - r(1, 2), xz = r(0, 2) - r(2, 0), yx = r(1, 0) - r(0, 1);
  const double xy = r(0, 1) + r(1, 0), xz_plus = r(0, 2) + r(2, 0), yz = r(1, 2) + r(2, 1);
  Eigen::Vector4d q;  // (w, x, y, z)
  switch (i) {
    case 0: q << s / 4, zy / s, xz / s, yx / s; break;
    case 1: q << zy / s, s / 4, xy / s, xz_plus / s; break;
    case 2: q << xz / s, xy / s, s / 4, yz / s; break;
    default: q << yx / s, xz_plus / s, yz / s, s / 4; break;
  }
  if (q(0) < 0) q = -q;  // w ≥ 0: angle in [0, π]
  const Vec3 v = q.tail<3>();
  const double norm = v.norm();
  const double angle = 2.0 * std::atan2(norm, q(0));
  return norm > 1e-12 ? Vec3(v * angle / std::max(norm, 1e-12)) : Vec3(2.0 * v);
}

}  // namespace smplify
