#include "start_scorer.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace smplify {
namespace {

// ℓ(x − min_j x_j) per start; a non-finite x maps to ℓ of the largest finite gap + 1.
Eigen::VectorXd LogGap(const Eigen::VectorXd& x) {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
  for (Eigen::Index i = 0; i < x.size(); ++i) {
    if (std::isfinite(x(i))) {
      lo = std::min(lo, x(i));
      hi = std::max(hi, x(i));
    }
  }
  Eigen::VectorXd out(x.size());
  for (Eigen::Index i = 0; i < x.size(); ++i) {
    const double gap = std::isfinite(x(i)) ? x(i) - lo : (std::isfinite(hi) ? hi - lo + 1.0 : 0.0);
    out(i) = std::log1p(gap);
  }
  return out;
}

}  // namespace

Eigen::MatrixXd StartFeatures(const std::vector<StartCandidate>& candidates) {
  const Eigen::Index n = static_cast<Eigen::Index>(candidates.size());
  Eigen::MatrixXd f(n, kNumStartFeatures);
  if (n == 0) return f;
  const auto column = [&](auto&& get) {
    Eigen::VectorXd x(n);
    for (Eigen::Index i = 0; i < n; ++i) x(i) = get(candidates[i]);
    return x;
  };
  f.col(0) = LogGap(column([](const StartCandidate& c) { return c.default_score; }));
  f.col(1) = LogGap(column([](const StartCandidate& c) { return c.selection_data; }));
  f.col(2) = LogGap(column([](const StartCandidate& c) { return c.reading_score; }));
  f.col(3) = LogGap(column([](const StartCandidate& c) { return c.energies.pose; }));
  f.col(4) = LogGap(column([](const StartCandidate& c) { return c.energies.angle; }));
  f.col(5) = LogGap(column([](const StartCandidate& c) { return c.energies.shape; }));
  f.col(6) = LogGap(column([](const StartCandidate& c) { return c.energies.keypoints_3d; }));
  f.col(7) = LogGap(column([](const StartCandidate& c) { return c.energies.interpenetration; }));
  f.col(8) = column([](const StartCandidate& c) { return c.hypothesis ? 1.0 : 0.0; });
  f.col(9) = column([](const StartCandidate& c) { return c.log_score_gap; });
  f.col(10) = column([](const StartCandidate& c) { return c.flipped ? 1.0 : 0.0; });
  // Agreement: mean RMS distance (dm) of the root-relative joints to the other starts'.
  std::vector<MatX3> relative(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    const MatX3& j = candidates[i].joints;
    relative[i] = j.rowwise() - j.row(0);
  }
  Eigen::VectorXd agreement = Eigen::VectorXd::Zero(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    for (Eigen::Index k = i + 1; k < n; ++k) {
      const double rms = 10.0 * std::sqrt((relative[i] - relative[k]).rowwise().squaredNorm().mean());
      agreement(i) += rms;
      agreement(k) += rms;
    }
  }
  if (n > 1) agreement /= static_cast<double>(n - 1);
  f.col(11) = agreement.array() - agreement.minCoeff();
  return f;
}

Eigen::VectorXd StartScores(const Eigen::MatrixXd& features, const Eigen::VectorXd& weights) {
  if (weights.size() != kNumStartFeatures || features.cols() != kNumStartFeatures) {
    throw std::invalid_argument("start_scorer: needs " + std::to_string(kNumStartFeatures) +
                                " weights, got " + std::to_string(weights.size()));
  }
  return features * weights;
}

}  // namespace smplify
