"""Word models embed a sentence as the mean of its words' vectors, unseen words included
where the model has character n-grams."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from wordspace.formats import load_model
from wordspace.sentences import SentenceEmbedder
from wordspace.vectors import Vectors

SENT2VEC = Path(__file__).parent / "fixtures" / "sent2vec" / "model.bin"


def test_a_word_model_averages_the_vectors_of_known_words():
    rng = np.random.default_rng(0)
    vectors = Vectors.from_words(["a", "b", "c"], rng.normal(size=(3, 4)).astype(np.float32))
    embedder = SentenceEmbedder(vectors)
    got, counts = embedder.embed_text(np.frombuffer(b"a b\nzz c a\n\nzz\na </s> b\n", np.uint8))
    m = vectors.matrix
    np.testing.assert_allclose(got[0], (m[0] + m[1]) / 2, rtol=1e-6)
    np.testing.assert_allclose(got[1], (m[2] + m[0]) / 2, rtol=1e-6)
    assert not got[2].any() and not got[3].any()
    np.testing.assert_array_equal(got[4], m[0])  # a literal </s> ends the sentence
    assert counts.tolist() == [2, 2, 0, 0, 1]


def test_a_subword_model_gives_unseen_words_their_ngram_vectors():
    vectors = load_model(SENT2VEC).vectors()  # composed with character n-grams
    assert vectors.ngrams is not None
    embedder = SentenceEmbedder(vectors)
    got = embedder.embed(["zebra the", "the", "東京"])
    expected = (vectors["zebra"].astype(np.float64) + vectors["the"]) / 2
    np.testing.assert_allclose(got[0], expected, rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(got[1], vectors["the"])
    np.testing.assert_allclose(got[2], vectors["東京"], rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("workers", [1, 2])
def test_a_stream_embeds_as_its_lines_one_by_one(tmp_path, workers, monkeypatch):
    from wordspace import sentences

    embedder = SentenceEmbedder(load_model(SENT2VEC))
    lines = ["the state of alabama", "", "lincoln was president"] * 50
    file = tmp_path / "s.txt"
    file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setattr(sentences, "BLOCK_BYTES", 200)
    with open(file, "rb") as stream:
        batches = list(sentences.embed_stream(embedder, stream, workers))
    assert len(batches) > 3
    np.testing.assert_array_equal(np.concatenate([v for v, _ in batches]), embedder.embed(lines))


def test_a_batch_holds_a_bounded_number_of_vectors_whatever_the_lines(tmp_path, monkeypatch):
    from wordspace import sentences

    embedder = SentenceEmbedder(load_model(SENT2VEC))
    lines = ["the", "of the state", ""] * 20
    file = tmp_path / "short.txt"
    file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setattr(sentences, "BATCH_VALUES", 3 * embedder.dim)
    with open(file, "rb") as stream:
        batches = list(sentences.embed_stream(embedder, stream, 2))
    assert len(batches) == 20 and all(len(v) == 3 for v, _ in batches)
    np.testing.assert_array_equal(np.concatenate([v for v, _ in batches]), embedder.embed(lines))
