"""Text preprocessing: the tokenizer and the text verbs, against hand-worked examples of
Keras's documented behaviour (legacy keras.preprocessing.text, which R keras wraps)."""

import hashlib
import json
import math
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest

from kerasr.preprocessing.text import Tokenizer, tokenizer_from_json
from kerasr.verbs.preprocessing import (fit_text_tokenizer, load_text_tokenizer,
                                        save_text_tokenizer, sequences_to_matrix,
                                        sequences_to_texts, text_hashing_trick, text_one_hot,
                                        text_to_word_sequence, text_tokenizer, texts_to_matrix,
                                        texts_to_sequences, texts_to_sequences_generator)

SAMPLES = ["The cat sat on the mat.", "The dog ate my homework."]


def fitted(texts=SAMPLES, **kwargs):
    return text_tokenizer(**kwargs) | fit_text_tokenizer(texts)


# text_to_word_sequence -----------------------------------------------------------------------

def test_text_to_word_sequence_lowers_filters_and_splits():
    text = "Hello, World!  It's a\ttest.\nNew-line"
    assert text_to_word_sequence(text) == ["hello", "world", "it's", "a", "test", "new", "line"]


def test_text_to_word_sequence_options():
    assert text_to_word_sequence("A,b;C", filters=";", lower=False, split=",") == ["A", "b", "C"]
    assert "Hi there" | text_to_word_sequence(lower=False) == ["Hi", "there"]


# fitting --------------------------------------------------------------------------------------

def test_word_index_ranks_by_count_with_ties_in_first_seen_order():
    tok = fitted()
    assert tok.word_index == {"the": 1, "cat": 2, "sat": 3, "on": 4, "mat": 5, "dog": 6,
                              "ate": 7, "my": 8, "homework": 9}
    assert tok.index_word[1] == "the" and tok.index_word[9] == "homework"
    assert list(tok.word_counts.items())[:3] == [("the", 3), ("cat", 1), ("sat", 1)]
    assert tok.word_docs["the"] == 2 and tok.word_docs["dog"] == 1
    assert tok.index_docs[1] == 2 and tok.index_docs[6] == 1
    assert tok.document_count == 2


def test_ties_follow_first_appearance_not_alphabet():
    tok = fitted(["b a", "a b c"])
    assert tok.word_index == {"b": 1, "a": 2, "c": 3}


def test_oov_token_takes_index_1():
    tok = fitted(oov_token="<OOV>")
    assert tok.word_index["<OOV>"] == 1 and tok.word_index["the"] == 2


def test_fit_returns_the_same_tokenizer_and_accumulates():
    tok = text_tokenizer()
    assert fit_text_tokenizer(tok, ["a b"]) is tok
    fit_text_tokenizer(tok, "b c c")  # a single string is one text (R's as_texts)
    assert tok.document_count == 2
    # b: 2 and c: 2 tie, b seen first; a: 1
    assert tok.word_index == {"b": 1, "c": 2, "a": 3}


def test_char_level_and_pre_split_texts():
    tok = fitted(["abca"], char_level=True)
    assert tok.word_index == {"a": 1, "b": 2, "c": 3}
    assert texts_to_sequences(tok, ["CAB"]) == [[3, 1, 2]]
    tok = fitted([["Hello", "world"], ["hello"]])
    assert tok.word_index == {"hello": 1, "world": 2}


def test_fit_on_sequences_counts_documents_for_tfidf():
    tok = text_tokenizer(num_words=5)
    fit_text_tokenizer(tok, [[1, 2, 2], [2, 3]])
    assert tok.document_count == 2
    assert dict(tok.index_docs) == {1: 1, 2: 2, 3: 1}
    assert tok.word_index == {}


# texts_to_sequences ---------------------------------------------------------------------------

def test_texts_to_sequences_all_words():
    assert texts_to_sequences(fitted(), SAMPLES) == [[1, 2, 3, 4, 1, 5], [1, 6, 7, 8, 9]]


def test_num_words_keeps_indices_below_it():
    # Keras: only the num_words - 1 most frequent words survive.
    tok = fitted(num_words=4)
    assert texts_to_sequences(tok, SAMPLES) == [[1, 2, 3, 1], [1]]
    assert len(tok.word_index) == 9  # the vocabulary itself is not cut


def test_unknown_words_are_dropped_or_become_oov():
    assert texts_to_sequences(fitted(), ["the bird sat"]) == [[1, 3]]
    tok = fitted(oov_token="<OOV>", num_words=4)
    # the=2, cat=3, sat=4 (>= num_words -> OOV), bird unknown -> OOV
    assert texts_to_sequences(tok, ["the cat sat bird"]) == [[2, 3, 1, 1]]


