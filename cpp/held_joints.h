#pragma once

// FitOptions track_held_joints: a tracked warm fit's body pose θ (69 values, joint j's
// rotation at 3(j − 1) ..) given to Ceres as runs of consecutive joints, the held joints'
// runs constant. Ceres forms the dense normal equations JᵀJ over the free columns only
// (cost ∝ rows · columns²), which a manifold on the whole block would not save: Ceres 2.1
// multiplies each Jacobian block by the manifold's dense 69 × k Plus Jacobian.

#include <memory>
#include <utility>
#include <vector>

#include <ceres/ceres.h>

namespace smplify {

class HeldJoints {
 public:
  // `joints`: distinct SMPL joints in [1, 23] (checked by the Fitter's options).
  explicit HeldJoints(const std::vector<int>& joints);

  bool empty() const { return !any_held_; }

  // Replaces, in `problem`, the parameter block `body_pose` (69 values) by its runs: every
  // residual block over it is re-added with its cost wrapped (the wrapper sees θ whole and
  // hands Ceres the Jacobian's columns run by run), the held runs are constant. The
  // wrappers live in this object, which must outlive the problem.
  void Split(ceres::Problem* problem, double* body_pose);

  // [begin, end) of each run in θ, and whether it is held.
  struct Run {
    int begin, end;
    bool held;
  };
  const std::vector<Run>& runs() const { return runs_; }

 private:
  std::vector<Run> runs_;
  bool any_held_ = false;
  std::vector<std::unique_ptr<ceres::CostFunction>> wrappers_;
};

// `inner` (not owned) with its parameter block `pose_block` (θ, 69 values) given as `runs`'
// blocks in its place: the same residuals; θ's Jacobian columns go to each run's block.
class SplitPoseCost : public ceres::CostFunction {
 public:
  SplitPoseCost(const ceres::CostFunction* inner, int pose_block,
                std::vector<HeldJoints::Run> runs);
  bool Evaluate(double const* const* parameters, double* residuals,
                double** jacobians) const override;

 private:
  const ceres::CostFunction* inner_;
  int pose_block_;
  std::vector<HeldJoints::Run> runs_;
  // Evaluate's buffers (one problem is solved on one thread).
  mutable std::vector<double> pose_, jacobian_;
  mutable std::vector<const double*> parameters_;
  mutable std::vector<double*> jacobians_;
};

}  // namespace smplify
