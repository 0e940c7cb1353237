// The SMPLify fit (SPEC §3): camera initialisation, torso fit, sideways test and flip, and
// four stages of Ceres' dogleg trust region over (β, θ) and, unless refine_translation is
// off, the translation γ (docs/design.md, departure 2; SMPLify holds γ after the torso fit).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "body_evaluation.h"
#include "fault_injection.h"
#include "stage_terms.h"
#include "start_scorer.h"
#include "temporal_term.h"

namespace smplify {

struct StageReport {
  std::string name;  // "torso", "stage 1" .. "stage N"
  StageWeights weights;
  int iterations = 0;             // all solver iterations of the stage
  int fixed_shape_iterations = 0; // of those, the follow-up over θ, γ with β held
  std::string termination;
  std::string message;        // Ceres' summary message (why the solve stopped)
  double initial_cost = 0.0;  // Ceres' ½‖r‖²
  double final_cost = 0.0;
  double seconds = 0.0;
};

struct OrientationReport {
  bool flipped = false;
  BodyParameters parameters;
  TermEnergies energies;  // at the last stage's weights
  double track_energy = 0.0;  // E_track (TrackHistory), 0 without a track
  std::vector<StageReport> stages;
};

// The track of an online (warm-started) fit: the two frames before this one. The stages then
// add E_track, TemporalCost (temporal_term.h) with frames a and b held:
//
//   E_track = ‖r(before, last, x)‖² + ‖r_v(last, last, x)‖²
//
// the first the acceleration against the constant-velocity prediction 2·last − before, the
// second the velocity against last (weights × options.track_velocity_ratio). Weights:
// options.track_{orient,pose,transl}_weight × f / Z (Z: last frame's depth γ_z), so that they
// are per pixel of a 1 m lever at the person's depth. With only one frame before, pass it as
// both. hold_shape: β stays constant (the shape the track has settled). Frames the detector
// missed: before_gap frames from `before` to `last`, gap from `last` to this one (1 without a
// miss); the prediction and the weights then span them (track_term.h).
struct TrackHistory {
  BodyParameters before, last;
  bool hold_shape = false;
  double before_gap = 1.0, gap = 1.0;
};

struct FitReport {
  BodyParameters parameters;       // of the chosen orientation
  TermEnergies energies;
  std::vector<StageReport> stages;  // torso fit, then the chosen orientation's stages
  bool sideways = false;
  bool flipped = false;             // the chosen orientation is the flipped one
  std::vector<double> tried_data_energies;  // per orientation tried: initial, then flipped
  double initial_depth = 0.0;       // t_z from similar triangles
  int num_starts = 1;              // start poses tried per orientation (0: none of the prior's)
  int num_hypotheses = 0;          // the observation's hypotheses tried as starts
  int num_pruned = 0;              // prior starts stopped early (FitOptions prune_starts)
  int hypothesis = -1;             // the chosen start's hypothesis index (−1: a prior start)
  int legs_flipped = 0;            // leg depth flips kept (FitOptions leg_flips)
  int num_spheres = 0;
  int num_sphere_pairs = 0;
  // The fitted body in the camera frame: joints (24 × 3), vertices (N × 3; 0 × 3 when Fit
  // was asked for none) and the targets'
  // keypoints (K × 3; 0 for a keypoint the model has no point for).
  MatX3 joints, vertices, keypoints;
  double track_energy = 0.0;  // E_track at the result (0 without a track)
  double seconds = 0.0;
  // With FitOptions start_scorer (and hypotheses) or record_starts, a fit from scratch: every
  // finished start that could be evaluated, in run order (the prior's starts per orientation,
  // then the readings): its features (N × F, start_scorer.h), camera-frame joints (24 × 3),
  // hypothesis index (−1: a prior start), the default's selection score S and what
  // start_selection="total" compares (E_total at the last stage's weights + λ_R R), and
  // which of them the start scorer kept (−1: no scorer, or a leg flip replaced its choice);
  // and its parameters and keypoints (K × 3, camera frame; as `keypoints`), so that a caller
  // can go on from a start the selection did not keep (the online Fitter's rival track).
  Eigen::MatrixXd start_features = Eigen::MatrixXd(0, kNumStartFeatures);
  std::vector<MatX3> start_joints;
  std::vector<BodyParameters> start_parameters;
  std::vector<MatX3> start_keypoints;
  std::vector<int> start_hypotheses;
  Eigen::VectorXd start_default_scores;
  Eigen::VectorXd start_total_scores;
  int chosen_start = -1;
};

class Fitter {
 public:
  // Checks the inputs' sizes, index ranges and finiteness against the model (throws
  // std::invalid_argument).
  explicit Fitter(FitContext context);

