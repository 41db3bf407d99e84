"""Counting and encoding a stream of text blocks into token-type ids in one pass.

The compiled scanner (``kernels.scan``) does the per-byte work; this class owns its arrays,
grows them when the scanner asks, carries a partial token over from one block to the next,
and at the end turns the counted types into a frequency-sorted vocabulary and an encoded
corpus.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import BinaryIO

import numpy as np

from wordspace.corpus import Corpus, ReadStats
from wordspace.errors import InputError
from wordspace.kernels import scan as k
from wordspace.kernels.numtext import gather_ranges
from wordspace.vocab import Vocabulary

BLOCK_BYTES = 8 << 20
_SNIFF_BYTES = 8192


def _whitespace_classes() -> np.ndarray:
    classes = np.full(256, k.TOKEN, dtype=np.uint8)
    for byte in b" \t\v\f\r\x00":
        classes[byte] = k.SEPARATOR
    classes[ord("\n")] = k.LINE_END
    return classes


TEXT_CLASSES = _whitespace_classes()
"""Tokens are separated by ASCII whitespace (and NUL) as in word2vec and fastText; a newline
ends a sentence."""


def _grown(array: np.ndarray, used: int, fill: int | None = None) -> np.ndarray:
    bigger = np.empty(max(2 * len(array), 16), dtype=array.dtype)
    bigger[:used] = array[:used]
    if fill is not None:
        bigger[used:] = fill
    return bigger


def _fill(stream: BinaryIO, view: memoryview) -> int:
    got = 0
    while got < len(view):
        n = stream.readinto(view[got:])
        if not n:
            break
        got += n
    return got


class CorpusEncoder:
    """Accumulates token counts and type ids over any number of sources."""

    def __init__(self, byte_classes: np.ndarray = TEXT_CLASSES) -> None:
        self.byte_classes = byte_classes
        self.state = np.zeros(k.STATE_SIZE, dtype=np.int64)
        self.table = np.full((1 << 16, 2), -1, dtype=np.int64)
        self.type_offsets = np.zeros((1 << 15) + 1, dtype=np.int64)
        self.counts = np.zeros(1 << 15, dtype=np.int64)
        self.arena = np.empty(1 << 20, dtype=np.uint8)
        self.ids = np.empty(1 << 20, dtype=np.int32)
        self.line_ends = np.empty(1 << 16, dtype=np.int64)
        self.invalid_utf8 = 0
        self.first_invalid = ""

    def _grow(self, status: int) -> None:
        st = self.state
        if status == k.GROW_TABLE:
            self.table = np.full((2 * len(self.table), 2), -1, dtype=np.int64)
            k.rehash(self.table, self.type_offsets, self.arena, st[k.N_TYPES])
        elif status == k.GROW_ARENA:
            self.arena = _grown(self.arena, st[k.ARENA_USED])
        elif status == k.GROW_TYPES:
            n = st[k.N_TYPES]
            self.counts = _grown(self.counts, n, fill=0)
            offsets = np.zeros(2 * len(self.type_offsets) - 1, dtype=np.int64)
            offsets[: n + 1] = self.type_offsets[: n + 1]
            self.type_offsets = offsets
        elif status == k.GROW_LINES:
            self.line_ends = _grown(self.line_ends, st[k.N_LINES])
        elif status == k.GROW_IDS:
            self.ids = _grown(self.ids, st[k.N_IDS])

    def _scan(self, block: np.ndarray, end: int, final: bool) -> None:
        while True:
            status = k.scan(
                block,
                end,
                final,
                self.byte_classes,
                self.state,
                self.table,
                self.type_offsets,
                self.arena,
                self.counts,
                self.ids,
                self.line_ends,
            )
            if status == k.DONE:
                return
            self._grow(status)

    def _begin_source(self) -> int:
        self.state[k.LINE_NO] = 0
        self.state[k.FIRST_INVALID_LINE] = -1
        return int(self.state[k.INVALID_SEQUENCES])

    def _end_source(self, name: str, invalid_before: int) -> None:
        invalid = int(self.state[k.INVALID_SEQUENCES])
        if invalid > invalid_before and not self.first_invalid:
            self.first_invalid = f"{name}:{self.state[k.FIRST_INVALID_LINE]}"
        self.invalid_utf8 = invalid

    def feed_stream(self, stream: BinaryIO, name: str, block_bytes: int = BLOCK_BYTES) -> None:
        """Read a whole byte stream; a partial token at a block's end is carried over."""
        invalid_before = self._begin_source()
        buf = bytearray(block_bytes)
        carry = 0
        first = True
        while True:
            got = _fill(stream, memoryview(buf)[carry:])
            end = carry + got
            final = carry + got < len(buf)
            if first:
                first = False
                if buf.find(b"\x00", 0, min(end, _SNIFF_BYTES)) >= 0:
                    raise InputError(
                        f"{name}: looks like binary data, not UTF-8 text (NUL bytes near "
                        "the start); give a plain or compressed text file"
                    )
            block = np.frombuffer(buf, dtype=np.uint8)
            self.state[k.POS] = 0
            self._scan(block, end, final)
            pos = int(self.state[k.POS])
            del block
            if final:
                break
            carry = end - pos
            buf[:carry] = buf[pos:end]
            if carry == len(buf):
                buf.extend(bytes(len(buf)))
        self._end_source(name, invalid_before)

    def feed_blocks(self, blocks: Iterable[bytes], name: str) -> None:
        """Scan blocks that each end at a sentence boundary (no token spans two blocks)."""
        invalid_before = self._begin_source()
        for data in blocks:
            block = np.frombuffer(bytearray(data), dtype=np.uint8)
            self.state[k.POS] = 0
            self._scan(block, len(block), True)
        self._end_source(name, invalid_before)

    @property
    def raw_tokens(self) -> int:
        return int(self.state[k.N_IDS])

    @property
    def n_types(self) -> int:
        return int(self.state[k.N_TYPES])

    def stats(self, source: str) -> ReadStats:
        return ReadStats(
            source=source,
            raw_tokens=self.raw_tokens,
            lines=int(self.state[k.N_LINES]),
            types=self.n_types,
            invalid_utf8=self.invalid_utf8,
            first_invalid=self.first_invalid,
        )

    def type_counts(self) -> np.ndarray:
        return self.counts[: self.n_types]

    def finish(
        self, min_count: int, max_vocab_size: int | None, max_sentence_length: int
    ) -> tuple[Vocabulary, Corpus]:
        """Sort types by count (ties: first seen first), keep the frequent ones, and encode.

        The encoder's id buffer becomes the corpus, so the encoder must not be fed again.
        """
        counts = self.type_counts()
        order = np.argsort(-counts, kind="stable")
        kept = order[counts[order] >= min_count]
        if max_vocab_size is not None:
            kept = kept[:max_vocab_size]
        remap = np.full(len(counts), -1, dtype=np.int32)
        remap[kept] = np.arange(len(kept), dtype=np.int32)
        blob, offsets = gather_ranges(
            self.arena, self.type_offsets[kept], self.type_offsets[kept + 1]
        )
        vocab = Vocabulary(blob, offsets, counts[kept].copy())
        n_kept, sentence_offsets = k.encode_sentences(
            self.ids,
            self.state[k.N_IDS],
            self.line_ends,
            self.state[k.N_LINES],
            remap,
            max_sentence_length,
        )
        corpus = Corpus(self.ids[:n_kept], sentence_offsets)
        return vocab, corpus
