#include "sequence_fitter.h"

#include <array>
#include <chrono>
#include <cmath>
#include <cstring>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include <time.h>

#include <ceres/ceres.h>

#include "block_banded.h"
#include "relative_keypoint_term.h"
#include "stage_terms.h"

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

// Ceres' Levenberg-Marquardt with conjugate gradients on the normal equations (CGNR), the
// `iterative` option: any Ceres build has it. Measured on 120 frames it was ~10× slower than
// SolveBanded, and Ceres' SPARSE_NORMAL_CHOLESKY (SuiteSparse, CXSparse or Eigen: the time
// went to forming JᵀJ, 0.1–0.3 s a step) ~3× slower.
std::string UseConjugateGradients(ceres::Solver::Options* solver) {
  solver->trust_region_strategy_type = ceres::LEVENBERG_MARQUARDT;
  solver->linear_solver_type = ceres::CGNR;
  solver->preconditioner_type = ceres::JACOBI;
  return "Ceres LEVENBERG_MARQUARDT, CGNR (JACOBI)";
}


struct SolveOutcome {
  int iterations = 0, rejected = 0;
  std::vector<SequenceStep> steps;
  double first_evaluation_cpu_seconds = 0.0;
  double restore_cpu_seconds = 0.0;  // the evaluation set back at the result after the solve
  std::string termination = "FAILURE";
  double initial_cost = std::numeric_limits<double>::infinity();
  double final_cost = std::numeric_limits<double>::infinity();
  double linear_solver_seconds = 0.0, evaluation_seconds = 0.0;
  std::string solver;
};

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

// This thread's CPU seconds (the steps' report: wall time counts other processes' load).
double CpuSeconds() {
  timespec now;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + 1e-9 * static_cast<double>(now.tv_nsec);
}

// Ceres over the residuals (the `iterative` option: conjugate gradients, kept to compare).
SolveOutcome SolveWithCeres(const std::vector<Residual>& residuals, SequenceEvaluation* evaluation,
                            std::vector<BodyParameters>* frames, double* betas,
                            bool fixed_transl, const SequenceOptions& options) {
  ceres::Problem::Options problem_options;
  problem_options.cost_function_ownership = ceres::DO_NOT_TAKE_OWNERSHIP;
  problem_options.evaluation_callback = evaluation;
  ceres::Problem problem(problem_options);
  for (const Residual& r : residuals) {
    if (r.cost->num_residuals() > 0) problem.AddResidualBlock(r.cost.get(), nullptr, r.blocks);
  }
  auto hold = [&](double* block) {
    if (problem.HasParameterBlock(block)) problem.SetParameterBlockConstant(block);
  };
  if (fixed_transl) {
    for (BodyParameters& p : *frames) hold(p.transl.data());
  }
  for (int t : options.fixed_frames) {
    BodyParameters& p = (*frames)[t];
    for (double* block : {p.global_orient.data(), p.body_pose.data(), p.transl.data()}) hold(block);
  }
  if (options.hold_betas) hold(betas);
  ceres::Solver::Options solver;
  solver.minimizer_type = ceres::TRUST_REGION;
  SolveOutcome out;
  out.solver = UseConjugateGradients(&solver);
  solver.initial_trust_region_radius = 1.0 / options.initial_damping;
  solver.max_num_iterations = options.max_iterations;
  solver.function_tolerance = options.function_tolerance;
  solver.num_threads = 1;  // the evaluation callback runs the frames serially anyway
  solver.logging_type = ceres::SILENT;
  solver.minimizer_progress_to_stdout = false;
  double initial_cost = 0.0;
  if (!problem.Evaluate(ceres::Problem::EvaluateOptions(), &initial_cost, nullptr, nullptr,
                        nullptr) ||
      !std::isfinite(initial_cost)) {
    return out;
  }
  std::string invalid;
  if (!solver.IsValid(&invalid)) {
    throw std::invalid_argument("options: Ceres rejected the solver options: " + invalid);
  }
  ceres::Solver::Summary summary;
  ceres::Solve(solver, &problem, &summary);
  out.iterations = summary.num_successful_steps + summary.num_unsuccessful_steps;
  out.rejected = summary.num_unsuccessful_steps;
  out.termination = ceres::TerminationTypeToString(summary.termination_type);
  out.initial_cost = summary.initial_cost;
  out.final_cost = summary.final_cost;
  out.linear_solver_seconds = summary.linear_solver_time_in_seconds;
  out.evaluation_seconds =
      summary.residual_evaluation_time_in_seconds + summary.jacobian_evaluation_time_in_seconds;
  return out;
}

