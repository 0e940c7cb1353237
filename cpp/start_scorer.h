// A learned start selection (FitOptions start_scorer; docs/design.md "Start scorer"). A fit
// from scratch with the initialiser's readings finishes N starts (the prior's, in each
// orientation, and the readings); the default keeps the lowest selection score
//
//   S_i = E_sel,i + λ_R R_i + λ_h g_i
//
// (E_sel: DataEnergy at σ = selection_sigma; R: the reading score, reading_score.h; g: the
// reading's log-probability gap to the best-scored reading, 0 for the prior's starts). The
// energy prefers wrong depth readings, so the scorer ranks the starts by a linear score
//
//   s_i = w · f_i,   the start with the lowest s wins,
//
// over F = kNumStartFeatures features of each start relative to the others (Δx_i = x_i − min_j
// x_j over the N finished starts, ℓ(x) = log(1 + x)):
//
//   f0 = ℓ(ΔS)              the default's own score
//   f1 = ℓ(ΔE_sel)          the data term at σ = selection_sigma
//   f2 = ℓ(ΔR)              the reading score (0 without readings)
//   f3..f6 = ℓ(ΔE_θ), ℓ(ΔE_a), ℓ(ΔE_β), ℓ(ΔE_3D)   pose, angle, shape, anchor energies at
//                           the last stage's weights
//   f7 = ℓ(ΔE_sp)           interpenetration at the last stage's weights
//   f8 = 1 for a reading's start, 0 for the prior's
//   f9 = g                  the reading's log-probability gap (0 for the prior's)
//   f10 = 1 for the flipped orientation
//   f11 = ΔC (decimetres)   C_i = mean over j ≠ i of the RMS distance between the starts'
//                           root-relative joints (J_ik − J_i0) − (J_jk − J_j0): how far the
//                           start lies from the others' 3D (agreement)
//
// The twin is smplify.reference.selection.start_features; tools/build_start_scorer.py
// learns w on training mocap subjects.
#pragma once

#include <vector>

#include <Eigen/Core>

#include "body_model.h"
#include "stage_terms.h"

namespace smplify {

inline constexpr int kNumStartFeatures = 12;

// What the features read of one finished start.
struct StartCandidate {
  double selection_data = 0.0;  // E_sel
  double reading_score = 0.0;   // R (nats; 0 without readings)
  double default_score = 0.0;   // S
  TermEnergies energies;        // at the last stage's weights
  bool hypothesis = false;      // a reading's start
  double log_score_gap = 0.0;   // g
  bool flipped = false;
  MatX3 joints;                 // 24 × 3, camera frame
};

// N × F features of the N starts (all with finite E_sel and joints).
Eigen::MatrixXd StartFeatures(const std::vector<StartCandidate>& candidates);

// s = features · weights (N); throws std::invalid_argument if weights has not F entries.
Eigen::VectorXd StartScores(const Eigen::MatrixXd& features, const Eigen::VectorXd& weights);

}  // namespace smplify
