#include "fitter.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>
#include <functional>
#include <limits>
#include <memory>
#include <stdexcept>
#include <utility>
#include <vector>

#include <ceres/ceres.h>

#include "convergence_stop.h"
#include "depth_prior_term.h"
#include "held_joints.h"
#include "hypothesis_starts.h"
#include "leg_flip.h"
#include "reading_score.h"
#include "run_tasks.h"
#include "start_scorer.h"
#include "track_term.h"

namespace smplify {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

void Require(bool condition, const std::string& message) {
  if (!condition) throw std::invalid_argument(message);
}

// The 24 joints (rows) of the body `p` poses.
MatX3 PosedJoints(const BodyModel& model, const BodyParameters& p) {
  const Skeleton skeleton = model.Pose(p.Pose(), p.betas, p.transl, false);
  MatX3 joints(kNumJoints, 3);
  for (int j = 0; j < kNumJoints; ++j) joints.row(j) = skeleton.joints[j].transpose();
  return joints;
}

// One place for the solver settings.
ceres::Solver::Options SolverOptions(const FitOptions& options) {
  ceres::Solver::Options solver;
  solver.minimizer_type = ceres::TRUST_REGION;
  solver.trust_region_strategy_type = ceres::DOGLEG;
  solver.dogleg_type = ceres::TRADITIONAL_DOGLEG;  // SMPLify's (Powell's) dogleg
  // 85 dense columns (72 + B + 3) and ~110-180 rows: forming JᵀJ and factoring it costs a
  // third of the instructions of a QR (callgrind).
  solver.linear_solver_type = ceres::DENSE_NORMAL_CHOLESKY;
  solver.max_num_iterations = options.max_iterations;
  solver.function_tolerance = options.function_tolerance;
  solver.num_threads = 1;  // threads go to the independent starts (Fitter::Fit), not to
                           // Ceres: evaluating ~180 rows is too small to split
  solver.logging_type = ceres::SILENT;  // a library prints nothing
  solver.minimizer_progress_to_stdout = false;
  return solver;
}

// The stopping rule of a tracked warm fit's solves (track_stop_tolerance) or of any other
// (stop_tolerance).
StopSettings StopOptions(const FitOptions& options, bool tracked) {
  StopSettings stop;
  stop.tolerance = tracked ? options.track_stop_tolerance : options.stop_tolerance;
  stop.rule = static_cast<StopRule>(options.stop_rule);
  return stop;
}

// `stop` (FitOptions stop_tolerance / track_stop_tolerance; off: Ceres' own stopping only)
// may end the solve after an accepted step (convergence_stop.h): the stage then reads as
// converged, its message naming the rule.
StageReport Solve(const ceres::Solver::Options& solver, ceres::Problem* problem,
                  std::string name, const StageWeights& weights, const StopSettings& stop) {
  const auto start = Clock::now();
  StageReport report;
  report.name = std::move(name);
  report.weights = weights;
  // A start point that cannot be evaluated (a keypoint at or behind the camera) would make
  // Ceres give up and log to stderr; report it as this stage's outcome instead.
  // Block by block rather than by Problem::Evaluate, which builds a whole evaluator (its
  // program, scratch and Jacobian writer) for this one cost; the body is posed once (the
  // first block), the other blocks read it.
  double initial_cost = 0.0;
  bool evaluated = true;
  std::vector<ceres::ResidualBlockId> blocks;
  problem->GetResidualBlocks(&blocks);
  std::vector<double> residuals(static_cast<size_t>(problem->NumResiduals()));
  for (size_t b = 0; b < blocks.size() && evaluated; ++b) {
    double cost = 0.0;
    evaluated = b == 0 ? problem->EvaluateResidualBlock(blocks[b], true, &cost, residuals.data(),
                                                        nullptr)
                       : problem->EvaluateResidualBlockAssumingParametersUnchanged(
                             blocks[b], true, &cost, residuals.data(), nullptr);
    initial_cost += cost;
  }
  if (!evaluated || !std::isfinite(initial_cost)) {
    report.termination = "FAILURE";
    report.message = "the energy is not finite at the stage's start point";
    report.initial_cost = report.final_cost = std::numeric_limits<double>::infinity();
    report.seconds = SecondsSince(start);
    return report;
  }
  ceres::Solver::Summary summary;
  if (stop.on()) {
    ConvergenceStop callback(stop);
    ceres::Solver::Options stopping = solver;
    stopping.callbacks.push_back(&callback);
    ceres::Solve(stopping, problem, &summary);
    if (callback.stopped()) {
      summary.termination_type = ceres::CONVERGENCE;
      summary.message = callback.message();
    }
  } else {
    ceres::Solve(solver, problem, &summary);
  }
  report.iterations = summary.num_successful_steps + summary.num_unsuccessful_steps;
  report.termination = ceres::TerminationTypeToString(summary.termination_type);
  report.message = summary.message;
  report.initial_cost = summary.initial_cost;
  report.final_cost = summary.final_cost;
  report.seconds = SecondsSince(start);
  return report;
}

ceres::Problem::Options ProblemOptions(ceres::EvaluationCallback* callback) {
  ceres::Problem::Options options;
  options.cost_function_ownership = ceres::DO_NOT_TAKE_OWNERSHIP;
  options.evaluation_callback = callback;
  return options;
}

// Mean 2D shoulder–hip length over the sides with both keypoints confident (0 if none).
double TorsoLength2D(const Observation& o) {
  double sum = 0.0;
  int count = 0;
  for (int side = 0; side < 2; ++side) {
    const int shoulder = o.torso[side], hip = o.torso[2 + side];
    if (shoulder < 0 || hip < 0 || o.confidence(shoulder) <= 0 || o.confidence(hip) <= 0) continue;
    sum += (o.keypoints.row(shoulder) - o.keypoints.row(hip)).norm();
    ++count;
  }
  return count ? sum / count : 0.0;
}

}  // namespace

Vec3 FlippedOrientation(const Vec3& global_orient) {
  return AxisAngle(Rodrigues(global_orient) * Rodrigues(Vec3(0.0, M_PI, 0.0)));
}

