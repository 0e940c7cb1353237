#include "reading_score.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace smplify {

double ReadingScore(const MatX3& keypoints, const ReadingMixture& readings, double sigma) {
  const double inf = std::numeric_limits<double>::infinity();
  const size_t m = readings.keypoints.size();
  // log p_m − D_m / (2τ²) per reading that shares at least two keypoints with the body.
  std::vector<double> terms;
  terms.reserve(m);
  const double log_total = [&] {
    const double top = readings.log_weights.maxCoeff();
    return top + std::log((readings.log_weights.array() - top).exp().sum());
  }();
  for (size_t i = 0; i < m; ++i) {
    const MatX3& h = readings.keypoints[i];
    std::vector<int> shared;
    for (int k = 0; k < h.rows(); ++k) {
      if (h.row(k).allFinite() && keypoints.row(k).allFinite()) shared.push_back(k);
    }
    if (shared.size() < 2) continue;
    Eigen::RowVector3d x_mean = Eigen::RowVector3d::Zero(), h_mean = Eigen::RowVector3d::Zero();
    for (int k : shared) {
      x_mean += keypoints.row(k);
      h_mean += h.row(k);
    }
    const double n = static_cast<double>(shared.size());
    x_mean /= n;
    h_mean /= n;
    double d = 0.0;
    for (int k : shared) d += ((keypoints.row(k) - x_mean) - (h.row(k) - h_mean)).squaredNorm();
    d /= n;
    terms.push_back(readings.log_weights(static_cast<Eigen::Index>(i)) - log_total -
                    d / (2.0 * sigma * sigma));
  }
  if (terms.empty()) return inf;
  const double top = *std::max_element(terms.begin(), terms.end());
  double sum = 0.0;
  for (double t : terms) sum += std::exp(t - top);
  return -(top + std::log(sum));
}

}  // namespace smplify
