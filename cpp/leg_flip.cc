#include "leg_flip.h"

#include <cmath>

#include <Eigen/Geometry>

#include "rotation.h"

namespace smplify {

Mat3 SmallestRotation(const Vec3& u, const Vec3& v) {
  const Vec3 a = u.normalized(), b = v.normalized();
  const Vec3 axis = a.cross(b);
  const double s = axis.norm(), c = a.dot(b);
  if (s > 1e-12) return Rodrigues(axis / s * std::atan2(s, c));
  if (c > 0.0) return Mat3::Identity();
  // Opposite: half a turn about an axis perpendicular to u (x unless u is along x).
  Vec3 perpendicular = a.cross(Vec3::UnitX());
  if (perpendicular.norm() < 1e-6) perpendicular = a.cross(Vec3::UnitY());
  return Rodrigues(perpendicular.normalized() * M_PI);
}

BodyParameters FlipLegDepth(const BodyModel& model, const BodyParameters& parameters,
                            const LegJoints& leg, double* turned) {
  const Skeleton skeleton =
      model.Pose(parameters.Pose(), parameters.betas, parameters.transl, false);
  const Vec3 mirror(1.0, 1.0, -1.0);
  const Vec3 thigh = skeleton.joints[leg.knee] - skeleton.joints[leg.hip];
  const Vec3 shin = skeleton.joints[leg.ankle] - skeleton.joints[leg.knee];
  const Mat3 q1 = SmallestRotation(thigh, mirror.cwiseProduct(thigh));
  const Mat3 q2 = SmallestRotation(q1 * shin, mirror.cwiseProduct(shin));
  // SMPL's tree: a hip's parent is the pelvis (joint 0), a knee's its hip.
  const Mat3& parent = skeleton.world_rotation[0];
  const Mat3 hip_world = q1 * skeleton.world_rotation[leg.hip];
  BodyParameters out = parameters;
  // body_pose holds joints 1..23: joint k at 3(k − 1).
  out.body_pose.segment<3>(3 * (leg.hip - 1)) =
      AxisAngle(parent.transpose() * q1 * parent * skeleton.local_rotation[leg.hip]);
  out.body_pose.segment<3>(3 * (leg.knee - 1)) =
      AxisAngle(hip_world.transpose() * q2 * hip_world * skeleton.local_rotation[leg.knee]);
  *turned = AxisAngle(q1).norm() + AxisAngle(q2).norm();
  return out;
}

}  // namespace smplify