Fitter::Fitter(FitContext context) : context_(std::move(context)) {
  FitContext& c = context_;
  const int num_betas = c.model.num_betas();
  // β is a Ceres parameter block, and Ceres aborts the process on an empty one.
  Require(num_betas >= 1, "model: need at least one beta");
  Require(c.targets.vertices.size() == c.targets.joint.size(), "targets: inconsistent sizes");
  for (int k = 0; k < c.targets.size(); ++k) {
    Require(c.targets.joint[k] < kNumJoints, "targets: joint index out of range");
    for (const auto& [vertex, weight] : c.targets.vertices[k]) {
      Require(vertex >= 0 && vertex < c.model.num_vertices(), "targets: vertex id out of range");
    }
  }
  Require(c.prior.means.rows() > 0 && c.prior.means.cols() == kBodyPoseSize, "prior: means must be M x 69");
  Require(static_cast<int>(c.prior.precision_cholesky.size()) == c.prior.means.rows() &&
              c.prior.neg_log_c.size() == c.prior.means.rows(),
          "prior: one precision factor and constant per component");
  for (const auto& L : c.prior.precision_cholesky) {
    Require(L.rows() == kBodyPoseSize && L.cols() == kBodyPoseSize, "prior: precision factors must be 69 x 69");
    Require(L.allFinite(), "prior: precision factors must be finite");
  }
  Require(c.prior.means.allFinite(), "prior: means must be finite");
  c.prior_eigen = DecomposePrior(c.prior);
  c.prior_bounds = FactorNorms(c.prior_eigen);
  // −log c_k ≥ 0 by construction (docs/design.md); the residual row is its square root.
  Require((c.prior.neg_log_c.array() >= 0.0).all() && c.prior.neg_log_c.allFinite(),
          "prior: neg_log_c must be finite and >= 0");
  const auto num_capsules = static_cast<Eigen::Index>(c.capsules.joint.size());
  if (num_capsules > 0) {
    Require(c.capsules.axis.rows() == num_capsules && c.capsules.offset.rows() == num_capsules &&
                c.capsules.start.size() == num_capsules &&
                c.capsules.radius_mean.size() == num_capsules &&
                c.capsules.length_mean.size() == num_capsules &&
                c.capsules.radius_betas.rows() == num_capsules &&
                c.capsules.length_betas.rows() == num_capsules,
            "capsules: arrays must have one row per capsule");
    Require(c.capsules.radius_betas.cols() == num_betas &&
                c.capsules.length_betas.cols() == num_betas,
            "capsules: regressors must have one column per beta");
    for (int joint : c.capsules.joint) {
      Require(joint >= 0 && joint < kNumJoints, "capsules: joint out of range");
    }
    Require(c.capsules.axis.allFinite() && c.capsules.offset.allFinite() &&
                c.capsules.start.allFinite() && c.capsules.radius_betas.allFinite() &&
                c.capsules.length_betas.allFinite(),
            "capsules: arrays must be finite");
    // radius_mean > 0 and length_mean >= 0 (finite): checked by MakeSphereLayout at β = 0.
    c.spheres = MakeSphereLayout(c.capsules, Eigen::VectorXd::Zero(num_betas));
  }
  FoldTargets(c.model, &c.targets);
  const FitOptions& o = c.options;
  Require(!o.pose_prior_weights.empty() &&
              o.pose_prior_weights.size() == o.shape_prior_weights.size(),
          "options: one pose and one shape weight per stage");
  Require(o.max_iterations >= 1 && o.threads >= 1 && o.warm_stages >= 1,
          "options: iterations, threads and warm_stages >= 1");
  Require(!c.starts.empty(), "need at least one start pose");
  for (const auto& start : c.starts) {
    Require(start.size() == kBodyPoseSize && start.allFinite(), "start poses must be 69 finite values");
  }
  Require(o.hypothesis_first_stage >= 0 && std::isfinite(o.hypothesis_score_weight) &&
              o.hypothesis_score_weight >= 0,
          "options: hypothesis_first_stage and hypothesis_score_weight must be >= 0");
  // One check per option, so that the message names the one at fault.
  Require(o.prune_starts >= 0, "options: prune_starts must be >= 0");
  Require(o.track_max_iterations >= 0, "options: track_max_iterations must be >= 0");
  Require(o.prune_stage >= 1, "options: prune_stage must be >= 1");
  Require(std::isfinite(o.prune_distance) && o.prune_distance >= 0,
          "options: prune_distance must be finite and >= 0");
  Require(std::isfinite(o.reading_weight) && o.reading_weight >= 0,
          "options: reading_weight must be finite and >= 0");
  Require(std::isfinite(o.knee_depth_weight) && o.knee_depth_weight >= 0,
          "options: knee_depth_weight must be finite and >= 0");
  Require(o.leg_keypoints.empty() || o.leg_keypoints.size() == 6,
          "options: leg_keypoints must be empty or 6 keypoint ids");
  for (int k : o.leg_keypoints) {
    Require(k >= -1 && k < c.targets.size(),
            "options: leg_keypoints must be in [-1, " + std::to_string(c.targets.size()) +
                "), got " + std::to_string(k));
  }
  std::vector<bool> held(kNumJoints, false);
  for (int j : o.track_held_joints) {
    Require(j >= 1 && j < kNumJoints && !held[j],
            "options: track_held_joints must be distinct SMPL joints in [1, " +
                std::to_string(kNumJoints - 1) + "], got " + std::to_string(j));
    held[j] = true;
  }
  Require(std::isfinite(o.stop_tolerance) && o.stop_tolerance >= 0 &&
              std::isfinite(o.track_stop_tolerance) && o.track_stop_tolerance >= 0,
          "options: stop_tolerance and track_stop_tolerance must be finite and >= 0");
  Require(o.stop_rule >= 0 && o.stop_rule <= 2, "options: stop_rule must be 0, 1 or 2");
  Require(o.start_scorer.empty() || IsStartScorerOption(o.start_scorer),
          "options: start_scorer must be empty or [F, W (F x H), b (H), v (H)]: F = " +
              std::to_string(kNumStartFeatures) + " (the features this build computes) first, "
              "then H * " + std::to_string(kNumStartFeatures + 2) +
              " finite weights (H hidden units)");
  Require(o.data_sigma > 0 && o.function_tolerance > 0 && o.track_function_tolerance > 0 &&
              o.sphere_sigma_scale > 0 &&
              o.selection_sigma > 0 && o.keypoints_3d_sigma > 0 && o.reading_sigma > 0 &&
              o.knee_depth_sigma > 0,
          "options: sigmas, tolerance and sphere scale must be > 0");
}

