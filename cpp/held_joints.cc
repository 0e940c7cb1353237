#include "held_joints.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace smplify {
namespace {
constexpr int kPoseValues = 69;  // θ: joints 1..23, 3 each
}  // namespace

HeldJoints::HeldJoints(const std::vector<int>& joints) {
  std::vector<bool> held(24, false);
  for (int j : joints) held[static_cast<size_t>(j)] = true;
  for (int j = 1; j <= 23; ++j) {
    const int begin = 3 * (j - 1);
    if (!runs_.empty() && runs_.back().held == held[j]) {
      runs_.back().end = begin + 3;
    } else {
      runs_.push_back({begin, begin + 3, held[j]});
    }
    any_held_ = any_held_ || held[j];
  }
}

void HeldJoints::Split(ceres::Problem* problem, double* body_pose) {
  if (!any_held_ || !problem->HasParameterBlock(body_pose)) return;
  std::vector<ceres::ResidualBlockId> blocks;
  problem->GetResidualBlocksForParameterBlock(body_pose, &blocks);
  struct Readd {
    const ceres::CostFunction* cost;
    std::vector<double*> parameters;
  };
  std::vector<Readd> readd;
  for (ceres::ResidualBlockId id : blocks) {
    // The terms are robust inside (no loss function): removing a block then deletes nothing.
    if (problem->GetLossFunctionForResidualBlock(id) != nullptr) {
      throw std::logic_error("HeldJoints: a residual block over the body pose has a loss");
    }
    Readd r{problem->GetCostFunctionForResidualBlock(id), {}};
    problem->GetParameterBlocksForResidualBlock(id, &r.parameters);
    readd.push_back(std::move(r));
    problem->RemoveResidualBlock(id);
  }
  problem->RemoveParameterBlock(body_pose);
  for (const Readd& r : readd) {
    const auto at = std::find(r.parameters.begin(), r.parameters.end(), body_pose);
    const int pose_block = static_cast<int>(at - r.parameters.begin());
    wrappers_.push_back(std::make_unique<SplitPoseCost>(r.cost, pose_block, runs_));
    std::vector<double*> parameters(r.parameters.begin(), at);
    for (const Run& run : runs_) parameters.push_back(body_pose + run.begin);
    parameters.insert(parameters.end(), at + 1, r.parameters.end());
    problem->AddResidualBlock(wrappers_.back().get(), nullptr, parameters);
  }
  for (const Run& run : runs_) {
    if (run.held) problem->SetParameterBlockConstant(body_pose + run.begin);
  }
}

SplitPoseCost::SplitPoseCost(const ceres::CostFunction* inner, int pose_block,
                             std::vector<HeldJoints::Run> runs)
    : inner_(inner), pose_block_(pose_block), runs_(std::move(runs)), pose_(kPoseValues) {
  const std::vector<int32_t>& sizes = inner->parameter_block_sizes();
  for (int i = 0; i < static_cast<int>(sizes.size()); ++i) {
    if (i != pose_block_) {
      mutable_parameter_block_sizes()->push_back(sizes[static_cast<size_t>(i)]);
      continue;
    }
    for (const HeldJoints::Run& run : runs_) {
      mutable_parameter_block_sizes()->push_back(run.end - run.begin);
    }
  }
  set_num_residuals(inner->num_residuals());
  parameters_.resize(sizes.size());
  jacobians_.resize(sizes.size());
  jacobian_.resize(static_cast<size_t>(inner->num_residuals()) * kPoseValues);
}

bool SplitPoseCost::Evaluate(double const* const* parameters, double* residuals,
                             double** jacobians) const {
  const int num_runs = static_cast<int>(runs_.size());
  const int num_inner = static_cast<int>(parameters_.size());
  // Outer block of inner block i (i > pose_block_: shifted by the runs in its place).
  const auto outer = [&](int i) { return i < pose_block_ ? i : i + num_runs - 1; };
  for (int r = 0; r < num_runs; ++r) {
    const HeldJoints::Run& run = runs_[static_cast<size_t>(r)];
    std::memcpy(pose_.data() + run.begin, parameters[pose_block_ + r],
                sizeof(double) * static_cast<size_t>(run.end - run.begin));
  }
  bool pose_jacobian = false;
  for (int i = 0; i < num_inner; ++i) {
    parameters_[static_cast<size_t>(i)] = i == pose_block_ ? pose_.data() : parameters[outer(i)];
    if (jacobians == nullptr) continue;
    if (i != pose_block_) {
      jacobians_[static_cast<size_t>(i)] = jacobians[outer(i)];
      continue;
    }
    for (int r = 0; r < num_runs; ++r) pose_jacobian |= jacobians[pose_block_ + r] != nullptr;
    jacobians_[static_cast<size_t>(i)] = pose_jacobian ? jacobian_.data() : nullptr;
  }
  if (!inner_->Evaluate(parameters_.data(), residuals,
                        jacobians == nullptr ? nullptr : jacobians_.data())) {
    return false;
  }
  if (!pose_jacobian) return true;
  const int rows = num_residuals();
  for (int r = 0; r < num_runs; ++r) {
    double* out = jacobians[pose_block_ + r];
    if (out == nullptr) continue;
    const HeldJoints::Run& run = runs_[static_cast<size_t>(r)];
    const int width = run.end - run.begin;
    for (int row = 0; row < rows; ++row) {
      std::memcpy(out + static_cast<size_t>(row) * width,
                  jacobian_.data() + static_cast<size_t>(row) * kPoseValues + run.begin,
                  sizeof(double) * static_cast<size_t>(width));
    }
  }
  return true;
}

}  // namespace smplify
