"""The GMM pose prior (SPEC §2 E_θ, docs/design.md "Pose prior file") and its loaders."""

from __future__ import annotations

import io
import pickle
from pathlib import Path

import numpy as np
import pytest
from smplify import prior as prior_module
from smplify.errors import ModelFileError, SmplifyError, UnsafePickleError
from smplify.prior import GMMPosePrior, load_prior

DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="module")
def prior() -> GMMPosePrior:
    return load_prior("open")


def _brute_force(p: GMMPosePrior, x: np.ndarray) -> float:
    """min_k ½(x−μ_k)ᵀ Σ_k⁻¹ (x−μ_k) − log c_k, straight from the definition."""
    logdets = np.array([np.linalg.slogdet(c)[1] for c in p.covars])
    neg_log_c = (-np.log(p.weights) + 34.5 * np.log(2 * np.pi) + 0.5 * logdets
                 - 0.5 * logdets.min())
    vals = [0.5 * (x - m) @ np.linalg.solve(c, x - m) + nlc
            for m, c, nlc in zip(p.means, p.covars, neg_log_c, strict=True)]
    return float(min(vals))


def _random_prior(rng: np.random.Generator, k: int = 8) -> dict[str, np.ndarray]:
    a = rng.normal(size=(k, 69, 69)) * 0.1
    covars = a @ np.swapaxes(a, 1, 2) + 0.05 * np.eye(69)
    return {"means": rng.normal(size=(k, 69)) * 0.3, "covars": covars,
            "weights": rng.uniform(0.5, 2.0, size=k)}


def test_shipped_prior_layout(prior: GMMPosePrior) -> None:
    assert prior.means.shape == (8, 69)
    assert prior.covars.shape == (8, 69, 69)
    assert prior.weights.shape == (8,)
    assert prior.precision_cholesky.shape == (8, 69, 69)
    assert np.all(prior.weights > 0) and np.isclose(prior.weights.sum(), 1.0)
    for c, lk in zip(prior.covars, prior.precision_cholesky, strict=True):
        assert np.allclose(c, c.T)
        assert np.linalg.eigvalsh(c).min() > 0
        assert np.allclose(np.triu(lk, 1), 0)
        assert np.allclose(lk @ lk.T @ c, np.eye(69), atol=1e-6)
    logdets = np.array([np.linalg.slogdet(c)[1] for c in prior.covars])
    expected = (-np.log(prior.weights) + 34.5 * np.log(2 * np.pi) + 0.5 * logdets
                - 0.5 * logdets.min())
    assert np.allclose(prior.neg_log_c, expected) and np.all(prior.neg_log_c > 0)


def test_energy_matches_definition(prior: GMMPosePrior) -> None:
    rng = np.random.default_rng(0)
    poses = np.concatenate([prior.sample(5, rng), rng.uniform(-1, 1, size=(5, 69))])
    for x in poses:
        e = prior.energy(x)
        r, k = prior.residual(x)
        assert r.shape == (70,)
        assert e == pytest.approx(_brute_force(prior, x), rel=1e-8)
        assert float(r @ r) == pytest.approx(e, rel=1e-10)
        assert k == prior.component(x)
        assert r[69] == pytest.approx(np.sqrt(prior.neg_log_c[k]))
    assert np.allclose(prior.energies(poses), [prior.energy(x) for x in poses])


def test_heldout_mocap_scores_far_below_random(prior: GMMPosePrior) -> None:
    held = np.load(DATA / "heldout_poses.npz")["body_pose"].astype(np.float64)
    assert held.shape[1] == 69 and len(held) >= 100
    rng = np.random.default_rng(1)
    rand = rng.uniform(-1.0, 1.0, size=(len(held), 69))
    e_held = prior.energies(held)
    e_rand = prior.energies(rand)
    # Real held-out poses: orders of magnitude below random joint angles.
    assert np.median(e_held) * 20 < np.median(e_rand)
    assert np.percentile(e_held, 90) < np.percentile(e_rand, 1)
    # Smaller random perturbations are already much less likely than real poses.
    rand_small = rng.uniform(-0.3, 0.3, size=(len(held), 69))
    assert np.median(e_held) < np.median(prior.energies(rand_small))


def test_sample_follows_mixture() -> None:
    rng = np.random.default_rng(2)
    p = GMMPosePrior(**_random_prior(rng, k=2))
    x = p.sample(20000, rng)
    assert x.shape == (20000, 69)
    mean = p.weights @ p.means
    assert np.abs(x.mean(0) - mean).max() < 0.05