void Fitter::CheckObservation(const Observation& o) const {
  const int num_keypoints = context_.targets.size();
  Require(o.keypoints.rows() == num_keypoints && o.weights.size() == num_keypoints &&
              o.confidence.size() == num_keypoints,
          "observation: one keypoint, weight and confidence per target (" +
              std::to_string(num_keypoints) + ")");
  for (int k : o.torso) {
    Require(k >= -1 && k < num_keypoints,
            "observation: torso keypoint indices must be in [-1, " +
                std::to_string(num_keypoints) + "), got " + std::to_string(k));
  }
  Require(std::isfinite(o.camera.focal_length) && o.camera.focal_length > 0.0,
          "observation: focal length must be finite and > 0");
  Require(o.camera.center.allFinite(), "observation: principal point must be finite");
  Require(o.keypoints_3d.rows() == 0 || o.keypoints_3d.rows() == num_keypoints,
          "observation: keypoints_3d must be empty or have one row per target (" +
              std::to_string(num_keypoints) + ")");
  Require(std::isfinite(o.keypoints_3d_weight) && o.keypoints_3d_weight >= 0.0,
          "observation: keypoints_3d_weight must be finite and >= 0");
  Require(std::isfinite(o.reading_weight_scale) && o.reading_weight_scale >= 0.0,
          "observation: reading_weight_scale must be finite and >= 0");
  Require(o.readings.log_weights.size() == static_cast<Eigen::Index>(o.readings.keypoints.size()) &&
              o.readings.log_weights.allFinite(),
          "observation: readings need one finite log weight each");
  for (const MatX3& reading : o.readings.keypoints) {
    Require(reading.rows() == num_keypoints,
            "observation: each reading must have one row per target (" +
                std::to_string(num_keypoints) + ")");
  }
  for (const StartHypothesis& h : o.hypotheses) {
    Require(h.global_orient.allFinite() && h.body_pose.allFinite() && h.betas.allFinite() &&
                std::isfinite(h.log_score),
            "observation: hypotheses must have finite orientation, pose, betas and log score");
    Require(h.keypoints_3d.rows() == 0 || h.keypoints_3d.rows() == num_keypoints,
            "observation: a hypothesis' keypoints_3d must be empty or have one row per target");
  }
}

TermEvaluation Fitter::EvaluateTerm(const std::string& term, int stage, const Observation& o,
                                    BodyParameters parameters) const {
  CheckObservation(o);
  Require(parameters.betas.size() == context_.model.num_betas(),
          "betas must have " + std::to_string(context_.model.num_betas()) + " entries");
  StageTerms terms(context_, o, &parameters, Weights(stage));
  return terms.Evaluate(term);
}

Fitter Fitter::WithEndStage(int end_stage) const {
  Require(end_stage >= 1 &&
              end_stage < static_cast<int>(context_.options.pose_prior_weights.size()),
          "end_stage must be >= 1 and below the number of stages");
  Fitter copy(*this);
  copy.end_stage_ = end_stage;
  return copy;
}

StageWeights Fitter::Weights(int stage) const {
  const FitOptions& o = context_.options;
  Require(stage >= 0 && stage < static_cast<int>(o.pose_prior_weights.size()),
          "stage out of range");
  StageWeights w;
  w.pose = o.pose_prior_weights[stage];
  w.shape = o.shape_prior_weights[stage];
  w.angle = o.angle_prior_ratio * w.pose;
  w.interpenetration = o.interpenetration_weight;
  return w;
}

BodyParameters Fitter::InitializeCamera(const Observation& o, double* initial_depth,
                                        StageReport* torso_report) const {
  const BodyModel& model = context_.model;
  BodyParameters p;
  p.betas = Eigen::VectorXd::Zero(model.num_betas());

  // 1. Depth by similar triangles: t_z = f · (3D shoulder–hip length) / (2D length).
  BodyEvaluation rest(model, context_.targets, p);
  rest.Update(false);
  double length_3d = 0.0;
  int sides = 0;
  for (int side = 0; side < 2; ++side) {
    const int shoulder = o.torso[side], hip = o.torso[2 + side];
    if (shoulder < 0 || hip < 0) continue;
    length_3d += (rest.keypoint(shoulder) - rest.keypoint(hip)).norm();
    ++sides;
  }
  const double length_2d = TorsoLength2D(o);
  Require(sides > 0 && length_2d > 0.0,
          "keypoints: need a confident shoulder and hip on the same side to initialise the camera");
  length_3d /= sides;
  const double depth = o.camera.focal_length * length_3d / length_2d;
  *initial_depth = depth;

  // 2. Upright and facing the camera; x, y put the torso's centre on the 2D torso's centre.
  p.global_orient = Vec3(M_PI, 0.0, 0.0);
  BodyEvaluation facing(model, context_.targets, p);
  facing.Update(false);
  Vec3 centre_3d = Vec3::Zero();
  Eigen::Vector2d centre_2d = Eigen::Vector2d::Zero();
  std::vector<int> torso_ids;
  std::vector<double> torso_weights;
  for (int k : o.torso) {
    if (k < 0 || o.confidence(k) <= 0) continue;
    torso_ids.push_back(k);
    torso_weights.push_back(o.confidence(k));
    centre_3d += facing.keypoint(k);
    centre_2d += o.keypoints.row(k).transpose();
  }
  centre_3d /= static_cast<double>(torso_ids.size());
  centre_2d /= static_cast<double>(torso_ids.size());
  //    The torso centre goes to depth Z_c = t_z from similar triangles (docs/design.md).
  p.transl.head<2>() =
      depth * (centre_2d - o.camera.center) / o.camera.focal_length - centre_3d.head<2>();
  p.transl.z() = depth - centre_3d.z();

  // 3. Torso fit: plain 2D error of the torso keypoints over (γ, global orientation) plus
  //    w (t_z − t_z,init)²; body pose and shape stay at rest.
  BodyEvaluation evaluation(model, context_.targets, p);
  KeypointDataCost data(&evaluation, o, torso_ids,
                     Eigen::Map<const Eigen::VectorXd>(torso_weights.data(),
                                                       static_cast<Eigen::Index>(torso_weights.size())),
                     /*robust=*/false, context_.options.data_sigma, model.num_betas());
  DepthPriorCost depth_prior(p.transl.z(), context_.options.depth_weight);
  ceres::Problem problem(ProblemOptions(&evaluation));
  problem.AddResidualBlock(&data, nullptr, p.global_orient.data(), p.body_pose.data(),
                           p.betas.data(), p.transl.data());
  problem.AddResidualBlock(&depth_prior, nullptr, p.transl.data());
  problem.SetParameterBlockConstant(p.body_pose.data());
  problem.SetParameterBlockConstant(p.betas.data());
  *torso_report = Solve(SolverOptions(context_.options), &problem, "torso", StageWeights(),
                        StopOptions(context_.options, false));
  return p;
}

