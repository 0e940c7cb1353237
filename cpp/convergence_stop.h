#pragma once

// FitOptions stop_tolerance / track_stop_tolerance: ends a Ceres solve after an accepted step
// when the next step's relative decrease is predicted below a tolerance, sparing the last
// iteration of a converging solve, whose linear solve and candidate cost only confirm
// convergence (its decrease ≤ function_tolerance · cost, so Ceres rejects it and returns the
// point before). Ceres runs the callback after an accepted step's Jacobian was evaluated and
// before the next linear solve; stopping there returns that accepted point (USER_SUCCESS).
//
// With d_k = Δ_k / (c_k + Δ_k) the relative decrease of the accepted step k ≥ 1 (Δ_k its
// cost_change, c_k the cost after it; d_{k−1} the accepted step before, unsuccessful
// iterations skipped), the solve stops when
//   rule kPredicted:  d_k² / d_{k−1} ≤ τ   (k ≥ 2: linear convergence's prediction of d_{k+1})
//   rule kDecrease:   d_k ≤ τ              (the step itself small; unlike function_tolerance
//                                           the step is kept)
//   rule kGradient:   d_k · (g_k / g_{k−1})² ≤ τ   (k ≥ 1)
// where g_k = |∇E| at the point after accepted step k (IterationSummary::gradient_norm, Ceres'
// |x − Plus(x, −∇E)|, the tangent-space gradient's 2-norm) and g_0 the start's (iteration 0's
// summary); g_{k−1} is the gradient at the last ACCEPTED point (a rejected step leaves x, and
// Ceres repeats the last gradient in its summary). kGradient's reason: a Gauss-Newton step
// from x decreases the cost by ½ gᵀ H⁻¹ g; with the same curvature along g_{k−1} and g_k,
// the next step's decrease is the last one's times (g_k / g_{k−1})², usable from the first
// accepted step (kPredicted's ratio d_k / d_{k−1} under-predicts the third step of a tracked
// fit 2–7×: its first, Gauss-Newton step converges faster than the later ones).
// τ = 0: off (no callback installed: the solve is Ceres' own).

#include <string>

#include <ceres/ceres.h>

namespace smplify {

enum class StopRule { kPredicted = 0, kDecrease = 1, kGradient = 2 };

struct StopSettings {
  double tolerance = 0.0;  // τ; 0: off
  StopRule rule = StopRule::kPredicted;
  bool on() const { return tolerance > 0.0; }
};

class ConvergenceStop : public ceres::IterationCallback {
 public:
  explicit ConvergenceStop(const StopSettings& settings) : settings_(settings) {}

  ceres::CallbackReturnType operator()(const ceres::IterationSummary& summary) override;

  // Whether this callback ended the solve, and why (for the StageReport's message).
  bool stopped() const { return stopped_; }
  const std::string& message() const { return message_; }

 private:
  StopSettings settings_;
  double previous_decrease_ = -1.0;  // d_{k−1}; < 0: no accepted step yet
  double previous_gradient_ = -1.0;  // g_{k−1}, the last accepted point's; < 0: none seen
  bool stopped_ = false;
  std::string message_;
};

}  // namespace smplify
