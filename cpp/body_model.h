// The SMPL-format body model (SPEC §1) with analytic Jacobians.
//
//   v(β)    = v_template + shapedirs · β                         shaped rest mesh
//   J(β)    = J_regressor · v(β) = J_template + J_shapedirs · β    rest joints (linear in β)
//   G_k     = G_parent(k) · [R(θ_k) | J_k − J_parent(k)]           forward kinematics
//   p_k     = translation of G_k + γ                              posed joints
//   v_posed = Σ_k w_k (R_world_k (v(β) + P·(R(θ) − I) − J_k) + p_k − γ) + γ
//             (linear blend skinning; γ added after skinning, as smplx does)
//
// Derivatives (a point q rigidly attached to joint k, j an ancestor of k or k itself):
//   ∂q/∂θ_j = −[q − p_j]× R_world_j J_r(θ_j)        (J_r: right Jacobian of SO(3))
//   ∂p_k/∂β = D_k,  D_k = D_parent + R_world_parent (JS_k − JS_parent),  D_root = JS_root
//   ∂q/∂γ   = I
#pragma once

#include <array>
#include <utility>
#include <vector>

#include <Eigen/Core>
#include <Eigen/SparseCore>

#include "rotation.h"

namespace smplify {

inline constexpr int kNumJoints = 24;
inline constexpr int kPoseSize = 3 * kNumJoints;          // θ: 72
inline constexpr int kBodyPoseSize = kPoseSize - 3;       // θ[3:72] without the root: 69
inline constexpr int kPoseFeatureSize = 9 * (kNumJoints - 1);  // 207 pose blend-shape inputs

using Mat3X = Eigen::Matrix<double, 3, Eigen::Dynamic>;
using MatX3 = Eigen::Matrix<double, Eigen::Dynamic, 3>;
using RowSparse = Eigen::SparseMatrix<double, Eigen::RowMajor>;
using PoseVector = Eigen::Matrix<double, kPoseSize, 1>;

// A fixed linear combination of posed vertices (a keypoint regressor row, x = Σ_v c_v v_v),
// folded into per-joint terms so that posing it costs the same for 1 or 4000 vertices:
//   x = Σ_k [R_world_k u_k + a_k (p_k − γ)] + (Σ_v c_v) γ,  u_k = m_k + S_k β + Q_k f(θ) − a_k J_k,
//   a_k = Σ_v c_v w_vk,  m_k = Σ_v c_v w_vk v_template_v,  S_k = Σ_v c_v w_vk shapedirs_v,
//   Q_k = Σ_v c_v w_vk posedirs_v,  f(θ) = vec(R(θ_j) − I) (the pose blend-shape input).
// Exact for linear blend skinning, because skinning is linear in the vertices.
struct FoldedVertexCombination {
  double weight_sum = 0.0;  // Σ_v c_v: γ enters x as weight_sum · γ (γ is added per vertex)
  std::vector<int> joints;  // joints k with a non-zero term
  std::vector<double> a;
  std::vector<Vec3> m;
  std::vector<Mat3X> S;     // 3 × B each
  std::vector<Eigen::Matrix<double, 3, Eigen::Dynamic>> Q;  // 3 × 207 each (empty: no posedirs)
};

// ∂vec(R(θ_k))/∂θ_k (9 × 3, row-major vec) for every joint: the pose blend shapes' inputs.
using PoseFeatureJacobian = std::array<Eigen::Matrix<double, 9, 3>, kNumJoints>;

// The arrays of an SMPL-format model file, as the core takes them.
struct BodyModelArrays {
  MatX3 v_template;              // N × 3
  Eigen::MatrixXd shapedirs;     // 3N × B, row 3n + c
  Eigen::MatrixXd posedirs;      // 3N × 207, or empty: no pose blend shapes
  RowSparse J_regressor;         // 24 × N
  RowSparse weights;             // N × 24, rows sum to 1
  std::array<int, kNumJoints> parents;  // parents[0] = −1, parents[k] < k
};

// Forward kinematics at one (θ, β, γ): everything the Jacobians need.
struct Skeleton {
  PoseVector pose;                             // θ (72)
  Eigen::VectorXd betas;                       // β (B)
  Vec3 transl;                                 // γ
  std::array<Vec3, kNumJoints> rest_joints;    // J_k(β)
  std::array<Mat3, kNumJoints> local_rotation; // R(θ_k)
  std::array<Mat3, kNumJoints> world_rotation; // R_world_k = R_world_parent R(θ_k)
  // with_jacobians only: A_k = R_world_k J_r(θ_k), so that ∂q/∂θ_k = −[q − p_k]× A_k
  std::array<Mat3, kNumJoints> pose_jacobian;
  std::array<Vec3, kNumJoints> joints;         // p_k, posed, with γ
  std::array<Mat3X, kNumJoints> joint_betas_jacobian;  // with_jacobians only: ∂p_k/∂β (3 × B)
};

class BodyModel {
 public:
  // Validates the arrays (throws std::invalid_argument) and precomputes J_template,
  // J_shapedirs.
  explicit BodyModel(BodyModelArrays arrays);

