"""Images: loading and saving (Pillow, the optional `image` extra), resizing, and Keras's
`ImageDataGenerator` with its array and directory iterators.

The augmentation follows Keras's (legacy) ImageDataGenerator: the same parameters, ranges and
order of operations (affine transform, channel shift, flips, brightness, then standardize:
preprocessing_function, rescale, samplewise, featurewise, ZCA). Two deliberate differences,
both where Keras's code disagrees with its own documentation:
- `width_shift_range` shifts along the width and `height_shift_range` along the height (Keras's
  code swaps them, keras-team/keras#17398), and rotations turn about the image centre for
  non-square images too;
- `fill_mode="wrap"` repeats the image periodically (`abcd|abcd|abcd`, as documented).
Every random draw comes from `kerasr.random`'s generator (or a generator seeded by `seed=`), so
`set_random_seed()` makes augmentation reproducible.
"""

import os
import warnings

import numpy as np

from .. import config
from .. import random as _random

WHITE_LIST_FORMATS = ("png", "jpg", "jpeg", "bmp", "ppm", "tif", "tiff")
FILL_MODES = ("constant", "nearest", "reflect", "wrap")
_SCIPY_MODES = {"constant": "constant", "nearest": "nearest", "reflect": "reflect",
                "wrap": "grid-wrap"}


# ---- Pillow ------------------------------------------------------------------------------------
def _pil():
    try:
        from PIL import Image
    except ImportError:
        raise ImportError('Loading and saving images needs Pillow: pip install "kerasr[image]" '
                          "(or pip install pillow).") from None
    return Image


def _resample(interpolation):
    Image = _pil()
    methods = {"nearest": Image.NEAREST, "bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC,
               "lanczos": Image.LANCZOS, "box": Image.BOX, "hamming": Image.HAMMING}
    if interpolation not in methods:
        raise ValueError(f"interpolation must be one of {sorted(methods)}, got {interpolation!r}.")
    return methods[interpolation]


def _data_format(value):
    value = "channels_last" if value is None else value
    if value not in ("channels_last", "channels_first"):
        raise ValueError(f'data_format must be "channels_last" or "channels_first", got {value!r}.')
    return value


def _target_size(value, what="target_size"):
    if value is None:
        return None
    try:
        size = tuple(int(v) for v in value)
    except TypeError:
        raise ValueError(f"{what} must be (height, width), got {value!r}.") from None
    if len(size) != 2 or min(size) < 1 or any(int(v) != v for v in value):
        raise ValueError(f"{what} must be two positive integers (height, width), got {value!r}.")
    return size


def load_img(path, grayscale=False, color_mode="rgb", target_size=None, interpolation="nearest"):
    """A Pillow image read from `path`, converted to `color_mode` ("grayscale", "rgb", "rgba")
    and resized to `target_size` = (height, width) if given."""
    Image = _pil()
    if grayscale:
        color_mode = "grayscale"
    if color_mode not in ("grayscale", "rgb", "rgba"):
        raise ValueError(f'color_mode must be "grayscale", "rgb" or "rgba", got {color_mode!r}.')
    size = _target_size(target_size)
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No image file at {path!r}.")
    try:
        with open(path, "rb") as handle:
            img = Image.open(handle)
            img.load()
    except (OSError, SyntaxError, ValueError) as error:
        raise ValueError(f"Cannot read {path!r} as an image ({error}); "
                         f"expected one of {', '.join(WHITE_LIST_FORMATS)}.") from None
    if color_mode == "grayscale":
        if img.mode not in ("L", "I;16", "I"):
            img = img.convert("L")
    elif color_mode == "rgba":
        if img.mode != "RGBA":
            img = img.convert("RGBA")
    elif img.mode != "RGB":
        img = img.convert("RGB")
    if size is not None and img.size != (size[1], size[0]):
        img = img.resize((size[1], size[0]), _resample(interpolation))
    return img


def img_to_array(img, data_format=None, dtype=None):
    """A Pillow image (or an array) as a 3D array (height, width, channels)."""
    data_format = _data_format(data_format)
    x = np.asarray(img, dtype=dtype or config.floatx())
    if x.ndim == 2:
        x = x[:, :, None]
    elif x.ndim != 3:
        raise ValueError(f"image_to_array() expects an image (2 or 3 dimensions), got shape {x.shape}.")
    if data_format == "channels_first":
        x = x.transpose(2, 0, 1)
    return x


