"""R keras's `k_*` backend functions: differentiable tensor math for lambdas, custom layers and
custom losses. Axes are 0-based (R keras counts them from 1); -1 is the last axis."""

import gc

import numpy as np

from . import config, ops
from . import random as kr_random
from .engine.tensor import Tensor, Variable, as_tensor
from .layers.base import reset_names


def k_mean(x, axis=None, keepdims=False):
    return ops.mean(x, axis=axis, keepdims=keepdims)


def k_sum(x, axis=None, keepdims=False):
    return ops.sum(x, axis=axis, keepdims=keepdims)


def k_max(x, axis=None, keepdims=False):
    return ops.max(x, axis=axis, keepdims=keepdims)


def k_min(x, axis=None, keepdims=False):
    return ops.min(x, axis=axis, keepdims=keepdims)


def k_square(x):
    return ops.square(x)


def k_sqrt(x):
    return ops.sqrt(x)


def k_exp(x):
    return ops.exp(x)


def k_log(x):
    return ops.log(x)


def k_abs(x):
    return ops.abs(x)


def k_pow(x, a):
    return ops.power(x, a)


def k_clip(x, min_value=None, max_value=None):
    return ops.clip(x, min_value, max_value)


def k_maximum(x, y):
    return ops.maximum(x, y)


def k_minimum(x, y):
    return ops.minimum(x, y)


def k_dot(x, y):
    return ops.dot(x, y)


def k_batch_dot(x, y, axes=None):
    x, y = as_tensor(x), as_tensor(y)
    if axes is None or tuple(np.atleast_1d(axes)) in ((x.ndim - 1, y.ndim - 2), (-1, -2)):
        return ops.matmul(x, y)
    raise NotImplementedError("k_batch_dot() supports the default axes only.")


def k_reshape(x, shape):
    return ops.reshape(x, shape)


def k_transpose(x):
    return ops.transpose(x)


def k_permute_dimensions(x, pattern):
    return ops.transpose(x, pattern)


def k_concatenate(tensors, axis=-1):
    return ops.concatenate(tensors, axis=axis)


def k_stack(x, axis=0):
    return ops.stack(x, axis=axis)


def k_expand_dims(x, axis=-1):
    return ops.expand_dims(x, axis)


def k_squeeze(x, axis):
    return ops.squeeze(x, axis)


def k_sigmoid(x):
    return ops.activation(x, "sigmoid")


def k_tanh(x):
    return ops.activation(x, "tanh")


def k_relu(x, alpha=0.0, max_value=None, threshold=0.0):
    from .activations import relu
    return relu(x, negative_slope=alpha, max_value=max_value, threshold=threshold)


def k_softmax(x, axis=-1):
    return ops.softmax(x, axis=axis)


def k_softplus(x):
    return ops.activation(x, "softplus")


def k_elu(x, alpha=1.0):
    return ops.activation(x, "elu", float(alpha))


def k_cast(x, dtype):
    return ops.cast(x, dtype)


def k_stop_gradient(variables):
    return ops.stop_gradient(variables)


def k_argmax(x, axis=-1):
    """Indices of the largest values (not differentiable)."""
    return np.argmax(getattr(x, "data", x), axis=axis)


def k_equal(x, y):
    return np.equal(getattr(x, "data", x), getattr(y, "data", y))


def k_shape(x):
    return np.array(getattr(x, "shape", np.shape(x)))


def k_int_shape(x):
    return tuple(getattr(x, "shape", np.shape(x)))


def k_ndim(x):
    return len(k_int_shape(x))


def k_constant(value, dtype=None, shape=None, name=None):
    array = np.asarray(value, dtype=dtype or config.floatx())
    return Tensor(np.broadcast_to(array, shape).copy() if shape is not None else array)


def k_variable(value, dtype=None, name=None):
    return Variable(np.array(value, dtype=dtype or config.floatx()), name=name or "variable")


def k_zeros(shape, dtype=None, name=None):
    return Variable(np.zeros(shape, dtype=dtype or config.floatx()), name=name or "zeros")


def k_ones(shape, dtype=None, name=None):
    return Variable(np.ones(shape, dtype=dtype or config.floatx()), name=name or "ones")


def k_get_value(x):
    return np.array(getattr(x, "data", x))


def k_set_value(x, value):
    x.assign(value)


def k_random_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Normal draws from kerasr's generator (differentiable inputs may be added to them)."""
    if seed is not None:
        draw = np.random.default_rng(seed).standard_normal(tuple(shape)) * stddev + mean
        return Tensor(draw.astype(dtype or config.floatx()))
    return Tensor(kr_random.normal(tuple(shape), mean, stddev, dtype or config.floatx()))


def k_random_uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    if seed is not None:
        draw = np.random.default_rng(seed).uniform(minval, maxval, tuple(shape))
        return Tensor(draw.astype(dtype or config.floatx()))
    return Tensor(kr_random.uniform(tuple(shape), minval, maxval, dtype or config.floatx()))


def k_epsilon():
    return config.epsilon()


def k_set_epsilon(e):
    config.set_epsilon(e)


def k_floatx():
    return config.floatx()


def k_set_floatx(floatx):
    config.set_floatx(floatx)


def k_clear_session(free_memory=True):
    """Forgets what earlier model builds left in kerasr's global state: resets the layer-name
    counters (the next Dense is `dense` again) and the per-class caches that would keep
    classes made in a loop (`new_layer_class`) alive, then, with `free_memory`, runs Python's
    garbage collector so models that refer to themselves (layers <-> graph nodes) are freed
    now. Models still referenced by your own variables stay usable. The random generator is
    left alone: call `set_random_seed()` again for a reproducible restart.
    """
    from .layers import base as layer_base
    reset_names()
    layer_base._call_argument_cache.clear()
    if free_memory:
        gc.collect()
