"""Argument checks shared by the spatial layers (convolution, pooling, reshaping): sizes given
as one int or one per axis, padding, data format, and where the channels sit."""

import numpy as np

_DATA_FORMATS = ("channels_last", "channels_first")


def is_sequence(value):
    """True for a list, tuple or array of values (not for one number)."""
    return isinstance(value, (list, tuple)) or (isinstance(value, np.ndarray) and value.ndim > 0)


def normalize_tuple(value, rank, name, layer, allow_zero=False):
    """`value` as a tuple of `rank` ints: one int is repeated (R users pass `3` where Keras
    wants `(3, 3)`, and R numbers arrive as floats); a sequence must have `rank` entries.
    Entries must be positive (or >= 0 with `allow_zero`); else a ValueError naming the layer."""
    values = tuple(np.ravel(value) if isinstance(value, np.ndarray) else value) \
        if is_sequence(value) else (value,)
    if len(values) == 1:  # R's `2` or `c(2)` for every axis
        values = values * rank
    least = 0 if allow_zero else 1
    ok = len(values) == rank and all(
        not isinstance(v, (bool, np.bool_)) and isinstance(v, (int, np.integer, float, np.floating))
        and int(v) == v and v >= least for v in values)
    if not ok:
        kind = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{layer.name}: {name} must be a {kind} integer or a tuple of {rank} "
                         f"{kind} integers, got {value!r}.")
    return tuple(int(v) for v in values)


def normalize_data_format(value, layer):
    """None means "channels_last" (Keras's default image_data_format)."""
    value = "channels_last" if value is None else str(value).lower()
    if value not in _DATA_FORMATS:
        raise ValueError(f"{layer.name}: data_format must be 'channels_last' or "
                         f"'channels_first', got {value!r}.")
    return value


def normalize_padding(value, layer, allowed=("valid", "same")):
    padding = str(value).lower()
    if padding not in allowed:
        choices = " or ".join(f"'{a}'" for a in allowed) if len(allowed) < 3 else \
            ", ".join(f"'{a}'" for a in allowed[:-1]) + f" or '{allowed[-1]}'"
        hint = " ('causal' is only for Conv1D)" if padding == "causal" else ""
        raise ValueError(f"{layer.name}: padding must be {choices}, got {value!r}{hint}.")
    return padding


def check_strides_dilation(layer):
    """Keras forbids strides > 1 together with dilation_rate > 1."""
    if max(layer.strides) > 1 and max(layer.dilation_rate) > 1:
        raise ValueError(f"{layer.name}: strides > 1 cannot be combined with dilation_rate > 1 "
                         f"(as in Keras), got strides={layer.strides} and "
                         f"dilation_rate={layer.dilation_rate}.")


def spatial_axes(data_format, rank):
    """Positions of the spatial axes in a (batch, ...) shape."""
    first = 2 if data_format == "channels_first" else 1
    return tuple(range(first, first + rank))


def channel_axis(data_format):
    return 1 if data_format == "channels_first" else -1