  // A full fit from scratch, or warm-started from `initial`: then the camera initialisation,
  // the sideways test and the strong-prior stages are skipped (the previous frame settled
  // depth, orientation and the pose's basin) and only the last stage's weights run, once.
  // Bad input (CheckObservation; `initial` of the wrong size or not finite) throws
  // std::invalid_argument; an exception inside a start is rethrown here, also with threads > 1.
  // With `track` (needs `initial`), the stages add E_track (TrackHistory). Without
  // `with_vertices` the report's vertices stay empty (0 × 3): skinning every vertex costs
  // about as much as a warm solve, and an online caller poses the mesh only when asked.
  FitReport Fit(const Observation& observation, const BodyParameters* initial = nullptr,
                const TrackHistory* track = nullptr, bool with_vertices = true) const;

  // One term's residuals and Jacobian at `parameters` and stage `stage`'s weights (spheres
  // placed at `parameters.betas`). Throws std::invalid_argument on bad input and
  // std::runtime_error if the term cannot be evaluated there (e.g. a non-finite pose).
  TermEvaluation EvaluateTerm(const std::string& term, int stage, const Observation& observation,
                              BodyParameters parameters) const;

  // One keypoint, weight and confidence per target, torso indices in [−1, K), a finite focal
  // length > 0 and a finite principal point (throws std::invalid_argument).
  void CheckObservation(const Observation& observation) const;

  // Camera initialisation and torso fit only (SPEC §3.1-2).
  BodyParameters InitializeCamera(const Observation& observation, double* initial_depth,
                                  StageReport* torso_report) const;

  // Stage `stage`'s weights λ (throws std::invalid_argument if there is no such stage).
  StageWeights Weights(int stage) const;
  const FitContext& context() const { return context_; }

  // For tests only (smplify._core._testing): a copy of this fitter whose stage problems get
  // the fault's extra residual block (fault_injection.h).
  Fitter WithFault(const InjectedFault& fault) const {
    Fitter copy(*this);
    copy.fault_ = fault;
    return copy;
  }
  // For tests only (smplify._core._testing): a copy of this fitter whose prior starts run
  // their first `end_stage` stages only, none pruned, each as a pruned start's head runs
  // them (the energies at the last stage's weights, no β-held solve: only the last stage
  // ends with one). Needs 1 ≤ end_stage < the number of stages (throws
  // std::invalid_argument).
  Fitter WithEndStage(int end_stage) const;

