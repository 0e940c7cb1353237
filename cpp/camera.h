// Pinhole camera at the origin with OpenCV axes (x right, y down, z forward):
//   u = f X / Z + c_x,   v = f Y / Z + c_y.
#pragma once

#include <Eigen/Core>

namespace smplify {

struct PinholeCamera {
  double focal_length = 5000.0;
  Eigen::Vector2d center = Eigen::Vector2d::Zero();

  Eigen::Vector2d Project(const Eigen::Vector3d& X) const {
    return focal_length * X.head<2>() / X.z() + center;
  }

  // ∂(u, v)/∂X = f/Z [[1, 0, −X/Z], [0, 1, −Y/Z]].
  Eigen::Matrix<double, 2, 3> ProjectionJacobian(const Eigen::Vector3d& X) const {
    const double inv_z = 1.0 / X.z();
    Eigen::Matrix<double, 2, 3> J;
    J << 1.0, 0.0, -X.x() * inv_z,  //
        0.0, 1.0, -X.y() * inv_z;
    return focal_length * inv_z * J;
  }
};

}  // namespace smplify