bool Fitter::IsSideways(const Observation& o) const {
  const int left = o.torso[0], right = o.torso[1];
  if (left < 0 || right < 0 || o.confidence(left) <= 0 || o.confidence(right) <= 0) return true;
  const double shoulders = (o.keypoints.row(left) - o.keypoints.row(right)).norm();
  return shoulders < context_.options.sideways_ratio * TorsoLength2D(o);
}

TemporalWeights Fitter::TrackWeights(const Observation& o, const TrackHistory& track) const {
  const FitOptions& options = context_.options;
  const double scale = o.camera.focal_length / std::max(track.last.transl.z(), 0.1);
  return {scale * options.track_orient_weight, scale * options.track_pose_weight,
          scale * options.track_transl_weight};
}

namespace {

// Whether a run's stages could not all be evaluated (such a run is never chosen).
bool AnyStageFailed(const OrientationReport& report) {
  for (const StageReport& stage : report.stages) {
    if (stage.termination == "FAILURE") return true;
  }
  return false;
}

// E_track (TrackHistory) on `p`: one residual block (track_term.h: the acceleration and
// velocity rows completed to one square), or, with the stage's pose prior, its body-pose
// rows joined to the prior's (tracked_pose_prior_term.h) and the rest as TrackRootCost.
class TrackTerms {
 public:
  TrackTerms(const TrackHistory& track, const TemporalWeights& weights, double velocity_ratio)
      : cost_(Frame(track.before), Frame(track.last), weights, velocity_ratio, track.before_gap,
              track.gap),
        root_(cost_) {}

  // Whether AddTo adds the stage's pose prior too (then the stage's own must not be added):
  // when the body-pose rows have weight (the joined block needs w² > 0, and a w > 0 whose
  // square underflows would have none).
  bool JoinsPosePrior() const { return cost_.pose_weight() * cost_.pose_weight() > 0.0; }

  // Adds E_track's rows and, if JoinsPosePrior, E_θ's at weight λ_θ = `pose_weight`
  // (replacing the previous stage's joined block: one stage's problem at a time).
  void AddTo(ceres::Problem* problem, BodyParameters* p, const FitContext& context,
             double pose_weight) {
    if (!JoinsPosePrior()) {
      problem->AddResidualBlock(&cost_, nullptr, p->global_orient.data(), p->body_pose.data(),
                                p->transl.data());
      return;
    }
    problem->AddResidualBlock(&root_, nullptr, p->global_orient.data(), p->transl.data());
    pose_ = std::make_unique<TrackedPosePriorCost>(
        context.prior, context.prior_eigen, context.prior_bounds, pose_weight, cost_.pose_weight(),
        cost_.pose_target());
    problem->AddResidualBlock(pose_.get(), nullptr, p->body_pose.data());
  }

  // E_track = ‖r‖² at `p`.
  double Energy(const BodyParameters& p) const {
    const double* blocks[] = {p.global_orient.data(), p.body_pose.data(), p.transl.data()};
    Eigen::Matrix<double, 82, 1> r;
    if (!cost_.Evaluate(blocks, r.data(), nullptr) || !r.allFinite()) {
      return std::numeric_limits<double>::infinity();
    }
    return r.squaredNorm();
  }

 private:
  static Eigen::Matrix<double, 75, 1> Frame(const BodyParameters& p) {
    Eigen::Matrix<double, 75, 1> frame;
    frame << p.global_orient, p.body_pose, p.transl;
    return frame;
  }

  TrackCost cost_;
  TrackRootCost root_;
  std::unique_ptr<TrackedPosePriorCost> pose_;
};

}  // namespace

