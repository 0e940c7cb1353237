#include "track_checks.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

namespace smplify {

Eigen::VectorXd LabellingScores(const Eigen::Ref<const KeypointsXY>& predicted,
                                const Eigen::Ref<const KeypointsXY>& xy,
                                const Eigen::Ref<const Eigen::VectorXd>& weights,
                                const Eigen::Ref<const Permutations>& permutations,
                                double sigma) {
  const Eigen::Index k_count = xy.rows();
  if (predicted.rows() != k_count || weights.size() != k_count ||
      permutations.cols() != k_count) {
    throw std::invalid_argument("labelling scores: predicted, xy, weights and permutations "
                                "must have K = " + std::to_string(k_count) + " keypoints");
  }
  if (!(std::isfinite(sigma) && sigma > 0.0)) {
    throw std::invalid_argument("labelling scores: sigma must be a finite number of pixels > 0, "
                                "got " + std::to_string(sigma));
  }
  const double s2 = sigma * sigma;
  Eigen::VectorXd scores = Eigen::VectorXd::Zero(permutations.rows());
  for (Eigen::Index p = 0; p < permutations.rows(); ++p) {
    double sum = 0.0;
    for (Eigen::Index k = 0; k < k_count; ++k) {
      const long j = permutations(p, k);
      if (j < 0 || j >= k_count) {
        throw std::invalid_argument("labelling scores: permutation index out of range");
      }
      const double w = weights(j);
      if (!(w > 0.0)) continue;
      const double dx = xy(j, 0) - predicted(k, 0), dy = xy(j, 1) - predicted(k, 1);
      const double e2 = dx * dx + dy * dy;
      if (!std::isfinite(e2)) continue;
      sum += w * s2 * e2 / (s2 + e2);
    }
    scores(p) = sum;
  }
  return scores;
}

double MedianErrorFraction(const Eigen::Ref<const Eigen::Matrix<double, Eigen::Dynamic, 3>>& points,
                           double total_energy, const Eigen::Ref<const KeypointsXY>& xy,
                           const Eigen::Ref<const Eigen::VectorXd>& weights, double focal_length,
                           const Eigen::Vector2d& center) {
  const Eigen::Index k_count = xy.rows();
  if (points.rows() != k_count || weights.size() != k_count) {
    throw std::invalid_argument("median error: points, xy and weights must have K = " +
                                std::to_string(k_count) + " keypoints");
  }
  constexpr double kInf = std::numeric_limits<double>::infinity();
  if (!std::isfinite(total_energy)) return kInf;
  std::vector<double> errors;
  errors.reserve(static_cast<size_t>(k_count));
  double lo_x = kInf, lo_y = kInf, hi_x = -kInf, hi_y = -kInf;
  for (Eigen::Index k = 0; k < k_count; ++k) {
    if (!(weights(k) > 0.0)) continue;
    const double u = focal_length * points(k, 0) / points(k, 2) + center(0);
    const double v = focal_length * points(k, 1) / points(k, 2) + center(1);
    const double dx = u - xy(k, 0), dy = v - xy(k, 1);
    errors.push_back(std::sqrt(dx * dx + dy * dy));
    lo_x = std::min(lo_x, xy(k, 0));
    hi_x = std::max(hi_x, xy(k, 0));
    lo_y = std::min(lo_y, xy(k, 1));
    hi_y = std::max(hi_y, xy(k, 1));
  }
  const size_t n = errors.size();
  if (n == 0) return kInf;
  // NaN errors sort last, as in NumPy (a NaN median is then not finite: infinite).
  std::sort(errors.begin(), errors.end(), [](double a, double b) {
    return a < b || (!std::isnan(a) && std::isnan(b));
  });
  const double median = (errors[(n - 1) / 2] + errors[n / 2]) / 2.0;
  if (!std::isfinite(median)) return kInf;
  const double size = std::hypot(hi_x - lo_x, hi_y - lo_y);
  return median / std::max(size, 1.0);
}

}  // namespace smplify
