// Python bindings of the offline sequence fit and of the temporal term: convert NumPy to the
// core's structs, release the GIL around the solve, convert the report back to a dict.
#include <array>
#include <cmath>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <ceres/cost_function.h>
#include <pybind11/eigen.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "../block_banded.h"
#include "../sequence_fitter.h"
#include "../track_term.h"
#include "../tracked_pose_prior_term.h"
#include "bindings.h"

namespace py = pybind11;

namespace smplify {
namespace {

using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

void Require(bool condition, const std::string& message) {
  if (!condition) throw std::invalid_argument(message);
}

TemporalWeights ToWeights(const Eigen::Vector3d& w) { return {w(0), w(1), w(2)}; }

// A term's residuals at `blocks` and its Jacobian over all its parameter blocks side by side
// (the test helpers' output); `failure` is the error when the term cannot be evaluated there.
py::tuple ResidualsAndJacobian(const ceres::CostFunction& cost, const double* const* blocks,
                               const char* failure) {
  const int rows = cost.num_residuals();
  Eigen::VectorXd residuals(rows);
  std::vector<RowMatrix> jac;
  std::vector<double*> pointers;
  int columns = 0;
  for (int size : cost.parameter_block_sizes()) {
    jac.emplace_back(rows, size);
    columns += size;
  }
  for (RowMatrix& j : jac) pointers.push_back(j.data());
  if (!cost.Evaluate(blocks, residuals.data(), pointers.data())) {
    throw std::runtime_error(failure);
  }
  RowMatrix full(rows, columns);
  int column = 0;
  for (const RowMatrix& j : jac) {
    full.middleCols(column, j.cols()) = j;
    column += static_cast<int>(j.cols());
  }
  return py::make_tuple(residuals, full);
}

// The arrays of a sequence as one observation and one start per frame (checked shapes).
void ToSequence(const RowMatrix& keypoints, const RowMatrix& weights, double focal_length,
                const Eigen::Vector2d& center, const RowMatrix& initial_pose,
                const Eigen::VectorXd& initial_betas, const RowMatrix& initial_transl,
                const std::optional<RowMatrix>& keypoints_3d, double keypoints_3d_weight,
                std::vector<Observation>* observations_out,
                std::vector<BodyParameters>* initial_out) {
  const auto num_frames = weights.rows();
  const auto num_keypoints = weights.cols();
  Require(keypoints.rows() == num_frames * num_keypoints && keypoints.cols() == 2,
          "keypoints must be (T * K) x 2 with weights T x K");
  Require(initial_pose.rows() == num_frames && initial_pose.cols() == kPoseSize,
          "initial_pose must be T x 72");
  Require(initial_transl.rows() == num_frames && initial_transl.cols() == 3,
          "initial_transl must be T x 3");
  Require(!keypoints_3d ||
              (keypoints_3d->rows() == num_frames * num_keypoints && keypoints_3d->cols() == 3),
          "keypoints_3d must be None or (T * K) x 3 with weights T x K");
  std::vector<Observation>& observations = *observations_out;
  std::vector<BodyParameters>& initial = *initial_out;
  observations.assign(num_frames, Observation());
  initial.assign(num_frames, BodyParameters());
  for (Eigen::Index t = 0; t < num_frames; ++t) {
    Observation& o = observations[t];
    o.keypoints = keypoints.middleRows(t * num_keypoints, num_keypoints);
    o.weights = weights.row(t).transpose();
    o.confidence = o.weights;
    o.camera.focal_length = focal_length;
    o.camera.center = center;
    if (keypoints_3d) o.keypoints_3d = keypoints_3d->middleRows(t * num_keypoints, num_keypoints);
    o.keypoints_3d_weight = keypoints_3d_weight;
    initial[t] = ToParameters(initial_pose.row(t).transpose(), initial_betas,
                              initial_transl.row(t).transpose());
  }
}

py::dict FitSequenceDict(py::handle py_fitter, const RowMatrix& keypoints,
                         const RowMatrix& weights, double focal_length,
                         const Eigen::Vector2d& center, const RowMatrix& initial_pose,
                         const Eigen::VectorXd& initial_betas, const RowMatrix& initial_transl,
                         const Eigen::Vector3d& temporal_weights, int max_iterations,
                         double function_tolerance, bool iterative,
                         const std::vector<int>& fixed_frames, bool hold_betas,
                         const std::optional<RowMatrix>& keypoints_3d,
                         double keypoints_3d_weight, double initial_damping, int retries) {
  const Fitter& fitter = CoreFitter(py_fitter);
  const auto num_frames = weights.rows();
  std::vector<Observation> observations;
  std::vector<BodyParameters> initial;
  ToSequence(keypoints, weights, focal_length, center, initial_pose, initial_betas,
             initial_transl, keypoints_3d, keypoints_3d_weight, &observations, &initial);
  SequenceOptions options;
  options.temporal = ToWeights(temporal_weights);
  options.max_iterations = max_iterations;
  options.function_tolerance = function_tolerance;
  options.iterative = iterative;
  options.fixed_frames = fixed_frames;
  options.hold_betas = hold_betas;
  options.initial_damping = initial_damping;
  options.retries = retries;
  SequenceReport r;
  {
    py::gil_scoped_release release;
    r = FitSequence(fitter, observations, initial, options);
  }
  RowMatrix pose(num_frames, kPoseSize), transl(num_frames, 3), energies(num_frames, 6);
  for (Eigen::Index t = 0; t < num_frames; ++t) {
    pose.row(t) = r.frames[t].Pose().transpose();
    transl.row(t) = r.frames[t].transl.transpose();
    const TermEnergies& e = r.energies[t];
    energies.row(t) << e.data, e.pose, e.angle, e.interpenetration, r.temporal_energies(t),
        e.keypoints_3d;
  }
  py::dict d;
  d["betas"] = r.betas;
  d["pose"] = pose;
  d["transl"] = transl;
  d["energies"] = energies;  // columns: data, pose, angle, interpenetration, temporal,
                             // keypoints_3d
  d["shape_energy"] = r.shape_energy;
  d["num_observed"] = r.num_observed;
  d["iterations"] = r.iterations;
  d["rejected_steps"] = r.rejected_steps;
  d["termination"] = r.termination;
  d["initial_cost"] = r.initial_cost;
  d["final_cost"] = r.final_cost;
  d["joints"] = RowMatrix(r.joints);
  d["keypoints"] = RowMatrix(r.keypoints);
  d["seconds"] = r.seconds;
  d["solver"] = r.solver;
  d["linear_solver_seconds"] = r.linear_solver_seconds;
  d["evaluation_seconds"] = r.evaluation_seconds;
  // The block-banded solve's steps (sequence_fitter.h SequenceStep), for measuring it.
  py::list steps;
  for (const SequenceStep& s : r.steps) {
    steps.append(py::dict(py::arg("accepted") = s.accepted, py::arg("damping") = s.damping,
                          py::arg("cost") = s.cost, py::arg("trial_cost") = s.trial_cost,
                          py::arg("predicted") = s.predicted, py::arg("jacobians") = s.jacobians,
                          py::arg("linear_cpu_seconds") = s.linear_cpu_seconds,
                          py::arg("evaluation_cpu_seconds") = s.evaluation_cpu_seconds));
  }
  d["steps"] = steps;
  d["first_evaluation_cpu_seconds"] = r.first_evaluation_cpu_seconds;
  d["finish_cpu_seconds"] = r.finish_cpu_seconds;
  return d;
}

}  // namespace

void BindSequence(py::module_& m) {
  m.def("fit_sequence", &FitSequenceDict, py::arg("fitter"), py::arg("keypoints"),
        py::arg("weights"), py::arg("focal_length"), py::arg("center"), py::arg("initial_pose"),
        py::arg("initial_betas"), py::arg("initial_transl"), py::arg("temporal_weights"),
        py::arg("max_iterations"), py::arg("function_tolerance"), py::arg("iterative") = false,
        py::arg("fixed_frames") = std::vector<int>(), py::arg("hold_betas") = false,
        py::arg("keypoints_3d") = py::none(), py::arg("keypoints_3d_weight") = 0.0,
        py::arg("initial_damping") = SequenceOptions().initial_damping,
        py::arg("retries") = SequenceOptions().retries,
        "One sparse solve over a sequence (shared betas, per-frame terms at the fitter's last "
        "stage, temporal terms; fixed_frames and, with hold_betas, β held at their start; "
        "keypoints_3d (T * K) x 3, NaN rows unknown: each frame's E_3D at keypoints_3d_weight; "
        "retries: rejected steps not counted against max_iterations, up to this many); "
        "returns a dict of stacked parameters, energies and report.");
  m.def(
      "sequence_normal_equations",
      [](py::handle py_fitter, const RowMatrix& keypoints, const RowMatrix& weights,
         double focal_length, const Eigen::Vector2d& center, const RowMatrix& initial_pose,
         const Eigen::VectorXd& initial_betas, const RowMatrix& initial_transl,
         const Eigen::Vector3d& temporal_weights, const std::optional<RowMatrix>& keypoints_3d,
         double keypoints_3d_weight, bool reuse_pose_prior_products) {
        const Fitter& fitter = CoreFitter(py_fitter);
        std::vector<Observation> observations;
        std::vector<BodyParameters> initial;
        ToSequence(keypoints, weights, focal_length, center, initial_pose, initial_betas,
                   initial_transl, keypoints_3d, keypoints_3d_weight, &observations, &initial);
        SequenceOptions options;
        options.temporal = ToWeights(temporal_weights);
        NormalEquations n;
        {
          py::gil_scoped_release release;
          n = SequenceNormalEquations(fitter, observations, initial, options,
                                      reuse_pose_prior_products);
        }
        py::dict d;
        d["hessian"] = RowMatrix(n.hessian);
        d["gradient"] = n.gradient;
        d["jacobian"] = RowMatrix(n.jacobian);
        d["residuals"] = n.residuals;
        d["pose_prior_products_computed"] = n.pose_prior_products_computed;
        d["pose_prior_products_reused"] = n.pose_prior_products_reused;
        return d;
      },
      py::arg("fitter"), py::arg("keypoints"), py::arg("weights"), py::arg("focal_length"),
      py::arg("center"), py::arg("initial_pose"), py::arg("initial_betas"),
      py::arg("initial_transl"), py::arg("temporal_weights"),
      py::arg("keypoints_3d") = py::none(), py::arg("keypoints_3d_weight") = 0.0,
      py::arg("reuse_pose_prior_products") = true,
      "The sequence fit's normal equations at the start (arguments as fit_sequence's): the "
      "block-banded assembly's JᵀJ ('hessian') and −Jᵀr ('gradient'), and Ceres' own "
      "Jacobian ('jacobian') and residuals of the same energy, for the tests; "
      "reuse_pose_prior_products: the assembly's cache of the pose prior's JᵀJ on (as in the "
      "fit) or off, and how many of those products it computed and reused "
      "('pose_prior_products_computed', 'pose_prior_products_reused').");
  m.def(
      "block_banded_solve",
      [](const RowMatrix& h, const Eigen::VectorXd& g, int num_frames, int frame_size,
         int border_size, double damping, const std::vector<int>& fixed,
         const std::vector<double>& then) -> py::object {
        const int n = num_frames * frame_size + border_size;
        Require(num_frames >= 1 && frame_size >= 1 && border_size >= 0 && h.rows() == n &&
                    h.cols() == n && g.size() == n,
                "expected h (n, n) and g (n,), n = num_frames * frame_size + border_size");
        for (int i : fixed) Require(i >= 0 && i < n, "fixed: indices in [0, n)");
        BlockBandedSystem system(num_frames, frame_size, border_size);
        auto frame = [&](int t) { return t < num_frames ? t : -1; };  // t = num_frames: β
        for (int ti = 0; ti <= num_frames; ++ti) {
          for (int tj = 0; tj <= ti; ++tj) {
            if (ti < num_frames && ti - tj > BlockBandedSystem::kBand) continue;
            const int rows = ti < num_frames ? frame_size : border_size;
            const int cols = tj < num_frames ? frame_size : border_size;
            if (rows == 0 || cols == 0) continue;
            system.AddBlock(frame(ti), 0, frame(tj), 0,
                            h.block(ti * frame_size, tj * frame_size, rows, cols));
          }
        }
        system.gradient() = g;
        Eigen::VectorXd delta;
        if (then.empty()) {
          if (!system.Solve(damping, fixed, &delta)) {
            throw std::invalid_argument("h: the damped matrix is not positive definite");
          }
          return py::cast(delta);
        }
        // One solve per damping, all through one reused workspace (as the joint solve's
        // Levenberg-Marquardt steps): a row each.
        BlockBandedSystem::Workspace workspace;
        RowMatrix out(static_cast<Eigen::Index>(then.size()) + 1, n);
        for (size_t k = 0; k <= then.size(); ++k) {
          if (!system.Solve(k == 0 ? damping : then[k - 1], fixed, &delta, &workspace)) {
            throw std::invalid_argument("h: the damped matrix is not positive definite");
          }
          out.row(static_cast<Eigen::Index>(k)) = delta.transpose();
        }
        return py::cast(out);
      },
      py::arg("h"), py::arg("g"), py::arg("num_frames"), py::arg("frame_size"),
      py::arg("border_size"), py::arg("damping") = 0.0, py::arg("fixed") = std::vector<int>(),
      py::arg("then") = std::vector<double>(),
      "Solves (H + damping diag(H)) x = g with H block-banded (cpp/block_banded.h) plus a "
      "border; only H's band and border are read (for tests). `then`: more dampings, solved "
      "after the first through the same reused workspace; the solutions as rows (k + 1, n).");
  m.def(
      "temporal_term",
      [](const RowMatrix& orient, const RowMatrix& body_pose, const RowMatrix& transl,
         const Eigen::Vector3d& weights) {
        Require(orient.rows() == 3 && orient.cols() == 3 && body_pose.rows() == 3 &&
                    body_pose.cols() == 69 && transl.rows() == 3 && transl.cols() == 3,
                "expected orient (3, 3), body_pose (3, 69), transl (3, 3): frames t-1, t, t+1");
        const TemporalCost cost(ToWeights(weights));
        const double* blocks[9];
        for (int f = 0; f < 3; ++f) {
          blocks[f] = orient.row(f).data();
          blocks[3 + f] = body_pose.row(f).data();
          blocks[6 + f] = transl.row(f).data();
        }
        return ResidualsAndJacobian(cost, blocks, "the temporal term cannot be evaluated here");
      },
      py::arg("orient"), py::arg("body_pose"), py::arg("transl"), py::arg("weights"),
      "The temporal term's 81 residuals and its Jacobian (81 x 225) over [orient a, b, c, "
      "body_pose a, b, c, transl a, b, c].");
  m.def(
      "track_term",
      [](const Eigen::Matrix<double, 75, 1>& before, const Eigen::Matrix<double, 75, 1>& last,
         const Eigen::Matrix<double, 75, 1>& frame, const Eigen::Vector3d& weights,
         double velocity_ratio, const std::array<double, 2>& gaps) {
        const TrackCost cost(before, last, ToWeights(weights), velocity_ratio, gaps[0], gaps[1]);
        const double* blocks[3] = {frame.data(), frame.data() + 3, frame.data() + 72};
        return ResidualsAndJacobian(cost, blocks, "E_track cannot be evaluated here");
      },
      py::arg("before"), py::arg("last"), py::arg("frame"), py::arg("weights"),
      py::arg("velocity_ratio"), py::arg("gaps") = std::array<double, 2>{1.0, 1.0},
      "The online track's E_track rows (cpp/track_term.h, 82) and their Jacobian (82 x 75) "
      "over the frame's [orient, body_pose, transl]; frames as 75 values each (for tests).");
  m.def(
      "track_root_term",
      [](const Eigen::Matrix<double, 75, 1>& before, const Eigen::Matrix<double, 75, 1>& last,
         const Eigen::Matrix<double, 75, 1>& frame, const Eigen::Vector3d& weights,
         double velocity_ratio, const std::array<double, 2>& gaps) {
        const TrackCost track(before, last, ToWeights(weights), velocity_ratio, gaps[0], gaps[1]);
        const TrackRootCost cost(track);
        const double* blocks[2] = {frame.data(), frame.data() + 72};
        return ResidualsAndJacobian(cost, blocks, "E_track cannot be evaluated here");
      },
      py::arg("before"), py::arg("last"), py::arg("frame"), py::arg("weights"),
      py::arg("velocity_ratio"), py::arg("gaps") = std::array<double, 2>{1.0, 1.0},
      "E_track's rows without the body pose's (cpp/track_term.h TrackRootCost, 13) and their "
      "Jacobian (13 x 6) over the frame's [orient, transl] (for tests).");
  m.def(
      "tracked_pose_prior_term",
      [](const RowMatrix& means, const std::vector<RowMatrix>& precision_cholesky,
         const Eigen::VectorXd& neg_log_c, double weight, double track_weight,
         const Eigen::VectorXd& track_target, const Eigen::VectorXd& body_pose) {
        Require(means.cols() == kBodyPoseSize && means.rows() >= 1 &&
                    static_cast<Eigen::Index>(precision_cholesky.size()) == means.rows() &&
                    neg_log_c.size() == means.rows(),
                "prior: M x 69 means, M precision factors and M constants");
        for (const RowMatrix& L : precision_cholesky) {
          Require(L.rows() == kBodyPoseSize && L.cols() == kBodyPoseSize,
                  "prior: precision factors must be 69 x 69");
          Require(L.allFinite(), "prior: precision factors must be finite");
        }
        Require(means.allFinite(), "prior: means must be finite");
        Require(neg_log_c.allFinite() && (neg_log_c.array() >= 0.0).all(),
                "prior: neg_log_c must be finite and >= 0");
        Require(std::isfinite(weight), "weight must be finite");
        Require(track_target.size() == kBodyPoseSize && body_pose.size() == kBodyPoseSize,
                "track_target and body_pose: 69 values each");
        Require(std::isfinite(track_weight) && track_weight > 0.0 &&
                    track_weight * track_weight > 0.0,
                "track_weight must be finite and > 0 (its square too)");
        Require(track_target.allFinite(), "track_target must be finite");
        PosePriorArrays prior;
        prior.means = means;
        for (const RowMatrix& L : precision_cholesky) prior.precision_cholesky.emplace_back(L);
        prior.neg_log_c = neg_log_c;
        const std::vector<PriorEigen> eigen = DecomposePrior(prior);
        const TrackedPosePriorCost cost(prior, eigen, FactorNorms(eigen), weight, track_weight,
                                        track_target);
        const double* blocks[1] = {body_pose.data()};
        return ResidualsAndJacobian(cost, blocks,
                                    "the pose prior cannot be evaluated at this pose");
      },
      py::arg("means"), py::arg("precision_cholesky"), py::arg("neg_log_c"), py::arg("weight"),
      py::arg("track_weight"), py::arg("track_target"), py::arg("body_pose"),
      "E_θ joined to the track's body-pose rows (cpp/tracked_pose_prior_term.h): its 70 rows "
      "and their Jacobian (70 x 69) at body_pose (69,), for the prior's means (M, 69), "
      "lower precision factors (M of 69 x 69) and -log c (M,), λ_θ = weight, the track's "
      "w = track_weight and m = track_target (69,) (for tests).");
}

}  // namespace smplify
