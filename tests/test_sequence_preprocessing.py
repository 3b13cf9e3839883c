"""pad_sequences, skipgrams, make_sampling_table and array_reshape against Keras's documented
examples and hand-worked cases."""

import numpy as np
import pytest

from kerasr import set_random_seed
from kerasr.engine.tensor import Tensor
from kerasr.verbs.preprocessing import array_reshape, make_sampling_table, pad_sequences, skipgrams

SEQ = [[1], [2, 3], [4, 5, 6]]


# pad_sequences --------------------------------------------------------------------------------

def test_keras_documented_examples():
    out = pad_sequences(SEQ)
    np.testing.assert_array_equal(out, [[0, 0, 1], [0, 2, 3], [4, 5, 6]])
    assert out.dtype == np.int32
    np.testing.assert_array_equal(pad_sequences(SEQ, value=-1), [[-1, -1, 1], [-1, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(pad_sequences(SEQ, padding="post"), [[1, 0, 0], [2, 3, 0], [4, 5, 6]])
    np.testing.assert_array_equal(pad_sequences(SEQ, maxlen=2), [[0, 1], [2, 3], [5, 6]])


def test_truncating_post_and_padding_combinations():
    seqs = [[1, 2, 3, 4], [5]]
    np.testing.assert_array_equal(pad_sequences(seqs, maxlen=2, truncating="post"), [[1, 2], [0, 5]])
    np.testing.assert_array_equal(pad_sequences(seqs, maxlen=3, truncating="post", padding="post"),
                                  [[1, 2, 3], [5, 0, 0]])
    np.testing.assert_array_equal(pad_sequences(seqs, maxlen=6), [[0, 0, 1, 2, 3, 4], [0, 0, 0, 0, 0, 5]])


def test_dtype_value_and_empty_sequences():
    out = pad_sequences([[0.25, 0.5], []], maxlen=3, dtype="float32", value=9.0)
    np.testing.assert_array_equal(out, [[9.0, 0.25, 0.5], [9.0, 9.0, 9.0]])
    assert out.dtype == np.float32
    assert pad_sequences([]).shape == (0, 0)
    assert pad_sequences([[], []]).shape == (2, 0)
    # values are cast as numpy casts them (Keras's behaviour): 2.7 -> 2 in int32
    np.testing.assert_array_equal(pad_sequences([[2.7]]), [[2]])


def test_sequences_of_vectors_keep_their_step_shape():
    seqs = [[[1, 2], [3, 4]], [[5, 6]]]
    out = pad_sequences(seqs)
    assert out.shape == (2, 2, 2)
    np.testing.assert_array_equal(out[1], [[0, 0], [5, 6]])


def test_accepts_arrays_tensors_and_generators():
    seqs = [np.array([1, 2]), np.array([3])]
    np.testing.assert_array_equal(pad_sequences(seqs), [[1, 2], [0, 3]])
    np.testing.assert_array_equal(pad_sequences(np.array([[1, 2, 3]]), maxlen=2), [[2, 3]])
    np.testing.assert_array_equal(pad_sequences(Tensor(np.array([[1, 2]]))), [[1, 2]])
    np.testing.assert_array_equal(pad_sequences(s for s in SEQ), pad_sequences(SEQ))


def reference_pad(seqs, maxlen, padding, truncating, value):
    """An obvious loop: one output row at a time."""
    rows = []
    for s in seqs:
        s = list(s)
        if len(s) > maxlen:
            s = s[len(s) - maxlen:] if truncating == "pre" else s[:maxlen]
        fill = [value] * (maxlen - len(s))
        rows.append(fill + s if padding == "pre" else s + fill)
    return np.array(rows, dtype=np.int32)


@pytest.mark.parametrize("padding", ["pre", "post"])
@pytest.mark.parametrize("truncating", ["pre", "post"])
def test_matches_a_plain_loop_on_imdb_like_data(padding, truncating):
    rng = np.random.default_rng(0)
    seqs = [list(rng.integers(1, 10000, size=rng.integers(0, 40))) for _ in range(200)]
    out = pad_sequences(seqs, maxlen=20, padding=padding, truncating=truncating, value=7)
    np.testing.assert_array_equal(out, reference_pad(seqs, 20, padding, truncating, 7))


def test_pipes():
    np.testing.assert_array_equal(SEQ | pad_sequences(maxlen=2), [[0, 1], [2, 3], [5, 6]])
    np.testing.assert_array_equal(SEQ | pad_sequences, pad_sequences(SEQ))
    np.testing.assert_array_equal(SEQ | pad_sequences(padding="post", maxlen=4),
                                  pad_sequences(SEQ, maxlen=4, padding="post"))


@pytest.mark.parametrize("maxlen", [0, -1, 2.5, True, "10"])
def test_bad_maxlen(maxlen):
    with pytest.raises(ValueError, match="maxlen"):
        pad_sequences(SEQ, maxlen=maxlen)


def test_bad_padding_truncating_and_value():
    with pytest.raises(ValueError, match="padding"):
        pad_sequences([[], []], padding="middle")  # checked even when nothing needs padding
    with pytest.raises(ValueError, match="truncating"):
        pad_sequences(SEQ, truncating="both")
    with pytest.raises(ValueError, match="dtype"):
        pad_sequences(SEQ, value="<pad>")
    out = pad_sequences([["a"], ["b", "c"]], dtype=object, value="<pad>")
    assert out.tolist() == [["<pad>", "a"], ["b", "c"]]


def test_ragged_or_flat_input_is_a_clear_error():
    with pytest.raises(ValueError, match="list of sequences"):
        pad_sequences([1, 2, 3])
    with pytest.raises(ValueError, match="list of sequences"):
        pad_sequences(5)
    with pytest.raises(ValueError, match="ragged"):
        pad_sequences([[[1, 2], [3]]])  # steps of different lengths within a sequence
    with pytest.raises(ValueError, match="ragged"):
        pad_sequences([[[1, 2]], [[3, 4, 5]]])  # step shapes differ between sequences


# make_sampling_table --------------------------------------------------------------------------

def test_sampling_table_hand_values():
    # rank 1 (index 0 and 1): 1 * (0 + 0.577) + 0.5 - 1/12 = 0.993667 -> p = sqrt(1e-5 * 0.993667)
    # rank 2: 2 * (ln 2 + 0.577) + 0.5 - 1/24 = 2.998628     -> p = sqrt(1e-5 * 2.998628)
    table = make_sampling_table(3)
    np.testing.assert_allclose(table, [0.0031522, 0.0031522, 0.0054760], rtol=1e-4)
    # with sampling_factor 1: min(1, sqrt(0.993667)) and min(1, sqrt(2.998628)) = 1
    np.testing.assert_allclose(make_sampling_table(3, sampling_factor=1.0),
                               [0.996828, 0.996828, 1.0], rtol=1e-5)
    big = make_sampling_table(10000)
    assert big.shape == (10000,) and np.all(np.diff(big[1:]) >= 0) and big.max() <= 1.0
    with pytest.raises(ValueError, match="size"):
        make_sampling_table(0)


# skipgrams ------------------------------------------------------------------------------------

def test_skipgrams_positive_pairs_by_hand():
    # index 0 is a non-word: never a target, never a context
    couples, labels = skipgrams([1, 2, 0, 3], 4, window_size=1, negative_samples=0, shuffle=False)
    assert couples == [[1, 2], [2, 1]] and labels == [1, 1]
    pairs = skipgrams([1, 2, 0, 3], 4, window_size=2, negative_samples=0, shuffle=False)
    assert pairs.couples == [[1, 2], [2, 1], [2, 3], [3, 2]]
    assert pairs.labels == [1, 1, 1, 1]


def test_skipgrams_negative_samples():
    couples, labels = skipgrams([1, 2, 3, 4], 50, window_size=1, negative_samples=2.0,
                                shuffle=False, seed=3)
    positives = [[1, 2], [2, 1], [2, 3], [3, 2], [3, 4], [4, 3]]
    assert couples[:6] == positives and labels == [1] * 6 + [0] * 12
    negatives = couples[6:]
    # the first words cycle through a shuffle of the positive pairs' first words
    assert sorted(c[0] for c in negatives[:6]) == sorted(c[0] for c in positives)
    assert all(1 <= c[1] < 50 for c in negatives)


def test_skipgrams_categorical_shuffle_and_seed():
    a = skipgrams([1, 2, 3, 4, 5], 10, window_size=2, categorical=True, seed=7)
    b = skipgrams([1, 2, 3, 4, 5], 10, window_size=2, categorical=True, seed=7)
    assert a == b
    positive = skipgrams([1, 2, 3, 4, 5], 10, window_size=2, negative_samples=0, shuffle=False)
    # shuffling keeps every couple with its own label
    shuffled_positives = [c for c, lab in zip(a.couples, a.labels) if lab == [0, 1]]
    assert sorted(shuffled_positives) == sorted(positive.couples)
    assert all(lab in ([0, 1], [1, 0]) for lab in a.labels)
    set_random_seed(5)
    c = skipgrams([1, 2, 3, 4, 5], 10)
    set_random_seed(5)
    assert skipgrams([1, 2, 3, 4, 5], 10) == c


def test_skipgrams_sampling_table():
    never = skipgrams([1, 2, 3], 4, sampling_table=np.zeros(4), seed=0)
    assert never.couples == []
    always = skipgrams([1, 2, 3], 4, sampling_table=np.ones(4), negative_samples=0,
                       shuffle=False, seed=0)
    assert len(always.couples) == 6


def test_skipgrams_pipe_and_errors():
    assert [1, 2] | skipgrams(3, negative_samples=0, shuffle=False) == ([[1, 2], [2, 1]], [1, 1])
    with pytest.raises(ValueError, match="vocabulary_size"):
        skipgrams([1, 2], 0)
    with pytest.raises(ValueError, match="vocabulary_size"):
        skipgrams([1, 5], 3)
    with pytest.raises(ValueError, match="integer"):
        skipgrams([[1, 2], [3]], 5)


# array_reshape --------------------------------------------------------------------------------

def test_array_reshape_is_row_major_like_reticulate():
    x = np.arange(1, 5)
    np.testing.assert_array_equal(array_reshape(x, (2, 2)), [[1, 2], [3, 4]])
    np.testing.assert_array_equal(array_reshape(x, (2, 2), order="F"), [[1, 3], [2, 4]])  # R's dim<-


def test_array_reshape_mnist_style_and_dims():
    images = np.arange(3 * 28 * 28, dtype=np.uint8).reshape(3, 28, 28)
    flat = array_reshape(images, [3, 784])
    np.testing.assert_array_equal(flat[1], images[1].ravel())
    assert array_reshape(images, c := (3, -1)).shape == (3, 784) and c
    assert array_reshape(images, (3.0, 28.0, 28.0, 1.0)).shape == (3, 28, 28, 1)
    assert array_reshape([[1, 2], [3, 4]], 4).tolist() == [1, 2, 3, 4]
    assert (images | array_reshape((3, 784))).shape == (3, 784)


def test_array_reshape_errors():
    with pytest.raises(ValueError, match="cannot reshape"):
        array_reshape(np.arange(6), (4,))
    with pytest.raises(ValueError, match="rectangular"):
        array_reshape([[1, 2], [3]], (3,))
    with pytest.raises(ValueError, match="order"):
        array_reshape(np.arange(4), (2, 2), order="R")
    with pytest.raises(ValueError, match="integers"):
        array_reshape(np.arange(4), (2.5, 2))
    with pytest.raises(ValueError, match="-1"):
        array_reshape(np.arange(4), (-1, -1))


def test_verb_with_a_misspelt_argument_fails_at_once():
    with pytest.raises(TypeError, match="pad_sequences"):
        pad_sequences(maxln=5)
