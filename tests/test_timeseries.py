"""timeseries_generator and timeseries_dataset_from_array: Keras's documented examples, plain
loop references, the Jena chapter's lookback / step / delay sampling, and errors."""

import numpy as np
import pytest

from kerasr import set_random_seed
from kerasr.verbs.preprocessing import timeseries_dataset_from_array, timeseries_generator


# timeseries_generator -------------------------------------------------------------------------

def test_generator_keras_documented_example():
    data = np.array([[i] for i in range(50)])
    gen = timeseries_generator(data, data, length=10, sampling_rate=2, batch_size=2)
    assert len(gen) == 20
    x, y = gen[0]
    np.testing.assert_array_equal(x, [[[0], [2], [4], [6], [8]], [[1], [3], [5], [7], [9]]])
    np.testing.assert_array_equal(y, [[10], [11]])


def reference_generator_batches(data, targets, length, sampling_rate, stride, start_index,
                                end_index, reverse, batch_size):
    """Keras's documented sampling as plain loops: every row r from start_index + length to
    end_index (inclusive) every `stride`, chunked into batches."""
    rows = list(range(start_index + length, end_index + 1, stride))
    batches = []
    for first in range(0, len(rows), batch_size):
        xs, ys = [], []
        for r in rows[first:first + batch_size]:
            window = [data[i] for i in range(r - length, r, sampling_rate)]
            xs.append(window[::-1] if reverse else window)
            ys.append(targets[r])
        batches.append((np.array(xs), np.array(ys)))
    return batches


@pytest.mark.parametrize("length,sampling_rate,stride,start_index,end_index,reverse,batch_size", [
    (5, 1, 1, 0, None, False, 4),
    (6, 2, 3, 2, 40, False, 3),
    (4, 3, 2, 5, 33, True, 5),
    (1, 1, 7, 0, 49, False, 1),
])
def test_generator_matches_plain_loops(length, sampling_rate, stride, start_index, end_index,
                                       reverse, batch_size):
    rng = np.random.default_rng(1)
    data = rng.standard_normal((50, 3))
    targets = rng.standard_normal(50)
    gen = timeseries_generator(data, targets, length, sampling_rate=sampling_rate, stride=stride,
                               start_index=start_index, end_index=end_index, reverse=reverse,
                               batch_size=batch_size)
    expected = reference_generator_batches(data, targets, length, sampling_rate, stride,
                                           start_index, 49 if end_index is None else end_index,
                                           reverse, batch_size)
    assert len(gen) == len(expected)
    for (x, y), (ex, ey) in zip(gen, expected):
        np.testing.assert_array_equal(x, ex)
        np.testing.assert_array_equal(y, ey)


def test_generator_next_wraps_round_and_call_is_next():
    data = np.arange(12)
    gen = timeseries_generator(data, data, length=2, batch_size=4)  # rows 2..11: 3 batches
    firsts = [next(gen)[1][0] for _ in range(4)]
    assert firsts == [2, 6, 10, 2]
    assert gen()[1][0] == 6  # the book's `train_gen()` spelling
    assert [y[0] for _, y in gen] == [2, 6, 10]  # `for` gives exactly one epoch
    assert gen[-1][1].tolist() == [10, 11]
    with pytest.raises(IndexError):
        gen[3]


def test_generator_shuffle_draws_rows_in_range_reproducibly():
    data = np.arange(100, dtype=np.float64)
    set_random_seed(11)
    gen = timeseries_generator(data, data, length=10, sampling_rate=2, start_index=5,
                               end_index=80, shuffle=True, batch_size=16)
    x, y = gen[0]
    assert x.shape == (16, 5) and np.all((y >= 15) & (y <= 80))
    for window, row in zip(x, y.astype(int)):  # each window is the one belonging to its target
        np.testing.assert_array_equal(window, data[row - 10:row:2])
    set_random_seed(11)
    again = timeseries_generator(data, data, length=10, sampling_rate=2, start_index=5,
                                 end_index=80, shuffle=True, batch_size=16)
    np.testing.assert_array_equal(again[0][1], y)


