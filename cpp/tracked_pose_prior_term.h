// E_θ + the track's body-pose rows, one block of 70 rows instead of 70 + 69 (a warm tracked
// frame's solve; cpp/fitter.h TrackHistory, cpp/track_term.h):
//
//   E(x) = λ_θ² [½ ‖L_kᵀ(x − μ_k)‖² − log c_k] + w² ‖x − m‖²,   k = k*(x)
//        = ‖S_k V_kᵀ (x − x*_k)‖² + e_k
//
// x: the body pose θ[3:72] (69); λ_θ, L_k, μ_k, c_k, k*(x): PosePriorCost's (pose_prior_term.h,
// the component re-chosen at every point by the prior's rows alone, as there); w, m: the
// track's body-pose weight and target (TrackCost's W_θ, one value for the 69 rows, and M_θ).
// With the prior's precision L_k L_kᵀ = V_k diag(Λ_k) V_kᵀ (V_k orthonormal, PriorEigen,
// computed once per prior):
//
//   s_k² = λ_θ²/2 Λ_k + w²   (S_k = diag(s_k))
//   u = V_kᵀ μ_k,  v = V_kᵀ m,  t = (λ_θ²/2 Λ_k ⊙ u + w² v) / s_k²,  x*_k = V_k t
//   e_k = λ_θ²/2 Σ Λ_k (t − u)² − λ_θ² log c_k + w² Σ (t − v)²      (E at x*_k, ≥ 0)
//
// Rows r = [S_k V_kᵀ (x − x*_k); √e_k]: ‖r‖² = E(x), and the Gauss-Newton matrix JᵀJ =
// V_k S_k² V_kᵀ = λ_θ²/2 L_k L_kᵀ + w² I and gradient Jᵀr are those of the two blocks it
// replaces (PosePriorCost's 70 rows and TrackCost's 69 body-pose rows): the same energy,
// steps and stopping tests, with 69 fewer rows in the dense normal equations (whose cost
// grows with the rows; ~26% of a warm frame's). Needs w² > 0 (then s_k > 0; the constructor
// throws std::invalid_argument otherwise). Joining is exact only for plain squares: neither
// joined block (PosePriorCost's, TrackCost's body-pose rows) may carry a loss function.
// Jacobian ∂r/∂x = [S_k V_kᵀ; 0]. A pose no prior component can evaluate (PosePriorCost)
// cannot be evaluated here either. Parameter block: body_pose (69).
// Twin: smplify.reference.track.tracked_pose_prior (its energy, JᵀJ and gradient).
#pragma once

#include <memory>
#include <vector>

#include <Eigen/Core>
#include <ceres/sized_cost_function.h>

#include "body_model.h"
#include "fit_inputs.h"
#include "pose_prior_term.h"

namespace smplify {

using BodyPoseVector = Eigen::Matrix<double, kBodyPoseSize, 1>;
using BodyPoseMatrix = Eigen::Matrix<double, kBodyPoseSize, kBodyPoseSize>;

// One prior component's precision L_k L_kᵀ = V diag(Λ) V_kᵀ and V_kᵀ μ_k.
struct PriorEigen {
  BodyPoseMatrix vectors;       // V_k (columns orthonormal)
  BodyPoseVector values;        // Λ_k (> 0)
  BodyPoseVector rotated_mean;  // u = V_kᵀ μ_k
};

// Per component of `prior` (its precision factors checked finite by the Fitter; their lower
// triangles only are read, as PosePriorCost does). Throws std::invalid_argument if a
// decomposition fails.
std::vector<PriorEigen> DecomposePrior(const PosePriorArrays& prior);

// Per component an upper bound on ‖L_k‖₂ = √max Λ_k (a margin of 1e-6 over the computed
// eigenvalue): ComponentChoice's bounds.
std::vector<double> FactorNorms(const std::vector<PriorEigen>& eigen);

class TrackedPosePriorCost : public ceres::SizedCostFunction<kBodyPoseSize + 1, kBodyPoseSize> {
 public:
  // weight: λ_θ; track_weight: w (w² > 0); track_target: m. `prior` and `eigen` (DecomposePrior
  // of it) outlive the cost; `bounds`: FactorNorms(eigen) (FitContext::prior_bounds).
  TrackedPosePriorCost(const PosePriorArrays& prior, const std::vector<PriorEigen>& eigen,
                       const std::vector<double>& bounds, double weight, double track_weight, const BodyPoseVector& track_target);

  bool Evaluate(double const* const* parameters, double* residuals,
                double** jacobians) const override;

 private:
  // Component k's S_k V_kᵀ, x*_k and √e_k: computed on first use (a solve rarely leaves the
  // component it starts in), then kept for the cost's life.
  struct Component {
    Eigen::Matrix<double, kBodyPoseSize, kBodyPoseSize, Eigen::RowMajor> jacobian;  // S_k V_kᵀ
    BodyPoseVector centre;   // x*_k
    double constant = 0.0;   // √e_k
  };
  const Component& ComponentAt(int k) const;

  const PosePriorArrays& prior_;
  const std::vector<PriorEigen>& eigen_;
  mutable ComponentChoice choice_;  // k* at each new point
  const double weight_;        // λ_θ
  const double track_weight_;  // w
  const BodyPoseVector track_target_;  // m
  // As PosePriorCost: the last point's k* (Ceres evaluates an accepted point twice). Not
  // thread-safe (one cost per problem, solved on one thread).
  mutable BodyPoseVector cached_pose_;
  mutable int cached_component_ = -1;
  mutable std::vector<std::unique_ptr<Component>> components_;  // per k, null until used
};

}  // namespace smplify
