#include "stage_terms.h"

#include <algorithm>
#include <array>
#include <limits>
#include <stdexcept>
#include <utility>

namespace smplify {
namespace {

enum Block { kOrient = 0, kBody = 1, kBetas = 2, kTransl = 3 };

// ‖r‖² of a cost over [global_orient, body_pose, betas, transl] at `parameters` (its body
// evaluation already computed there); +inf if it cannot be evaluated (a keypoint at or behind
// the camera).
double SquaredNorm(const ceres::CostFunction& cost, const BodyParameters& parameters) {
  const double* blocks[] = {parameters.global_orient.data(), parameters.body_pose.data(),
                            parameters.betas.data(), parameters.transl.data()};
  Eigen::VectorXd rows(cost.num_residuals());
  if (!cost.Evaluate(blocks, rows.data(), nullptr)) return std::numeric_limits<double>::infinity();
  return rows.squaredNorm();
}

}  // namespace

std::unique_ptr<RelativeKeypointCost> RelativeKeypointsCost(const FitContext& context,
                                                            const Observation& observation,
                                                            const std::vector<int>& data_ids,
                                                            const Eigen::VectorXd& data_weights,
                                                            BodyEvaluation* evaluation) {
  if (observation.keypoints_3d_weight <= 0.0) return nullptr;
  std::vector<int> ids;
  MatX3 targets;
  Eigen::VectorXd weights;
  RelativeKeypoints(observation, data_ids, data_weights, &ids, &targets, &weights);
  if (ids.empty()) return nullptr;
  return std::make_unique<RelativeKeypointCost>(
      evaluation, std::move(ids), std::move(targets), std::move(weights),
      context.options.keypoints_3d_sigma, observation.keypoints_3d_weight,
      context.model.num_betas());
}

void DataKeypoints(const Observation& observation, std::vector<int>* ids,
                   Eigen::VectorXd* weights) {
  ids->clear();
  std::vector<double> w;
  for (int k = 0; k < observation.weights.size(); ++k) {
    if (observation.weights(k) > 0.0) {
      ids->push_back(k);
      w.push_back(observation.weights(k));
    }
  }
  *weights = Eigen::Map<const Eigen::VectorXd>(w.data(), static_cast<Eigen::Index>(w.size()));
}

void RelativeKeypoints(const Observation& observation, const std::vector<int>& data_ids,
                       const Eigen::VectorXd& data_weights, std::vector<int>* ids,
                       MatX3* targets, Eigen::VectorXd* weights) {
  ids->clear();
  std::vector<double> w;
  if (observation.keypoints_3d.rows() == observation.weights.size()) {
    for (size_t m = 0; m < data_ids.size(); ++m) {
      if (!observation.keypoints_3d.row(data_ids[m]).allFinite()) continue;
      ids->push_back(data_ids[m]);
      w.push_back(data_weights(static_cast<Eigen::Index>(m)));
    }
  }
  if (ids->size() < 2) ids->clear(), w.clear();
  targets->resize(static_cast<Eigen::Index>(ids->size()), 3);
  for (size_t m = 0; m < ids->size(); ++m) {
    targets->row(static_cast<Eigen::Index>(m)) = observation.keypoints_3d.row((*ids)[m]);
  }
  *weights = Eigen::Map<const Eigen::VectorXd>(w.data(), static_cast<Eigen::Index>(w.size()));
}

double DataEnergy(const FitContext& context, const Observation& observation,
                  const BodyParameters& parameters, double sigma) {
  BodyEvaluation evaluation(context.model, context.targets, parameters);
  evaluation.Update(false);
  return DataEnergy(context, observation, parameters, sigma, &evaluation);
}

double DataEnergy(const FitContext& context, const Observation& observation,
                  const BodyParameters& parameters, double sigma, BodyEvaluation* evaluation) {
  std::vector<int> ids;
  Eigen::VectorXd weights;
  DataKeypoints(observation, &ids, &weights);
  // KeypointDataCost reads the keypoints from the evaluation, computed once by the caller.
  const KeypointDataCost data(evaluation, observation, std::move(ids), std::move(weights),
                           /*robust=*/true, sigma, context.model.num_betas());
  return SquaredNorm(data, parameters);
}

double Keypoints3dEnergy(const FitContext& context, const Observation& observation,
                         const BodyParameters& parameters, BodyEvaluation* evaluation) {
  if (observation.keypoints_3d_weight <= 0.0) return 0.0;
  std::vector<int> data_ids;
  Eigen::VectorXd data_weights;
  DataKeypoints(observation, &data_ids, &data_weights);
  const std::unique_ptr<RelativeKeypointCost> term =
      RelativeKeypointsCost(context, observation, data_ids, data_weights, evaluation);
  return term == nullptr ? 0.0 : SquaredNorm(*term, parameters);
}

StageTerms::StageTerms(const FitContext& context, const Observation& observation,
                       BodyParameters* parameters, const StageWeights& weights)
    : parameters_(parameters),
      evaluation_(context.model, context.targets, *parameters,
                  context.spheres.pairs.empty() || weights.interpenetration <= 0.0
                      ? nullptr
                      : &context.capsules,
                  &context.spheres, context.options.sphere_sigma_scale) {
  const int num_betas = context.model.num_betas();
  std::vector<int> ids;
  Eigen::VectorXd data_weights;
  DataKeypoints(observation, &ids, &data_weights);
  std::unique_ptr<RelativeKeypointCost> keypoints_3d =
      RelativeKeypointsCost(context, observation, ids, data_weights, &evaluation_);
  Add("data",
      std::make_unique<KeypointDataCost>(&evaluation_, observation, std::move(ids),
                                         std::move(data_weights), /*robust=*/true,
                                         context.options.data_sigma, num_betas),
      {kOrient, kBody, kBetas, kTransl});
  Add("pose",
      std::make_unique<PosePriorCost>(context.prior, weights.pose, context.prior_bounds),
      {kBody});
  pose_prior_ = terms_.back().cost.get();
  Add("angle",
      std::make_unique<AnglePriorCost>(weights.angle, context.options.angle_prior_scale),
      {kBody});
  Add("shape", std::make_unique<ShapePriorCost>(num_betas, weights.shape), {kBetas});
  if (keypoints_3d != nullptr) {
    Add("keypoints_3d", std::move(keypoints_3d), {kOrient, kBody, kBetas, kTransl});
  }
  const FitOptions& options = context.options;
  if (options.knee_depth_weight > 0.0 && options.leg_keypoints.size() == 6) {
    std::array<int, 6> legs;
    std::copy(options.leg_keypoints.begin(), options.leg_keypoints.end(), legs.begin());
    Add("knee_depth",
        std::make_unique<KneeDepthCost>(&evaluation_, legs, options.knee_depth_sigma,
                                        options.knee_depth_weight, num_betas),
        {kOrient, kBody, kBetas, kTransl});
  }
  if (evaluation_.sphere_layout() != nullptr) {
    Add("interpenetration",
        std::make_unique<InterpenetrationCost>(&evaluation_, weights.interpenetration),
        {kOrient, kBody});
  }
}

void StageTerms::Add(std::string name, std::unique_ptr<ceres::CostFunction> cost,
                     std::vector<int> which_blocks) {
  Term term{std::move(name), std::move(cost), {}, {}};
  const int num_betas = static_cast<int>(parameters_->betas.size());
  for (int block : which_blocks) {
    switch (block) {
      case kOrient:
        term.blocks.push_back(parameters_->global_orient.data());
        term.columns.push_back(0);
        break;
      case kBody:
        term.blocks.push_back(parameters_->body_pose.data());
        term.columns.push_back(3);
        break;
      case kBetas:
        term.blocks.push_back(parameters_->betas.data());
        term.columns.push_back(kPoseSize);
        break;
      default:
        term.blocks.push_back(parameters_->transl.data());
        term.columns.push_back(kPoseSize + num_betas);
    }
  }
  terms_.push_back(std::move(term));
}

void StageTerms::AddTo(ceres::Problem* problem, bool with_pose_prior) {
  for (Term& term : terms_) {
    if (term.cost->num_residuals() == 0 || (!with_pose_prior && term.cost.get() == pose_prior_)) continue;
    problem->AddResidualBlock(term.cost.get(), nullptr, term.blocks);
  }
}

TermEvaluation StageTerms::Evaluate(const std::string& name) {
  for (Term& term : terms_) {
    if (term.name != name) continue;
    evaluation_.Update(true);
    const int rows = term.cost->num_residuals();
    const int cols = kPoseSize + static_cast<int>(parameters_->betas.size()) + 3;
    TermEvaluation out{Eigen::VectorXd::Zero(rows), Eigen::MatrixXd::Zero(rows, cols)};
    using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    std::vector<RowMajor> blocks;
    std::vector<double*> jacobians;
    const auto& sizes = term.cost->parameter_block_sizes();
    for (int size : sizes) blocks.emplace_back(rows, size);
    for (auto& block : blocks) jacobians.push_back(block.data());
    if (!term.cost->Evaluate(term.blocks.data(), out.residuals.data(), jacobians.data())) {
      throw std::runtime_error("term " + name + " could not be evaluated at this point");
    }
    for (size_t b = 0; b < blocks.size(); ++b) {
      out.jacobian.middleCols(term.columns[b], sizes[b]) = blocks[b];
    }
    return out;
  }
  if (name == "interpenetration" || name == "keypoints_3d" || name == "knee_depth") {  // absent: an empty term
    return {Eigen::VectorXd(0),
            Eigen::MatrixXd(0, kPoseSize + static_cast<int>(parameters_->betas.size()) + 3)};
  }
  throw std::invalid_argument("unknown term '" + name +
                              "'; expected data, pose, angle, shape, interpenetration, keypoints_3d "
                              "or knee_depth");
}

double StageTerms::SquaredNorm(Term& term) {
  Eigen::VectorXd residuals(term.cost->num_residuals());
  if (residuals.size() == 0) return 0.0;
  if (!term.cost->Evaluate(term.blocks.data(), residuals.data(), nullptr)) {
    return std::numeric_limits<double>::infinity();
  }
  return residuals.squaredNorm();
}

TermEnergies StageTerms::Energies() {
  evaluation_.Update(false);
  TermEnergies energies;
  for (Term& term : terms_) {
    if (double* energy = TermEnergy(&energies, term.name)) *energy = SquaredNorm(term);
  }
  return energies;
}

}  // namespace smplify