 private:
  // Stages first_stage .. end_stage − 1 (0-based; end_stage −1: to the last) from
  // `parameters`, turned first if `flipped`. The energies are at the last stage's weights
  // whichever stage the run ends at.
  OrientationReport RunStages(const Observation& observation, BodyParameters parameters,
                              bool flipped, int first_stage,
                              const TrackHistory* track = nullptr, int end_stage = -1) const;
  // FitOptions prune_starts: runs the starts of one orientation (`from`: p with each start's
  // body pose) to the end, all of them only up to prune_stage and then the best
  // prune_starts by `score` (lower wins, ties to the earlier start); returns the finished
  // runs in start order and adds the dropped ones to *pruned.
  std::vector<OrientationReport> RunStartsPruned(
      const Observation& observation, const std::vector<BodyParameters>& from, bool flipped,
      int first_stage, const TrackHistory* track,
      const std::function<double(const OrientationReport&)>& score, int* pruned) const;
  // TemporalCost's weights for the acceleration (velocity: × track_velocity_ratio) rows.
  TemporalWeights TrackWeights(const Observation& observation, const TrackHistory& track) const;
  bool IsSideways(const Observation& observation) const;
  // The prior's starts in each orientation (SPEC §3.3): the chosen one; sets report fields.
  OrientationReport RunPriorStarts(const Observation& observation, const BodyParameters& p,
                                   const std::vector<bool>& orientations,
                                   const std::vector<Eigen::VectorXd>& starts, int first_stage,
                                   const TrackHistory* track, FitReport* report,
                                   std::vector<OrientationReport>* pool = nullptr) const;
  // The observation's hypotheses as starts: the chosen one (its index in *chosen) and its
  // selection score.
  // With `pool`, every finished start is appended to it too (the hypotheses' log-probability
  // gaps to *gaps).
  OrientationReport RunHypotheses(const Observation& observation, const Vec3& fallback_transl,
                                  int* chosen, double* chosen_score,
                                  std::vector<OrientationReport>* pool = nullptr,
                                  std::vector<double>* gaps = nullptr) const;
  // FitOptions start_scorer / record_starts: the pooled starts' features (into the report);
  // returns the index into `pool` the scorer keeps (−1 without a scorer or a valid start).
  // pool_hypotheses: per pooled start its hypothesis index (−1: a prior start); gaps: per
  // hypothesis its log-probability gap.
  int ScoreStarts(const Observation& observation, const std::vector<OrientationReport>& pool,
                  const std::vector<int>& pool_hypotheses, const std::vector<double>& gaps,
                  FitReport* report) const;

  // FitOptions leg_flips: *best, or its refit with a leg's depth mirrored if that scores
  // lower (each leg in turn, from the better so far); returns how many flips were kept.
  int TryLegFlips(const Observation& observation, OrientationReport* best) const;
  // reading_weight · reading_weight_scale · R of the body (reading_score.h; the scale is the
  // observation's), 0 when off or without readings.
  double ReadingPenalty(const Observation& observation, const BodyParameters& parameters) const;
  // The same for a body's (K, 3) format keypoints already posed.
  double ReadingPenalty(const Observation& observation, const MatX3& keypoints) const;
  // λ_R of this observation: reading_weight · its reading_weight_scale (the person's size).
  double ReadingWeight(const Observation& observation) const {
    return context_.options.reading_weight * observation.reading_weight_scale;
  }
  // A start's selection terms, the body posed once: E_sel = DataEnergy(σ = selection_sigma),
  // the reading score R (0 without readings) and the penalty reading_weight · scale · R.
  struct SelectionTerms {
    double data = 0.0;
    double reading_score = 0.0;
    double reading_penalty = 0.0;
  };
  SelectionTerms Selection(const Observation& observation, const BodyParameters& parameters) const;
  // The same with the body already posed at `parameters` (body->Update(false) done), so that
  // a caller needing the posed body for more (ScoreStarts) poses it once. Trusted, not
  // checked: `body` must be posed at exactly these `parameters` (a body posed elsewhere
  // gives that pose's terms, silently).
  SelectionTerms Selection(const Observation& observation, const BodyParameters& parameters,
                           BodyEvaluation* body) const;
  // What start selections compare: E_sel + ReadingPenalty. `reading_penalty`, if given,
  // receives the ReadingPenalty part.
  double SelectionScore(const Observation& observation, const BodyParameters& parameters,
                        double* reading_penalty = nullptr) const;

  FitContext context_;
  std::optional<InjectedFault> fault_;
  int end_stage_ = -1;  // WithEndStage's (−1: every stage)
};

// ½-turn about the body's own vertical (y) axis: R ↦ R · R_y(π).
Vec3 FlippedOrientation(const Vec3& global_orient);

}  // namespace smplify
