// Python bindings of the body model: convert NumPy arrays, forward, convert back.
#include <pybind11/eigen.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "../body_model.h"
#include "bindings.h"

namespace py = pybind11;

namespace smplify {
namespace {

using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

PoseVector ToPose(const Eigen::Ref<const Eigen::VectorXd>& pose) {
  if (pose.size() != kPoseSize) {
    throw std::invalid_argument("pose must have 72 entries, got " + std::to_string(pose.size()));
  }
  return pose;
}

Vec3 ToTransl(const Eigen::Ref<const Eigen::VectorXd>& transl) {
  if (transl.size() != 3) {
    throw std::invalid_argument("transl must have 3 entries, got " +
                                std::to_string(transl.size()));
  }
  return transl;
}

RowMatrix Joints(const Skeleton& s) {
  RowMatrix joints(kNumJoints, 3);
  for (int k = 0; k < kNumJoints; ++k) joints.row(k) = s.joints[k].transpose();
  return joints;
}

BodyModel MakeBodyModel(const Eigen::Ref<const RowMatrix>& v_template,
                        const Eigen::Ref<const RowMatrix>& shapedirs,
                        const Eigen::Ref<const RowMatrix>& posedirs, const RowSparse& J_regressor,
                        const RowSparse& weights, const std::vector<int>& parents) {
  if (v_template.cols() != 3) throw std::invalid_argument("v_template must be N x 3");
  if (parents.size() != kNumJoints) throw std::invalid_argument("parents must have 24 entries");
  BodyModelArrays arrays;
  arrays.v_template = v_template;
  arrays.shapedirs = shapedirs;
  arrays.posedirs = posedirs;
  arrays.J_regressor = J_regressor;
  arrays.weights = weights;
  std::copy(parents.begin(), parents.end(), arrays.parents.begin());
  return BodyModel(std::move(arrays));
}

}  // namespace

void BindBodyModel(py::module_& m) {
  py::class_<BodyModel>(m, "BodyModel",
                        "SMPL-format body model: forward kinematics, skinning, analytic Jacobians.")
      .def(py::init(&MakeBodyModel), py::arg("v_template"), py::arg("shapedirs"),
           py::arg("posedirs"), py::arg("J_regressor"), py::arg("weights"), py::arg("parents"),
           "Arrays: v_template (N,3), shapedirs (3N,B), posedirs (3N,207) or (0,0), "
           "J_regressor (24,N) sparse, weights (N,24) sparse, parents (24,).")
      .def_property_readonly("num_betas", &BodyModel::num_betas)
      .def_property_readonly("num_vertices", &BodyModel::num_vertices)
      .def_property_readonly("J_template",
                             [](const BodyModel& b) { return RowMatrix(b.J_template()); })
      .def_property_readonly("J_shapedirs",
                             [](const BodyModel& b) { return RowMatrix(b.J_shapedirs()); },
                             "(72, B), row 3k + c.")
      .def("rest_joints", &BodyModel::RestJoints, py::arg("betas"), "Rest joints J(β), (24, 3).")
      .def(
          "joints",
          [](const BodyModel& b, const Eigen::Ref<const Eigen::VectorXd>& pose,
             const Eigen::VectorXd& betas, const Eigen::Ref<const Eigen::VectorXd>& transl) {
            return Joints(b.Pose(ToPose(pose), betas, ToTransl(transl), false));
          },
          py::arg("pose"), py::arg("betas"), py::arg("transl"), "Posed joints (24, 3).")
      .def(
          "joints_and_jacobian",
          [](const BodyModel& b, const Eigen::Ref<const Eigen::VectorXd>& pose,
             const Eigen::VectorXd& betas, const Eigen::Ref<const Eigen::VectorXd>& transl) {
            const Skeleton s = b.Pose(ToPose(pose), betas, ToTransl(transl), true);
            Eigen::MatrixXd d_pose, d_betas;
            b.JointJacobians(s, &d_pose, &d_betas);
            RowMatrix d_transl(kPoseSize, 3);
            for (int k = 0; k < kNumJoints; ++k) d_transl.middleRows<3>(3 * k).setIdentity();
            return py::make_tuple(Joints(s), RowMatrix(d_pose), RowMatrix(d_betas), d_transl);
          },
          py::arg("pose"), py::arg("betas"), py::arg("transl"),
          "(joints (24,3), d_pose (72,72), d_betas (72,B), d_transl (72,3)), row 3k + c.")
      .def(
          "vertices",
          [](const BodyModel& b, const Eigen::Ref<const Eigen::VectorXd>& pose,
             const Eigen::VectorXd& betas, const Eigen::Ref<const Eigen::VectorXd>& transl) {
            const Skeleton s = b.Pose(ToPose(pose), betas, ToTransl(transl), false);
            py::gil_scoped_release release;
            return RowMatrix(b.Vertices(s));
          },
          py::arg("pose"), py::arg("betas"), py::arg("transl"), "Posed vertices (N, 3).")
      .def(
          "vertices_and_jacobian",
          [](const BodyModel& b, const Eigen::Ref<const Eigen::VectorXd>& pose,
             const Eigen::VectorXd& betas, const Eigen::Ref<const Eigen::VectorXd>& transl,
             const std::vector<int>& ids) {
            const Skeleton s = b.Pose(ToPose(pose), betas, ToTransl(transl), true);
            Eigen::MatrixXd d_pose, d_betas;
            const MatX3 v = b.SelectedVertices(s, ids, &d_pose, &d_betas);
            RowMatrix d_transl(3 * ids.size(), 3);
            for (size_t i = 0; i < ids.size(); ++i) d_transl.middleRows<3>(3 * i).setIdentity();
            return py::make_tuple(RowMatrix(v), RowMatrix(d_pose), RowMatrix(d_betas), d_transl);
          },
          py::arg("pose"), py::arg("betas"), py::arg("transl"), py::arg("vertex_ids"),
          "(vertices (n,3), d_pose (3n,72), d_betas (3n,B), d_transl (3n,3)), row 3i + c.")
      .def(
          "vertex_combination_and_jacobian",
          [](const BodyModel& b, const Eigen::Ref<const Eigen::VectorXd>& pose,
             const Eigen::VectorXd& betas, const Eigen::Ref<const Eigen::VectorXd>& transl,
             const std::vector<std::pair<int, double>>& combination) {
            const FoldedVertexCombination folded = b.Fold(combination);
            const Skeleton s = b.Pose(ToPose(pose), betas, ToTransl(transl), true);
            const Eigen::VectorXd feature =
                b.has_pose_blend_shapes() ? b.PoseFeature(s) : Eigen::VectorXd();
            const PoseFeatureJacobian d_feature = b.PoseFeatureDerivative(s);
            Eigen::Matrix<double, 3, kPoseSize> d_pose;
            Mat3X d_betas(3, b.num_betas());
            Eigen::Ref<Eigen::Matrix<double, 3, kPoseSize>> d_pose_ref(d_pose);
            Eigen::Ref<Mat3X> d_betas_ref(d_betas);
            const Vec3 x = b.PoseFolded(s, folded, feature, &d_feature, &d_pose_ref, &d_betas_ref);
            return py::make_tuple(Eigen::VectorXd(x), RowMatrix(d_pose), RowMatrix(d_betas));
          },
          py::arg("pose"), py::arg("betas"), py::arg("transl"), py::arg("combination"),
          "Σ c_v · posed vertex v for [(v, c_v)], folded per joint: (x (3,), d_pose (3,72), "
          "d_betas (3,B)).");
}

}  // namespace smplify
