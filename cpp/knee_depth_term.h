// E_knee, the knee-depth term (issue 10, "Bent knees"): a bend of the knee along the camera's
// depth axis costs, one that shows in the image does not.
//
//   u = A − H,   w = K − H,   o = w − ((w·u) / (u·u)) u,   d = o_z / ‖u‖,
//   r_leg = λ_k · ρ(d),   ρ(d) = σ d / sqrt(σ² + d²)   (Geman-McClure, as E_J and E_3D),
//   ∂r/∂d = λ_k σ³ / (σ² + d²)^{3/2},
//
// per leg (left, right), H, K, A its hip, knee and ankle keypoints (metres, camera frame,
// z away from the camera). o is the knee's offset from the hip–ankle line, d its depth
// component per leg length: 0 for a straight leg in any direction and for a knee bent
// across the image (a side view: the 2D sees it), tan(a/2)/2 for a leg bent by an angle a
// toward (−) or away from (+) the camera with thigh = shin. At a straight knee the data term
// is flat to first order along such a bend (the 2D length goes as cos a), so E_θ's pull
// bends it freely; this term holds it unless the 2D asks for the bend (a short 2D leg pulls
// through E_J, and ρ saturates at λ_k σ for deep bends, so squats seen from the front keep
// theirs). Symbols: σ (dimensionless, knee_depth_sigma), λ_k (knee_depth_weight).
// A leg with any of its three keypoint ids < 0 gives a row of 0.
// Parameter blocks: global_orient (3), body_pose (69), betas (B), transl (3).
#pragma once

#include <array>

#include <ceres/cost_function.h>

#include "body_evaluation.h"

namespace smplify {

class KneeDepthCost : public ceres::CostFunction {
 public:
  // legs: left hip, knee, ankle, right hip, knee, ankle keypoint ids (−1: none).
  KneeDepthCost(BodyEvaluation* evaluation, const std::array<int, 6>& legs, double sigma,
                double lambda, int num_betas);

  bool Evaluate(double const* const* parameters, double* residuals,
                double** jacobians) const override;

 private:
  BodyEvaluation* evaluation_;
  const std::array<int, 6> legs_;
  const double sigma_;   // σ
  const double lambda_;  // λ_k
};

// d and ∂d/∂H, ∂d/∂K, ∂d/∂A (rows of `gradient`, in that order) of one leg.
double KneeDepth(const Vec3& hip, const Vec3& knee, const Vec3& ankle,
                 Eigen::Matrix3d* gradient);

}  // namespace smplify