def array_to_img(x, data_format=None, scale=True, dtype=None):
    """A Pillow image from a 3D array; `scale` maps its values onto 0..255 first."""
    Image = _pil()
    data_format = _data_format(data_format)
    x = np.asarray(getattr(x, "data", x), dtype=dtype or config.floatx())
    if x.ndim != 3:
        raise ValueError(f"Expected an image array of rank 3 (one image), got shape {x.shape}.")
    if data_format == "channels_first":
        x = x.transpose(1, 2, 0)
    if scale:
        x = x - np.min(x)
        top = np.max(x)
        if top != 0:
            x = x / top
        x = x * 255
    channels = x.shape[2]
    if channels == 4:
        return Image.fromarray(x.astype("uint8"), "RGBA")
    if channels == 3:
        return Image.fromarray(x.astype("uint8"), "RGB")
    if channels == 1:
        if np.max(x) > 255:
            return Image.fromarray(x[:, :, 0].astype("int32"), "I")
        return Image.fromarray(x[:, :, 0].astype("uint8"), "L")
    raise ValueError(f"Cannot save an image with {channels} channels (1, 3 or 4 are possible).")


def save_img(path, x, data_format=None, file_format=None, scale=True, **kwargs):
    """Writes an image array to `path` (format from `file_format` or the file's extension)."""
    img = array_to_img(x, data_format=data_format, scale=scale)
    extension = (file_format or os.path.splitext(os.fspath(path))[1].lstrip(".")).lower()
    if img.mode == "RGBA" and extension in ("jpg", "jpeg"):
        warnings.warn("JPEG does not support an alpha channel; saving the image as RGB.")
        img = img.convert("RGB")
    img.save(path, format=file_format, **kwargs)


def resize_array(img, height, width, data_format=None, interpolation="bilinear"):
    """Resizes an image (h, w, c) or a batch (n, h, w, c) to (height, width) with half-pixel
    centres, as `tf.image.resize` does ("bilinear" or "nearest")."""
    data_format = _data_format(data_format)
    height, width = _target_size((height, width), "(height, width)")
    x = np.asarray(getattr(img, "data", img))
    if x.ndim not in (3, 4):
        raise ValueError(f"image_array_resize() expects an image (3D) or a batch of images (4D), "
                         f"got shape {x.shape}.")
    if x.dtype.kind != "f":
        x = x.astype(config.floatx())
    row_axis = x.ndim - 3 if data_format == "channels_last" else x.ndim - 2
    if interpolation == "nearest":
        for axis, size in ((row_axis, height), (row_axis + 1, width)):
            old = x.shape[axis]
            index = np.minimum(np.floor((np.arange(size) + 0.5) * old / size), old - 1)
            x = np.take(x, index.astype(np.int64), axis=axis)
        return x
    if interpolation != "bilinear":
        raise ValueError(f'interpolation must be "bilinear" or "nearest", got {interpolation!r}.')
    for axis, size in ((row_axis, height), (row_axis + 1, width)):
        old = x.shape[axis]
        centre = np.clip((np.arange(size) + 0.5) * old / size - 0.5, 0, old - 1)
        low = np.floor(centre).astype(np.int64)
        high = np.minimum(low + 1, old - 1)
        shape = [1] * x.ndim
        shape[axis] = size
        weight = (centre - low).astype(x.dtype).reshape(shape)
        x = np.take(x, low, axis=axis) * (1 - weight) + np.take(x, high, axis=axis) * weight
    return x


# ---- the transforms --------------------------------------------------------------------------
def flip_axis(x, axis):
    return np.flip(x, axis=axis)


def _snap(matrix):
    """Entries within 1e-9 of an integer become that integer: a 90-degree rotation or a
    whole-pixel shift then lands exactly on pixels (cos(pi/2) is 6e-17, not 0)."""
    rounded = np.round(matrix)
    return np.where(np.abs(matrix - rounded) < 1e-9, rounded, matrix)


def affine_matrix(theta=0.0, tx=0.0, ty=0.0, shear=0.0, zx=1.0, zy=1.0):
    """The 3x3 matrix in (row, column) coordinates, about the origin, that maps an output pixel
    to the input pixel it is read from: rotation by `theta` degrees (counter-clockwise, as
    numpy.rot90), then a shift of `tx` rows and `ty` columns, a shear of `shear` degrees and a
    zoom (`zx` on columns, `zy` on rows), composed as Keras composes them."""
    matrix = np.eye(3)
    if theta:
        t = np.deg2rad(theta)
        matrix = matrix @ np.array([[np.cos(t), np.sin(t), 0], [-np.sin(t), np.cos(t), 0], [0, 0, 1]])
    if tx or ty:
        matrix = matrix @ np.array([[1, 0, tx], [0, 1, ty], [0, 0, 1]], dtype=float)
    if shear:
        s = np.deg2rad(shear)
        matrix = matrix @ np.array([[np.cos(s), 0, 0], [-np.sin(s), 1, 0], [0, 0, 1]])
    if zx != 1 or zy != 1:
        matrix = matrix @ np.array([[zy, 0, 0], [0, zx, 0], [0, 0, 1]], dtype=float)
    return matrix


