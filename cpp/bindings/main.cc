#include <pybind11/pybind11.h>

#include "bindings.h"

// CMakeLists.txt builds these sources once per CPU variant: _core, _core_x86_64_v3.
#ifndef SMPLIFY_MODULE
#define SMPLIFY_MODULE _core
#endif

PYBIND11_MODULE(SMPLIFY_MODULE, m) {
  m.doc() = "smplify's C++ core: SMPL body model, SMPLify energy terms and solver.";
  smplify::BindBodyModel(m);
  smplify::BindFit(m);
  smplify::BindSequence(m);
  smplify::BindTesting(m);
  smplify::BindInitializer(m);
  smplify::BindOnline(m);
#ifdef SMPLIFY_VERSION
  m.attr("__version__") = SMPLIFY_VERSION;
#endif
}
