"""Central-difference gradient checks in float64 for ops, layers and models."""

import numpy as np

from kerasr.engine import GradientTape, Variable
from kerasr import ops


def numeric_gradient(scalar_fn, arrays, index, eps=1e-6):
    """d scalar_fn(*arrays) / d arrays[index] by central differences."""
    target = arrays[index]
    grad = np.zeros_like(target)
    for position in np.ndindex(target.shape):
        original = target[position]
        target[position] = original + eps
        up = scalar_fn(*arrays)
        target[position] = original - eps
        down = scalar_fn(*arrays)
        target[position] = original
        grad[position] = (up - down) / (2 * eps)
    return grad


def check_gradients(fn, *arrays, rtol=1e-5, atol=1e-7, seed=0):
    """Compares the tape's gradients of sum(fn(*inputs) * w) with central differences.

    `fn` takes kerasr tensors and returns a tensor (or a list of tensors); `w` is a fixed random
    weighting so every output element counts differently.
    """
    arrays = [np.array(a, dtype=np.float64) for a in arrays]
    rng = np.random.default_rng(seed)
    weights = {}

    def weighted(outputs):
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        total = None
        for i, out in enumerate(outputs):
            if i not in weights:
                weights[i] = rng.standard_normal(out.shape)
            term = ops.sum(ops.multiply(out, weights[i]))
            total = term if total is None else ops.add(total, term)
        return total

    variables = [Variable(a.copy()) for a in arrays]
    with GradientTape() as tape:
        loss = weighted(fn(*variables))
    analytic = tape.gradient(loss, variables)

    def scalar(*values):
        return float(weighted(fn(*[Variable(v.copy()) for v in values])).data)

    for i, array in enumerate(arrays):
        expected = numeric_gradient(scalar, arrays, i)
        got = analytic[i] if analytic[i] is not None else np.zeros_like(array)
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol,
                                   err_msg=f"gradient of input {i} differs from central differences")


def check_layer_gradients(layer, x, rtol=1e-5, atol=1e-7, seed=0, wrt_input=True, **call_kwargs):
    """Gradients of a layer's output with respect to its input (unless `wrt_input` is False,
    e.g. for integer indices) and to each trainable weight, against central differences (the
    layer must compute in float64)."""
    x = Variable(np.array(x, dtype=np.float64), name="x") if wrt_input else x
    layer(x, **call_kwargs)  # builds the weights
    weights = layer.trainable_weights
    out_weights = np.random.default_rng(seed).standard_normal(layer(x, **call_kwargs).shape)

    def loss():
        return ops.sum(ops.multiply(layer(x, **call_kwargs), out_weights))

    with GradientTape() as tape:
        value = loss()
    sources = ([x] if wrt_input else []) + weights
    analytic = tape.gradient(value, sources)
    for variable, got in zip(sources, analytic):
        expected = numeric_gradient(lambda *_: float(loss().data), [variable.data], 0)
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol,
                                   err_msg=f"{layer.name}: gradient of {variable.name} differs "
                                           "from central differences")
