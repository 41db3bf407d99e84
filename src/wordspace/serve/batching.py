"""Neighbour queries that arrive together in one worker are answered by one search.

An exact search reads the whole matrix whatever the number of queries it carries (8 queries
cost about 1.5x one at 1M x 300), and the approximate index answers a batch faster per query
than one at a time; a server's concurrent requests, each searching alone, would read the
matrix once per request. The first request finds no search running and leads: it answers
what is waiting, batch after batch, until nothing is; requests arriving meanwhile wait for
their share. A lone request is searched at once, without waiting for company.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np

from wordspace.vectors import Vectors

MOST_PER_SEARCH = 64
"""The most queries one search carries (past 8 or so the arithmetic, not the read, costs)."""


@dataclass
class _Query:
    vector: np.ndarray
    k: int
    exclude: list[int]
    exact: bool
    done: threading.Event = field(default_factory=threading.Event)
    rows: np.ndarray | None = None
    scores: np.ndarray | None = None
    error: BaseException | None = None


class NeighbourBatcher:
    """Batched ``Vectors.nearest`` for the concurrent requests of one process (``searches``
    counts the searches run: fewer than the queries when requests were batched)."""

    def __init__(self, vectors: Vectors, most: int = MOST_PER_SEARCH) -> None:
        self.vectors = vectors
        self.most = most
        self._lock = threading.Lock()
        self._waiting: list[_Query] = []
        self._leading = False
        self.searches = 0

    def nearest(
        self, vector: np.ndarray, k: int, exclude: list[int], exact: bool
    ) -> tuple[np.ndarray, np.ndarray]:
        """(rows, scores) of the ``k`` nearest rows of one query vector, as
        ``Vectors.nearest`` gives them, never one of the ``exclude`` rows."""
        query = _Query(np.asarray(vector, dtype=np.float32), k, list(exclude), exact)
        with self._lock:
            self._waiting.append(query)
            lead = not self._leading
            self._leading = True
        if lead:
            self._lead()
        query.done.wait()
        if query.error is not None:
            raise query.error
        assert query.rows is not None and query.scores is not None
        return query.rows, query.scores

    def _lead(self) -> None:
        while True:
            with self._lock:
                if not self._waiting:
                    self._leading = False
                    return
                exact = self._waiting[0].exact
                batch = [q for q in self._waiting if q.exact == exact][: self.most]
                chosen = {id(q) for q in batch}
                self._waiting = [q for q in self._waiting if id(q) not in chosen]
            self._search(batch, exact)

    def _search(self, batch: list[_Query], exact: bool) -> None:
        try:
            rows, scores = self.vectors.nearest(
                np.stack([q.vector for q in batch]), max(q.k for q in batch),
                exclude=[q.exclude for q in batch], exact=exact,
            )  # fmt: skip
            self.searches += 1
            for i, query in enumerate(batch):
                query.rows, query.scores = rows[i, : query.k], scores[i, : query.k]
        except BaseException as exc:  # every waiting request gets the error, none hangs
            for query in batch:
                query.error = exc
        finally:
            for query in batch:
                query.done.set()