def _py2_style_pickle(obj: object, path: Path) -> None:
    """Write ``obj`` the way Python 2 pickled NumPy arrays: protocol 2, byte payloads as str.

    Python 3 would pickle ``bytes`` through ``_codecs.encode`` at protocol 2; Python 2 wrote
    plain strings, which ``encoding="latin1"`` turns back into the bytes NumPy needs.
    """

    class Py2Pickler(pickle.Pickler):
        def reducer_override(self, o: object) -> object:
            if type(o) is np.ndarray:
                func, args, state = o.__reduce__()
                return (func, (args[0], args[1], args[2].decode("latin1")),
                        (*state[:4], state[4].decode("latin1")))
            return NotImplemented

    buf = io.BytesIO()
    Py2Pickler(buf, protocol=2).dump(obj)
    path.write_bytes(buf.getvalue())


def test_authors_pickle_layout_round_trip(tmp_path: Path) -> None:
    arrays = _random_prior(np.random.default_rng(3))
    pkl = tmp_path / "gmm_08.pkl"
    _py2_style_pickle(arrays, pkl)
    p = load_prior(pkl)
    q = GMMPosePrior(**arrays)
    assert np.allclose(p.means, arrays["means"]) and np.allclose(p.covars, arrays["covars"])
    assert np.allclose(p.weights, arrays["weights"] / arrays["weights"].sum())
    x = np.random.default_rng(4).normal(size=69) * 0.2
    assert p.energy(x) == pytest.approx(q.energy(x), rel=1e-12)
    assert p.energy(x) == pytest.approx(_brute_force(p, x), rel=1e-8)
    npz = tmp_path / "copy.npz"
    p.to_npz(npz)
    assert load_prior(str(npz)).energy(x) == pytest.approx(p.energy(x), rel=1e-12)


class _Evil:
    def __init__(self, func: object, arg: str) -> None:
        self.func, self.arg = func, arg

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (self.func, (self.arg,))


@pytest.mark.parametrize("func", ["os.system", "builtins.eval"])
def test_malicious_pickle_refused(tmp_path: Path, func: str) -> None:
    import builtins
    import os

    marker = tmp_path / "ran"
    target = {"os.system": os.system, "builtins.eval": builtins.eval}[func]
    arg = (f"touch {marker}" if func == "os.system"
           else f"open({str(marker)!r}, 'w').close()")
    pkl = tmp_path / "gmm_08.pkl"
    pkl.write_bytes(pickle.dumps({"means": _Evil(target, arg)}, protocol=2))
    with pytest.raises(UnsafePickleError):
        load_prior(pkl)
    assert isinstance(UnsafePickleError("x"), SmplifyError)
    assert not marker.exists()


def test_bad_files_give_clear_errors(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    good = _random_prior(rng)
    with pytest.raises(FileNotFoundError):
        load_prior(tmp_path / "missing.npz")
    cases = {
        "means": (good["means"][:, :68], "means"),
        "covars": (good["covars"][:7], "covars"),
        "weights": (np.abs(good["weights"][:, None]), "weights"),
    }
    for key, (bad, name) in cases.items():
        path = tmp_path / f"bad_{key}.npz"
        np.savez(path, **{**good, key: bad})
        with pytest.raises(ValueError, match=rf"bad_{key}\.npz.*'{name}'"):
            load_prior(path)
    not_pd = good["covars"].copy()
    not_pd[2] = -np.eye(69)
    np.savez(tmp_path / "not_pd.npz", **{**good, "covars": not_pd})
    with pytest.raises(ValueError, match="positive definite"):
        load_prior(tmp_path / "not_pd.npz")
    neg_w = good["weights"].copy()
    neg_w[0] = 0.0
    np.savez(tmp_path / "neg_w.npz", **{**good, "weights": neg_w})
    with pytest.raises(ValueError, match="'weights'"):
        load_prior(tmp_path / "neg_w.npz")
    np.savez(tmp_path / "no_key.npz", means=good["means"], covars=good["covars"])
    with pytest.raises(ValueError, match="missing key 'weights'"):
        load_prior(tmp_path / "no_key.npz")
    p = GMMPosePrior(**good)
    with pytest.raises(ValueError, match="body_pose"):
        p.energy(np.zeros(72))
    with pytest.raises(TypeError, match="name_or_path"):
        load_prior(3)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["GMM_08.PKL", "gmm_08.Pkl"])
def test_pkl_suffix_in_any_case_is_read_safely(tmp_path: Path, name: str) -> None:
    arrays = _random_prior(np.random.default_rng(6))
    path = tmp_path / name
    _py2_style_pickle(arrays, path)
    np.testing.assert_allclose(load_prior(path).means, arrays["means"])


