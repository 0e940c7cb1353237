// Capsules → spheres for the interpenetration term (SPEC §2, docs/design.md "Capsule file").
//
//   r(β) = radius_mean + radius_betas·β,   l(β) = length_mean + length_betas·β
//   axis A → B in the shaped rest pose: A = J_joint(β) + offset + start·l·axis, B = A + l·axis
//   n = 2 + max(0, ⌊l/(2r) − 1⌋) spheres at A + (m/(n−1))(B − A), radius r, σ = sigma_scale·r
//
// The sphere counts (and so the pairs, one E_sp row each) are fixed once per fit from β = 0;
// radii and positions follow β.
#pragma once

#include <utility>
#include <vector>

#include <Eigen/Core>

#include "fit_inputs.h"

namespace smplify {

// Which capsule each sphere belongs to and where along its axis; fixed for a fit.
struct SphereLayout {
  std::vector<int> capsule;                 // S
  std::vector<int> joint;                   // S: joint each sphere rides on
  Eigen::VectorXd fraction;                 // S: m / (n − 1)
  std::vector<std::pair<int, int>> pairs;   // incompatible sphere pairs
  // Capsule pair g (one E_sp row) owns pairs[pair_begin[g] .. pair_begin[g + 1]).
  std::vector<int> pair_begin;
  int num_capsule_pairs() const {
    return pair_begin.empty() ? 0 : static_cast<int>(pair_begin.size()) - 1;
  }
  int size() const { return static_cast<int>(capsule.size()); }
};

// Layout with sphere counts from shape `betas` (a fit uses β = 0). Pair order: the capsule
// pairs in order, sphere of the first capsule major, of the second minor. Throws
// std::invalid_argument unless every r(β) is finite and > 0 and every l(β) finite and ≥ 0, or
// if a capsule would get more than 1000 spheres.
SphereLayout MakeSphereLayout(const CapsuleArrays& capsules, const Eigen::VectorXd& betas);

// Sphere geometry at shape β: rest_offset (S × 3) = centre − J_joint in the rest frame (so a
// posed centre is R_world_joint · rest_offset + p_joint), sigma (S) = sigma_scale · r.
void PlaceSpheres(const CapsuleArrays& capsules, const SphereLayout& layout,
                  const Eigen::VectorXd& betas, double sigma_scale,
                  Eigen::Matrix<double, Eigen::Dynamic, 3>* rest_offset, Eigen::VectorXd* sigma);

}  // namespace smplify
