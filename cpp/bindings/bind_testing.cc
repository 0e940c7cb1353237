// smplify._core._testing: hooks for the test suite only, kept out of the public API.
#include <stdexcept>
#include <string>

#include <pybind11/pybind11.h>

#include "../fault_injection.h"
#include "bindings.h"

namespace py = pybind11;

namespace smplify {

void BindTesting(py::module_& m) {
  py::module_ testing = m.def_submodule(
      "_testing", "Test-only hooks of the C++ core (not part of smplify's API).");
  testing.def(
      "with_fault",
      [](py::handle fitter, const std::string& kind, int stage, int evaluation) {
        InjectedFault fault;
        if (kind == "nan_residual") {
          fault.kind = InjectedFault::kNanResidual;
        } else if (kind == "nan_jacobian") {
          fault.kind = InjectedFault::kNanJacobian;
        } else if (kind == "fail") {
          fault.kind = InjectedFault::kFail;
        } else {
          throw std::invalid_argument("kind must be 'nan_residual', 'nan_jacobian' or 'fail'");
        }
        if (stage < 0 || evaluation < 0) {
          throw std::invalid_argument("stage and evaluation must be >= 0");
        }
        fault.stage = stage;
        fault.evaluation = evaluation;
        return FitterWithFault(fitter, fault);
      },
      py::arg("fitter"), py::arg("kind"), py::arg("stage"), py::arg("evaluation"),
      "A copy of the _core.Fitter `fitter` whose stage `stage` (0-based) gets an extra residual "
      "block that goes bad on its `evaluation`-th call: 'nan_residual', 'nan_jacobian' "
      "(counting only calls with Jacobians) or 'fail' (the cost reports it cannot evaluate).");
}

}  // namespace smplify
