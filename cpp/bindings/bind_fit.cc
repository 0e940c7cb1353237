// Python bindings of the fitter: convert NumPy arrays to the core's structs, release the GIL
// around the solve. Options and the report cross as bound structs (FitOptions, FitReport).
#include <array>
#include <cmath>
#include <memory>
#include <optional>

#include <pybind11/eigen.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "../fitter.h"
#include "bindings.h"

namespace py = pybind11;

namespace smplify {

ReadingMixture ToReadings(const py::object& readings) {
  ReadingMixture out;
  if (readings.is_none()) return out;
  const auto t = readings.cast<py::tuple>();
  if (t.size() != 2) throw std::invalid_argument("readings: expected (keypoints list, log weights)");
  for (const py::handle item : t[0]) {
    const auto points = item.cast<Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>();
    if (points.cols() != 3) throw std::invalid_argument("readings: keypoints must be K x 3");
    out.keypoints.push_back(points);
  }
  out.log_weights = t[1].cast<Eigen::VectorXd>();
  return out;
}

BodyParameters ToParameters(const Eigen::Ref<const Eigen::VectorXd>& pose,
                            const Eigen::VectorXd& betas, const Eigen::Ref<const Eigen::VectorXd>& transl) {
  if (pose.size() != kPoseSize || transl.size() != 3) {
    throw std::invalid_argument("pose must have " + std::to_string(kPoseSize) +
                                " entries and transl 3");
  }
  BodyParameters p;
  p.global_orient = pose.head<3>();
  p.body_pose = pose.tail<kBodyPoseSize>();
  p.betas = betas;
  p.transl = transl;
  return p;
}

std::vector<std::vector<std::pair<int, double>>> ToVertexLists(
    const std::vector<Eigen::VectorXi>& vertex_ids, const std::vector<Eigen::VectorXd>& vertex_weights) {
  if (vertex_ids.size() != vertex_weights.size()) {
    throw std::invalid_argument("vertex_ids and vertex_weights must have one entry per keypoint");
  }
  std::vector<std::vector<std::pair<int, double>>> lists(vertex_ids.size());
  for (size_t k = 0; k < vertex_ids.size(); ++k) {
    if (vertex_ids[k].size() != vertex_weights[k].size()) {
      throw std::invalid_argument("vertex_ids[" + std::to_string(k) + "] and vertex_weights[" +
                                  std::to_string(k) + "] must have the same length");
    }
    for (Eigen::Index v = 0; v < vertex_ids[k].size(); ++v) {
      lists[k].emplace_back(vertex_ids[k](v), vertex_weights[k](v));
    }
  }
  return lists;
}

namespace {

using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

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
                          const Eigen::Vector2d& center,
                          const std::optional<RowMatrix>& keypoints_3d = std::nullopt,
                          double keypoints_3d_weight = 0.0) {
  if (keypoints.cols() != 2) throw std::invalid_argument("keypoints must be K x 2");
  if (keypoints_3d && keypoints_3d->cols() != 3) {
    throw std::invalid_argument("keypoints_3d must be K x 3");
  }
  Observation o;
  o.keypoints = keypoints;
  o.weights = weights;
  o.confidence = confidence;
  o.torso = torso;
  o.camera.focal_length = focal_length;
  o.camera.center = center;
  if (keypoints_3d) o.keypoints_3d = *keypoints_3d;
  o.keypoints_3d_weight = keypoints_3d_weight;
  return o;
}

// Hypotheses as Python passes them: a list of (pose (72,), betas (B',), keypoints_3d (K, 3)
// or None, log_score) tuples.
std::vector<StartHypothesis> ToHypotheses(const py::object& list) {
  std::vector<StartHypothesis> out;
  if (list.is_none()) return out;
  for (const py::handle item : list) {
    const auto t = item.cast<py::tuple>();
    if (t.size() != 4) {
      throw std::invalid_argument("hypotheses: expected (pose, betas, keypoints_3d, log_score)");
    }
    const auto pose = t[0].cast<Eigen::VectorXd>();
    if (pose.size() != kPoseSize) {
      throw std::invalid_argument("hypotheses: pose must have " + std::to_string(kPoseSize) +
                                  " entries");
    }
    StartHypothesis h;
    h.global_orient = pose.head<3>();
    h.body_pose = pose.tail<kBodyPoseSize>();
    h.betas = t[1].cast<Eigen::VectorXd>();
    if (!t[2].is_none()) {
      const auto points = t[2].cast<RowMatrix>();
      if (points.cols() != 3) throw std::invalid_argument("hypotheses: keypoints_3d must be K x 3");
      h.keypoints_3d = points;
    }
    h.log_score = t[3].cast<double>();
    out.push_back(std::move(h));
  }
  return out;
}

// Surface keypoint k is Σ_v vertex_weights[k][v] · vertex vertex_ids[k][v] (empty for joints).

void BindReport(py::module_& m) {
  py::class_<StageWeights>(m, "StageWeights", "The λ of one stage (they multiply residuals).")
      .def_readonly("pose", &StageWeights::pose)
      .def_readonly("shape", &StageWeights::shape)
      .def_readonly("angle", &StageWeights::angle)
      .def_readonly("interpenetration", &StageWeights::interpenetration);
  py::class_<TermEnergies>(m, "TermEnergies", "Sum of squares of each term's weighted rows.")
      .def_readonly("data", &TermEnergies::data)
      .def_readonly("pose", &TermEnergies::pose)
      .def_readonly("angle", &TermEnergies::angle)
      .def_readonly("shape", &TermEnergies::shape)
      .def_readonly("interpenetration", &TermEnergies::interpenetration)
      .def_readonly("keypoints_3d", &TermEnergies::keypoints_3d)
      .def_readonly("knee_depth", &TermEnergies::knee_depth)
      .def_property_readonly("total", &TermEnergies::total, "Sum of the terms.")
      .def(
          "as_dict",
          [](const TermEnergies& e) {
            py::dict out;
            for (const auto& [name, field] : kTermEnergies) out[name] = e.*field;
            out["total"] = e.total();
            return out;
          },
          "The terms and their total by name (FitResult.energy's dict), in one call.");
  py::class_<StageReport>(m, "StageReport", "One solver stage: weights, iterations, costs, time.")
      .def_readonly("name", &StageReport::name)
      .def_readonly("weights", &StageReport::weights)
      .def_readonly("iterations", &StageReport::iterations)
      .def_readonly("fixed_shape_iterations", &StageReport::fixed_shape_iterations)
      .def_readonly("termination", &StageReport::termination)
      .def_readonly("message", &StageReport::message)
      .def_readonly("initial_cost", &StageReport::initial_cost)
      .def_readonly("final_cost", &StageReport::final_cost)
      .def_readonly("seconds", &StageReport::seconds);
  py::class_<FitReport>(m, "FitReport", "What Fitter.fit returns: the chosen fit and its stages.")
      .def_property_readonly("global_orient",
                             [](const FitReport& r) { return Eigen::VectorXd(r.parameters.global_orient); })
      .def_property_readonly("body_pose",
                             [](const FitReport& r) { return Eigen::VectorXd(r.parameters.body_pose); })
      .def_property_readonly("betas", [](const FitReport& r) { return r.parameters.betas; })
      .def_property_readonly("transl",
                             [](const FitReport& r) { return Eigen::VectorXd(r.parameters.transl); })
      .def_readonly("energy", &FitReport::energies)
      .def_readonly("stages", &FitReport::stages)
      .def_readonly("sideways", &FitReport::sideways)
      .def_readonly("flipped", &FitReport::flipped)
      .def_readonly("tried", &FitReport::tried_data_energies,
                    "Data energy per orientation tried: initial, then flipped.")
      .def_readonly("initial_depth", &FitReport::initial_depth)
      .def_readonly("num_starts", &FitReport::num_starts)
      .def_readonly("num_hypotheses", &FitReport::num_hypotheses)
      .def_readonly("num_pruned", &FitReport::num_pruned,
                    "The prior's starts stopped early by FitOptions prune_starts, "
                    "over the orientations.")
      .def_readonly("legs_flipped", &FitReport::legs_flipped)
      .def_readonly("hypothesis", &FitReport::hypothesis,
                    "The chosen start's hypothesis index, -1 for one of the prior's starts.")
      .def_readonly("num_spheres", &FitReport::num_spheres)
      .def_readonly("num_sphere_pairs", &FitReport::num_sphere_pairs)
      .def_property_readonly("joints", [](const FitReport& r) { return r.joints; })
      .def_property_readonly("vertices", [](const FitReport& r) { return r.vertices; })
      .def_property_readonly("keypoints", [](const FitReport& r) { return r.keypoints; })
      .def_readonly("track_energy", &FitReport::track_energy)
      .def_property_readonly(
          "finite",
          [](const FitReport& r) {
            const BodyParameters& p = r.parameters;
            return std::isfinite(r.energies.total()) && p.betas.allFinite() &&
                   p.global_orient.allFinite() && p.body_pose.allFinite() &&
                   p.transl.allFinite() && r.joints.allFinite() && r.vertices.allFinite();
          },
          "Whether the total energy, the parameters, joints and vertices are all finite.")
      .def_readonly("seconds", &FitReport::seconds)
      .def_property_readonly("start_features", [](const FitReport& r) { return r.start_features; },
                             "N x F features of every finished start (start_scorer.h; "
                             "FitOptions start_scorer or record_starts), else 0 x F.")
      .def_property_readonly("start_joints", [](const FitReport& r) { return r.start_joints; })
      .def_property_readonly(
          "start_parameters",
          [](const FitReport& r) {
            py::list out;
            for (const BodyParameters& p : r.start_parameters) {
              out.append(py::make_tuple(Eigen::VectorXd(p.Pose()), Eigen::VectorXd(p.betas),
                                        Eigen::VectorXd(p.transl)));
            }
            return out;
          },
          "Per recorded start its (pose (72,), betas (B,), transl (3,)).")
      .def_property_readonly("start_keypoints",
                             [](const FitReport& r) { return r.start_keypoints; },
                             "Per recorded start its keypoints (K x 3, camera frame).")
      .def_readonly("start_hypotheses", &FitReport::start_hypotheses)
      .def_property_readonly("start_default_scores",
                             [](const FitReport& r) { return r.start_default_scores; })
      .def_property_readonly("start_total_scores",
                             [](const FitReport& r) { return r.start_total_scores; })
      .def_readonly("chosen_start", &FitReport::chosen_start);
}

void BindOptions(py::module_& m) {
  py::class_<FitOptions>(m, "FitOptions",
                         "SPEC §3 constants and solver settings (smplify.FitOptions' C++ side).")
      .def(py::init<>())
      .def_readwrite("pose_prior_weights", &FitOptions::pose_prior_weights)
      .def_readwrite("shape_prior_weights", &FitOptions::shape_prior_weights)
      .def_readwrite("angle_prior_ratio", &FitOptions::angle_prior_ratio)
      .def_readwrite("angle_prior_scale", &FitOptions::angle_prior_scale)
      .def_readwrite("interpenetration_weight", &FitOptions::interpenetration_weight)
      .def_readwrite("sphere_sigma_scale", &FitOptions::sphere_sigma_scale)
      .def_readwrite("data_sigma", &FitOptions::data_sigma)
      .def_readwrite("depth_weight", &FitOptions::depth_weight)
      .def_readwrite("max_iterations", &FitOptions::max_iterations)
      .def_readwrite("function_tolerance", &FitOptions::function_tolerance)
      .def_readwrite("flip", &FitOptions::flip, "-1 auto (sideways test), 0 never, 1 always.")
      .def_readwrite("sideways_ratio", &FitOptions::sideways_ratio)
      .def_readwrite("refine_translation", &FitOptions::refine_translation)
      .def_readwrite("select_start_by_data", &FitOptions::select_start_by_data)
      .def_readwrite("selection_sigma", &FitOptions::selection_sigma)
      .def_readwrite("keypoints_3d_sigma", &FitOptions::keypoints_3d_sigma)
      .def_readwrite("knee_depth_weight", &FitOptions::knee_depth_weight)
      .def_readwrite("knee_depth_sigma", &FitOptions::knee_depth_sigma)
      .def_readwrite("leg_keypoints", &FitOptions::leg_keypoints)
      .def_readwrite("track_orient_weight", &FitOptions::track_orient_weight)
      .def_readwrite("track_pose_weight", &FitOptions::track_pose_weight)
      .def_readwrite("track_transl_weight", &FitOptions::track_transl_weight)
      .def_readwrite("track_velocity_ratio", &FitOptions::track_velocity_ratio)
      .def_readwrite("track_function_tolerance", &FitOptions::track_function_tolerance)
      .def_readwrite("track_held_joints", &FitOptions::track_held_joints)
      .def_readwrite("track_max_iterations", &FitOptions::track_max_iterations)
      .def_readwrite("track_stop_tolerance", &FitOptions::track_stop_tolerance)
      .def_readwrite("stop_tolerance", &FitOptions::stop_tolerance)
      .def_readwrite("stop_rule", &FitOptions::stop_rule)
      .def_readwrite("warm_stages", &FitOptions::warm_stages)
      .def_readwrite("prior_starts", &FitOptions::prior_starts)
      .def_readwrite("hypothesis_first_stage", &FitOptions::hypothesis_first_stage)
      .def_readwrite("hypothesis_score_weight", &FitOptions::hypothesis_score_weight)
      .def_readwrite("reading_weight", &FitOptions::reading_weight)
      .def_readwrite("reading_sigma", &FitOptions::reading_sigma)
      .def_readwrite("leg_flips", &FitOptions::leg_flips)
      .def_readwrite("start_scorer", &FitOptions::start_scorer)
      .def_readwrite("record_starts", &FitOptions::record_starts)
      .def_readwrite("prune_starts", &FitOptions::prune_starts)
      .def_readwrite("prune_stage", &FitOptions::prune_stage)
      .def_readwrite("prune_distance", &FitOptions::prune_distance)
      .def_readwrite("threads", &FitOptions::threads);
}

// Holds the context's model alive as long as the fitter (FitContext keeps a reference).
struct PyFitter {
  py::object model_owner;
  std::unique_ptr<Fitter> fitter;
};

}  // namespace

