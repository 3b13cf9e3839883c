"""Every differentiable op: forward against numpy, backward against central differences."""

import numpy as np
import pytest

from kerasr import ops
from kerasr.engine import GradientTape, Tensor, Variable

from gradcheck import check_gradients
from reference import ref_activation, ref_softmax

rng = np.random.default_rng(42)


def away_from(values, points, margin=1e-3):
    """Nudges values that lie within `margin` of a kink."""
    for p in points:
        close = np.abs(values - p) < margin
        values[close] += 10 * margin
    return values


BINARY = {
    "add": (ops.add, np.add), "subtract": (ops.subtract, np.subtract),
    "multiply": (ops.multiply, np.multiply), "divide": (ops.divide, np.divide),
    "maximum": (ops.maximum, np.maximum), "minimum": (ops.minimum, np.minimum),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("shapes", [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1))])
def test_binary_ops_broadcast_and_differentiate(name, shapes):
    op, reference = BINARY[name]
    x = rng.standard_normal(shapes[0])
    y = rng.standard_normal(shapes[1]) + (3.0 if name == "divide" else 0.0)
    if name in ("maximum", "minimum"):
        y = y + 0.05  # keep x and y apart: equal entries are a kink
    np.testing.assert_allclose(op(Tensor(x), Tensor(y)).data, reference(x, y))
    check_gradients(op, x, y)


