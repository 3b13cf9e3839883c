"""Merge layers: they take a list of tensors and return one.

Add, Subtract, Multiply, Average, Maximum and Minimum combine their inputs elementwise with
Keras's broadcasting: the batch sizes agree, the other axes (aligned from the last one, a
lower-rank input getting size-1 axes after its batch axis) are equal or 1. Concatenate joins
inputs along an axis; Dot takes per-sample dot products along a pair of axes.
"""

import numpy as np

from .. import config, ops
from ..engine.tensor import Tensor
from .base import Layer, _is_shape, format_shape


def _list_shapes(shapes):
    """'(None, 3) and (None, 4)', or '(None, 3), (None, 3) and (None, 4)'."""
    texts = [format_shape(s) for s in shapes]
    return texts[0] if len(texts) == 1 else ", ".join(texts[:-1]) + " and " + texts[-1]


def _known(sizes):
    """The distinct known sizes among `sizes` (None is unknown)."""
    return sorted({int(d) for d in sizes if d is not None})


def _insert_axes_after_batch(x, rank, expand):
    while x.ndim < rank:
        x = expand(x)
    return x


class Merge(Layer):
    """Base of the merge layers: called on a list of at least two tensors.

    `compute_output_shape` checks the list and the shapes (raising a ValueError naming every
    shape); `build` and `call` run it on the shapes they see. Subclasses give the binary
    `_combine` op, or override `_merge_function` and `_output_shape`.
    """

    min_inputs, max_inputs = 2, None
    _action = "merged"      # "inputs with shapes ... cannot be <_action>"
    _combine = None         # the binary op folded over the inputs

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    # ---- shapes --------------------------------------------------------------------------
    def build(self, input_shape):
        # Shape validation only: merge layers have no weights.
        self.compute_output_shape(input_shape)

    def compute_output_shape(self, input_shape):
        self._check_input_list(input_shape)
        return self._output_shape([tuple(s) for s in input_shape])

    def _check_input_list(self, input_shape):
        count = (f"at least {self.min_inputs}" if self.max_inputs is None
                 else f"exactly {self.max_inputs}")
        if _is_shape(input_shape):
            raise ValueError(f"{self.name} must be called on a list of {count} tensors, e.g. "
                             f"[a, b] (R: list(a, b)); got a single tensor of shape "
                             f"{format_shape(input_shape)}.")
        if not all(isinstance(s, (list, tuple)) and _is_shape(tuple(s)) for s in input_shape):
            raise ValueError(f"{self.name} must be called on a flat list of tensors, got nested "
                             f"input of shapes {input_shape}.")
        n = len(input_shape)
        if n < self.min_inputs or (self.max_inputs is not None and n > self.max_inputs):
            shapes = f" (shapes {_list_shapes(input_shape)})" if n else ""
            raise ValueError(f"{self.name} must be called on a list of {count} tensors, got {n}"
                             f"{shapes}.")

    def _batch_size(self, shapes):
        """The common batch size (None if unknown); differing known sizes are an error."""
        sizes = _known(s[0] for s in shapes if len(s))
        if len(sizes) > 1:
            raise ValueError(f"{self.name}: inputs with shapes {_list_shapes(shapes)} cannot be "
                             f"{self._action}: their batch sizes differ "
                             f"({' and '.join(map(str, sizes))}).")
        return sizes[0] if sizes else None

    def _output_shape(self, shapes):
        """Keras's elementwise rule: non-batch axes aligned from the last, sizes equal or 1."""
        batch = self._batch_size(shapes)
        if any(len(s) == 0 for s in shapes):
            raise ValueError(f"{self.name}: inputs with shapes {_list_shapes(shapes)} cannot be "
                             f"{self._action}: each input needs a batch axis.")
        rank = max(len(s) for s in shapes)
        output = [batch]
        for axis in range(1, rank):
            back = rank - axis          # position counted from the end
            sizes = [s[-back] for s in shapes if len(s) - 1 >= back]
            wide = [d for d in _known(sizes) if d != 1]
            if len(wide) > 1:
                raise ValueError(
                    f"{self.name}: inputs with shapes {_list_shapes(shapes)} cannot be "
                    f"{self._action}: axis {axis} has sizes {' and '.join(map(str, wide))}; "
                    f"sizes must be equal or 1 (shapes of different ranks are aligned at their "
                    f"last axis).")
            if wide:
                output.append(wide[0])
            elif None in sizes:
                output.append(None)
            else:
                output.append(1)
        return tuple(output)

    # ---- calling -------------------------------------------------------------------------
    def call(self, inputs):
        shapes = inputs.shape if isinstance(inputs, Tensor) else [x.shape for x in inputs]
        self.compute_output_shape(shapes)
        return self._merge_function(list(inputs))

    def _merge_function(self, inputs):
        """Folds `_combine` over the inputs, lower-rank inputs first given size-1 axes."""
        rank = max(x.ndim for x in inputs)
        inputs = [_insert_axes_after_batch(x, rank, lambda t: ops.expand_dims(t, 1))
                  for x in inputs]
        output = inputs[0]
        for x in inputs[1:]:
            output = type(self)._combine(output, x)
        return output

    def compute_mask(self, inputs, mask=None):
        """A position is kept if it is kept in any input (an unmasked input keeps them all)."""
        masks = _mask_list(mask, inputs)
        if masks is None or any(m is None for m in masks):
            return None
        rank = max(m.ndim for m in masks)
        masks = [_insert_axes_after_batch(m, rank, lambda a: np.expand_dims(a, 1)) for m in masks]
        output = masks[0]
        for m in masks[1:]:
            output = np.logical_or(output, m)
        return output


