"""What one request may ask of the service, bounded so that no request can take the
server's memory or time: configurable, with defaults that fit interactive use."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """Bounds on one request."""

    max_body_bytes: int = 1 << 20
    """Request bodies larger than this are refused (413) before they are read whole."""
    max_batch: int = 1000
    """Items (words, pairs, sentences, texts) in one request."""
    max_k: int = 1000
    """Neighbours, answers or labels asked for."""
    max_text_chars: int = 10_000
    """Characters of one sentence or text (and of one word)."""
    max_query_words: int = 100
    """Positive plus negative words of one neighbour query."""

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}
