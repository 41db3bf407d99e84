"""`export --matrix`: which matrix goes out is named, and each row says what it holds; for a
model trained by Facebook's fastText the matrices equal what fastText itself gives."""

from __future__ import annotations

import numpy as np
import pytest

import wordspace
from wordspace.formats import load_model
from wordspace.formats.word2vec import read_word2vec
from wordspace.matrices import model_rows

from .conftest import TINY_SENTENCES, train_in_fresh_process
from .test_cli import wordspace as run_cli

FASTTEXT_PARAMS = {"dim": 8, "minCount": 1, "epoch": 1, "bucket": 1000, "thread": 1}


def _read(path):
    """(row names, matrix) of an exported word2vec-binary file, read by gensim."""
    from gensim.models import KeyedVectors

    kv = KeyedVectors.load_word2vec_format(str(path), binary=True)
    return list(kv.index_to_key), kv.vectors


@pytest.fixture(scope="module")
def fasttext_skipgram(enwiki_lines, tmp_path_factory):
    out = tmp_path_factory.mktemp("ft") / "skipgram.bin"
    params = {**FASTTEXT_PARAMS, "model": "skipgram", "verbose": 0}
    return out, train_in_fresh_process("unsupervised", enwiki_lines(200), out, **params)


@pytest.fixture(scope="module")
def fasttext_classifier(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ft-sup")
    train = folder / "train.txt"
    train.write_text("".join(f"__label__{i % 3} {s}\n" for i, s in enumerate(TINY_SENTENCES * 20)))
    out = folder / "classifier.bin"
    params = {**FASTTEXT_PARAMS, "wordNgrams": 2, "verbose": 0}
    return out, train_in_fresh_process("supervised", train, out, **params)


def test_output_of_a_fasttext_model_equals_its_get_output_matrix(fasttext_skipgram, tmp_path):
    path, ft = fasttext_skipgram
    result = run_cli("export", path, tmp_path / "out.bin", "--matrix", "output")
    assert result.returncode == 0, result.stderr
    assert "output rows, one per word" in result.stderr
    names, matrix = _read(tmp_path / "out.bin")
    assert names == ft.get_words()
    np.testing.assert_array_equal(matrix, ft.get_output_matrix())


def test_vectors_of_a_fasttext_model_equal_its_vec_file(fasttext_skipgram, tmp_path):
    path, ft = fasttext_skipgram
    wordspace.export(str(path), tmp_path / "vectors.bin", matrix="vectors")
    names, matrix = _read(tmp_path / "vectors.bin")
    assert names == ft.get_words()
    expected = np.stack([ft.get_word_vector(word) for word in names])
    np.testing.assert_allclose(matrix, expected, rtol=0, atol=1e-6)


def test_input_is_the_word_rows_then_every_bucket_row_labelled(fasttext_skipgram, tmp_path):
    path, ft = fasttext_skipgram
    result = run_cli("export", path, tmp_path / "input.txt", "--matrix", "input")
    assert result.returncode == 0, result.stderr
    read = read_word2vec(tmp_path / "input.txt")
    words = ft.get_words()
    assert read.words == [*words, *(f"<bucket:{b}>" for b in range(1000))]
    np.testing.assert_allclose(read.matrix, ft.get_input_matrix(), rtol=0, atol=1e-6)


def test_classifier_output_rows_are_named_by_label(fasttext_classifier, tmp_path):
    path, ft = fasttext_classifier
    rows = model_rows(load_model(path), "output")
    assert rows.name_list() == ft.get_labels()
    assert rows.holds == "output rows, one per label"
    np.testing.assert_array_equal(rows.dense(), ft.get_output_matrix())
    grams = model_rows(load_model(path), "input")
    assert "word n-gram bucket rows" in grams.holds
    np.testing.assert_array_equal(grams.dense(), ft.get_input_matrix())


@pytest.fixture(scope="module")
def word2vec_hs(tiny_corpus):
    return wordspace.Word2Vec(loss="hs", dim=8, epochs=1, min_count=1, workers=1).fit(
        str(tiny_corpus)
    )


def test_hierarchical_softmax_output_rows_are_tree_nodes_not_words(word2vec_hs, tmp_path):
    word2vec_hs.export(tmp_path / "out.txt", matrix="output")
    read = read_word2vec(tmp_path / "out.txt")
    n_words = len(word2vec_hs.vectors)
    assert read.words == [f"<node:{i}>" for i in range(n_words - 1)]
    np.testing.assert_allclose(read.matrix, word2vec_hs.output_weights, atol=1e-6)
    assert "inner node of the Huffman tree" in word2vec_hs.export_rows("output").holds


def test_a_saved_word2vec_model_exports_its_output_rows_from_the_folder(tiny_model, tmp_path):
    result = run_cli("export", tiny_model, tmp_path / "out.vec", "--matrix", "output")
    assert result.returncode == 0, result.stderr
    assert "(fasttext-vec," in result.stderr
    read = read_word2vec(tmp_path / "out.vec")
    vectors = wordspace.load(tiny_model)
    assert read.words == vectors.words
    stored = np.load(tiny_model / "output.npy")
    np.testing.assert_allclose(read.matrix, stored, atol=1e-6)


def test_vector_files_have_no_output_matrix_and_say_so(tiny_model, tmp_path):
    text = tmp_path / "v.txt"
    assert run_cli("export", tiny_model, text, "--matrix", "vectors").returncode == 0
    result = run_cli("export", text, tmp_path / "out.txt", "--matrix", "output")
    assert result.returncode == 2
    assert "holds no output matrix" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out.txt").exists()


def test_matrix_export_refuses_whole_model_formats(tiny_model, tmp_path):
    result = run_cli("export", tiny_model, tmp_path / "m", "--matrix", "input", "-f", "native")
    assert result.returncode == 2
    assert "--matrix writes one matrix as" in result.stderr


def test_export_without_matrix_still_writes_the_whole_model(fasttext_skipgram, tmp_path):
    path, _ = fasttext_skipgram
    result = run_cli("export", path, tmp_path / "copy.bin")
    assert result.returncode == 0, result.stderr
    copy = load_model(tmp_path / "copy.bin")
    np.testing.assert_array_equal(copy.output, load_model(path).output)


def test_sent2vec_input_rows_are_words_then_word_ngram_buckets(tiny_corpus):
    model = wordspace.Sent2Vec(dim=8, epochs=1, min_count=1, bucket=500, workers=1)
    model.fit(str(tiny_corpus))
    rows = model.export_rows("input")
    names = rows.name_list()
    nwords = model.model.nwords
    assert names[nwords:] == [f"<bucket:{b}>" for b in range(500)]
    assert rows.shape == (nwords + 500, 8)
    assert "word n-gram bucket rows" in rows.holds
    np.testing.assert_array_equal(rows.dense(), model.model.dense_input(0, nwords + 500))


def test_row_names_stay_right_when_blocks_cut_the_words_and_buckets(
    fasttext_skipgram, tmp_path, monkeypatch
):
    from wordspace.formats import word2vec

    path, ft = fasttext_skipgram
    monkeypatch.setattr(word2vec, "_row_blocks", lambda n, row_bytes: range(0, n, 7))
    wordspace.export(str(path), tmp_path / "input.txt", matrix="input")
    read = read_word2vec(tmp_path / "input.txt")
    assert read.words == [*ft.get_words(), *(f"<bucket:{b}>" for b in range(1000))]
    np.testing.assert_allclose(read.matrix, ft.get_input_matrix(), rtol=0, atol=1e-6)


def test_a_matrix_is_not_written_as_ftz(tiny_model, tmp_path):
    result = run_cli("export", tiny_model, tmp_path / "m.ftz", "--matrix", "vectors")
    assert result.returncode == 2
    assert "not .ftz" in result.stderr
