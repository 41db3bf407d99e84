"""Hand-offs to PyTorch and gensim, checked against the real libraries."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from gensim.models import KeyedVectors
from gensim.models.fasttext import FastTextKeyedVectors

import wordspace
from wordspace import Vectors
from wordspace.errors import ParameterError

QUERIES = ["city", "war", "music", "french", "water", "king"]


@pytest.fixture(scope="module")
def word_model(small_word_model):
    return wordspace.load(small_word_model)


@pytest.fixture(scope="module")
def subword_vectors(enwiki_lines):
    model = wordspace.FastText(dim=16, epochs=1, min_count=3, bucket=20_000, workers=1)
    return model.fit(str(enwiki_lines(1000))).vectors


def test_torch_embedding_lookups_equal_our_vectors(word_model):
    embedding, index = word_model.to_torch()
    rows = torch.tensor([index[w] for w in QUERIES])
    np.testing.assert_array_equal(embedding(rows).numpy(), word_model[QUERIES])
    assert not embedding.weight.requires_grad


def test_frozen_torch_embedding_shares_the_mapped_matrix(word_model):
    embedding, _ = word_model.to_torch(freeze=True)
    assert embedding.weight.data_ptr() == word_model.matrix.ctypes.data


def test_trainable_embedding_over_a_read_only_mapping_is_a_copy(word_model):
    assert not word_model.matrix.flags.writeable
    embedding, _ = word_model.to_torch(freeze=False)
    assert embedding.weight.requires_grad
    assert embedding.weight.data_ptr() != word_model.matrix.ctypes.data
    loss = embedding(torch.tensor([0, 1])).sum()
    loss.backward()
    with torch.no_grad():
        embedding.weight -= 0.1 * embedding.weight.grad
    assert not np.array_equal(embedding.weight.detach().numpy()[0], word_model.matrix[0])


def test_vectors_come_back_from_torch_with_their_words(word_model):
    embedding, index = word_model.to_torch()
    back = Vectors.from_torch(embedding, index)
    assert back.words == word_model.words
    np.testing.assert_array_equal(back.matrix, word_model.matrix)
    with pytest.raises(ParameterError, match="words for an embedding"):
        Vectors.from_torch(embedding, word_model.words[:-1])


def test_gensim_most_similar_equals_ours(word_model):
    kv = word_model.to_gensim()
    assert type(kv) is KeyedVectors
    assert kv.index_to_key == word_model.words
    assert kv.get_vecattr("city", "count") == word_model.counts[word_model.index("city")]
    for word in QUERIES:
        ours = word_model.most_similar(word, topn=10)
        theirs = kv.most_similar(word, topn=10)
        np.testing.assert_allclose([s for _, s in theirs], [s for _, s in ours], atol=1e-5)
        scores = [s for _, s in ours]
        for i, ((mine, score), (gensims, _)) in enumerate(zip(ours, theirs, strict=True)):
            gaps = [abs(score - other) for j, other in enumerate(scores) if j != i]
            if min(gaps) > 1e-5:  # words whose cosines tie to float32 rounding may swap
                assert gensims == mine


def test_vectors_come_back_from_gensim_unchanged(word_model, tmp_path):
    kv = word_model.to_gensim()
    kv.save(str(tmp_path / "kv"))
    back = Vectors.from_gensim(KeyedVectors.load(str(tmp_path / "kv")))
    assert back.words == word_model.words
    np.testing.assert_array_equal(back.matrix, word_model.matrix)
    np.testing.assert_array_equal(back.counts, word_model.counts)


def test_subword_vectors_go_to_gensim_with_working_unseen_words(subword_vectors):
    kv = subword_vectors.to_gensim()
    assert isinstance(kv, FastTextKeyedVectors)
    for unseen in ["cityscapes", "warmongering", "xqzt"]:
        assert unseen not in subword_vectors
        np.testing.assert_allclose(kv[unseen], subword_vectors[unseen], atol=1e-6)
    ours = [w for w, _ in subword_vectors.most_similar("city", topn=10)]
    assert [w for w, _ in kv.most_similar("city", topn=10)] == ours
    kv.adjust_vectors()  # gensim recomposes each word from the recovered word rows
    words = [w for w in subword_vectors.words[:200] if w != "</s>"]
    np.testing.assert_allclose(kv[words], subword_vectors[words], atol=1e-5)


def test_subword_vectors_come_back_from_gensim_with_their_ngrams(subword_vectors):
    back = Vectors.from_gensim(subword_vectors.to_gensim())
    np.testing.assert_array_equal(back.matrix, subword_vectors.matrix)
    np.testing.assert_allclose(back["cityscapes"], subword_vectors["cityscapes"], atol=1e-6)


def test_vectors_from_torch_do_not_follow_later_training(word_model):
    embedding, index = word_model.to_torch(freeze=False)
    back = Vectors.from_torch(embedding, index)
    with torch.no_grad():
        embedding.weight.zero_()
    np.testing.assert_array_equal(back.matrix, word_model.matrix)


def test_gensim_keys_that_are_not_strings_are_refused():
    kv = KeyedVectors(4)
    kv.add_vectors([1, 2], np.ones((2, 4), dtype=np.float32))
    with pytest.raises(ParameterError, match="key 0 is a int"):
        Vectors.from_gensim(kv)
