"""Spatial reshaping layers, Keras 3 style (a base class per family takes the spatial rank):
UpSampling1D/2D/3D, ZeroPadding1D/2D/3D, Cropping1D/2D/3D, and the spatial dropouts
SpatialDropout1D/2D/3D, which drop whole channels."""

from .. import ops
from ..ops import pooling as pooling_ops
from ..ops import reshaping as reshaping_ops
from .base import InputSpec, format_shape
from .core import rate_in_unit_interval, seed_argument
from .arguments import is_sequence, normalize_data_format, normalize_tuple, spatial_axes
from .pooling import SpatialLayer

_ORDINALS = ("1st", "2nd", "3rd")


def _scaled(size, factor):
    return None if size is None else size * factor


# ---- upsampling ----------------------------------------------------------------------------
class BaseUpSampling(SpatialLayer):
    """Repeats (or, 2-D only, bilinearly interpolates) the spatial axes by integer factors."""

    def __init__(self, rank, size, data_format=None, interpolation="nearest", **kwargs):
        super().__init__(**kwargs)
        self.rank = rank
        self.size = normalize_tuple(size, rank, "size", self)
        self.data_format = normalize_data_format(data_format, self)
        interpolation = str(interpolation).lower()
        allowed = ("nearest", "bilinear") if rank == 2 else ("nearest",)
        if interpolation not in allowed:
            raise ValueError(f"{self.name}: interpolation must be one of {allowed}, got "
                             f"{interpolation!r}.")
        self.interpolation = interpolation
        self.input_spec = InputSpec(ndim=rank + 2)

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        for axis, factor in zip(spatial_axes(self.data_format, self.rank), self.size):
            shape[axis] = _scaled(shape[axis], factor)
        return tuple(shape)

    def call(self, inputs):
        return pooling_ops.upsample(inputs, self.size, self.data_format, self.interpolation)


class UpSampling1D(BaseUpSampling):
    """Repeats each time step `size` times: (batch, steps, features) -> (batch, steps * size,
    features)."""

    def __init__(self, size=2, **kwargs):
        super().__init__(1, size, **kwargs)

    def get_config(self):
        return {**super().get_config(), "size": self.size[0]}


class UpSampling2D(BaseUpSampling):
    """Scales rows and columns up by `size` = (row factor, column factor): repeating entries
    ("nearest") or with bilinear interpolation (half-pixel centers, as Keras on TensorFlow)."""

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(2, size, data_format, interpolation, **kwargs)

    def get_config(self):
        return {**super().get_config(), "size": self.size, "data_format": self.data_format,
                "interpolation": self.interpolation}


class UpSampling3D(BaseUpSampling):
    """Repeats entries along the three spatial axes by `size`."""

    def __init__(self, size=(2, 2, 2), data_format=None, **kwargs):
        super().__init__(3, size, data_format, **kwargs)

    def get_config(self):
        return {**super().get_config(), "size": self.size, "data_format": self.data_format}


# ---- zero padding and cropping -------------------------------------------------------------
def _pairs_per_axis(layer, value, rank, name):
    """Keras's forms: an int (the same on both sides of every axis), `rank` entries each an
    int (symmetric) or a (before, after) pair; for rank 1 one int or one (before, after) pair."""
    if rank == 1:
        return (normalize_tuple(value, 2, name, layer, allow_zero=True),)
    if not is_sequence(value):
        return (normalize_tuple(value, 2, name, layer, allow_zero=True),) * rank
    entries = list(value)
    if len(entries) != rank:
        raise ValueError(f"{layer.name}: {name} must be an int, a tuple of {rank} ints or a tuple "
                         f"of {rank} (before, after) pairs, got {value!r}.")
    return tuple(normalize_tuple(entry, 2, f"the {_ORDINALS[i]} entry of {name}", layer,
                                 allow_zero=True) for i, entry in enumerate(entries))


