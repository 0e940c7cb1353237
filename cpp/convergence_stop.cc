#include "convergence_stop.h"

#include <cstdio>
#include <limits>

namespace smplify {

ceres::CallbackReturnType ConvergenceStop::operator()(const ceres::IterationSummary& summary) {
  // Iteration 0 is the start (no step; its gradient is g_0); a rejected step leaves the
  // history as it was.
  if (summary.iteration == 0) {
    previous_gradient_ = summary.gradient_norm;
    return ceres::SOLVER_CONTINUE;
  }
  if (!summary.step_is_successful) return ceres::SOLVER_CONTINUE;
  const double before = summary.cost + summary.cost_change;
  const double decrease = before > 0.0 ? summary.cost_change / before : 0.0;  // d_k
  const double previous = previous_decrease_;
  previous_decrease_ = decrease;
  const double previous_gradient = previous_gradient_;
  previous_gradient_ = summary.gradient_norm;
  double predicted;
  const char* formula;
  if (settings_.rule == StopRule::kGradient) {
    if (previous_gradient < 0.0) return ceres::SOLVER_CONTINUE;  // no start seen (never: Ceres
                                                                 // reports iteration 0)
    // d_k (g_k / g_{k−1})²; a zero g_{k−1} with a zero g_k predicts 0 as well.
    const double g = summary.gradient_norm;
    predicted = previous_gradient > 0.0 ? decrease * (g / previous_gradient) * (g / previous_gradient)
                : g > 0.0              ? std::numeric_limits<double>::infinity()
                                       : 0.0;
    formula = "predicted decrease d_k*(g_k/g_(k-1))^2";
  } else if (settings_.rule == StopRule::kDecrease) {
    predicted = decrease;
    formula = "relative decrease d_k";
  } else {
    if (previous < 0.0) return ceres::SOLVER_CONTINUE;  // k = 1: no d_{k−1} yet
    // d_k² / d_{k−1}; a zero d_{k−1} with a zero d_k predicts 0 as well.
    predicted = previous > 0.0       ? decrease * decrease / previous
                : decrease > 0.0 ? std::numeric_limits<double>::infinity()
                                 : 0.0;
    formula = "predicted decrease d_k^2/d_(k-1)";
  }
  if (predicted > settings_.tolerance) return ceres::SOLVER_CONTINUE;
  char text[160];
  std::snprintf(text, sizeof(text), "stop rule: %s = %.3g <= %.3g after iteration %d",
                formula, predicted, settings_.tolerance, summary.iteration);
  message_ = text;
  stopped_ = true;
  return ceres::SOLVER_TERMINATE_SUCCESSFULLY;
}

}  // namespace smplify
