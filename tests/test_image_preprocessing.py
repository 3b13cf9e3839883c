"""Image preprocessing: every transform on a tiny image against a hand-worked result, the
augmentation's shapes, ranges and reproducibility, standardization, the array and directory
flows, loading/saving/resizing, and the bad-input errors."""

import os
import sys

import numpy as np
import pytest

from kerasr import set_random_seed
from kerasr.preprocessing import image as image_module
from kerasr.verbs.images import (
    fit_image_data_generator,
    flow_images_from_data,
    flow_images_from_directory,
    generator_next,
    image_array_resize,
    image_array_save,
    image_data_generator,
    image_load,
    image_to_array,
)

# A 4x4 one-channel image whose pixels are numbered row by row: 0 1 2 3 / 4 5 6 7 / ...
GRID = np.arange(16, dtype=np.float32).reshape(4, 4, 1)


def transformed(params, image=GRID, **generator_args):
    return image_data_generator(**generator_args).apply_transform(image, params)[..., 0]


# ---- each transform, worked by hand -------------------------------------------------------
def test_horizontal_and_vertical_flip():
    assert transformed({"flip_horizontal": True}).tolist() == [
        [3, 2, 1, 0], [7, 6, 5, 4], [11, 10, 9, 8], [15, 14, 13, 12]]
    assert transformed({"flip_vertical": True}).tolist() == [
        [12, 13, 14, 15], [8, 9, 10, 11], [4, 5, 6, 7], [0, 1, 2, 3]]


def test_rotation_by_90_degrees_is_counter_clockwise():
    expected = [[3, 7, 11, 15], [2, 6, 10, 14], [1, 5, 9, 13], [0, 4, 8, 12]]
    np.testing.assert_allclose(transformed({"theta": 90}), expected, atol=1e-5)
    np.testing.assert_allclose(transformed({"theta": -90}), np.array(expected)[::-1, ::-1],
                               atol=1e-5)


def test_rotation_by_180_turns_a_non_square_image_about_its_centre():
    image = np.arange(12, dtype=np.float32).reshape(3, 4, 1)
    np.testing.assert_allclose(transformed({"theta": 180}, image),
                               [[11, 10, 9, 8], [7, 6, 5, 4], [3, 2, 1, 0]], atol=1e-5)


@pytest.mark.parametrize("fill_mode, cval, expected", [
    # The row 0 1 2 3 read one pixel further right: the last pixel comes from outside.
    ("nearest", 0, [1, 2, 3, 3]),
    ("constant", -1, [1, 2, 3, -1]),
    ("reflect", 0, [1, 2, 3, 3]),
    ("wrap", 0, [1, 2, 3, 0]),
])
def test_whole_pixel_width_shift_with_each_fill_mode(fill_mode, cval, expected):
    out = transformed({"ty": 1}, fill_mode=fill_mode, cval=cval)
    np.testing.assert_allclose(out[0], expected)
    np.testing.assert_allclose(out, [[v if v == -1 else v + 4 * r for v in expected] for r in range(4)])


@pytest.mark.parametrize("fill_mode, expected", [
    ("nearest", [2, 3, 3, 3]), ("reflect", [2, 3, 3, 2]), ("wrap", [2, 3, 0, 1])])
def test_two_pixel_shift_shows_each_fill_pattern(fill_mode, expected):
    np.testing.assert_allclose(transformed({"ty": 2}, fill_mode=fill_mode)[0], expected)


