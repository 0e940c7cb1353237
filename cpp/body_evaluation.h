// One forward-kinematics evaluation per solver point, shared by every energy term.
//
// Ceres calls PrepareForEvaluation once per new point; this computes the model's keypoints
// (joints or Σ w·vertex) in the camera frame and the interpenetration spheres' centres, with
// their Jacobians when asked. The cost functions only read these (Ceres'
// evaluation_callback_example.cc pattern).
#pragma once

#include <vector>

#include <ceres/evaluation_callback.h>
#include <Eigen/Core>

#include "body_model.h"
#include "capsule_spheres.h"
#include "fit_inputs.h"

namespace smplify {

class BodyEvaluation : public ceres::EvaluationCallback {
 public:
  // capsules/layout may be null (no interpenetration term). The spheres are placed on the
  // body at the current (θ, β); their Jacobian is taken w.r.t. θ only: E_sp's gradient never
  // reaches β, so the fit cannot thin the body to avoid contact (SPEC §2).
  BodyEvaluation(const BodyModel& model, const KeypointTargets& targets,
                 const BodyParameters& parameters, const CapsuleArrays* capsules = nullptr,
                 const SphereLayout* layout = nullptr, double sphere_sigma_scale = 1.0 / 3.0);

  void PrepareForEvaluation(bool evaluate_jacobians, bool new_evaluation_point) override;

  // Recomputes at the parameters' current values (outside a solve).
  void Update(bool with_jacobians) { Compute(with_jacobians); }

  // Keypoint k in the camera frame, and ∂/∂θ (3 × 72), ∂/∂β (3 × B); ∂/∂γ = I.
  Vec3 keypoint(int k) const { return keypoints_.row(k).transpose(); }
  const MatX3& keypoints() const { return keypoints_; }
  auto keypoint_pose_jacobian(int k) const { return d_keypoints_pose_.middleRows<3>(3 * k); }
  auto keypoint_betas_jacobian(int k) const { return d_keypoints_betas_.middleRows<3>(3 * k); }
  // ∂X_k/∂γ = transl_scale(k) · I (1 for joints, Σ_v c_v for a vertex combination).
  double keypoint_transl_scale(int k) const {
    return targets_.joint[k] >= 0 ? 1.0 : targets_.folded[k].weight_sum;
  }

  // Spheres: centres C_i (camera frame), σ_i, and ∂C_i/∂θ (3 × 72; no ∂/∂β, SPEC §2).
  const SphereLayout* sphere_layout() const { return layout_; }
  Vec3 sphere_centre(int i) const { return sphere_centres_.row(i).transpose(); }
  double sphere_sigma(int i) const { return sphere_sigma_(i); }
  auto sphere_pose_jacobian(int i) const { return d_spheres_pose_.middleRows<3>(3 * i); }

  bool has_jacobians() const { return has_jacobians_; }

 private:
  void Compute(bool with_jacobians);

  const BodyModel& model_;
  const KeypointTargets& targets_;
  const BodyParameters& parameters_;
  const CapsuleArrays* capsules_;
  const SphereLayout* layout_;
  const double sphere_sigma_scale_;

  MatX3 keypoints_;
  Eigen::MatrixXd d_keypoints_pose_, d_keypoints_betas_;
  MatX3 sphere_offsets_, sphere_centres_;
  Eigen::VectorXd sphere_sigma_;
  Eigen::MatrixXd d_spheres_pose_;
  bool has_jacobians_ = false;
};

}  // namespace smplify
