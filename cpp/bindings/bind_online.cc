// Python bindings of the online Fitter's per-frame helpers: the output filter
// (cpp/pose_filter.h; one per Fitter, its state in the bound object) and a warm frame's
// checks (cpp/track_checks.h). Convert, forward, convert back.
#include <optional>
#include <string>

#include <pybind11/eigen.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "../fitter.h"
#include "../keypoint_speed.h"
#include "../pose_filter.h"
#include "../track_checks.h"
#include "bindings.h"

namespace py = pybind11;

namespace smplify {

void BindOnline(py::module_& m) {
  py::class_<PoseFilter>(m, "PoseFilter",
                         "The One Euro filter on (72,) SMPL poses and (3,) translations, one "
                         "frame at a time (cpp/pose_filter.h; twin: smplify.pose_filter.PoseOneEuro).")
      .def(py::init<double, double, double, double, double, double>(), py::arg("fps"),
           py::arg("min_cutoff"), py::arg("beta"), py::arg("d_cutoff") = 1.0,
           py::arg("keypoint_beta") = 0.0, py::arg("keypoint_floor") = 0.0)
      .def("reset", &PoseFilter::Reset, "Forget the past: the next frame passes through.")
      .def(
          "__call__",
          [](PoseFilter& self, const Eigen::Ref<const Eigen::VectorXd>& pose,
             const Eigen::Ref<const Eigen::VectorXd>& transl, int frames,
             std::optional<Eigen::VectorXd> keypoint_speed) {
            if (pose.size() != PoseFilter::Pose::RowsAtCompileTime) {
              throw std::invalid_argument("pose: expected 72 values, got " +
                                          std::to_string(pose.size()));
            }
            if (transl.size() != 3) {
              throw std::invalid_argument("transl: expected 3 values, got " +
                                          std::to_string(transl.size()));
            }
            PoseFilter::Speeds speeds;
            if (keypoint_speed) {
              if (keypoint_speed->size() != PoseFilter::Speeds::RowsAtCompileTime) {
                throw std::invalid_argument("keypoint_speed: expected 25 values, got " +
                                            std::to_string(keypoint_speed->size()));
              }
              speeds = *keypoint_speed;
            }
            PoseFilter::Pose pose_out;
            Eigen::Vector3d transl_out;
            self.Filter(pose, transl, frames, &pose_out, &transl_out,
                        keypoint_speed ? &speeds : nullptr);
            return py::make_tuple(pose_out, transl_out);
          },
          py::arg("pose"), py::arg("transl"), py::arg("frames") = 1,
          py::arg("keypoint_speed") = py::none(),
          "This frame's filtered (pose (72,), transl (3,)); `frames` since the last frame "
          "filtered (a step across missed frames is one sample at fps / frames); "
          "`keypoint_speed` (25,) person sizes/s (smplify.pose_filter.KeypointSpeed) or None.")
      .def("lag_frames", &PoseFilter::lag_frames,
           "Frames a ramp is followed behind at rest, (1 − α(min_cutoff)) / α(min_cutoff).")
      .def_property_readonly("lag", &PoseFilter::lag_frames, "As lag_frames().");
  py::class_<KeypointSpeed>(m, "KeypointSpeed",
                            "Per-joint 2D keypoint speeds (person sizes/s) for PoseFilter's "
                            "keypoint_speed (cpp/keypoint_speed.h; twin: "
                            "smplify.pose_filter.KeypointSpeed).")
      .def(py::init([](const Eigen::MatrixXi& moved, const Eigen::VectorXi& torso,
                       const Eigen::VectorXi& mirror, double fps) {
             if (moved.rows() != KeypointSpeed::kJoints) {
               throw std::invalid_argument("moved: expected 24 rows, got " +
                                           std::to_string(moved.rows()));
             }
             if (torso.size() != 4) {
               throw std::invalid_argument("torso: expected 4 indices, got " +
                                           std::to_string(torso.size()));
             }
             return KeypointSpeed(moved, torso, mirror, fps);
           }),
           py::arg("moved"), py::arg("torso"), py::arg("mirror"), py::arg("fps"))
      .def("reset", &KeypointSpeed::Reset, "Forget the last frame: the next one's are zero.")
      .def(
          "__call__",
          [](KeypointSpeed& self, const Eigen::MatrixXd& xy, const Eigen::VectorXd& confidence,
             double size, int frames) {
            if (xy.cols() != 2) {  // any shape in, so a wrong one is named (not pybind's)
              throw std::invalid_argument("xy: expected (K, 2) pixels, got " +
                                          std::to_string(xy.cols()) + " columns");
            }
            return self.Compute(xy, confidence, size, frames);
          },
          py::arg("xy"), py::arg("confidence"), py::arg("size"), py::arg("frames") = 1,
          "(25,) speeds (per joint, then the torso's centre) of keypoints xy (K, 2) px with "
          "confidence (K,), a person size px (NaN: unknown), frames since the last.");
  m.def("labelling_scores", &LabellingScores, py::arg("predicted"), py::arg("xy"),
        py::arg("weights"), py::arg("permutations"), py::arg("sigma"),
        "Robust 2D distance (P,) of the keypoints xy (K, 2) under each permutation (P, K) "
        "from the predicted ones (K, 2), weights (K,) (cpp/track_checks.h).");
  m.def(
      "median_error_fraction",
      [](const FitReport& report, const Eigen::Ref<const KeypointsXY>& xy,
         const Eigen::Ref<const Eigen::VectorXd>& weights, double focal_length,
         const Eigen::Vector2d& center) {
        return MedianErrorFraction(report.keypoints, report.energies.total(), xy, weights,
                                   focal_length, center);
      },
      py::arg("report"), py::arg("xy"), py::arg("weights"), py::arg("focal_length"),
      py::arg("center"),
      "A FitReport's median 2D error over the keypoints used (weights > 0) as a fraction "
      "of their bounding box's diagonal; inf if not finite (cpp/track_checks.h).");
}

}  // namespace smplify
