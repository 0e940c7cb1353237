// A learned start selection (FitOptions start_scorer; docs/design.md "Start scorer"). A fit
// from scratch with the initialiser's readings finishes N starts (the prior's, in each
// orientation, and the readings); the default keeps, among a kind's starts, the lowest
// selection score (between orientations, the lower data term as fitted: fitter.cc)
//
//   S_i = E_sel,i + λ_R R_i + λ_h g_i
//
// (E_sel: DataEnergy at σ = selection_sigma; R: the reading score, reading_score.h; g: the
// reading's log-probability gap to the best-scored reading, 0 for the prior's starts). The
// energy prefers wrong depth readings, so the scorer ranks the starts by a tiny MLP
//
//   s_i = v · tanh(Wᵀ f_i + b),   the start with the lowest s wins,
//
// (W: F × H, b and v: H; H hidden units) among the starts that explain the keypoints about as
// well as the best: ΔE_sel ≤ σ_sel², at most one keypoint's whole robust cost (σ_sel =
// selection_sigma) worse. A start far off in 2D (E_sel saturated on many keypoints) is
// never kept. f_i holds F = kNumStartFeatures features of each start relative to the others
// (Δx_i = x_i − min_j x_j over the N finished starts, ℓ(x) = log(1 + x)):
//
//   f0 = ℓ(ΔS)              the default's own score
//   f1 = ℓ(ΔE_sel)          the data term at σ = selection_sigma
//   f2 = ℓ(ΔR)              the reading score (0 without readings)
//   f3..f5 = ℓ(ΔE_θ), ℓ(ΔE_a), ℓ(ΔE_β)   pose, angle, shape energies at the last stage's
//                           weights
//   f6 = ℓ(ΔE_3D)           E_3D of every start against the same 3D keypoints, the
//                           observation's own (the caller's keypoints_3d, else the anchor:
//                           the best-scored reading) at its weight, whichever 3D the start
//                           was fitted to (a reading's start fits its own reading's):
//                           Keypoints3dEnergy, stage_terms.h; 0 without 3D keypoints
//   f7 = ℓ(ΔE_sp)           interpenetration at the last stage's weights
//   f8 = 1 for a reading's start, 0 for the prior's
//   f9 = g                  the reading's log-probability gap (0 for the prior's)
//   f10 = 1 for the flipped orientation
//   f11 = ΔC (decimetres)   C_i = mean over j ≠ i of d_ij, the RMS distance between the
//                           starts' root-relative joints (J_ik − J_i0) − (J_jk − J_j0)
//                           (dm): how far the start lies from the others' 3D (agreement)
//   f12 = (1 / (N − 1)) #{j ≠ i : d_ij < 0.5 dm}   the share of other starts in its basin
//   f13 = ΔP                P_i = Σ_h p_h d_ih over the readings' starts h, p_h ∝ exp(−g_h)
//                           (0 without readings' starts): distance to the readings' 3D,
//                           weighted by their probabilities
//   f14 = min_{j ≠ i} d_ij  (dm; 0 for a single start)   how isolated the start is
//   f15 = g_h*, h* = argmin_h d_ih over the readings' starts (0 without them): the
//                           initialiser's own log-probability gap for the depth reading the
//                           start took (its nearest reading's start; a reading's start is its
//                           own nearest)
//   f16 = ΔO                O_i = DepthOrderDisagreement of the start's keypoints with the
//                           observation's 3D keypoints (0 without them): which depth order
//                           the start took, against the caller's 3D (or the anchor's)
//
// The twin is smplify.reference.selection.start_features; tools/build_start_scorer.py
// learns W, b, v on training mocap subjects.
#pragma once

#include <vector>

#include <Eigen/Core>

#include "body_model.h"
#include "stage_terms.h"

namespace smplify {

inline constexpr int kNumStartFeatures = 17;

// What the features read of one finished start.
struct StartCandidate {
  double selection_data = 0.0;  // E_sel
  double reading_score = 0.0;   // R (nats; 0 without readings)
  double default_score = 0.0;   // S
  TermEnergies energies;        // at the last stage's weights (keypoints_3d unused: below)
  double keypoints_3d = 0.0;    // E_3D against the observation's 3D keypoints (f6)
  double depth_disorder = 0.0;  // O (f16)
  bool hypothesis = false;      // a reading's start
  double log_score_gap = 0.0;   // g
  bool flipped = false;
  MatX3 joints;                 // 24 × 3, camera frame
};

// Pairs of keypoints whose depths the reference orders by at least this much (metres): a
// detector's or the anchor's depth is uncertain by several centimetres.
inline constexpr double kDepthOrderMargin = 0.1;

// O = the share of keypoint pairs (a, b), both with weight > 0 and a finite reference, with
// |Ŷ_az − Ŷ_bz| ≥ kDepthOrderMargin, that the keypoints X order the other way in depth:
// (X_az − X_bz)(Ŷ_az − Ŷ_bz) < 0. 0 without such pairs (or without a reference: 0 rows).
// keypoints, reference: K × 3 (camera axes); weights: K.
double DepthOrderDisagreement(const MatX3& keypoints, const MatX3& reference,
                              const Eigen::VectorXd& weights);

// N × F features of the N starts (all with finite E_sel and joints).
Eigen::MatrixXd StartFeatures(const std::vector<StartCandidate>& candidates);

// s (N) of the features (N × F) for weights = [W row by row (F × H), b (H), v (H)];
// throws std::invalid_argument unless the size is H (F + 2) for some H >= 1.
Eigen::VectorXd StartScores(const Eigen::MatrixXd& features, const Eigen::VectorXd& weights);

// Whether `size` weights make a scorer: H (F + 2) for some H >= 1.
bool IsStartScorerSize(size_t size);

// FitOptions::start_scorer's raw form: [F, W row by row (F × H), b (H), v (H)], the feature
// count F first, so that weights learned on another feature set (whose H (F' + 2) values may
// also be a multiple of F + 2) are rejected, not misread. Whether `raw` is such a vector
// with F = kNumStartFeatures, H >= 1 and every value finite.
bool IsStartScorerOption(const std::vector<double>& raw);

// The start the scorer keeps: the lowest score among the starts with f1 = ℓ(ΔE_sel) ≤
// ℓ(σ_sel²) (the first of equals); −1 for no start.
int KeptStart(const Eigen::MatrixXd& features, const Eigen::VectorXd& scores,
              double selection_sigma);

}  // namespace smplify
