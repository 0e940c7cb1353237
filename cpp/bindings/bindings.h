// One Bind* function per area, gathered by main.cc into the private module smplify._core.
#pragma once

#include <utility>
#include <vector>

#include <Eigen/Core>
#include <pybind11/pybind11.h>

#include "../fit_inputs.h"

namespace smplify {

class Fitter;
struct InjectedFault;
struct ReadingMixture;

void BindBodyModel(pybind11::module_& m);
void BindFit(pybind11::module_& m);
void BindSequence(pybind11::module_& m);
void BindTesting(pybind11::module_& m);
void BindInitializer(pybind11::module_& m);
void BindOnline(pybind11::module_& m);

// The C++ fitter inside a Python _core.Fitter (TypeError if `fitter` is not one).
const Fitter& CoreFitter(pybind11::handle fitter);

// Readings as Python passes them: (list of K x 3 keypoints, log weights), or None (empty).
ReadingMixture ToReadings(const pybind11::object& readings);

// Per keypoint its (vertex id, weight) list, from the ids and weights Python passes.
std::vector<std::vector<std::pair<int, double>>> ToVertexLists(
    const std::vector<Eigen::VectorXi>& vertex_ids, const std::vector<Eigen::VectorXd>& vertex_weights);

// A body's parameters from a (72,) pose (global orient, body pose), betas and a (3,)
// translation (std::invalid_argument on other sizes).
BodyParameters ToParameters(const Eigen::Ref<const Eigen::VectorXd>& pose,
                            const Eigen::VectorXd& betas,
                            const Eigen::Ref<const Eigen::VectorXd>& transl);

// A new _core.Fitter: `fitter`'s copy with a solver fault injected (tests only, _testing).
pybind11::object FitterWithFault(pybind11::handle fitter, const InjectedFault& fault);
// A new _core.Fitter: `fitter`'s copy whose prior starts stop after `end_stage` stages
// (Fitter::WithEndStage; tests only, _testing).
pybind11::object FitterWithEndStage(pybind11::handle fitter, int end_stage);

}  // namespace smplify
