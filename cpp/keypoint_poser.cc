#include "keypoint_poser.h"

#include <stdexcept>
#include <string>
#include <utility>

#include "body_evaluation.h"

namespace smplify {

KeypointPoser::KeypointPoser(const BodyModel& model, KeypointTargets targets)
    : model_(model), targets_(std::move(targets)) {
  for (int joint : targets_.joint) {
    if (joint < -1 || joint >= kNumJoints) {
      throw std::invalid_argument("joint: target joint indices must be in [-1, 24), got " +
                                  std::to_string(joint));
    }
  }
  if (targets_.vertices.size() != targets_.joint.size()) {
    throw std::invalid_argument("vertex lists: one per keypoint");
  }
  FoldTargets(model_, &targets_);
}

MatX3 KeypointPoser::Pose(const BodyParameters& parameters) const {
  if (parameters.betas.size() > model_.num_betas()) {
    throw std::invalid_argument("betas: at most " + std::to_string(model_.num_betas()) +
                                " values, got " + std::to_string(parameters.betas.size()));
  }
  if (!parameters.Pose().allFinite() || !parameters.betas.allFinite() ||
      !parameters.transl.allFinite()) {
    throw std::invalid_argument("pose, betas and transl must be finite");
  }
  BodyParameters full = parameters;
  full.betas = Eigen::VectorXd::Zero(model_.num_betas());
  full.betas.head(parameters.betas.size()) = parameters.betas;
  BodyEvaluation body(model_, targets_, full);
  body.Update(false);
  return body.keypoints();
}

}  // namespace smplify