def test_sequences_to_texts_inverts():
    tok = fitted()
    assert sequences_to_texts(tok, [[1, 2, 3], [9, 42]]) == ["the cat sat", "homework"]


def test_generator_version():
    gen = texts_to_sequences_generator(fitted(), SAMPLES)
    assert next(gen) == [1, 2, 3, 4, 1, 5]


# matrices -------------------------------------------------------------------------------------

TEXTS = ["a a b", "b c"]  # a: 2 (first seen) -> 1, b: 2 -> 2, c: 1 -> 3; width 4


def test_matrix_binary_count_freq():
    tok = fitted(TEXTS)
    np.testing.assert_array_equal(texts_to_matrix(tok, TEXTS), [[0, 1, 1, 0], [0, 0, 1, 1]])
    np.testing.assert_array_equal(texts_to_matrix(tok, TEXTS, mode="count"),
                                  [[0, 2, 1, 0], [0, 0, 1, 1]])
    np.testing.assert_allclose(texts_to_matrix(tok, TEXTS, mode="freq"),
                               [[0, 2 / 3, 1 / 3, 0], [0, 0, 0.5, 0.5]])
    assert texts_to_matrix(tok, TEXTS).dtype == np.float64


def test_matrix_tfidf():
    tok = fitted(TEXTS)  # 2 documents; a in 1, b in 2, c in 1
    idf_1 = math.log(1 + 2 / 2)
    idf_2 = math.log(1 + 2 / 3)
    expected = [[0, (1 + math.log(2)) * idf_1, idf_2, 0], [0, 0, idf_2, idf_1]]
    np.testing.assert_allclose(texts_to_matrix(tok, TEXTS, mode="tfidf"), expected)


def test_sequences_to_matrix_with_num_words_ignores_wide_indices_but_counts_them_in_freq():
    tok = text_tokenizer(num_words=3)
    np.testing.assert_allclose(sequences_to_matrix(tok, [[1, 1, 2, 5], []], mode="freq"),
                               [[0, 0.5, 0.25], [0, 0, 0]])


def test_matrix_errors():
    with pytest.raises(ValueError, match="num_words"):
        sequences_to_matrix(text_tokenizer(), [[1]])
    with pytest.raises(ValueError, match="tfidf"):
        sequences_to_matrix(text_tokenizer(num_words=3), [[1]], mode="tfidf")
    with pytest.raises(ValueError, match="mode"):
        texts_to_matrix(fitted(), SAMPLES, mode="onehot")
    with pytest.raises(ValueError, match="negative"):
        sequences_to_matrix(text_tokenizer(num_words=3), [[-1]])


# piping ---------------------------------------------------------------------------------------

def test_verbs_pipe_both_ways():
    tok = fitted()
    expected = [[1, 2, 3, 4, 1, 5], [1, 6, 7, 8, 9]]
    assert SAMPLES | texts_to_sequences(tok) == expected  # the spelling
    assert tok | texts_to_sequences(SAMPLES) == expected  # R's tokenizer %>% ...
    assert texts_to_sequences(SAMPLES, tok) == expected
    np.testing.assert_array_equal(SAMPLES | texts_to_matrix(tok, mode="count"),
                                  texts_to_matrix(tok, SAMPLES, mode="count"))
    tok2 = SAMPLES | fit_text_tokenizer(text_tokenizer())
    assert tok2.word_index == tok.word_index


def test_numpy_array_of_texts():
    tok = fitted(np.array(SAMPLES))
    assert texts_to_sequences(tok, np.array(SAMPLES))[1] == [1, 6, 7, 8, 9]


# save / load ----------------------------------------------------------------------------------

def test_json_round_trip(tmp_path):
    tok = fitted(num_words=6, oov_token="<OOV>")
    path = tmp_path / "tokenizer.json"
    assert save_text_tokenizer(tok, path) is tok
    assert os.listdir(tmp_path) == ["tokenizer.json"]  # no temporary file left behind
    back = load_text_tokenizer(path)
    for attribute in ("num_words", "filters", "lower", "split", "char_level", "oov_token",
                      "document_count", "word_index", "index_word"):
        assert getattr(back, attribute) == getattr(tok, attribute), attribute
    assert list(back.word_counts.items()) == list(tok.word_counts.items())
    assert dict(back.word_docs) == dict(tok.word_docs)
    assert dict(back.index_docs) == dict(tok.index_docs)
    for mode in ("binary", "count", "tfidf", "freq"):
        np.testing.assert_array_equal(texts_to_matrix(back, SAMPLES, mode=mode),
                                      texts_to_matrix(tok, SAMPLES, mode=mode))
    fit_text_tokenizer(back, ["zebra zebra"])  # a loaded tokenizer can keep learning
    assert back.word_index["zebra"] == 3


