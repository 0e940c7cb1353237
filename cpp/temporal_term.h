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
//
// The same rows split as a sparse solver wants them (TemporalCost stacks them, its tests
// cover both): TemporalRootCost has r_R and r_γ (12 rows: the 9 of r_R, then the 3 of r_γ),
// TemporalJointCost the 3 rows of r_θ that belong to one body joint j,
// λ_θ (θ_a,j − 2 θ_b,j + θ_c,j), on that joint's 3-vectors only. Stored as one 81 × 225 block,
// the pose rows' Jacobian (c λ_θ I) makes the normal equations cost 81 · 225² products per
// triple; split, 12 · 18² + 23 · 3 · 9².
#pragma once

#include <ceres/sized_cost_function.h>

namespace smplify {

struct TemporalWeights {
  double orient = 0.0;  // λ_R
  double pose = 0.0;    // λ_θ
  double transl = 0.0;  // λ_γ
};

class TemporalRootCost
    : public ceres::SizedCostFunction<12 /* r_R, r_γ */, 3, 3, 3 /* ω_a,b,c */,
                                      3, 3, 3 /* γ_a,b,c */> {
 public:
  explicit TemporalRootCost(const TemporalWeights& weights) : weights_(weights) {}

  bool Evaluate(double const* const* parameters, double* residuals,
                double** jacobians) const override;

 private:
  const TemporalWeights weights_;
};

class TemporalJointCost
    : public ceres::SizedCostFunction<3 /* r_θ of joint j */, 3, 3, 3 /* θ_a,j, θ_b,j, θ_c,j */> {
 public:
  explicit TemporalJointCost(double pose_weight) : pose_weight_(pose_weight) {}

  bool Evaluate(double const* const* parameters, double* residuals,
                double** jacobians) const override;

 private:
  const double pose_weight_;  // λ_θ
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
