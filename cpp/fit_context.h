// What a fit needs that stays fixed across images: the model, the keypoint targets, the prior,
// the capsules, the options and the start poses (the inputs of fit_inputs.h put together).
#pragma once

#include <vector>

#include <Eigen/Core>

#include "body_model.h"
#include "capsule_spheres.h"
#include "fit_inputs.h"
#include "tracked_pose_prior_term.h"

namespace smplify {

// What a fit needs that stays fixed across images.
struct FitContext {
  const BodyModel& model;
  KeypointTargets targets;
  PosePriorArrays prior;
  CapsuleArrays capsules;  // empty joint list: no interpenetration term
  FitOptions options;
  SphereLayout spheres = {};  // filled by the Fitter from the capsules at β = 0
  // The prior's precisions decomposed (filled by the Fitter): a warm tracked frame's pose
  // prior and the track's body-pose rows as one block (tracked_pose_prior_term.h).
  std::vector<PriorEigen> prior_eigen = {};
  // FactorNorms(prior_eigen) (filled with it): σ_k ≥ ‖L_k‖₂, the pose prior costs'
  // ComponentChoice bounds, computed once here instead of by every cost.
  std::vector<double> prior_bounds = {};
  // Body poses the stages start from; the fit keeps one per orientation (options'
  // select_start_by_data). The camera initialisation and torso fit always use θ_body = 0
  // (docs/design.md).
  std::vector<Eigen::VectorXd> starts = {Eigen::VectorXd::Zero(kBodyPoseSize)};
};

}  // namespace smplify
