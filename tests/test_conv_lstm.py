"""ConvLSTM2D: the fused sequence op against the step-by-step float64 reference for every
option (padding, strides, dilation, rectangular kernels, channels_first, masks with leading
and trailing padding and fully masked rows, zero_output_for_mask, go_backwards, input and
recurrent dropout masks shared or per gate, no bias, every fused activation) in float32 and
float64; central-difference gradient checks through the whole sequence; the layer (weights
in Keras's layouts, output shapes by Keras's formulas, states, stateful, config, errors naming
the layer) and the verb."""

import inspect

import numpy as np
import pytest

import reference as ref
from gradcheck import check_gradients, check_layer_gradients
from kerasr import (compile, fit, keras_model_sequential, layer_dense, layer_flatten,
                    set_random_seed)
from kerasr.engine import GradientTape, Variable
from kerasr.kernels import conv_lstm as cl_kernels
from kerasr.layers.conv_lstm import ConvLSTM2D
from kerasr.ops.conv_lstm import conv_lstm2d_sequence
from kerasr.verbs.conv_lstm import layer_conv_lstm_2d

DTYPES = [np.float32, np.float64]


def tol(dtype):
    return dict(rtol=1e-10, atol=1e-12) if dtype == np.float64 else dict(rtol=2e-5, atol=2e-6)


def problem(seed=0, batch=3, steps=4, rows=5, cols=5, channels=2, filters=3, kernel=(3, 3),
            rkernel=None, states=True, scale=0.4):
    """Inputs, [h0, c0] and weights for a state of the given size (channels_last)."""
    rng = np.random.default_rng(seed)
    rkernel = kernel if rkernel is None else rkernel
    x = rng.standard_normal((batch, steps, rows, cols, channels))
    w = rng.standard_normal(tuple(kernel) + (channels, 4 * filters)) * scale
    u = rng.standard_normal(tuple(rkernel) + (filters, 4 * filters)) * scale
    b = rng.standard_normal(4 * filters) * scale
    return rng, x, w, u, b


