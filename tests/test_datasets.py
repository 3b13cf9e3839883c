import numpy as np
import pytest

from kerasr.datasets import Dataset, Split, dataset_boston_housing

# Known-good values from Keras's boston_housing.load_data() (seed 113, 0.2).
X_TRAIN_0 = [1.23247, 0.0, 8.14, 0.0, 0.538, 6.142, 91.7, 3.9769, 4.0, 307.0, 21.0, 396.9, 18.72]
Y_TRAIN_5 = [15.2, 42.3, 50.0, 21.1, 17.7]
X_TEST_0 = [18.0846, 0.0, 18.1, 0.0, 0.679, 6.434, 100.0, 1.8347, 24.0, 666.0, 20.2, 27.25, 29.05]
Y_TEST_5 = [7.2, 18.8, 19.0, 27.0, 22.2]


def test_shapes_and_dtypes():
    (x_train, y_train), (x_test, y_test) = dataset_boston_housing()
    assert x_train.shape == (404, 13)
    assert y_train.shape == (404,)
    assert x_test.shape == (102, 13)
    assert y_test.shape == (102,)
    for a in (x_train, y_train, x_test, y_test):
        assert a.dtype == np.float64


def test_matches_keras_split():
    (x_train, y_train), (x_test, y_test) = dataset_boston_housing()
    np.testing.assert_allclose(x_train[0], X_TRAIN_0)
    np.testing.assert_allclose(y_train[:5], Y_TRAIN_5)
    np.testing.assert_allclose(x_test[0], X_TEST_0)
    np.testing.assert_allclose(y_test[:5], Y_TEST_5)


def test_r_style_access():
    boston = dataset_boston_housing()
    assert isinstance(boston, Dataset) and isinstance(boston, tuple)
    assert isinstance(boston.train, Split) and isinstance(boston.test, Split)
    # boston$train$x, boston[["test"]][["y"]]
    np.testing.assert_allclose(boston.train.x[0], X_TRAIN_0)
    np.testing.assert_allclose(boston["train"]["y"][:5], Y_TRAIN_5)
    np.testing.assert_allclose(boston["test"].x[0], X_TEST_0)
    np.testing.assert_allclose(boston.test["y"][:5], Y_TEST_5)
    # integer indexing and unpacking still work
    assert boston[0] is boston.train and boston[1][1] is boston.test.y
    x_train, y_train = boston.train
    assert x_train is boston.train.x and y_train is boston.train.y
    with pytest.raises(KeyError):
        boston["validation"]
    with pytest.raises(KeyError):
        boston.train["z"]


def test_test_split_fraction():
    (x_train, _), (x_test, y_test) = dataset_boston_housing(test_split=0.5)
    assert x_train.shape == (253, 13) and x_test.shape == (253, 13)
    (x_train, _), (x_test, y_test) = dataset_boston_housing(test_split=0)
    assert x_train.shape == (506, 13)
    assert x_test.shape == (0, 13) and y_test.shape == (0,)


@pytest.mark.parametrize("bad", [-0.1, 1, 1.0, 1.5, float("nan"), "0.2", None, True])
def test_bad_test_split(bad):
    with pytest.raises(ValueError, match="test_split"):
        dataset_boston_housing(test_split=bad)


def test_path_is_accepted_and_ignored():
    (x_a, _), _ = dataset_boston_housing(path="somewhere/else.npz")
    (x_b, _), _ = dataset_boston_housing()
    np.testing.assert_array_equal(x_a, x_b)


def _all_rows(ds):
    (x_train, y_train), (x_test, y_test) = ds
    rows = np.column_stack([np.concatenate([x_train, x_test]), np.concatenate([y_train, y_test])])
    return rows[np.lexsort(rows.T[::-1])]


def test_seed_changes_split_not_rows():
    a = dataset_boston_housing(seed=113)
    b = dataset_boston_housing(seed=1)
    assert not np.array_equal(a.train.x, b.train.x)
    assert not np.array_equal(a.test.y, b.test.y)
    np.testing.assert_array_equal(_all_rows(a), _all_rows(b))
    assert _all_rows(a).shape == (506, 14)


def test_same_seed_is_deterministic():
    a, b = dataset_boston_housing(seed=7), dataset_boston_housing(seed=7)
    np.testing.assert_array_equal(a.train.x, b.train.x)
    np.testing.assert_array_equal(a.test.y, b.test.y)


def test_results_are_independent_copies():
    a = dataset_boston_housing()
    a.train.x[0, 0] = -1.0
    b = dataset_boston_housing()
    np.testing.assert_allclose(b.train.x[0], X_TRAIN_0)
