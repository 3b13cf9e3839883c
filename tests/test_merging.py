"""Merge layers: values against numpy (eager and through a functional model), Keras's shape
rules (broadcasting, Concatenate's axis, Dot's axes), gradients in float64, masks, errors
naming every shape, and the R-style `layer_*` verbs."""

import numpy as np
import pytest

from kerasr import config, keras_model, layer_input, layers, ops
from kerasr.engine import GradientTape, Tensor, Variable
from kerasr.engine.graph import KerasTensor
from kerasr.verbs.merging import (layer_add, layer_average, layer_concatenate, layer_dot,
                                  layer_maximum, layer_minimum, layer_multiply, layer_subtract)

from gradcheck import check_gradients

rng = np.random.default_rng(11)



def data(*shape):
    return rng.standard_normal(shape)


ELEMENTWISE = [
    (layers.Add, layer_add, lambda xs: sum(xs)),
    (layers.Subtract, layer_subtract, lambda xs: xs[0] - xs[1]),
    (layers.Multiply, layer_multiply, lambda xs: np.prod(np.broadcast_arrays(*xs), axis=0)),
    (layers.Average, layer_average, lambda xs: sum(xs) / len(xs)),
    (layers.Maximum, layer_maximum, lambda xs: np.maximum.reduce(np.broadcast_arrays(*xs))),
    (layers.Minimum, layer_minimum, lambda xs: np.minimum.reduce(np.broadcast_arrays(*xs))),
]
ELEMENTWISE_IDS = [cls.__name__ for cls, _, _ in ELEMENTWISE]
SEVERAL = [(cls, verb, ref) for cls, verb, ref in ELEMENTWISE if cls is not layers.Subtract]
SEVERAL_IDS = [cls.__name__ for cls, _, _ in SEVERAL]


def batch_dot_reference(x, y, a1, a2):
    """Per sample, numpy's tensordot over x's axis a1 and y's axis a2 (batch axis excluded)."""
    out = np.stack([np.tensordot(x[b], y[b], axes=([a1 - 1], [a2 - 1])) for b in range(len(x))])
    return out.reshape(len(x), 1) if out.ndim == 1 else out