constexpr int kFrame = 3 + kBodyPoseSize + 3;  // ω, θ, γ of a frame in the stacked system

// The Gauss-Newton normal equations JᵀJ δ = −Jᵀr of the residuals, summed block by block into
// a BlockBandedSystem: each frame's 75 parameters (ω 0–2, θ 3–71, γ 72–74) are one block, β
// the border (the residuals' parameter blocks are located once, by address).
class BandedAssembly {
 public:
  // `reuse_pose_prior_products` false: the pose prior's JᵀJ computed afresh each time
  // (SequenceNormalEquations' switch, for the tests; the fit keeps it on).
  BandedAssembly(const std::vector<Residual>& residuals, std::vector<BodyParameters>* frames,
                 Eigen::VectorXd* betas, bool reuse_pose_prior_products = true)
      : residuals_(residuals),
        num_frames_(static_cast<int>(frames->size())),
        reuse_pose_prior_products_(reuse_pose_prior_products) {
    std::unordered_map<const double*, Location> where;
    for (int t = 0; t < num_frames_; ++t) {
      BodyParameters& p = (*frames)[t];
      where[p.global_orient.data()] = {t, 0};
      for (int j = 0; j < kBodyPoseSize / 3; ++j) {
        where[p.body_pose.data() + 3 * j] = {t, 3 + 3 * j};
      }
      where[p.transl.data()] = {t, 3 + kBodyPoseSize};
    }
    where[betas->data()] = {-1, 0};
    locations_.resize(residuals.size());
    pose_prior_.resize(residuals.size());
    for (size_t k = 0; k < residuals.size(); ++k) {
      for (const double* block : residuals[k].blocks) locations_[k].push_back(where.at(block));
      pose_prior_[k] = residuals[k].term == "pose" && residuals[k].blocks.size() == 1;
    }
  }

  // The pose prior's JᵀJ products computed and those reused from PosePriorGram's cache so far.
  int pose_prior_products_computed() const { return pose_prior_products_computed_; }
  int pose_prior_products_reused() const { return pose_prior_products_reused_; }

  // ½ Σ ‖r‖² at the parameters the evaluation was prepared at; with a `target`, also JᵀJ
  // and −Jᵀr into it (set to zero first). +∞ where a residual cannot be evaluated.
  double Evaluate(BlockBandedSystem* target) {
    const bool assemble = target != nullptr;
    if (assemble) target->SetZero();
    double cost = 0.0;
    for (size_t k = 0; k < residuals_.size(); ++k) {
      const Residual& r = residuals_[k];
      const std::vector<Location>& locations = locations_[k];
      const int n = r.cost->num_residuals();
      if (n == 0) continue;
      const std::vector<int32_t>& sizes = r.cost->parameter_block_sizes();
      const size_t num_blocks = sizes.size();
      rows_.resize(n);
      jacobians_.resize(std::max(jacobians_.size(), num_blocks));
      jacobian_ptrs_.resize(num_blocks);
      for (size_t i = 0; i < num_blocks; ++i) {
        jacobians_[i].resize(n, sizes[i]);
        jacobian_ptrs_[i] = jacobians_[i].data();
      }
      if (!r.cost->Evaluate(r.blocks.data(), rows_.data(),
                            assemble ? jacobian_ptrs_.data() : nullptr)) {
        return std::numeric_limits<double>::infinity();
      }
      cost += 0.5 * rows_.squaredNorm();
      if (!assemble) continue;
      for (size_t i = 0; i < num_blocks; ++i) {
        target->gradient().segment(Index(locations[i]), sizes[i]).noalias() -=
            jacobians_[i].transpose() * rows_;
        for (size_t j = 0; j < num_blocks; ++j) {
          // Across frames: the lower block. Same frame (or both β): the blocks that reach
          // the lower triangle, the only one the solve reads (BlockBandedSystem), so a pair
          // wholly above the diagonal (ω × θ, ω × γ, θ × γ) is not formed; the lower
          // triangle gets the same sums in the same order.
          const bool lower = Key(locations[i]) > Key(locations[j]) ||
                             (locations[i].frame == locations[j].frame &&
                              locations[i].offset + sizes[i] > locations[j].offset);
          if (lower) {
            target->AddBlock(locations[i].frame, locations[i].offset, locations[j].frame,
                             locations[j].offset,
                             pose_prior_[k] ? PosePriorGram() : Product(i, j));
          }
        }
      }
    }
    return std::isfinite(cost) ? cost : std::numeric_limits<double>::infinity();
  }

