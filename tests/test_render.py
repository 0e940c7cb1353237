"""Tests of the renderer (smplify.render, OpenGL): coverage, depth order, cameras, overlays."""

from __future__ import annotations

import sys
from types import SimpleNamespace

import numpy as np
import pytest
from extras import need_renderer
from smplify import _gl, pictures, render


@pytest.fixture(autouse=True)
def _renderer():
    need_renderer()

WHITE = np.array([255, 255, 255], dtype=np.uint8)


def _box(lo, hi):
    """Closed axis-aligned box: 8 vertices, 12 triangles."""
    x0, y0, z0 = lo
    x1, y1, z1 = hi
    v = np.array(
        [[x0, y0, z0], [x1, y0, z0], [x1, y1, z0], [x0, y1, z0],
         [x0, y0, z1], [x1, y0, z1], [x1, y1, z1], [x0, y1, z1]],
        dtype=np.float64,
    )  # fmt: skip
    f = np.array(
        [[0, 2, 1], [0, 3, 2], [4, 5, 6], [4, 6, 7], [0, 1, 5], [0, 5, 4],
         [2, 3, 7], [2, 7, 6], [1, 2, 6], [1, 6, 5], [0, 4, 7], [0, 7, 3]],
    )  # fmt: skip
    return v, f


def _covered(img):
    return np.any(img != WHITE, axis=2)


def test_orthographic_box_covers_its_square():
    v, f = _box((-0.5, -0.5, -0.5), (0.5, 0.5, 0.5))
    cam = render.OrthoCamera(render._view_rotation("front"), 40.0, (50.0, 50.0))
    img = render.render_mesh(v, f, camera=cam, image_size=(100, 100))
    cov = _covered(img)
    # The unit square spans pixels 30..69 (pixel centres 30.5 .. 69.5) in u and v.
    expected = np.zeros_like(cov)
    expected[30:70, 30:70] = True
    assert np.array_equal(cov, expected)


def test_view_camera_frames_mesh_with_margin():
    v, f = _box((0.0, 0.0, 0.0), (0.2, 1.8, 0.3))
    img = render.render_mesh(v, f, view="front", image_size=(200, 400))
    rows = np.nonzero(_covered(img).any(axis=1))[0]
    cols = np.nonzero(_covered(img).any(axis=0))[0]
    # 5 % margin top and bottom: the 1.8 m tall box spans 90 % of 400 px = 360 px.
    assert abs((rows[-1] - rows[0] + 1) - 360) <= 2
    assert abs((cols[-1] - cols[0] + 1) - 40) <= 2  # 0.2 m at 200 px/m
    assert abs((rows[0] + rows[-1]) / 2 - 200) <= 1 and abs((cols[0] + cols[-1]) / 2 - 100) <= 1


def test_views_see_the_expected_extent():
    v, f = _box((0.0, 0.0, 0.0), (0.2, 1.0, 0.5))  # x 0.2, y 1.0, z 0.5
    widths = {}
    for view in ("front", "side", "top"):
        cam = render.view_camera(v, view, (300, 300))
        widths[view] = cam.scale
    # Front frames x-y (1.0 tall), side frames z-y (1.0 tall), top frames x-z (0.5 deep).
    assert widths["front"] == pytest.approx(widths["side"])
    assert widths["top"] == pytest.approx(2 * widths["front"])


def test_perspective_sphere_area_and_centre():
    f_px, z = 500.0, 4.0
    sv, sf = render.sphere_mesh((0.0, 0.0, z), 0.5, subdivisions=4)
    cam = {"focal_length": f_px, "center": (160.0, 120.0)}
    img = render.render_mesh(sv, sf, camera=cam, image_size=(320, 240))
    cov = _covered(img)
    # Silhouette of a sphere: a disc of radius f R / sqrt(Z^2 - R^2).
    r_px = f_px * 0.5 / np.sqrt(z**2 - 0.25)
    assert cov.sum() == pytest.approx(np.pi * r_px**2, rel=0.03)
    ys, xs = np.nonzero(cov)
    assert xs.mean() == pytest.approx(159.5, abs=0.5)
    assert ys.mean() == pytest.approx(119.5, abs=0.5)