def apply_affine_transform(x, theta=0.0, tx=0.0, ty=0.0, shear=0.0, zx=1.0, zy=1.0, row_axis=0,
                           col_axis=1, channel_axis=2, fill_mode="nearest", cval=0.0, order=1):
    """Applies `affine_matrix(...)` about the image centre to a single 3D image."""
    from scipy import ndimage

    if not (theta or tx or ty or shear or zx != 1 or zy != 1):
        return x
    if fill_mode not in FILL_MODES:
        raise ValueError(f"fill_mode must be one of {FILL_MODES}, got {fill_mode!r}.")
    matrix = affine_matrix(theta, tx, ty, shear, zx, zy)
    h, w = x.shape[row_axis], x.shape[col_axis]
    centre = np.array([[1, 0, (h - 1) / 2], [0, 1, (w - 1) / 2], [0, 0, 1]])
    back = np.array([[1, 0, -(h - 1) / 2], [0, 1, -(w - 1) / 2], [0, 0, 1]])
    matrix = _snap(centre @ matrix @ back)
    channels = np.moveaxis(x, channel_axis, 0)
    if row_axis > col_axis:  # (.., col, .., row) never happens for images, but stay correct
        matrix = matrix[[1, 0, 2]][:, [1, 0, 2]]
    out = np.stack([ndimage.affine_transform(c, matrix[:2, :2], matrix[:2, 2], order=order,
                                             mode=_SCIPY_MODES[fill_mode], cval=cval)
                    for c in channels])
    return np.moveaxis(out, 0, channel_axis).astype(x.dtype, copy=False)


def apply_channel_shift(x, intensity, channel_axis=2):
    """Adds `intensity` to every channel, clipped to the image's own value range."""
    low, high = np.min(x), np.max(x)
    return np.clip(x + np.asarray(intensity, dtype=x.dtype), low, high)


def apply_brightness_shift(x, brightness, scale=False):
    """Multiplies the image by `brightness` (Pillow's ImageEnhance.Brightness) on the 0..255
    scale, clipped there; images outside 0..255 are mapped onto it and back (not rounded to
    8 bits, unlike Keras, which goes through a uint8 Pillow image)."""
    low, high = float(np.min(x)), float(np.max(x))
    local_scale = low < 0 or high > 255
    if local_scale or scale:
        span = high - low
        unit = (x - low) / span * 255 if span else np.zeros_like(x)
        out = np.clip(unit * brightness, 0, 255)
        if local_scale and not scale:
            out = out / 255 * span + low
        return out.astype(x.dtype, copy=False)
    return np.clip(x * np.asarray(brightness, dtype=x.dtype), 0, 255)


def _range_pair(value, name):
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return [1 - value, 1 + value]
    try:
        pair = [float(v) for v in value]
    except TypeError:
        pair = []
    if len(pair) != 2:
        raise ValueError(f"{name} must be a number or two numbers (lower, upper), got {value!r}.")
    return pair


def _non_negative(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) or value < 0:
        raise ValueError(f"{name} must be a non-negative number, got {value!r}.")
    return value


def _shift_range(value, name):
    if isinstance(value, (list, tuple, np.ndarray)):
        values = np.asarray(value)
        if values.ndim != 1 or values.size == 0 or values.dtype.kind not in "iuf":
            raise ValueError(f"{name} must be a number or a list of numbers, got {value!r}.")
        return values
    return _non_negative(value, name)