def _mask_list(mask, inputs):
    """The masks as a list of boolean arrays (or None entries), or None if there are none."""
    if mask is None:
        return None
    if not isinstance(mask, (list, tuple)) or not isinstance(inputs, (list, tuple)) \
            or len(mask) != len(inputs):
        raise ValueError("A merge layer's mask must be a list with one entry (or None) per input.")
    return [None if m is None else np.asarray(m.data if isinstance(m, Tensor) else m, dtype=bool)
            for m in mask]


class Add(Merge):
    """Sum of the inputs."""
    _action = "added"
    _combine = ops.add


class Subtract(Merge):
    """inputs[0] - inputs[1], for exactly two inputs."""
    max_inputs = 2
    _action = "subtracted"
    _combine = ops.subtract


class Multiply(Merge):
    """Elementwise product of the inputs."""
    _action = "multiplied"
    _combine = ops.multiply


class Average(Merge):
    """Elementwise mean of the inputs."""
    _action = "averaged"
    _combine = ops.add

    def _merge_function(self, inputs):
        return ops.divide(super()._merge_function(inputs), len(inputs))


class Maximum(Merge):
    """Elementwise maximum of the inputs."""
    _action = "compared"
    _combine = ops.maximum


class Minimum(Merge):
    """Elementwise minimum of the inputs."""
    _action = "compared"
    _combine = ops.minimum


