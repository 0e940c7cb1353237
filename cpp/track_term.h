// E_track, the online track's temporal rows (cpp/fitter.h TrackHistory) as one residual block:
// the frame x = (ω, θ, γ) against the two frames before it, "before" and "last",
//
//   E_track = ‖A ⊙ (g(x) − P)‖² + ‖V ⊙ (g(x) − L)‖²
//           = ‖W ⊙ (g(x) − M)‖² + c
//
//   g(x) = [vec R(ω) (9, row-major); θ (69); γ (3)]     (81 entries, TemporalCost's rows)
//   P = 2 g(last) − g(before)   the constant-velocity prediction (acceleration rows)
//   L = g(last)                 the last frame (velocity rows)
//   A = (λ_R, λ_θ, λ_γ) per part, V = track_velocity_ratio · A
//   W² = A² + V²,  M = (A² P + V² L) / W²,  c = Σ A² V² / W² · (P − L)²
//
// Frames the detector missed: h₁ frames from before to last, h₂ from last to x (1 and 1
// without a miss). The prediction then spans them, P = L + (h₂/h₁)(L − g(before)); A and V
// stay as they are (scaling them to finite differences of unevenly spaced frames,
// 2 / (h₂ (h₁ + h₂)) and 1 / h₂, loosened the track after each dropped frame: one
// held-out clip of tests/test_online.py then shook more than its bound). With h₁ = h₂ = 1
// this is
// exactly TemporalCost(before, last, x) with weights A plus TemporalCost(last, last, x)
// with weights V (the two blocks the track had), completed to one square: the same energy,
// gradient and Gauss-Newton matrix JᵀJ with 82 rows instead of 162 (the dense normal
// equations of a warm frame cost ∝ rows; these were half of them). Rows: r_i = W_i (g_i − M_i)
// for i < 81, then r_81 = √c, constant, so that ‖r‖² = E_track and the solver's cost, and
// with it its steps and stopping test, are those of the two blocks.
//
// Jacobians: ∂r_R/∂ω_k = W_R vec(R(ω) [J_r(ω) e_k]×) (rotation.h), ∂r_θ/∂θ = W_θ I,
// ∂r_γ/∂γ = W_γ I; row 81 is constant. Parameter blocks: ω (3), θ (69), γ (3) of frame x.
// Twin: smplify.reference.track.
#pragma once

#include <Eigen/Core>
#include <ceres/sized_cost_function.h>

#include "temporal_term.h"

namespace smplify {

class TrackCost : public ceres::SizedCostFunction<82, 3, 69, 3> {
 public:
  static constexpr int kRows = 81;  // g's entries; row 81 is √c

  // before, last: (ω, θ, γ) of the two frames before, each as 75 values [ω; θ; γ];
  // before_gap (h₁), gap (h₂): frames between them and from last to this one (≥ 1).
  TrackCost(const Eigen::Matrix<double, 75, 1>& before, const Eigen::Matrix<double, 75, 1>& last,
            const TemporalWeights& acceleration, double velocity_ratio, double before_gap = 1.0,
            double gap = 1.0);

  bool Evaluate(double const* const* parameters, double* residuals,
                double** jacobians) const override;

  // g(x) of a frame given as 75 values [ω; θ; γ].
  static Eigen::Matrix<double, kRows, 1> Features(const Eigen::Matrix<double, 75, 1>& frame);

  // W, M (rows 9..77 are the body pose's: W_θ, one value for the 69, and M_θ) and √c.
  const Eigen::Matrix<double, kRows, 1>& weight() const { return weight_; }
  const Eigen::Matrix<double, kRows, 1>& target() const { return target_; }
  double constant() const { return constant_; }
  // W_θ, the body pose's one weight (rows kBodyPoseRow..kBodyPoseRow + 68), and their M_θ.
  static constexpr int kBodyPoseRow = 9;
  double pose_weight() const { return weight_(kBodyPoseRow); }
  Eigen::Matrix<double, 69, 1> pose_target() const {
    return target_.segment<69>(kBodyPoseRow);
  }

 private:
  Eigen::Matrix<double, kRows, 1> weight_;  // W
  Eigen::Matrix<double, kRows, 1> target_;  // M
  double constant_ = 0.0;                   // √c
};

// TrackCost's rows without the body pose's (those join the pose prior's in one block,
// tracked_pose_prior_term.h): r = [W_R ⊙ (vec R(ω) − M_R) (9); W_γ ⊙ (γ − M_γ) (3); √c],
// rows 0..8, 78..80 and 81 of TrackCost, with their Jacobians. √c stays here whole (the body
// pose's share too). Parameter blocks: ω (3), γ (3).
class TrackRootCost : public ceres::SizedCostFunction<13, 3, 3> {
 public:
  explicit TrackRootCost(const TrackCost& track);

  bool Evaluate(double const* const* parameters, double* residuals,
                double** jacobians) const override;

 private:
  Eigen::Matrix<double, 12, 1> weight_;  // W_R (9), W_γ (3)
  Eigen::Matrix<double, 12, 1> target_;  // M_R, M_γ
  double constant_ = 0.0;
};

}  // namespace smplify
