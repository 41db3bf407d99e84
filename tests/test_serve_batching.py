"""Concurrent neighbour queries of one server process share one search, and each gets what a
search of its own would have given."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

import wordspace
from wordspace.serve.batching import NeighbourBatcher


class SlowFirstSearch:
    """Vectors whose first search takes a while, so that the queries sent meanwhile wait."""

    def __init__(self, vectors, fail: bool = False) -> None:
        self.vectors = vectors
        self.fail = fail
        self.batches: list[int] = []

    def nearest(self, queries, topn, **options):
        self.batches.append(len(queries))
        if len(self.batches) == 1:
            time.sleep(0.3)
        if self.fail:
            raise RuntimeError("search failed")
        return self.vectors.nearest(queries, topn, **options)


def _ask_concurrently(batcher, queries, ks, excludes):
    answers = [None] * len(queries)

    def ask(i):
        try:
            answers[i] = batcher.nearest(queries[i], ks[i], excludes[i], True)
        except RuntimeError as exc:
            answers[i] = exc

    first = threading.Thread(target=ask, args=(0,))
    first.start()
    time.sleep(0.1)
    others = [threading.Thread(target=ask, args=(i,)) for i in range(1, len(queries))]
    for thread in others:
        thread.start()
    for thread in [first, *others]:
        thread.join(10)
    return answers


def test_queries_waiting_for_a_search_are_answered_by_one_search(small_word_model):
    vectors = wordspace.load(small_word_model)
    slow = SlowFirstSearch(vectors)
    batcher = NeighbourBatcher(slow)
    queries = np.asarray(vectors.matrix[:8])
    ks = [3, 5, 10, 1, 4, 7, 2, 6]
    excludes = [[i] for i in range(8)]
    answers = _ask_concurrently(batcher, queries, ks, excludes)
    assert slow.batches == [1, 7]
    for i, (rows, scores) in enumerate(answers):
        alone_rows, alone_scores = vectors.nearest(queries[i : i + 1], ks[i], exclude=[[i]])
        assert rows.tolist() == alone_rows[0].tolist()
        np.testing.assert_allclose(scores, alone_scores[0], rtol=1e-6)


def test_a_failed_search_fails_every_query_it_carried_and_none_hangs(small_word_model):
    vectors = wordspace.load(small_word_model)
    batcher = NeighbourBatcher(SlowFirstSearch(vectors, fail=True))
    answers = _ask_concurrently(batcher, np.asarray(vectors.matrix[:4]), [3] * 4, [[]] * 4)
    assert all(isinstance(answer, RuntimeError) for answer in answers)
    with pytest.raises(RuntimeError, match="search failed"):
        batcher.nearest(np.asarray(vectors.matrix[0]), 3, [], True)