class ImageDataGenerator:
    """Keras's ImageDataGenerator: random augmentation and standardization of image batches."""

    def __init__(self, featurewise_center=False, samplewise_center=False,
                 featurewise_std_normalization=False, samplewise_std_normalization=False,
                 zca_whitening=False, zca_epsilon=1e-6, rotation_range=0, width_shift_range=0.0,
                 height_shift_range=0.0, brightness_range=None, shear_range=0.0, zoom_range=0.0,
                 channel_shift_range=0.0, fill_mode="nearest", cval=0.0, horizontal_flip=False,
                 vertical_flip=False, rescale=None, preprocessing_function=None, data_format=None,
                 validation_split=0.0, interpolation_order=1, dtype=None):
        self.data_format = _data_format(data_format)
        self.dtype = dtype or config.floatx()
        self.featurewise_center = bool(featurewise_center)
        self.samplewise_center = bool(samplewise_center)
        self.featurewise_std_normalization = bool(featurewise_std_normalization)
        self.samplewise_std_normalization = bool(samplewise_std_normalization)
        self.zca_whitening = bool(zca_whitening)
        self.zca_epsilon = zca_epsilon
        self.rotation_range = _non_negative(rotation_range, "rotation_range")
        self.width_shift_range = _shift_range(width_shift_range, "width_shift_range")
        self.height_shift_range = _shift_range(height_shift_range, "height_shift_range")
        self.shear_range = _non_negative(shear_range, "shear_range")
        self.zoom_range = _range_pair(zoom_range, "zoom_range")
        self.channel_shift_range = _non_negative(channel_shift_range, "channel_shift_range")
        if fill_mode not in FILL_MODES:
            raise ValueError(f"fill_mode must be one of {FILL_MODES}, got {fill_mode!r}.")
        self.fill_mode = fill_mode
        self.cval = cval
        self.horizontal_flip = bool(horizontal_flip)
        self.vertical_flip = bool(vertical_flip)
        if rescale is not None and not isinstance(rescale, (int, float, np.number)):
            raise ValueError(f"rescale must be a number (e.g. 1/255), got {rescale!r}.")
        self.rescale = rescale
        if preprocessing_function is not None and not callable(preprocessing_function):
            raise ValueError("preprocessing_function must be a function of one image (3D array).")
        self.preprocessing_function = preprocessing_function
        self.interpolation_order = interpolation_order
        if validation_split and not 0 < validation_split < 1:
            raise ValueError(f"validation_split must be strictly between 0 and 1, got "
                             f"{validation_split!r}.")
        self.validation_split = validation_split or 0.0
        if brightness_range is not None:
            if not isinstance(brightness_range, (list, tuple, np.ndarray)) or len(brightness_range) != 2:
                raise ValueError(f"brightness_range must be two numbers (lower, upper), got "
                                 f"{brightness_range!r}.")
            brightness_range = [float(v) for v in brightness_range]
        self.brightness_range = brightness_range
        if self.data_format == "channels_first":
            self.channel_axis, self.row_axis, self.col_axis = 1, 2, 3
        else:
            self.channel_axis, self.row_axis, self.col_axis = 3, 1, 2
        # Keras's implications between the standardization options (with its warnings).
        if self.zca_whitening:
            if not self.featurewise_center:
                self.featurewise_center = True
                warnings.warn("zca_whitening implies featurewise_center; it is switched on.")
            if self.featurewise_std_normalization:
                self.featurewise_std_normalization = False
                warnings.warn("zca_whitening overrides featurewise_std_normalization; it is "
                              "switched off.")
        if self.featurewise_std_normalization and not self.featurewise_center:
            self.featurewise_center = True
            warnings.warn("featurewise_std_normalization implies featurewise_center; it is "
                          "switched on.")
        if self.samplewise_std_normalization and not self.samplewise_center:
            self.samplewise_center = True
            warnings.warn("samplewise_std_normalization implies samplewise_center; it is "
                          "switched on.")
        self.mean = None
        self.std = None
        self.zca_whitening_matrix = None

    # -- random parameters -----------------------------------------------------------------
    @staticmethod
    def _shift(spec, size, rng):
        if isinstance(spec, np.ndarray):  # a list of allowed shifts, either sign (as Keras)
            shift = float(rng.choice(spec)) * rng.choice([-1.0, 1.0])
        elif isinstance(spec, (int, np.integer)) and spec >= 1:
            # An integer n: whole pixels in (-n, n), as Keras's np.random.choice(n) * (+-1).
            shift = float(rng.integers(0, spec)) * rng.choice([-1.0, 1.0])
        else:
            shift = float(rng.uniform(-spec, spec))
        if np.max(spec) < 1:
            shift *= size
        return shift

    def get_random_transform(self, img_shape, seed=None, rng=None):
        """A dict of random transform parameters for one image of shape `img_shape`."""
        if rng is None:
            rng = np.random.default_rng(seed) if seed is not None else _random.generator()
        rows, cols = img_shape[self.row_axis - 1], img_shape[self.col_axis - 1]
        theta = float(rng.uniform(-self.rotation_range, self.rotation_range)) \
            if self.rotation_range else 0.0
        tx = self._shift(self.height_shift_range, rows, rng) if np.any(self.height_shift_range) else 0.0
        ty = self._shift(self.width_shift_range, cols, rng) if np.any(self.width_shift_range) else 0.0
        shear = float(rng.uniform(-self.shear_range, self.shear_range)) if self.shear_range else 0.0
        if self.zoom_range[0] == 1 and self.zoom_range[1] == 1:
            zx, zy = 1.0, 1.0
        else:
            zx, zy = (float(v) for v in rng.uniform(self.zoom_range[0], self.zoom_range[1], 2))
        flip_horizontal = bool(self.horizontal_flip and rng.random() < 0.5)
        flip_vertical = bool(self.vertical_flip and rng.random() < 0.5)
        channel_shift = float(rng.uniform(-self.channel_shift_range, self.channel_shift_range)) \
            if self.channel_shift_range else None
        brightness = float(rng.uniform(*self.brightness_range)) \
            if self.brightness_range is not None else None
        return {"theta": theta, "tx": tx, "ty": ty, "shear": shear, "zx": zx, "zy": zy,
                "flip_horizontal": flip_horizontal, "flip_vertical": flip_vertical,
                "channel_shift_intensity": channel_shift, "brightness": brightness}

    def apply_transform(self, x, transform_parameters):
        """`x` (one 3D image) transformed by the given parameters (see get_random_transform):
        affine transform, channel shift, flips, then brightness, as Keras orders them."""
        p = transform_parameters
        row, col, channel = self.row_axis - 1, self.col_axis - 1, self.channel_axis - 1
        x = apply_affine_transform(x, p.get("theta", 0), p.get("tx", 0), p.get("ty", 0),
                                   p.get("shear", 0), p.get("zx", 1), p.get("zy", 1),
                                   row_axis=row, col_axis=col, channel_axis=channel,
                                   fill_mode=self.fill_mode, cval=self.cval,
                                   order=self.interpolation_order)
        if p.get("channel_shift_intensity") is not None:
            x = apply_channel_shift(x, p["channel_shift_intensity"], channel)
        if p.get("flip_horizontal"):
            x = flip_axis(x, col)
        if p.get("flip_vertical"):
            x = flip_axis(x, row)
        if p.get("brightness") is not None:
            x = apply_brightness_shift(x, p["brightness"], False)
        return x

    def random_transform(self, x, seed=None):
        """One image randomly transformed."""
        x = np.asarray(x)
        return self.apply_transform(x, self.get_random_transform(x.shape, seed=seed))

    # -- standardization -------------------------------------------------------------------
    def standardize(self, x):
        """Applies preprocessing_function, rescale, sample- and feature-wise normalization and
        ZCA whitening to an image or a batch (a new array; the input is not changed)."""
        x = np.array(x, dtype=self.dtype)
        if self.preprocessing_function is not None:
            x = np.asarray(self.preprocessing_function(x), dtype=self.dtype)
        if self.rescale:
            x *= np.asarray(self.rescale, dtype=x.dtype)
        if self.samplewise_center:
            x -= np.mean(x, keepdims=True)
        if self.samplewise_std_normalization:
            x /= np.std(x, keepdims=True) + 1e-6
        if self.featurewise_center:
            if self.mean is None:
                warnings.warn("featurewise_center is set but the generator was not fitted: call "
                              "fit_image_data_generator(generator, x) first.")
            else:
                x -= self.mean
        if self.featurewise_std_normalization:
            if self.std is None:
                warnings.warn("featurewise_std_normalization is set but the generator was not "
                              "fitted: call fit_image_data_generator(generator, x) first.")
            else:
                x /= self.std + 1e-6
        if self.zca_whitening:
            if self.zca_whitening_matrix is None:
                warnings.warn("zca_whitening is set but the generator was not fitted: call "
                              "fit_image_data_generator(generator, x) first.")
            else:
                flat = x.reshape(-1, int(np.prod(x.shape[-3:])))
                x = (flat @ self.zca_whitening_matrix).reshape(x.shape).astype(self.dtype, copy=False)
        return x

    def fit(self, x, augment=False, rounds=1, seed=None):
        """Computes the feature-wise statistics (mean, std, ZCA matrix) from sample images."""
        x = np.array(getattr(x, "data", x), dtype=self.dtype)
        if x.ndim != 4:
            raise ValueError(f"fit_image_data_generator() expects a batch of images (rank 4), got "
                             f"shape {x.shape}.")
        _check_channels(x.shape, self.channel_axis, self.data_format)
        if isinstance(rounds, bool) or int(rounds) != rounds or rounds < 1:
            raise ValueError(f"rounds must be a positive integer, got {rounds!r}.")
        rng = np.random.default_rng(seed) if seed is not None else _random.generator()
        if self.rescale:
            x *= np.asarray(self.rescale, dtype=x.dtype)
        if augment:
            x = np.stack([self.apply_transform(image, self.get_random_transform(image.shape, rng=rng))
                          for _ in range(int(rounds)) for image in x]).astype(self.dtype, copy=False)
        shape = [1, 1, 1]
        shape[self.channel_axis - 1] = x.shape[self.channel_axis]
        axes = (0, self.row_axis, self.col_axis)
        if self.featurewise_center:
            self.mean = np.mean(x, axis=axes).reshape(shape).astype(self.dtype)
            x = x - self.mean
        if self.featurewise_std_normalization:
            self.std = np.std(x, axis=axes).reshape(shape).astype(self.dtype)
            x = x / (self.std + 1e-6)
        if self.zca_whitening:
            n = len(x)
            flat = x.reshape(n, -1).astype(np.float64)
            u, s, _ = np.linalg.svd(flat.T, full_matrices=False)
            s_inv = np.sqrt(n) / (s + self.zca_epsilon)
            self.zca_whitening_matrix = ((u * s_inv) @ u.T).astype(self.dtype)
        return self

    # -- iterators -------------------------------------------------------------------------
    def flow(self, x, y=None, batch_size=32, shuffle=True, sample_weight=None, seed=None,
             save_to_dir=None, save_prefix="", save_format="png", ignore_class_split=False,
             subset=None):
        return NumpyArrayIterator(x, y, self, batch_size=batch_size, shuffle=shuffle,
                                  sample_weight=sample_weight, seed=seed, save_to_dir=save_to_dir,
                                  save_prefix=save_prefix, save_format=save_format,
                                  ignore_class_split=ignore_class_split, subset=subset)

    def flow_from_directory(self, directory, target_size=(256, 256), color_mode="rgb",
                            classes=None, class_mode="categorical", batch_size=32, shuffle=True,
                            seed=None, save_to_dir=None, save_prefix="", save_format="png",
                            follow_links=False, subset=None, interpolation="nearest"):
        return DirectoryIterator(directory, self, target_size=target_size, color_mode=color_mode,
                                 classes=classes, class_mode=class_mode, batch_size=batch_size,
                                 shuffle=shuffle, seed=seed, save_to_dir=save_to_dir,
                                 save_prefix=save_prefix, save_format=save_format,
                                 follow_links=follow_links, subset=subset,
                                 interpolation=interpolation)

    def __repr__(self):
        return f"<ImageDataGenerator {self.data_format}>"