class Concatenate(Merge):
    """Joins the inputs along `axis`; every other axis must match."""

    _action = "concatenated"

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise TypeError(f"{self.name}: axis must be an integer, got {axis!r}.")
        self.axis = int(axis)

    def _output_shape(self, shapes):
        ranks = sorted({len(s) for s in shapes})
        what = f"{self.name}: inputs with shapes {_list_shapes(shapes)} cannot be concatenated"
        if len(ranks) > 1:
            raise ValueError(f"{what}: they have different ranks "
                             f"({' and '.join(map(str, ranks))}).")
        rank = ranks[0]
        if not -rank <= self.axis < rank:
            raise ValueError(f"{what} along axis {self.axis}: the inputs have rank {rank}.")
        axis = self.axis % rank
        output = []
        for i in range(rank):
            sizes = [s[i] for s in shapes]
            known = _known(sizes)
            if i == axis:
                output.append(None if None in sizes else int(sum(sizes)))
            elif len(known) > 1:
                raise ValueError(f"{what} along axis {self.axis}: axis {i} has sizes "
                                 f"{' and '.join(map(str, known))}; all axes but the "
                                 f"concatenation axis must match.")
            else:
                output.append(known[0] if known else None)
        return tuple(output)

    def _merge_function(self, inputs):
        return ops.concatenate(inputs, axis=self.axis)

    def compute_mask(self, inputs, mask=None):
        """The masks joined like the inputs (an unmasked input counting as all kept), then a
        position kept if any of its features is."""
        masks = _mask_list(mask, inputs)
        if masks is None or all(m is None for m in masks):
            return None
        full = []
        for x, m in zip(inputs, masks):
            if m is None:
                full.append(np.ones(x.shape, dtype=bool))
            elif m.ndim < x.ndim:
                full.append(np.broadcast_to(np.expand_dims(m, -1), x.shape))
            else:
                full.append(m)
        return np.any(np.concatenate(full, axis=self.axis), axis=-1)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class Dot(Merge):
    """Per-sample dot products of two inputs along `axes` (one axis for both, or a pair).

    Negative axes count from the end of each input's shape. The output holds the first
    input's remaining axes, then the second's (batch axis excluded); a result with only the
    batch axis left gets a trailing axis of size 1. `normalize=True` first divides each input
    by its L2 norm along its dot axis, so the output is the cosine similarity.
    """

    max_inputs = 2
    _action = "multiplied"

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        self.axes = self._checked_axes(axes)
        self.normalize = bool(normalize)

    def _checked_axes(self, axes):
        def integral(a):
            return not isinstance(a, bool) and isinstance(a, (int, np.integer))
        if integral(axes):
            return int(axes)
        if not isinstance(axes, (list, tuple, np.ndarray)):
            raise TypeError(f"{self.name}: axes must be an integer or a pair of integers, "
                            f"got {axes!r}.")
        if len(axes) != 2 or not all(integral(a) for a in axes):
            raise ValueError(f"{self.name}: axes must be an integer or a pair of integers "
                             f"(one axis per input), got {axes!r}.")
        return tuple(int(a) for a in axes)

    def _resolved_axes(self, shape1, shape2):
        """The dot axis of each input, negative axes counted from that input's end."""
        pair = (self.axes, self.axes) if isinstance(self.axes, int) else self.axes
        return tuple(a + len(s) if a < 0 else a for a, s in zip(pair, (shape1, shape2)))

    def _output_shape(self, shapes):
        shape1, shape2 = shapes
        what = f"{self.name}: inputs with shapes {_list_shapes(shapes)}"
        if len(shape1) < 2 or len(shape2) < 2:
            raise ValueError(f"{what} cannot be multiplied: Dot needs inputs of rank >= 2 (a "
                             f"batch axis and at least one more).")
        batch = self._batch_size(shapes)
        axes = self._resolved_axes(shape1, shape2)
        given = (self.axes, self.axes) if isinstance(self.axes, int) else self.axes
        for a, g, s in zip(axes, given, shapes):
            if not 1 <= a < len(s):
                raise ValueError(f"{what} cannot be multiplied along axes {self.axes}: axis "
                                 f"{g} is {'the batch axis' if a == 0 else 'out of range'} for "
                                 f"the input of shape {format_shape(s)}.")
        d1, d2 = shape1[axes[0]], shape2[axes[1]]
        if d1 is not None and d2 is not None and d1 != d2:
            raise ValueError(f"{what} cannot be multiplied along axes {self.axes}: sizes {d1} "
                             f"(axis {axes[0]} of the first) and {d2} (axis {axes[1]} of the "
                             f"second) differ.")
        rest = ([d for i, d in enumerate(shape1) if i not in (0, axes[0])]
                + [d for i, d in enumerate(shape2) if i not in (0, axes[1])])
        return (batch,) + tuple(rest or [1])

    def _merge_function(self, inputs):
        x, y = inputs
        a1, a2 = self._resolved_axes(x.shape, y.shape)
        if self.normalize:
            x, y = _l2_normalize(x, a1), _l2_normalize(y, a2)
        return _batch_dot(x, y, a1, a2)

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self):
        axes = self.axes if isinstance(self.axes, int) else list(self.axes)
        return {**super().get_config(), "axes": axes, "normalize": self.normalize}


def _l2_normalize(x, axis):
    """x / max(||x||, epsilon) along `axis`; the floor applied to the squared norm keeps the
    gradient finite at zero vectors."""
    squared = ops.sum(ops.square(x), axis=axis, keepdims=True)
    return ops.divide(x, ops.sqrt(ops.maximum(squared, config.epsilon() ** 2)))


def _batch_dot(x, y, a1, a2):
    """For each sample b, tensordot(x[b], y[b]) over x's axis a1 and y's axis a2, as a batched
    matmul: x to (batch, rest_x, d), y to (batch, d, rest_y)."""
    x_order = [0] + [i for i in range(1, x.ndim) if i != a1] + [a1]
    y_order = [0, a2] + [i for i in range(1, y.ndim) if i != a2]
    if x_order != list(range(x.ndim)):
        x = ops.transpose(x, x_order)
    if y_order != list(range(y.ndim)):
        y = ops.transpose(y, y_order)
    batch, size = x.shape[0], x.shape[-1]
    x_rest, y_rest = x.shape[1:-1], y.shape[2:]
    product = ops.matmul(ops.reshape(x, (batch, int(np.prod(x_rest, dtype=np.int64)), size)),
                         ops.reshape(y, (batch, size, int(np.prod(y_rest, dtype=np.int64)))))
    return ops.reshape(product, (batch,) + tuple(x_rest + y_rest or (1,)))
