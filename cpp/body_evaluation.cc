#include "body_evaluation.h"

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace smplify {

BodyEvaluation::BodyEvaluation(const BodyModel& model, const KeypointTargets& targets,
                               const BodyParameters& parameters, const CapsuleArrays* capsules,
                               const SphereLayout* layout, double sphere_sigma_scale)
    : model_(model),
      targets_(targets),
      parameters_(parameters),
      capsules_(capsules),
      layout_(capsules != nullptr ? layout : nullptr),
      sphere_sigma_scale_(sphere_sigma_scale) {
  if (static_cast<int>(targets_.folded.size()) != targets_.size()) {
    throw std::invalid_argument("keypoint targets must be folded (FoldTargets) before use");
  }
}

void FoldTargets(const BodyModel& model, KeypointTargets* targets) {
  targets->folded.assign(targets->joint.size(), FoldedVertexCombination());
  for (int k = 0; k < targets->size(); ++k) {
    if (targets->joint[k] < 0) targets->folded[k] = model.Fold(targets->vertices[k]);
  }
}

void BodyEvaluation::PrepareForEvaluation(bool evaluate_jacobians, bool new_evaluation_point) {
  if (new_evaluation_point || (evaluate_jacobians && !has_jacobians_)) Compute(evaluate_jacobians);
}

void BodyEvaluation::Compute(bool with_jacobians) {
  const PoseVector pose = parameters_.Pose();
  const int num_keypoints = targets_.size();
  const int num_betas = model_.num_betas();
  const Skeleton skeleton = model_.Pose(pose, parameters_.betas, parameters_.transl, with_jacobians);

  // 1. Joint keypoints and their Jacobians.
  // Allocated per evaluation, not kept: a kept 72 x 72 and 72 x B per BodyEvaluation costs
  // fit_sequence ~45 KB a frame for the whole joint solve, for no measurable time.
  Eigen::MatrixXd d_joints_pose, d_joints_betas;
  if (with_jacobians) model_.JointJacobians(skeleton, &d_joints_pose, &d_joints_betas);
  // 2. Surface keypoints: folded vertex combinations (their pose blend-shape inputs first,
  //    needed only when some keypoint is a surface point).
  const bool blend = model_.has_pose_blend_shapes() &&
                     std::any_of(targets_.joint.begin(), targets_.joint.end(),
                                 [](int joint) { return joint < 0; });
  const Eigen::VectorXd feature = blend ? model_.PoseFeature(skeleton) : Eigen::VectorXd();
  PoseFeatureJacobian d_feature;
  if (blend && with_jacobians) d_feature = model_.PoseFeatureDerivative(skeleton);
  // Every row is written below (a surface keypoint's Jacobian rows zeroed by PoseFolded):
  // sized only, not zero-filled first.
  keypoints_.resize(num_keypoints, 3);
  if (with_jacobians) {
    d_keypoints_pose_.resize(3 * num_keypoints, kPoseSize);
    d_keypoints_betas_.resize(3 * num_keypoints, num_betas);
  }
  for (int k = 0; k < num_keypoints; ++k) {
    const int joint = targets_.joint[k];
    if (joint >= 0) {
      keypoints_.row(k) = skeleton.joints[joint].transpose();
      if (with_jacobians) {
        d_keypoints_pose_.middleRows<3>(3 * k) = d_joints_pose.middleRows<3>(3 * joint);
        d_keypoints_betas_.middleRows<3>(3 * k) = d_joints_betas.middleRows<3>(3 * joint);
      }
      continue;
    }
    if (with_jacobians) {
      Eigen::Ref<Eigen::Matrix<double, 3, kPoseSize>> d_pose = d_keypoints_pose_.middleRows<3>(3 * k);
      Eigen::Ref<Mat3X> d_betas = d_keypoints_betas_.middleRows<3>(3 * k);
      keypoints_.row(k) = model_.PoseFolded(skeleton, targets_.folded[k], feature, &d_feature,
                                            &d_pose, &d_betas).transpose();
    } else {
      keypoints_.row(k) =
          model_.PoseFolded(skeleton, targets_.folded[k], feature, nullptr, nullptr, nullptr)
              .transpose();
    }
  }

  // 3. Sphere centres C_i = R_world_j · rest_offset_i(β) + p_j(θ, β, γ), rigid in joint j's
  //    frame; ∂C_i/∂θ only (β is treated as a constant of E_sp, SPEC §2).
  if (layout_ != nullptr) {
    PlaceSpheres(*capsules_, *layout_, parameters_.betas, sphere_sigma_scale_, &sphere_offsets_,
                 &sphere_sigma_);
    const int num_spheres = layout_->size();
    sphere_centres_.resize(num_spheres, 3);
    if (with_jacobians) d_spheres_pose_.setZero(3 * num_spheres, kPoseSize);
    for (int i = 0; i < num_spheres; ++i) {
      const int j = layout_->joint[i];
      const Vec3 c = skeleton.world_rotation[j] * sphere_offsets_.row(i).transpose() +
                     skeleton.joints[j];
      sphere_centres_.row(i) = c.transpose();
      if (with_jacobians) {
        model_.AddAttachedPointPoseJacobian(skeleton, j, c, d_spheres_pose_.middleRows<3>(3 * i));
      }
    }
  }
  has_jacobians_ = with_jacobians;
}

}  // namespace smplify
