// The online Fitter's output filter: a causal One Euro filter (Casiez, Roussel and Vogel,
// CHI 2012) on each of the 24 joint rotations of an SMPL pose, on the rotation group, and on
// the translation. The NumPy twin is smplify.pose_filter.PoseOneEuro (same values).
//
// A rotation R_t (unit quaternion q_t) is filtered in the tangent space of the last output
// R̂_{t−1} (no axis-angle wrap-around at π, no drift off the rotations):
//
//   δ_t = log(R̂_{t−1}ᵀ R_t)                              (3,) rad, the step from the output
//   ω̂_t = α(d_cutoff) δ_t r + (1 − α(d_cutoff)) ω̂_{t−1}  rad/s, the speed estimate
//   f_c = min_cutoff + beta ‖ω̂_t‖                         Hz, the cutoff
//   R̂_t = R̂_{t−1} exp(α(f_c) δ_t)
//   α(f) = 1 / (1 + r / (2π f))                           a first-order low-pass's gain
//
// With keypoint_beta > 0 and this frame's 2D keypoint speeds s (kJoints + 1,) given (person
// sizes per second: s_j of the keypoints joint j's rotation moves, s_24 the torso's centre;
// smplify.pose_filter.KeypointSpeed), the cutoff also rises at once with what the detector
// sees, not only with the filtered signal's own (lagged) speed estimate:
//
//   f_c = min_cutoff + beta ‖ω̂_t‖ + keypoint_beta max(0, s_j − keypoint_floor)
//   (s_24 for the translation; the floor: what the detector's jitter alone reads as speed)
//
// r = fps / h, the sampling rate of a step across h frames (h − 1 missed by the detector).
// The translation γ (metres) follows the same recursion per coordinate with
// δ_t = γ_t − γ̂_{t−1} and |ω̂| per coordinate (beta in s/m). The first frame after a
// Reset passes through unchanged. Lag at rest: a ramp is followed (1 − α(min_cutoff)) /
// α(min_cutoff) frames behind.
//
// Quaternions are (w, x, y, z); the rotation vector of q takes the shorter way round
// (angle ≤ π), with the same small-angle series as the twin (sin(θ/2)/θ ≈ 1/2 − θ²/48 below
// 1e-6 rad; angle / sin(θ/2) ≈ 2 below ‖xyz‖ = 1e-12).
#pragma once

#include <Eigen/Core>

#include "keypoint_speed.h"

namespace smplify {

class PoseFilter {
 public:
  static constexpr int kJoints = kNumJoints;  // SMPL's 24
  using Pose = Eigen::Matrix<double, 3 * kJoints, 1>;  // axis-angle per joint, root first

  // fps > 0 (frames per second of the video), min_cutoff > 0 (Hz at rest), beta ≥ 0
  // (s/rad for rotations, s/m for the translation), d_cutoff > 0 (Hz, of the speed
  // estimate), all finite; else std::invalid_argument naming the parameter.
  // keypoint_beta ≥ 0: Hz per (person size / s) of the 2D keypoint speeds above
  // keypoint_floor ≥ 0 (person sizes / s).
  PoseFilter(double fps, double min_cutoff, double beta, double d_cutoff = 1.0,
             double keypoint_beta = 0.0, double keypoint_floor = 0.0);
  // KeypointSpeed's output: per joint, then the torso's centre (for the translation).
  using Speeds = KeypointSpeed::Speeds;

  // Forget the past: the next frame passes through unchanged.
  void Reset();

  // This frame's filtered pose and translation; `frames` ≥ 1 since the last frame filtered
  // (a value < 1 counts as 1); `keypoint_speed` (≥ 0, finite) or nullptr (none seen: the
  // One Euro alone). Non-finite input: std::invalid_argument (state unchanged).
  void Filter(const Pose& pose, const Eigen::Vector3d& transl, int frames, Pose* pose_out,
              Eigen::Vector3d* transl_out, const Speeds* keypoint_speed = nullptr);

  // Frames a ramp is followed behind at rest, (1 − α(min_cutoff)) / α(min_cutoff).
  double lag_frames() const { return lag_; }
  bool started() const { return started_; }

 private:
  using Quaternions = Eigen::Matrix<double, 4, kJoints>;  // one (w, x, y, z) per column

  const double fps_, min_cutoff_, beta_, d_cutoff_, keypoint_beta_, keypoint_floor_;
  const double a_d_;  // α(d_cutoff) at fps
  const double lag_;
  bool started_ = false;
  Quaternions rotation_;                              // the last output's quaternions
  Eigen::Matrix<double, 3, kJoints> spin_;            // rad/s, per joint
  Eigen::Vector3d transl_, speed_;                    // metres, m/s
};

}  // namespace smplify
