#include "body_model.h"

#include <stdexcept>
#include <string>
#include <utility>

namespace smplify {
namespace {

void Require(bool condition, const std::string& message) {
  if (!condition) throw std::invalid_argument(message);
}

}  // namespace

BodyModel::BodyModel(BodyModelArrays arrays) : arrays_(std::move(arrays)) {
  const Eigen::Index n = arrays_.v_template.rows();
  Require(n > 0, "v_template must have at least one vertex");
  Require(arrays_.shapedirs.rows() == 3 * n,
          "shapedirs must have 3N = " + std::to_string(3 * n) + " rows, got " +
              std::to_string(arrays_.shapedirs.rows()));
  Require(arrays_.posedirs.size() == 0 ||
              (arrays_.posedirs.rows() == 3 * n && arrays_.posedirs.cols() == kPoseFeatureSize),
          "posedirs must be 3N x 207 or empty");
  Require(arrays_.J_regressor.rows() == kNumJoints && arrays_.J_regressor.cols() == n,
          "J_regressor must be 24 x N");
  Require(arrays_.weights.rows() == n && arrays_.weights.cols() == kNumJoints,
          "weights must be N x 24");
  Require(arrays_.parents[0] < 0, "parents[0] must be -1 (the root)");
  for (int k = 1; k < kNumJoints; ++k) {
    Require(arrays_.parents[k] >= 0 && arrays_.parents[k] < k,
            "parents must list each joint after its parent (parents[k] < k)");
  }
  Require(arrays_.v_template.allFinite() && arrays_.shapedirs.allFinite() &&
              arrays_.posedirs.allFinite(),
          "model arrays must be finite");

  // J_template = J_regressor · v_template; J_shapedirs[3k + c] = Σ_n J_regressor[k, n] S[3n + c].
  J_template_ = arrays_.J_regressor * arrays_.v_template;
  J_shapedirs_.setZero(kPoseSize, num_betas());
  for (int k = 0; k < kNumJoints; ++k) {
    for (RowSparse::InnerIterator it(arrays_.J_regressor, k); it; ++it) {
      J_shapedirs_.middleRows<3>(3 * k) += it.value() * arrays_.shapedirs.middleRows<3>(3 * it.col());
    }
  }
}

Eigen::Matrix<double, kNumJoints, 3> BodyModel::RestJoints(const Eigen::VectorXd& betas) const {
  if (betas.size() != num_betas()) {  // checked per evaluation: build the message only on failure
    throw std::invalid_argument("betas must have " + std::to_string(num_betas()) +
                                " entries, got " + std::to_string(betas.size()));
  }
  Eigen::Matrix<double, kNumJoints, 3> joints = J_template_;
  const Eigen::VectorXd offsets = J_shapedirs_ * betas;  // 72
  for (int k = 0; k < kNumJoints; ++k) joints.row(k) += offsets.segment<3>(3 * k).transpose();
  return joints;
}

Skeleton BodyModel::Pose(const PoseVector& pose, const Eigen::VectorXd& betas,
                         const Vec3& transl, bool with_jacobians) const {
  Skeleton s;
  s.pose = pose;
  s.betas = betas;
  s.transl = transl;
  const auto rest = RestJoints(betas);
  const auto& parents = arrays_.parents;
  for (int k = 0; k < kNumJoints; ++k) {
    s.rest_joints[k] = rest.row(k).transpose();
    const Vec3 theta_k = pose.segment<3>(3 * k);
    s.local_rotation[k] = Rodrigues(theta_k);
    const int parent = parents[k];
    if (parent < 0) {
      s.world_rotation[k] = s.local_rotation[k];
      s.joints[k] = s.rest_joints[k] + transl;
    } else {
      s.world_rotation[k] = s.world_rotation[parent] * s.local_rotation[k];
      s.joints[k] = s.joints[parent] +
                    s.world_rotation[parent] * (s.rest_joints[k] - s.rest_joints[parent]);
    }
  }
  if (with_jacobians) {
    for (int k = 0; k < kNumJoints; ++k) {
      s.pose_jacobian[k] = s.world_rotation[k] * RightJacobian(pose.segment<3>(3 * k));
      const int parent = parents[k];
      const auto JS_k = J_shapedirs_.middleRows<3>(3 * k);
      if (parent < 0) {
        s.joint_betas_jacobian[k] = JS_k;
      } else {
        s.joint_betas_jacobian[k] =
            s.joint_betas_jacobian[parent] +
            s.world_rotation[parent] * (JS_k - J_shapedirs_.middleRows<3>(3 * parent));
      }
    }
  }
  return s;
}

void BodyModel::AddAttachedPointPoseJacobian(
    const Skeleton& s, int k, const Vec3& q,
    Eigen::Ref<Eigen::Matrix<double, 3, kPoseSize>> d_pose) const {
  for (int j = k; j >= 0; j = arrays_.parents[j]) {
    d_pose.middleCols<3>(3 * j) -= Skew(q - s.joints[j]) * s.pose_jacobian[j];
  }
}

void BodyModel::JointJacobians(const Skeleton& s, Eigen::MatrixXd* d_pose,
                               Eigen::MatrixXd* d_betas) const {
  if (d_pose != nullptr) {
    d_pose->setZero(kPoseSize, kPoseSize);
    for (int k = 0; k < kNumJoints; ++k) {
      // p_k is rigid in its parent's frame, so θ_k itself does not move it.
      const int parent = arrays_.parents[k];
      if (parent >= 0) {
        AddAttachedPointPoseJacobian(s, parent, s.joints[k],
                                     d_pose->block<3, kPoseSize>(3 * k, 0));
      }
    }
  }
  if (d_betas != nullptr) {
    if (s.joint_betas_jacobian[0].cols() != num_betas()) {
      throw std::invalid_argument("Skeleton was posed without its betas Jacobian");
    }
    d_betas->resize(kPoseSize, num_betas());
    for (int k = 0; k < kNumJoints; ++k) d_betas->middleRows<3>(3 * k) = s.joint_betas_jacobian[k];
  }
}

Eigen::VectorXd BodyModel::PoseFeature(const Skeleton& s) const {
  // Row-major vec(R(θ_k) − I) for joints 1..23, as SMPL's posedirs expect.
  Eigen::VectorXd feature(kPoseFeatureSize);
  for (int k = 1; k < kNumJoints; ++k) {
    const Mat3 d = s.local_rotation[k] - Mat3::Identity();
    for (int r = 0; r < 3; ++r) feature.segment<3>(9 * (k - 1) + 3 * r) = d.row(r).transpose();
  }
  return feature;
}

Vec3 BodyModel::PosedRestVertex(int n, const Eigen::VectorXd& betas,
                                const Eigen::VectorXd& pose_feature) const {
  Vec3 v = arrays_.v_template.row(n).transpose() + arrays_.shapedirs.middleRows<3>(3 * n) * betas;
  if (has_pose_blend_shapes()) v += arrays_.posedirs.middleRows<3>(3 * n) * pose_feature;
  return v;
}

MatX3 BodyModel::Vertices(const Skeleton& s) const {
  const Eigen::Index n = num_vertices();
  // 1. Shape (and pose) blend shapes: 3N vector, then N × 3.
  Eigen::VectorXd rest = arrays_.shapedirs * s.betas;
  if (has_pose_blend_shapes()) rest.noalias() += arrays_.posedirs * PoseFeature(s);
  // 2. Per-joint rigid transforms with the rest joint removed: x ↦ R_k x + t_k,
  //    t_k = p_k − R_k J_k. Stored as 24 × 12 rows [R_k row-major | t_k].
  Eigen::Matrix<double, kNumJoints, 12> transforms;
  for (int k = 0; k < kNumJoints; ++k) {
    const Mat3& R = s.world_rotation[k];
    const Vec3 t = s.joints[k] - s.transl - R * s.rest_joints[k];
    for (int r = 0; r < 3; ++r) {
      transforms.block<1, 3>(k, 4 * r) = R.row(r);
      transforms(k, 4 * r + 3) = t(r);
    }
  }
  // 3. Blend the transforms per vertex (N × 12) and apply them.
  const Eigen::MatrixXd blended = arrays_.weights * transforms;
  MatX3 out(n, 3);
  for (Eigen::Index i = 0; i < n; ++i) {
    const Vec3 v = arrays_.v_template.row(i).transpose() + rest.segment<3>(3 * i);
    for (int r = 0; r < 3; ++r) {
      out(i, r) = blended.block<1, 3>(i, 4 * r).dot(v) + blended(i, 4 * r + 3) + s.transl(r);
    }
  }
  return out;
}

MatX3 BodyModel::SelectedVertices(const Skeleton& s, const std::vector<int>& ids,
                                  Eigen::MatrixXd* d_pose, Eigen::MatrixXd* d_betas) const {
  const int count = static_cast<int>(ids.size());
  for (int id : ids) Require(id >= 0 && id < num_vertices(), "vertex id out of range");
  const Eigen::VectorXd feature = has_pose_blend_shapes() ? PoseFeature(s) : Eigen::VectorXd();
  MatX3 out(count, 3);
  if (d_pose != nullptr) d_pose->setZero(3 * count, kPoseSize);
  if (d_betas != nullptr) d_betas->setZero(3 * count, num_betas());

  PoseFeatureJacobian d_rotation;
  if (d_pose != nullptr && has_pose_blend_shapes()) d_rotation = PoseFeatureDerivative(s);

  for (int i = 0; i < count; ++i) {
    const int n = ids[i];
    const Vec3 rest = PosedRestVertex(n, s.betas, feature);
    Vec3 v = s.transl;                     // γ is added after skinning
    Mat3 blended_rotation = Mat3::Zero();  // Σ_k w_k R_world_k
    for (RowSparse::InnerIterator it(arrays_.weights, n); it; ++it) {
      const int k = static_cast<int>(it.col());
      const double w = it.value();
      const Vec3 q = s.world_rotation[k] * (rest - s.rest_joints[k]) + s.joints[k];
      v += w * (q - s.transl);
      blended_rotation += w * s.world_rotation[k];
      if (d_pose != nullptr) {
        // Σ_k w_k ∂q_k/∂θ: each skinning transform moves q_k rigidly with joint k.
        Eigen::Matrix<double, 3, kPoseSize> dq = Eigen::Matrix<double, 3, kPoseSize>::Zero();
        AddAttachedPointPoseJacobian(s, k, q, dq);
        d_pose->block<3, kPoseSize>(3 * i, 0) += w * dq;
      }
    }
    out.row(i) = v.transpose();
    if (d_pose != nullptr) {
      if (has_pose_blend_shapes()) {
        for (int k = 1; k < kNumJoints; ++k) {
          d_pose->block<3, 3>(3 * i, 3 * k) += blended_rotation *
              arrays_.posedirs.block<3, 9>(3 * n, 9 * (k - 1)) * d_rotation[k];
        }
      }
    }
    if (d_betas != nullptr) {
      Require(s.joint_betas_jacobian[0].cols() == num_betas(),
              "Skeleton was posed without its betas Jacobian");
      const auto S_n = arrays_.shapedirs.middleRows<3>(3 * n);
      for (RowSparse::InnerIterator it(arrays_.weights, n); it; ++it) {
        const int k = static_cast<int>(it.col());
        d_betas->middleRows<3>(3 * i) +=
            it.value() * (s.world_rotation[k] * (S_n - J_shapedirs_.middleRows<3>(3 * k)) +
                          s.joint_betas_jacobian[k]);
      }
    }
  }
  return out;
}

PoseFeatureJacobian BodyModel::PoseFeatureDerivative(const Skeleton& s) const {
  // ∂R(θ_k)/∂θ_k,i = R(θ_k) [J_r(θ_k) e_i]×, written as row-major vec.
  PoseFeatureJacobian d_rotation;
  d_rotation[0].setZero();
  for (int k = 1; k < kNumJoints; ++k) {
    const Mat3 Jr = RightJacobian(s.pose.segment<3>(3 * k));
    for (int i = 0; i < 3; ++i) {
      const Mat3 dR = s.local_rotation[k] * Skew(Jr.col(i));
      for (int r = 0; r < 3; ++r) d_rotation[k].block<3, 1>(3 * r, i) = dR.row(r).transpose();
    }
  }
  return d_rotation;
}

FoldedVertexCombination BodyModel::Fold(
    const std::vector<std::pair<int, double>>& combination) const {
  std::array<double, kNumJoints> a{};
  std::array<Vec3, kNumJoints> m;
  std::array<Mat3X, kNumJoints> S;
  std::array<Eigen::Matrix<double, 3, Eigen::Dynamic>, kNumJoints> Q;
  for (int k = 0; k < kNumJoints; ++k) {
    m[k].setZero();
    S[k].setZero(3, num_betas());
    if (has_pose_blend_shapes()) Q[k].setZero(3, kPoseFeatureSize);
  }
  FoldedVertexCombination folded;
  for (const auto& [v, c] : combination) {
    Require(v >= 0 && v < num_vertices(), "vertex id out of range");
    folded.weight_sum += c;
    for (RowSparse::InnerIterator it(arrays_.weights, v); it; ++it) {
      const int k = static_cast<int>(it.col());
      const double cw = c * it.value();
      a[k] += cw;
      m[k] += cw * arrays_.v_template.row(v).transpose();
      S[k] += cw * arrays_.shapedirs.middleRows<3>(3 * v);
      if (has_pose_blend_shapes()) Q[k] += cw * arrays_.posedirs.middleRows<3>(3 * v);
    }
  }
  for (int k = 0; k < kNumJoints; ++k) {
    if (a[k] == 0.0 && m[k].isZero() && S[k].isZero()) continue;
    folded.joints.push_back(k);
    folded.a.push_back(a[k]);
    folded.m.push_back(m[k]);
    folded.S.push_back(S[k]);
    folded.Q.push_back(Q[k]);
  }
  return folded;
}

Vec3 BodyModel::PoseFolded(const Skeleton& s, const FoldedVertexCombination& folded,
                           const Eigen::VectorXd& feature, const PoseFeatureJacobian* d_feature,
                           Eigen::Ref<Eigen::Matrix<double, 3, kPoseSize>>* d_pose,
                           Eigen::Ref<Mat3X>* d_betas) const {
  Vec3 x = folded.weight_sum * s.transl;
  if (d_pose != nullptr) d_pose->setZero();
  if (d_betas != nullptr) d_betas->setZero();
  for (size_t t = 0; t < folded.joints.size(); ++t) {
    const int k = folded.joints[t];
    const double a = folded.a[t];
    // u_k = m_k + S_k β + Q_k f(θ) − a_k J_k(β), in joint k's rest frame.
    Vec3 u = folded.m[t] + folded.S[t] * s.betas - a * s.rest_joints[k];
    if (has_pose_blend_shapes()) u += folded.Q[t] * feature;
    const Vec3 Ru = s.world_rotation[k] * u;
    x += Ru + a * (s.joints[k] - s.transl);
    if (d_pose != nullptr) {
      // ∂(R_k u + a p_k)/∂θ_j = −[R_k u + a (p_k − p_j)]× A_j for j on k's chain (j ≠ k
      // moves p_k; j = k only turns u) ...
      for (int j = k; j >= 0; j = arrays_.parents[j]) {
        d_pose->middleCols<3>(3 * j) -= Skew(Ru + a * (s.joints[k] - s.joints[j])) *
                                        s.pose_jacobian[j];
      }
      // ... plus the pose blend shapes: R_k Q_k ∂f/∂θ, per joint R_k (Q_kj ∂f_j/∂θ_j).
      if (has_pose_blend_shapes()) {
        for (int j = 1; j < kNumJoints; ++j) {
          const Mat3 Qdf = folded.Q[t].middleCols<9>(9 * (j - 1)) * (*d_feature)[j];
          d_pose->middleCols<3>(3 * j) += s.world_rotation[k] * Qdf;
        }
      }
    }
    if (d_betas != nullptr) {
      *d_betas += s.world_rotation[k] *
                      (folded.S[t] - a * J_shapedirs_.middleRows<3>(3 * k)) +
                  a * s.joint_betas_jacobian[k];
    }
  }
  return x;
}

}  // namespace smplify