def state_size(rows, cols, kernel, strides, padding, dilation):
    out = []
    for n, k, s, d in zip((rows, cols), kernel, strides, dilation):
        span = (k - 1) * d + 1
        out.append((n - span) // s + 1 if padding == "valid" else -(-n // s))
    return tuple(out)


def dropout_draw(rng, shape, rate=0.3):
    return ((rng.random(shape) >= rate) / (1 - rate))


CASES = {
    "plain": {},
    "sequences": dict(return_sequences=True),
    "backwards": dict(go_backwards=True, return_sequences=True),
    "backwards_last": dict(go_backwards=True),
    "same": dict(padding="same", return_sequences=True),
    "strides": dict(strides=(2, 2), return_sequences=True),
    "strides_same": dict(strides=(2, 1), padding="same"),
    "dilation": dict(dilation_rate=(2, 2), padding="same", return_sequences=True),
    "dilation_valid": dict(dilation_rate=(1, 2)),
    "rect_kernel": dict(kernel=(2, 3), padding="same", return_sequences=True),
    "rect_rkernel": dict(kernel=(3, 2), rkernel=(2, 3), return_sequences=True),
    "channels_first": dict(data_format="channels_first", return_sequences=True),
    "channels_first_last": dict(data_format="channels_first", strides=(2, 2), padding="same"),
    "mask": dict(mask=True, return_sequences=True),
    "mask_zero_output": dict(mask=True, return_sequences=True, zero_output_for_mask=True),
    "mask_last": dict(mask=True),
    "mask_last_zero": dict(mask=True, zero_output_for_mask=True),
    "mask_backwards": dict(mask=True, go_backwards=True, return_sequences=True),
    "dropout_shared": dict(dropout=1, recurrent_dropout=1, return_sequences=True),
    "dropout_per_gate": dict(dropout=4, recurrent_dropout=4, return_sequences=True),
    "recurrent_dropout_only": dict(recurrent_dropout=4, mask=True),
    "dropout_channels_first": dict(dropout=4, recurrent_dropout=4, data_format="channels_first"),
    "no_bias": dict(bias=False, return_sequences=True),
    "no_states": dict(states=False),
    "hard_sigmoid_relu": dict(activation="relu", recurrent_activation="hard_sigmoid",
                              return_sequences=True),
    "linear_tanh": dict(activation="linear", recurrent_activation="tanh", scale=0.2),
    "sigmoid_sigmoid": dict(activation="sigmoid", recurrent_activation="sigmoid"),
}


def build_case(case, dtype, batch=3, steps=4, rows=5, cols=5, channels=2, filters=3, seed=0):
    """(op arguments, op keyword arguments, reference keyword arguments) for a CASES entry."""
    options = dict(CASES[case])
    kernel = options.pop("kernel", (3, 3))
    rkernel = options.pop("rkernel", None)
    scale = options.pop("scale", 0.4)
    rng, x, w, u, b = problem(seed, batch, steps, rows, cols, channels, filters, kernel, rkernel,
                              scale=scale)
    strides = options.get("strides", (1, 1))
    padding = options.get("padding", "valid")
    dilation = options.get("dilation_rate", (1, 1))
    first = options.get("data_format") == "channels_first"
    srows, scols = state_size(rows, cols, kernel, strides, padding, dilation)
    state = (batch, srows, scols, filters)
    h0 = rng.standard_normal(state) * 0.5
    c0 = rng.standard_normal(state) * 0.5
    if first:
        x = np.moveaxis(x, -1, 2)
        h0, c0 = np.moveaxis(h0, -1, 1), np.moveaxis(c0, -1, 1)
    states = [h0, c0] if options.pop("states", True) else None
    bias = b if options.pop("bias", True) else None
    if options.pop("mask", False):
        mask = rng.random((batch, steps)) > 0.35
        if batch == 3 and steps == 4:
            mask[0] = [False, True, True, False]      # leading and trailing padding
            mask[1] = False                            # a fully masked row
            mask[2] = [True, False, True, True]
        options["mask"] = mask
    for key, shape in (("dropout", x.shape[:1] + x.shape[2:]),
                       ("recurrent_dropout", h0.shape)):
        count = options.pop(key, 0)
        if count:
            draw = dropout_draw(rng, ((count,) if count == 4 else ()) + shape)
            options[key + "_mask"] = draw
    cast = [a.astype(dtype) for a in (x, w, u)]
    states_cast = None if states is None else [s.astype(dtype) for s in states]
    bias_cast = None if bias is None else bias.astype(dtype)
    op_options = {k: (v.astype(dtype) if k.endswith("dropout_mask") else v)
                  for k, v in options.items()}
    args = (cast[0], states_cast, cast[1], cast[2], bias_cast)
    ref_args = (x, states, w, u, bias)
    return args, op_options, ref_args, options


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", list(CASES))
def test_op_matches_reference(case, dtype):
    args, options, ref_args, ref_options = build_case(case, dtype)
    out, (h, c) = conv_lstm2d_sequence(*args, **options)
    expected, (h_ref, c_ref) = ref.conv_lstm2d_sequence_reference(*ref_args, **ref_options)
    assert out.dtype == dtype and h.dtype == dtype and c.dtype == dtype
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.data, expected, **tol(dtype))
    np.testing.assert_allclose(h.data, h_ref, **tol(dtype))
    np.testing.assert_allclose(c.data, c_ref, **tol(dtype))


VARIANT_CASES = ["mask_backwards", "dropout_per_gate", "dropout_shared", "channels_first_last"]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", VARIANT_CASES)
def test_serial_and_parallel_variants_are_identical(case, dtype, monkeypatch):
    """Both compilations against the reference, forward and backward, and bit-identical to
    each other (the chunks, and the order their kernel gradients add up, depend on the batch
    size only). A batch of 5 makes 5 chunks here, one of 1 a single one."""
    results = {}
    for batch in (5, 1):
        for variant in ("serial", "parallel"):
            monkeypatch.setattr(cl_kernels, "FORCE_VARIANT", variant)
            args, options, ref_args, ref_options = build_case(case, dtype, batch=batch, seed=7)
            x, states, w, u, b = args
            variables = [Variable(a) for a in (x, states[0], states[1], w, u, b)]
            with GradientTape() as tape:
                out, (h, c) = conv_lstm2d_sequence(variables[0], variables[1:3], *variables[3:],
                                                   **options)
                from kerasr import ops
                loss = ops.add(ops.sum(ops.multiply(out, 0.5)), ops.sum(ops.multiply(c, 2.0)))
            grads = tape.gradient(loss, variables)
            expected, _ = ref.conv_lstm2d_sequence_reference(*ref_args, **ref_options)
            np.testing.assert_allclose(out.data, expected, **tol(dtype))
            results[batch, variant] = [out.data, h.data, c.data] + grads
        for s_arr, p_arr in zip(results[batch, "serial"], results[batch, "parallel"]):
            np.testing.assert_array_equal(s_arr, p_arr)