  int num_vertices() const { return static_cast<int>(arrays_.v_template.rows()); }
  int num_betas() const { return static_cast<int>(arrays_.shapedirs.cols()); }
  bool has_pose_blend_shapes() const { return arrays_.posedirs.size() > 0; }
  const Eigen::Matrix<double, kNumJoints, 3>& J_template() const { return J_template_; }
  const Eigen::MatrixXd& J_shapedirs() const { return J_shapedirs_; }  // 72 × B, row 3k + c

  // Rest joints J(β), 24 × 3.
  Eigen::Matrix<double, kNumJoints, 3> RestJoints(const Eigen::VectorXd& betas) const;

  // Forward kinematics. with_jacobians also fills pose_jacobian and joint_betas_jacobian
  // (needed by every ...Jacobian function below).
  Skeleton Pose(const PoseVector& pose, const Eigen::VectorXd& betas, const Vec3& transl,
                bool with_jacobians) const;

  // ∂p/∂θ (72 × 72) and ∂p/∂β (72 × B) of the posed joints, row 3k + c.
  void JointJacobians(const Skeleton& skeleton, Eigen::MatrixXd* d_pose,
                      Eigen::MatrixXd* d_betas) const;

  // Folds Σ_v c_v v_v (pairs (v, c_v)) into per-joint terms; throws on a bad vertex id.
  FoldedVertexCombination Fold(const std::vector<std::pair<int, double>>& combination) const;

  // Posed Σ_v c_v v_v and, when the pointers are non-null, ∂/∂θ (3 × 72) and ∂/∂β (3 × B).
  // feature: PoseFeature(skeleton) (unused without posedirs); d_feature: needed for d_pose
  // with posedirs. d_betas needs the skeleton's joint_betas_jacobian.
  Vec3 PoseFolded(const Skeleton& skeleton, const FoldedVertexCombination& folded,
                  const Eigen::VectorXd& feature, const PoseFeatureJacobian* d_feature,
                  Eigen::Ref<Eigen::Matrix<double, 3, kPoseSize>>* d_pose,
                  Eigen::Ref<Mat3X>* d_betas) const;

  Eigen::VectorXd PoseFeature(const Skeleton& skeleton) const;  // vec(R(θ_k) − I), k ≥ 1
  PoseFeatureJacobian PoseFeatureDerivative(const Skeleton& skeleton) const;

  // Adds ∂q/∂θ of a point q rigidly attached to joint k to d_pose (3 × 72).
  void AddAttachedPointPoseJacobian(const Skeleton& skeleton, int k, const Vec3& q,
                                    Eigen::Ref<Eigen::Matrix<double, 3, kPoseSize>> d_pose) const;

  // All posed vertices (N × 3), pose blend shapes included when the model has them.
  MatX3 Vertices(const Skeleton& skeleton) const;

  // Posed vertices `ids` (n × 3) and, when the pointers are non-null, their Jacobians
  // ∂v/∂θ (3n × 72) and ∂v/∂β (3n × B), row 3i + c. Needs joint_betas_jacobian for d_betas.
  MatX3 SelectedVertices(const Skeleton& skeleton, const std::vector<int>& ids,
                         Eigen::MatrixXd* d_pose, Eigen::MatrixXd* d_betas) const;

 private:
  // Rest vertex n before skinning: v_template + shapedirs β + posedirs · pose feature.
  Vec3 PosedRestVertex(int n, const Eigen::VectorXd& betas,
                       const Eigen::VectorXd& pose_feature) const;

  BodyModelArrays arrays_;
  Eigen::Matrix<double, kNumJoints, 3> J_template_;
  Eigen::MatrixXd J_shapedirs_;  // 72 × B
};

}  // namespace smplify
