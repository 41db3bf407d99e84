"""The encoded corpus: every kept token as an int32 vocabulary id, with sentence offsets.

A corpus is read, counted and encoded in one pass over the text (see ``text.encoder``);
every epoch then runs over these arrays, so the text is never read twice and a one-shot
generator is enough.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_SENTENCE_LENGTH = 10_000


@dataclass
class Corpus:
    """Token ids and the sentence boundaries between them, and each line's labels when the
    corpus was read for a line-level model.

    ``ids[offsets[i]:offsets[i + 1]]`` is sentence ``i``; a line longer than the maximum
    sentence length was split into consecutive sentences of that length, unless the corpus
    keeps lines whole. A labelled corpus (``text.reader.read_labelled_corpus``) keeps every
    non-blank line whole as one sentence, even one left with no words, and
    ``labels[label_offsets[i]:label_offsets[i + 1]]`` are line ``i``'s label ids (int32 into
    the label vocabulary, in the order they stand in the line; ``label_offsets`` int64 of
    ``n_sentences + 1``). Both are None for a corpus without labels.
    """

    ids: np.ndarray
    offsets: np.ndarray
    labels: np.ndarray | None = None
    label_offsets: np.ndarray | None = None

    @property
    def n_tokens(self) -> int:
        return int(self.offsets[-1]) if len(self.offsets) else 0

    @property
    def n_sentences(self) -> int:
        return max(len(self.offsets) - 1, 0)

    def chunks(self, target_tokens: int) -> np.ndarray:
        """Sentence indices that cut the corpus into chunks of about ``target_tokens`` tokens.

        Returns boundaries ``b`` (int64): chunk ``k`` holds sentences ``b[k]:b[k+1]``.
        Chunks are the unit of work handed to training threads.
        """
        n = self.n_tokens
        n_chunks = max(1, -(-n // max(1, target_tokens)))
        marks = np.linspace(0, n, n_chunks + 1)[1:-1]
        cuts = np.searchsorted(self.offsets, marks, side="left")
        bounds = np.unique(np.concatenate(([0], cuts, [self.n_sentences])))
        return bounds.astype(np.int64)


@dataclass
class ReadStats:
    """What reading the text found, for reports and error messages."""

    source: str
    raw_tokens: int = 0
    lines: int = 0
    types: int = 0
    invalid_utf8: int = 0
    first_invalid: str = ""

    def warnings(self) -> list[str]:
        """One line per problem worth telling the user about."""
        out = []
        if self.invalid_utf8:
            out.append(
                f"{self.first_invalid}: {self.invalid_utf8} invalid UTF-8 sequence(s) in the "
                "input were replaced by U+FFFD (this is the first)"
            )
        return out
