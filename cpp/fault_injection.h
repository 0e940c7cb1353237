// A test-only fault for the solver (reached only through smplify._core._testing): one extra
// residual block, r = 0 with ∂r/∂γ = 0, that on its `evaluation`-th call (0-based, counted per
// stage problem; with kNanJacobian only calls that ask for Jacobians count) gives a NaN
// residual (kNanResidual), a NaN Jacobian (kNanJacobian) or reports failure (kFail). It proves
// that a term going bad in the middle of a solve ends in the stage's report, not in a crash.
// Each stage problem gets its own instance: no state is shared between threads or fits.
#pragma once

#include <limits>

#include <ceres/cost_function.h>

namespace smplify {

struct InjectedFault {
  enum Kind { kNanResidual = 0, kNanJacobian = 1, kFail = 2 };
  Kind kind = kNanResidual;
  int stage = 0;       // 0-based index of the dogleg stage whose problem gets the block
  int evaluation = 0;  // which call goes bad
};

class FaultCost : public ceres::CostFunction {
 public:
  explicit FaultCost(const InjectedFault& fault) : fault_(fault) {
    set_num_residuals(1);
    *mutable_parameter_block_sizes() = {3};  // γ
  }

  bool Evaluate(double const* const* /*parameters*/, double* residuals,
                double** jacobians) const override {
    const bool with_jacobian = jacobians != nullptr && jacobians[0] != nullptr;
    const bool counts = fault_.kind != InjectedFault::kNanJacobian || with_jacobian;
    const bool bad = counts && calls_++ == fault_.evaluation;
    if (bad && fault_.kind == InjectedFault::kFail) return false;
    const double nan = std::numeric_limits<double>::quiet_NaN();
    residuals[0] = bad && fault_.kind == InjectedFault::kNanResidual ? nan : 0.0;
    if (with_jacobian) {
      const double value = bad && fault_.kind == InjectedFault::kNanJacobian ? nan : 0.0;
      for (int i = 0; i < 3; ++i) jacobians[0][i] = value;
    }
    return true;
  }

 private:
  const InjectedFault fault_;
  mutable int calls_ = 0;  // Ceres evaluates one problem on one thread (num_threads = 1)
};

}  // namespace smplify