def _check_channels(shape, channel_axis, data_format):
    if shape[channel_axis] not in (1, 3, 4):
        warnings.warn(f"Images in {data_format} format have 1, 3 or 4 channels on axis "
                      f"{channel_axis}; got shape {shape} ({shape[channel_axis]} channels).")


def _positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or int(value) != value or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    return int(value)


class ImageIterator:
    """Endless batches over `n` samples, reshuffled each epoch (Keras's image Iterator).

    `next(it)` gives the next batch; `len(it)` is the number of batches per epoch (the last may be
    smaller), which `fit` uses as `steps_per_epoch` by default. With `seed`, shuffling and
    augmentation draw from a generator seeded by (seed, batches seen so far); without it, from
    kerasr.random's shared generator (so `set_random_seed` makes them reproducible).
    """

    def __init__(self, n, batch_size, shuffle, seed):
        self.n = int(n)
        self.batch_size = _positive_int(batch_size, "batch_size")
        self.shuffle = bool(shuffle)
        if seed is not None and (isinstance(seed, bool) or int(seed) != seed or seed < 0):
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}.")
        self.seed = None if seed is None else int(seed)
        self.batch_index = 0
        self.total_batches_seen = 0
        self.index_array = None

    def _rng(self):
        if self.seed is None:
            return _random.generator()
        return np.random.default_rng([self.seed, self.total_batches_seen])

    def _set_index_array(self, rng):
        self.index_array = rng.permutation(self.n) if self.shuffle else np.arange(self.n)

    def __len__(self):
        return (self.n + self.batch_size - 1) // self.batch_size

    def __iter__(self):
        return self

    def __next__(self):
        if self.n == 0:
            raise ValueError("This image iterator has no samples to draw batches from.")
        rng = self._rng()
        if self.batch_index == 0:
            self._set_index_array(rng)
        start = self.batch_index * self.batch_size
        index = self.index_array[start:start + self.batch_size]
        self.batch_index = self.batch_index + 1 if start + self.batch_size < self.n else 0
        self.total_batches_seen += 1
        return self._batch(index, rng)

    next = __next__

    def __getitem__(self, idx):
        """Batch `idx` of the current epoch (Keras's Sequence access)."""
        if isinstance(idx, bool) or not 0 <= int(idx) < len(self):
            raise IndexError(f"Batch {idx} is out of range: this iterator has {len(self)} batches.")
        rng = self._rng()
        if self.index_array is None:
            self._set_index_array(rng)
        self.total_batches_seen += 1
        start = int(idx) * self.batch_size
        return self._batch(self.index_array[start:start + self.batch_size], rng)

    def on_epoch_end(self):
        self._set_index_array(self._rng())

    def reset(self):
        self.batch_index = 0

    def _transform(self, generator, x, rng):
        if generator is None:
            return x
        x = generator.apply_transform(x, generator.get_random_transform(x.shape, rng=rng))
        return generator.standardize(x)

    def _save(self, batch_x, index, rng):
        if not self.save_to_dir:
            return
        for image, j in zip(batch_x, index):
            name = f"{self.save_prefix}_{int(j)}_{int(rng.integers(10**7))}.{self.save_format}"
            save_img(os.path.join(self.save_to_dir, name), image, data_format=self.data_format)

    def _batch(self, index, rng):
        raise NotImplementedError