OrientationReport Fitter::RunStages(const Observation& o, BodyParameters p, bool flipped,
                                    int first_stage, const TrackHistory* track,
                                    int end_stage) const {
  if (flipped) p.global_orient = FlippedOrientation(p.global_orient);
  OrientationReport report;
  report.flipped = flipped;
  ceres::Solver::Options solver = SolverOptions(context_.options);
  // A tracked frame starts where the last one's fit ended: its own tolerance
  // (track_function_tolerance, by default function_tolerance's 1e-4).
  if (track != nullptr) solver.function_tolerance = context_.options.track_function_tolerance;
  // ... and its own cap (track_max_iterations, 0: max_iterations').
  if (track != nullptr && context_.options.track_max_iterations > 0) {
    solver.max_num_iterations =
        std::min(solver.max_num_iterations, context_.options.track_max_iterations);
  }
  const StopSettings stop = StopOptions(context_.options, track != nullptr);
  const int num_stages = static_cast<int>(context_.options.pose_prior_weights.size());
  std::unique_ptr<TrackTerms> track_terms;
  if (track != nullptr) {
    track_terms = std::make_unique<TrackTerms>(*track, TrackWeights(o, *track),
                                               context_.options.track_velocity_ratio);
  }
  const bool hold_shape = track != nullptr && track->hold_shape;
  // The last stage's terms report the energies (at its weights, the spheres at the final β).
  std::unique_ptr<StageTerms> last_terms;
  const int end = end_stage < 0 ? num_stages : std::min(end_stage, num_stages);
  for (int stage = first_stage; stage < end; ++stage) {
    const StageWeights weights = Weights(stage);
    auto owned_terms = std::make_unique<StageTerms>(context_, o, &p, weights);
    StageTerms& terms = *owned_terms;
    std::unique_ptr<FaultCost> fault;  // outlives the problem, which does not own it
    HeldJoints held(context_.options.track_held_joints);  // the same
    ceres::Problem problem(ProblemOptions(&terms.evaluation()));
    const bool joined = track_terms && track_terms->JoinsPosePrior();
    terms.AddTo(&problem, /*with_pose_prior=*/!joined);
    if (track_terms) track_terms->AddTo(&problem, &p, context_, weights.pose);
    if (hold_shape) problem.SetParameterBlockConstant(p.betas.data());
    if (track != nullptr) held.Split(&problem, p.body_pose.data());
    if (fault_ && fault_->stage == stage) {
      fault = std::make_unique<FaultCost>(*fault_);
      problem.AddResidualBlock(fault.get(), nullptr, p.transl.data());
    }
    // SMPLify keeps the camera fixed here (SPEC §3.4); the default lets γ move so that an
    // error of the similar-triangles depth is not absorbed by shape and pose.
    if (!context_.options.refine_translation) problem.SetParameterBlockConstant(p.transl.data());
    StageReport joint =
        Solve(solver, &problem, "stage " + std::to_string(stage + 1), weights, stop);
    // E_sp's spheres follow β but its Jacobian reaches θ only (SPEC §2), so the linear model
    // misses how a β step moves the spheres; with contact, Ceres often ends the stage on
    // rejected steps with θ's gradient not yet 0. The last stage therefore ends with a solve
    // over θ and γ with β held, where the Jacobian is exact: the fit is a stationary point
    // of the energy it reports, in θ and γ (docs/design.md, "E_sp and β").
    if (terms.has_interpenetration() && stage == num_stages - 1 && !hold_shape) {
      problem.SetParameterBlockConstant(p.betas.data());
      const StageReport fixed_shape = Solve(solver, &problem, joint.name, weights, stop);
      if (fixed_shape.termination != "FAILURE") {
        joint.fixed_shape_iterations = fixed_shape.iterations;
        joint.iterations += fixed_shape.iterations;
        if (joint.termination == "FAILURE") {  // the stage's own solve stays reported
          joint.message += "; then with β held: " + fixed_shape.termination + ": " +
                           fixed_shape.message;
        } else {
          joint.termination = fixed_shape.termination;
          joint.message = fixed_shape.message;
        }
        joint.final_cost = fixed_shape.final_cost;
        joint.seconds += fixed_shape.seconds;
      }
    }
    report.stages.push_back(joint);
    // The terms outlive their problem (which does not own them).
    if (stage == num_stages - 1) last_terms = std::move(owned_terms);
  }
  // Energies at the last stage's weights, with the spheres at the final β.
  if (!last_terms) last_terms = std::make_unique<StageTerms>(context_, o, &p, Weights(num_stages - 1));
  report.energies = last_terms->Energies();
  if (track_terms) report.track_energy = track_terms->Energy(p);
  report.parameters = p;
  return report;
}

OrientationReport Fitter::RunPriorStarts(const Observation& o, const BodyParameters& p,
                                         const std::vector<bool>& orientations,
                                         const std::vector<Eigen::VectorXd>& starts,
                                         int first_stage, const TrackHistory* track,
                                         FitReport* report,
                                         std::vector<OrientationReport>* pool) const {
  // Per orientation, the start with the lowest data term measured at σ = selection_sigma
  // (or, without select_start_by_data, the lowest total energy; docs/design.md); between
  // orientations, the lower data term as fitted (SPEC §3.3).
  OrientationReport best;
  double best_data = std::numeric_limits<double>::infinity();
  const FitOptions& options = context_.options;
  for (bool flipped : orientations) {
    // The starts are independent: with threads > 1 they run concurrently (in start order).
    std::vector<BodyParameters> from(starts.size(), p);
    for (size_t i = 0; i < starts.size(); ++i) from[i].body_pose = starts[i];
    // What this orientation's choice compares, also where pruning compares unfinished runs.
    const auto score_of = [&](const OrientationReport& r, double* penalty) {
      if (!options.select_start_by_data) {
        *penalty = ReadingPenalty(o, r.parameters);
        return r.energies.total() + *penalty;
      }
      return SelectionScore(o, r.parameters, penalty);
    };
    std::vector<OrientationReport> candidates = RunStartsPruned(
        o, from, flipped, first_stage, track,
        [&](const OrientationReport& r) {
          double penalty = 0.0;
          return AnyStageFailed(r) ? std::numeric_limits<double>::infinity()
                                   : score_of(r, &penalty);
        },
        &report->num_pruned);
    if (pool != nullptr) pool->insert(pool->end(), candidates.begin(), candidates.end());
    // Each candidate's reading penalty, computed once: it enters its score and the key.
    std::vector<double> penalties(candidates.size());
    const auto score = [&](size_t i) { return score_of(candidates[i], &penalties[i]); };
    // The first of equals wins (deterministic); if no start could be evaluated, the first.
    size_t chosen_index = 0;
    // One start (SMPLify's, a warm start): nothing to choose, nothing to score.
    double chosen_score = 0.0;
    if (candidates.size() > 1) {
      chosen_score = score(0);
    } else {
      penalties[0] = ReadingPenalty(o, candidates[0].parameters);
    }
    for (size_t i = 1; i < candidates.size(); ++i) {
      const double candidate_score = score(i);
      if (candidate_score < chosen_score) {
        chosen_score = candidate_score;
        chosen_index = i;
      }
    }
    OrientationReport chosen = std::move(candidates[chosen_index]);
    report->tried_data_energies.push_back(chosen.energies.data);
    const double key = chosen.energies.data + penalties[chosen_index];
    if (key < best_data || best.parameters.betas.size() == 0) {
      best_data = key;
      best = std::move(chosen);
    }
  }
  return best;
}