def test_depth_order_nearer_face_wins():
    near_v, near_f = _box((-0.2, -0.2, 2.0), (0.2, 0.2, 2.1))
    far_v, far_f = _box((-0.5, -0.5, 3.0), (0.5, 0.5, 3.1))
    # Far box listed last so that drawing order alone would put it on top.
    v, f, c = render.merge_meshes([(near_v, near_f), (far_v, far_f)],
                                  colors=[(1.0, 0.0, 0.0), (0.0, 0.0, 1.0)])
    img = render.render_mesh(v, f, camera={"focal_length": 200.0, "center": (50, 50)},
                             image_size=(100, 100), color=c, ambient=1.0)
    assert tuple(img[50, 50]) == (255, 0, 0)
    assert tuple(img[50, 22]) == (0, 0, 255)  # only the far box there


def test_camera_pose_is_applied():
    v, f = _box((-0.1, -0.1, -0.1), (0.1, 0.1, 0.1))
    cam = {"focal_length": 300.0, "center": (50.0, 50.0), "rotation": np.eye(3),
           "translation": np.array([0.0, 0.0, 2.0])}
    img = render.render_mesh(v, f, camera=cam, image_size=(100, 100))
    assert _covered(img)[50, 50]
    behind = dict(cam, translation=np.array([0.0, 0.0, -2.0]))
    img = render.render_mesh(v, f, camera=behind, image_size=(100, 100))
    assert not _covered(img).any()


def test_project_points_matches_opencv_formula():
    pts = np.array([[0.3, -0.2, 2.0], [1.0, 0.5, 4.0]])
    uv, depth = render.project_points(pts, {"focal_length": 1000.0, "center": (320, 240)})
    assert np.allclose(uv, [[320 + 150, 240 - 100], [320 + 250, 240 + 125]])
    assert np.allclose(depth, [2.0, 4.0])


def test_draws_over_given_image_and_keypoints():
    bg = np.zeros((60, 80, 3), dtype=np.uint8)
    v, f = _box((-0.1, -0.1, 1.0), (0.1, 0.1, 1.2))
    img = render.render_mesh(v, f, camera={"focal_length": 100.0, "center": (40, 30)},
                             image=bg, keypoints_2d=[[5, 5, 1.0], [70, 50, 0.0]])
    assert img.shape == (60, 80, 3)
    assert tuple(img[5, 5]) == (220, 30, 30)  # drawn keypoint
    assert tuple(img[50, 70]) == (0, 0, 0)  # zero confidence: skipped
    assert img[30, 40].sum() > 0  # the box


def test_capsule_mesh_is_sized():
    v, f = render.capsule_mesh((0, 0, 0), (0, 1, 0), 0.1)
    assert np.allclose(np.linalg.norm(v[:, [0, 2]], axis=1)[(v[:, 1] > 0) & (v[:, 1] < 1)], 0.1)
    assert v[:, 1].min() == pytest.approx(-0.1) and v[:, 1].max() == pytest.approx(1.1)
    # Seen from the front it covers a 0.2 x 1.2 stadium.
    cam = render.OrthoCamera(render._view_rotation("front"), 100.0, (50.0, 120.0))
    cov = _covered(render.render_mesh(v, f, camera=cam, image_size=(100, 140)))
    area = (0.2 * 1.0 + np.pi * 0.1**2) * 100.0**2
    assert cov.sum() == pytest.approx(area, rel=0.03)


def test_save_png_roundtrip(tmp_path):
    from PIL import Image

    a = (np.arange(4 * 5 * 3) % 256).astype(np.uint8).reshape(4, 5, 3)
    path = tmp_path / "sub" / "x.png"
    render.save_png(path, a)
    assert np.array_equal(np.asarray(Image.open(path)), a)


