import math

import numpy as np
import pytest

from kerasr import initializers
from kerasr.random import set_random_seed

SHAPE = (400, 500)  # 200,000 draws: sample statistics within about 1%


@pytest.mark.parametrize("shape, fans", [
    ((), (1, 1)),
    ((7,), (7, 7)),
    ((3, 5), (3, 5)),
    ((3, 4, 5), (12, 15)),
    ((3, 3, 16, 32), (144, 288)),
])
def test_compute_fans(shape, fans):
    assert initializers.compute_fans(shape) == fans


ALL = [initializers.Zeros(), initializers.Ones(), initializers.Constant(2.5),
       initializers.RandomNormal(), initializers.RandomUniform(), initializers.TruncatedNormal(),
       initializers.VarianceScaling(), initializers.GlorotUniform(), initializers.GlorotNormal(),
       initializers.HeNormal(), initializers.HeUniform(), initializers.LecunNormal(),
       initializers.LecunUniform(), initializers.Orthogonal(), initializers.Identity()]


@pytest.mark.parametrize("initializer", ALL, ids=lambda i: type(i).__name__)
def test_shape_and_dtype(initializer):
    values = initializer((6, 4))
    assert values.shape == (6, 4) and values.dtype == np.float32
    assert initializer((6, 4), dtype="float64").dtype == np.float64


def test_constant_values():
    np.testing.assert_array_equal(initializers.Zeros()((2, 3)), np.zeros((2, 3)))
    np.testing.assert_array_equal(initializers.Ones()(4), np.ones(4))
    np.testing.assert_array_equal(initializers.Constant(2.5)((2, 2)), np.full((2, 2), 2.5))
    np.testing.assert_array_equal(initializers.Constant([1, 2])((3, 2)), [[1, 2]] * 3)


def test_identity():
    np.testing.assert_array_equal(initializers.Identity(gain=3)((2, 3)), 3 * np.eye(2, 3))
    with pytest.raises(ValueError, match="2-D"):
        initializers.Identity()((2, 2, 2))


def test_random_normal_statistics():
    values = initializers.RandomNormal(mean=1.0, stddev=2.0)(SHAPE)
    assert abs(values.mean() - 1.0) < 0.03
    assert abs(values.std() - 2.0) < 0.03
    assert np.abs(initializers.RandomNormal()(SHAPE).std() - 0.05) < 0.001  # Keras default


def test_random_uniform_statistics():
    values = initializers.RandomUniform(minval=-3.0, maxval=5.0)(SHAPE)
    assert values.min() >= -3.0 and values.max() < 5.0
    assert abs(values.mean() - 1.0) < 0.03
    assert abs(values.std() - 8 / math.sqrt(12)) < 0.03
    default = initializers.RandomUniform()(SHAPE)
    assert default.min() >= -0.05 and default.max() < 0.05 and default.max() > 0.0499


def test_truncated_normal_is_within_two_stddevs():
    values = initializers.TruncatedNormal(mean=1.0, stddev=0.5)(SHAPE).astype(np.float64)
    assert np.all(np.abs(values - 1.0) <= 1.0 + 1e-6)
    assert abs(values.mean() - 1.0) < 0.01
    assert abs(values.std() - 0.5 * 0.87962566) < 0.005  # the std of a normal cut at 2 sigma


# (initializer, shape, expected stddev, uniform limit or None)
SCALED = {
    "glorot_uniform": (initializers.GlorotUniform(), SHAPE, None, math.sqrt(6 / (400 + 500))),
    "glorot_normal": (initializers.GlorotNormal(), SHAPE, math.sqrt(2 / (400 + 500)), None),
    "he_normal": (initializers.HeNormal(), SHAPE, math.sqrt(2 / 400), None),
    "he_uniform": (initializers.HeUniform(), SHAPE, None, math.sqrt(6 / 400)),
    "lecun_normal": (initializers.LecunNormal(), SHAPE, math.sqrt(1 / 400), None),
    "lecun_uniform": (initializers.LecunUniform(), SHAPE, None, math.sqrt(3 / 400)),
    "he_normal_conv": (initializers.HeNormal(), (3, 3, 160, 140), math.sqrt(2 / (9 * 160)), None),
    "glorot_uniform_conv": (initializers.GlorotUniform(), (3, 3, 160, 140), None,
                            math.sqrt(6 / (9 * 160 + 9 * 140))),
    "fan_out_untruncated": (initializers.VarianceScaling(3.0, "fan_out", "untruncated_normal"),
                            SHAPE, math.sqrt(3 / 500), None),
    "fan_avg_uniform": (initializers.VarianceScaling(0.5, "fan_avg", "uniform"), SHAPE, None,
                        math.sqrt(3 * 0.5 / 450)),
}


@pytest.mark.parametrize("case", SCALED.values(), ids=SCALED.keys())
def test_variance_scaling_statistics(case):
    initializer, shape, stddev, limit = case
    values = initializer(shape).astype(np.float64)
    assert abs(values.mean()) < 0.02 * values.std()
    if limit is not None:
        assert np.abs(values).max() <= limit * (1 + 1e-6)
        assert np.abs(values).max() > limit * 0.999
        assert abs(values.std() - limit / math.sqrt(3)) < 0.01 * limit
    else:
        assert abs(values.std() - stddev) < 0.015 * stddev


def test_truncated_variance_scaling_draws_stay_within_two_stddevs_of_the_untruncated():
    values = initializers.HeNormal()(SHAPE)
    bound = 2 * math.sqrt(2 / 400) / 0.87962566103423978
    assert np.abs(values).max() <= bound * (1 + 1e-6)


