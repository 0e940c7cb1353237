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
// τ = 0: off (no callback installed: the solve is Ceres' own).

#include <string>

#include <ceres/ceres.h>

namespace smplify {

enum class StopRule { kPredicted = 0, kDecrease = 1 };

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
  bool stopped_ = false;
  std::string message_;
};

}  // namespace smplify
