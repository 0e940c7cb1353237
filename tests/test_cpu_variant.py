"""The core's CPU variants (smplify.cpu_variant, docs/design.md "CPU variants"): which build
is chosen, how SMPLIFY_CPU forces one, and that both builds give the same fits.

Each choice is made at import, so the checks that import smplify run it in a fresh
interpreter."""

from __future__ import annotations

import json
import os
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


def _has_v3() -> bool:
    return "x86-64-v3" in cpu_variant._available() and cpu_variant._supports_x86_64_v3()


def test_choose_picks_the_fastest_variant_the_processor_runs():
    assert cpu_variant.choose(None, True, BOTH) == "x86-64-v3"
    assert cpu_variant.choose("auto", True, BOTH) == "x86-64-v3"
    assert cpu_variant.choose("", False, BOTH) == "baseline"
    assert cpu_variant.choose(None, True, {"baseline"}) == "baseline"
    assert cpu_variant.choose("baseline", True, BOTH) == "baseline"
    assert cpu_variant.choose("x86-64-v3", True, BOTH) == "x86-64-v3"


def test_choose_names_the_variable_for_an_unknown_or_impossible_request():
    with pytest.raises(ValueError, match="SMPLIFY_CPU='avx512'"):
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