@pytest.mark.parametrize("shape", [(50, 30), (30, 50), (40, 40), (3, 3, 4, 8)])
def test_orthogonal(shape):
    values = initializers.Orthogonal(gain=2.0)(shape, dtype="float64")
    flat = values.reshape(-1, shape[-1])
    gram = flat.T @ flat if flat.shape[0] >= flat.shape[1] else flat @ flat.T
    np.testing.assert_allclose(gram, 4.0 * np.eye(len(gram)), atol=1e-10)
    with pytest.raises(ValueError, match="rank >= 2"):
        initializers.Orthogonal()((5,))


SEEDABLE = [initializers.RandomNormal, initializers.RandomUniform, initializers.TruncatedNormal,
            initializers.VarianceScaling, initializers.GlorotUniform, initializers.GlorotNormal,
            initializers.HeNormal, initializers.HeUniform, initializers.LecunNormal,
            initializers.LecunUniform, initializers.Orthogonal]


@pytest.mark.parametrize("cls", SEEDABLE, ids=lambda c: c.__name__)
def test_seeded_initializers_repeat_their_values(cls):
    seeded = cls(seed=7)
    first = seeded((20, 10))
    set_random_seed(123)  # the shared generator does not matter to a seeded initializer
    np.testing.assert_array_equal(seeded((20, 10)), first)
    np.testing.assert_array_equal(cls(seed=7)((20, 10)), first)
    assert not np.array_equal(cls(seed=8)((20, 10)), first)


@pytest.mark.parametrize("cls", SEEDABLE, ids=lambda c: c.__name__)
def test_unseeded_initializers_follow_set_random_seed(cls):
    initializer = cls()
    set_random_seed(42)
    first, second = initializer((20, 10)), initializer((20, 10))
    assert not np.array_equal(first, second)
    set_random_seed(42)
    np.testing.assert_array_equal(initializer((20, 10)), first)
    np.testing.assert_array_equal(initializer((20, 10)), second)


def test_invalid_arguments():
    with pytest.raises(ValueError, match="scale"):
        initializers.VarianceScaling(scale=0)
    with pytest.raises(ValueError, match="mode"):
        initializers.VarianceScaling(mode="fan_mid")
    with pytest.raises(ValueError, match="distribution"):
        initializers.VarianceScaling(distribution="cauchy")
    with pytest.raises(ValueError, match="seed"):
        initializers.GlorotUniform(seed=-1)
    assert initializers.VarianceScaling(distribution="normal").distribution == "truncated_normal"


@pytest.mark.parametrize("name, cls", [
    ("glorot_uniform", initializers.GlorotUniform), ("GlorotUniform", initializers.GlorotUniform),
    ("he_normal", initializers.HeNormal), ("HeNormal", initializers.HeNormal),
    ("zeros", initializers.Zeros), ("zero", initializers.Zeros), ("ones", initializers.Ones),
    ("uniform", initializers.RandomUniform), ("normal", initializers.RandomNormal),
    ("random_normal", initializers.RandomNormal), ("truncated_normal", initializers.TruncatedNormal),
    ("orthogonal", initializers.Orthogonal), ("identity", initializers.Identity),
    ("lecun_uniform", initializers.LecunUniform), ("variance_scaling", initializers.VarianceScaling),
])
def test_get_by_name(name, cls):
    assert type(initializers.get(name)) is cls


def test_get_other_identifiers():
    initializer = initializers.HeUniform(seed=3)
    assert initializers.get(initializer) is initializer
    assert initializers.get(None) is None
    assert type(initializers.get(initializers.Ones)) is initializers.Ones

    def halves(shape, dtype=None):
        return np.full(shape, 0.5, dtype=dtype)
    assert initializers.get(halves) is halves
    rebuilt = initializers.get({"class_name": "RandomNormal",
                                "config": {"mean": 1.0, "stddev": 0.1, "seed": 5}})
    assert rebuilt.get_config() == {"mean": 1.0, "stddev": 0.1, "seed": 5}
    with pytest.raises(ValueError, match="Unknown initializer 'glorot'.*glorot_uniform"):
        initializers.get("glorot")


def test_r_functions():
    assert initializers.initializer_random_normal().get_config() == {
        "mean": 0, "stddev": 0.05, "seed": None}
    assert initializers.initializer_random_uniform(seed=1).get_config() == {
        "minval": -0.05, "maxval": 0.05, "seed": 1}
    assert initializers.initializer_truncated_normal(stddev=1).get_config()["stddev"] == 1
    assert initializers.initializer_variance_scaling().get_config() == {
        "scale": 1, "mode": "fan_in", "distribution": "truncated_normal", "seed": None}
    assert initializers.initializer_glorot_uniform(seed=2).get_config() == {"seed": 2}
    assert initializers.initializer_orthogonal().get_config() == {"gain": 1, "seed": None}
    assert initializers.initializer_identity(gain=2).get_config() == {"gain": 2}
    assert initializers.initializer_constant().get_config() == {"value": 0}
    for fn, cls in [(initializers.initializer_zeros, initializers.Zeros),
                    (initializers.initializer_ones, initializers.Ones),
                    (initializers.initializer_glorot_normal, initializers.GlorotNormal),
                    (initializers.initializer_he_normal, initializers.HeNormal),
                    (initializers.initializer_he_uniform, initializers.HeUniform),
                    (initializers.initializer_lecun_normal, initializers.LecunNormal),
                    (initializers.initializer_lecun_uniform, initializers.LecunUniform)]:
        assert type(fn()) is cls