namespace {

// pybind11's cast of the wrong type throws cast_error, which reaches Python as RuntimeError.
const PyFitter& AsPyFitter(py::handle fitter) {
  if (!py::isinstance<PyFitter>(fitter)) {
    throw py::type_error("fitter must be a smplify._core.Fitter, got " +
                         std::string(py::str(py::type::handle_of(fitter).attr("__name__"))));
  }
  return fitter.cast<const PyFitter&>();
}

}  // namespace

const Fitter& CoreFitter(py::handle fitter) { return *AsPyFitter(fitter).fitter; }

py::object FitterWithFault(py::handle fitter, const InjectedFault& fault) {
  const PyFitter& self = AsPyFitter(fitter);
  return py::cast(PyFitter{self.model_owner,
                           std::make_unique<Fitter>(self.fitter->WithFault(fault))});
}

py::object FitterWithEndStage(py::handle fitter, int end_stage) {
  const PyFitter& self = AsPyFitter(fitter);
  return py::cast(PyFitter{self.model_owner,
                           std::make_unique<Fitter>(self.fitter->WithEndStage(end_stage))});
}

void BindFit(py::module_& m) {
  BindOptions(m);
  BindReport(m);
  py::class_<PyFitter>(m, "Fitter", "The staged SMPLify fit for one model and keypoint format.")
      .def(py::init([](py::object model, const std::vector<int>& joint,
                       const std::vector<Eigen::VectorXi>& vertex_ids,
                       const std::vector<Eigen::VectorXd>& vertex_weights,
                       const RowMatrix& prior_means, const std::vector<RowMatrix>& precision_cholesky,
                       const Eigen::VectorXd& neg_log_c, const py::object& capsules,
                       const FitOptions& options, const std::vector<Eigen::VectorXd>& starts) {
             const BodyModel& body = model.cast<const BodyModel&>();
             PosePriorArrays prior;
             prior.means = prior_means;
             for (const auto& L : precision_cholesky) prior.precision_cholesky.emplace_back(L);
             prior.neg_log_c = neg_log_c;
             FitContext context{body,
                                KeypointTargets{joint, ToVertexLists(vertex_ids, vertex_weights)},
                                std::move(prior), ToCapsules(capsules), options};
             context.starts = starts;
             return PyFitter{model, std::make_unique<Fitter>(std::move(context))};
           }),
           py::arg("model"), py::arg("joint"), py::arg("vertex_ids"), py::arg("vertex_weights"),
           py::arg("prior_means"),
           py::arg("precision_cholesky"), py::arg("neg_log_c"), py::arg("capsules"),
           py::arg("options"), py::arg("starts"))
      .def(
          "fit",
          [](const PyFitter& self, const Eigen::Ref<const RowMatrix>& keypoints,
             const Eigen::VectorXd& weights, const Eigen::VectorXd& confidence,
             const std::array<int, 4>& torso, double focal_length, const Eigen::Vector2d& center,
             std::optional<Eigen::VectorXd> initial_pose, std::optional<Eigen::VectorXd> initial_betas,
             std::optional<Eigen::VectorXd> initial_transl, std::optional<RowMatrix> keypoints_3d,
             double keypoints_3d_weight, std::optional<RowMatrix> track_pose,
             std::optional<RowMatrix> track_transl, bool hold_shape,
             const py::object& hypotheses, const py::object& readings, bool vertices,
             const std::array<double, 2>& track_gaps, double reading_weight_scale) {
            Observation o = ToObservation(keypoints, weights, confidence, torso, focal_length,
                                          center, keypoints_3d, keypoints_3d_weight);
            o.hypotheses = ToHypotheses(hypotheses);
            o.readings = ToReadings(readings);
            o.reading_weight_scale = reading_weight_scale;
            std::optional<BodyParameters> initial;
            if (initial_pose && initial_betas && initial_transl) {
              initial = ToParameters(*initial_pose, *initial_betas, *initial_transl);
            }
            std::optional<TrackHistory> track;
            if (track_pose || track_transl) {
              if (!initial) throw std::invalid_argument("track: needs an initial pose, betas and transl");
              if (!track_pose || !track_transl || track_pose->rows() != 2 ||
                  track_transl->rows() != 2) {
                throw std::invalid_argument(
                    "track_pose (2 x 72) and track_transl (2 x 3) go together: the frames "
                    "before the last, and the last");
              }
              track = TrackHistory{
                  ToParameters(track_pose->row(0).transpose(), initial->betas,
                               track_transl->row(0).transpose()),
                  ToParameters(track_pose->row(1).transpose(), initial->betas,
                               track_transl->row(1).transpose()),
                  hold_shape, track_gaps[0], track_gaps[1]};
            }
            FitReport report;
            {
              py::gil_scoped_release release;
              report = self.fitter->Fit(o, initial ? &*initial : nullptr, track ? &*track : nullptr,
                                        vertices);
            }
            return report;
          },
          py::arg("keypoints"), py::arg("weights"), py::arg("confidence"), py::arg("torso"),
          py::arg("focal_length"), py::arg("center"), py::arg("initial_pose") = py::none(),
          py::arg("initial_betas") = py::none(), py::arg("initial_transl") = py::none(),
          py::arg("keypoints_3d") = py::none(), py::arg("keypoints_3d_weight") = 0.0,
          py::arg("track_pose") = py::none(), py::arg("track_transl") = py::none(),
          py::arg("hold_shape") = false, py::arg("hypotheses") = py::none(),
          py::arg("readings") = py::none(),
          py::arg("vertices") = true, py::arg("track_gaps") = std::array<double, 2>{1.0, 1.0},
          py::arg("reading_weight_scale") = 1.0,
          "Fit one image; returns its FitReport (parameters, energies, per-stage reports). "
          "track_pose (2 x 72) and track_transl (2 x 3), the two frames before (older first), "
          "add the online track's temporal rows (cpp/fitter.h TrackHistory); hold_shape keeps "
          "the initial betas. hypotheses: (pose, betas, keypoints_3d or None, log score) "
          "readings to start a cold fit from. readings: (list of K x 3 keypoints, log "
          "weights) for the start selection's reading score (cpp/reading_score.h); "
          "reading_weight_scale: this image's factor on options.reading_weight. "
          "track_gaps: frames from the older track frame to the last and from the last to "
          "this one (more than 1 where the detector missed frames). vertices=False leaves "
          "the report's vertices empty (0 x 3): the caller poses the mesh when it is wanted.")
      .def(
          "evaluate_term",
          [](const PyFitter& self, const std::string& term, int stage,
             const Eigen::Ref<const RowMatrix>& keypoints, const Eigen::VectorXd& weights,
             const std::array<int, 4>& torso, double focal_length, const Eigen::Vector2d& center,
             const Eigen::Ref<const Eigen::VectorXd>& pose, const Eigen::VectorXd& betas,
             const Eigen::Ref<const Eigen::VectorXd>& transl, std::optional<RowMatrix> keypoints_3d,
             double keypoints_3d_weight) {
            const Observation o = ToObservation(keypoints, weights, weights, torso, focal_length,
                                                center, keypoints_3d, keypoints_3d_weight);
            const TermEvaluation e =
                self.fitter->EvaluateTerm(term, stage, o, ToParameters(pose, betas, transl));
            return py::make_tuple(e.residuals, RowMatrix(e.jacobian));
          },
          py::arg("term"), py::arg("stage"), py::arg("keypoints"), py::arg("weights"),
          py::arg("torso"), py::arg("focal_length"), py::arg("center"), py::arg("pose"),
          py::arg("betas"), py::arg("transl"), py::arg("keypoints_3d") = py::none(),
          py::arg("keypoints_3d_weight") = 0.0,
          "Residuals and Jacobian over [global_orient, body_pose, betas, transl] of one term at "
          "stage `stage`'s weights (spheres built from `betas`).");
}

}  // namespace smplify
