// Starts from outside the prior: a learned initialiser's readings of one image (SPEC §6,
// docs/design.md "Hypothesis starts"). Each reading gives the body's orientation in the camera
// frame and its body pose, but no translation; this places it.
#pragma once

#include "fit_context.h"
#include "fit_inputs.h"

namespace smplify {

// The translation γ that best projects the posed keypoints X_k (at γ = 0) onto the observed
// x̂_k = (u_k, v_k): with the camera's f and (c_x, c_y), the projection condition
// f (X + γ_x) = (u − c_x)(Z + γ_z) (and the same for y) is linear in γ, so the 2K rows
//   w_k [f, 0, −(u_k − c_x)] γ = w_k ((u_k − c_x) Z_k − f X_k)
//   w_k [0, f, −(v_k − c_y)] γ = w_k ((v_k − c_y) Z_k − f Y_k)
// over the data term's keypoints (weights w_k) are solved by least squares. Returns false
// (γ untouched) if the system is singular or places a keypoint less than 0.1 m in front of
// the camera.
bool PlaceTranslation(const FitContext& context, const Observation& observation,
                      BodyParameters* parameters);

// The parameters a hypothesis starts from: its orientation, pose and betas (the model's
// further betas at 0),
// γ from PlaceTranslation or, if that fails, `fallback_transl`.
BodyParameters HypothesisStart(const FitContext& context, const Observation& observation,
                               const StartHypothesis& hypothesis, const Vec3& fallback_transl);

}  // namespace smplify