class NumpyArrayIterator(ImageIterator):
    """Batches of augmented images from arrays: x, or (x, y), or (x, y, sample_weight)."""

    def __init__(self, x, y, image_data_generator, batch_size=32, shuffle=True,
                 sample_weight=None, seed=None, save_to_dir=None, save_prefix="",
                 save_format="png", ignore_class_split=False, subset=None):
        generator = image_data_generator
        self.image_data_generator = generator
        self.data_format = generator.data_format
        self.dtype = generator.dtype
        x = np.asarray(getattr(x, "data", x))
        if y is not None:
            y = np.asarray(getattr(y, "data", y))
            if len(y) != len(x):
                raise ValueError(f"x (images) and y (labels) must have the same length: x has "
                                 f"shape {x.shape}, y has shape {y.shape}.")
        if sample_weight is not None:
            sample_weight = np.asarray(sample_weight)
            if len(sample_weight) != len(x):
                raise ValueError(f"x and sample_weight must have the same length: x has shape "
                                 f"{x.shape}, sample_weight has shape {sample_weight.shape}.")
        if subset is not None:
            if subset not in ("training", "validation"):
                raise ValueError(f'subset must be "training" or "validation", got {subset!r}.')
            if not generator.validation_split:
                raise ValueError("subset= needs an image_data_generator made with "
                                 "validation_split > 0.")
            # Keras's split: the first validation_split fraction is the validation subset.
            split = int(len(x) * generator.validation_split)
            if y is not None and not ignore_class_split and not np.array_equal(
                    np.unique(y[:split]), np.unique(y[split:])):
                raise ValueError("The training and validation subsets hold different classes "
                                 "after the split; if x is sorted by label, shuffle it first.")
            part = slice(None, split) if subset == "validation" else slice(split, None)
            x = x[part]
            y = None if y is None else y[part]
            sample_weight = None if sample_weight is None else sample_weight[part]
        if x.dtype.kind not in "biuf":
            raise ValueError(f"flow_images_from_data() expects numeric images, got dtype {x.dtype}.")
        self.x = x.astype(self.dtype, copy=False)
        if self.x.ndim != 4:
            raise ValueError(f"flow_images_from_data() expects a batch of images of rank 4 "
                             f"(samples, height, width, channels), got shape {self.x.shape}.")
        _check_channels(self.x.shape, generator.channel_axis, self.data_format)
        self.y = y
        self.sample_weight = sample_weight
        self.save_to_dir = save_to_dir
        self.save_prefix = save_prefix
        self.save_format = save_format
        super().__init__(len(self.x), batch_size, shuffle, seed)

    def _batch(self, index, rng):
        batch_x = np.zeros((len(index),) + self.x.shape[1:], dtype=self.dtype)
        for i, j in enumerate(index):
            batch_x[i] = self._transform(self.image_data_generator, self.x[j], rng)
        self._save(batch_x, index, rng)
        if self.y is None:
            return batch_x
        if self.sample_weight is None:
            return batch_x, self.y[index]
        return batch_x, self.y[index], self.sample_weight[index]


