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
  f.col(6) = LogGap(column([](const StartCandidate& c) { return c.keypoints_3d; }));
  f.col(7) = LogGap(column([](const StartCandidate& c) { return c.energies.interpenetration; }));
  f.col(8) = column([](const StartCandidate& c) { return c.hypothesis ? 1.0 : 0.0; });
  f.col(9) = column([](const StartCandidate& c) { return c.log_score_gap; });
  f.col(10) = column([](const StartCandidate& c) { return c.flipped ? 1.0 : 0.0; });
  // Distances d_ij (dm) between the starts' root-relative joints.
  std::vector<MatX3> relative(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    const MatX3& j = candidates[i].joints;
    relative[i] = j.rowwise() - j.row(0);
  }
  Eigen::MatrixXd d = Eigen::MatrixXd::Zero(n, n);
  for (Eigen::Index i = 0; i < n; ++i) {
    for (Eigen::Index k = i + 1; k < n; ++k) {
      d(i, k) = d(k, i) =
          10.0 * std::sqrt((relative[i] - relative[k]).rowwise().squaredNorm().mean());
    }
  }
  // The readings' probabilities p_h ∝ exp(−g_h) over the readings' starts in the pool.
  Eigen::VectorXd p = Eigen::VectorXd::Zero(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    if (candidates[i].hypothesis) p(i) = std::exp(-candidates[i].log_score_gap);
  }
  if (p.sum() > 0.0) p /= p.sum();
  const double others = n > 1 ? static_cast<double>(n - 1) : 1.0;
  Eigen::VectorXd agreement(n), reading_distance(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    agreement(i) = d.row(i).sum() / others;
    reading_distance(i) = d.row(i).dot(p);
    // The nearest reading's start (the first of equals) and its gap.
    double nearest_reading = std::numeric_limits<double>::infinity();
    f(i, 15) = 0.0;
    for (Eigen::Index k = 0; k < n; ++k) {
      if (candidates[k].hypothesis && d(i, k) < nearest_reading) {
        nearest_reading = d(i, k);
        f(i, 15) = candidates[k].log_score_gap;
      }
    }
    int near = 0;
    double nearest = n > 1 ? std::numeric_limits<double>::infinity() : 0.0;
    for (Eigen::Index k = 0; k < n; ++k) {
      if (k == i) continue;
      near += d(i, k) < 0.5 ? 1 : 0;
      nearest = std::min(nearest, d(i, k));
    }
    f(i, 12) = near / others;
    f(i, 14) = nearest;
  }
  f.col(11) = agreement.array() - agreement.minCoeff();
  f.col(13) = reading_distance.array() - reading_distance.minCoeff();
  const Eigen::VectorXd disorder = column([](const StartCandidate& c) { return c.depth_disorder; });
  f.col(16) = disorder.array() - disorder.minCoeff();
  return f;
}

double DepthOrderDisagreement(const MatX3& keypoints, const MatX3& reference,
                              const Eigen::VectorXd& weights) {
  if (reference.rows() == 0) return 0.0;
  if (reference.rows() != keypoints.rows() || weights.size() != keypoints.rows()) {
    throw std::invalid_argument("depth order: keypoints, reference and weights need K rows each");
  }
  int pairs = 0;
  int disagree = 0;
  for (Eigen::Index a = 0; a < keypoints.rows(); ++a) {
    if (!(weights(a) > 0.0) || !reference.row(a).allFinite()) continue;
    for (Eigen::Index b = a + 1; b < keypoints.rows(); ++b) {
      if (!(weights(b) > 0.0) || !reference.row(b).allFinite()) continue;
      const double seen = reference(a, 2) - reference(b, 2);
      if (std::abs(seen) < kDepthOrderMargin) continue;
      ++pairs;
      disagree += (keypoints(a, 2) - keypoints(b, 2)) * seen < 0.0 ? 1 : 0;
    }
  }
  return pairs > 0 ? static_cast<double>(disagree) / pairs : 0.0;
}

bool IsStartScorerSize(size_t size) {
  return size > 0 && size % (kNumStartFeatures + 2) == 0;
}

bool IsStartScorerOption(const std::vector<double>& raw) {
  return !raw.empty() && raw.front() == static_cast<double>(kNumStartFeatures) &&
         IsStartScorerSize(raw.size() - 1) &&
         std::all_of(raw.begin(), raw.end(), [](double w) { return std::isfinite(w); });
}

int KeptStart(const Eigen::MatrixXd& features, const Eigen::VectorXd& scores,
              double selection_sigma) {
  const double gate = std::log1p(selection_sigma * selection_sigma);
  int kept = -1;
  for (Eigen::Index i = 0; i < scores.size(); ++i) {
    if (features(i, 1) > gate) continue;
    if (kept < 0 || scores(i) < scores(kept)) kept = static_cast<int>(i);
  }
  return kept;
}

Eigen::VectorXd StartScores(const Eigen::MatrixXd& features, const Eigen::VectorXd& weights) {
  if (!IsStartScorerSize(static_cast<size_t>(weights.size())) ||
      features.cols() != kNumStartFeatures) {
    throw std::invalid_argument("start_scorer: needs H * " +
                                std::to_string(kNumStartFeatures + 2) + " weights, got " +
                                std::to_string(weights.size()));
  }
  const Eigen::Index f = kNumStartFeatures;
  const Eigen::Index h = weights.size() / (f + 2);
  const Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>
      w(weights.data(), f, h);
  const Eigen::Map<const Eigen::RowVectorXd> b(weights.data() + f * h, h);
  const Eigen::Map<const Eigen::VectorXd> v(weights.data() + f * h + h, h);
  Eigen::MatrixXd hidden = features * w;
  hidden.rowwise() += b;
  return hidden.array().tanh().matrix() * v;
}

}  // namespace smplify