# ---- values -------------------------------------------------------------------------------
@pytest.mark.parametrize("cls, verb, reference", ELEMENTWISE, ids=ELEMENTWISE_IDS)
def test_elementwise_merge_of_two_matches_numpy(cls, verb, reference):
    xs = [data(4, 3, 5).astype(np.float32) for _ in range(2)]
    out = cls()(xs)
    assert isinstance(out, Tensor) and out.dtype == np.float32 and out.shape == (4, 3, 5)
    np.testing.assert_allclose(out.data, reference(xs), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("cls, verb, reference", SEVERAL, ids=SEVERAL_IDS)
def test_elementwise_merge_of_three_matches_numpy(cls, verb, reference):
    xs = [data(4, 6).astype(np.float32) for _ in range(3)]
    np.testing.assert_allclose(cls()(xs).data, reference(xs), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("cls, verb, reference", ELEMENTWISE, ids=ELEMENTWISE_IDS)
def test_elementwise_merge_in_a_functional_model(cls, verb, reference):
    a, b = layer_input(shape=(3, 5)), layer_input(shape=(3, 5))
    merged = verb([a, b])
    assert isinstance(merged, KerasTensor) and merged.shape == (None, 3, 5)
    model = keras_model(inputs=[a, b], outputs=merged)
    xs = [data(7, 3, 5), data(7, 3, 5)]
    np.testing.assert_allclose(model.predict([xs[0], xs[1]], verbose=0), reference(xs),
                               rtol=1e-5, atol=1e-6)


def test_three_input_model_with_average():
    inputs = [layer_input(shape=4) for _ in range(3)]
    model = keras_model(inputs=inputs, outputs=layer_average(inputs))
    xs = [data(5, 4) for _ in range(3)]
    np.testing.assert_allclose(model.predict(xs, verbose=0), (xs[0] + xs[1] + xs[2]) / 3,
                               rtol=1e-5, atol=1e-6)


def test_integer_inputs_are_cast_to_the_float_type():
    out = layers.Add()([np.array([[1, 2]]), np.array([[3, 4]])])
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out.data, [[4, 6]])


# ---- broadcasting -------------------------------------------------------------------------
@pytest.mark.parametrize("shape1, shape2, expected", [
    ((4, 1, 5), (4, 3, 5), (4, 3, 5)),
    ((4, 3, 1), (4, 1, 5), (4, 3, 5)),
    ((4, 5), (4, 3, 5), (4, 3, 5)),        # lower rank: size-1 axes after the batch axis
    ((4, 1), (4, 2, 3, 6), (4, 2, 3, 6)),
])
@pytest.mark.parametrize("cls, verb, reference", ELEMENTWISE, ids=ELEMENTWISE_IDS)
def test_broadcasting_values(cls, verb, reference, shape1, shape2, expected):
    x, y = data(*shape1), data(*shape2)
    out = cls()([x, y])
    assert out.shape == expected
    # numpy aligns from the last axis too once the batch axis is kept in front
    x_aligned = x.reshape((x.shape[0],) + (1,) * (len(shape2) - len(shape1)) + x.shape[1:])
    np.testing.assert_allclose(out.data, reference([x_aligned, y]), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("shape1, shape2, expected", [
    ((None, 1, 4), (None, 5, 4), (None, 5, 4)),
    ((None, 4), (None, 5, 4), (None, 5, 4)),
    ((None, None, 4), (None, 5, 1), (None, 5, 4)),
    ((None, None), (None, 1), (None, None)),
    ((None, 3), (8, 3), (8, 3)),
])
def test_symbolic_broadcast_shapes(shape1, shape2, expected):
    a, b = layer_input(batch_shape=shape1), layer_input(batch_shape=shape2)
    assert layer_multiply([a, b]).shape == expected
    assert layer_multiply([b, a]).shape == expected


def test_broadcasting_model_predicts_numpy_values():
    a, b = layer_input(shape=(1, 4)), layer_input(shape=(5, 4))
    model = keras_model(inputs=[a, b], outputs=layer_subtract([a, b]))
    x, y = data(3, 1, 4), data(3, 5, 4)
    np.testing.assert_allclose(model.predict([x, y], verbose=0), x - y, rtol=1e-5, atol=1e-6)


# ---- concatenate --------------------------------------------------------------------------
@pytest.mark.parametrize("axis, shapes", [
    (-1, [(3, 4, 2), (3, 4, 5)]),
    (2, [(3, 4, 2), (3, 4, 5), (3, 4, 1)]),
    (1, [(3, 2, 6), (3, 7, 6)]),
    (-2, [(3, 2, 6), (3, 7, 6)]),
])
def test_concatenate_matches_numpy(axis, shapes):
    xs = [data(*s) for s in shapes]
    out = layers.Concatenate(axis=axis)(xs)
    np.testing.assert_allclose(out.data, np.concatenate(xs, axis=axis), rtol=1e-6)
    symbolic = [layer_input(shape=s[1:]) for s in shapes]
    merged = layer_concatenate(symbolic, axis)
    assert merged.shape == (None,) + out.shape[1:]
    model = keras_model(inputs=symbolic, outputs=merged)
    np.testing.assert_allclose(model.predict(xs, verbose=0), np.concatenate(xs, axis=axis),
                               rtol=1e-6)


def test_concatenate_unknown_sizes():
    a, b = layer_input(shape=(None, 3)), layer_input(shape=(4, 3))
    assert layer_concatenate([a, b], axis=1).shape == (None, None, 3)
    assert layer_concatenate([a, b], axis=-1).shape == (None, 4, 6)  # None matches 4


# ---- dot ----------------------------------------------------------------------------------
DOT_CASES = [
    (1, (3,), (3,), (1,)),
    (-1, (3,), (3,), (1,)),
    ((1, 2), (3, 5), (10, 3), (5, 10)),
    (1, (4, 3), (4, 5), (3, 5)),
    (-1, (4, 3), (5, 3), (4, 5)),
    (2, (4, 3), (5, 3), (4, 5)),
    ((2, 1), (4, 3), (3,), (4,)),
    ((1, 1), (3,), (3, 6), (6,)),
    ((-1, 1), (2, 3, 4), (4, 5), (2, 3, 5)),
    ((-1, -2), (4, 3), (3, 5), (4, 5)),
    ((1, 2), (2, 3, 4), (5, 2, 6), (3, 4, 5, 6)),
]


def _resolve(axes, rank1, rank2):
    pair = (axes, axes) if isinstance(axes, int) else axes
    return tuple(a + r if a < 0 else a for a, r in zip(pair, (rank1, rank2)))


@pytest.mark.parametrize("axes, shape1, shape2, out_shape", DOT_CASES)
@pytest.mark.parametrize("normalize", [False, True])
def test_dot_matches_numpy(axes, shape1, shape2, out_shape, normalize):
    x, y = data(6, *shape1), data(6, *shape2)
    a1, a2 = _resolve(axes, x.ndim, y.ndim)
    xr, yr = x, y
    if normalize:
        xr = x / np.linalg.norm(x, axis=a1, keepdims=True)
        yr = y / np.linalg.norm(y, axis=a2, keepdims=True)
    expected = batch_dot_reference(xr, yr, a1, a2)
    out = layers.Dot(axes=axes, normalize=normalize)([x, y])
    assert out.shape == (6,) + out_shape
    np.testing.assert_allclose(out.data, expected, rtol=1e-5, atol=1e-6)
    a, b = layer_input(shape=shape1), layer_input(shape=shape2)
    merged = layer_dot([a, b], axes=axes, normalize=normalize)
    assert merged.shape == (None,) + out_shape
    model = keras_model(inputs=[a, b], outputs=merged)
    np.testing.assert_allclose(model.predict([x, y], verbose=0), expected, rtol=1e-5, atol=1e-6)


def test_dot_normalized_is_cosine_similarity():
    x, y = data(5, 8), data(5, 8)
    cosine = np.sum(x * y, axis=1) / (np.linalg.norm(x, axis=1) * np.linalg.norm(y, axis=1))
    out = layers.Dot(axes=1, normalize=True)([x, y])
    np.testing.assert_allclose(out.data[:, 0], cosine, rtol=1e-5)
    assert np.all(np.abs(out.data) <= 1 + 1e-6)
    same = layers.Dot(axes=-1, normalize=True)([x, 3 * x])
    np.testing.assert_allclose(same.data, 1.0, rtol=1e-5)


def test_dot_normalize_keeps_zero_vectors_finite(float64):
    x = data(2, 4)
    x[0] = 0.0
    out = layers.Dot(axes=1, normalize=True)([x, data(2, 4)])
    assert np.all(np.isfinite(out.data)) and out.data[0, 0] == 0.0
    # At a zero vector the norm is floored at epsilon: out = x / epsilon there, so the gradient
    # is finite (central differences would straddle the floor's kink, so none here).
    u, v = Variable(x), Variable(data(2, 4))
    with GradientTape() as tape:
        loss = ops.sum(layers.Dot(axes=1, normalize=True)([u, v]))
    grad_u, grad_v = tape.gradient(loss, [u, v])
    assert np.all(np.isfinite(grad_u)) and np.all(np.isfinite(grad_v))
    unit_v = v.data / np.linalg.norm(v.data, axis=1, keepdims=True)
    np.testing.assert_allclose(grad_u[0], unit_v[0] / config.epsilon(), rtol=1e-6)
    np.testing.assert_array_equal(grad_v[0], 0.0)


# ---- gradients (float64) ------------------------------------------------------------------
@pytest.mark.parametrize("cls, verb, reference", ELEMENTWISE, ids=ELEMENTWISE_IDS)
@pytest.mark.parametrize("shape1, shape2", [((3, 4), (3, 4)), ((3, 1, 4), (3, 5, 4)),
                                            ((3, 4), (3, 2, 4))])
def test_elementwise_gradients(float64, cls, verb, reference, shape1, shape2):
    layer = cls()
    check_gradients(lambda x, y: layer([x, y]), data(*shape1), data(*shape2))


@pytest.mark.parametrize("cls, verb, reference", SEVERAL, ids=SEVERAL_IDS)
def test_elementwise_gradients_three_inputs(float64, cls, verb, reference):
    layer = cls()
    check_gradients(lambda x, y, z: layer([x, y, z]), data(2, 3), data(2, 3), data(2, 1))


@pytest.mark.parametrize("axis", [-1, 1])
def test_concatenate_gradients(float64, axis):
    layer = layers.Concatenate(axis=axis)
    shapes = [(2, 3, 2), (2, 3, 4)] if axis == -1 else [(2, 1, 4), (2, 3, 4)]
    check_gradients(lambda x, y: layer([x, y]), *[data(*s) for s in shapes])


@pytest.mark.parametrize("axes, shape1, shape2, out_shape", DOT_CASES)
@pytest.mark.parametrize("normalize", [False, True])
def test_dot_gradients(float64, axes, shape1, shape2, out_shape, normalize):
    layer = layers.Dot(axes=axes, normalize=normalize)
    check_gradients(lambda x, y: layer([x, y]), data(2, *shape1), data(2, *shape2))


def test_merge_output_is_float64_under_float64(float64):
    assert layers.Maximum()([data(2, 2), data(2, 2)]).dtype == np.float64


# ---- masks --------------------------------------------------------------------------------
def _masked(x):
    return layers.Masking()(x)


def _sequences():
    x, y = data(2, 4, 3), data(2, 4, 3)
    x[0, 1] = 0.0
    x[1, 3] = 0.0
    y[0, 1] = 0.0
    y[0, 2] = 0.0
    return x, y


@pytest.mark.parametrize("cls", [layers.Add, layers.Subtract, layers.Multiply, layers.Average,
                                 layers.Maximum, layers.Minimum])
def test_elementwise_mask_keeps_positions_kept_in_any_input(cls):
    x, y = _sequences()
    mx, my = _masked(x), _masked(y)
    out = cls()([mx, my])
    expected = np.array([[True, False, True, True], [True, True, True, True]])
    np.testing.assert_array_equal(out._keras_mask, mx._keras_mask | my._keras_mask)
    np.testing.assert_array_equal(out._keras_mask, expected)


def test_an_unmasked_input_keeps_every_position():
    x, y = _sequences()
    assert layers.Add()([_masked(x), y])._keras_mask is None
    assert layers.Add()([x, y])._keras_mask is None


def test_compute_mask_directly():
    layer = layers.Maximum()
    inputs = [np.zeros((2, 3, 1))] * 3
    masks = [np.array([[1, 0, 0], [0, 0, 0]], bool), np.array([[0, 0, 1], [0, 0, 0]], bool),
             np.array([[0, 0, 0], [0, 1, 0]], bool)]
    np.testing.assert_array_equal(layer.compute_mask(inputs, masks),
                                  [[True, False, True], [False, True, False]])
    assert layer.compute_mask(inputs, None) is None
    with pytest.raises(ValueError, match="one entry"):
        layer.compute_mask(inputs, masks[:2])


def test_concatenate_masks():
    x, y = _sequences()
    mx, my = _masked(x), _masked(y)
    along_time = layers.Concatenate(axis=1)([mx, my])
    np.testing.assert_array_equal(along_time._keras_mask,
                                  np.concatenate([mx._keras_mask, my._keras_mask], axis=1))
    along_features = layers.Concatenate()([mx, my])
    np.testing.assert_array_equal(along_features._keras_mask, mx._keras_mask | my._keras_mask)
    # an unmasked input counts as all kept
    np.testing.assert_array_equal(layers.Concatenate()([mx, y])._keras_mask, np.ones((2, 4), bool))
    mixed = layers.Concatenate(axis=1)([mx, y])._keras_mask
    np.testing.assert_array_equal(mixed, np.concatenate([mx._keras_mask, np.ones((2, 4), bool)], 1))
    assert layers.Concatenate()([x, y])._keras_mask is None


def test_dot_drops_masks():
    x, y = _sequences()
    assert layers.Dot(axes=2)([_masked(x), _masked(y)])._keras_mask is None


# ---- errors -------------------------------------------------------------------------------
@pytest.mark.parametrize("cls, action", [(layers.Add, "added"), (layers.Subtract, "subtracted"),
                                         (layers.Multiply, "multiplied"),
                                         (layers.Average, "averaged"),
                                         (layers.Maximum, "compared"),
                                         (layers.Minimum, "compared")])
def test_incompatible_shapes_name_both_shapes(cls, action):
    a, b = layer_input(shape=3), layer_input(shape=4)
    layer = cls(name="merge_x")
    with pytest.raises(ValueError, match=rf"merge_x: inputs with shapes \(None, 3\) and "
                                         rf"\(None, 4\) cannot be {action}: axis 1 has sizes 3 and 4"):
        layer([a, b])


def test_incompatible_shapes_name_all_shapes_and_eager_shapes():
    with pytest.raises(ValueError, match=r"add: inputs with shapes \(2, 3\), \(2, 3\) and \(2, 4\) "
                                         r"cannot be added"):
        layers.Add(name="add")([np.zeros((2, 3)), np.zeros((2, 3)), np.zeros((2, 4))])
    with pytest.raises(ValueError, match=r"\(2, 5, 3\) and \(2, 4, 3\) cannot be multiplied: axis 1"):
        layers.Multiply()([np.zeros((2, 5, 3)), np.zeros((2, 4, 3))])


def test_different_batch_sizes_are_an_error():
    with pytest.raises(ValueError, match=r"\(2, 3\) and \(5, 3\) cannot be added: their batch "
                                         r"sizes differ \(2 and 5\)"):
        layers.Add()([np.zeros((2, 3)), np.zeros((5, 3))])


def test_shapes_are_checked_on_every_call_not_only_when_built():
    layer = layers.Add(name="add_again")
    layer([np.zeros((2, 3)), np.zeros((2, 3))])
    with pytest.raises(ValueError, match=r"add_again: inputs with shapes \(2, 3\) and \(2, 4\)"):
        layer([np.zeros((2, 3)), np.zeros((2, 4))])
    with pytest.raises(ValueError, match="single tensor"):
        layer(np.zeros((2, 3)))


@pytest.mark.parametrize("cls", [layers.Add, layers.Subtract, layers.Multiply, layers.Average,
                                 layers.Maximum, layers.Minimum, layers.Concatenate,
                                 lambda name: layers.Dot(axes=1, name=name)])
def test_a_merge_needs_a_list_of_at_least_two(cls):
    with pytest.raises(ValueError, match=r"m1 must be called on a list of .* got a single tensor "
                                         r"of shape \(2, 3\)"):
        cls(name="m1")(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"m2 must be called on a list of .*2 tensors, got 1 "
                                         r"\(shapes \(None, 3\)\)"):
        cls(name="m2")([layer_input(shape=3)])
    with pytest.raises(ValueError, match="got a single tensor"):
        cls(name="m3")(layer_input(shape=3))
    with pytest.raises(ValueError, match="got 0"):
        cls(name="m4")([])


@pytest.mark.parametrize("cls", [layers.Subtract, lambda name: layers.Dot(axes=1, name=name)])
def test_subtract_and_dot_take_exactly_two(cls):
    with pytest.raises(ValueError, match=r"exactly 2 tensors, got 3 \(shapes \(2, 3\), \(2, 3\) "
                                         r"and \(2, 3\)\)"):
        cls(name="two")([np.zeros((2, 3))] * 3)


def test_concatenate_errors_name_the_shapes():
    with pytest.raises(ValueError, match=r"concat_x: inputs with shapes \(None, 3, 4\) and "
                                         r"\(None, 5, 4\) cannot be concatenated along axis -1: "
                                         r"axis 1 has sizes 3 and 5"):
        layers.Concatenate(name="concat_x")([layer_input(shape=(3, 4)), layer_input(shape=(5, 4))])
    with pytest.raises(ValueError, match=r"\(2, 3\) and \(2, 3, 1\) cannot be concatenated: they "
                                         r"have different ranks"):
        layers.Concatenate()([np.zeros((2, 3)), np.zeros((2, 3, 1))])
    with pytest.raises(ValueError, match=r"along axis 3: the inputs have rank 3"):
        layers.Concatenate(axis=3)([np.zeros((2, 3, 1)), np.zeros((2, 3, 1))])
    with pytest.raises(TypeError, match="axis must be an integer"):
        layers.Concatenate(axis="last")


def test_dot_errors_name_the_shapes():
    with pytest.raises(ValueError, match=r"dot_x: inputs with shapes \(None, 3, 5\) and "
                                         r"\(None, 4, 5\) cannot be multiplied along axes 1: "
                                         r"sizes 3 .* and 4 .* differ"):
        layers.Dot(axes=1, name="dot_x")([layer_input(shape=(3, 5)), layer_input(shape=(4, 5))])
    with pytest.raises(ValueError, match=r"axis 0 is the batch axis"):
        layers.Dot(axes=0)([np.zeros((2, 3)), np.zeros((2, 3))])
    with pytest.raises(ValueError, match=r"axis -3 is the batch axis"):
        layers.Dot(axes=(-3, 1))([np.zeros((2, 3, 3)), np.zeros((2, 3))])
    with pytest.raises(ValueError, match=r"axis 4 is out of range for the input of shape \(2, 3\)"):
        layers.Dot(axes=(1, 4))([np.zeros((2, 3)), np.zeros((2, 3))])
    with pytest.raises(ValueError, match=r"rank >= 2"):
        layers.Dot(axes=1)([np.zeros(2), np.zeros((2, 3))])
    with pytest.raises(ValueError, match=r"batch sizes differ \(2 and 3\)"):
        layers.Dot(axes=1)([np.zeros((2, 4)), np.zeros((3, 4))])


@pytest.mark.parametrize("axes, error", [(None, TypeError), ("1", TypeError), (1.5, TypeError),
                                         ((1, 2, 3), ValueError), ((1, 1.5), ValueError),
                                         ((True, 1), ValueError)])
def test_dot_rejects_bad_axes(axes, error):
    with pytest.raises(error, match="axes must be an integer or a pair of integers"):
        layers.Dot(axes=axes)


# ---- verbs and config ---------------------------------------------------------------------
def test_verbs_return_the_layer_without_inputs():
    for verb, cls in [(layer_add, layers.Add), (layer_subtract, layers.Subtract),
                      (layer_multiply, layers.Multiply), (layer_average, layers.Average),
                      (layer_maximum, layers.Maximum), (layer_minimum, layers.Minimum),
                      (layer_concatenate, layers.Concatenate)]:
        assert type(verb()) is cls
    dot = layer_dot(axes=(1, 2), normalize=True, name="my_dot")
    assert type(dot) is layers.Dot and dot.name == "my_dot"
    assert dot.get_config()["axes"] == [1, 2] and dot.get_config()["normalize"] is True
    assert layer_concatenate(axis=1).get_config()["axis"] == 1


def test_verbs_on_data_and_pipe():
    x, y = data(3, 2), data(3, 2)
    np.testing.assert_allclose(layer_add([x, y]).data, x + y, rtol=1e-6)
    np.testing.assert_allclose(([x, y] | layer_maximum()).data, np.maximum(x, y), rtol=1e-6)
    np.testing.assert_allclose(layer_concatenate([x, y], 0).data, np.concatenate([x, y], 0),
                               rtol=1e-6)
    np.testing.assert_allclose(layer_dot([x, y], 1).data, np.sum(x * y, 1, keepdims=True),
                               rtol=1e-5)


def test_verbs_reject_a_model_or_non_tensors():
    a = layer_input(shape=2)
    model = keras_model(inputs=a, outputs=a | layers.Dense(2))
    with pytest.raises(TypeError, match="layer_add\\(\\) joins tensors, not a model"):
        layer_add(model)
    with pytest.raises(TypeError, match="inputs must be a list of tensors"):
        layer_concatenate("a, b")


def test_merged_model_trains():
    from kerasr import compile, fit
    a, b = layer_input(shape=4), layer_input(shape=4)
    joined = layer_concatenate([a | layers.Dense(3), b | layers.Dense(3)])
    scored = layer_dot([joined, b | layers.Dense(6)], axes=1, normalize=True)
    model = keras_model(inputs=[a, b], outputs=scored | layers.Dense(1))
    model | compile(optimizer="adam", loss="mse")
    x1, x2 = data(64, 4), data(64, 4)
    target = np.sum(x1 * x2, axis=1, keepdims=True)
    history = model | fit([x1, x2], target, epochs=20, batch_size=16, verbose=0)
    losses = history.history["loss"]
    assert np.all(np.isfinite(losses)) and losses[-1] < losses[0]