std::vector<OrientationReport> Fitter::RunStartsPruned(
    const Observation& o, const std::vector<BodyParameters>& from, bool flipped,
    int first_stage, const TrackHistory* track,
    const std::function<double(const OrientationReport&)>& score, int* pruned) const {
  const FitOptions& options = context_.options;
  const size_t n = from.size();
  const int num_stages = static_cast<int>(options.pose_prior_weights.size());
  const size_t keep = static_cast<size_t>(std::max(0, options.prune_starts));
  // The stage (0-based) the kept starts go on from.
  const int resume = options.prune_stage;
  const double distance = options.prune_distance;
  const bool prune = (distance > 0.0 || (keep > 0 && n > keep)) && resume > first_stage &&
                     resume < num_stages;
  std::vector<OrientationReport> runs(n);
  const auto workers = [&](size_t tasks) {
    return std::min<size_t>(static_cast<size_t>(std::max(1, options.threads)), tasks);
  };
  // WithEndStage (tests): every start's head, as the pruned runs' below, none pruned.
  const int head_end = end_stage_ >= 0 ? end_stage_ : (prune ? resume : -1);
  RunTasks(n, workers(n), [&](size_t i) {
    runs[i] = RunStages(o, from[i], flipped, first_stage, track, head_end);
  });
  if (!prune || end_stage_ >= 0) return runs;
  std::vector<double> scores(n);
  // A non-finite score ranks last: NaN would break the sort's strict weak ordering.
  for (size_t i = 0; i < n; ++i) {
    const double s = score(runs[i]);
    scores[i] = std::isfinite(s) ? s : std::numeric_limits<double>::infinity();
  }
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  // The lowest scores, the earlier start first among equals; then back in start order.
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return scores[a] < scores[b]; });
  // prune_distance: a start whose joints lie within it (mean distance) of a better one's is
  // in that one's basin; prune_starts: at most that many of the rest.
  std::vector<size_t> kept;
  std::vector<MatX3> kept_joints;
  for (size_t i : order) {
    if (keep > 0 && kept.size() == keep) break;
    if (distance > 0.0) {
      MatX3 joints = PosedJoints(context_.model, runs[i].parameters);
      const auto within = [&](const MatX3& other) {
        return (joints - other).rowwise().norm().mean() < distance;
      };
      const bool near = std::any_of(kept_joints.begin(), kept_joints.end(), within);
      if (near) continue;
      kept_joints.push_back(std::move(joints));
    }
    kept.push_back(i);
  }
  std::sort(kept.begin(), kept.end());
  const size_t m = kept.size();
  std::vector<OrientationReport> finished(m);
  RunTasks(m, workers(m), [&](size_t j) {
    const OrientationReport& head = runs[kept[j]];
    // Already turned: the rest of the stages from where the head ended.
    OrientationReport rest = RunStages(o, head.parameters, /*flipped=*/false, resume, track);
    rest.flipped = flipped;
    rest.stages.insert(rest.stages.begin(), head.stages.begin(), head.stages.end());
    finished[j] = std::move(rest);
  });
  *pruned += static_cast<int>(n - m);
  return finished;
}

int Fitter::ScoreStarts(const Observation& o, const std::vector<OrientationReport>& pool,
                        const std::vector<int>& pool_hypotheses, const std::vector<double>& gaps,
                        FitReport* report) const {
  const FitOptions& options = context_.options;
  std::vector<StartCandidate> candidates;
  std::vector<int> index;  // into pool
  std::vector<double> totals;  // start_selection="total"'s score of each candidate
  report->start_keypoints.clear();
  for (size_t i = 0; i < pool.size(); ++i) {
    const OrientationReport& r = pool[i];
    if (AnyStageFailed(r)) continue;
    StartCandidate c;
    // The body posed once for the selection terms, E_3D and the depth order.
    BodyEvaluation body(context_.model, context_.targets, r.parameters);
    body.Update(false);
    const SelectionTerms terms = Selection(o, r.parameters, &body);
    c.selection_data = terms.data;
    if (!std::isfinite(c.selection_data)) continue;
    c.reading_score = terms.reading_score;
    const int h = pool_hypotheses[i];
    c.hypothesis = h >= 0;
    c.log_score_gap = c.hypothesis ? gaps[h] : 0.0;
    // The default's selection score S (as RunHypotheses scores a reading's start).
    c.default_score = terms.data + terms.reading_penalty +
                      (c.hypothesis ? options.hypothesis_score_weight * c.log_score_gap : 0.0);
    c.energies = r.energies;
    totals.push_back(r.energies.total() + terms.reading_penalty);
    // Against the same 3D for every start (a reading's start was fitted to its own reading).
    c.keypoints_3d = Keypoints3dEnergy(context_, o, r.parameters, &body);
    c.depth_disorder = DepthOrderDisagreement(body.keypoints(), o.keypoints_3d, o.weights);
    c.flipped = r.flipped;
    c.joints = PosedJoints(context_.model, r.parameters);
    candidates.push_back(std::move(c));
    report->start_keypoints.push_back(body.keypoints());
    index.push_back(static_cast<int>(i));
  }
  report->start_features = StartFeatures(candidates);
  report->start_joints.clear();
  report->start_hypotheses.clear();
  report->start_parameters.clear();
  report->start_default_scores.resize(static_cast<Eigen::Index>(candidates.size()));
  report->start_total_scores =
      Eigen::Map<const Eigen::VectorXd>(totals.data(), static_cast<Eigen::Index>(totals.size()));
  for (size_t i = 0; i < candidates.size(); ++i) {
    report->start_joints.push_back(candidates[i].joints);
    report->start_parameters.push_back(pool[static_cast<size_t>(index[i])].parameters);
    report->start_hypotheses.push_back(pool_hypotheses[index[i]]);
    report->start_default_scores(static_cast<Eigen::Index>(i)) = candidates[i].default_score;
  }
  if (options.start_scorer.empty() || candidates.empty()) return -1;
  // [F, W, b, v] (IsStartScorerOption): the weights after the feature count.
  const Eigen::VectorXd w = Eigen::Map<const Eigen::VectorXd>(
      options.start_scorer.data() + 1, static_cast<Eigen::Index>(options.start_scorer.size()) - 1);
  const Eigen::VectorXd s = StartScores(report->start_features, w);
  // The least E_sel has ℓ(0) = 0 ≤ the gate: some start is always kept.
  const int kept = KeptStart(report->start_features, s, options.selection_sigma);
  report->chosen_start = kept;
  return index[kept];
}