def test_height_shift_moves_rows():
    out = transformed({"tx": -1}, fill_mode="constant", cval=-1)
    assert out.tolist() == [[-1] * 4, [0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]


def test_zoom_reads_a_smaller_window_about_the_centre():
    # Pixel values equal to their column: with zx = 0.5 output column c reads input column
    # 1.5 + 0.5 (c - 1.5) = 0.75 + 0.5 c (a linear ramp survives bilinear interpolation).
    ramp = np.tile(np.arange(4, dtype=np.float32), (4, 1))[..., None]
    out = transformed({"zx": 0.5, "zy": 0.5}, ramp)
    np.testing.assert_allclose(out, np.tile([0.75, 1.25, 1.75, 2.25], (4, 1)), atol=1e-6)


def test_shear_slides_rows_sideways_in_proportion_to_their_height():
    # shear 30 degrees: input column = column - sin(30) * (row - 1.5); input row scales by cos.
    ramp = np.tile(np.arange(4, dtype=np.float32), (4, 1))[..., None]
    out = transformed({"shear": 30}, ramp)
    np.testing.assert_allclose(out[1, 1:3], [1.25, 2.25], atol=1e-6)
    np.testing.assert_allclose(out[2, 1:3], [0.75, 1.75], atol=1e-6)


def test_channel_shift_adds_and_clips_to_the_image_range():
    image = np.array([[[0, 10], [5, 20]]], dtype=np.float32)  # 1x2 pixels, 2 channels
    out = image_data_generator().apply_transform(image, {"channel_shift_intensity": 8})
    np.testing.assert_allclose(out, [[[8, 18], [13, 20]]])


def test_brightness_multiplies_on_the_0_to_255_scale():
    image = np.array([[[100.0], [200.0]]], dtype=np.float32)
    out = image_data_generator().apply_transform(image, {"brightness": 1.5})
    np.testing.assert_allclose(out[..., 0], [[150, 255]])


def test_channels_first_transforms_the_same_pixels():
    first = np.moveaxis(GRID, -1, 0)
    g = image_data_generator(data_format="channels_first")
    out = g.apply_transform(first, {"theta": 90, "flip_horizontal": True})
    expected = image_data_generator().apply_transform(GRID, {"theta": 90, "flip_horizontal": True})
    np.testing.assert_allclose(out[0], expected[..., 0], atol=1e-5)


# ---- random parameters ---------------------------------------------------------------------
def test_random_flips_give_the_image_or_its_mirror_both_seen():
    set_random_seed(0)
    g = image_data_generator(horizontal_flip=True)
    seen = set()
    for _ in range(40):
        out = g.random_transform(GRID)[..., 0]
        assert np.array_equal(out, GRID[..., 0]) or np.array_equal(out, GRID[:, ::-1, 0])
        seen.add(bool(out[0, 0] == 3))
    assert seen == {True, False}


def test_integer_and_list_shift_ranges_draw_whole_pixels():
    set_random_seed(1)
    shifts = {image_data_generator(width_shift_range=3).get_random_transform((8, 8, 1))["ty"]
              for _ in range(200)}
    assert shifts == {-2.0, -1.0, 0.0, 1.0, 2.0}  # Keras: integer n gives (-n, n) exclusive
    listed = {image_data_generator(height_shift_range=[2]).get_random_transform((8, 8, 1))["tx"]
              for _ in range(100)}
    assert listed == {-2.0, 2.0}


def test_fractional_ranges_scale_with_the_image_size():
    set_random_seed(2)
    g = image_data_generator(width_shift_range=0.25, height_shift_range=0.5, rotation_range=30,
                             shear_range=10, zoom_range=0.2)
    draws = [g.get_random_transform((10, 40, 3)) for _ in range(300)]
    ty = np.array([d["ty"] for d in draws])
    tx = np.array([d["tx"] for d in draws])
    assert np.abs(ty).max() <= 10 and np.abs(ty).max() > 8  # 0.25 * width 40
    assert np.abs(tx).max() <= 5 and np.abs(tx).max() > 4  # 0.5 * height 10
    assert all(-30 <= d["theta"] <= 30 and -10 <= d["shear"] <= 10 for d in draws)
    assert all(0.8 <= d["zx"] <= 1.2 and 0.8 <= d["zy"] <= 1.2 for d in draws)


def test_augmentation_keeps_shapes_and_rescaled_ranges():
    set_random_seed(3)
    x = np.random.default_rng(0).integers(0, 256, (10, 12, 9, 3)).astype(np.float32)
    g = image_data_generator(rescale=1 / 255, rotation_range=40, width_shift_range=0.2,
                             height_shift_range=0.2, shear_range=0.2, zoom_range=0.2,
                             horizontal_flip=True, fill_mode="nearest")
    batch_x, batch_y = generator_next(flow_images_from_data(x, np.arange(10), g, batch_size=4))
    assert batch_x.shape == (4, 12, 9, 3) and batch_x.dtype == np.float32
    assert batch_y.shape == (4,)
    assert batch_x.min() >= 0 and batch_x.max() <= 1


def test_set_random_seed_makes_augmentation_reproducible():
    x = np.random.default_rng(0).random((6, 8, 8, 1)).astype(np.float32)
    g = image_data_generator(rotation_range=45, zoom_range=0.3, horizontal_flip=True,
                             channel_shift_range=0.1, brightness_range=(0.5, 1.5))

    def two_batches(seed):
        set_random_seed(seed)
        flow = flow_images_from_data(x, generator=g, batch_size=4)
        return [next(flow) for _ in range(2)]

    first, again, other = two_batches(5), two_batches(5), two_batches(6)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], other[0])