def test_saved_file_is_keras_to_json_layout(tmp_path):
    path = tmp_path / "tok.json"
    save_text_tokenizer(fitted(), path)
    document = json.loads(path.read_text())
    assert document["class_name"] == "Tokenizer"
    config = document["config"]
    assert isinstance(config["word_index"], str)  # Keras nests the dictionaries as JSON strings
    assert json.loads(config["word_index"])["the"] == 1
    assert json.loads(config["index_word"])["1"] == "the"


def test_loads_a_keras_written_tokenizer():
    config = {"num_words": None, "filters": "", "lower": True, "split": " ", "char_level": False,
              "oov_token": None, "document_count": 1,
              "word_counts": json.dumps({"hi": 2, "there": 1}),
              "word_docs": json.dumps({"hi": 1, "there": 1}),
              "index_docs": json.dumps({"1": 1, "2": 1}),
              "index_word": json.dumps({"1": "hi", "2": "there"}),
              "word_index": json.dumps({"hi": 1, "there": 2})}
    tok = tokenizer_from_json(json.dumps({"class_name": "Tokenizer", "config": config}))
    assert texts_to_sequences(tok, ["there hi"]) == [[2, 1]]
    assert tok.index_word == {1: "hi", 2: "there"}


def test_failed_save_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "tok.json"
    save_text_tokenizer(fitted(["old"]), path)
    before = path.read_text()

    def broken_replace(source, target):
        raise OSError("disk full")
    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        save_text_tokenizer(fitted(["new words"]), path)
    assert path.read_text() == before
    assert os.listdir(tmp_path) == ["tok.json"]


def test_load_refuses_pickles_and_garbage(tmp_path):
    pickled = tmp_path / "tokenizer"
    pickled.write_bytes(pickle.dumps({"word_index": {}}))
    with pytest.raises(ValueError, match="JSON"):
        load_text_tokenizer(pickled)
    garbage = tmp_path / "garbage.json"
    garbage.write_text('{"class_name": "Model", "config": {}}')
    with pytest.raises(ValueError, match="tokenizer"):
        load_text_tokenizer(garbage)
    with pytest.raises(TypeError):
        save_text_tokenizer("not a tokenizer", tmp_path / "x.json")


# hashing --------------------------------------------------------------------------------------

def md5_index(word, n):
    return int(hashlib.md5(word.encode()).hexdigest(), 16) % (n - 1) + 1


def test_hashing_trick_defaults_to_md5():
    words = ["the", "cat", "sat"]
    expected = [md5_index(w, 10) for w in words]
    assert text_hashing_trick("The cat, sat!", 10) == expected
    assert text_hashing_trick("The cat, sat!", 10, hash_function="md5") == expected
    assert text_one_hot("The cat, sat!", 10) == expected
    assert all(1 <= i <= 9 for i in text_one_hot("a b c d e f g h i j k l m", 10))


def test_hashing_trick_custom_function_and_pipe():
    assert text_hashing_trick("aa bbb c", 3, hash_function=len) == [1, 2, 2]
    assert "aa bbb" | text_hashing_trick(5, hash_function=len) == [3, 4]


def test_default_hash_is_stable_across_interpreter_sessions():
    code = "from kerasr.preprocessing.text import one_hot; print(one_hot('stable words here', 1000))"
    outputs = set()
    for seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                                text=True, check=True, cwd=os.path.dirname(os.path.dirname(__file__)))
        outputs.add(result.stdout.strip())
    assert len(outputs) == 1


# errors ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("num_words", [0, -3, 2.5, True])
def test_bad_num_words(num_words):
    with pytest.raises(ValueError, match="num_words"):
        text_tokenizer(num_words=num_words)


@pytest.mark.parametrize("n", [0, 1, -5])
def test_bad_hash_space(n):
    with pytest.raises(ValueError, match="`n`"):
        text_hashing_trick("a b", n)


def test_non_text_input_is_a_clear_error():
    tok = fitted()
    with pytest.raises(TypeError, match="texts"):
        texts_to_sequences(tok, [3, 4])
    with pytest.raises(TypeError, match="tokenizer"):
        texts_to_sequences(SAMPLES, SAMPLES)
    with pytest.raises(TypeError, match="string"):
        text_to_word_sequence(42)


def test_tokenizer_class_matches_the_verbs():
    tok = Tokenizer(num_words=4)
    tok.fit_on_texts(SAMPLES)
    assert tok.texts_to_sequences(SAMPLES) == texts_to_sequences(fitted(num_words=4), SAMPLES)


def test_fit_on_an_integer_matrix_counts_documents():
    tok = text_tokenizer(num_words=4)
    fit_text_tokenizer(tok, np.array([[1, 2], [2, 2]]))
    assert tok.document_count == 2 and dict(tok.index_docs) == {1: 1, 2: 2}