class _SpatialWidths(SpatialLayer):
    """Shared by padding and cropping: one (before, after) pair per spatial axis."""

    argument = None  # "padding" or "cropping"
    takes_data_format = True

    def __init__(self, rank, widths, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.rank = rank
        self.data_format = normalize_data_format(data_format, self)
        setattr(self, self.argument, _pairs_per_axis(self, widths, rank, self.argument))
        self.input_spec = InputSpec(ndim=rank + 2)

    @property
    def _widths(self):
        return getattr(self, self.argument)

    def _all_axes(self, ndim):
        """The per-spatial-axis pairs spread over every axis of the input."""
        pairs = [(0, 0)] * ndim
        for axis, pair in zip(spatial_axes(self.data_format, self.rank), self._widths):
            pairs[axis] = pair
        return pairs

    def get_config(self):
        widths = self._widths[0] if self.rank == 1 else self._widths
        config = {**super().get_config(), self.argument: widths}
        if self.takes_data_format:
            config["data_format"] = self.data_format
        return config


class BaseZeroPadding(_SpatialWidths):
    """Adds zeros before and after each spatial axis."""

    argument = "padding"

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        for axis, (a, b) in zip(spatial_axes(self.data_format, self.rank), self.padding):
            shape[axis] = None if shape[axis] is None else shape[axis] + a + b
        return tuple(shape)

    def call(self, inputs):
        return reshaping_ops.zero_pad(inputs, self._all_axes(inputs.ndim))


class ZeroPadding1D(BaseZeroPadding):
    """Adds zeros at the start and end of the time axis: `padding` = n or (before, after)."""

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(1, padding, data_format, **kwargs)


class ZeroPadding2D(BaseZeroPadding):
    """Adds rows and columns of zeros: `padding` = n, (rows, cols) symmetric, or
    ((top, bottom), (left, right))."""

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(2, padding, data_format, **kwargs)


class ZeroPadding3D(BaseZeroPadding):
    """Adds zeros along three spatial axes: n, three symmetric sizes, or three pairs."""

    def __init__(self, padding=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(3, padding, data_format, **kwargs)


class BaseCropping(_SpatialWidths):
    """Removes entries before and after each spatial axis; at least one must remain."""

    argument = "cropping"

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        for axis, (a, b) in zip(spatial_axes(self.data_format, self.rank), self.cropping):
            if shape[axis] is None:
                continue
            if a + b >= shape[axis]:
                raise ValueError(f"{self.name}: cropping {self.cropping} removes all of a "
                                 f"spatial axis of size {shape[axis]} (input of shape "
                                 f"{format_shape(input_shape)}); each axis must keep at least "
                                 f"one entry.")
            shape[axis] -= a + b
        return tuple(shape)

    def call(self, inputs):
        self.compute_output_shape(inputs.shape)
        return reshaping_ops.crop(inputs, self._all_axes(inputs.ndim))


class Cropping1D(BaseCropping):
    """Removes steps at the start and end of the time axis: `cropping` = n or (before,
    after)."""

    takes_data_format = False  # as Keras 3: channels_last only

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(1, cropping, **kwargs)


class Cropping2D(BaseCropping):
    """Removes rows and columns: `cropping` = n, (rows, cols) symmetric, or
    ((top, bottom), (left, right))."""

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(2, cropping, data_format, **kwargs)


class Cropping3D(BaseCropping):
    """Removes entries along three spatial axes: n, three symmetric sizes, or three pairs."""

    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(3, cropping, data_format, **kwargs)


# ---- spatial dropout -----------------------------------------------------------------------
class BaseSpatialDropout(SpatialLayer):
    """Dropout of whole channels in training: one draw per (sample, channel), shared by every
    spatial position (noise shape (batch, 1..., channels)); the identity at inference."""

    def __init__(self, rank, rate, data_format=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rank = rank
        self.rate = rate_in_unit_interval(self, "rate", rate)
        self.data_format = normalize_data_format(data_format, self)
        # seed is kept for Keras's signature; draws come from kerasr.random
        self.seed = seed_argument(self, seed)
        self.input_spec = InputSpec(ndim=rank + 2)
        self.supports_masking = True

    def noise_shape(self, input_shape):
        shape = [1] * len(input_shape)
        shape[0] = input_shape[0]
        shape[1 if self.data_format == "channels_first" else -1] = input_shape[
            1 if self.data_format == "channels_first" else -1]
        return tuple(shape)

    def call(self, inputs, training=None):
        if not training or self.rate == 0.0:
            return inputs
        return ops.dropout(inputs, self.rate, self.noise_shape(inputs.shape))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


class SpatialDropout1D(BaseSpatialDropout):
    """Drops whole feature channels of (batch, steps, channels) inputs in training."""

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(1, rate, seed=seed, **kwargs)


class SpatialDropout2D(BaseSpatialDropout):
    """Drops whole feature maps of 2-D inputs in training."""

    def __init__(self, rate, data_format=None, seed=None, **kwargs):
        super().__init__(2, rate, data_format, seed, **kwargs)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


class SpatialDropout3D(BaseSpatialDropout):
    """Drops whole feature volumes of 3-D inputs in training."""

    def __init__(self, rate, data_format=None, seed=None, **kwargs):
        super().__init__(3, rate, data_format, seed, **kwargs)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}