def test_masked_steps_hold_output_and_states():
    args, options, _, _ = build_case("mask", np.float64)
    out, (h, c) = conv_lstm2d_sequence(*args, **options)
    h0, c0 = args[1]
    # row 1 is fully masked: states carried from the initial ones, outputs zero (held zeros)
    np.testing.assert_array_equal(h.data[1], h0[1])
    np.testing.assert_array_equal(c.data[1], c0[1])
    np.testing.assert_array_equal(out.data[1], 0.0)
    # row 0, mask F T T F: the last output repeats step 2's
    np.testing.assert_array_equal(out.data[0, 3], out.data[0, 2])
    np.testing.assert_array_equal(out.data[0, 0], 0.0)


def test_go_backwards_is_forward_on_reversed_time():
    args, options, _, _ = build_case("sequences", np.float64)
    back, states_back = conv_lstm2d_sequence(*args, go_backwards=True, return_sequences=True)
    x = args[0][:, ::-1].copy()
    fwd, states_fwd = conv_lstm2d_sequence(x, *args[1:], return_sequences=True)
    np.testing.assert_allclose(back.data, fwd.data, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(states_back[1].data, states_fwd[1].data, rtol=1e-13, atol=1e-14)


# ---- gradients ------------------------------------------------------------------------------
GRAD_CASES = {
    "sequences": dict(return_sequences=True),
    "last_same": dict(padding="same"),
    "mask_backwards": dict(mask=True, go_backwards=True, return_sequences=True),
    "mask_zero_output_last": dict(mask=True, zero_output_for_mask=True),
    "dropout_per_gate": dict(dropout=4, recurrent_dropout=4, return_sequences=True),
    "dropout_shared_mask": dict(dropout=1, recurrent_dropout=1, mask=True),
    "channels_first_strides": dict(data_format="channels_first", strides=(2, 2), padding="same",
                                   return_sequences=True),
    "dilation_rect": dict(dilation_rate=(2, 1), kernel=(2, 3), padding="same"),
    "no_bias_hard_sigmoid": dict(bias=False, recurrent_activation="hard_sigmoid",
                                 return_sequences=True),
    "relu_linear": dict(activation="relu", recurrent_activation="linear", scale=0.2),
}


@pytest.mark.parametrize("case", list(GRAD_CASES))
def test_gradients_through_the_sequence(case, monkeypatch):
    monkeypatch.setitem(CASES, case, GRAD_CASES[case])
    args, options, _, _ = build_case(case, np.float64, batch=2, steps=3, rows=4, cols=4,
                                     channels=2, filters=2, seed=3)
    if "mask" in options:
        options["mask"][0] = [False, True, False]
        options["mask"][1] = [True, True, False]
    x, (h0, c0), w, u, bias = args
    arrays = [x, h0, c0, w, u] + ([bias] if bias is not None else [])

    def fn(x, h0, c0, w, u, *rest):
        out, states = conv_lstm2d_sequence(x, [h0, c0], w, u, rest[0] if rest else None,
                                           **options)
        return [out] + states

    check_gradients(fn, *arrays, rtol=1e-6, atol=1e-8)


def test_weight_gradients_alone_match_the_full_backward():
    """Only the weights tracked (the input needs no gradient): the same weight gradients."""
    from kerasr import ops
    args, options, _, _ = build_case("dropout_per_gate", np.float64)
    x, states, w, u, b = args
    grads = []
    for track_all in (True, False):
        arrays = (x, states[0], states[1], w, u, b)
        tensors = [Variable(a) if track_all or i >= 3 else a for i, a in enumerate(arrays)]
        with GradientTape() as tape:
            out, _ = conv_lstm2d_sequence(tensors[0], tensors[1:3], *tensors[3:], **options)
            loss = ops.sum(ops.multiply(out, out))
        grads.append(tape.gradient(loss, tensors[3:]))
    for full, alone in zip(*grads):
        np.testing.assert_array_equal(full, alone)


# ---- the layer ------------------------------------------------------------------------------
def test_weights_have_keras_layouts_and_forget_bias():
    layer = ConvLSTM2D(3, (3, 2))
    out = layer(np.zeros((2, 4, 6, 5, 2), np.float32))
    assert [v.name for v in layer.weights] == ["kernel", "recurrent_kernel", "bias"]
    assert [w.shape for w in layer.get_weights()] == [(3, 2, 2, 12), (3, 2, 3, 12), (12,)]
    bias = layer.get_weights()[2]
    np.testing.assert_array_equal(bias, [0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    assert out.shape == (2, 4, 4, 3) and out.dtype == np.float32
    assert layer.name.startswith("conv_lstm2d")
    assert ConvLSTM2D(3, 3, unit_forget_bias=False)(np.zeros((1, 2, 4, 4, 1))).shape == (1, 2, 2, 3)
    assert layer.count_params() == 3 * 2 * 2 * 12 + 3 * 2 * 3 * 12 + 12


SHAPES = [  # (input shape, options, expected output shape) by Keras's formulas
    ((2, 5, 7, 6, 3), dict(), (2, 5, 4, 4)),
    ((2, 5, 7, 6, 3), dict(padding="same"), (2, 7, 6, 4)),
    ((2, 5, 7, 6, 3), dict(strides=2), (2, 3, 2, 4)),
    ((2, 5, 7, 6, 3), dict(strides=2, padding="same"), (2, 4, 3, 4)),
    ((2, 5, 7, 6, 3), dict(dilation_rate=2), (2, 3, 2, 4)),
    ((2, 5, 7, 6, 3), dict(return_sequences=True), (2, 5, 5, 4, 4)),
    ((2, 5, 3, 7, 6), dict(data_format="channels_first"), (2, 4, 5, 4)),
    ((2, 5, 3, 7, 6), dict(data_format="channels_first", return_sequences=True),
     (2, 5, 4, 5, 4)),
]


@pytest.mark.parametrize("shape, options, expected", SHAPES)
def test_output_shapes(shape, options, expected):
    layer = ConvLSTM2D(4, 3, **options)
    symbolic = (None,) + shape[1:]
    assert layer.compute_output_shape(symbolic) == (None,) + expected[1:]
    assert layer(np.zeros(shape, np.float32)).shape == expected
    states = ConvLSTM2D(4, 3, return_state=True, **options)(np.zeros(shape, np.float32))
    state_shape = expected if len(expected) == 4 else expected[:1] + expected[2:]
    assert [s.shape for s in states] == [expected, state_shape, state_shape]


def layer_reference(layer, x, states=None, mask=None):
    kernel, recurrent, *rest = layer.get_weights()
    return ref.conv_lstm2d_sequence_reference(
        x, states, kernel, recurrent, rest[0] if rest else None, strides=layer.strides,
        padding=layer.padding, dilation_rate=layer.dilation_rate,
        data_format=layer.data_format, mask=mask, go_backwards=layer.go_backwards,
        return_sequences=layer.return_sequences,
        zero_output_for_mask=layer.zero_output_for_mask, activation=layer.activation,
        recurrent_activation=layer.recurrent_activation)


@pytest.mark.parametrize("options", [
    dict(return_sequences=True, return_state=True, padding="same"),
    dict(go_backwards=True, strides=2, data_format="channels_first"),
    dict(activation="relu", recurrent_activation="hard_sigmoid", use_bias=False),
])
def test_layer_matches_reference_with_states_and_mask(options, float64):
    rng = np.random.default_rng(5)
    layer = ConvLSTM2D(2, 3, **options)
    shape = (3, 4, 2, 5, 5) if options.get("data_format") == "channels_first" else (3, 4, 5, 5, 2)
    x = rng.standard_normal(shape)
    layer(x)
    layer.set_weights([rng.standard_normal(w.shape) * 0.4 for w in layer.get_weights()])
    state_shape = layer._state_shape(3)
    h0, c0 = rng.standard_normal(state_shape), rng.standard_normal(state_shape)
    mask = np.array([[True, True, False, True], [False, False, False, False],
                     [False, True, True, False]])
    got = layer(x, initial_state=[h0, c0], mask=mask)
    expected, states = layer_reference(layer, x, [h0, c0], mask)
    got = got if isinstance(got, list) else [got]
    np.testing.assert_allclose(got[0].data, expected, rtol=1e-10, atol=1e-12)
    if layer.return_state:
        for g, e in zip(got[1:], states):
            np.testing.assert_allclose(g.data, e, rtol=1e-10, atol=1e-12)


def test_layer_gradients(float64):
    rng = np.random.default_rng(2)
    layer = ConvLSTM2D(2, 3, padding="same", return_sequences=True)
    x = rng.standard_normal((2, 3, 4, 4, 2))
    check_layer_gradients(layer, x, rtol=1e-6, atol=1e-8,
                          mask=np.array([[True, False, True], [True, True, True]]))


def test_stateful_carries_states_between_calls():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 6, 4, 4, 1)).astype(np.float32)
    whole = ConvLSTM2D(2, 3, padding="same", return_sequences=True)
    expected = whole(x).data
    stateful = ConvLSTM2D(2, 3, padding="same", return_sequences=True, stateful=True,
                          batch_input_shape=(2, 6, 4, 4, 1))
    stateful(x[:, :3])
    stateful.set_weights(whole.get_weights())
    stateful.reset_states()
    first, second = stateful(x[:, :3]).data, stateful(x[:, 3:]).data
    np.testing.assert_allclose(np.concatenate([first, second], axis=1), expected, rtol=1e-5,
                               atol=1e-6)
    assert stateful.states[0].shape == (2, 4, 4, 2)
    stateful.reset_states()
    np.testing.assert_array_equal(stateful(x[:, :3]).data, first)
    with pytest.raises(ValueError, match=r"conv_lstm2d_\d+ is stateful with batch size 2, got a "
                                         r"batch of 3"):
        stateful(np.zeros((3, 3, 4, 4, 1), np.float32))


def test_dropout_only_in_training():
    set_random_seed(3)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 5, 5, 2)).astype(np.float32)
    layer = ConvLSTM2D(2, 3, dropout=0.4, recurrent_dropout=0.4, return_sequences=True)
    plain = layer(x).data
    np.testing.assert_array_equal(layer(x, training=False).data, plain)
    dropped = layer(x, training=True).data
    assert np.all(np.isfinite(dropped)) and not np.allclose(dropped, plain)
    expected, _ = layer_reference(layer, x)
    np.testing.assert_allclose(plain, expected, rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_training_dropout_masks_are_keras_per_gate_masks(data_format, monkeypatch, float64):
    """In training the layer draws 4 input and 4 recurrent masks (Keras 3's ConvLSTM cell),
    of one step's shape, fixed over time: the result equals the reference with those masks."""
    import kerasr.layers.conv_lstm as module
    drawn = []

    def recording(shape, rate, dtype):
        mask = original(shape, rate, dtype)
        drawn.append(mask)
        return mask

    original = module._dropout_mask
    monkeypatch.setattr(module, "_dropout_mask", recording)
    rng = np.random.default_rng(4)
    shape = (2, 3, 5, 5, 2) if data_format == "channels_last" else (2, 3, 2, 5, 5)
    x = rng.standard_normal(shape)
    layer = ConvLSTM2D(3, 3, data_format=data_format, dropout=0.3, recurrent_dropout=0.4,
                       return_sequences=True)
    out = layer(x, training=True).data
    dropout_mask, recurrent_mask = drawn
    assert dropout_mask.shape == (4,) + shape[:1] + shape[2:]
    assert recurrent_mask.shape == (4,) + layer._state_shape(2)
    kernel, recurrent, bias = layer.get_weights()
    expected, _ = ref.conv_lstm2d_sequence_reference(
        x, None, kernel, recurrent, bias, data_format=data_format, dropout_mask=dropout_mask,
        recurrent_dropout_mask=recurrent_mask, return_sequences=True)
    np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-12)


