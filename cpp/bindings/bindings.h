// One Bind* function per area, gathered by main.cc into the private module smplify._core.
#pragma once

#include <pybind11/pybind11.h>

namespace smplify {

void BindBodyModel(pybind11::module_& m);
void BindFit(pybind11::module_& m);

}  // namespace smplify