 private:
  struct Location {
    int frame, offset;  // frame −1: β
  };
  int Index(const Location& l) const {
    return l.frame < 0 ? num_frames_ * kFrame + l.offset : l.frame * kFrame + l.offset;
  }
  static int Key(const Location& l) {
    return l.frame < 0 ? std::numeric_limits<int>::max() : l.frame;
  }

  using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

  // J_iᵀ J_j of the residual being added, into one reused matrix (no allocation a pair).
  const Eigen::MatrixXd& Product(size_t i, size_t j) {
    product_.noalias() = jacobians_[i].transpose() * jacobians_[j];
    return product_;
  }

  // JᵀJ of the pose prior's residual (its one block), computed once for each Jacobian that
  // repeats bit for bit across frames and steps: λ_θ [√½ L_kᵀ; 0] (pose_prior_term.h), one
  // per mixture component (70 × 69: its product costs as much as a frame's data term and
  // interpenetration term together). The same product of the same numbers: the sum is
  // unchanged to the bit. Only this term's: one whose Jacobian changes every step would
  // fill the cache with one-offs. At most kMaxGrams kept (the mixture has fewer).
  const Eigen::MatrixXd& PosePriorGram() {
    static constexpr size_t kMaxGrams = 64;
    const RowMajor& jacobian = jacobians_[0];
    if (reuse_pose_prior_products_) {
      const size_t bytes = sizeof(double) * static_cast<size_t>(jacobian.size());
      // Keyed by a sample of its entries (the look-up compares them all).
      std::array<double, 64> sample;
      for (size_t k = 0; k < sample.size(); ++k) {
        sample[k] = jacobian.data()[k * static_cast<size_t>(jacobian.size()) / sample.size()];
      }
      const size_t key = std::hash<std::string_view>()(
          std::string_view(reinterpret_cast<const char*>(sample.data()), sizeof(sample)));
      auto [first, last] = grams_.equal_range(key);
      for (auto it = first; it != last; ++it) {
        const RowMajor& seen = it->second.first;
        if (seen.rows() == jacobian.rows() && seen.cols() == jacobian.cols() &&
            std::memcmp(seen.data(), jacobian.data(), bytes) == 0) {
          ++pose_prior_products_reused_;
          return it->second.second;
        }
      }
      if (grams_.size() < kMaxGrams) {
        ++pose_prior_products_computed_;
        Product(0, 0);
        return grams_.emplace(key, std::make_pair(jacobian, product_))->second.second;
      }
    }
    ++pose_prior_products_computed_;
    return Product(0, 0);
  }

  const std::vector<Residual>& residuals_;
  const int num_frames_;
  const bool reuse_pose_prior_products_;
  std::vector<std::vector<Location>> locations_;
  std::vector<char> pose_prior_;  // residual k is the pose prior's (PosePriorGram)
  int pose_prior_products_computed_ = 0, pose_prior_products_reused_ = 0;
  std::vector<RowMajor> jacobians_;
  std::vector<double*> jacobian_ptrs_;
  Eigen::VectorXd rows_;
  Eigen::MatrixXd product_;
  std::unordered_multimap<size_t, std::pair<RowMajor, Eigen::MatrixXd>> grams_;  // by hash
};

