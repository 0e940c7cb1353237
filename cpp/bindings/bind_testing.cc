// smplify._core._testing: hooks for the test suite only, kept out of the public API.
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include <pybind11/eigen.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "../body_evaluation.h"
#include "../convergence_stop.h"
#include "../fault_injection.h"
#include "../fitter.h"
#include "../held_joints.h"
#include "../leg_flip.h"
#include "../reading_score.h"
#include "../start_scorer.h"
#include "bindings.h"

namespace py = pybind11;

namespace smplify {

void BindTesting(py::module_& m) {
  py::module_ testing = m.def_submodule(
      "_testing", "Test-only hooks of the C++ core (not part of smplify's API).");
  testing.def(
      "with_fault",
      [](py::handle fitter, const std::string& kind, int stage, int evaluation) {
        InjectedFault fault;
        if (kind == "nan_residual") {
          fault.kind = InjectedFault::kNanResidual;
        } else if (kind == "nan_jacobian") {
          fault.kind = InjectedFault::kNanJacobian;
        } else if (kind == "fail") {
          fault.kind = InjectedFault::kFail;
        } else {
          throw std::invalid_argument("kind must be 'nan_residual', 'nan_jacobian' or 'fail'");
        }
        if (stage < 0 || evaluation < 0) {
          throw std::invalid_argument("stage and evaluation must be >= 0");
        }
        fault.stage = stage;
        fault.evaluation = evaluation;
        return FitterWithFault(fitter, fault);
      },
      py::arg("fitter"), py::arg("kind"), py::arg("stage"), py::arg("evaluation"),
      "A copy of the _core.Fitter `fitter` whose stage `stage` (0-based) gets an extra residual "
      "block that goes bad on its `evaluation`-th call: 'nan_residual', 'nan_jacobian' "
      "(counting only calls with Jacobians) or 'fail' (the cost reports it cannot evaluate).");
  testing.def("with_end_stage", &FitterWithEndStage, py::arg("fitter"), py::arg("end_stage"),
              "A copy of the _core.Fitter `fitter` whose prior starts run their first "
              "`end_stage` stages only (1 <= end_stage < the number of stages), none pruned, "
              "as a pruned start's head runs them: the energies at the last stage's weights, "
              "no β-held solve (FitOptions prune_starts; tests/test_prune_starts.py).");
  testing.def(
      "pose_prior_choice",
      [](py::handle fitter,
         const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>& poses) {
        if (poses.cols() != kBodyPoseSize) throw std::invalid_argument("poses must be N x 69");
        const FitContext& context = CoreFitter(fitter).context();
        ComponentChoice choice(context.prior, context.prior_bounds);
        const Eigen::Index n = poses.rows();
        Eigen::VectorXi chosen(n), best(n);
        Eigen::MatrixXd chosen_rows = Eigen::MatrixXd::Zero(n, 70), best_rows = chosen_rows;
        for (Eigen::Index i = 0; i < n; ++i) {
          const Eigen::VectorXd x = poses.row(i).transpose();
          Eigen::Matrix<double, 70, 1> rows = Eigen::Matrix<double, 70, 1>::Zero();
          chosen(i) = choice.Best(x, &rows);
          chosen_rows.row(i) = rows.transpose();
          rows.setZero();
          best(i) = PosePriorCost::BestComponent(context.prior, x, &rows);
          best_rows.row(i) = rows.transpose();
        }
        return py::make_tuple(chosen, chosen_rows, best, best_rows, choice.computed());
      },
      py::arg("fitter"), py::arg("poses"),
      "The pose prior's component at each of N body poses (N x 69, in turn, as one solve "
      "evaluates them) by ComponentChoice (cpp/pose_prior_term.h) and by BestComponent: "
      "(choice's k* (N), its rows (N x 70), BestComponent's k* (N), its rows, the triangular "
      "products the choice computed).");
  testing.def(
      "reading_score",
      [](const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>& keypoints,
         const py::object& readings, double sigma) {
        if (keypoints.cols() != 3) throw std::invalid_argument("keypoints must be K x 3");
        const ReadingMixture mixture = ToReadings(readings);
        if (mixture.log_weights.size() != static_cast<Eigen::Index>(mixture.keypoints.size())) {
          throw std::invalid_argument("readings: one log weight per reading");
        }
        for (const MatX3& r : mixture.keypoints) {
          if (r.rows() != keypoints.rows()) throw std::invalid_argument("readings: K rows each");
        }
        return ReadingScore(keypoints, mixture, sigma);
      },
      py::arg("keypoints"), py::arg("readings"), py::arg("sigma"),
      "R(X) of cpp/reading_score.h for keypoints X (K x 3) and readings (list, log weights).");
  testing.def(
      "start_features",
      [](const Eigen::VectorXd& default_score, const Eigen::VectorXd& selection_data,
         const Eigen::VectorXd& reading, const Eigen::MatrixXd& energies,
         const std::vector<bool>& hypothesis, const Eigen::VectorXd& log_score_gap,
         const std::vector<bool>& flipped, const std::vector<MatX3>& joints,
         const Eigen::VectorXd& depth_disorder) {
        const Eigen::Index n = default_score.size();
        if (selection_data.size() != n || reading.size() != n || energies.rows() != n ||
            depth_disorder.size() != n ||
            energies.cols() != 5 || static_cast<Eigen::Index>(hypothesis.size()) != n ||
            log_score_gap.size() != n || static_cast<Eigen::Index>(flipped.size()) != n ||
            static_cast<Eigen::Index>(joints.size()) != n) {
          throw std::invalid_argument("start_features: N of each (energies N x 5)");
        }
        std::vector<StartCandidate> candidates(n);
        for (Eigen::Index i = 0; i < n; ++i) {
          StartCandidate& c = candidates[i];
          if (joints[i].rows() != kNumJoints) throw std::invalid_argument("joints: 24 x 3 each");
          c.default_score = default_score(i);
          c.selection_data = selection_data(i);
          c.reading_score = reading(i);
          c.energies.pose = energies(i, 0);
          c.energies.angle = energies(i, 1);
          c.energies.shape = energies(i, 2);
          c.keypoints_3d = energies(i, 3);
          c.depth_disorder = depth_disorder(i);
          c.energies.interpenetration = energies(i, 4);
          c.hypothesis = hypothesis[i];
          c.log_score_gap = hypothesis[i] ? log_score_gap(i) : 0.0;
          c.flipped = flipped[i];
          c.joints = joints[i];
        }
        return StartFeatures(candidates);
      },
      py::arg("default_score"), py::arg("selection_data"), py::arg("reading"),
      py::arg("energies"), py::arg("hypothesis"), py::arg("log_score_gap"), py::arg("flipped"),
      py::arg("joints"), py::arg("depth_disorder"),
      "StartFeatures of cpp/start_scorer.h (N x F) of N starts; energies N x 5: pose, angle, "
      "shape, keypoints_3d (against the observation's 3D), interpenetration; depth_disorder "
      "N: O of each start.");
  testing.def(
      "depth_order_disagreement",
      [](const MatX3& keypoints, const MatX3& reference, const Eigen::VectorXd& weights) {
        return DepthOrderDisagreement(keypoints, reference, weights);
      },
      py::arg("keypoints"), py::arg("reference"), py::arg("weights"),
      "DepthOrderDisagreement of cpp/start_scorer.h: O of K x 3 keypoints against a K x 3 "
      "reference (0 rows: none) and K weights.");
  testing.def(
      "start_scores",
      [](const Eigen::MatrixXd& features, const Eigen::VectorXd& weights) {
        return StartScores(features, weights);
      },
      py::arg("features"), py::arg("weights"),
      "StartScores of cpp/start_scorer.h: s (N) of features (N x F), weights [W, b, v].");
  testing.def(
      "flip_leg_depth",
      [](py::handle fitter, const Eigen::VectorXd& pose, const Eigen::VectorXd& betas,
         const Eigen::Vector3d& transl, const std::string& side) {
        if (side != "left" && side != "right") {
          throw std::invalid_argument("side must be 'left' or 'right'");
        }
        const BodyModel& model = CoreFitter(fitter).context().model;
        if (betas.size() != model.num_betas()) throw std::invalid_argument("wrong number of betas");
        const BodyParameters p = ToParameters(pose, betas, transl);
        double turned = 0.0;
        const BodyParameters out =
            FlipLegDepth(model, p, side == "left" ? kLeftLeg : kRightLeg, &turned);
        return py::make_tuple(Eigen::VectorXd(out.Pose()), turned);
      },
      py::arg("fitter"), py::arg("pose"), py::arg("betas"), py::arg("transl"), py::arg("side"),
      "cpp/leg_flip.h FlipLegDepth on a _core.Fitter's model: (pose (72,), turned radians).");
  testing.def(
      "body_keypoints_in_turn",
      [](py::handle fitter, const std::vector<Eigen::VectorXd>& poses,
         const std::vector<Eigen::VectorXd>& betas,
         const std::vector<Eigen::VectorXd>& transls) {
        const FitContext& context = CoreFitter(fitter).context();
        if (poses.empty() || betas.size() != poses.size() || transls.size() != poses.size()) {
          throw std::invalid_argument("poses, betas, transls: one or more points, as many of each");
        }
        BodyParameters p = ToParameters(poses[0], betas[0], transls[0]);
        if (p.betas.size() != context.model.num_betas()) {
          throw std::invalid_argument("wrong number of betas");
        }
        BodyEvaluation body(context.model, context.targets, p);
        for (size_t i = 0; i < poses.size(); ++i) {
          p = ToParameters(poses[i], betas[i], transls[i]);
          body.Update(true);
        }
        const int num_keypoints = context.targets.size();
        Eigen::MatrixXd d_pose(3 * num_keypoints, kPoseSize);
        Eigen::MatrixXd d_betas(3 * num_keypoints, context.model.num_betas());
        for (int k = 0; k < num_keypoints; ++k) {
          d_pose.middleRows<3>(3 * k) = body.keypoint_pose_jacobian(k);
          d_betas.middleRows<3>(3 * k) = body.keypoint_betas_jacobian(k);
        }
        return py::make_tuple(Eigen::MatrixXd(body.keypoints()), d_pose, d_betas);
      },
      py::arg("fitter"), py::arg("poses"), py::arg("betas"), py::arg("transls"),
      "ONE cpp/body_evaluation.h BodyEvaluation of a _core.Fitter's model and targets, "
      "evaluated with Jacobians at each point (pose (72,), betas, transl (3,)) in turn: the "
      "last point's (keypoints K x 3, d/dpose 3K x 72, d/dbetas 3K x B).");
  testing.def(
      "split_pose_cost",
      [](const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>& a,
         const std::vector<int>& block_sizes, int pose_block, const std::vector<int>& held_joints,
         const Eigen::VectorXd& x, const std::vector<bool>& wanted) {
        // The linear cost r = A x over blocks of `block_sizes` (block pose_block: θ, 69).
        class Linear : public ceres::CostFunction {
         public:
          Linear(const Eigen::MatrixXd& a, const std::vector<int>& sizes) : a_(a) {
            for (int size : sizes) mutable_parameter_block_sizes()->push_back(size);
            set_num_residuals(static_cast<int>(a.rows()));
          }
          bool Evaluate(double const* const* parameters, double* residuals,
                        double** jacobians) const override {
            Eigen::Map<Eigen::VectorXd> r(residuals, a_.rows());
            r.setZero();
            int column = 0;
            for (size_t b = 0; b < parameter_block_sizes().size(); ++b) {
              const int size = parameter_block_sizes()[b];
              r += a_.middleCols(column, size) *
                   Eigen::Map<const Eigen::VectorXd>(parameters[b], size);
              if (jacobians != nullptr && jacobians[b] != nullptr) {
                Eigen::Map<Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
                    jacobians[b], a_.rows(), size) = a_.middleCols(column, size);
              }
              column += size;
            }
            return true;
          }

         private:
          Eigen::MatrixXd a_;
        };
        int columns = 0;
        for (int size : block_sizes) columns += size;
        if (a.cols() != columns || x.size() != columns || pose_block < 0 ||
            pose_block >= static_cast<int>(block_sizes.size()) ||
            block_sizes[static_cast<size_t>(pose_block)] != kBodyPoseSize) {
          throw std::invalid_argument("A must be R x (sum of block sizes), x of that size, and "
                                      "block pose_block of 69 values");
        }
        const Linear inner(a, block_sizes);
        const HeldJoints held(held_joints);
        const SplitPoseCost split(&inner, pose_block, held.runs());
        const auto& sizes = split.parameter_block_sizes();
        if (wanted.size() != sizes.size()) throw std::invalid_argument("one wanted flag a block");
        std::vector<const double*> parameters;
        std::vector<double*> jacobians;
        std::vector<Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> out;
        int at = 0;
        for (const int size : sizes) out.emplace_back(a.rows(), size);
        for (size_t b = 0; b < sizes.size(); ++b) {
          parameters.push_back(x.data() + at);
          jacobians.push_back(wanted[b] ? out[b].data() : nullptr);
          at += sizes[b];
        }
        Eigen::VectorXd r(a.rows());
        if (!split.Evaluate(parameters.data(), r.data(), jacobians.data())) {
          throw std::runtime_error("SplitPoseCost::Evaluate failed");
        }
        py::list blocks;
        for (size_t b = 0; b < sizes.size(); ++b) {
          if (wanted[b]) {
            blocks.append(Eigen::MatrixXd(out[b]));
          } else {
            blocks.append(py::none());
          }
        }
        return py::make_tuple(r, blocks, py::cast(sizes));
      },
      py::arg("a"), py::arg("block_sizes"), py::arg("pose_block"), py::arg("held_joints"),
      py::arg("x"), py::arg("wanted"),
      "cpp/held_joints.h SplitPoseCost around r = A x (blocks of `block_sizes`, block "
      "`pose_block` θ): evaluated at x (its blocks in turn, θ's runs in its place) with the "
      "Jacobian blocks `wanted` (one flag per outer block): (r, [Jacobian or None per outer "
      "block], outer block sizes).");
  testing.def(
      "stop_rule_solve",
      [](const Eigen::VectorXd& t, const Eigen::VectorXd& y, const Eigen::Vector2d& start,
         double tolerance, int rule) {
        // r_i = b·exp(a·t_i) − y_i over x = (a, b), solved as the Fitter's stages are.
        class Exponential : public ceres::SizedCostFunction<1, 2> {
         public:
          Exponential(double t, double y) : t_(t), y_(y) {}
          bool Evaluate(double const* const* x, double* r, double** jacobians) const override {
            const double e = std::exp(x[0][0] * t_);
            r[0] = x[0][1] * e - y_;
            if (jacobians != nullptr && jacobians[0] != nullptr) {
              jacobians[0][0] = x[0][1] * t_ * e;
              jacobians[0][1] = e;
            }
            return true;
          }

         private:
          double t_, y_;
        };
        // Records each iteration and the point it leaves (update_state_every_iteration).
        class Recorder : public ceres::IterationCallback {
         public:
          explicit Recorder(const double* x) : x_(x) {}
          ceres::CallbackReturnType operator()(const ceres::IterationSummary& s) override {
            rows.push_back({static_cast<double>(s.iteration), s.step_is_successful ? 1.0 : 0.0,
                            s.cost, s.cost_change, s.gradient_norm, x_[0], x_[1]});
            return ceres::SOLVER_CONTINUE;
          }
          std::vector<std::vector<double>> rows;

         private:
          const double* x_;
        };
        if (t.size() != y.size() || t.size() < 2) throw std::invalid_argument("t, y: N >= 2 each");
        if (!(tolerance >= 0) || (rule < 0 || rule > 2)) {
          throw std::invalid_argument("tolerance >= 0, rule 0, 1 or 2");
        }
        Eigen::Vector2d x = start;
        ceres::Problem problem;
        for (Eigen::Index i = 0; i < t.size(); ++i) {
          problem.AddResidualBlock(new Exponential(t(i), y(i)), nullptr, x.data());
        }
        ceres::Solver::Options options;
        options.trust_region_strategy_type = ceres::DOGLEG;
        options.linear_solver_type = ceres::DENSE_NORMAL_CHOLESKY;
        options.logging_type = ceres::SILENT;
        options.update_state_every_iteration = true;
        Recorder recorder(x.data());
        ConvergenceStop stop({tolerance, static_cast<StopRule>(rule)});
        options.callbacks.push_back(&recorder);
        if (tolerance > 0) options.callbacks.push_back(&stop);
        ceres::Solver::Summary summary;
        ceres::Solve(options, &problem, &summary);
        return py::make_tuple(Eigen::VectorXd(x), stop.stopped(), stop.message(),
                              ceres::TerminationTypeToString(summary.termination_type),
                              recorder.rows);
      },
      py::arg("t"), py::arg("y"), py::arg("start"), py::arg("tolerance"), py::arg("rule"),
      "cpp/convergence_stop.h on the least squares of b·exp(a·t) − y over (a, b) from `start` "
      "(Ceres' dogleg; tolerance 0: no stop): (x, stopped, message, termination, per "
      "iteration [iteration, successful, cost, cost_change, gradient_norm, a, b] where Ceres "
      "left x).");
}

}  // namespace smplify
