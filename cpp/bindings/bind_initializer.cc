// Python bindings of the learned initialiser's inference and the keypoint poser: convert,
// forward, convert back (smplify.initializer, smplify.anchor).
#include <algorithm>
#include <memory>
#include <optional>
#include <vector>

#include <pybind11/eigen.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "../keypoint_poser.h"
#include "../learned_initializer.h"
#include "bindings.h"

namespace py = pybind11;

namespace smplify {
namespace {

using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using RowMatrixF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

LearnedInitializer MakeInitializer(const std::vector<RowMatrixF>& weights,
                                   const std::vector<Eigen::VectorXf>& biases, int num_keypoints,
                                   int num_hypotheses) {
  if (weights.size() != biases.size()) {
    throw std::invalid_argument("weights and biases: one of each per layer");
  }
  std::vector<DenseLayer> layers(weights.size());
  for (size_t i = 0; i < weights.size(); ++i) layers[i] = DenseLayer{weights[i], biases[i]};
  return LearnedInitializer(std::move(layers), num_keypoints, num_hypotheses);
}

// Holds the model alive as long as the poser (KeypointPoser keeps a reference).
struct PyKeypointPoser {
  py::object model_owner;
  std::unique_ptr<KeypointPoser> poser;
};

}  // namespace

void BindInitializer(py::module_& m) {
  py::class_<LearnedInitializer>(m, "Initializer",
                                 "The learned initialiser's inference (cpp/learned_initializer.h).")
      .def(py::init(&MakeInitializer), py::arg("weights"), py::arg("biases"),
           py::arg("num_keypoints"), py::arg("num_hypotheses"),
           "weights: per layer (out, in) float32; biases: per layer (out,) float32.")
      .def_property_readonly("num_keypoints", &LearnedInitializer::num_keypoints)
      .def_property_readonly("num_hypotheses", &LearnedInitializer::num_hypotheses)
      .def("features", &LearnedInitializer::Features, py::arg("keypoints"), py::arg("image_size"),
           py::arg("focal_length"), "Network input (3K + 3,) float32 of keypoints (K, 3).")
      .def("raw", &LearnedInitializer::Raw, py::arg("features"),
           "Network output (M * 145 + 10,) float32 of features (3K + 3,).")
      .def(
          "predict",
          [](const LearnedInitializer& self, const Eigen::Ref<const RowMatrix>& keypoints,
             const Eigen::Vector2d& image_size, double focal_length, int count) {
            std::vector<InitializerReading> readings;
            {
              py::gil_scoped_release release;
              readings = self.Predict(self.Features(keypoints, image_size, focal_length), count);
            }
            const auto n = static_cast<Eigen::Index>(readings.size());
            Eigen::VectorXi index(n);
            Eigen::VectorXd score(n);
            RowMatrix pose(n, 72), rotations(n, 24 * 9);
            for (Eigen::Index i = 0; i < n; ++i) {
              index(i) = readings[i].index;
              score(i) = readings[i].score;
              pose.row(i) = readings[i].pose.transpose();
              for (int j = 0; j < 24; ++j) {
                for (int r = 0; r < 3; ++r) {
                  rotations.block<1, 3>(i, 9 * j + 3 * r) = readings[i].rotations[j].row(r);
                }
              }
            }
            return py::make_tuple(index, score, pose, readings.front().betas, rotations);
          },
          py::arg("keypoints"), py::arg("image_size"), py::arg("focal_length"),
          py::arg("count") = 0,
          "The best `count` readings (0: all M), best first: (index (n,), score (n,), pose "
          "(n, 72) axis-angle, betas (10,), rotations (n, 216): 24 row-major 3 x 3 each).");

  py::class_<PyKeypointPoser>(m, "KeypointPoser",
                              "A format's keypoints of a body, no Jacobians (cpp/keypoint_poser.h).")
      .def(py::init([](py::object model, const std::vector<int>& joint,
                       const std::vector<Eigen::VectorXi>& vertex_ids,
                       const std::vector<Eigen::VectorXd>& vertex_weights) {
             const BodyModel& body = model.cast<const BodyModel&>();
             KeypointTargets targets{joint, ToVertexLists(vertex_ids, vertex_weights)};
             return PyKeypointPoser{model,
                                    std::make_unique<KeypointPoser>(body, std::move(targets))};
           }),
           py::arg("model"), py::arg("joint"), py::arg("vertex_ids"), py::arg("vertex_weights"))
      .def(
          "pose",
          [](const PyKeypointPoser& self, const Eigen::Ref<const Eigen::VectorXd>& pose,
             const Eigen::VectorXd& betas) {
            return RowMatrix(self.poser->Pose(ToParameters(pose, betas, Eigen::Vector3d::Zero())));
          },
          py::arg("pose"), py::arg("betas"),
          "Keypoints (K, 3) metres of the body posed at `pose` (72,) with `betas` at the origin.")
      .def(
          "pose_top_reading",
          [](const PyKeypointPoser& self, const LearnedInitializer& initializer,
             const Eigen::Ref<const RowMatrix>& keypoints, const Eigen::Vector2d& image_size,
             double focal_length, std::optional<Eigen::VectorXd> betas) {
            py::gil_scoped_release release;
            const InitializerReading top = initializer.Predict(
                initializer.Features(keypoints, image_size, focal_length), 1).front();
            // The reading's betas as far as the model has them (the rest 0).
            return RowMatrix(self.poser->Pose(ToParameters(
                top.pose,
                betas ? *betas
                      : Eigen::VectorXd(top.betas.head(std::min<Eigen::Index>(
                            top.betas.size(), self.poser->num_betas()))),
                Eigen::Vector3d::Zero())));
          },
          py::arg("initializer"), py::arg("keypoints"), py::arg("image_size"),
          py::arg("focal_length"), py::arg("betas") = py::none(),
          "Keypoints (K, 3) metres of the initialiser's top reading of `keypoints` (K, 3), "
          "posed at the origin with `betas` (None: the reading's own, as far as the model has "
          "them): Initializer.predict "
          "and pose in one call (the online Fitter's per-frame anchor).");
}

}  // namespace smplify