def test_config_round_trip():
    layer = ConvLSTM2D(4, (3, 2), strides=(2, 1), padding="SAME", data_format="channels_first",
                       recurrent_activation="hard_sigmoid", dropout=0.1, go_backwards=True,
                       return_state=True, unit_forget_bias=False, name="clstm")
    config = layer.get_config()
    assert config["filters"] == 4 and config["kernel_size"] == (3, 2)
    assert config["padding"] == "same" and "units" not in config
    assert ConvLSTM2D.from_config(config).get_config() == config


ERRORS = [
    (dict(filters=0, kernel_size=3), "filters must be a positive integer"),
    (dict(filters=2, kernel_size=(3, 3, 3)), "kernel_size must be a positive integer or a tuple "
                                             "of 2"),
    (dict(filters=2, kernel_size=3, padding="causal"), "padding must be 'valid' or 'same'"),
    (dict(filters=2, kernel_size=3, strides=2, dilation_rate=2), "strides > 1 cannot be combined"),
    (dict(filters=2, kernel_size=3, dropout=1.0), r"dropout must be a number in \[0, 1\)"),
    (dict(filters=2, kernel_size=3, recurrent_dropout=-0.1), "recurrent_dropout must be"),
    (dict(filters=2, kernel_size=3, activation="softmax"), "activation must be one of"),
    (dict(filters=2, kernel_size=3, recurrent_activation="gelu"),
     "recurrent_activation must be one of"),
    (dict(filters=2, kernel_size=3, data_format="nhwc"), "data_format must be"),
]


