"""Fuzzing the public entry points with hypothesis (issue 14): ``fit``, ``Fitter.fit`` over
sequences with garbage frames between good ones, ``fit_batch``, ``load_model``,
``load_prior`` and the keypoint/image readers. Every call must return a finite result or
raise a documented exception naming its argument or file, within a time bound
(tests/fuzzing.py). The normal suite runs a few derandomised examples of each; ``make fuzz``
runs over 10⁴ random ones (SMPLIFY_FUZZ=1).
"""

from __future__ import annotations

import io
import json
import pickle
import tempfile
from pathlib import Path

import numpy as np
import pytest
import smplify
from fuzzing import assert_finite_arrays, assert_finite_fit, examples, outcome
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from procedural_model import make_procedural_model
from smplify.keypoints.readers import keypoints_from_openpose_json, read_keypoint_file
from smplify.sources import open_source
from smplify.synthetic import make_case

FORMAT = "coco17"
K = 17
FIT_ARGUMENTS = ("keypoints", "format", "image_size", "focal_length", "keypoints_3d",
                 "model", "prior", "threads", "list_of_keypoints", "option")

# --- values --------------------------------------------------------------------------------------
SPECIAL = [0.0, -0.0, np.nan, np.inf, -np.inf, 1e308, -1e308, 5e-324, 1e-300, 1e9, -1e9, 1e6,
           1e6 + 1, -1.0, 0.5, 2.0**53]
numbers = st.one_of(st.sampled_from(SPECIAL), st.floats(allow_nan=True, allow_infinity=True),
                    st.floats(-4000, 4000), st.integers(-(2**70), 2**70))
garbage_leaf = st.one_of(numbers, st.none(), st.booleans(), st.text(max_size=5),
                         st.binary(max_size=5))


def _transform(draw: st.DrawFn, base: np.ndarray, how: str, s: float) -> object:
    """One whole-array transform of good keypoints ``base`` (``s``: a scale or shift)."""
    return {"scale": lambda: base * [s, s, 1.0], "shift": lambda: base + [s, s, 0.0],
            "collapse": lambda: np.tile(base[draw(st.integers(0, K - 1))], (K, 1)),
            "drop": lambda: base * [1, 1, 0],
            "xy": lambda: base[:, :2],
            "rows": lambda: base[: draw(st.integers(0, 2 * K))] if draw(st.booleans())
            else np.r_[base, base][: draw(st.integers(0, 2 * K))],
            "transpose": lambda: base.T, "float32": lambda: base.astype(np.float32),
            "int": lambda: base.astype(np.int64), "list": lambda: base.tolist(),
            "swap": lambda: base[draw(st.permutations(range(K)))]}[how]()


@st.composite
def garbage_array(draw: st.DrawFn, base: np.ndarray) -> object:
    """Keypoints a detector, a file or a caller might hand over instead of good ones."""
    kind = draw(st.sampled_from(["edit", "edit", "edit", "transform", "array", "python"]))
    if kind == "edit":  # a good frame with a few entries spoiled
        out = base.copy()
        for _ in range(draw(st.integers(1, 6))):
            row, col = draw(st.integers(0, len(out) - 1)), draw(st.integers(0, 2))
            out[row, col] = draw(st.sampled_from(SPECIAL) | st.floats(-1e4, 1e4))
        return out
    if kind == "transform":
        how = draw(st.sampled_from(["scale", "shift", "collapse", "drop", "xy", "rows",
                                    "transpose", "float32", "int", "list", "swap"]))
        s = draw(st.sampled_from(SPECIAL[3:] + [1e-9, 3.0, -3.0]))
        with np.errstate(all="ignore"):  # 1e308 · x overflows to inf: garbage too
            return _transform(draw, base, how, s)
    if kind == "array":
        dtype = draw(st.sampled_from([np.float64, np.float32, np.int64, np.uint8, np.bool_,
                                      np.complex128, np.dtype("U3"), np.float16]))
        shape = draw(st.sampled_from([(K, 3), (K, 2), (K, 4), (3, K), (K,), (), (0, 3),
                                      (K, 3, 1), (1, K, 3)]) | hnp.array_shapes(max_dims=3,
                                                                                max_side=40))
        return draw(hnp.arrays(dtype, shape))
    return draw(st.lists(st.lists(garbage_leaf, max_size=4), max_size=K + 2) | garbage_leaf)


