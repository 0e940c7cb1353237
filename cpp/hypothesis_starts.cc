#include "hypothesis_starts.h"

#include <algorithm>
#include <cmath>

#include <Eigen/Dense>

#include "body_evaluation.h"

namespace smplify {

bool PlaceTranslation(const FitContext& context, const Observation& o,
                      BodyParameters* parameters) {
  BodyParameters at_origin = *parameters;
  at_origin.transl.setZero();
  BodyEvaluation body(context.model, context.targets, at_origin);
  body.Update(false);
  const double f = o.camera.focal_length;
  Eigen::Matrix3d normal = Eigen::Matrix3d::Zero();
  Vec3 rhs = Vec3::Zero();
  for (int k = 0; k < o.weights.size(); ++k) {
    const double w = o.weights(k);
    if (w <= 0.0) continue;
    const Vec3 x = body.keypoint(k);
    // A surface keypoint moves by (Σ_v weights) γ; ≈ 1 for the shipped regressors.
    const double s = body.keypoint_transl_scale(k);
    for (int axis = 0; axis < 2; ++axis) {
      const double d = o.keypoints(k, axis) - o.camera.center(axis);
      Vec3 row = Vec3::Zero();
      row(axis) = f * s;
      row(2) = -d * s;
      const double b = d * x.z() - f * x(axis);
      normal += w * w * row * row.transpose();
      rhs += w * w * b * row;
    }
  }
  const Eigen::LDLT<Eigen::Matrix3d> solve(normal);
  if (solve.info() != Eigen::Success || !(std::abs(normal.determinant()) > 0.0)) return false;
  const Vec3 transl = solve.solve(rhs);
  if (!transl.allFinite()) return false;
  for (int k = 0; k < o.weights.size(); ++k) {
    if (o.weights(k) > 0.0 && body.keypoint(k).z() + transl.z() < 0.1) return false;
  }
  parameters->transl = transl;
  return true;
}

BodyParameters HypothesisStart(const FitContext& context, const Observation& o,
                               const StartHypothesis& hypothesis, const Vec3& fallback_transl) {
  BodyParameters p;
  p.global_orient = hypothesis.global_orient;
  p.body_pose = hypothesis.body_pose;
  p.betas = Eigen::VectorXd::Zero(context.model.num_betas());
  const Eigen::Index shared = std::min<Eigen::Index>(p.betas.size(), hypothesis.betas.size());
  p.betas.head(shared) = hypothesis.betas.head(shared);
  p.transl = fallback_transl;
  PlaceTranslation(context, o, &p);
  return p;
}

}  // namespace smplify
