// The online Fitter's per-frame checks of a warm-started frame (smplify.online; NumPy twins
// online.labelling_scores and online.median_error_fraction, equal to float rounding).
//
// Labelling scores, per keypoint permutation π (the keypoints as seen, left/right swapped,
// per limb swapped), against the track's predicted keypoints x̂ (K × 2 pixels):
//
//   s_π = Σ_k w_π(k) ρ(e²_k),   e²_k = ‖x̂_k − x_π(k)‖²,   ρ(e²) = σ² e² / (σ² + e²)
//
// (Geman-McClure, pixels²); a keypoint with w_π(k) ≤ 0 or a non-finite e²_k (no
// prediction, a dropped keypoint far out) counts 0.
//
// Median error fraction of a fit: over the keypoints used (w_k > 0), the median of the
// 2D errors ‖Π(X_k) − x_k‖ (Π(X) = f (X_x, X_y) / X_z + c, pixels) divided by the diagonal
// of the used keypoints' bounding box (at least 1 px): median as NumPy's (the mean of the
// two middle values for an even count). Infinite if the fit's total energy or the median
// is not finite, or no keypoint is used.
#pragma once

#include <Eigen/Core>

namespace smplify {

using KeypointsXY = Eigen::Matrix<double, Eigen::Dynamic, 2, Eigen::RowMajor>;
using Permutations = Eigen::Matrix<long, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// s_π for each row π of `permutations` (P × K, indices in [0, K)); predicted and xy K × 2,
// weights (K,), sigma > 0 pixels. Throws std::invalid_argument on mismatched sizes or an
// index out of range.
Eigen::VectorXd LabellingScores(const Eigen::Ref<const KeypointsXY>& predicted,
                                const Eigen::Ref<const KeypointsXY>& xy,
                                const Eigen::Ref<const Eigen::VectorXd>& weights,
                                const Eigen::Ref<const Permutations>& permutations,
                                double sigma);

// The median error fraction of a fit whose keypoints (camera frame, metres) are `points`
// (K × 3) and whose total energy is `total_energy`, against xy (K × 2) with weights (K,).
// Throws std::invalid_argument on mismatched sizes.
double MedianErrorFraction(const Eigen::Ref<const Eigen::Matrix<double, Eigen::Dynamic, 3>>& points,
                           double total_energy, const Eigen::Ref<const KeypointsXY>& xy,
                           const Eigen::Ref<const Eigen::VectorXd>& weights, double focal_length,
                           const Eigen::Vector2d& center);

}  // namespace smplify
