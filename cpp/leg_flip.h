// A start with one leg's depth reading mirrored (SPEC §6, docs/design.md "Leg flips"). One
// view leaves a leg's depth open: a leg raised sideways and one kicked backward project
// alike, and the energy often prefers the wrong one. Mirroring the leg's bones about the
// plane through the hip parallel to the image (M = diag(1, 1, −1) in camera axes) gives the
// other reading with nearly the same 2D:
//
//   thigh d = p_knee − p_hip,  Q₁ = the smallest rotation taking d to M d,
//   R_world,hip ← Q₁ R_world,hip,  i.e.  θ_hip ← Log(R_pelvisᵀ Q₁ R_pelvis R(θ_hip));
//   shin s = p_ankle − p_knee,  Q₂ = the smallest rotation taking Q₁ s to M s,
//   R_world,knee ← Q₂ Q₁ R_world,knee,  i.e.  θ_knee ← Log(R'_hipᵀ Q₂ R'_hip R(θ_knee)),
//
// with R'_hip = Q₁ R_world,hip, p the posed joints and R_world the joints' world rotations
// (camera frame); the foot follows the knee. The smallest rotation taking u to v turns about
// u × v by atan2(‖u × v‖, u · v) (about x when v = −u).
#pragma once

#include "body_model.h"
#include "fit_inputs.h"

namespace smplify {

// SMPL joint indices of a leg: hip (a child of the pelvis), knee, ankle.
struct LegJoints {
  int hip, knee, ankle;
};
inline constexpr LegJoints kLeftLeg = {1, 4, 7};
inline constexpr LegJoints kRightLeg = {2, 5, 8};

// The parameters with `leg` mirrored in depth (above); the angle (radians) the thigh and the
// shin turned by, summed, in *turned (small: the leg lies nearly in the image plane).
BodyParameters FlipLegDepth(const BodyModel& model, const BodyParameters& parameters,
                            const LegJoints& leg, double* turned);

// The smallest rotation taking the direction of u to that of v.
Mat3 SmallestRotation(const Vec3& u, const Vec3& v);

}  // namespace smplify