int Fitter::TryLegFlips(const Observation& o, OrientationReport* best) const {
  const int last = static_cast<int>(context_.options.pose_prior_weights.size()) - 1;
  double best_score = SelectionScore(o, best->parameters);
  int flipped = 0;
  for (const LegJoints& leg : {kLeftLeg, kRightLeg}) {
    double turned = 0.0;
    const BodyParameters start = FlipLegDepth(context_.model, best->parameters, leg, &turned);
    if (turned < 0.3) continue;  // the leg lies nearly in the image plane: nothing to flip
    OrientationReport candidate = RunStages(o, start, best->flipped, last);
    const double score = AnyStageFailed(candidate) ? std::numeric_limits<double>::infinity()
                                : SelectionScore(o, candidate.parameters);
    if (score < best_score) {
      best_score = score;
      // The report keeps the stages that led to the flipped start, then its refinement.
      candidate.stages.insert(candidate.stages.begin(), best->stages.begin(), best->stages.end());
      *best = std::move(candidate);
      ++flipped;
    }
  }
  return flipped;
}

double Fitter::ReadingPenalty(const Observation& o, const BodyParameters& parameters) const {
  if (context_.options.reading_weight <= 0.0 || o.readings.empty()) return 0.0;
  BodyEvaluation body(context_.model, context_.targets, parameters);
  body.Update(false);
  return ReadingPenalty(o, body.keypoints());
}

double Fitter::ReadingPenalty(const Observation& o, const MatX3& keypoints) const {
  const FitOptions& options = context_.options;
  if (options.reading_weight <= 0.0 || o.readings.empty()) return 0.0;
  return ReadingWeight(o) * ReadingScore(keypoints, o.readings, options.reading_sigma);
}

Fitter::SelectionTerms Fitter::Selection(const Observation& o,
                                         const BodyParameters& parameters) const {
  // One posing of the body for every term.
  BodyEvaluation body(context_.model, context_.targets, parameters);
  body.Update(false);
  return Selection(o, parameters, &body);
}

Fitter::SelectionTerms Fitter::Selection(const Observation& o, const BodyParameters& parameters,
                                         BodyEvaluation* body) const {
  const FitOptions& options = context_.options;
  SelectionTerms terms;
  terms.data = DataEnergy(context_, o, parameters, options.selection_sigma, body);
  if (!o.readings.empty()) {
    terms.reading_score = ReadingScore(body->keypoints(), o.readings, options.reading_sigma);
    if (options.reading_weight > 0.0) {
      terms.reading_penalty = ReadingWeight(o) * terms.reading_score;
    }
  }
  return terms;
}

double Fitter::SelectionScore(const Observation& o, const BodyParameters& parameters,
                              double* reading_penalty) const {
  const SelectionTerms terms = Selection(o, parameters);
  if (reading_penalty != nullptr) *reading_penalty = terms.reading_penalty;
  return terms.data + terms.reading_penalty;
}

OrientationReport Fitter::RunHypotheses(const Observation& o, const Vec3& fallback_transl,
                                        int* chosen, double* chosen_score,
                                        std::vector<OrientationReport>* pool,
                                        std::vector<double>* gaps) const {
  const FitOptions& options = context_.options;
  const size_t n = o.hypotheses.size();
  // The last stage if there are fewer stages than hypothesis_first_stage.
  const int first_stage = std::min(options.hypothesis_first_stage,
                                   static_cast<int>(options.pose_prior_weights.size()) - 1);
  std::vector<OrientationReport> candidates(n);
  std::vector<double> scores(n);
  const size_t workers = std::min<size_t>(std::max(1, options.threads), n);
  // Penalties relative to the best-scored reading: that one competes with the prior's winner
  // on the data term alone.
  double max_log_score = -std::numeric_limits<double>::infinity();
  for (const StartHypothesis& h : o.hypotheses) max_log_score = std::max(max_log_score, h.log_score);
  RunTasks(n, workers, [&](size_t i) {
    const StartHypothesis& h = o.hypotheses[i];
    Observation own = o;  // the reading's own E_3D targets, if it brings them
    own.hypotheses.clear();
    if (h.keypoints_3d.rows() > 0) own.keypoints_3d = h.keypoints_3d;
    candidates[i] = RunStages(own, HypothesisStart(context_, o, h, fallback_transl),
                              /*flipped=*/false, first_stage);
    scores[i] = SelectionScore(o, candidates[i].parameters) +
                options.hypothesis_score_weight * (max_log_score - h.log_score);
    // A run whose stages could not be evaluated is never chosen.
    if (AnyStageFailed(candidates[i])) scores[i] = std::numeric_limits<double>::infinity();
  });
  if (pool != nullptr) {
    pool->insert(pool->end(), candidates.begin(), candidates.end());
    for (const StartHypothesis& h : o.hypotheses) gaps->push_back(max_log_score - h.log_score);
  }
  size_t best = 0;
  for (size_t i = 1; i < n; ++i) {
    if (scores[i] < scores[best]) best = i;
  }
  *chosen = static_cast<int>(best);
  *chosen_score = scores[best];
  return std::move(candidates[best]);
}

