"""Vocabulary lookups and what training derives from counts."""

from __future__ import annotations

import heapq
import itertools

import numpy as np
import pytest

from wordspace.text.reader import read_corpus
from wordspace.vocab import (
    Vocabulary,
    alias_table,
    huffman_tree,
    keep_probabilities,
    noise_distribution,
)


def test_min_count_and_max_vocab_size_keep_the_most_frequent_words():
    text = ["a a a a b b b c c d"]
    vocab, corpus, _ = read_corpus(text, min_count=2)
    assert vocab.words == ["a", "b", "c"]
    vocab, corpus, _ = read_corpus(text, min_count=1, max_vocab_size=2)
    assert vocab.words == ["a", "b"]
    assert corpus.n_tokens == 7


def test_lookup_finds_every_word_and_nothing_else():
    words = [f"w{i}" for i in range(5000)] + ["", "é", "日本"]
    vocab = Vocabulary.from_words(words)
    assert vocab.indices(words).tolist() == list(range(len(words)))
    assert vocab.index("missing") == -1
    assert "日本" in vocab and "w5000" not in vocab
    assert vocab.word(5001) == "é"
    assert vocab.words == words


def test_prefix_search_gives_the_most_frequent_matches_first():
    words = ["the", "thin", "a", "then", "théâtre", "th", "other"]
    vocab = Vocabulary.from_words(words)
    found = vocab.with_prefix("th", 10)
    assert [words[i] for i in found] == ["the", "thin", "then", "théâtre", "th"]
    assert [words[i] for i in vocab.with_prefix("th", 2)] == ["the", "thin"]
    assert [words[i] for i in vocab.with_prefix("thé", 5)] == ["théâtre"]
    assert len(vocab.with_prefix("", 3)) == 3
    assert len(vocab.with_prefix("zz", 3)) == 0
    assert len(vocab.with_prefix("th", 0)) == 0


def test_duplicate_words_are_refused():
    with pytest.raises(ValueError, match="twice"):
        Vocabulary.from_words(["a", "b", "a"])


def _huffman_cost(counts):
    heap = list(counts)
    heapq.heapify(heap)
    cost = 0
    while len(heap) > 1:
        merged = heapq.heappop(heap) + heapq.heappop(heap)
        cost += merged
        heapq.heappush(heap, merged)
    return cost


def test_huffman_codes_are_optimal_prefix_free_paths_through_inner_nodes():
    counts = np.sort(np.random.default_rng(1).integers(1, 10_000, 300))[::-1].astype(np.int64)
    offsets, codes, points = huffman_tree(counts)
    lengths = np.diff(offsets)
    assert int((lengths * counts).sum()) == _huffman_cost(counts.tolist())
    as_strings = ["".join(map(str, codes[a:b])) for a, b in itertools.pairwise(offsets)]
    assert len(set(as_strings)) == len(counts)
    for i, code in enumerate(as_strings):
        for j, other in enumerate(as_strings):
            assert i == j or not other.startswith(code)
    assert points.min() >= 0 and points.max() == len(counts) - 2
    assert all(points[a] == len(counts) - 2 for a in offsets[:-1])
    assert lengths[0] <= lengths[-1]


def test_alias_table_reproduces_the_target_distribution_exactly():
    weights = np.random.default_rng(2).random(1000) ** 3
    prob, alias = alias_table(weights)
    n = len(weights)
    rebuilt = prob.astype(np.float64) / n
    np.add.at(rebuilt, alias, (1.0 - prob.astype(np.float64)) / n)
    np.testing.assert_allclose(rebuilt, weights / weights.sum(), rtol=1e-5, atol=1e-9)


def test_noise_distribution_follows_counts_to_the_power():
    counts = np.array([1000, 100, 10, 1], dtype=np.int64)
    prob, alias = noise_distribution(counts, 0.75)
    rebuilt = prob.astype(np.float64) / 4
    np.add.at(rebuilt, alias, (1.0 - prob) / 4)
    expected = counts**0.75 / (counts**0.75).sum()
    np.testing.assert_allclose(rebuilt, expected, rtol=1e-5)


def test_keep_probabilities_follow_the_word2vec_formula():
    counts = np.array([1_000_000, 10_000, 100, 1], dtype=np.int64)
    keep = keep_probabilities(counts, 1e-3)
    t = 1e-3 * counts.sum()
    expected = np.minimum((np.sqrt(counts / t) + 1) * t / counts, 1.0)
    np.testing.assert_allclose(keep, expected, rtol=1e-6)
    assert keep[0] < 0.1 and keep[-1] == 1.0
    assert np.all(keep_probabilities(counts, 0.0) == 1.0)
