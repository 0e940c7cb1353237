"""The core's CPU variants (smplify.cpu_variant, docs/design.md "CPU variants"): which build
is chosen, how SMPLIFY_CPU forces one, and that both builds fit alike (single-start fits and
warm frames to 1e-6 m; a track carries the rounding further, docs/design.md).

Each choice is made at import, so the checks that import smplify run it in a fresh
interpreter."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import smplify
from smplify import cpu_variant

BOTH = {"x86-64-v3", "baseline"}


def _run(script: str, **env: str) -> dict:
    """``script`` in a fresh interpreter with ``env`` added; the JSON it prints last."""
    environ = {k: v for k, v in os.environ.items() if k != cpu_variant.ENV}
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], check=True,
                         capture_output=True, text=True, env={**environ, **env}, timeout=300)
    return json.loads(out.stdout.strip().splitlines()[-1])


LOADED = """
    import json, sys
    import smplify
    from smplify import _core
    print(json.dumps({"variant": smplify.core_variant(), "core": _core.__name__,
                      "alias": sys.modules["smplify._core"] is _core,
                      # the builds loaded (by module name: "smplify._core" may be an alias)
                      "loaded": sorted({sys.modules[m].__name__.split(".")[1]
                                        for m in sys.modules if m.startswith("smplify._core")})}))
"""


# /proc/cpuinfo's names for what x86-64-v3 needs (with x86-64-v2's; lzcnt is listed as abm).
# Linux lists avx only where the OS enabled its state (XSAVE), as __builtin_cpu_supports asks.
V3_FLAGS = ("cx16", "lahf_lm", "popcnt", "sse4_1", "sse4_2", "ssse3",
            "avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "abm", "movbe")


def _cpuinfo_says_v3() -> bool | None:
    """Whether /proc/cpuinfo's flags have all of x86-64-v3 (None: not an x86-64 Linux)."""
    if platform.machine() != "x86_64":
        return None
    try:
        with open("/proc/cpuinfo") as file:
            line = next(line for line in file if line.startswith("flags"))
    except (OSError, StopIteration):
        return None
    return set(V3_FLAGS) <= set(line.split(":", 1)[1].split())


def _has_v3_module() -> bool:
    return "x86-64-v3" in cpu_variant._available()


def _has_v3() -> bool:
    """The v3 build is here and the processor runs it. Asks /proc/cpuinfo where it can, so
    that a _cpu wrongly answering no fails test_cpu_query_agrees_with_cpuinfo and the v3
    tests below instead of skipping them."""
    says = _cpuinfo_says_v3()
    return _has_v3_module() and (cpu_variant._supports_x86_64_v3() if says is None else says)


@pytest.mark.skipif(_cpuinfo_says_v3() is None, reason="no /proc/cpuinfo of an x86-64")
def test_cpu_query_agrees_with_cpuinfo():
    # A _cpu that always said no would silently run the baseline everywhere.
    from smplify import _cpu
    assert bool(_cpu.supports_x86_64_v3()) == _cpuinfo_says_v3()


def test_choose_picks_the_fastest_variant_the_processor_runs():
    assert cpu_variant.choose(None, True, BOTH) == "x86-64-v3"
    assert cpu_variant.choose("auto", True, BOTH) == "x86-64-v3"
    assert cpu_variant.choose("", False, BOTH) == "baseline"
    assert cpu_variant.choose(None, True, {"baseline"}) == "baseline"
    assert cpu_variant.choose("baseline", True, BOTH) == "baseline"
    assert cpu_variant.choose("x86-64-v3", True, BOTH) == "x86-64-v3"


def test_choose_accepts_any_case_and_the_module_spelling():
    for value in ("X86-64-V3", "x86_64_v3", " X86_64_v3 "):
        assert cpu_variant.choose(value, True, BOTH) == "x86-64-v3"
    assert cpu_variant.choose("Baseline", True, BOTH) == "baseline"
    assert cpu_variant.choose("AUTO", True, BOTH) == "x86-64-v3"


def test_choose_names_the_variable_for_an_unknown_or_impossible_request():
    with pytest.raises(ImportError, match="SMPLIFY_CPU='avx512'.*auto, x86-64-v3, baseline"):
        cpu_variant.choose("avx512", True, BOTH)
    with pytest.raises(ImportError, match="SMPLIFY_CPU=x86-64-v3.*cannot run"):
        cpu_variant.choose("x86-64-v3", False, BOTH)
    with pytest.raises(ImportError, match="SMPLIFY_CPU=x86-64-v3.*no x86-64-v3 build"):
        cpu_variant.choose("x86-64-v3", True, {"baseline"})


def test_the_chosen_variant_is_what_the_package_imports_as_core():
    assert smplify.core_variant() in BOTH
    expected = cpu_variant.choose(os.environ.get(cpu_variant.ENV),
                                  cpu_variant._supports_x86_64_v3(), cpu_variant._available())
    assert smplify.core_variant() == expected
    assert sys.modules["smplify._core"] is smplify._core
    assert smplify._core.__name__ == "smplify." + cpu_variant.MODULES[expected]


def test_smplify_cpu_baseline_forces_the_portable_build():
    loaded = _run(LOADED, SMPLIFY_CPU="baseline")
    assert loaded == {"variant": "baseline", "core": "smplify._core", "alias": True,
                      "loaded": ["_core"]}


