// The five energy terms of one stage, sharing one BodyEvaluation (SPEC §2):
//
//   E = E_J + λ_θ² E_θ + λ_a² E_a + λ_sp² E_sp + λ_β² E_β      (λ act on residuals)
//
// Built once per stage; used both to assemble the Ceres problem and to report energies and
// Jacobians term by term.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <ceres/problem.h>

#include "angle_prior_term.h"
#include "body_evaluation.h"
#include "body_model.h"
#include "capsule_spheres.h"
#include "fit_context.h"
#include "fit_inputs.h"
#include "interpenetration_term.h"
#include "keypoint_data_term.h"
#include "knee_depth_term.h"
#include "pose_prior_term.h"
#include "relative_keypoint_term.h"
#include "shape_prior_term.h"

namespace smplify {

struct StageWeights {
  double pose = 0.0;              // λ_θ
  double shape = 0.0;             // λ_β
  double angle = 0.0;             // λ_a
  double interpenetration = 0.0;  // λ_sp
};

struct TermEnergies {
  double data = 0.0, pose = 0.0, angle = 0.0, shape = 0.0, interpenetration = 0.0;
  double keypoints_3d = 0.0;  // E_3D, 0 without 3D keypoints
  double knee_depth = 0.0;    // E_knee, 0 at knee_depth_weight 0
  double total() const {
    return data + pose + angle + shape + interpenetration + keypoints_3d + knee_depth;
  }
};

// The terms' names and TermEnergies' fields, in that order (FitResult.energy's keys).
inline constexpr std::array<std::pair<const char*, double TermEnergies::*>, 7> kTermEnergies = {{
    {"data", &TermEnergies::data},
    {"pose", &TermEnergies::pose},
    {"angle", &TermEnergies::angle},
    {"shape", &TermEnergies::shape},
    {"interpenetration", &TermEnergies::interpenetration},
    {"keypoints_3d", &TermEnergies::keypoints_3d},
    {"knee_depth", &TermEnergies::knee_depth},
}};

// The field of `energies` for the term named `name`; null for a name not among them (e.g. the
// sequence's "temporal").
inline double* TermEnergy(TermEnergies* energies, const std::string& name) {
  for (const auto& [term, field] : kTermEnergies) {
    if (name == term) return &(energies->*field);
  }
  return nullptr;
}

// A term's residuals and its Jacobian over [global_orient, body_pose, betas, transl].
struct TermEvaluation {
  Eigen::VectorXd residuals;
  Eigen::MatrixXd jacobian;  // rows × (72 + B + 3)
};

class StageTerms {
 public:
  StageTerms(const FitContext& context, const Observation& observation,
             BodyParameters* parameters, const StageWeights& weights);

  // Adds the terms to a problem whose parameter blocks are *parameters' arrays; E_θ only
  // `with_pose_prior` (a tracked warm frame's stage adds it joined to the track's rows).
  void AddTo(ceres::Problem* problem, bool with_pose_prior = true);

  TermEnergies Energies();

  // Term by name: "data", "pose", "angle", "shape", "interpenetration", "keypoints_3d",
  // "knee_depth".
  TermEvaluation Evaluate(const std::string& term);

  BodyEvaluation& evaluation() { return evaluation_; }

  // Whether E_sp is among the terms (weight > 0 and the model has capsules). Its spheres
  // follow β but its Jacobian reaches θ only (SPEC §2).
  bool has_interpenetration() const { return evaluation_.sphere_layout() != nullptr; }

 private:
  struct Term {
    std::string name;
    std::unique_ptr<ceres::CostFunction> cost;
    std::vector<double*> blocks;
    std::vector<int> columns;  // first column of each block in the full parameter vector
  };
  void Add(std::string name, std::unique_ptr<ceres::CostFunction> cost,
           std::vector<int> which_blocks);
  double SquaredNorm(Term& term);

  BodyParameters* parameters_;
  BodyEvaluation evaluation_;
  // E_θ's cost among terms_ (AddTo leaves it out without with_pose_prior): held, not looked
  // up by name, so that renaming a term cannot make a joined frame count the prior twice.
  const ceres::CostFunction* pose_prior_ = nullptr;
  std::vector<Term> terms_;
};

// E_J at `parameters` with the Geman-McClure σ = `sigma` (pixels): the data term as the
// stages fit it when sigma = options.data_sigma. +inf if a keypoint is at or behind the camera.
double DataEnergy(const FitContext& context, const Observation& observation,
                  const BodyParameters& parameters, double sigma);
// The same with the body already evaluated at `parameters` (evaluation->Update(false) done).
double DataEnergy(const FitContext& context, const Observation& observation,
                  const BodyParameters& parameters, double sigma, BodyEvaluation* evaluation);

// E_3D at `parameters` (body already evaluated there, evaluation->Update(false) done) against
// the observation's own 3D keypoints at its keypoints_3d_weight, as the stages fit it from the
// prior's starts; 0 without 3D keypoints (or weight 0).
double Keypoints3dEnergy(const FitContext& context, const Observation& observation,
                         const BodyParameters& parameters, BodyEvaluation* evaluation);

// E_3D's cost (relative_keypoint_term.h) on the data term's keypoints (`data_ids`,
// `data_weights`: DataKeypoints) that have a finite 3D keypoint, reading the body from
// `evaluation`; null without 3D keypoints (weight 0, or fewer than two such keypoints).
// The cost keeps the `evaluation` pointer (targets and weights are copied): `evaluation`
// must outlive it.
std::unique_ptr<RelativeKeypointCost> RelativeKeypointsCost(const FitContext& context,
                                                            const Observation& observation,
                                                            const std::vector<int>& data_ids,
                                                            const Eigen::VectorXd& data_weights,
                                                            BodyEvaluation* evaluation);

// The data term's keypoints: those with weight > 0, and their weights.
void DataKeypoints(const Observation& observation, std::vector<int>* ids,
                   Eigen::VectorXd* weights);

// E_3D's keypoints: of the data term's (DataKeypoints), those with a finite 3D keypoint, with
// their 3D targets and weights (none without 3D keypoints, or with fewer than two such).
void RelativeKeypoints(const Observation& observation, const std::vector<int>& data_ids,
                       const Eigen::VectorXd& data_weights, std::vector<int>* ids,
                       MatX3* targets, Eigen::VectorXd* weights);

}  // namespace smplify
