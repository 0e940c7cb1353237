// smplify._cpu: whether this processor can run the core built for x86-64-v3 (AVX2, FMA,
// BMI1/2, F16C, LZCNT, MOVBE). Compiled for the portable baseline and kept apart from
// _core: python/smplify/cpu_variant.py asks it before importing either build of the core,
// so no instruction the processor lacks runs before the answer.
#include <pybind11/pybind11.h>

namespace {

// libgcc reads CPUID and XGETBV (the AVX registers must be enabled by the OS too). The
// level names ("x86-64-v3") exist from GCC 12; an older or other compiler answers no, and
// the baseline runs.
bool SupportsX86_64_V3() {
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
  __builtin_cpu_init();
  return __builtin_cpu_supports("x86-64-v3");
#else
  return false;
#endif
}

}  // namespace

PYBIND11_MODULE(_cpu, m) {
  m.doc() = "Which builds of smplify's C++ core this processor can run.";
  m.def("supports_x86_64_v3", &SupportsX86_64_V3,
        "True if the processor (and OS) run x86-64-v3 code: AVX2, FMA, BMI1/2, F16C, LZCNT, "
        "MOVBE, with the AVX state enabled.");
}
