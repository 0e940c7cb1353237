"""bench_real_video's scoring and cache (benchmarks/bench_real_video.py) and the real-video
strip's frame choice (tools/real_video_strip.py): no video needed."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "benchmarks"), str(ROOT / "tools")]

import bench_real_video as bench  # noqa: E402  (a broken import fails, not skips)
import real_video_strip as strip  # noqa: E402


def _track_metrics(frames: int, accel: float) -> dict[str, float]:
    row = {key: 1.0 for key in (
        "turns_over_90", "depth_jumps", "depth_range_m", "depth_vs_2d_ratio",
        "reprojection_px", "reprojection_pct", "depth_step_median_m", "turn_median_deg",
        "cpu_ms_median", "knee_bend_deg", "nose_against_pct", "nose_decisive",
        "nose_against_longest", "detector_against_pct", "detector_decisive",
        "detector_against_longest")}
    return {**row, "frames": frames, "accel_mm": accel}


def test_summary_acceleration_skips_tracks_without_one() -> None:
    """A track too short for an acceleration (NaN) leaves the others' weighted mean."""
    rows = [_track_metrics(30, 100.0), _track_metrics(10, 200.0), _track_metrics(2, np.nan)]
    assert bench.summarise(rows)["accel_mm"] == pytest.approx((30 * 100 + 10 * 200) / 40)
    assert np.isnan(bench.summarise([_track_metrics(2, np.nan)])["accel_mm"])


def test_cached_fits_are_reused_only_with_the_same_provenance(tmp_path: Path) -> None:
    out = bench._empty(5)
    out["transl"][:] = 3.0
    wanted = {"package": "abc", "data": "0123", "model": "def", "options": {},
              "sequence_3d": True, "detections": "clip_5_123", "first": 7, "length": 5}
    path = tmp_path / "fits.npz"
    np.savez(path, provenance=json.dumps(wanted), **out)
    got = bench.cached_fits(path, wanted)
    assert got is not None and np.all(got["transl"] == 3.0)
    for key, other in (("package", "abd"), ("data", "0124"), ("model", "deg"),
                       ("options", {"threads": 2}), ("sequence_3d", False),
                       ("detections", "clip_5_124"), ("first", 8), ("length", 6)):
        assert bench.cached_fits(path, {**wanted, key: other}) is None, key
    np.savez(path, first=7, **out)  # a cache written before provenance was stored
    assert bench.cached_fits(path, wanted) is None
    assert bench.cached_fits(tmp_path / "missing.npz", wanted) is None


def test_runs_of_other_options_keep_files_of_their_own() -> None:
    """Two option sets fitted at the same time (an A/B) must not overwrite each other's
    cached fits, and the strip tool must find the run it is asked for."""
    default = bench.fits_path("vtest", 3, "online")
    assert default.name == "fits_vtest_track3_online.npz"
    assert bench.fits_path("vtest", 3, "online", {}) == default
    one = bench.fits_path("vtest", 3, "online", {"track_max_spin": 0.0})
    other = bench.fits_path("vtest", 3, "online", {"track_max_spin": 30.0})
    assert len({default, one, other}) == 3
    assert bench.fits_path("vtest", 3, "online", {"track_max_spin": 0.0}) == one
    assert bench.fits_path("vtest", 3, "sequence", {}, sequence_3d=False) != \
        bench.fits_path("vtest", 3, "sequence")
    assert bench.fits_path("vtest", 3, "online", {}, sequence_3d=False) == default


def test_the_cache_key_covers_the_weights_a_fit_loads(tmp_path: Path, monkeypatch) -> None:
    """Weights read from elsewhere (benchmarks/with_weights.py patches the initialiser's;
    the package digest does not see them) change the data digest, hence every track's
    provenance, so fits made with other weights are not read back."""
    from initializer_weights import use_weights
    from smplify import initializer, prior, start_scorer

    monkeypatch.setattr(initializer, "_weights_file", initializer._weights_file)
    monkeypatch.setattr(start_scorer, "WEIGHTS_FILE", start_scorer.WEIGHTS_FILE)
    monkeypatch.setattr(prior, "_NAMED", dict(prior._NAMED))
    track = SimpleNamespace(first=3, seen=np.ones(40, dtype=bool))
    package = bench.package_digest()  # of the installed package's files: read once

    def key() -> dict[str, object]:
        run = {"package": package, "data": bench.data_digest(), "model": "m",
               "options": {}, "sequence_3d": True}
        return bench.provenance(run, "online", "vtest", track)

    shipped = key()
    assert shipped == key()
    weights = initializer._weights_file(bench.FORMAT).read_bytes()
    folder = tmp_path / "weights"
    folder.mkdir()
    (folder / f"initializer_{bench.FORMAT}.npz").write_bytes(weights)
    use_weights(folder)  # the same bytes from another folder: the same fits
    assert key() == shipped
    (folder / f"initializer_{bench.FORMAT}.npz").write_bytes(weights + b"\0")
    patched = key()
    assert patched["data"] != shipped["data"]
    assert bench.package_digest() == package  # what the key missed before
    for name, patch in (("scorer", lambda path: monkeypatch.setattr(
                            start_scorer, "WEIGHTS_FILE", path)),
                        ("prior", lambda path: prior._NAMED.__setitem__("open", path))):
        other = tmp_path / f"{name}.npz"
        other.write_bytes(b"other " + name.encode())
        before = key()
        patch(other)
        assert key()["data"] != before["data"], name
    path = tmp_path / "fits.npz"
    np.savez(path, provenance=json.dumps(shipped), **bench._empty(5))
    assert bench.cached_fits(path, shipped) is not None
    assert bench.cached_fits(path, patched) is None
    initializer.ships_for.cache_clear()  # use_weights cleared them; nothing patched stays
    initializer.load_initializer.cache_clear()


def test_strip_events_only_on_frames_seen() -> None:
    """fit_sequence's body turns round on an interpolated frame: no event there (its
    keypoints are zeros, the crop would show the picture's corner)."""
    n = 12
    out = bench._empty(n)
    out["valid"][:] = True
    out["global_orient"][4:] = [0.0, np.pi, 0.0]
    fits = {"sequence": out}
    assert strip._events(fits, np.ones(n, dtype=bool)) == [4]
    seen = np.ones(n, dtype=bool)
    seen[4] = False
    assert strip._events(fits, seen) == []
    assert 4 not in strip.pick_frames(fits, seen)
