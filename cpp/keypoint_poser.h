// A format's keypoints of one body, without Jacobians: what the learned initialiser's
// anchor (smplify.anchor) needs per frame, instead of posing all N vertices.
//
//   X_k = p_j(θ, β, γ)                  a joint keypoint (target joint j)
//   X_k = Σ_v c_v v_v(θ, β, γ)          a surface keypoint, by its folded vertex combination
//                                       (body_model.h FoldedVertexCombination: exact for LBS)
#pragma once

#include "body_model.h"
#include "fit_inputs.h"

namespace smplify {

class KeypointPoser {
 public:
  // Folds the targets' vertex lists once (throws std::invalid_argument on a bad vertex id or
  // joint index). Keeps a reference to `model`: it must outlive the poser.
  KeypointPoser(const BodyModel& model, KeypointTargets targets);

  int num_keypoints() const { return targets_.size(); }
  int num_betas() const { return model_.num_betas(); }

  // K × 3 keypoints of the body at `parameters` (betas of the model's length, or fewer: the
  // rest 0). Throws std::invalid_argument on more betas than the model has or non-finite input.
  MatX3 Pose(const BodyParameters& parameters) const;

 private:
  const BodyModel& model_;
  KeypointTargets targets_;
};

}  // namespace smplify
