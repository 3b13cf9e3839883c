import numpy as np
import pytest

from kerasr import regularizers
from kerasr.engine.tape import GradientTape
from kerasr.engine.tensor import Tensor, Variable

W = np.random.default_rng(3).normal(size=(4, 3))


@pytest.mark.parametrize("regularizer, value, gradient", [
    (regularizers.L1(0.3), 0.3 * np.abs(W).sum(), 0.3 * np.sign(W)),
    (regularizers.L2(0.2), 0.2 * np.square(W).sum(), 0.4 * W),
    (regularizers.L1L2(l1=0.3, l2=0.2), 0.3 * np.abs(W).sum() + 0.2 * np.square(W).sum(),
     0.3 * np.sign(W) + 0.4 * W),
    (regularizers.L1L2(), 0.0, np.zeros_like(W)),
], ids=["l1", "l2", "l1_l2", "none"])
def test_penalty_and_its_gradient(regularizer, value, gradient):
    weights = Variable(W.copy(), "kernel")
    with GradientTape() as tape:
        penalty = regularizer(weights)
    assert isinstance(penalty, Tensor) and penalty.shape == ()
    np.testing.assert_allclose(penalty.data, value, rtol=1e-12)
    grad = tape.gradient(penalty, weights)
    np.testing.assert_allclose(np.zeros_like(W) if grad is None else grad, gradient, rtol=1e-12)


def test_keeps_the_weights_dtype():
    assert regularizers.L2()(W.astype(np.float32)).dtype == np.float32


def test_defaults():
    assert regularizers.L1().get_config() == {"l1": 0.01}
    assert regularizers.L2().get_config() == {"l2": 0.01}
    assert regularizers.L1L2().get_config() == {"l1": 0.0, "l2": 0.0}


def test_r_functions():
    assert type(regularizers.regularizer_l1()) is regularizers.L1
    assert regularizers.regularizer_l1(l=0.001).get_config() == {"l1": 0.001}
    assert regularizers.regularizer_l2(0.001).get_config() == {"l2": 0.001}
    assert regularizers.regularizer_l1_l2().get_config() == {"l1": 0.01, "l2": 0.01}
    assert regularizers.regularizer_l1_l2(l1=0, l2=0.5).get_config() == {"l1": 0.0, "l2": 0.5}


@pytest.mark.parametrize("name, config", [
    ("l1", {"l1": 0.01}), ("L1", {"l1": 0.01}), ("l2", {"l2": 0.01}), ("L2", {"l2": 0.01}),
    ("l1_l2", {"l1": 0.01, "l2": 0.01}), ("L1L2", {"l1": 0.0, "l2": 0.0}),
])
def test_get_by_name(name, config):
    assert regularizers.get(name).get_config() == config


def test_get_other_identifiers():
    regularizer = regularizers.L2(0.5)
    assert regularizers.get(regularizer) is regularizer
    assert regularizers.get(None) is None
    assert type(regularizers.get(regularizers.L1)) is regularizers.L1
    rebuilt = regularizers.get({"class_name": "L1L2", "config": {"l1": 0.1, "l2": 0.2}})
    assert rebuilt.get_config() == {"l1": 0.1, "l2": 0.2}

    def custom(weights):
        return 0.0
    assert regularizers.get(custom) is custom
    with pytest.raises(ValueError, match="Unknown regularizer 'l3'.*l1_l2"):
        regularizers.get("l3")


@pytest.mark.parametrize("make", [
    lambda: regularizers.L1(-0.1), lambda: regularizers.L2(float("nan")),
    lambda: regularizers.L1L2(l2=float("inf")), lambda: regularizers.L2("0.1"),
])
def test_invalid_factors(make):
    with pytest.raises(ValueError, match="non-negative number"):
        make()
