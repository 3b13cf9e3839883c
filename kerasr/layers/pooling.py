"""Pooling layers, Keras 3 style: a base class per family takes the spatial rank, and
MaxPooling2D & co. are thin subclasses. Also kerasr's KMaxPooling1D (k-max pooling over time
for text, which no Keras layer does), and the argument helpers shared with the reshaping
layers (`SpatialLayer`)."""

import numpy as np

from .. import ops
from ..ops import pooling as pooling_ops
from .arguments import (channel_axis, is_sequence, normalize_data_format,  # noqa: F401
                        normalize_padding, normalize_tuple, spatial_axes)
from .base import InputSpec, Layer, format_shape
from .core import positive_int

_AXIS_NAMES = {1: ("steps",), 2: ("rows", "cols"), 3: ("dim1", "dim2", "dim3")}


class SpatialLayer(Layer):
    """A layer on (batch, spatial..., channels) data of a fixed spatial `rank` and any size:
    a wrong rank is reported against the expected layout, e.g. (None, rows, cols, channels)."""

    runs_on_numba_threads = True
    rank = 1
    data_format = "channels_last"

    def _expected_shape(self):
        names = _AXIS_NAMES[self.rank]
        axes = (names + ("channels",) if self.data_format == "channels_last"
                else ("channels",) + names)
        return "(None, " + ", ".join(axes) + ")"


# ---- windowed pooling ----------------------------------------------------------------------
class BasePooling(SpatialLayer):
    """Max or average pooling over sliding windows of `rank` spatial axes."""

    def __init__(self, rank, pool_mode, pool_size, strides=None, padding="valid",
                 data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.rank = rank
        self.pool_mode = pool_mode
        self.pool_size = normalize_tuple(pool_size, rank, "pool_size", self)
        self.strides = self.pool_size if strides is None else normalize_tuple(
            strides, rank, "strides", self)
        self.padding = normalize_padding(padding, self)
        self.data_format = normalize_data_format(data_format, self)
        self.input_spec = InputSpec(ndim=rank + 2)

    def _output_spatial(self, input_shape):
        axes = spatial_axes(self.data_format, self.rank)
        sizes = []
        for axis, p, s in zip(axes, self.pool_size, self.strides):
            n = input_shape[axis]
            if n is None:
                sizes.append(None)
                continue
            out = (n - p) // s + 1 if self.padding == "valid" else -(-n // s)
            if out < 1:
                spatial = format_shape(tuple(input_shape[a] for a in axes))
                raise ValueError(f"{self.name}: pool_size {self.pool_size} is larger than the "
                                 f"input's spatial shape {spatial} (padding "
                                 f"{self.padding!r}); got input of shape "
                                 f"{format_shape(input_shape)}.")
            sizes.append(out)
        return axes, sizes

    def compute_output_shape(self, input_shape):
        axes, sizes = self._output_spatial(input_shape)
        shape = list(input_shape)
        for axis, size in zip(axes, sizes):
            shape[axis] = size
        return tuple(shape)

    def call(self, inputs):
        self._output_spatial(inputs.shape)
        pool = pooling_ops.max_pool if self.pool_mode == "max" else pooling_ops.average_pool
        return pool(inputs, self.pool_size, self.strides, self.padding, self.data_format)

    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size, "strides": self.strides,
                "padding": self.padding, "data_format": self.data_format}


class MaxPooling1D(BasePooling):
    """Max over windows of `pool_size` steps, moved by `strides` (default: pool_size)."""

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(1, "max", pool_size, strides, padding, data_format, **kwargs)


class MaxPooling2D(BasePooling):
    """Max over windows of `pool_size` (rows, cols), moved by `strides` (default: pool_size)."""

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None,
                 **kwargs):
        super().__init__(2, "max", pool_size, strides, padding, data_format, **kwargs)


class MaxPooling3D(BasePooling):
    """Max over 3-D windows of `pool_size`, moved by `strides` (default: pool_size)."""

    def __init__(self, pool_size=(2, 2, 2), strides=None, padding="valid", data_format=None,
                 **kwargs):
        super().__init__(3, "max", pool_size, strides, padding, data_format, **kwargs)


class AveragePooling1D(BasePooling):
    """Mean over windows of `pool_size` steps ("same" borders average their real entries)."""

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(1, "average", pool_size, strides, padding, data_format, **kwargs)


class AveragePooling2D(BasePooling):
    """Mean over windows of `pool_size` (rows, cols) ("same" borders average their real
    entries)."""

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None,
                 **kwargs):
        super().__init__(2, "average", pool_size, strides, padding, data_format, **kwargs)