// Levenberg-Marquardt on the block-banded normal equations (block_banded.h, BandedAssembly).
// Steps are additive, as Ceres' are without manifolds; the damping follows Ceres' LM
// (Nielsen's update from μ = initial_damping, diag(JᵀJ) clamped to [1e-6, 1e32]); stops
// after `max_iterations` steps (accepted or not, the first `retries` rejected ones not
// counted) or when an accepted step lowers the cost by less than function_tolerance · cost,
// or (FAILURE, at the last accepted point) when rejections raise μ past 1e32.
SolveOutcome SolveBanded(const std::vector<Residual>& residuals, SequenceEvaluation* evaluation,
                         std::vector<BodyParameters>* frames, Eigen::VectorXd* betas,
                         bool fixed_transl, const SequenceOptions& options) {
  const int num_frames = static_cast<int>(frames->size());
  const int num_betas = static_cast<int>(betas->size());
  BandedAssembly assembly(residuals, frames, betas);
  std::vector<int> fixed;
  if (fixed_transl) {
    for (int t = 0; t < num_frames; ++t) {
      for (int k = 0; k < 3; ++k) fixed.push_back(t * kFrame + 3 + kBodyPoseSize + k);
    }
  }
  for (int t : options.fixed_frames) {
    for (int k = 0; k < kFrame; ++k) fixed.push_back(t * kFrame + k);
  }
  if (options.hold_betas) {
    for (int k = 0; k < num_betas; ++k) fixed.push_back(num_frames * kFrame + k);
  }
  SolveOutcome out;
  out.solver = "Levenberg-Marquardt, block-banded Cholesky";
  // The system at the parameters and a spare: a trial point is evaluated with its Jacobians
  // into the spare, which becomes the system when the step is accepted (LM steps here are
  // mostly accepted; a residual-only evaluation of the trial followed by a second one with
  // Jacobians cost one more pass over the frames a step).
  BlockBandedSystem first(num_frames, kFrame, num_betas), second(num_frames, kFrame, num_betas);
  BlockBandedSystem* system = &first;
  BlockBandedSystem* spare = &second;
  BlockBandedSystem::Workspace workspace;  // the factorisation's storage, reused each step
  auto evaluate = [&](BlockBandedSystem* target) {
    const auto start = std::chrono::steady_clock::now();
    evaluation->PrepareForEvaluation(target != nullptr, true);
    const double cost = assembly.Evaluate(target);
    out.evaluation_seconds += Seconds(start);
    return cost;
  };
  const double first_cpu = CpuSeconds();
  double cost = evaluate(system);
  out.first_evaluation_cpu_seconds = CpuSeconds() - first_cpu;
  out.initial_cost = out.final_cost = cost;
  if (!std::isfinite(cost)) return out;
  out.termination = "NO_CONVERGENCE";
  double mu = options.initial_damping, nu = 2.0;
  Eigen::VectorXd delta;
  std::vector<BodyParameters> saved;
  Eigen::VectorXd saved_betas;
  // Steps allowed: max_iterations, plus one per rejected step while retries last. A
  // rejected trial needs no Jacobians (the system stays the current point's), so the last
  // step's trial is evaluated without them even when a retry may follow.
  int budget = options.max_iterations;
  // Rejected steps raise μ by ν, ν doubling each time: from μ₀ ≥ 1e-16, ≤ 18 rejections in
  // a row pass Ceres' largest damping 1e32 (its smallest trust region radius 1e-32, as
  // Validate cites), beyond which the step is below rounding and μ · ν soon overflows.
  // Ceres stops there too; here the solve ends with FAILURE at the last accepted point.
  constexpr double kMaxDamping = 1e32;
  auto reject = [&]() {
    ++out.rejected;
    if (out.rejected <= options.retries) ++budget;
    mu *= nu;
    nu *= 2.0;
    return mu <= kMaxDamping;
  };
  while (out.iterations < budget) {
    ++out.iterations;
    SequenceStep& step = out.steps.emplace_back();
    step.damping = mu;
    step.cost = cost;
    step.trial_cost = std::numeric_limits<double>::infinity();
    double cpu = CpuSeconds();
    const auto start = std::chrono::steady_clock::now();
    const bool solved = system->Solve(mu, fixed, &delta, &workspace);
    out.linear_solver_seconds += Seconds(start);
    step.linear_cpu_seconds = CpuSeconds() - cpu;
    if (!solved) {
      if (!reject()) {
        out.termination = "FAILURE";
        break;
      }
      continue;
    }
    const double predicted = delta.dot(system->gradient()) - 0.5 * system->Quadratic(delta);
    saved = *frames;
    saved_betas = *betas;
    for (int t = 0; t < num_frames; ++t) {
      BodyParameters& p = (*frames)[t];
      p.global_orient += delta.segment<3>(t * kFrame);
      p.body_pose += delta.segment<kBodyPoseSize>(t * kFrame + 3);
      p.transl += delta.segment<3>(t * kFrame + 3 + kBodyPoseSize);
    }
    *betas += delta.tail(num_betas);
    // The last step needs no Jacobians: no step follows it.
    const bool last = out.iterations >= budget;
    cpu = CpuSeconds();
    const double trial = evaluate(last ? nullptr : spare);
    step.evaluation_cpu_seconds = CpuSeconds() - cpu;
    step.predicted = predicted;
    step.trial_cost = trial;
    step.jacobians = !last;
    const double rho = (cost - trial) / predicted;
    step.accepted = predicted > 0.0 && std::isfinite(trial) && rho > 1e-3;
    if (step.accepted) {
      mu *= std::max(1.0 / 3.0, 1.0 - std::pow(2.0 * rho - 1.0, 3));
      nu = 2.0;
      const double decrease = cost - trial;
      cost = trial;
      out.final_cost = cost;
      if (!last) std::swap(system, spare);
      if (decrease < options.function_tolerance * (cost + decrease)) {
        out.termination = "CONVERGENCE";
        break;
      }
    } else {
      *frames = saved;
      *betas = saved_betas;
      if (!reject()) {
        out.termination = "FAILURE";
        break;
      }
    }
  }
  const double restore_cpu = CpuSeconds();
  evaluation->PrepareForEvaluation(false, true);
  out.restore_cpu_seconds = CpuSeconds() - restore_cpu;
  return out;
}

