// E_sp, the sphere-Gaussian interpenetration term (SPEC §2):
//
//   E_sp = Σ_g Σ_{(i,j) ∈ g} e_ij,   e_ij = exp(−‖C_i − C_j‖² / (σ_i² + σ_j²)),
//
// one row per incompatible capsule pair g (its sphere pairs (i, j) summed):
//
//   r_g = λ_sp · sqrt(Σ_{(i,j) ∈ g} e_ij),   so Σ_g r_g² = λ_sp² E_sp,
//   ∂r_g/∂θ = λ_sp / (2 sqrt(Σ e)) · Σ_{(i,j)} e_ij · (−2 / (σ_i² + σ_j²))
//             · (C_i − C_j)ᵀ (∂C_i/∂θ − ∂C_j/∂θ).
//
// Evaluated with the largest exponent factored out, so that pairs far apart (e_ij underflowing)
// give r_g = 0 and a zero Jacobian, not 0/0. A row per capsule pair instead of per sphere pair
// (~23 rows instead of ~166) has the same energy and gradient; it makes the solver's normal
// equations, whose cost grows with the rows, about half as expensive.
//
// C: sphere centres (BodyEvaluation) on the body at the current β, σ = r/3; the Jacobian is
// w.r.t. θ only, never β (SPEC §2). Parameter blocks: global_orient (3), body_pose (69).
//
// A point where a sphere of some incompatible pair has r(β) ≤ 0 (an extreme β; r at β = 0 is
// checked > 0), or where an exponent is NaN or a row or its Jacobian is not finite, cannot be
// evaluated: Evaluate returns false and Ceres treats the point as invalid.
#pragma once

#include <ceres/cost_function.h>

#include "body_evaluation.h"

namespace smplify {

class InterpenetrationCost : public ceres::CostFunction {
 public:
  InterpenetrationCost(BodyEvaluation* evaluation, double weight);

  bool Evaluate(double const* const* parameters, double* residuals,
                double** jacobians) const override;

 private:
  BodyEvaluation* evaluation_;
  const double weight_;  // λ_sp
};

}  // namespace smplify