UNARY = {
    "exp": (ops.exp, np.exp, None), "log": (ops.log, np.log, "positive"),
    "sqrt": (ops.sqrt, np.sqrt, "positive"), "square": (ops.square, np.square, None),
    "abs": (ops.abs, np.abs, "kink0"), "negative": (ops.negative, np.negative, None),
    "tanh": (ops.tanh, np.tanh, None),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_ops(name):
    op, reference, domain = UNARY[name]
    x = rng.standard_normal((3, 5))
    if domain == "positive":
        x = np.abs(x) + 0.5
    if domain == "kink0":
        x = away_from(x, [0.0])
    np.testing.assert_allclose(op(Tensor(x)).data, reference(x), rtol=1e-12)
    check_gradients(op, x)


def test_power_with_tensor_exponent():
    x = np.abs(rng.standard_normal((2, 3))) + 0.5
    y = rng.standard_normal((2, 3))
    np.testing.assert_allclose(ops.power(Tensor(x), Tensor(y)).data, x ** y)
    check_gradients(ops.power, x, y)


@pytest.mark.parametrize("axis,keepdims", [(None, False), (0, False), (1, True), ((0, 2), False)])
@pytest.mark.parametrize("name", ["sum", "mean", "max", "min"])
def test_reductions(name, axis, keepdims):
    x = rng.standard_normal((3, 4, 2))
    op = getattr(ops, name)
    np.testing.assert_allclose(op(Tensor(x), axis=axis, keepdims=keepdims).data,
                               getattr(np, name)(x, axis=axis, keepdims=keepdims))
    check_gradients(lambda t: op(t, axis=axis, keepdims=keepdims), x)


def test_max_shares_gradient_between_ties():
    x = Variable(np.array([[1.0, 3.0, 3.0]]))
    with GradientTape() as tape:
        y = ops.max(x)
    np.testing.assert_allclose(tape.gradient(y, x), [[0.0, 0.5, 0.5]])


@pytest.mark.parametrize("shapes", [((3, 4), (4, 2)), ((2, 3, 4), (4, 5)), ((4,), (4, 3)),
                                    ((2, 3, 4), (2, 4, 2))])
def test_matmul(shapes):
    x, y = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
    np.testing.assert_allclose(ops.matmul(Tensor(x), Tensor(y)).data, x @ y)
    check_gradients(ops.matmul, x, y)


def test_dot_of_3d_by_3d_is_tensordot():
    x, y = rng.standard_normal((2, 3, 4)), rng.standard_normal((5, 4, 6))
    np.testing.assert_allclose(ops.dot(Tensor(x), Tensor(y)).data, np.tensordot(x, y, axes=([2], [1])))
    check_gradients(ops.dot, x, y)


def test_shape_ops():
    x = rng.standard_normal((2, 3, 4))
    check_gradients(lambda t: ops.reshape(t, (4, -1)), x)
    check_gradients(lambda t: ops.transpose(t, (2, 0, 1)), x)
    check_gradients(lambda t: ops.expand_dims(t, 1), x)
    check_gradients(lambda t: ops.repeat(t, 3, axis=1), x)
    check_gradients(lambda t: ops.getitem(t, (slice(None), [0, 2, 0])), x)
    check_gradients(lambda a, b: ops.concatenate([a, b], axis=1), x, rng.standard_normal((2, 2, 4)))
    check_gradients(lambda a, b: ops.stack([a, b], axis=0), x, rng.standard_normal((2, 3, 4)))
    np.testing.assert_array_equal(ops.repeat(Tensor(x), 3, axis=1).data, np.repeat(x, 3, axis=1))
    np.testing.assert_array_equal(ops.transpose(Tensor(x), (2, 0, 1)).data, x.transpose(2, 0, 1))


def test_clip_passes_gradient_only_inside():
    x = away_from(rng.standard_normal((4, 4)), [-0.5, 0.5])
    np.testing.assert_allclose(ops.clip(Tensor(x), -0.5, 0.5).data, np.clip(x, -0.5, 0.5))
    check_gradients(lambda t: ops.clip(t, -0.5, 0.5), x)


def test_fan_out_sums_gradients():
    x = Variable(np.array([1.0, 2.0, 3.0]))
    with GradientTape() as tape:
        y = ops.sum(ops.add(ops.multiply(x, x), ops.multiply(x, 3.0)))
    np.testing.assert_allclose(tape.gradient(y, x), 2 * x.data + 3.0)


def test_unconnected_source_gets_none_and_constants_are_not_tracked():
    a, b = Variable(np.ones(2)), Variable(np.ones(2))
    with GradientTape() as tape:
        y = ops.sum(ops.multiply(a, np.array([2.0, 3.0])))
    grads = tape.gradient(y, [a, b])
    np.testing.assert_allclose(grads[0], [2.0, 3.0])
    assert grads[1] is None


def test_watch_makes_a_constant_differentiable_and_nontrainable_variables_are_ignored():
    x = Tensor(np.array([1.0, 2.0]))
    frozen = Variable(np.array([1.0, 1.0]), trainable=False)
    with GradientTape() as tape:
        tape.watch(x)
        y = ops.sum(ops.multiply(ops.square(x), frozen))
    gx, gf = tape.gradient(y, [x, frozen])
    np.testing.assert_allclose(gx, [2.0, 4.0])
    assert gf is None


def test_python_operators_and_numpy_ufuncs_are_differentiable():
    x = Variable(np.array([0.5, 1.5]))
    with GradientTape() as tape:
        y = (2.0 * x + 1.0) ** 2 / 4.0 - np.exp(x)
        total = ops.sum(y)
    expected = (2 * x.data + 1.0) - np.exp(x.data)
    np.testing.assert_allclose(tape.gradient(total, x), expected)
    assert isinstance(np.exp(x), Tensor)


def test_float32_constants_keep_float32():
    x = Tensor(np.ones(3, dtype=np.float32))
    assert (x * 2.0).dtype == np.float32
    assert (np.float64(2.0) * x).dtype == np.float32


# ---- fused nn ops -------------------------------------------------------------------------

ELEMENTWISE = ["relu", "sigmoid", "tanh", "softplus", "softsign", "elu", "selu", "exponential",
               "swish", "gelu", "hard_sigmoid", "leaky_relu", "linear"]
KINKS = {"relu": [0.0], "elu": [0.0], "selu": [0.0], "leaky_relu": [0.0], "hard_sigmoid": [-3.0, 3.0]}


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_activation_op(name):
    alpha = {"elu": 1.0, "leaky_relu": 0.2}.get(name, 0.0)
    x = away_from(rng.standard_normal((3, 4)) * 2, KINKS.get(name, []))
    np.testing.assert_allclose(ops.activation(Tensor(x), name, alpha).data,
                               ref_activation(x, name, alpha), rtol=1e-10, atol=1e-12)
    check_gradients(lambda t: ops.activation(t, name, alpha), x)


def dense_inputs(activation, use_bias):
    """Inputs whose pre-activations stay away from the activation's kinks (redrawn if not)."""
    while True:
        x, w, b = rng.standard_normal((5, 3)), rng.standard_normal((3, 4)), rng.standard_normal(4)
        z = x @ w + (b if use_bias else 0.0)
        if all(np.abs(z - k).min() > 1e-3 for k in KINKS.get(activation, [])):
            return x, w, b


@pytest.mark.parametrize("activation", ["linear", "relu", "tanh", "gelu", "swish", "sigmoid"])
@pytest.mark.parametrize("use_bias", [True, False])
def test_fused_dense(activation, use_bias):
    x, w, b = dense_inputs(activation, use_bias)
    if use_bias:
        expected = ref_activation(x @ w + b, activation, 0.0)
        got = ops.dense(Tensor(x), Variable(w), Variable(b), activation).data
        check_gradients(lambda xt, wt, bt: ops.dense(xt, wt, bt, activation), x, w, b)
    else:
        expected = ref_activation(x @ w, activation, 0.0)
        got = ops.dense(Tensor(x), Variable(w), None, activation).data
        check_gradients(lambda xt, wt: ops.dense(xt, wt, None, activation), x, w)
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


def test_dense_on_3d_input_contracts_last_axis():
    x, w, b = rng.standard_normal((2, 3, 4)), rng.standard_normal((4, 5)), rng.standard_normal(5)
    np.testing.assert_allclose(ops.dense(Tensor(x), Variable(w), Variable(b), "tanh").data,
                               np.tanh(x @ w + b), rtol=1e-10)
    check_gradients(lambda xt, wt, bt: ops.dense(xt, wt, bt, "tanh"), x, w, b)


@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_softmax(axis):
    x = rng.standard_normal((3, 4, 2))
    expected = np.exp(x) / np.exp(x).sum(axis=axis, keepdims=True)
    np.testing.assert_allclose(ops.softmax(Tensor(x), axis=axis).data, expected, rtol=1e-12)
    check_gradients(lambda t: ops.softmax(t, axis=axis), x)


def test_softmax_and_sigmoid_outputs_remember_their_logits():
    x = Tensor(rng.standard_normal((2, 3)))
    assert ops.logits_of(ops.softmax(x), "softmax") is x
    assert ops.logits_of(ops.softmax(x), "sigmoid") is None
    assert ops.logits_of(ops.activation(x, "sigmoid"), "sigmoid") is x
    assert ops.logits_of(ops.activation(x, "tanh"), "sigmoid") is None


def test_cross_entropy_ops_against_reference_and_gradients():
    logits = rng.standard_normal((4, 3))
    y = np.eye(3)[[0, 2, 1, 1]]
    log_p = np.log(ref_softmax(logits))
    np.testing.assert_allclose(ops.softmax_cross_entropy(y, Tensor(logits)).data,
                               -(y * log_p).sum(-1), rtol=1e-12)
    check_gradients(lambda t: ops.softmax_cross_entropy(y, t), logits)
    labels = np.array([0, 2, 1, 1])
    np.testing.assert_allclose(ops.sparse_softmax_cross_entropy(labels, Tensor(logits)).data,
                               -log_p[np.arange(4), labels], rtol=1e-12)
    check_gradients(lambda t: ops.sparse_softmax_cross_entropy(labels, t), logits)
    targets = rng.uniform(size=(4, 3))
    p = 1 / (1 + np.exp(-logits))
    np.testing.assert_allclose(ops.sigmoid_cross_entropy(targets, Tensor(logits)).data,
                               -(targets * np.log(p) + (1 - targets) * np.log(1 - p)), rtol=1e-10)
    check_gradients(lambda t: ops.sigmoid_cross_entropy(targets, t), logits)


def test_embedding_op_gathers_rows_and_scatters_gradients():
    table = rng.standard_normal((6, 3))
    indices = np.array([[1, 4, 1], [0, 5, 1]])
    np.testing.assert_array_equal(ops.embedding(indices, Variable(table)).data, table[indices])
    check_gradients(lambda t: ops.embedding(indices, t), table)


def test_dropout_scales_kept_units_and_routes_gradient_through_them():
    from kerasr.random import set_random_seed
    set_random_seed(3)
    x = Variable(np.ones((200, 50)))
    with GradientTape() as tape:
        y = ops.dropout(x, 0.25)
        total = ops.sum(y)
    kept = y.data != 0
    assert abs(kept.mean() - 0.75) < 0.02
    np.testing.assert_allclose(y.data[kept], 1 / 0.75)
    np.testing.assert_allclose(tape.gradient(total, x), kept / 0.75)


def _weighted_ops():
    from kerasr.ops import convolution, depthwise, locally_connected, nn
    x2 = rng.standard_normal((3, 4))
    x3 = rng.standard_normal((2, 6, 3))
    return {
        "dense": (nn.dense, x2, (4, 5), (5,), {}),
        "conv": (convolution.conv, x3, (3, 3, 2), (2,), {}),
        "conv_transpose": (convolution.conv_transpose, x3, (3, 2, 3), (2,), {}),
        "depthwise_conv": (depthwise.depthwise_conv, x3, (3, 3, 2), (6,), {}),
        "locally_connected": (locally_connected.locally_connected, x3, (4, 9, 2), (4, 2),
                              {"kernel_size": 3}),
    }


@pytest.mark.parametrize("name", sorted(_weighted_ops()))
def test_weighted_ops_take_arrays_or_tensors_for_kernel_and_bias(name):
    op, x, kernel_shape, bias_shape, kwargs = _weighted_ops()[name]
    kernel = rng.standard_normal(kernel_shape)
    bias = rng.standard_normal(bias_shape)
    with_arrays = op(x, kernel, bias, activation="relu", **kwargs).data
    with_tensors = op(Tensor(x), Variable(kernel), Variable(bias), activation="relu",
                      **kwargs).data
    np.testing.assert_array_equal(with_arrays, with_tensors)
    assert np.any(with_arrays > 0)