@pytest.mark.parametrize("options, message", ERRORS)
def test_bad_arguments_name_the_layer(options, message):
    with pytest.raises(ValueError, match="bad_clstm: " + message):
        ConvLSTM2D(name="bad_clstm", **options)


def test_bad_inputs_name_the_layer():
    layer = ConvLSTM2D(2, 3, name="clstm_in")
    with pytest.raises(ValueError, match=r"clstm_in expects a 5D input \(batch, time, rows, cols, "
                                         r"channels\), got shape \(2, 5, 5, 1\)"):
        layer(np.zeros((2, 5, 5, 1), np.float32))
    layer(np.zeros((2, 3, 5, 5, 1), np.float32))
    with pytest.raises(ValueError, match=r"clstm_in expects input of shape \(None, None, 5, 5, "
                                         r"1\), got \(2, 3, 5, 5, 2\)"):
        layer(np.zeros((2, 3, 5, 5, 2), np.float32))
    with pytest.raises(ValueError, match=r"clstm_in expects a 5D input"):
        layer(np.zeros((2, 3, 5, 5, 1, 1), np.float32))
    with pytest.raises(ValueError, match=r"clstm_in expects initial state 0 of shape "
                                         r"\(2, 3, 3, 2\), got \(2, 5, 5, 2\)"):
        layer(np.zeros((2, 3, 5, 5, 1), np.float32),
              initial_state=[np.zeros((2, 5, 5, 2)), np.zeros((2, 3, 3, 2))])
    with pytest.raises(ValueError, match=r"clstm_in expects 2 initial states \[h, c\], got 1"):
        layer(np.zeros((2, 3, 5, 5, 1), np.float32), initial_state=[np.zeros((2, 3, 3, 2))])
    with pytest.raises(ValueError, match=r"clstm_in expects a mask of shape \(batch, timesteps\)"):
        layer(np.zeros((2, 3, 5, 5, 1), np.float32), mask=np.ones((2, 4), bool))
    with pytest.raises(ValueError, match=r"big_k: the kernel \(kernel_size \(5, 5\).* larger than "
                                         r"the input frames \(4, 4\)"):
        ConvLSTM2D(2, 5, name="big_k")(np.zeros((1, 2, 4, 4, 1), np.float32))
    with pytest.raises(ValueError, match=r"cf_channels needs the number of input channels"):
        ConvLSTM2D(2, 3, name="cf_channels", data_format="channels_first").build(
            (None, 3, None, 5, 5))
    with pytest.raises(ValueError, match=r"free_frames needs fixed frame sizes"):
        ConvLSTM2D(2, 3, name="free_frames").build((None, 3, None, 5, 1))
    with pytest.raises(ValueError, match=r"stateless is stateful, so it needs a fixed batch size"):
        ConvLSTM2D(2, 3, stateful=True, name="stateless").build((None, 3, 5, 5, 1))