class AveragePooling3D(BasePooling):
    """Mean over 3-D windows of `pool_size` ("same" borders average their real entries)."""

    def __init__(self, pool_size=(2, 2, 2), strides=None, padding="valid", data_format=None,
                 **kwargs):
        super().__init__(3, "average", pool_size, strides, padding, data_format, **kwargs)


# ---- global pooling ------------------------------------------------------------------------
class BaseGlobalPooling(SpatialLayer):
    """Max or mean over all `rank` spatial axes: (batch, channels), or with `keepdims` the
    spatial axes kept with size 1."""

    def __init__(self, rank, pool_mode, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.rank = rank
        self.pool_mode = pool_mode
        self.data_format = normalize_data_format(data_format, self)
        self.keepdims = bool(keepdims)
        self.input_spec = InputSpec(ndim=rank + 2)

    def compute_output_shape(self, input_shape):
        batch, channels = input_shape[0], input_shape[channel_axis(self.data_format)]
        if not self.keepdims:
            return (batch, channels)
        ones = (1,) * self.rank
        if self.data_format == "channels_last":
            return (batch,) + ones + (channels,)
        return (batch, channels) + ones

    def _check_not_empty(self, shape):
        if any(shape[a] == 0 for a in spatial_axes(self.data_format, self.rank)):
            raise ValueError(f"{self.name} needs at least one spatial position, got input of "
                             f"shape {format_shape(shape)}.")

    def call(self, inputs):
        self._check_not_empty(inputs.shape)
        pool = (pooling_ops.global_max_pool if self.pool_mode == "max"
                else pooling_ops.global_average_pool)
        return pool(inputs, self.data_format, self.keepdims)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format,
                "keepdims": self.keepdims}


class GlobalMaxPooling1D(BaseGlobalPooling):
    """Max over time: (batch, steps, features) -> (batch, features)."""

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(1, "max", data_format, keepdims, **kwargs)


class GlobalMaxPooling2D(BaseGlobalPooling):
    """Max over rows and columns: (batch, rows, cols, channels) -> (batch, channels)."""

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(2, "max", data_format, keepdims, **kwargs)


class GlobalMaxPooling3D(BaseGlobalPooling):
    """Max over the three spatial axes -> (batch, channels)."""

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(3, "max", data_format, keepdims, **kwargs)


class GlobalAveragePooling1D(BaseGlobalPooling):
    """Mean over time: (batch, steps, features) -> (batch, features). With a mask (batch,
    steps), the mean of the unmasked steps only; the mask stops here."""

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(1, "average", data_format, keepdims, **kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        if mask is None:
            return super().call(inputs)
        steps_axis = spatial_axes(self.data_format, 1)[0]
        mask = np.asarray(getattr(mask, "data", mask), dtype=bool)
        weights = np.expand_dims(mask, 2 if self.data_format == "channels_last" else 1)
        weights = weights.astype(inputs.dtype)
        total = ops.sum(ops.multiply(inputs, weights), axis=steps_axis, keepdims=self.keepdims)
        count = weights.sum(axis=steps_axis, keepdims=self.keepdims)
        return ops.divide(total, count)  # all steps masked: 0 / 0, as Keras

    def compute_mask(self, inputs, mask=None):
        return None


class GlobalAveragePooling2D(BaseGlobalPooling):
    """Mean over rows and columns: (batch, rows, cols, channels) -> (batch, channels)."""

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(2, "average", data_format, keepdims, **kwargs)


class GlobalAveragePooling3D(BaseGlobalPooling):
    """Mean over the three spatial axes -> (batch, channels)."""

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(3, "average", data_format, keepdims, **kwargs)


# ---- k-max pooling -------------------------------------------------------------------------
class KMaxPooling1D(SpatialLayer):
    """k-max pooling over time (Kalchbrenner et al., 2014): the k largest activations of each
    channel, kept in their original time order. (batch, steps, channels) -> (batch, k,
    channels); ties keep the earliest steps. Not a Keras layer: kerasr's, for text models."""

    def __init__(self, k, **kwargs):
        super().__init__(**kwargs)
        self.k = positive_int(self, "k", k)
        self.input_spec = InputSpec(ndim=3)

    def compute_output_shape(self, input_shape):
        steps = input_shape[1]
        if steps is not None and self.k > steps:
            raise ValueError(f"{self.name}: k={self.k} is larger than the number of steps "
                             f"({steps}) of input of shape {format_shape(input_shape)}.")
        return (input_shape[0], self.k, input_shape[2])

    def call(self, inputs):
        self.compute_output_shape(inputs.shape)
        return pooling_ops.k_max_pool(inputs, self.k)

    def get_config(self):
        return {**super().get_config(), "k": self.k}
