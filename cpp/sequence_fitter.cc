#include "sequence_fitter.h"

#include <chrono>
#include <cmath>
#include <memory>
#include <stdexcept>
#include <utility>

#include <ceres/ceres.h>

namespace smplify {
namespace {

void Require(bool condition, const std::string& message) {
  if (!condition) throw std::invalid_argument(message);
}

// Every frame's BodyEvaluation at each new point, after copying the shared β into the
// frames' parameters (the per-frame evaluations read β from there).
class SequenceEvaluation : public ceres::EvaluationCallback {
 public:
  SequenceEvaluation(std::vector<BodyParameters>* frames, const Eigen::VectorXd* betas)
      : frames_(frames), betas_(betas) {}

  void Add(std::unique_ptr<BodyEvaluation> evaluation) {
    evaluations_.push_back(std::move(evaluation));
  }
  BodyEvaluation* frame(int t) { return evaluations_[t].get(); }

  void PrepareForEvaluation(bool evaluate_jacobians, bool new_evaluation_point) override {
    if (new_evaluation_point) SyncBetas();
    for (auto& evaluation : evaluations_) {
      evaluation->PrepareForEvaluation(evaluate_jacobians, new_evaluation_point);
    }
  }
  void Update() {
    SyncBetas();
    for (auto& evaluation : evaluations_) evaluation->Update(false);
  }

