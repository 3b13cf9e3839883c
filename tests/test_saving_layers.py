"""Every layer type through save_model / load_model: inside a graph model (and a Sequential one
when the layer takes one input), the loaded model predicts exactly what the saved one did, with
the same config. The layers come from the config table of tests/test_layer_configs.py."""

import numpy as np
import pytest
from test_layer_configs import CASES, call_model, through_json

import kerasr.layers as L
from kerasr import load_model, save_model, set_random_seed, unserialize_model, serialize_model
from kerasr.models import Functional, Sequential


def models_for(case):
    shapes = case.shape if isinstance(case.shape, list) else [case.shape]
    dtype = "int32" if case.integers else None
    inputs = [L.Input(shape=s, dtype=dtype, batch_size=case.batch_size) for s in shapes]
    outputs = case.make()(inputs if isinstance(case.shape, list) else inputs[0])
    found = [Functional(inputs if len(inputs) > 1 else inputs[0], outputs)]
    if case.sequential:
        found.append(Sequential([L.InputLayer(shape=shapes[0], dtype=dtype,
                                              batch_size=case.batch_size), case.make()]))
    return found


@pytest.mark.parametrize("case_name", sorted(CASES))
def test_every_layer_round_trips_through_a_model_file(tmp_path, case_name):
    set_random_seed(0)
    case = CASES[case_name]
    x = case.inputs(seed=1)
    for i, model in enumerate(models_for(case)):
        expected = call_model(model, x)
        path = tmp_path / f"m{i}.keras"
        save_model(model, path)
        loaded = load_model(path)
        assert type(loaded) is type(model)
        assert through_json(loaded.get_config()) == through_json(model.get_config())
        for a, b in zip(model.get_weights(), loaded.get_weights()):
            assert a.dtype == b.dtype
            np.testing.assert_array_equal(a, b)
        if getattr(loaded.layers[-1], "stateful", False):
            loaded.layers[-1].reset_states()
            model.layers[-1].reset_states()
            expected = call_model(model, x)
        got = call_model(loaded, x)
        assert len(got) == len(expected)
        for u, v in zip(expected, got):
            assert u.dtype == v.dtype
            np.testing.assert_array_equal(u, v)
        again = unserialize_model(serialize_model(model))
        for a, b in zip(model.get_weights(), again.get_weights()):
            np.testing.assert_array_equal(a, b)
