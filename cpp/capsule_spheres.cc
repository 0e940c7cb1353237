#include "capsule_spheres.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace smplify {
namespace {

// More spheres than this on one capsule is a broken capsule file, not a body.
constexpr int kMaxSpheresPerCapsule = 1000;

void CheckBetas(const CapsuleArrays& capsules, const Eigen::VectorXd& betas) {
  if (capsules.radius_betas.cols() != betas.size() || capsules.length_betas.cols() != betas.size()) {
    throw std::invalid_argument("capsule regressor and betas have different sizes");
  }
}

// n = 2 + max(0, ⌊l/(2r) − 1⌋) for a finite r > 0 and a finite l ≥ 0 (throws otherwise, and
// for more than kMaxSpheresPerCapsule spheres, before the count is converted to an int).
int SphereCount(int capsule, double radius, double length) {
  const std::string name = "capsule " + std::to_string(capsule);
  if (!(std::isfinite(radius) && radius > 0.0)) {
    throw std::invalid_argument(name + ": radius must be finite and > 0");
  }
  if (!(std::isfinite(length) && length >= 0.0)) {
    throw std::invalid_argument(name + ": length must be finite and >= 0");
  }
  const double extra = std::floor(length / (2.0 * radius) - 1.0);
  if (!(extra <= kMaxSpheresPerCapsule - 2)) {
    throw std::invalid_argument(name + ": length / (2 radius) gives more than " +
                                std::to_string(kMaxSpheresPerCapsule) + " spheres");
  }
  return 2 + std::max(0, static_cast<int>(extra));
}

}  // namespace

SphereLayout MakeSphereLayout(const CapsuleArrays& capsules, const Eigen::VectorXd& betas) {
  CheckBetas(capsules, betas);
  const int num_capsules = static_cast<int>(capsules.joint.size());
  const Eigen::VectorXd radius = capsules.radius_mean + capsules.radius_betas * betas;
  const Eigen::VectorXd length = capsules.length_mean + capsules.length_betas * betas;
  SphereLayout layout;
  std::vector<int> first(num_capsules), count(num_capsules);
  std::vector<double> fraction;
  for (int c = 0; c < num_capsules; ++c) {
    const int n = SphereCount(c, radius(c), length(c));
    first[c] = layout.size();
    count[c] = n;
    for (int m = 0; m < n; ++m) {
      layout.capsule.push_back(c);
      layout.joint.push_back(capsules.joint[c]);
      fraction.push_back(static_cast<double>(m) / (n - 1));
    }
  }
  layout.fraction = Eigen::Map<const Eigen::VectorXd>(fraction.data(),
                                                      static_cast<Eigen::Index>(fraction.size()));
  for (const auto& [a, b] : capsules.incompatible) {
    if (a < 0 || b < 0 || a >= num_capsules || b >= num_capsules) {
      throw std::invalid_argument("incompatible capsule pair out of range");
    }
    layout.pair_begin.push_back(static_cast<int>(layout.pairs.size()));
    for (int i = 0; i < count[a]; ++i) {
      for (int j = 0; j < count[b]; ++j) layout.pairs.emplace_back(first[a] + i, first[b] + j);
    }
  }
  layout.pair_begin.push_back(static_cast<int>(layout.pairs.size()));
  return layout;
}

void PlaceSpheres(const CapsuleArrays& capsules, const SphereLayout& layout,
                  const Eigen::VectorXd& betas, double sigma_scale,
                  Eigen::Matrix<double, Eigen::Dynamic, 3>* rest_offset, Eigen::VectorXd* sigma) {
  CheckBetas(capsules, betas);
  const Eigen::VectorXd radius = capsules.radius_mean + capsules.radius_betas * betas;
  const Eigen::VectorXd length = capsules.length_mean + capsules.length_betas * betas;
  rest_offset->resize(layout.size(), 3);
  sigma->resize(layout.size());
  for (int i = 0; i < layout.size(); ++i) {
    const int c = layout.capsule[i];
    const double along = (capsules.start(c) + layout.fraction(i)) * length(c);
    rest_offset->row(i) = capsules.offset.row(c) + along * capsules.axis.row(c);
    (*sigma)(i) = sigma_scale * radius(c);
  }
}

}  // namespace smplify