 private:
  void SyncBetas() {
    for (BodyParameters& p : *frames_) p.betas = *betas_;
  }
  std::vector<BodyParameters>* frames_;
  const Eigen::VectorXd* betas_;
  std::vector<std::unique_ptr<BodyEvaluation>> evaluations_;
};

struct Residual {
  int frame;                // −1: the shared shape prior; else the frame it is reported for
  std::string term;
  std::unique_ptr<ceres::CostFunction> cost;
  std::vector<double*> blocks;
};

double SquaredNorm(const Residual& r) {
  Eigen::VectorXd rows(r.cost->num_residuals());
  if (!r.cost->Evaluate(r.blocks.data(), rows.data(), nullptr)) {
    return std::numeric_limits<double>::infinity();
  }
  return rows.squaredNorm();
}

// The linear solver this Ceres build offers. T · 75 + B columns, each frame coupled to its
// neighbours and to β only: a sparse Cholesky factorisation, SuiteSparse's (Debian's Ceres)
// or else Eigen's, with the per-frame stages' dogleg. A Ceres without a sparse back end (the
// wheel's) gets conjugate gradients on the normal equations, which the dogleg cannot use:
// Levenberg-Marquardt then. (Measured on 90 frames with SuiteSparse present: SPARSE_SCHUR,
// EIGEN_SPARSE, dynamic_sparsity, and CGNR or ITERATIVE_SCHUR with Levenberg-Marquardt were
// all slower; the time goes to forming and factoring the normal equations, whose temporal
// blocks Ceres stores dense: 81 × 225.)
std::string ChooseLinearSolver(bool iterative, ceres::Solver::Options* solver) {
  for (const auto library : {ceres::SUITE_SPARSE, ceres::EIGEN_SPARSE}) {
    if (!iterative && ceres::IsSparseLinearAlgebraLibraryTypeAvailable(library)) {
      solver->trust_region_strategy_type = ceres::DOGLEG;
      solver->dogleg_type = ceres::TRADITIONAL_DOGLEG;  // as the per-frame stages
      solver->linear_solver_type = ceres::SPARSE_NORMAL_CHOLESKY;
      solver->sparse_linear_algebra_library_type = library;
      return std::string("Ceres TRADITIONAL_DOGLEG, SPARSE_NORMAL_CHOLESKY (") +
             ceres::SparseLinearAlgebraLibraryTypeToString(library) + ")";
    }
  }
  solver->trust_region_strategy_type = ceres::LEVENBERG_MARQUARDT;
  solver->linear_solver_type = ceres::CGNR;
  solver->preconditioner_type = ceres::JACOBI;
  return "Ceres LEVENBERG_MARQUARDT, CGNR (JACOBI)";
}

}  // namespace

SequenceReport FitSequence(const Fitter& fitter, const std::vector<Observation>& observations,
                           const std::vector<BodyParameters>& initial,
                           const SequenceOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  const FitContext& context = fitter.context();
  const int num_frames = static_cast<int>(observations.size());
  const int num_betas = context.model.num_betas();
  Require(num_frames >= 1, "keypoints: need at least one frame");
  Require(static_cast<int>(initial.size()) == num_frames, "initial: one start per frame");
  for (const Observation& o : observations) fitter.CheckObservation(o);
  for (const BodyParameters& p : initial) {
    Require(p.betas.size() == num_betas, "initial: wrong number of betas");
    Require(p.global_orient.allFinite() && p.body_pose.allFinite() && p.betas.allFinite() &&
                p.transl.allFinite(),
            "initial: pose, betas and transl must be finite");
  }
  Require(options.max_iterations >= 1 && options.function_tolerance > 0.0,
          "options: iterations >= 1 and tolerance > 0");
  Require(options.temporal.orient >= 0 && options.temporal.pose >= 0 &&
              options.temporal.transl >= 0 && std::isfinite(options.temporal.orient) &&
              std::isfinite(options.temporal.pose) && std::isfinite(options.temporal.transl),
          "options: temporal weights must be finite and >= 0");

  const StageWeights weights =
      fitter.Weights(static_cast<int>(context.options.pose_prior_weights.size()) - 1);
  std::vector<BodyParameters> frames = initial;
  Eigen::VectorXd betas = initial.front().betas;
  SequenceEvaluation evaluation(&frames, &betas);
  const bool spheres = !context.spheres.pairs.empty() && weights.interpenetration > 0.0;
  std::vector<Residual> residuals;
  int observed = 0;
  for (int t = 0; t < num_frames; ++t) {
    BodyParameters& p = frames[t];
    p.betas = betas;
    evaluation.Add(std::make_unique<BodyEvaluation>(
        context.model, context.targets, p, spheres ? &context.capsules : nullptr,
        &context.spheres, context.options.sphere_sigma_scale));
    std::vector<int> ids;
    Eigen::VectorXd data_weights;
    DataKeypoints(observations[t], &ids, &data_weights);
    if (!ids.empty()) {
      ++observed;
      residuals.push_back({t, "data",
                           std::make_unique<KeypointDataCost>(
                               evaluation.frame(t), observations[t], std::move(ids),
                               std::move(data_weights), /*robust=*/true,
                               context.options.data_sigma, num_betas),
                           {p.global_orient.data(), p.body_pose.data(), betas.data(),
                            p.transl.data()}});
    }
    residuals.push_back({t, "pose", std::make_unique<PosePriorCost>(context.prior, weights.pose),
                         {p.body_pose.data()}});
    residuals.push_back(
        {t, "angle",
         std::make_unique<AnglePriorCost>(weights.angle, context.options.angle_prior_scale),
         {p.body_pose.data()}});
    if (spheres) {
      residuals.push_back({t, "interpenetration",
                           std::make_unique<InterpenetrationCost>(evaluation.frame(t),
                                                                  weights.interpenetration),
                           {p.global_orient.data(), p.body_pose.data()}});
    }
  }
  Require(observed > 0, "keypoints: every frame has all confidences zero; nothing to fit");
  residuals.push_back(
      {-1, "shape", std::make_unique<ShapePriorCost>(num_betas, weights.shape * std::sqrt(observed)),
       {betas.data()}});
  for (int t = 1; t + 1 < num_frames; ++t) {
    BodyParameters &a = frames[t - 1], &b = frames[t], &c = frames[t + 1];
    residuals.push_back({t, "temporal", std::make_unique<TemporalCost>(options.temporal),
                         {a.global_orient.data(), b.global_orient.data(), c.global_orient.data(),
                          a.body_pose.data(), b.body_pose.data(), c.body_pose.data(),
                          a.transl.data(), b.transl.data(), c.transl.data()}});
  }

  ceres::Problem::Options problem_options;
  problem_options.cost_function_ownership = ceres::DO_NOT_TAKE_OWNERSHIP;
  problem_options.evaluation_callback = &evaluation;
  ceres::Problem problem(problem_options);
  for (const Residual& r : residuals) {
    if (r.cost->num_residuals() > 0) problem.AddResidualBlock(r.cost.get(), nullptr, r.blocks);
  }
  if (!context.options.refine_translation) {
    for (BodyParameters& p : frames) problem.SetParameterBlockConstant(p.transl.data());
  }

  ceres::Solver::Options solver;
  solver.minimizer_type = ceres::TRUST_REGION;
  const std::string solver_name = ChooseLinearSolver(options.iterative, &solver);
  solver.max_num_iterations = options.max_iterations;
  solver.function_tolerance = options.function_tolerance;
  solver.num_threads = 1;  // the evaluation callback runs the frames serially anyway
  solver.logging_type = ceres::SILENT;
  solver.minimizer_progress_to_stdout = false;

  SequenceReport report;
  double initial_cost = 0.0;
  if (!problem.Evaluate(ceres::Problem::EvaluateOptions(), &initial_cost, nullptr, nullptr,
                        nullptr) ||
      !std::isfinite(initial_cost)) {
    report.termination = "FAILURE";
    report.initial_cost = report.final_cost = std::numeric_limits<double>::infinity();
  } else {
    ceres::Solver::Summary summary;
    ceres::Solve(solver, &problem, &summary);
    report.iterations = summary.num_successful_steps + summary.num_unsuccessful_steps;
    report.termination = ceres::TerminationTypeToString(summary.termination_type);
    report.initial_cost = summary.initial_cost;
    report.final_cost = summary.final_cost;
    report.linear_solver_seconds = summary.linear_solver_time_in_seconds;
    report.evaluation_seconds =
        summary.residual_evaluation_time_in_seconds + summary.jacobian_evaluation_time_in_seconds;
  }

  // Energies, joints and keypoints at the result.
  evaluation.Update();
  report.betas = betas;
  report.num_observed = observed;
  report.energies.assign(num_frames, TermEnergies());
  report.temporal_energies = Eigen::VectorXd::Zero(num_frames);
  for (const Residual& r : residuals) {
    const double e = r.cost->num_residuals() > 0 ? SquaredNorm(r) : 0.0;
    if (r.frame < 0) {
      report.shape_energy = e;
      continue;
    }
    TermEnergies& energies = report.energies[r.frame];
    if (r.term == "data") energies.data = e;
    if (r.term == "pose") energies.pose = e;
    if (r.term == "angle") energies.angle = e;
    if (r.term == "interpenetration") energies.interpenetration = e;
    if (r.term == "temporal") report.temporal_energies(r.frame) = e;
  }
  const int num_keypoints = context.targets.size();
  report.joints.resize(num_frames * kNumJoints, 3);
  report.keypoints.resize(num_frames * num_keypoints, 3);
  for (int t = 0; t < num_frames; ++t) {
    const BodyParameters& p = frames[t];
    const Skeleton skeleton = context.model.Pose(p.Pose(), p.betas, p.transl, false);
    for (int j = 0; j < kNumJoints; ++j) {
      report.joints.row(t * kNumJoints + j) = skeleton.joints[j].transpose();
    }
    for (int k = 0; k < num_keypoints; ++k) {
      report.keypoints.row(t * num_keypoints + k) = evaluation.frame(t)->keypoint(k).transpose();
    }
  }
  report.frames = std::move(frames);
  report.solver = solver_name;
  report.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace smplify