void Validate(const Fitter& fitter, const std::vector<Observation>& observations,
              const std::vector<BodyParameters>& initial, const SequenceOptions& options) {
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
  Require(options.max_iterations >= 1 && options.function_tolerance > 0.0 &&
              options.retries >= 0,
          "options: iterations >= 1, retries >= 0 and tolerance > 0");
  Require(!(options.iterative && options.retries > 0),
          "options: retries is the block-banded solver's; the iterative one counts every step");
  // Ceres' LM starts from the trust region radius 1/μ₀ and accepts radii in [1e-32, 1e16]
  // (1/1e32 rounds below 1e-32); NaN fails every comparison.
  const double radius = 1.0 / options.initial_damping;
  Require(options.initial_damping > 0.0 && radius >= 1e-32 && radius <= 1e16,
          "options: initial_damping must be in [1e-16, 1e32) (Ceres' trust region radius "
          "1/initial_damping in [1e-32, 1e16])");
  for (int t : options.fixed_frames) {
    Require(t >= 0 && t < num_frames, "fixed_frames: frame indices in [0, T)");
  }
  Require(options.temporal.orient >= 0 && options.temporal.pose >= 0 &&
              options.temporal.transl >= 0 && std::isfinite(options.temporal.orient) &&
              std::isfinite(options.temporal.pose) && std::isfinite(options.temporal.transl),
          "options: temporal weights must be finite and >= 0");
}