FitReport Fitter::Fit(const Observation& o, const BodyParameters* initial,
                      const TrackHistory* track, bool with_vertices) const {
  const auto start = Clock::now();
  CheckObservation(o);
  if (track != nullptr) {
    Require(initial != nullptr, "track: needs an initial (warm-started) fit");
    for (const BodyParameters* frame : {&track->before, &track->last}) {
      Require(frame->global_orient.allFinite() && frame->body_pose.allFinite() &&
                  frame->transl.allFinite(),
              "track: the previous frames' pose and transl must be finite");
    }
    Require(std::isfinite(track->before_gap) && std::isfinite(track->gap) &&
                track->before_gap >= 1.0 && track->gap >= 1.0,
            "track: the gaps between frames must be finite and >= 1 frame");
  }
  FitReport report;
  BodyParameters p;
  std::vector<bool> orientations = {false};
  bool camera_placed = true;
  if (initial != nullptr) {
    Require(initial->betas.size() == context_.model.num_betas(), "initial: wrong number of betas");
    Require(initial->global_orient.allFinite() && initial->body_pose.allFinite() &&
                initial->betas.allFinite() && initial->transl.allFinite(),
            "initial: pose, betas and transl must be finite");
    p = *initial;
  } else {
    StageReport torso;
    p = InitializeCamera(o, &report.initial_depth, &torso);
    report.stages.push_back(torso);
    // The torso fit cannot be evaluated where similar triangles put the camera: the torso
    // keypoints lie at or behind it (README "Reliability": no finite point). No start runs
    // then, from the prior or a hypothesis (which, placed on its own, would return a body
    // far off that explains no keypoint): the report is not finite, whichever the starts.
    camera_placed = std::isfinite(torso.initial_cost);
    report.sideways = IsSideways(o);
    const int flip = context_.options.flip;
    if (flip == 1 || (flip < 0 && report.sideways)) orientations.push_back(true);
  }

  // A warm start is its own single start; a cold one tries the prior's starts in each
  // orientation (unless prior_starts is off and the observation brings hypotheses), then the
  // observation's hypotheses.
  std::vector<Eigen::VectorXd> starts = context_.starts;
  int first_stage = 0;
  if (initial != nullptr) {
    starts = {p.body_pose};
    const int num_stages = static_cast<int>(context_.options.pose_prior_weights.size());
    first_stage = std::max(0, num_stages - context_.options.warm_stages);
  }
  const bool hypotheses = camera_placed && initial == nullptr && !o.hypotheses.empty();
  if ((hypotheses && !context_.options.prior_starts) || !camera_placed) starts.clear();
  OrientationReport best;
  if (!camera_placed) {
    best.parameters = p;
    best.energies.data = std::numeric_limits<double>::infinity();
  }
  double best_score = std::numeric_limits<double>::infinity();
  // Every finished start, for a learned selection (with the readings) or the record (of any
  // fit from scratch: the online Fitter's restarts have no readings; start_scorer.h).
  const bool pooled = (hypotheses && !context_.options.start_scorer.empty()) ||
                      (context_.options.record_starts && initial == nullptr && camera_placed);
  std::vector<OrientationReport> pool;
  std::vector<double> gaps;
  if (!starts.empty()) {
    best = RunPriorStarts(o, p, orientations, starts, first_stage, track, &report,
                          pooled ? &pool : nullptr);
    if (hypotheses) best_score = SelectionScore(o, best.parameters);
  }
  std::vector<int> pool_hypotheses(pool.size(), -1);
  bool pooled_fallback = false;  // no reading could be evaluated: the default's fallback
  report.num_starts = static_cast<int>(starts.size());
  if (hypotheses) {
    int chosen = -1;
    double score = 0.0;
    OrientationReport from_hypothesis = RunHypotheses(o, p.transl, &chosen, &score,
                                                      pooled ? &pool : nullptr, &gaps);
    for (size_t i = 0; i < gaps.size(); ++i) pool_hypotheses.push_back(static_cast<int>(i));
    report.num_hypotheses = static_cast<int>(o.hypotheses.size());
    // The first of equals wins: the prior's start, when it was tried.
    if (score < best_score || best.parameters.betas.size() == 0) {
      best = std::move(from_hypothesis);
      report.hypothesis = chosen;
    }
    // No reading could be evaluated (e.g. placed at or behind the camera) and the prior's
    // starts did not run: run them.
    if (!std::isfinite(score) && starts.empty()) {
      starts = context_.starts;
      best = RunPriorStarts(o, p, orientations, starts, first_stage, track, &report);
      report.num_starts = static_cast<int>(starts.size());
      report.hypothesis = -1;
      pooled_fallback = true;
    }
  }
  if (pooled && !pooled_fallback) {
    const int kept = ScoreStarts(o, pool, pool_hypotheses, gaps, &report);
    // The learned scorer chooses among the readings and the prior's starts only: a record of
    // a fit without readings keeps the default's choice.
    if (!hypotheses) report.chosen_start = -1;
    if (kept >= 0 && hypotheses) {
      best = std::move(pool[kept]);
      report.hypothesis = pool_hypotheses[kept];
    }
  }
  if (initial == nullptr && context_.options.leg_flips && context_.options.reading_weight > 0 &&
      !o.readings.empty()) {
    report.legs_flipped = TryLegFlips(o, &best);
    if (report.legs_flipped > 0) report.chosen_start = -1;
  }
  report.parameters = best.parameters;
  report.energies = best.energies;
  report.track_energy = best.track_energy;
  report.flipped = best.flipped;
  report.stages.insert(report.stages.end(), best.stages.begin(), best.stages.end());
  // The fitted body, so that callers need not pose the model again.
  BodyEvaluation body(context_.model, context_.targets, report.parameters);
  body.Update(false);
  const Skeleton skeleton = context_.model.Pose(report.parameters.Pose(), report.parameters.betas,
                                                report.parameters.transl, false);
  report.joints.resize(kNumJoints, 3);
  for (int j = 0; j < kNumJoints; ++j) report.joints.row(j) = skeleton.joints[j].transpose();
  if (with_vertices) {
    report.vertices = context_.model.Vertices(skeleton);
  } else {
    report.vertices.resize(0, 3);
  }
  report.keypoints = body.keypoints();
  report.num_spheres = context_.spheres.size();
  report.num_sphere_pairs = static_cast<int>(context_.spheres.pairs.size());
  report.seconds = SecondsSince(start);
  return report;
}

}  // namespace smplify
