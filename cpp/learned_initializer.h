// The learned 2D→3D initialiser's inference (smplify.initializer; NumPy twin:
// smplify.initializer.Initializer.predict): M readings of SMPL pose, shared betas and a score
// each from one person's 2D keypoints.
//
//   x   = [((u_k, v_k) − c) / s, conf_k]_k ++ [(c − image_size / 2) / f, s / f]   (3K + 3)
//         c, s: centre and larger side (≥ 1 px) of the box of the keypoints with conf > 0;
//         an unseen keypoint contributes (0, 0, 0)
//   h_0 = ReLU(W_0 x + b_0),  h_i = h_{i−1} + ReLU(W_i h_{i−1} + b_i)  (i = 1 .. L−2)
//   y   = W_{L−1} h_{L−2} + b_{L−1}                                          (M·145 + 10)
//   per reading m: 24 × 6D rotations (+ the identity's 6D, so y = 0 reads as identity),
//   one logit ℓ_m; then 10 betas. score_m = softmax(ℓ)_m.
//   R = [b1 b2 b1×b2], b1 = a1/‖a1‖, b2 = (a2 − (b1·a2) b1)/‖·‖   (Gram–Schmidt, norms ≥ 1e-8)
//
// Layers are single precision (the weights file stores them so); the decoding is double.
// Layer count and widths come from the weights, so any depth and width load.
#pragma once

#include <array>
#include <vector>

#include <Eigen/Core>

#include "rotation.h"

namespace smplify {

// One dense layer y = W x + b (W: out × in, row-major as the weights file stores it).
struct DenseLayer {
  Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> weight;
  Eigen::VectorXf bias;
};

// One reading: 24 rotations (root first, camera frame), their axis-angles, shared betas.
struct InitializerReading {
  int index = 0;                              // which of the M readings
  double score = 0.0;                         // softmax probability
  std::array<Mat3, 24> rotations;             // R of the root, then joints 1..23
  Eigen::Matrix<double, 72, 1> pose;          // axis-angle (angle in [0, π]) of each
  Eigen::VectorXd betas;                      // 10
};

class LearnedInitializer {
 public:
  static constexpr int kNumBetas = 10;
  static constexpr int kReadingWidth = 6 * 24 + 1;  // 24 rotations in 6D, one logit

  // Checks the layers chain (in of layer i+1 = out of layer i, residual layers square), the
  // input width 3K + 3 and the output width M·145 + 10 (throws std::invalid_argument).
  LearnedInitializer(std::vector<DenseLayer> layers, int num_keypoints, int num_hypotheses);

  int num_keypoints() const { return num_keypoints_; }
  int num_hypotheses() const { return num_hypotheses_; }

  // x of one person: keypoints K × 3 (x, y pixels, confidence in [0, 1]; a row with a
  // non-finite entry counts as unseen); image_size (w, h) > 0, focal > 0 pixels. Throws
  // std::invalid_argument on bad sizes, confidences outside [0, 1] or no seen keypoint.
  Eigen::VectorXf Features(const Eigen::Ref<const Eigen::MatrixXd>& keypoints,
                           const Eigen::Vector2d& image_size, double focal) const;
  // The last hidden layer h_{L−2} of x.
  Eigen::VectorXf Hidden(const Eigen::VectorXf& x) const;
  // The full output y of x.
  Eigen::VectorXf Raw(const Eigen::VectorXf& x) const;
  // The best `count` readings of x (all M if count ≤ 0 or ≥ M), best score first (ties: lower
  // index first). Only those readings' output rows are computed.
  std::vector<InitializerReading> Predict(const Eigen::VectorXf& x, int count) const;

 private:
  std::vector<DenseLayer> layers_;
  int num_keypoints_;
  int num_hypotheses_;
};

// R of one 6D rotation (two columns, Gram–Schmidt; see above). Public for the tests.
Mat3 RotationFrom6d(const Eigen::Matrix<double, 6, 1>& six);

// Axis-angle of R by Shepperd's quaternion (the largest of w², x², y², z² divides), w ≥ 0,
// angle in [0, π]: the NumPy twin's (smplify.initializer.matrix_to_axis_angle) arithmetic.
Vec3 AxisAngleShepperd(const Mat3& rotation);

}  // namespace smplify