@pytest.mark.parametrize("name", ["gmm_08.npz", "gmm_08.dat"])
def test_misnamed_pickle_gives_our_error_not_numpys_advice(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    _py2_style_pickle(_random_prior(np.random.default_rng(7)), path)
    with pytest.raises(ModelFileError, match=rf"{name}.*'means', 'covars' and 'weights'") as err:
        load_prior(path)
    assert "allow_pickle" not in str(err.value) and "pickle.load" not in str(err.value)


def test_npz_with_object_array_gives_our_error(tmp_path: Path) -> None:
    path = tmp_path / "objects.npz"
    np.savez(path, **{**_random_prior(np.random.default_rng(8)),
                      "weights": np.array([None] * 8, dtype=object)})
    with pytest.raises(ModelFileError, match="objects.npz: 'weights'") as err:
        load_prior(path)
    assert "allow_pickle" not in str(err.value)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_energy_rejects_non_finite_pose(prior: GMMPosePrior, bad: float) -> None:
    pose = np.zeros(69)
    pose[11] = bad
    for method in (prior.energy, prior.residual, prior.component):
        with pytest.raises(ValueError, match="body_pose must be finite"):
            method(pose)
    with pytest.raises(ValueError, match="body_pose must be finite"):
        prior.energy(np.full(69, bad))
    with pytest.raises(ValueError, match="body_poses must be finite"):
        prior.energies(pose[None])


def test_energy_takes_a_batch_of_one_like_the_model(prior: GMMPosePrior) -> None:
    pose = np.random.default_rng(9).normal(scale=0.2, size=69)
    assert prior.energy(pose[None]) == prior.energy(pose)
    assert prior.component(pose[None]) == prior.component(pose)
    with pytest.raises(ValueError, match=r"body_pose must have shape \(69,\) or \(1, 69\)"):
        prior.energy(np.zeros((2, 69)))
    with pytest.raises(TypeError, match="body_pose"):
        prior.energy("relaxed")  # type: ignore[arg-type]


def test_prior_to_npz_returns_the_path_it_wrote(tmp_path: Path, prior: GMMPosePrior) -> None:
    written = prior.to_npz(tmp_path / "copy")
    assert written == tmp_path / "copy.npz"
    assert load_prior(written).energy(np.zeros(69)) == prior.energy(np.zeros(69))


def tiny_coupled_prior(seed: int) -> dict[str, np.ndarray]:
    """A random prior whose covariances couple θ[0:33] and θ[33:69] only by entries of 1e-200
    and 1e-310 (subnormal), and whose means hold subnormal entries at θ[63:69], as the open
    prior's do (joints that never moved together in its data; its held hands)."""
    arrays = _random_prior(np.random.default_rng(seed))
    covars = arrays["covars"]
    covars[:, :33, 33:] = covars[:, 33:, :33] = 0.0
    covars[:, 0, 40] = covars[:, 40, 0] = 1e-200
    covars[:, 5, 60] = covars[:, 60, 5] = 1e-310
    arrays["means"][:, 63:] = 3e-320
    return arrays


def test_tiny_factor_entries_and_means_are_exactly_zero(monkeypatch) -> None:
    """Entries of L_k below 1e-150 of its largest and means below 1e-150 are exactly 0, the
    rest the same bits, and no energy changes (prior.TINY_ENTRY)."""
    arrays = tiny_coupled_prior(5)
    flushed = GMMPosePrior(**arrays)
    monkeypatch.setattr(prior_module, "TINY_ENTRY", 0.0)
    raw = GMMPosePrior(**arrays)  # the same arithmetic, nothing dropped
    factors = raw.precision_cholesky
    tiny = np.abs(factors) < 1e-150 * np.abs(factors).max(axis=(1, 2), keepdims=True)
    assert (tiny & (factors != 0.0)).sum() > 100  # the coupling left tiny entries behind
    np.testing.assert_array_equal(flushed.precision_cholesky, np.where(tiny, 0.0, factors))
    assert np.all(raw.means[:, 63:] != 0.0) and np.all(flushed.means[:, 63:] == 0.0)
    np.testing.assert_array_equal(flushed.means[:, :63], raw.means[:, :63])
    np.testing.assert_array_equal(flushed.neg_log_c, raw.neg_log_c)
    poses = np.random.default_rng(6).normal(0.0, 0.3, (20, 69))
    poses[:10, 63:] = 0.0  # held hands: x − μ of exactly 0 with the flushed means
    np.testing.assert_array_equal(flushed.energies(poses), raw.energies(poses))


def test_shipped_prior_holds_no_tiny_values(prior: GMMPosePrior) -> None:
    """The open prior's file has subnormal means and covariances (so its raw factors do), the
    loaded prior none in what the fits read."""
    with np.load(prior_module._NAMED["open"]) as raw:
        means, covars = np.abs(raw["means"]), np.abs(raw["covars"])
    assert np.any((means > 0) & (means < 2.3e-308)) and np.any((covars > 0) & (covars < 2.3e-308))
    factors = np.abs(prior.precision_cholesky)
    assert not np.any((factors > 0) & (factors < 1e-150 * factors.max()))
    assert not np.any((np.abs(prior.means) > 0) & (np.abs(prior.means) < 1e-150))