def test_save_png_levels_keep_the_pixels(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(3)
    a = np.repeat(rng.integers(0, 256, (60, 80, 1), dtype=np.uint8), 3, axis=2)
    a[10:30, 20:50] = (200, 120, 40)
    sizes = []
    for level in (0, render.PNG_COMPRESS_LEVEL, 6, 9):
        path = tmp_path / f"x{level}.png"
        render.save_png(path, a, compress_level=level)
        assert np.array_equal(np.asarray(Image.open(path)), a)
        sizes.append(path.stat().st_size)
    assert sizes[0] > sizes[-1]  # the level is applied
    with pytest.raises(ValueError, match="compress_level"):
        render.save_png(tmp_path / "y.png", a, compress_level=10)


def test_bad_input_raises():
    v, f = _box((0, 0, 0), (1, 1, 1))
    with pytest.raises(ValueError, match="vertices"):
        render.render_mesh(v[:, :2], f)
    with pytest.raises(ValueError, match="faces"):
        render.render_mesh(v, f + 10)
    with pytest.raises(ValueError, match="view"):
        render.render_mesh(v, f, view="diagonal")
    with pytest.raises(ValueError, match="focal_length"):
        render.render_mesh(v, f, camera={"center": (1, 1)})
    with pytest.raises(TypeError, match="uint8"):
        render.save_png("/tmp/never.png", np.zeros((2, 2, 3)))


def _photo(h, w, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def _body_in_camera(open_model):
    """The open model upright, facing the camera 4 m away (camera frame, metres)."""
    out = open_model(global_orient=np.array([np.pi, 0.0, 0.0]), transl=np.array([0.1, 0.0, 4.0]))
    return out.vertices, open_model.faces


def test_mesh_pixels_cover_the_projected_vertices_and_the_rest_is_the_photo(open_model):
    vertices, faces = _body_in_camera(open_model)
    cam = {"focal_length": 500.0, "center": (150.0, 200.0)}
    photo = _photo(400, 300)
    img = render.render_mesh(vertices, faces, camera=cam, image=photo)
    covered = np.any(img != photo, axis=2)
    uv, _ = render.project_points(vertices, cam)
    px = np.floor(uv).astype(int)
    # A vertex on the silhouette may fall on a pixel whose centre is just outside it: every
    # vertex is on a covered pixel or next to one, and the great majority right on one.
    near = covered.copy()
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            near |= np.roll(covered, (dy, dx), axis=(0, 1))
    assert near[px[:, 1], px[:, 0]].all()
    assert covered[px[:, 1], px[:, 0]].mean() > 0.9
    # Outside the projected bounding box (one pixel of slack) the picture is the photo exactly.
    lo, hi = np.floor(uv.min(axis=0)).astype(int) - 1, np.ceil(uv.max(axis=0)).astype(int) + 1
    outside = np.ones(covered.shape, dtype=bool)
    outside[lo[1]:hi[1] + 1, lo[0]:hi[0] + 1] = False
    assert np.array_equal(img[outside], photo[outside])
    # And the silhouette fills its box: the body is where its vertices are, nowhere else
    # (within 2 px: a toe tip's sub-pixel triangles may cover no pixel centre; 1.7 px at the
    # lowest vertex on the open model rebuilt with the knee joints at the knee).
    ys, xs = np.nonzero(covered)
    assert abs(xs.min() - uv[:, 0].min()) < 2.0 and abs(xs.max() - uv[:, 0].max()) < 2.0
    assert abs(ys.min() - uv[:, 1].min()) < 2.0 and abs(ys.max() - uv[:, 1].max()) < 2.0


def test_semi_transparent_mesh_lets_the_photo_through(open_model):
    vertices, faces = _body_in_camera(open_model)
    cam = {"focal_length": 500.0, "center": (150.0, 200.0)}
    a, b = _photo(400, 300, 1), _photo(400, 300, 2)
    img_a = render.render_mesh(vertices, faces, camera=cam, image=a, opacity=0.5)
    img_b = render.render_mesh(vertices, faces, camera=cam, image=b, opacity=0.5)
    opaque = render.render_mesh(vertices, faces, camera=cam, image=a)
    covered = np.any(opaque != a, axis=2)
    # Over the mesh: out = 0.5 photo + 0.5 shade, so two photos differ there by half as much.
    diff = img_a[covered].astype(float) - img_b[covered]
    half = 0.5 * (a[covered].astype(float) - b[covered])
    assert np.abs(diff - half).max() <= 1.0
    assert np.array_equal(img_a[~covered], a[~covered])


def test_multisampling_softens_the_silhouette_only(open_model):
    vertices, faces = _body_in_camera(open_model)
    cam = {"focal_length": 500.0, "center": (150.0, 200.0)}
    bg = np.zeros((400, 300, 3), dtype=np.uint8)
    hard = render.render_mesh(vertices, faces, camera=cam, image=bg, color=(1.0, 1.0, 1.0),
                              ambient=1.0)
    soft = render.render_mesh(vertices, faces, camera=cam, image=bg, color=(1.0, 1.0, 1.0),
                              ambient=1.0, samples=4)
    assert set(np.unique(hard)) <= {0, 255}
    partial = (soft[:, :, 0] > 0) & (soft[:, :, 0] < 255)
    assert partial.sum() > 100  # edge pixels partly covered
    interior = (hard[:, :, 0] == 255)
    # Pixels deep inside the body are fully covered either way.
    assert (soft[interior][:, 0] > 0).mean() > 0.99


def test_side_camera_sees_depth_as_width():
    # 0.2 m wide, 1.0 m tall, 0.8 m deep box 4 m in front of the camera
    v, f = _box((-0.1, -0.5, 3.6), (0.1, 0.5, 4.4))
    cam = {"focal_length": 400.0, "center": (100.0, 100.0)}
    front = _covered(render.render_mesh(v, f, camera=cam, image_size=(200, 200)))
    side_cam = render.side_camera(v, cam, (200, 200))
    side = _covered(render.render_mesh(v, f, camera=side_cam, image_size=(200, 200)))
    width = lambda m: np.ptp(np.nonzero(m.any(axis=0))[0]) + 1  # noqa: E731
    height = lambda m: np.ptp(np.nonzero(m.any(axis=1))[0]) + 1  # noqa: E731
    assert width(front) == pytest.approx(400 * 0.2 / 3.6, abs=2)  # nearest face at 3.6 m
    assert width(side) == pytest.approx(400 * 0.8 / 3.9, abs=2)  # depth, nearest side at 3.9 m
    assert height(side) == pytest.approx(height(front), abs=14)
    # The turn is about the box's centre: it stays in the middle of the picture.
    xs = np.nonzero(side.any(axis=0))[0]
    assert (xs.min() + xs.max()) / 2 == pytest.approx(100, abs=1.5)


def _fit_and_photo(open_model):
    """A fit-like result (the body in a camera, its first five vertices as keypoints) and a
    400 x 300 photo."""
    vertices, faces = _body_in_camera(open_model)
    camera = SimpleNamespace(focal_length=500.0, center=np.array([150.0, 200.0]))
    uv, _ = render.project_points(vertices[:5], camera)
    result = SimpleNamespace(vertices=vertices, faces=faces, camera=camera, keypoints_2d=uv)
    return result, _photo(400, 300)


def test_draw_fit_and_side_view_of_a_fit(open_model):
    result, photo = _fit_and_photo(open_model)
    detected = np.c_[result.keypoints_2d + 3.0, np.ones(5)]
    img = pictures.draw_fit(result, photo, keypoints=detected)
    assert img.shape == photo.shape and img[0, 0].tolist() == photo[0, 0].tolist()
    x, y = np.round(detected[0, :2]).astype(int)
    assert tuple(img[y, x]) == pictures.DETECTED_COLOR
    side = pictures.draw_fit_side(result, (300, 400))
    assert side.shape == (400, 300, 3) and np.any(side != 255)


def test_a_side_view_that_would_be_empty_says_so(open_model):
    """At the photo's place, a picture far smaller than the photo held no part of the body
    and came back blank without a word; now that is an error naming image_size, and
    frame="body" draws the whole body at any size."""
    result, _ = _fit_and_photo(open_model)  # the body about the point (150, 200) of 300 x 400
    far = SimpleNamespace(vertices=result.vertices, faces=result.faces,
                          camera=SimpleNamespace(focal_length=500.0,
                                                 center=np.array([900.0, 1200.0])))
    with pytest.raises(ValueError, match="image_size"):
        pictures.draw_fit_side(far, (300, 400))
    with pytest.raises(ValueError, match="frame"):
        pictures.draw_fit_side(result, (300, 400), frame="thumbnail")
    whole = pictures.draw_fit_side(far, (64, 96), frame="body")
    drawn = np.any(whole != 255, axis=2)
    rows, cols = np.flatnonzero(drawn.any(axis=1)), np.flatnonzero(drawn.any(axis=0))
    assert not (drawn[0].any() or drawn[-1].any() or drawn[:, 0].any() or drawn[:, -1].any())
    # 90 % of the picture along the body's longer side, centred
    assert max((rows[-1] - rows[0] + 1) / 96, (cols[-1] - cols[0] + 1) / 64) > 0.8
    assert abs((rows[0] + rows[-1]) / 2 - 47.5) < 4 and abs((cols[0] + cols[-1]) / 2 - 31.5) < 4
    # the photo's own frame draws as before (same picture with or without the keyword)
    assert np.array_equal(pictures.draw_fit_side(result, (300, 400), frame="photo"),
                          pictures.draw_fit_side(result, (300, 400)))


def test_a_fit_over_its_photo_turned_is_refused(open_model, tmp_path):
    """README's photo recipe read the photo with Pillow, without its EXIF orientation, while
    smplify.detect reads it upright: over a phone photo the fit was drawn on the photo lying
    on its side, silently. The turned photo is now an error that says so."""
    from PIL import Image

    result, photo = _fit_and_photo(open_model)  # a fit of a 300 x 400 (w x h) picture
    path = tmp_path / "phone.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # shown turned 90° clockwise: stored as 400 x 300
    Image.fromarray(photo).transpose(Image.Transpose.ROTATE_90).save(path, exif=exif)
    stored = np.asarray(Image.open(path).convert("RGB"))
    assert stored.shape == (300, 400, 3)
    with pytest.raises(ValueError, match=r"image: 400 x 300 px, but the fits are of a 300 x "
                                         r"400 px picture.*EXIF orientation"):
        pictures.draw_fit(result, stored)
    from smplify.detection import load_image

    upright = load_image(path)  # as the detector reads it
    assert pictures.draw_fits([result], upright).shape == (400, 300, 3)


#: EXIF orientation k: how Pillow turns the stored pixels to show them upright.
_SHOWN = {2: "FLIP_LEFT_RIGHT", 3: "ROTATE_180", 4: "FLIP_TOP_BOTTOM", 5: "TRANSPOSE",
          6: "ROTATE_270", 7: "TRANSVERSE", 8: "ROTATE_90"}
_UNDONE = {"ROTATE_270": "ROTATE_90", "ROTATE_90": "ROTATE_270"}


def _phone_photo(path, upright, orientation):
    """``upright`` stored as a camera stores it with EXIF ``orientation`` (JPEG)."""
    from PIL import Image

    stored = Image.fromarray(upright)
    if orientation != 1:
        shown = _SHOWN[orientation]
        stored = stored.transpose(getattr(Image.Transpose, _UNDONE.get(shown, shown)))
    exif = Image.Exif()
    exif[0x0112] = orientation
    stored.save(path, exif=exif, quality=95)
    return np.asarray(Image.open(path).convert("RGB"))  # the pixels as stored


def _blocks(h, w):
    """A picture of four flat quarters and a white corner: no turn of it is itself."""
    img = np.zeros((h, w, 3), dtype=np.uint8)
    img[:h // 2, :w // 2], img[:h // 2, w // 2:] = (250, 0, 0), (0, 250, 0)
    img[h // 2:, :w // 2], img[h // 2:, 3 * w // 4:] = (0, 0, 250), (255, 255, 255)
    return img


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_is_read_upright(tmp_path, orientation):
    """The detector, the fit (its image size) and the pictures read a photo with
    detection.load_image: upright for each of EXIF's eight orientations, mirrored ones too."""
    from smplify.detection import load_image
    from smplify.pictures import load_photo

    upright = _blocks(40, 64)
    path = tmp_path / f"phone{orientation}.jpg"
    stored = _phone_photo(path, upright, orientation)
    assert stored.shape == ((64, 40, 3) if orientation >= 5 else (40, 64, 3))
    for read in (load_image(path), load_photo(path, (64, 40))):
        assert read.shape == upright.shape
        assert np.abs(read.astype(int) - upright).mean() < 6.0  # JPEG's loss at the edges


@pytest.mark.parametrize("orientation, turn", [(2, "mirrored left to right"),
                                               (3, "turned 180°"),
                                               (4, "mirrored top to bottom")])
def test_a_fit_over_its_photo_turned_180_or_mirrored_is_refused(open_model, tmp_path,
                                                                orientation, turn):
    """EXIF orientations 2–4 keep the photo's size, so the quarter-turn check cannot see a
    photo read without them: the fit was drawn at the wrong place over an upside-down or
    mirrored photo, silently. A fit that kept its picture's signature (fit_image's) refuses
    it, and the photo's path gives the right picture."""
    from smplify.detection import load_image
    from smplify.image_fit import SIGNATURE_KEY, picture_signature

    result, photo = _fit_and_photo(open_model)
    photo = np.repeat(np.repeat(_blocks(40, 30), 10, axis=0), 10, axis=1)  # 300 x 400
    path = tmp_path / "phone.jpg"
    stored = _phone_photo(path, photo, orientation)
    result.summary = {SIGNATURE_KEY: picture_signature(load_image(path))}
    with pytest.raises(ValueError, match=f"image: the fits' picture {turn}, read without its EXIF "
                                         "orientation.*load_image"):
        pictures.draw_fit(result, stored)
    right = pictures.draw_fit(result, load_image(path))
    np.testing.assert_array_equal(pictures.draw_fit(result, path), right)
    np.testing.assert_array_equal(pictures.draw_fit(result, str(path)), right)
    # without a signature (a fit of the caller's own keypoints) nothing can be told
    result.summary = {}
    assert pictures.draw_fit(result, stored).shape == stored.shape


def _fit_of(open_model, picture):
    """A fit of ``picture`` (its camera centred on it) that kept its signature, as
    fit_image's does."""
    from types import SimpleNamespace

    from smplify.image_fit import SIGNATURE_KEY, picture_signature

    result, _ = _fit_and_photo(open_model)
    height, width = picture.shape[:2]
    result.camera = SimpleNamespace(focal_length=500.0, center=np.array([width, height]) / 2.0)
    result.summary = {SIGNATURE_KEY: picture_signature(picture)}
    return result


def _messi5():
    from extras import opencv_sample
    from smplify.detection import load_image

    return load_image(opencv_sample("messi5.jpg"))


@pytest.mark.parametrize("turn, name", [(lambda p: np.rot90(p, -1), "turned 90° clockwise"),
                                        (lambda p: np.rot90(p, 1), "turned 90° anticlockwise"),
                                        (lambda p: p.transpose(1, 0, 2), "transposed")],
                         ids=["90", "270", "transposed"])
def test_a_fit_over_its_square_photo_turned_a_quarter_is_refused(open_model, turn, name):
    """A square photo with EXIF orientation 5–8 read raw keeps its size, so the size check
    cannot see it: the signature is tried turned a quarter and transposed too."""
    square = np.ascontiguousarray(_messi5()[:, 100:442])  # 342 x 342
    result = _fit_of(open_model, square)
    with pytest.raises(ValueError, match=f"image: the fits' picture {name}, read without"):
        pictures.draw_fit(result, np.ascontiguousarray(turn(square)))
    assert pictures.draw_fit(result, square).shape == square.shape


def test_a_fit_is_drawn_over_its_photo_decoded_or_stored_otherwise(open_model, tmp_path):
    """The signature check refuses only a turned picture: the fitted photo re-encoded (JPEG
    quality 50), as grey or RGBA arrays, or decoded by OpenCV (BGR turned to RGB) is drawn;
    the re-encoded photo mirrored is still refused (its signature differs from the fit's by
    the re-encoding, so a check that wanted an exact match would let it through)."""
    import cv2
    from extras import opencv_sample
    from PIL import Image
    from smplify.detection import load_image

    photo = _messi5()
    result = _fit_of(open_model, photo)
    path = tmp_path / "messi5_q50.jpg"
    Image.fromarray(photo).save(path, quality=50)
    reencoded = load_image(path)
    assert np.abs(reencoded.astype(int) - photo).mean() > 1.0  # another picture, pixel-wise
    grey = np.asarray(Image.fromarray(photo).convert("L"))
    rgba = np.asarray(Image.fromarray(photo).convert("RGBA"))
    opencv = cv2.cvtColor(cv2.imread(str(opencv_sample("messi5.jpg"))), cv2.COLOR_BGR2RGB)
    for picture in (reencoded, grey, rgba, opencv, path):
        assert pictures.draw_fit(result, picture).shape == photo.shape
    with pytest.raises(ValueError, match="image: the fits' picture mirrored left to right"):
        pictures.draw_fit(result, np.ascontiguousarray(reencoded[:, ::-1]))


def test_a_large_photos_signature_is_its_block_means_read_sparsely(open_model):
    """picture_signature reads a photo larger than 256 px a side at a stride (it converted a
    12 MP photo to floats whole: ~90 ms): its blocks' means within a few grey levels of the
    exact ones, the photo turned 180° still refused and upright drawn; a picture not 8-bit is an
    error, not wrapped into other grey levels."""
    from PIL import Image
    from smplify.image_fit import picture_signature

    messi5 = _messi5()
    big = np.asarray(Image.fromarray(messi5).resize((1600, 1000), Image.Resampling.BICUBIC))
    big = np.clip(big + np.random.default_rng(0).normal(0.0, 20.0, big.shape), 0, 255
                  ).astype(np.uint8)
    grey = np.asarray(Image.fromarray(big).convert("L"), dtype=np.float64)
    exact = grey.reshape(8, 125, 8, 200).mean(axis=(1, 3))
    assert np.abs(picture_signature(big) - exact).mean() < 0.5
    assert np.abs(picture_signature(big) - exact).max() < 2.5  # of 256 grey levels
    np.testing.assert_array_equal(picture_signature(messi5[:256]),  # read whole
                                  np.asarray(Image.fromarray(messi5[:256]).convert("L").convert(
                                      "F").resize((8, 8), Image.Resampling.BOX)))
    result = _fit_of(open_model, big)
    with pytest.raises(ValueError, match="image: the fits' picture turned 180°"):
        pictures.draw_fit(result, np.ascontiguousarray(big[::-1, ::-1]))
    assert pictures.draw_fit(result, big).shape == big.shape
    for bad in (big / 255.0, big.astype(np.uint16) * 257, big[..., :2]):
        with pytest.raises(ValueError, match=r"picture: expected \(H, W\), \(H, W, 3\) or "
                                             r"\(H, W, 4\) uint8, got"):
            picture_signature(bad)


def test_points_of_a_bad_shape_are_named_by_draw_points_and_draw_fit(open_model):
    """One check of the points to draw (render._points) serves both."""
    result, photo = _fit_and_photo(open_model)
    for bad in (np.ones((5, 4)), np.ones(5)):
        with pytest.raises(ValueError, match=r"points: expected \(K, 2\) or \(K, 3\)"):
            render.draw_points(photo, bad)
        with pytest.raises(ValueError, match=r"points: expected \(K, 2\) or \(K, 3\)"):
            pictures.draw_fit(result, photo, keypoints=bad)


def test_missing_moderngl_names_the_extra(monkeypatch):
    _gl.release_context()
    monkeypatch.setitem(sys.modules, "moderngl", None)
    try:
        with pytest.raises(render.RenderUnavailable, match=r"smplify\[render\].*libegl1"):
            render.render_mesh(*_box((0, 0, 0), (1, 1, 1)))
    finally:
        _gl.release_context()


def test_opacity_out_of_range_raises():
    with pytest.raises(ValueError, match="opacity"):
        render.render_mesh(*_box((0, 0, 0), (1, 1, 1)), opacity=0.0)


def test_draw_fits_nearer_person_hides_the_farther(open_model):
    from types import SimpleNamespace

    camera = SimpleNamespace(focal_length=500.0, center=np.array([150.0, 200.0]))

    def person(z):
        out = open_model(global_orient=np.array([np.pi, 0.0, 0.0]),
                         transl=np.array([0.0, 0.0, z]))
        return SimpleNamespace(vertices=out.vertices, faces=open_model.faces, camera=camera,
                               keypoints_2d=np.zeros((0, 2)))

    near, far = person(4.0), person(6.0)
    bg = np.zeros((400, 300, 3), dtype=np.uint8)
    red, blue = (1.0, 0.0, 0.0), (0.0, 0.0, 1.0)
    for order in ((near, far, red, blue), (far, near, blue, red)):
        img = pictures.draw_fits(order[:2], bg, colors=order[2:], opacity=1.0)
        chest = img[150:170, 145:155].reshape(-1, 3)  # where both overlap
        assert np.all(chest[:, 0] > 0) and np.all(chest[:, 2] == 0)  # red: the nearer
    with pytest.raises(ValueError, match="share the camera"):
        moved = SimpleNamespace(**{**vars(far), "camera": SimpleNamespace(
            focal_length=600.0, center=camera.center)})
        pictures.draw_fits([near, moved], bg)


def test_compositing_in_the_covered_box_is_the_whole_frame_formula(open_model):
    """render_mesh blends only the box the mesh covers: the same pixels as the "over" formula
    over the whole frame, and the photo untouched outside the box."""
    vertices, faces = _body_in_camera(open_model)
    cam = render.PerspectiveCamera(500.0, (150.0, 200.0), np.eye(3), np.zeros(3))
    photo = _photo(400, 300, seed=5)
    size = (300, 400)
    img = render.render_mesh(vertices, faces, camera=cam, image=photo, opacity=0.6, samples=4,
                             smooth=True, ambient=0.35)
    clip = render._clip_matrix(cam, vertices, size)
    colors = render._face_colors(render.DEFAULT_COLOR, len(faces))
    faces = np.asarray(faces, dtype=np.int64)
    x0, y0, bw, bh = box = render._covered_box(cam, vertices, size)
    rgba = np.zeros((400, 300, 4), dtype=np.uint8)  # the box's rendering, in the whole frame
    rgba[y0:y0 + bh, x0:x0 + bw] = _gl.draw(vertices, faces, colors, clip, size, ambient=0.35,
                                            smooth=True, samples=4, region=box)
    alpha = 0.6 * rgba[:, :, 3:].astype(np.float32) / 255.0
    whole = np.clip(photo * (1.0 - alpha) + 0.6 * rgba[:, :, :3] + 0.5, 0, 255).astype(np.uint8)
    assert 0 < (rgba[:, :, 3] > 0).mean() < 0.5  # the body covers part of the frame
    np.testing.assert_array_equal(img, whole)
    # The box's rendering is the whole frame's: nothing covered outside it, and inside it
    # the same pixels but for a few edge samples (window coordinates rounded at the box's
    # scale: here 3 of ~8 600 covered pixels, by 1 level; at most a sample's share).
    full = _gl.draw(vertices, faces, colors, clip, size, ambient=0.35, smooth=True,
                    samples=4).astype(int)
    outside = np.ones((400, 300), dtype=bool)
    outside[y0:y0 + bh, x0:x0 + bw] = False
    assert bw * bh < 0.5 * 300 * 400 and not full[:, :, 3][outside].any()
    differ = np.any(full != rgba, axis=2)
    assert differ.sum() <= 0.002 * (full[:, :, 3] > 0).sum()
    assert np.abs(full - rgba).max() <= 255 // 4 + 1


def test_bodies_drawn_with_an_index_buffer_are_the_corner_by_corner_pixels(open_model,
                                                                            monkeypatch):
    """_gl.draw draws meshes whose vertices keep one colour (a body per colour) from one GL
    vertex per mesh vertex and an index buffer: the same pixels as one vertex per corner."""
    need_renderer()
    vertices, faces = _body_in_camera(open_model)
    moved = vertices + np.array([0.3, 0.0, 0.5])
    v, f, colors = render.merge_meshes([(vertices, faces), (moved, faces)],
                                       colors=[(0.9, 0.2, 0.2), (0.2, 0.3, 0.9)])
    assert _gl._vertex_colors(f, colors, len(v)) is not None
    clip = _gl.perspective(500.0, (150.0, 200.0), (300, 400), 0.5, 20.0)
    indexed = _gl.draw(v, f, colors, clip, (300, 400), samples=4)
    monkeypatch.setattr(_gl, "_vertex_colors", lambda *args: None)
    corners = _gl.draw(v, f, colors, clip, (300, 400), samples=4)
    assert np.array_equal(indexed, corners) and indexed[:, :, 3].any()
    mixed = colors.copy()
    mixed[0] = (0.0, 1.0, 0.0)  # a face of its own colour: its corners cannot share
    assert _gl._vertex_colors(f, mixed, len(v)) is None


def test_keypoints_of_several_people_in_one_pass_are_those_drawn_one_after_another():
    photo = _photo(120, 160, seed=3)
    rng = np.random.default_rng(4)
    people = [(np.c_[rng.uniform(10, 150, (17, 2)), rng.uniform(0, 1, 17)],
               rng.uniform(10, 110, (17, 2))) for _ in range(3)]
    one_after_another = photo
    for person in people:
        one_after_another = pictures._draw_keypoints(one_after_another, [person])
    assert np.array_equal(pictures._draw_keypoints(photo, people), one_after_another)
    assert not np.array_equal(one_after_another, photo)