def _list_images(folder, follow_links):
    found = []
    for root, dirs, files in sorted(os.walk(folder, followlinks=follow_links)):
        dirs.sort()
        found += [os.path.join(root, f) for f in sorted(files)
                  if f.lower().endswith(tuple("." + e for e in WHITE_LIST_FORMATS))]
    return sorted(found)


class DirectoryIterator(ImageIterator):
    """Batches of images read from `directory`, one sub-folder per class."""

    CLASS_MODES = ("categorical", "binary", "sparse", "input", None)

    def __init__(self, directory, image_data_generator, target_size=(256, 256), color_mode="rgb",
                 classes=None, class_mode="categorical", batch_size=32, shuffle=True, seed=None,
                 save_to_dir=None, save_prefix="", save_format="png", follow_links=False,
                 subset=None, interpolation="nearest"):
        generator = image_data_generator
        self.image_data_generator = generator
        self.data_format = generator.data_format if generator is not None else "channels_last"
        self.dtype = generator.dtype if generator is not None else config.floatx()
        self.target_size = _target_size(target_size)
        if color_mode not in ("grayscale", "rgb", "rgba"):
            raise ValueError(f'color_mode must be "grayscale", "rgb" or "rgba", got {color_mode!r}.')
        self.color_mode = color_mode
        channels = {"grayscale": 1, "rgb": 3, "rgba": 4}[color_mode]
        self.image_shape = (self.target_size + (channels,) if self.data_format == "channels_last"
                            else (channels,) + self.target_size)
        if class_mode not in self.CLASS_MODES:
            raise ValueError(f"class_mode must be one of {self.CLASS_MODES}, got {class_mode!r}.")
        self.class_mode = class_mode
        _resample(interpolation)  # checks the name (and that Pillow is there) up front
        self.interpolation = interpolation
        self.directory = os.fspath(directory)
        if not os.path.isdir(self.directory):
            raise FileNotFoundError(f"flow_images_from_directory(): {self.directory!r} is not a "
                                    f"folder.")
        if classes is None or len(classes) == 0:
            classes = [d for d in sorted(os.listdir(self.directory))
                       if os.path.isdir(os.path.join(self.directory, d))]
        else:
            classes = [str(c) for c in ([classes] if isinstance(classes, str) else classes)]
            missing = [c for c in classes if not os.path.isdir(os.path.join(self.directory, c))]
            if missing:
                raise ValueError(f"flow_images_from_directory(): no folder for class(es) {missing} "
                                 f"in {self.directory!r}.")
        if not classes:
            raise ValueError(f"flow_images_from_directory(): {self.directory!r} has no class "
                             f"folders; put the images of each class in a sub-folder named after "
                             f"the class (e.g. {os.path.join(self.directory, 'cats')}).")
        self.class_indices = {c: i for i, c in enumerate(classes)}
        self.num_classes = len(classes)
        if subset is not None:
            if subset not in ("training", "validation"):
                raise ValueError(f'subset must be "training" or "validation", got {subset!r}.')
            if generator is None or not generator.validation_split:
                raise ValueError("subset= needs an image_data_generator made with "
                                 "validation_split > 0.")
            split = generator.validation_split
            bounds = (0.0, split) if subset == "validation" else (split, 1.0)
        else:
            bounds = None
        self.subset = subset
        self.filenames, labels = [], []
        for name in classes:
            files = _list_images(os.path.join(self.directory, name), follow_links)
            if bounds is not None:
                files = files[int(bounds[0] * len(files)):int(bounds[1] * len(files))]
            self.filenames += [os.path.relpath(f, self.directory) for f in files]
            labels += [self.class_indices[name]] * len(files)
        self.classes = np.array(labels, dtype=np.int32)
        self.samples = len(self.filenames)
        if self.samples == 0:
            raise ValueError(f"flow_images_from_directory(): no images "
                             f"({', '.join(WHITE_LIST_FORMATS)}) in the class folders of "
                             f"{self.directory!r}{'' if subset is None else ' for subset ' + subset}.")
        self.filepaths = [os.path.join(self.directory, f) for f in self.filenames]
        self.save_to_dir = save_to_dir
        self.save_prefix = save_prefix
        self.save_format = save_format
        print(f"Found {self.samples} images belonging to {self.num_classes} classes.")
        super().__init__(self.samples, batch_size, shuffle, seed)

    @property
    def labels(self):
        return self.classes

    def _batch(self, index, rng):
        batch_x = np.zeros((len(index),) + self.image_shape, dtype=self.dtype)
        for i, j in enumerate(index):
            img = load_img(self.filepaths[j], color_mode=self.color_mode,
                           target_size=self.target_size, interpolation=self.interpolation)
            x = img_to_array(img, data_format=self.data_format, dtype=self.dtype)
            img.close()
            batch_x[i] = self._transform(self.image_data_generator, x, rng)
        self._save(batch_x, index, rng)
        if self.class_mode == "input":
            return batch_x, batch_x.copy()
        if self.class_mode in ("binary", "sparse"):
            return batch_x, self.classes[index].astype(self.dtype)
        if self.class_mode == "categorical":
            batch_y = np.zeros((len(index), self.num_classes), dtype=self.dtype)
            batch_y[np.arange(len(index)), self.classes[index]] = 1
            return batch_x, batch_y
        return batch_x