def test_flow_seed_is_reproducible_on_its_own():
    x = np.random.default_rng(0).random((6, 8, 8, 1)).astype(np.float32)
    g = image_data_generator(rotation_range=45)
    set_random_seed(1)
    a = next(flow_images_from_data(x, generator=g, seed=7))
    set_random_seed(2)
    b = next(flow_images_from_data(x, generator=g, seed=7))
    np.testing.assert_array_equal(a, b)


# ---- iteration ---------------------------------------------------------------------------
def test_flow_batches_cover_each_epoch_once():
    x = np.arange(5, dtype=np.float32).reshape(5, 1, 1, 1) * np.ones((1, 2, 2, 1), np.float32)
    flow = flow_images_from_data(x, np.arange(5), image_data_generator(), batch_size=2,
                                 shuffle=False)
    assert len(flow) == 3
    sizes = [len(next(flow)[1]) for _ in range(6)]
    assert sizes == [2, 2, 1, 2, 2, 1]
    set_random_seed(4)
    shuffled = flow_images_from_data(x, np.arange(5), batch_size=2)
    for _ in range(3):
        batches = [next(shuffled) for _ in range(3)]
        labels = np.concatenate([y for _, y in batches])
        assert sorted(labels.tolist()) == [0, 1, 2, 3, 4]
        for batch_x, batch_y in batches:  # images travel with their labels
            assert all(np.all(image == label) for image, label in zip(batch_x, batch_y))


def test_flow_yields_sample_weights_and_pipes():
    x = np.zeros((4, 2, 2, 3), np.float32)
    flow = x | flow_images_from_data(y=np.arange(4), sample_weight=np.arange(4.0) + 1,
                                     batch_size=4, shuffle=False)  # y by name in a pipe
    batch_x, batch_y, weights = next(flow)
    assert batch_x.shape == (4, 2, 2, 3)
    assert weights.tolist() == [1, 2, 3, 4] and batch_y.tolist() == [0, 1, 2, 3]
    assert isinstance(flow_images_from_data(x=x), image_module.NumpyArrayIterator)


def test_validation_split_subsets_take_the_first_fraction_for_validation():
    x = np.arange(10, dtype=np.float32).reshape(10, 1, 1, 1)
    y = np.array([0, 1] * 5)
    g = image_data_generator(validation_split=0.2)
    val = flow_images_from_data(x, y, g, shuffle=False, subset="validation")
    train = flow_images_from_data(x, y, g, shuffle=False, subset="training", batch_size=100)
    assert next(val)[0].ravel().tolist() == [0, 1]
    assert next(train)[0].ravel().tolist() == [2, 3, 4, 5, 6, 7, 8, 9]
    with pytest.raises(ValueError, match="different classes"):
        flow_images_from_data(x, np.sort(y), g, subset="training")
    with pytest.raises(ValueError, match="validation_split"):
        flow_images_from_data(x, y, image_data_generator(), subset="training")


# ---- standardization ---------------------------------------------------------------------
def test_featurewise_statistics_from_fit():
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((50, 4, 4, 3)) * [1, 2, 3] + [10, 20, 30]).astype(np.float32)
    g = image_data_generator(featurewise_center=True, featurewise_std_normalization=True)
    assert fit_image_data_generator(g, x) is g
    np.testing.assert_allclose(g.mean.ravel(), x.mean(axis=(0, 1, 2)), rtol=1e-5)
    assert g.mean.shape == (1, 1, 3)
    out = next(flow_images_from_data(x, generator=g, batch_size=50))
    np.testing.assert_allclose(out.mean(axis=(0, 1, 2)), 0, atol=1e-4)
    np.testing.assert_allclose(out.std(axis=(0, 1, 2)), 1, atol=1e-4)


def test_fit_applies_rescale_before_the_statistics():
    x = np.full((3, 2, 2, 1), 255, np.float32)
    g = image_data_generator(featurewise_center=True, rescale=1 / 255)
    g | fit_image_data_generator(x)
    np.testing.assert_allclose(g.mean.ravel(), [1.0], rtol=1e-6)


def test_samplewise_and_preprocessing_function_order():
    x = np.array([[[[1.0], [3.0]]]], np.float32)  # one 1x2 image
    g = image_data_generator(preprocessing_function=lambda im: im + 1, rescale=2,
                             samplewise_center=True)
    # (x + 1) * 2 = 4, 8; centred: -2, 2
    np.testing.assert_allclose(next(flow_images_from_data(x, generator=g)).ravel(), [-2, 2])


