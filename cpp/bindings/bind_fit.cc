// Python bindings of the fitter: convert NumPy/dicts to the core's structs, release the GIL
// around the solve, convert the report back to a dict.
#include <memory>
#include <optional>

#include <pybind11/eigen.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "../fitter.h"
#include "bindings.h"

namespace py = pybind11;

namespace smplify {
namespace {

using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

FitOptions ToOptions(const py::dict& d) {
  FitOptions o;
  for (const auto& [key, value] : d) {
    const auto name = key.cast<std::string>();
    if (name == "pose_prior_weights") o.pose_prior_weights = value.cast<std::vector<double>>();
    else if (name == "shape_prior_weights") o.shape_prior_weights = value.cast<std::vector<double>>();
    else if (name == "angle_prior_ratio") o.angle_prior_ratio = value.cast<double>();
    else if (name == "angle_prior_scale") o.angle_prior_scale = value.cast<double>();
    else if (name == "interpenetration_weight") o.interpenetration_weight = value.cast<double>();
    else if (name == "sphere_sigma_scale") o.sphere_sigma_scale = value.cast<double>();
    else if (name == "data_sigma") o.data_sigma = value.cast<double>();
    else if (name == "depth_weight") o.depth_weight = value.cast<double>();
    else if (name == "max_iterations") o.max_iterations = value.cast<int>();
    else if (name == "function_tolerance") o.function_tolerance = value.cast<double>();
    else if (name == "flip") o.flip = value.cast<int>();
    else if (name == "sideways_ratio") o.sideways_ratio = value.cast<double>();
    else if (name == "threads") o.threads = value.cast<int>();
    else if (name == "refine_translation") o.refine_translation = value.cast<bool>();
    else if (name == "select_start_by_data") o.select_start_by_data = value.cast<bool>();
    else if (name == "selection_sigma") o.selection_sigma = value.cast<double>();
    else throw std::invalid_argument("unknown option '" + name + "'");
  }
  return o;
}

CapsuleArrays ToCapsules(const py::object& d) {
  CapsuleArrays c;
  if (d.is_none()) return c;
  c.joint = d["joint"].cast<std::vector<int>>();
  c.axis = d["axis"].cast<RowMatrix>();
  c.offset = d["offset"].cast<RowMatrix>();
  c.start = d["start"].cast<Eigen::VectorXd>();
  c.radius_mean = d["radius_mean"].cast<Eigen::VectorXd>();
  c.radius_betas = d["radius_betas"].cast<Eigen::MatrixXd>();
  c.length_mean = d["length_mean"].cast<Eigen::VectorXd>();
  c.length_betas = d["length_betas"].cast<Eigen::MatrixXd>();
  c.incompatible = d["incompatible"].cast<std::vector<std::pair<int, int>>>();
  return c;
}

Observation ToObservation(const Eigen::Ref<const RowMatrix>& keypoints,
                          const Eigen::VectorXd& weights, const Eigen::VectorXd& confidence,
                          const std::array<int, 4>& torso, double focal_length,
                          const Eigen::Vector2d& center) {
  if (keypoints.cols() != 2) throw std::invalid_argument("keypoints must be K x 2");
  Observation o;
  o.keypoints = keypoints;
  o.weights = weights;
  o.confidence = confidence;
  o.torso = torso;
  o.camera.focal_length = focal_length;
  o.camera.center = center;
  return o;
}

BodyParameters ToParameters(const Eigen::Ref<const Eigen::VectorXd>& pose,
                            const Eigen::VectorXd& betas, const Eigen::Ref<const Eigen::VectorXd>& transl) {
  if (pose.size() != kPoseSize || transl.size() != 3) {
    throw std::invalid_argument("pose must have 72 entries and transl 3");
  }
  BodyParameters p;
  p.global_orient = pose.head<3>();
  p.body_pose = pose.tail<69>();
  p.betas = betas;
  p.transl = transl;
  return p;
}

py::dict ToDict(const StageWeights& w) {
  py::dict d;
  d["pose"] = w.pose;
  d["shape"] = w.shape;
  d["angle"] = w.angle;
  d["interpenetration"] = w.interpenetration;
  return d;
}

py::dict ToDict(const TermEnergies& e) {
  py::dict d;
  d["data"] = e.data;
  d["pose"] = e.pose;
  d["angle"] = e.angle;
  d["shape"] = e.shape;
  d["interpenetration"] = e.interpenetration;
  d["total"] = e.total();
  return d;
}

py::dict ToDict(const FitReport& r) {
  py::dict d;
  d["global_orient"] = Eigen::VectorXd(r.parameters.global_orient);
  d["body_pose"] = Eigen::VectorXd(r.parameters.body_pose);
  d["betas"] = r.parameters.betas;
  d["transl"] = Eigen::VectorXd(r.parameters.transl);
  d["energy"] = ToDict(r.energies);
  py::list stages;
  for (const StageReport& s : r.stages) {
    py::dict stage;
    stage["name"] = s.name;
    stage["weights"] = ToDict(s.weights);
    stage["iterations"] = s.iterations;
    stage["fixed_shape_iterations"] = s.fixed_shape_iterations;
    stage["termination"] = s.termination;
    stage["initial_cost"] = s.initial_cost;
    stage["final_cost"] = s.final_cost;
    stage["seconds"] = s.seconds;
    stages.append(stage);
  }
  d["stages"] = stages;
  d["sideways"] = r.sideways;
  d["flipped"] = r.flipped;
  d["tried"] = r.tried_data_energies;
  d["initial_depth"] = r.initial_depth;
  d["num_starts"] = r.num_starts;
  d["num_spheres"] = r.num_spheres;
  d["num_sphere_pairs"] = r.num_sphere_pairs;
  d["joints"] = r.joints;
  d["vertices"] = r.vertices;
  d["keypoints"] = r.keypoints;
  d["seconds"] = r.seconds;
  return d;
}

// Holds the context's model alive as long as the fitter (FitContext keeps a reference).
struct PyFitter {
  py::object model_owner;
  std::unique_ptr<Fitter> fitter;
};

}  // namespace

void BindFit(py::module_& m) {
  py::class_<PyFitter>(m, "Fitter", "The staged SMPLify fit for one model and keypoint format.")
      .def(py::init([](py::object model, const std::vector<int>& joint,
                       const std::vector<std::vector<std::pair<int, double>>>& vertices,
                       const RowMatrix& prior_means, const std::vector<RowMatrix>& precision_cholesky,
                       const Eigen::VectorXd& neg_log_c, const py::object& capsules,
                       const py::dict& options, const std::vector<Eigen::VectorXd>& starts) {
             const BodyModel& body = model.cast<const BodyModel&>();
             PosePriorArrays prior;
             prior.means = prior_means;
             for (const auto& L : precision_cholesky) prior.precision_cholesky.emplace_back(L);
             prior.neg_log_c = neg_log_c;
             FitContext context{body, KeypointTargets{joint, vertices}, std::move(prior),
                                ToCapsules(capsules), ToOptions(options)};
             context.starts = starts;
             return PyFitter{model, std::make_unique<Fitter>(std::move(context))};
           }),
           py::arg("model"), py::arg("joint"), py::arg("vertices"), py::arg("prior_means"),
           py::arg("precision_cholesky"), py::arg("neg_log_c"), py::arg("capsules"),
           py::arg("options"), py::arg("starts"))
      .def(
          "fit",
          [](const PyFitter& self, const Eigen::Ref<const RowMatrix>& keypoints,
             const Eigen::VectorXd& weights, const Eigen::VectorXd& confidence,
             const std::array<int, 4>& torso, double focal_length, const Eigen::Vector2d& center,
             std::optional<Eigen::VectorXd> initial_pose, std::optional<Eigen::VectorXd> initial_betas,
             std::optional<Eigen::VectorXd> initial_transl) {
            const Observation o =
                ToObservation(keypoints, weights, confidence, torso, focal_length, center);
            std::optional<BodyParameters> initial;
            if (initial_pose && initial_betas && initial_transl) {
              initial = ToParameters(*initial_pose, *initial_betas, *initial_transl);
            }
            FitReport report;
            {
              py::gil_scoped_release release;
              report = self.fitter->Fit(o, initial ? &*initial : nullptr);
            }
            return ToDict(report);
          },
          py::arg("keypoints"), py::arg("weights"), py::arg("confidence"), py::arg("torso"),
          py::arg("focal_length"), py::arg("center"), py::arg("initial_pose") = py::none(),
          py::arg("initial_betas") = py::none(), py::arg("initial_transl") = py::none(),
          "Fit; returns a dict of parameters, energies and per-stage reports.")
      .def(
          "evaluate_term",
          [](const PyFitter& self, const std::string& term, int stage,
             const Eigen::Ref<const RowMatrix>& keypoints, const Eigen::VectorXd& weights,
             const std::array<int, 4>& torso, double focal_length, const Eigen::Vector2d& center,
             const Eigen::Ref<const Eigen::VectorXd>& pose, const Eigen::VectorXd& betas,
             const Eigen::Ref<const Eigen::VectorXd>& transl) {
            const Observation o =
                ToObservation(keypoints, weights, weights, torso, focal_length, center);
            const TermEvaluation e =
                self.fitter->EvaluateTerm(term, stage, o, ToParameters(pose, betas, transl));
            return py::make_tuple(e.residuals, RowMatrix(e.jacobian));
          },
          py::arg("term"), py::arg("stage"), py::arg("keypoints"), py::arg("weights"),
          py::arg("torso"), py::arg("focal_length"), py::arg("center"), py::arg("pose"),
          py::arg("betas"), py::arg("transl"),
          "Residuals and Jacobian over [global_orient, body_pose, betas, transl] of one term at "
          "stage `stage`'s weights (spheres built from `betas`).");
}

}  // namespace smplify
