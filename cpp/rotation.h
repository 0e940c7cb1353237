// Axis-angle rotations (SO(3)) and their derivatives.
//
//   R(θ) = I + sin‖θ‖/‖θ‖ [θ]× + (1 − cos‖θ‖)/‖θ‖² [θ]×²          (Rodrigues)
//   R(θ + δ) ≈ R(θ) Exp(J_r(θ) δ)                                    (right Jacobian)
//   J_r(θ) = I − (1 − cos‖θ‖)/‖θ‖² [θ]× + (‖θ‖ − sin‖θ‖)/‖θ‖³ [θ]×²
//
// so ∂R/∂θ_i = R [J_r e_i]×. Small angles use Taylor series of the coefficients, so
// everything is exact to double precision at θ = 0 and smooth through it.
#pragma once

#include <Eigen/Core>

namespace smplify {

using Vec3 = Eigen::Vector3d;
using Mat3 = Eigen::Matrix3d;

// [v]×, the cross-product matrix: [v]× w = v × w.
Mat3 Skew(const Vec3& v);

// Rodrigues' formula.
Mat3 Rodrigues(const Vec3& axis_angle);

// Right Jacobian J_r of SO(3) at θ.
Mat3 RightJacobian(const Vec3& axis_angle);

// Axis-angle of a rotation matrix (angle in [0, π]).
Vec3 AxisAngle(const Mat3& rotation);

}  // namespace smplify