def test_zca_whitening_decorrelates_the_fitted_data():
    rng = np.random.default_rng(0)
    mix = rng.standard_normal((4, 4))
    x = (rng.standard_normal((400, 4)) @ mix).reshape(400, 2, 2, 1).astype(np.float32)
    with pytest.warns(UserWarning, match="featurewise_center"):
        g = image_data_generator(zca_whitening=True, zca_epsilon=1e-9)
    fit_image_data_generator(g, x)
    white = g.standardize(x).reshape(400, 4).astype(np.float64)
    # Keras's ZCA: the second moment of the centred data (centred per channel, not per pixel)
    # becomes the identity.
    np.testing.assert_allclose(white.T @ white / len(white), np.eye(4), atol=1e-3)


def test_standardize_warns_when_not_fitted():
    g = image_data_generator(featurewise_center=True)
    with pytest.warns(UserWarning, match="fit_image_data_generator"):
        g.standardize(GRID)


# ---- errors ------------------------------------------------------------------------------
def test_bad_arguments_are_rejected_clearly():
    with pytest.raises(ValueError, match="fill_mode"):
        image_data_generator(fill_mode="mirror")
    with pytest.raises(ValueError, match="zoom_range"):
        image_data_generator(zoom_range=(0.5, 1, 2))
    with pytest.raises(ValueError, match="validation_split"):
        image_data_generator(validation_split=1.5)
    with pytest.raises(ValueError, match="brightness_range"):
        image_data_generator(brightness_range=0.5)
    with pytest.raises(ValueError, match="rotation_range"):
        image_data_generator(rotation_range=-5)
    with pytest.raises(ValueError, match="rank 4"):
        flow_images_from_data(np.zeros((4, 4, 4)))
    with pytest.raises(ValueError, match="same length"):
        flow_images_from_data(np.zeros((4, 2, 2, 1)), np.zeros(3))
    with pytest.raises(ValueError, match="rank 4"):
        fit_image_data_generator(image_data_generator(featurewise_center=True), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="batch_size"):
        flow_images_from_data(np.zeros((4, 2, 2, 1)), batch_size=0)
    with pytest.raises(TypeError, match="image_data_generator"):
        flow_images_from_data(np.zeros((4, 2, 2, 1)), generator="augment")


# ---- arrays <-> image files ----------------------------------------------------------------
def test_image_array_resize_bilinear_and_nearest_by_hand():
    column = np.array([[[0.0]], [[4.0]]], np.float32)  # height 2, width 1
    # Half-pixel centres: new rows sample old rows -0.25, 0.25, 0.75, 1.25 (clamped).
    np.testing.assert_allclose(image_array_resize(column, 4, 1).ravel(), [0, 1, 3, 4])
    np.testing.assert_allclose(
        image_array_resize(column, 4, 1, interpolation="nearest").ravel(), [0, 0, 4, 4])
    batch = np.zeros((2, 6, 8, 3), np.float32)
    assert image_array_resize(batch, 3, 4).shape == (2, 3, 4, 3)
    assert (batch[0] | image_array_resize(3, 4)).shape == (3, 4, 3)
    channels_first = np.zeros((3, 6, 8), np.float32)
    assert image_array_resize(channels_first, 3, 4, data_format="channels_first").shape == (3, 3, 4)


def test_missing_pillow_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(ImportError, match=r'pip install "kerasr\[image\]"'):
        image_load(tmp_path / "x.png")


def test_save_load_round_trip(tmp_path):
    pytest.importorskip("PIL")
    rgb = np.zeros((5, 7, 3), np.float32)
    rgb[..., 0] = 255
    rgb[2, 3] = [0, 128, 255]
    path = image_array_save(rgb, str(tmp_path / "a.png"), scale=False)
    img = image_load(path)
    assert img.size == (7, 5)
    array = image_to_array(img)
    assert array.shape == (5, 7, 3) and array.dtype == np.float32
    np.testing.assert_array_equal(array, rgb)
    assert (image_load(path) | image_to_array(data_format="channels_first")).shape == (3, 5, 7)
    gray = image_to_array(image_load(path, grayscale=True))
    assert gray.shape == (5, 7, 1)
    small = image_to_array(image_load(path, target_size=(2, 3)))
    assert small.shape == (2, 3, 3)
    # scale=True maps the value range onto 0..255
    image_array_save(np.array([[[0.0], [0.5]]], np.float32), str(tmp_path / "b.png"))
    assert image_to_array(image_load(str(tmp_path / "b.png"), color_mode="grayscale")).ravel().tolist() == [0, 255]