// The sequence's parameters (every frame's, the shared β), their evaluation and the
// residual blocks of E (header). `ceres_layout`: θ one 69-block in the temporal term too
// (Ceres' blocks may not overlap); else per joint (3 × 9 Jacobians, not 69 × 207).
struct SequenceProblem {
  SequenceProblem(const Fitter& fitter, const std::vector<Observation>& observations,
                  const std::vector<BodyParameters>& initial, const TemporalWeights& temporal,
                  bool ceres_layout)
      : frames(initial), betas(initial.front().betas), evaluation(&frames, &betas) {
    const FitContext& context = fitter.context();
    const int num_frames = static_cast<int>(observations.size());
    const int num_betas = context.model.num_betas();
    const StageWeights weights =
        fitter.Weights(static_cast<int>(context.options.pose_prior_weights.size()) - 1);
    const bool spheres = !context.spheres.pairs.empty() && weights.interpenetration > 0.0;
    for (int t = 0; t < num_frames; ++t) {
      BodyParameters& p = frames[t];
      p.betas = betas;
      evaluation.Add(std::make_unique<BodyEvaluation>(
          context.model, context.targets, p, spheres ? &context.capsules : nullptr,
          &context.spheres, context.options.sphere_sigma_scale));
      std::vector<int> ids;
      Eigen::VectorXd data_weights;
      DataKeypoints(observations[t], &ids, &data_weights);
      // E_3D over the data term's keypoints with a finite 3D target (none: no row).
      if (auto keypoints_3d = RelativeKeypointsCost(context, observations[t], ids, data_weights,
                                                    evaluation.frame(t))) {
        residuals.push_back({t, "keypoints_3d", std::move(keypoints_3d),
                             {p.global_orient.data(), p.body_pose.data(), betas.data(),
                              p.transl.data()}});
      }
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
        {-1, "shape",
         std::make_unique<ShapePriorCost>(num_betas, weights.shape * std::sqrt(observed)),
         {betas.data()}});
    for (int t = 1; t + 1 < num_frames; ++t) {
      BodyParameters &a = frames[t - 1], &b = frames[t], &c = frames[t + 1];
      if (ceres_layout) {  // Ceres: blocks may not overlap, so θ stays one 69-block
        residuals.push_back(
            {t, "temporal", std::make_unique<TemporalCost>(temporal),
             {a.global_orient.data(), b.global_orient.data(), c.global_orient.data(),
              a.body_pose.data(), b.body_pose.data(), c.body_pose.data(), a.transl.data(),
              b.transl.data(), c.transl.data()}});
        continue;
      }
      residuals.push_back({t, "temporal", std::make_unique<TemporalRootCost>(temporal),
                           {a.global_orient.data(), b.global_orient.data(), c.global_orient.data(),
                            a.transl.data(), b.transl.data(), c.transl.data()}});
      for (int j = 0; j < kBodyPoseSize / 3; ++j) {  // per joint: 3 × 9 Jacobians, not 69 × 207
        residuals.push_back({t, "temporal",
                             std::make_unique<TemporalJointCost>(temporal.pose),
                             {a.body_pose.data() + 3 * j, b.body_pose.data() + 3 * j,
                              c.body_pose.data() + 3 * j}});
      }
    }
  }
  SequenceProblem(const SequenceProblem&) = delete;
  SequenceProblem& operator=(const SequenceProblem&) = delete;

  std::vector<BodyParameters> frames;
  Eigen::VectorXd betas;
  SequenceEvaluation evaluation;  // reads frames and betas
  std::vector<Residual> residuals;
  int observed = 0;  // T_obs
};

}  // namespace

