// The learned initialiser's likelihood of a fitted body, a start-selection score (SPEC §6,
// docs/design.md "Reading score"). The data term cannot tell the depth readings of one image
// apart (a leg raised sideways or kicked back, a body facing toward or away); the
// initialiser's M readings, each with its probability, can. Treated as a mixture, they give
//
//   R(X) = −log Σ_m p_m exp(−D_m(X) / (2 τ²)),
//   D_m(X) = (1/|S_m|) Σ_{k∈S_m} ‖(X_k − X̄_m) − (H_mk − H̄_m)‖²,
//   X̄_m = (1/|S_m|) Σ_{k∈S_m} X_k,   H̄_m = (1/|S_m|) Σ_{k∈S_m} H_mk,
//
// with X_k the body's keypoint k (metres, camera frame), H_mk reading m's keypoint k (camera
// axes, any origin: both sets are taken relative to their centroid over S_m, so placement
// cancels), S_m the keypoints finite in reading m, p_m = exp(log_weight_m) normalised to sum
// to 1, and τ (metres) the spread of one reading. R is in nats; it enters no solve (so it has
// no Jacobian), only the comparison of finished starts.
#pragma once

#include <vector>

#include <Eigen/Core>

#include "body_model.h"

namespace smplify {

// The readings of one image: K × 3 keypoints each (non-finite rows unknown) and their log
// weights (any scale: normalised inside).
struct ReadingMixture {
  std::vector<MatX3> keypoints;
  Eigen::VectorXd log_weights;
  bool empty() const { return keypoints.empty(); }
};

// R(X) above for the body keypoints X (K × 3); +∞ if no reading shares two keypoints with X.
double ReadingScore(const MatX3& keypoints, const ReadingMixture& readings, double sigma);

}  // namespace smplify