image_sizes = st.one_of(
    st.just(None),  # replaced by the case's own size
    st.sampled_from([(0, 0), (-1, 480), (np.nan, 480), (np.inf, 1), (1e9, 1e9), (640,),
                     (640, 480, 3), "640x480", (True, True), (1, 1), (1e-300, 1e-300),
                     [[640, 480]], (2**70, 480)]))
focal_lengths = st.one_of(st.just("case"), st.none(), st.sampled_from(
    [0.0, -1.0, np.nan, np.inf, 1e-6, 1e12, 1e300, "5000", [5000.0], True, 2**70]))
option_values = {
    "max_iterations": [0, -1, 1.5, True, 2**40, "3"],
    "threads": [0, -3, 2, None, 1.5],
    "flip": [True, False, "auto", "yes", None],
    "multi_start": [True, "no", None],
    "function_tolerance": [0.0, -1.0, np.nan, 1.0, 1e-300],
    "data_sigma": [0.0, np.nan, 1e-300, 1e300, -5.0],
    "pose_prior_weights": [(), (1.0,), (np.nan, 1, 1, 1), (1e300,) * 4, (0, 0, 0, 0), "abc"],
    "shape_prior_weights": [(1e300,) * 4, (-1.0,) * 4, (1.0, 2.0)],
    "interpenetration_weight": [0.0, -5.0, np.inf, 1e200],
    "angle_prior_ratio": [np.nan, -1.0, 1e300],
    "start_selection": ["total", "x", None],
    "refine_translation": [False, "yes"],
    "no_such_option": [1],
}


@st.composite
def fit_options(draw: st.DrawFn) -> dict:
    """Mostly sound options (few iterations: fuzzing wants many cases), sometimes bad ones."""
    options = {"multi_start": False, "max_iterations": draw(st.integers(1, 12)), "threads": 1}
    for name in draw(st.lists(st.sampled_from(sorted(option_values)), max_size=2,
                              unique=True)):
        options[name] = draw(st.sampled_from(option_values[name]))
    if options.get("multi_start") is True and isinstance(options["max_iterations"], int):
        options["max_iterations"] = min(options["max_iterations"], 3)
    return options


# --- fixtures ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def case(open_model, open_prior):
    return make_case(open_model, open_prior, FORMAT, np.random.default_rng(0))


def _resolve(case, image_size, focal_length) -> tuple:
    return (case.image_size if image_size is None else image_size,
            case.focal_length if isinstance(focal_length, str) and focal_length == "case"
            else focal_length)


def _names(options: dict) -> tuple[str, ...]:
    return (*FIT_ARGUMENTS, *options)


# --- fit, Fitter.fit, fit_batch -----------------------------------------------------------------
@examples(suite=25, fuzz=2500)
@given(data=st.data())
def test_fit_gives_a_finite_result_or_a_named_error(case, open_model, data, capfd):
    keypoints = data.draw(st.one_of(st.just(case.keypoints), garbage_array(case.keypoints)))
    image_size, focal_length = _resolve(case, data.draw(image_sizes), data.draw(focal_lengths))
    options = data.draw(fit_options())
    result = outcome(lambda: smplify.fit(keypoints, FORMAT, image_size, focal_length,
                                         model=open_model, **options), _names(options),
                     {"keypoints": keypoints, "image_size": image_size,
                      "focal_length": focal_length, "options": options})
    if result is not None:
        assert_finite_fit(result)
    assert capfd.readouterr().err == ""  # no solver logging: a library prints nothing


@examples(suite=8, fuzz=600)
@given(data=st.data())
def test_fitter_survives_garbage_frames_between_good_ones(case, open_model, data, capfd):
    options = {"multi_start": False, "max_iterations": data.draw(st.integers(2, 12)),
               "threads": 1}
    fitter = smplify.Fitter(open_model, format=FORMAT, image_size=case.image_size,
                            focal_length=case.focal_length, **options)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    frames: list = []  # (keypoints, warm_start) so far: the Fitter's state comes from them
    for _ in range(data.draw(st.integers(2, 7))):
        good = data.draw(st.booleans())
        keypoints = case.keypoints + np.c_[rng.normal(0, 2, (K, 2)), np.zeros(K)] if good \
            else data.draw(garbage_array(case.keypoints))
        warm = data.draw(st.booleans())
        frames.append((keypoints, warm))
        result = outcome(lambda kp=keypoints, w=warm: fitter.fit(kp, warm_start=w),
                         _names(options), {"options": options, "frames": list(frames)})
        if result is not None:
            assert_finite_fit(result)
        if good:  # a good frame fits whatever came before it
            assert result is not None
    assert capfd.readouterr().err == ""