def port_of_the_books_generator(data, lookback, delay, min_index, max_index, batch_size, step):
    """Deep Learning with R, listing 6.33, with shuffle = FALSE, in 0-based Python. R's
    `seq(from, to, length.out = n)` gives fractional indices that R truncates."""
    i = min_index + lookback
    rows = np.arange(i, min(i + batch_size, max_index + 1))
    samples = np.zeros((len(rows), lookback // step, data.shape[1]))
    targets = np.zeros(len(rows))
    for j, row in enumerate(rows):
        indices = np.linspace(row - lookback, row - 1, lookback // step).astype(int)
        samples[j] = data[indices]
        targets[j] = data[row + delay, 1]
    return samples, targets


def test_generator_reproduces_the_jena_chapter_sampling():
    rng = np.random.default_rng(2)
    data = rng.standard_normal((400, 3))
    lookback, step, delay, min_index, max_index = 24, 6, 8, 10, 300
    gen = timeseries_generator(data[:-delay], data[delay:, 1], length=lookback,
                               sampling_rate=step, start_index=min_index, end_index=max_index,
                               batch_size=16)
    x, y = gen[0]
    assert x.shape == (16, lookback // step, 3)
    for k in range(16):
        row = min_index + lookback + k
        np.testing.assert_array_equal(x[k], data[row - lookback:row:step])
        assert y[k] == data[row + delay, 1]
    book_x, book_y = port_of_the_books_generator(data, lookback, delay, min_index, max_index, 16, step)
    np.testing.assert_array_equal(y, book_y)  # the same targets for the same rows
    np.testing.assert_array_equal(x[:, 0], book_x[:, 0])  # windows start at row - lookback
    assert gen[len(gen) - 1][1][-1] == data[max_index + delay, 1]  # last row is max_index


def test_generator_errors():
    data = np.arange(10)
    with pytest.raises(ValueError, match="same length"):
        timeseries_generator(data, data[:-1], length=3)
    with pytest.raises(ValueError, match="no row is left"):
        timeseries_generator(data, data, length=8, start_index=3)
    with pytest.raises(ValueError, match="length"):
        timeseries_generator(data, data, length=0)
    with pytest.raises(ValueError, match="batch_size"):
        timeseries_generator(data, data, length=2, batch_size=0)
    with pytest.raises(ValueError, match="end_index"):
        timeseries_generator(data, data, length=2, end_index=10)
    with pytest.raises(ValueError, match="rectangular"):
        timeseries_generator([[1, 2], [3]], [0, 1], length=1)


def test_generator_pipes():
    data = np.arange(20)
    gen = data | timeseries_generator(data, length=5, batch_size=3)
    np.testing.assert_array_equal(gen[0][0], timeseries_generator(data, data, 5, batch_size=3)[0][0])


# timeseries_dataset_from_array ----------------------------------------------------------------

def test_dataset_keras_example_1_windows():
    ds = timeseries_dataset_from_array(np.arange(99), None, sequence_length=10, sampling_rate=2,
                                       sequence_stride=3, batch_size=128)
    (x,) = list(ds)
    assert x.shape == (27, 10)
    np.testing.assert_array_equal(x[0], np.arange(0, 19, 2))
    np.testing.assert_array_equal(x[1], np.arange(3, 22, 2))
    np.testing.assert_array_equal(x[2], np.arange(6, 25, 2))
    np.testing.assert_array_equal(x[-1], np.arange(78, 97, 2))


def test_dataset_keras_example_2_next_step_regression():
    data = np.arange(100.0) ** 2
    ds = timeseries_dataset_from_array(data[:-10], data[10:], sequence_length=10)
    x, y = ds[0]
    np.testing.assert_array_equal(x[0], data[:10])
    assert y[0] == data[10]
    assert x.shape == (81, 10) and len(ds) == 1


def test_dataset_r_keras_example_with_start_and_end():
    # R's example (1-based start_index = 3) in kerasr's 0-based indices: start_index = 2
    seq = np.arange(1, 21)
    ds = timeseries_dataset_from_array(seq[:-3], seq[3:], sequence_length=3, start_index=2,
                                       end_index=9, batch_size=2)
    batches = list(ds)
    assert [b[0].tolist() for b in batches] == [[[3, 4, 5], [4, 5, 6]], [[5, 6, 7], [6, 7, 8]],
                                                [[7, 8, 9]]]
    assert [b[1].tolist() for b in batches] == [[6, 7], [8, 9], [10]]


def test_dataset_keras_example_3_many_to_many():
    x = np.arange(100)
    y = x * 2
    inputs = timeseries_dataset_from_array(x, None, sequence_length=20, sequence_stride=20)
    targets = timeseries_dataset_from_array(y, None, sequence_length=20, sequence_stride=20)
    np.testing.assert_array_equal(inputs[0][0], x[:20])
    np.testing.assert_array_equal(targets[0][1], y[20:40])
    assert inputs[0].shape == (5, 20)


def reference_windows(data, targets, sequence_length, stride, rate, start, end):
    out_x, out_y = [], []
    k = 0
    while start + k + (sequence_length - 1) * rate < end:
        out_x.append([data[start + k + i * rate] for i in range(sequence_length)])
        out_y.append(targets[start + k])
        k += stride
    return np.array(out_x), np.array(out_y)


@pytest.mark.parametrize("sequence_length,stride,rate,start,end,batch_size", [
    (5, 1, 1, None, None, 7), (4, 3, 2, 3, 45, 4), (1, 2, 1, 10, None, 100), (6, 5, 3, None, 49, 3),
])
def test_dataset_matches_plain_loops(sequence_length, stride, rate, start, end, batch_size):
    rng = np.random.default_rng(4)
    data = rng.standard_normal((50, 2)).astype(np.float32)
    targets = rng.integers(0, 5, size=50)
    ds = timeseries_dataset_from_array(data, targets, sequence_length, sequence_stride=stride,
                                       sampling_rate=rate, batch_size=batch_size,
                                       start_index=start, end_index=end)
    ex, ey = reference_windows(data, targets, sequence_length, stride, rate, start or 0,
                               50 if end is None else end)
    xs, ys = zip(*ds)
    np.testing.assert_array_equal(np.concatenate(xs), ex)
    np.testing.assert_array_equal(np.concatenate(ys), ey)
    assert all(len(b) <= batch_size for b in xs) and xs[0].dtype == np.float32


def test_dataset_jena_second_edition_recipe():
    rng = np.random.default_rng(5)
    raw = rng.standard_normal((300, 3))
    sampling_rate, sequence_length = 6, 5
    delay = sampling_rate * (sequence_length + 2 - 1)
    ds = timeseries_dataset_from_array(raw[:-delay], raw[delay:, 1], sequence_length=sequence_length,
                                       sampling_rate=sampling_rate, batch_size=8)
    x, y = ds[1]
    k = 8  # first window of the second batch
    np.testing.assert_array_equal(x[0], raw[k:k + sequence_length * sampling_rate:sampling_rate])
    assert y[0] == raw[k + delay, 1]


def test_dataset_shuffle_is_a_seeded_permutation_per_epoch():
    data = np.arange(40)
    ds = timeseries_dataset_from_array(data, data * 10, sequence_length=4, batch_size=8,
                                       shuffle=True, seed=3)
    epoch_1 = list(ds)
    epoch_2 = list(ds)
    starts_1 = np.concatenate([x[:, 0] for x, _ in epoch_1])
    starts_2 = np.concatenate([x[:, 0] for x, _ in epoch_2])
    assert sorted(starts_1) == list(range(37)) == sorted(starts_2)
    assert not np.array_equal(starts_1, np.arange(37))
    assert not np.array_equal(starts_1, starts_2)  # reshuffled each epoch, as tf.data does
    for x, y in epoch_1:  # targets stay with their windows
        np.testing.assert_array_equal(y, x[:, 0] * 10)
    same = timeseries_dataset_from_array(data, data * 10, sequence_length=4, batch_size=8,
                                         shuffle=True, seed=3)
    np.testing.assert_array_equal(np.concatenate([x[:, 0] for x, _ in same]), starts_1)
    set_random_seed(8)
    a = timeseries_dataset_from_array(data, None, sequence_length=4, shuffle=True)[0]
    set_random_seed(8)
    np.testing.assert_array_equal(
        timeseries_dataset_from_array(data, None, sequence_length=4, shuffle=True)[0], a)


def test_dataset_unbatched_and_next():
    ds = timeseries_dataset_from_array(np.arange(6), np.arange(6), sequence_length=3,
                                       batch_size=None)
    assert len(ds) == 4
    x, y = ds[1]
    assert x.tolist() == [1, 2, 3] and y == 1
    assert [next(ds)[1] for _ in range(5)] == [0, 1, 2, 3, 0]


def test_dataset_pipes():
    data = np.arange(10)
    ds = data | timeseries_dataset_from_array(None, sequence_length=4, batch_size=2)
    assert ds[0].tolist() == [[0, 1, 2, 3], [1, 2, 3, 4]]


@pytest.mark.parametrize("kwargs,match", [
    (dict(start_index=20), "start_index"),
    (dict(start_index=-1), "start_index"),
    (dict(start_index=5, end_index=5), "end_index"),
    (dict(end_index=20), "end_index"),
    (dict(sampling_rate=0), "sampling_rate"),
    (dict(sampling_rate=20), "sampling_rate"),
    (dict(sequence_stride=0), "sequence_stride"),
    (dict(sequence_length=0), "sequence_length"),
    (dict(sequence_length=30), "no complete window"),
    (dict(batch_size=0), "batch_size"),
])
def test_dataset_errors(kwargs, match):
    arguments = dict(data=np.arange(20), targets=None, sequence_length=3)
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=match):
        timeseries_dataset_from_array(**arguments)


def test_dataset_ragged_data_is_a_clear_error():
    with pytest.raises(ValueError, match="rectangular"):
        timeseries_dataset_from_array([[1, 2], [3]], None, sequence_length=1)


def test_fit_and_evaluate_accept_both_window_makers():
    from kerasr import compile, evaluate, fit, keras_model_sequential, layer_dense, layer_flatten
    rng = np.random.default_rng(6)
    data = rng.standard_normal((120, 2)).astype(np.float32)
    gen = timeseries_generator(data[:-3], data[3:, 1], length=8, sampling_rate=2, batch_size=16)
    ds = timeseries_dataset_from_array(data[:-3], data[3:, 1], sequence_length=4, sampling_rate=2,
                                       batch_size=16, shuffle=True, seed=1)
    model = keras_model_sequential(input_shape=(4, 2)) | layer_flatten() | layer_dense(1)
    compile(model, optimizer="rmsprop", loss="mae")
    history = fit(model, gen, epochs=2, verbose=0, validation_data=ds)
    assert len(history.history["loss"]) == 2 and len(history.history["val_loss"]) == 2
    assert np.isfinite(evaluate(model, ds, verbose=0)["loss"])