# ---- directory flow ----------------------------------------------------------------------
COLORS = {"cats": [(255, 0, 0), (250, 0, 0), (245, 0, 0)], "dogs": [(0, 0, 255), (0, 0, 250)]}


@pytest.fixture
def image_folder(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    for cls, colors in COLORS.items():
        os.makedirs(tmp_path / cls)
        for i, color in enumerate(colors):
            Image.new("RGB", (6, 8), color).save(tmp_path / cls / f"img{i}.png")
    (tmp_path / "cats" / "notes.txt").write_text("not an image")
    return tmp_path


def test_flow_from_directory_reads_classes_and_labels(image_folder, capsys):
    flow = flow_images_from_directory(str(image_folder), target_size=(4, 3), batch_size=5,
                                      shuffle=False)
    assert "Found 5 images belonging to 2 classes" in capsys.readouterr().out
    assert flow.class_indices == {"cats": 0, "dogs": 1}
    assert flow.classes.tolist() == [0, 0, 0, 1, 1]
    assert flow.filenames[0] == os.path.join("cats", "img0.png")
    x, y = generator_next(flow)
    assert x.shape == (5, 4, 3, 3) and x.dtype == np.float32
    np.testing.assert_array_equal(y, [[1, 0], [1, 0], [1, 0], [0, 1], [0, 1]])
    assert x[0, 0, 0].tolist() == [255, 0, 0] and x[4, 3, 2].tolist() == [0, 0, 250]


@pytest.mark.parametrize("class_mode", ["binary", "sparse"])
def test_flow_from_directory_label_modes(image_folder, class_mode):
    _, y = next(flow_images_from_directory(image_folder, target_size=(4, 3), batch_size=5,
                                           shuffle=False, class_mode=class_mode))
    assert y.tolist() == [0, 0, 0, 1, 1]


def test_flow_from_directory_input_none_grayscale_and_rescale(image_folder):
    g = image_data_generator(rescale=1 / 255)
    x, y = next(flow_images_from_directory(image_folder, g, target_size=(2, 2),
                                           class_mode="input", color_mode="grayscale"))
    assert x.shape == (5, 2, 2, 1) and np.array_equal(x, y) and x.max() <= 1
    only_x = next(flow_images_from_directory(image_folder, g, target_size=(2, 2), class_mode=None))
    assert isinstance(only_x, np.ndarray) and only_x.shape == (5, 2, 2, 3)


def test_flow_from_directory_subsets_and_chosen_classes(image_folder):
    g = image_data_generator(validation_split=0.4)
    val = flow_images_from_directory(image_folder, g, target_size=(2, 2), subset="validation")
    train = flow_images_from_directory(image_folder, g, target_size=(2, 2), subset="training")
    # per class: cats int(0.4*3)=1 validation, dogs int(0.4*2)=0
    assert val.filenames == [os.path.join("cats", "img0.png")]
    assert len(train.filenames) == 4
    dogs = flow_images_from_directory(image_folder, classes=["dogs"], target_size=(2, 2))
    assert dogs.samples == 2 and dogs.class_indices == {"dogs": 0}


def test_flow_from_directory_errors(image_folder, tmp_path_factory):
    empty = tmp_path_factory.mktemp("empty")
    (empty / "loose.png").write_bytes(b"")
    with pytest.raises(ValueError, match="no class folders"):
        flow_images_from_directory(str(empty))
    with pytest.raises(FileNotFoundError, match="not a folder"):
        flow_images_from_directory(str(empty / "missing"))
    os.makedirs(empty / "cls")
    with pytest.raises(ValueError, match="no images"):
        flow_images_from_directory(str(empty))
    (image_folder / "dogs" / "broken.png").write_bytes(b"this is not a png")
    flow = flow_images_from_directory(image_folder, target_size=(2, 2), batch_size=10,
                                      shuffle=False)
    with pytest.raises(ValueError, match=r"broken\.png"):
        next(flow)
    with pytest.raises(ValueError, match="class_mode"):
        flow_images_from_directory(image_folder, class_mode="multi")
    with pytest.raises(ValueError, match="no folder for class"):
        flow_images_from_directory(image_folder, classes=["birds"])


def test_save_to_dir_writes_the_augmented_images(image_folder, tmp_path_factory):
    out = tmp_path_factory.mktemp("augmented")
    next(flow_images_from_data(np.random.default_rng(0).random((3, 4, 4, 3)), batch_size=3,
                               save_to_dir=str(out), save_prefix="aug"))
    files = sorted(os.listdir(out))
    assert len(files) == 3 and all(f.startswith("aug_") and f.endswith(".png") for f in files)