def test_op_rejects_bad_shapes():
    _, x, w, u, b = problem()
    with pytest.raises(ValueError, match="rank 5"):
        conv_lstm2d_sequence(x[:, 0], None, w, u, b)
    with pytest.raises(ValueError, match=r"the kernel must have shape \(kh, kw, 3, 4 \* filters\)"):
        conv_lstm2d_sequence(np.concatenate([x, x[..., :1]], -1), None, w, u, b)
    with pytest.raises(ValueError, match="recurrent kernel must have shape"):
        conv_lstm2d_sequence(x, None, w, u[:, :, :2], b)
    with pytest.raises(ValueError, match="activation=.softmax. is not supported"):
        conv_lstm2d_sequence(x, None, w, u, b, activation="softmax")
    with pytest.raises(ValueError, match="recurrent_dropout_mask must have shape"):
        conv_lstm2d_sequence(x, None, w, u, b, recurrent_dropout_mask=np.ones((3, 5, 5, 3)))


# ---- the verb -------------------------------------------------------------------------------
def test_verb_has_keras_argument_order_and_defaults():
    common = ["input_shape", "batch_input_shape", "batch_size", "dtype", "name", "trainable",
              "weights"]
    verb_params = inspect.signature(layer_conv_lstm_2d).parameters
    class_params = [p for p in inspect.signature(ConvLSTM2D.__init__).parameters.values()
                    if p.name not in ("self", "kwargs")]
    assert list(verb_params) == ["object"] + [p.name for p in class_params] + ["unroll"] + common
    keras_order = ["filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate",
                   "activation", "recurrent_activation", "use_bias", "kernel_initializer",
                   "recurrent_initializer", "bias_initializer", "unit_forget_bias",
                   "kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
                   "activity_regularizer", "kernel_constraint", "recurrent_constraint",
                   "bias_constraint", "dropout", "recurrent_dropout", "seed", "return_sequences",
                   "return_state", "go_backwards", "stateful"]
    assert [p.name for p in class_params] == keras_order
    for p in class_params[2:]:
        assert verb_params[p.name].default == p.default, p.name