SequenceReport FitSequence(const Fitter& fitter, const std::vector<Observation>& observations,
                           const std::vector<BodyParameters>& initial,
                           const SequenceOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  Validate(fitter, observations, initial, options);
  const FitContext& context = fitter.context();
  const int num_frames = static_cast<int>(observations.size());
  SequenceProblem problem(fitter, observations, initial, options.temporal, options.iterative);
  std::vector<BodyParameters>& frames = problem.frames;
  Eigen::VectorXd& betas = problem.betas;
  SequenceEvaluation& evaluation = problem.evaluation;
  const std::vector<Residual>& residuals = problem.residuals;
  const int observed = problem.observed;

  SequenceReport report;
  SolveOutcome outcome = options.iterative
                             ? SolveWithCeres(residuals, &evaluation, &frames, betas.data(),
                                              !context.options.refine_translation, options)
                             : SolveBanded(residuals, &evaluation, &frames, &betas,
                                           !context.options.refine_translation, options);
  report.iterations = outcome.iterations;
  report.rejected_steps = outcome.rejected;
  report.termination = outcome.termination;
  report.initial_cost = outcome.initial_cost;
  report.final_cost = outcome.final_cost;
  report.linear_solver_seconds = outcome.linear_solver_seconds;
  report.evaluation_seconds = outcome.evaluation_seconds;
  report.steps = std::move(outcome.steps);
  report.first_evaluation_cpu_seconds = outcome.first_evaluation_cpu_seconds;
  const std::string solver_name = outcome.solver;
  const double finish_cpu = CpuSeconds() - outcome.restore_cpu_seconds;

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
    if (r.term == "temporal") {
      report.temporal_energies(r.frame) += e;
    } else if (double* energy = TermEnergy(&report.energies[r.frame], r.term)) {
      *energy = e;  // (the shape prior is the sequence's: frame −1, above)
    }
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
  report.finish_cpu_seconds = CpuSeconds() - finish_cpu;
  report.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

NormalEquations SequenceNormalEquations(const Fitter& fitter,
                                        const std::vector<Observation>& observations,
                                        const std::vector<BodyParameters>& initial,
                                        const SequenceOptions& options,
                                        bool reuse_pose_prior_products) {
  Validate(fitter, observations, initial, options);
  const int num_frames = static_cast<int>(observations.size());
  NormalEquations out;
  SequenceProblem banded(fitter, observations, initial, options.temporal, false);
  BlockBandedSystem system(num_frames, kFrame, static_cast<int>(banded.betas.size()));
  banded.evaluation.PrepareForEvaluation(true, true);
  BandedAssembly assembly(banded.residuals, &banded.frames, &banded.betas,
                          reuse_pose_prior_products);
  assembly.Evaluate(&system);
  out.pose_prior_products_computed = assembly.pose_prior_products_computed();
  out.pose_prior_products_reused = assembly.pose_prior_products_reused();
  out.hessian = system.Dense();
  out.gradient = system.gradient();

  SequenceProblem alike(fitter, observations, initial, options.temporal, true);
  ceres::Problem::Options problem_options;
  problem_options.cost_function_ownership = ceres::DO_NOT_TAKE_OWNERSHIP;
  problem_options.evaluation_callback = &alike.evaluation;
  ceres::Problem problem(problem_options);
  ceres::Problem::EvaluateOptions evaluate;
  for (BodyParameters& p : alike.frames) {
    for (const auto& [block, size] : {std::pair<double*, int>{p.global_orient.data(), 3},
                                      {p.body_pose.data(), kBodyPoseSize},
                                      {p.transl.data(), 3}}) {
      problem.AddParameterBlock(block, size);
      evaluate.parameter_blocks.push_back(block);
    }
  }
  problem.AddParameterBlock(alike.betas.data(), static_cast<int>(alike.betas.size()));
  evaluate.parameter_blocks.push_back(alike.betas.data());
  for (const Residual& r : alike.residuals) {
    if (r.cost->num_residuals() > 0) problem.AddResidualBlock(r.cost.get(), nullptr, r.blocks);
  }
  double cost = 0.0;
  std::vector<double> residuals;
  ceres::CRSMatrix jacobian;
  Require(problem.Evaluate(evaluate, &cost, &residuals, nullptr, &jacobian),
          "initial: the energy cannot be evaluated at the start");
  out.residuals = Eigen::Map<const Eigen::VectorXd>(residuals.data(),
                                                    static_cast<Eigen::Index>(residuals.size()));
  out.jacobian = Eigen::MatrixXd::Zero(jacobian.num_rows, jacobian.num_cols);
  for (int i = 0; i < jacobian.num_rows; ++i) {
    for (int k = jacobian.rows[i]; k < jacobian.rows[i + 1]; ++k) {
      out.jacobian(i, jacobian.cols[k]) = jacobian.values[k];
    }
  }
  return out;
}

}  // namespace smplify
