// E_T, the temporal smoothness term of a sequence fit (SPEC §6 "Time"): second differences
// (accelerations) of three consecutive frames a = t − 1, b = t, c = t + 1,
//
//   r_R = λ_R · vec(R(ω_a) − 2 R(ω_b) + R(ω_c))     (9 rows, row-major R)
//   r_θ = λ_θ · (θ_a − 2 θ_b + θ_c)                  (69 rows, body pose)
//   r_γ = λ_γ · (γ_a − 2 γ_b + γ_c)                  (3 rows, translation)
//
// ω: global orientation (axis-angle), θ: body pose (axis-angle per joint, 69), γ: translation
// (metres; the pelvis sits at J_0(β) + γ, so r_γ is the pelvis's acceleration). The global
// orientation enters through its rotation matrix: an upright person has ‖ω‖ ≈ π, where the
// axis-angle of a smooth motion jumps between ω and its antipode (−ω (2π − ‖ω‖)/‖ω‖);
// the matrices do not. Body-joint rotations stay well inside ‖θ_j‖ < π.
//
// Jacobians: ∂r_R/∂ω_i = λ_R c_i vec(R(ω) [J_r(ω) e_i]×) with c = (1, −2, 1) per frame
// (rotation.h), ∂r_θ/∂θ = λ_θ c I, ∂r_γ/∂γ = λ_γ c I.
// Parameter blocks: ω_a, ω_b, ω_c (3 each), θ_a, θ_b, θ_c (69 each), γ_a, γ_b, γ_c (3 each).
// Symbols: λ_R, λ_θ, λ_γ weights on residuals (per rad/frame², per m/frame²).
#pragma once

#include <ceres/sized_cost_function.h>

namespace smplify {

struct TemporalWeights {
  double orient = 0.0;  // λ_R
  double pose = 0.0;    // λ_θ
  double transl = 0.0;  // λ_γ
};

class TemporalCost
    : public ceres::SizedCostFunction<81 /* 9 + 69 + 3 residuals */, 3, 3, 3 /* ω_a,b,c */,
                                      69, 69, 69 /* θ_a,b,c */, 3, 3, 3 /* γ_a,b,c */> {
 public:
  explicit TemporalCost(const TemporalWeights& weights) : weights_(weights) {}

  bool Evaluate(double const* const* parameters, double* residuals,
                double** jacobians) const override;

 private:
  const TemporalWeights weights_;
};

}  // namespace smplify