def test_verb_in_a_sequential_model():
    model = keras_model_sequential() | layer_conv_lstm_2d(
        filters=4, kernel_size=3, padding="same", return_sequences=True,
        input_shape=(None, 8, 8, 1))
    model | layer_conv_lstm_2d(filters=2, kernel_size=c(3, 3))
    assert [layer.output_shape for layer in model.layers] == [(None, None, 8, 8, 4),
                                                              (None, 6, 6, 2)]
    x = np.random.default_rng(0).random((2, 3, 8, 8, 1), dtype=np.float32)
    assert model.predict(x, verbose=0).shape == (2, 6, 6, 2)
    layer = layer_conv_lstm_2d(filters=2, kernel_size=3, name="alone")
    assert isinstance(layer, ConvLSTM2D) and layer.kernel_size == (3, 3)


def test_learns_to_remember_the_first_frame():
    """The label is the sign of the first frame's mean, seen 4 steps before the output."""
    set_random_seed(1)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((256, 5, 6, 6, 1)).astype(np.float32) * 0.5
    y = (x[:, 0].mean(axis=(1, 2, 3)) > 0).astype(np.float32)
    x[:, 0] += np.where(y > 0, 0.5, -0.5)[:, None, None, None]
    model = keras_model_sequential(input_shape=(5, 6, 6, 1)) | \
        layer_conv_lstm_2d(filters=4, kernel_size=3) | layer_flatten() | \
        layer_dense(1, activation="sigmoid")
    model | compile(optimizer="adam", loss="binary_crossentropy", metrics="accuracy")
    history = model | fit(x, y, epochs=8, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < 0.75 * history.history["loss"][0]
    assert history.history["accuracy"][-1] > 0.9


def c(*values):
    """R's c()."""
    return values