@examples(suite=4, fuzz=300)
@given(data=st.data())
def test_fit_batch_gives_finite_results_or_a_named_error(case, open_model, data, capfd):
    batch = data.draw(st.lists(st.one_of(st.just(case.keypoints),
                                         garbage_array(case.keypoints)), min_size=1,
                               max_size=4))
    threads = data.draw(st.sampled_from([1, 2, None, 0, -1, 1.5, True]))
    options = {"multi_start": False, "max_iterations": data.draw(st.integers(1, 6))}
    results = outcome(lambda: smplify.fit_batch(batch, FORMAT, case.image_size,
                                                case.focal_length, model=open_model,
                                                threads=threads, **options), _names(options),
                      {"batch": batch, "threads": threads, "options": options})
    if results is not None:
        assert len(results) == len(batch)
        for result in results:
            assert_finite_fit(result)
    assert capfd.readouterr().err == ""


# --- files: mutations of a valid one, and structurally valid files of garbage arrays ------------
class Blob(bytes):
    """File content with a short repr: hypothesis prints strategy arguments, and warns (an
    error in this suite) when that takes megabytes."""

    def __repr__(self) -> str:
        return f"<{len(self)} bytes>"


@st.composite
def mutated(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` truncated, with bytes overwritten, or with a slice repeated or removed."""
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 3))):
        how = draw(st.sampled_from(["truncate", "overwrite", "overwrite", "cut", "repeat"]))
        at = draw(st.integers(0, max(len(out) - 1, 0)))
        if how == "truncate":
            del out[at:]
        elif how == "overwrite":
            chunk = draw(st.binary(min_size=1, max_size=8))
            out[at:at + len(chunk)] = chunk
        elif how == "cut":
            del out[at:at + draw(st.integers(1, 64))]
        else:
            out[at:at] = out[at:at + draw(st.integers(1, 64))]
    return bytes(out)


def _npz_bytes(arrays: dict, compressed: bool = False) -> bytes:
    buffer = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buffer, **arrays)
    return buffer.getvalue()


small_arrays = st.one_of(
    hnp.arrays(st.sampled_from([np.float64, np.float32, np.int64, np.int32, np.uint8,
                                np.bool_, np.complex64, np.dtype("U4"), np.dtype("S2")]),
               hnp.array_shapes(min_dims=0, max_dims=4, max_side=6)),
    st.sampled_from([np.zeros((0, 3)), np.zeros(3), np.array(np.nan), np.full((2, 24), 30),
                     np.arange(24)[None].repeat(2, 0)[:, ::-1].copy()]))


class Files:
    """Arrays and their file bytes, with a short repr (hypothesis prints strategy arguments)."""

    def __init__(self, name: str, arrays: dict) -> None:
        self.name, self.arrays = name, arrays
        self.files = {".npz": _npz_bytes(arrays), ".pkl": pickle.dumps(arrays, protocol=2)}

    def __repr__(self) -> str:
        return f"Files({self.name!r})"


@pytest.fixture(scope="module")
def model_files():
    """A small valid model (no pose blend shapes, 4 betas) as .npz and .pkl bytes."""
    arrays = make_procedural_model(num_betas=4, seed=1)
    del arrays["posedirs"]
    return Files("model", arrays)


@st.composite
def model_file(draw: st.DrawFn, source: Files) -> tuple[str, bytes]:
    arrays, files = source.arrays, source.files
    suffix = draw(st.sampled_from([".npz", ".pkl"]))
    if draw(st.booleans()):
        return suffix, Blob(draw(mutated(Blob(files[suffix]))))
    spoilt = dict(arrays)
    for key in draw(st.lists(st.sampled_from(sorted(arrays) + ["posedirs"]), min_size=1,
                             max_size=2, unique=True)):
        choice = draw(st.sampled_from(["array", "delete", "shape", "scale"]))
        if choice == "delete":
            spoilt.pop(key, None)
        elif choice == "shape" and key in arrays:
            spoilt[key] = arrays[key].reshape(-1)[: draw(st.integers(0, 50))]
        elif choice == "scale" and key in arrays:
            with np.errstate(all="ignore"):  # 1e300 · x overflows to inf: a bad file too
                spoilt[key] = arrays[key] * draw(st.sampled_from([-1.0, 0.0, 1e300, 2.0]))
        else:
            spoilt[key] = draw(small_arrays)
    if suffix == ".pkl":
        return suffix, Blob(pickle.dumps(spoilt, protocol=2))
    return suffix, Blob(_npz_bytes(spoilt, compressed=draw(st.booleans())))


def _load(source: Files, data: st.DataObject, loader) -> object:  # noqa: ANN001
    """``loader`` on a drawn file of ``source``'s kind: the loaded object, or None."""
    suffix, content = data.draw(model_file(source))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{source.name}{suffix}"
        path.write_bytes(content)
        return outcome(lambda: loader(path), [str(path)])


@examples(suite=30, fuzz=2500)
@given(data=st.data())
def test_load_model_gives_a_valid_model_or_a_named_error(model_files, data):
    model = _load(model_files, data, smplify.load_model)
    if model is not None:  # a model that loads poses to finite vertices
        pose = np.random.default_rng(0).normal(0, 0.3, 72)
        out = model(betas=np.ones(model.num_betas), global_orient=pose[:3],
                    body_pose=pose[3:])
        assert np.all(np.isfinite(out.vertices)) and np.all(np.isfinite(out.joints))


@pytest.fixture(scope="module")
def prior_files(open_prior):
    arrays = {"means": np.asarray(open_prior.means), "covars": np.asarray(open_prior.covars),
              "weights": np.asarray(open_prior.weights)}
    return Files("prior", arrays)


@examples(suite=20, fuzz=1500)
@given(data=st.data())
def test_load_prior_gives_a_finite_prior_or_a_named_error(prior_files, data):
    prior = _load(prior_files, data, smplify.load_prior)
    if prior is not None:  # a prior that loads evaluates to finite energies
        poses = np.random.default_rng(0).normal(0, 0.3, (4, 69))
        assert np.all(np.isfinite(prior.energies(poses)))
        assert_finite_arrays([np.asarray(prior.means), np.asarray(prior.neg_log_c)])


# --- keypoint and image files -----------------------------------------------------------------
json_values = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers(-(2**70), 2**70) | st.text(max_size=4),
    lambda inner: st.lists(inner, max_size=6) | st.dictionaries(st.text(max_size=8), inner,
                                                                   max_size=4),
    max_leaves=30)
rows = st.lists(numbers | st.none() | st.text(max_size=2), min_size=0, max_size=80)


@st.composite
def keypoint_document(draw: st.DrawFn) -> object:
    """JSON documents shaped like each accepted layout, with garbage where the values go."""
    kind = draw(st.sampled_from(["openpose", "coco", "annotations", "smplify", "any"]))
    length = st.sampled_from([75, 54, 51]).flatmap(
        lambda n: st.lists(numbers, min_size=n, max_size=n))
    values = length | rows | json_values
    if kind == "openpose":
        return {"people": draw(st.lists(st.fixed_dictionaries(
            {"pose_keypoints_2d": values}) | json_values, max_size=3))}
    if kind in ("coco", "annotations"):
        entries = draw(st.lists(st.fixed_dictionaries(
            {"image_id": json_values, "keypoints": values},
            optional={"score": json_values, "category_id": st.sampled_from([1, 2]) | json_values}
        ) | json_values, max_size=4))
        if kind == "coco":
            return entries
        return {"annotations": entries, "images": draw(st.lists(st.fixed_dictionaries(
            {"id": json_values, "width": json_values, "height": json_values}), max_size=2))}
    if kind == "smplify":
        return {"keypoints": draw(st.lists(st.lists(numbers, min_size=2, max_size=3),
                                           max_size=20) | values),
                "format": draw(st.sampled_from(["coco17", "openpose25", "nope"]) | json_values),
                "image_size": draw(st.just([640, 480]) | json_values)}
    return draw(json_values)


def _check_frames(source) -> None:
    for frame in source.frames():
        assert_finite_arrays(frame.people or [])
        if frame.image is not None:
            assert frame.image.dtype == np.uint8 and frame.image.ndim == 3


def _read_all(path: Path, image_size) -> None:
    """Every reader on ``path``: the CLI's sources (all frames) and the keypoint readers."""
    source = outcome(lambda: open_source(path, image_size=image_size), [str(path)])
    if source is not None:
        outcome(lambda: _check_frames(source), [str(path)])
    if path.suffix == ".json":
        outcome(lambda: read_keypoint_file(path), [str(path), "path_or_dict"])
        outcome(lambda: keypoints_from_openpose_json(path), [str(path), "path_or_dict", "person"])


@examples(suite=40, fuzz=2500)
@given(doc=keypoint_document(), image_size=st.sampled_from([None, (640, 480)]),
       raw=st.sampled_from([None, "[" * 100_000, "{\"people\": " * 50_000, "\xff\xfe", "1e999",
                            "[1e999, -1e999, NaN]"]))
def test_json_readers(doc, image_size, raw):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "keypoints.json"
        path.write_text(json.dumps(doc) if raw is None or doc else raw, encoding="utf-8")
        _read_all(path, image_size)


@st.composite
def keypoint_npz(draw: st.DrawFn) -> bytes:
    arrays = {"keypoints": draw(st.one_of(
        hnp.arrays(np.float64, st.sampled_from([(17, 3), (4, 17, 3), (2, 3, 17, 3), (17, 2),
                                                (0, 17, 3), (3,), (2, 2, 2, 2, 3)]),
                   elements=st.sampled_from(SPECIAL) | st.floats(-2000, 2000)),
        small_arrays))}
    for key, values in (("format", st.sampled_from([np.array("coco17"), np.array("x"),
                                                    np.array(3.0)]) | small_arrays),
                        ("image_size", st.sampled_from([np.array([640, 480])]) | small_arrays),
                        ("fps", st.sampled_from([np.array(30.0)]) | small_arrays)):
        if draw(st.booleans()):
            arrays[key] = draw(values)
    content = _npz_bytes(arrays, compressed=draw(st.booleans()))
    return draw(mutated(Blob(content))) if draw(st.integers(0, 3)) == 0 else content


@examples(suite=30, fuzz=1500)
@given(content=keypoint_npz(), image_size=st.sampled_from([None, (640, 480)]))
def test_npz_keypoint_reader(content, image_size):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "keypoints.npz"
        path.write_bytes(content)
        _read_all(path, image_size)


@pytest.fixture(scope="module")
def image_files():
    from PIL import Image

    pixels = np.random.default_rng(0).integers(0, 255, (24, 32, 3), dtype=np.uint8)
    out = {}
    for suffix, fmt in ((".png", "PNG"), (".jpg", "JPEG"), (".bmp", "BMP"), (".tif", "TIFF"),
                        (".webp", "WEBP")):
        buffer = io.BytesIO()
        Image.fromarray(pixels).save(buffer, format=fmt)
        out[suffix] = buffer.getvalue()
    return out


@examples(suite=30, fuzz=1500)
@given(data=st.data())
def test_image_reader(image_files, data):
    suffix = data.draw(st.sampled_from(sorted(image_files)))
    content = data.draw(mutated(Blob(image_files[suffix])) | st.binary(max_size=64))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"photo{suffix}"
        path.write_bytes(content)
        _read_all(path, None)


def test_a_call_that_logs_to_stderr_is_a_finding_with_its_inputs_saved(case, open_model,
                                                                        tmp_path, monkeypatch):
    """Ceres logs a residual block that evaluates to NaN ("Error in evaluating the
    ResidualBlock ... non-finite value") to stderr; the fuzz harness fails such a call and
    saves what it was given (here a NaN injected by the test-only fault hook)."""
    import fuzzing

    monkeypatch.setattr(fuzzing, "FAILURES", tmp_path)
    fitter = smplify.Fitter(open_model, format=FORMAT, image_size=case.image_size,
                            focal_length=case.focal_length, multi_start=False, threads=1)
    fitter.fit(case.keypoints)
    fitter._core = smplify._core._testing.with_fault(fitter._core, "nan_residual", 1, 2)
    with pytest.raises(AssertionError, match="wrote to stderr"):
        outcome(lambda: fitter.fit(case.keypoints, warm_start=False), ["keypoints"],
                {"keypoints": case.keypoints})
    saved = tmp_path / "test_a_call_that_logs_to_stderr_is_a_finding_with_its_inputs_saved.pkl"
    assert (tmp_path / f"{saved.stem}-first.pkl").is_file()
    np.testing.assert_array_equal(pickle.loads(saved.read_bytes())["keypoints"],
                                  case.keypoints)
    assert "ResidualBlock" in saved.with_suffix(".stderr").read_text()


def test_a_dropped_keypoint_at_1e308_px_in_a_tracked_frame(case, open_model, capfd):
    """Found by make fuzz: the online Fitter's swap scores squared a confidence-0 keypoint's
    1e308 px offset and NumPy warned of the overflow (an error in this suite, a printed
    warning for a user)."""
    fitter = smplify.Fitter(open_model, format=FORMAT, image_size=case.image_size,
                            focal_length=case.focal_length, multi_start=False,
                            max_iterations=3, threads=1)
    fitter.fit(case.keypoints)
    frame = case.keypoints.copy()
    frame[1] = [1e308, frame[1, 1], 0.0]
    assert_finite_fit(fitter.fit(frame))
    assert capfd.readouterr().err == ""
