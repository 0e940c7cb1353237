// The 2D keypoint speeds that open the online Fitter's output filter (pose_filter.h's
// keypoint_speed): what the detector sees move this frame, per SMPL joint, in person sizes
// per second. The NumPy twin is smplify.pose_filter.KeypointSpeed (same values).
//
// A keypoint's motion is taken relative to the torso's centre c (the mean of the torso
// keypoints seen in both frames: the person walking is not a joint turning), the shorter of
// its step from its own and from its mirror partner's last position (a left/right swap is no
// motion), weighted by the lower of its two confidences w (a jumping unsure keypoint barely
// counts):
//
//   r_k,t = x_k,t − c_t                                      (2,) px
//   v_k   = min(w_k,t, w_k,t−1) · min(‖r_k,t − r_k,t−1‖, ‖r_k,t − r_m(k),t−1‖) · fps / (h size)
//   s_j   = max over the keypoints joint j's rotation moves of v_k     (j = 1..23)
//   s_0   = max over the torso keypoints of v_k                          (the root)
//   s_24  = min over the torso keypoints i used of min(w_i,t, w_i,t−1) · ‖c_t − c_t−1‖
//           · fps / (h size)
//
// x: the keypoints (K, 2) px; w: their confidences (K,) in [0, 1]; c: the torso's centre;
// m(k): k's mirror partner.
// h: frames since the last (≥ 1); size: the person's 2D size, pixels (the track's torso
// length). All zero on a first frame, with the size unknown (not finite or ≤ 0), or with
// fewer than two torso keypoints seen (confidence > 0) in both frames.
#pragma once

#include <Eigen/Core>

#include "body_model.h"

namespace smplify {

class KeypointSpeed {
 public:
  static constexpr int kJoints = kNumJoints;  // SMPL's 24
  using Speeds = Eigen::Matrix<double, kJoints + 1, 1>;  // per joint, then the torso's centre
  using Points = Eigen::Matrix<double, Eigen::Dynamic, 2>;

  // moved (24, K): 1 where joint j's rotation moves keypoint k; torso: the shoulders' and
  // hips' indices; mirror (K,): each keypoint's left/right partner (itself on the midline);
  // fps > 0. Indices out of range, sizes that disagree or a bad fps: std::invalid_argument.
  KeypointSpeed(const Eigen::Matrix<int, kJoints, Eigen::Dynamic>& moved,
                const Eigen::Vector4i& torso, const Eigen::VectorXi& mirror, double fps);

  // Forget the last frame: the next one's speeds are zero.
  void Reset() { has_last_ = false; }

  // This frame's speeds of keypoints xy (K, 2) px, finite, with confidence (K,) (clipped to
  // [0, 1]; not finite: std::invalid_argument, the state unchanged).
  Speeds Compute(const Points& xy, const Eigen::VectorXd& confidence, double size,
                 int frames);

  int num_keypoints() const { return static_cast<int>(mirror_.size()); }

 private:
  const Eigen::Matrix<int, kJoints, Eigen::Dynamic> moved_;
  const Eigen::Vector4i torso_;
  const Eigen::VectorXi mirror_;
  const double fps_;
  bool has_last_ = false;
  Points last_xy_;
  Eigen::VectorXd last_confidence_;
};

}  // namespace smplify