def test_the_baseline_is_chosen_when_the_processor_query_says_no():
    # A stand-in for smplify._cpu, in place before the package asks it.
    fake = """
        import sys, types
        fake = types.ModuleType("smplify._cpu")
        fake.supports_x86_64_v3 = lambda: False
        sys.modules["smplify._cpu"] = fake
    """
    loaded = _run(textwrap.dedent(fake) + textwrap.dedent(LOADED))
    assert loaded["variant"] == "baseline"
    assert loaded["loaded"] == ["_core"]  # the other build is never imported


def test_an_unknown_value_fails_the_import_with_an_import_error():
    environ = {k: v for k, v in os.environ.items() if k != cpu_variant.ENV}
    out = subprocess.run([sys.executable, "-c", "import smplify"], capture_output=True,
                         text=True, env={**environ, cpu_variant.ENV: "avx512"}, timeout=300)
    assert out.returncode != 0
    assert "ImportError: SMPLIFY_CPU='avx512': expected one of" in out.stderr


# The processor says yes and the v3 module is there but fails to import (a stand-in finder
# gives a module whose loading raises, as a damaged install's would).
BROKEN_V3 = """
    import importlib.abc, importlib.util, sys, types
    fake = types.ModuleType("smplify._cpu")
    fake.supports_x86_64_v3 = lambda: True
    sys.modules["smplify._cpu"] = fake

    class Broken(importlib.abc.MetaPathFinder, importlib.abc.Loader):
        def find_spec(self, name, path=None, target=None):
            if name == "smplify._core_x86_64_v3":
                return importlib.util.spec_from_loader(name, self)
        def create_module(self, spec):
            raise ImportError("undefined symbol: fake")
        def exec_module(self, module):
            pass
    sys.meta_path.insert(0, Broken())
"""


def test_a_broken_v3_build_falls_back_to_the_baseline_with_a_warning():
    caught = """
        import json, warnings
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            import smplify
        print(json.dumps({"variant": smplify.core_variant(),
                          "warnings": [str(w.message) for w in caught
                                       if issubclass(w.category, RuntimeWarning)]}))
    """
    out = _run(textwrap.dedent(BROKEN_V3) + textwrap.dedent(caught))
    assert out["variant"] == "baseline"
    assert len(out["warnings"]) == 1
    assert "failed to import (undefined symbol: fake)" in out["warnings"][0]
    loaded = _run(textwrap.dedent(BROKEN_V3) + textwrap.dedent(LOADED))
    assert loaded["variant"] == "baseline" and loaded["loaded"] == ["_core"]


def test_an_insisted_broken_v3_build_raises():
    environ = {k: v for k, v in os.environ.items() if k != cpu_variant.ENV}
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(BROKEN_V3) + "import smplify"],
                         capture_output=True, text=True, timeout=300,
                         env={**environ, cpu_variant.ENV: "X86_64_V3"})
    assert out.returncode != 0 and "ImportError: undefined symbol: fake" in out.stderr


@pytest.mark.skipif(not _has_v3(), reason="no x86-64-v3 build here, or the processor lacks it")
def test_the_x86_64_v3_build_is_chosen_where_it_runs_and_alone():
    loaded = _run(LOADED)
    assert loaded == {"variant": "x86-64-v3", "core": "smplify._core_x86_64_v3",
                      "alias": True, "loaded": ["_core_x86_64_v3"]}


FIT = """
    import json
    import numpy as np
    import smplify
    from smplify.synthetic import make_case

    model, prior = smplify.load_model("open"), smplify.load_prior("open")
    rng = np.random.default_rng(11)
    out = {"variant": smplify.core_variant(), "energy": [], "joints": [], "online": []}
    for _ in range(3):
        case = make_case(model, prior, "coco17", rng, noise_px=1.0)
        res = smplify.fit(case.keypoints, "coco17", case.image_size, case.focal_length,
                          model=model, multi_start=False, threads=1)
        out["energy"].append(res.energy["total"])
        out["joints"].append(res.joints.tolist())
        # A warm frame: the same case again through a Fitter, from the first fit.
        fitter = smplify.Fitter(model, format="coco17", image_size=case.image_size,
                                focal_length=case.focal_length, threads=1, track=False)
        fitter.fit(case.keypoints)
        out["online"].append(fitter.fit(case.keypoints + [0.5, -0.5, 0.0]).joints.tolist())
    print(json.dumps(out))
"""


@pytest.mark.skipif(not _has_v3(), reason="no x86-64-v3 build here, or the processor lacks it")
def test_both_builds_give_the_same_fits():
    base = _run(FIT, SMPLIFY_CPU="baseline")
    v3 = _run(FIT, SMPLIFY_CPU="x86-64-v3")
    assert (base["variant"], v3["variant"]) == ("baseline", "x86-64-v3")
    # FMA rounds a·b + c once instead of twice, and AVX sums in another order: each
    # evaluation differs by ~1e-16 relative and the solver's steps carry that along, but the
    # fits stop at the same minimum within the solver's tolerances: measured 1.1e-8 relative
    # in energy and 1.0e-7 m in joints on these cases (2026-12-06); the bounds allow ten times
    # that. Single starts only: a multi-start near-tie could pick another start.
    np.testing.assert_allclose(v3["energy"], base["energy"], rtol=1e-6)
    np.testing.assert_allclose(v3["joints"], base["joints"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(v3["online"], base["online"], rtol=0, atol=1e-6)
