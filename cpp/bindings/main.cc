#include <pybind11/pybind11.h>

#include "bindings.h"

PYBIND11_MODULE(_core, m) {
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
