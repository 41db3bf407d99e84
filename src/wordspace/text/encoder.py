"""Counting and encoding a stream of text blocks into token-type ids, on several threads.

The compiled scanner (``kernels.scan``) does the per-byte work. The input is cut into blocks
at token boundaries; each block is scanned on one of ``threads`` threads into that thread's
own table of token types (so scanners never wait for each other), while the next block is
being read or decompressed. At the end the tables are merged, the types are sorted into a
vocabulary (by count, ties by first occurrence in the text, whatever thread saw them), and
the blocks are encoded in order into one corpus.
"""

from __future__ import annotations

import errno
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from queue import SimpleQueue
from typing import BinaryIO

import numpy as np

from wordspace.corpus import Corpus, ReadStats
from wordspace.errors import InputError
from wordspace.hashing import table_capacity
from wordspace.kernels import lines as kl
from wordspace.kernels import scan as k
from wordspace.kernels.numtext import gather_ranges
from wordspace.vocab import Vocabulary

BLOCK_BYTES = 8 << 20
_SNIFF_BYTES = 8192
MAX_SCAN_THREADS = 4
"""Scanning threads at most, whatever is asked: each thread keeps its own table of nearly the
whole vocabulary (about 30 MB for the 300,000 types of 20M enwiki tokens), and reading is a
small part of a training run once it is split in two to four."""
MAX_TOKEN_BYTES = 64 << 20
"""The most bytes the reader buffers for one token (a run without whitespace): it holds a
whole token in memory, so without a bound an endless stream with no whitespace (stdin, a
pipe) would fill the memory. A token still open when the buffer reaches this size is refused
as not text; one that ends the input within a smaller buffer is read whole."""
_NO_SPLIT = np.iinfo(np.int64).max
"""The sentence length that no line reaches: lines are kept whole."""
_ORDER_SHIFT = 32
"""A type's first occurrence is recorded as block index << 32 plus its position in the
block, so blocks must hold fewer than 2**32 tokens (they hold a few million)."""


def _whitespace_classes() -> np.ndarray:
    classes = np.full(256, k.TOKEN, dtype=np.uint8)
    for byte in b" \t\v\f\r\x00":
        classes[byte] = k.SEPARATOR
    classes[ord("\n")] = k.LINE_END
    return classes


TEXT_CLASSES = _whitespace_classes()
"""Tokens are separated by ASCII whitespace (and NUL) as in word2vec and fastText; a newline
ends a sentence."""


def _grown(array: np.ndarray, used: int, size: int = 0, fill: int | None = None) -> np.ndarray:
    bigger = np.empty(max(2 * len(array), size, 16), dtype=array.dtype)
    bigger[:used] = array[:used]
    if fill is not None:
        bigger[used:] = fill
    return bigger


def _fill(stream: BinaryIO, view: memoryview) -> int:
    """Read into ``view`` until it is full or the stream ends. A non-blocking stream with no
    data ready is an error, not an end: taking it for one would cut the corpus short."""
    got = 0
    while got < len(view):
        n = stream.readinto(view[got:])
        if n is None:
            raise BlockingIOError(errno.EAGAIN, "non-blocking stream has no data ready")
        if not n:
            break
        got += n
    return got


class _TypeTable:
    """One scanning thread's token types: hash table, bytes, counts and first occurrences."""

    def __init__(self) -> None:
        self.table = np.full((1 << 16, 2), -1, dtype=np.int64)
        self.type_offsets = np.zeros((1 << 15) + 1, dtype=np.int64)
        self.counts = np.zeros(1 << 15, dtype=np.int64)
        self.first_seen = np.zeros(1 << 15, dtype=np.int64)
        self.arena = np.empty(1 << 20, dtype=np.uint8)
        self.n_types = 0
        self.arena_used = 0

    def grow(self, status: int) -> None:
        """Make room for what the scanner asked for (a ``GROW_*`` status)."""
        if status == k.GROW_ARENA:
            self.reserve(self.n_types, len(self.arena) + 1)
        else:
            self.reserve(self.n_types + 1, 0)

    def reserve(self, n_types: int, arena_bytes: int) -> None:
        """Make room for at least ``n_types`` types and ``arena_bytes`` bytes of them."""
        n = self.n_types
        if arena_bytes > len(self.arena):
            self.arena = _grown(self.arena, self.arena_used, arena_bytes)
        if n_types > len(self.counts):
            self.counts = _grown(self.counts, n, n_types, fill=0)
            self.first_seen = _grown(self.first_seen, n, n_types)
            self.type_offsets = _grown(self.type_offsets, n + 1, n_types + 1)
        if 2 * (n_types + 1) > self.table.shape[0]:
            self.table = np.full((table_capacity(n_types + 1), 2), -1, dtype=np.int64)
            k.rehash(self.table, self.type_offsets, self.arena, n)

    def merge(self, other: _TypeTable) -> np.ndarray:
        """Add ``other``'s types to this table; returns their ids here."""
        self.reserve(self.n_types + other.n_types, self.arena_used + other.arena_used)
        mapping = np.empty(other.n_types, dtype=np.int32)
        self.n_types, self.arena_used = k.merge_types(
            self.table, self.type_offsets, self.arena, self.counts, self.first_seen,
            self.n_types, self.arena_used, other.type_offsets, other.arena, other.counts,
            other.first_seen, other.n_types, mapping,
        )  # fmt: skip
        return mapping


@dataclass
class _ScannedBlock:
    """What scanning one block produced, in that thread's type ids."""

    source: int
    table: int
    ids: np.ndarray
    n_ids: int
    line_ends: np.ndarray
    newlines: int
    invalid: int
    first_invalid_line: int


class CorpusEncoder:
    """Accumulates token counts and type ids over any number of sources."""

    def __init__(
        self, byte_classes: np.ndarray = TEXT_CLASSES, threads: int = 1, keep_blank: bool = False
    ) -> None:
        self.byte_classes = byte_classes
        self.keep_blank = keep_blank
        self.threads = min(max(1, threads), MAX_SCAN_THREADS)
        self._tables = [_TypeTable() for _ in range(self.threads)]
        self._free_tables: SimpleQueue[int] = SimpleQueue()
        for index in range(self.threads):
            self._free_tables.put(index)
        self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="wordspace-scan")
        self._pending: list[Future[_ScannedBlock]] = []
        self._blocks: list[_ScannedBlock] = []
        self._sources: list[str] = []
        self._mappings: list[np.ndarray] | None = None

    def _scan_block(
        self, data: bytearray, end: int, final: bool, line_open: bool, index: int, source: int
    ) -> _ScannedBlock:
        """Scan ``data[:end]`` on a free type table (runs on a pool thread)."""
        table_index = self._free_tables.get()
        try:
            table = self._tables[table_index]
            block = np.frombuffer(data, dtype=np.uint8)
            state = np.zeros(k.STATE_SIZE, dtype=np.int64)
            state[k.N_TYPES] = table.n_types
            state[k.ARENA_USED] = table.arena_used
            state[k.LINE_OPEN] = line_open
            state[k.KEEP_BLANK] = self.keep_blank
            state[k.FIRST_INVALID_LINE] = -1
            state[k.ORDER_BASE] = index << _ORDER_SHIFT
            ids = np.empty(end // 2 + 1, dtype=np.int32)
            line_ends = np.empty(1024, dtype=np.int64)
            while True:
                status = k.scan(
                    block, end, final, self.byte_classes, state, table.table,
                    table.type_offsets, table.arena, table.counts, table.first_seen, ids,
                    line_ends,
                )  # fmt: skip
                table.n_types = int(state[k.N_TYPES])
                table.arena_used = int(state[k.ARENA_USED])
                if status == k.DONE:
                    break
                if status == k.GROW_LINES:
                    line_ends = _grown(line_ends, int(state[k.N_LINES]))
                elif status == k.GROW_IDS:
                    ids = _grown(ids, int(state[k.N_IDS]))
                else:
                    table.grow(status)
            return _ScannedBlock(
                source=source,
                table=table_index,
                ids=ids[: state[k.N_IDS]],
                n_ids=int(state[k.N_IDS]),
                line_ends=line_ends[: state[k.N_LINES]].copy(),
                newlines=int(state[k.LINE_NO]),
                invalid=int(state[k.INVALID_SEQUENCES]),
                first_invalid_line=int(state[k.FIRST_INVALID_LINE]),
            )
        finally:
            self._free_tables.put(table_index)

    def _submit(self, data: bytearray, end: int, final: bool, line_open: bool) -> None:
        """Queue a block for scanning; waits while enough blocks are in flight to keep every
        thread busy, so memory stays bounded."""
        index = len(self._pending)
        self._collect(index - self.threads)
        source = len(self._sources) - 1
        self._pending.append(
            self._pool.submit(self._scan_block, data, end, final, line_open, index, source)
        )

    def _collect(self, count: int | None = None) -> list[_ScannedBlock]:
        """The first ``count`` blocks (all submitted ones by default), in order, waiting for
        those still in flight."""
        count = len(self._pending) if count is None else count
        while len(self._blocks) < count:
            self._blocks.append(self._pending[len(self._blocks)].result())
        return self._blocks

    def feed_stream(self, stream: BinaryIO, name: str, block_bytes: int = BLOCK_BYTES) -> None:
        """Read a whole byte stream in blocks cut between tokens."""
        self._sources.append(name)
        buf = bytearray(block_bytes)
        carry = 0
        line_open = False
        first = True
        while True:
            end = carry + _fill(stream, memoryview(buf)[carry:])
            final = end < len(buf)
            if first:
                first = False
                if buf.find(b"\x00", 0, min(end, _SNIFF_BYTES)) >= 0:
                    raise InputError(
                        f"{name}: looks like binary data, not UTF-8 text (NUL bytes near "
                        "the start); give a plain or compressed text file"
                    )
            block = np.frombuffer(buf, dtype=np.uint8)
            cut = end if final else k.last_boundary(block, end, self.byte_classes)
            if cut == 0 and not final:
                del block
                if end >= MAX_TOKEN_BYTES:
                    raise InputError(self._token_too_long(name))
                buf.extend(bytes(len(buf)))
                carry = end
                continue
            if final:
                del block
                self._submit(buf, cut, final, line_open)
                return
            carry = end - cut
            following = bytearray(max(block_bytes, 2 * carry))
            following[:carry] = buf[cut:end]
            next_open = k.line_open_after(block, cut, self.byte_classes, line_open)
            del block
            self._submit(buf, cut, final, line_open)
            buf = following
            line_open = next_open

    def _token_too_long(self, name: str) -> str:
        """The message for a token over ``MAX_TOKEN_BYTES``, naming the line it starts on
        (the lines of the source's blocks scanned so far, plus one)."""
        source = len(self._sources) - 1
        line = 1 + sum(block.newlines for block in self._collect() if block.source == source)
        return (
            f"{name}:{line}: holds a token (bytes without whitespace) of more than "
            f"{MAX_TOKEN_BYTES >> 20} MiB; this is not text to train on"
        )

    def feed_blocks(self, blocks: Iterable[bytes], name: str) -> None:
        """Scan blocks that each end at a sentence boundary (no token spans two blocks)."""
        self._sources.append(name)
        for data in blocks:
            self._submit(bytearray(data), len(data), True, False)

    @property
    def raw_tokens(self) -> int:
        return sum(block.n_ids for block in self._collect())

    @property
    def n_types(self) -> int:
        return self._merged().n_types

    def _merged(self) -> _TypeTable:
        """The first thread's table with every other thread's types added to it."""
        self._collect()
        if self._mappings is None:
            main = self._tables[0]
            identity = np.arange(main.n_types, dtype=np.int32)
            self._mappings = [identity] + [main.merge(other) for other in self._tables[1:]]
            self._pool.shutdown()
        return self._tables[0]

    def _first_invalid(self) -> tuple[int, str]:
        """(invalid UTF-8 sequences, "file:line" of the first one)."""
        blocks = self._collect()
        total = sum(block.invalid for block in blocks)
        lines_before = [0] * len(self._sources)
        for block in blocks:
            if block.invalid:
                line = lines_before[block.source] + block.first_invalid_line
                return total, f"{self._sources[block.source]}:{line}"
            lines_before[block.source] += block.newlines
        return total, ""

    def stats(self, source: str) -> ReadStats:
        invalid, first_invalid = self._first_invalid()
        return ReadStats(
            source=source,
            raw_tokens=self.raw_tokens,
            lines=sum(len(block.line_ends) for block in self._collect()),
            types=self.n_types,
            invalid_utf8=invalid,
            first_invalid=first_invalid,
        )

    def type_counts(self) -> np.ndarray:
        table = self._merged()
        return table.counts[: table.n_types]

    def finish(
        self, min_count: int, max_vocab_size: int | None, max_sentence_length: int | None
    ) -> tuple[Vocabulary, Corpus]:
        """Sort types by count (ties: first seen first), keep the frequent ones, and encode,
        splitting lines into sentences of at most ``max_sentence_length`` words (None keeps
        every line whole).

        The scanned blocks are released as they are encoded, so the encoder must not be fed
        again.
        """
        table = self._merged()
        counts = table.counts[: table.n_types]
        order = self._order()
        kept = order[counts[order] >= min_count]
        if max_vocab_size is not None:
            kept = kept[:max_vocab_size]
        vocab, remaps = self._vocabulary(kept)
        return vocab, self._encode(remaps, max_sentence_length)

    def finish_labelled(
        self,
        min_count: int,
        max_vocab_size: int | None,
        label_prefix: str,
        min_label_count: int = 1,
    ) -> tuple[Vocabulary, Vocabulary, Corpus]:
        """Like :meth:`finish`, with the types that start with ``label_prefix`` taken out of
        the words into a vocabulary of labels of their own (also by count, then first seen),
        and every non-blank line kept whole as one sentence with its labels:
        (words, labels, corpus)."""
        table = self._merged()
        counts = table.counts[: table.n_types]
        is_label = self.label_types(label_prefix)
        order = self._order()
        words = order[~is_label[order]]
        kept_words = words[counts[words] >= min_count]
        if max_vocab_size is not None:
            kept_words = kept_words[:max_vocab_size]
        labels = order[is_label[order]]
        kept_labels = labels[counts[labels] >= min_label_count]
        vocab, word_remaps = self._vocabulary(kept_words)
        label_vocab, label_remaps = self._vocabulary(kept_labels)
        corpus = self._encode_lines(
            word_remaps, label_remaps, int(counts[kept_words].sum()),
            int(counts[kept_labels].sum()),
        )  # fmt: skip
        return vocab, label_vocab, corpus

    def finish_stream(self) -> tuple[Vocabulary, np.ndarray, np.ndarray]:
        """The whole input as it stands, for tools that rewrite a corpus (phrase detection):
        every token type in order of first occurrence with its count, the tokens as type ids
        (int32, in input order) and the start of every line (line i is
        ``ids[starts[i]:starts[i + 1]]``; blank lines included when the encoder keeps them).

        The scanned blocks are released as they are encoded, so the encoder must not be fed
        again.
        """
        table = self._merged()
        n = table.n_types
        order = np.argsort(table.first_seen[:n], kind="stable")
        rank = np.empty(n, dtype=np.int32)
        rank[order] = np.arange(n, dtype=np.int32)
        blob, offsets = gather_ranges(
            table.arena, table.type_offsets[order], table.type_offsets[order + 1]
        )
        types = Vocabulary(blob, offsets, table.counts[order].copy())
        assert self._mappings is not None
        remaps = [rank[mapping] for mapping in self._mappings]
        blocks = self._collect()
        ids = np.empty(sum(block.n_ids for block in blocks), dtype=np.int32)
        starts = np.zeros(sum(len(block.line_ends) for block in blocks) + 1, dtype=np.int64)
        written = lines = 0
        for block in blocks:
            np.take(remaps[block.table], block.ids, out=ids[written : written + block.n_ids])
            starts[lines + 1 : lines + 1 + len(block.line_ends)] = block.line_ends + written
            written += block.n_ids
            lines += len(block.line_ends)
            block.ids = block.ids[:0]
        return types, ids, starts

    def label_types(self, label_prefix: str) -> np.ndarray:
        """Which token types (bool per type, in the order of :meth:`type_counts`) are labels:
        those whose bytes start with ``label_prefix``."""
        table = self._merged()
        is_label = np.empty(table.n_types, dtype=np.bool_)
        prefix = np.frombuffer(label_prefix.encode("utf-8", "surrogatepass"), dtype=np.uint8)
        kl.mark_prefixed(table.arena, table.type_offsets, table.n_types, prefix, is_label)
        return is_label

    def _order(self) -> np.ndarray:
        """Type ids by count, most frequent first; ties by first occurrence."""
        table = self._merged()
        n = table.n_types
        return np.lexsort((table.first_seen[:n], -table.counts[:n]))

    def _vocabulary(self, kept: np.ndarray) -> tuple[Vocabulary, list[np.ndarray]]:
        """The vocabulary of the types ``kept`` (in that order), and for each scanning
        thread the map from its type ids to vocabulary ids (-1 for the others)."""
        table = self._merged()
        remap = np.full(table.n_types, -1, dtype=np.int32)
        remap[kept] = np.arange(len(kept), dtype=np.int32)
        blob, offsets = gather_ranges(
            table.arena, table.type_offsets[kept], table.type_offsets[kept + 1]
        )
        vocab = Vocabulary(blob, offsets, table.counts[kept].copy())
        assert self._mappings is not None
        return vocab, [remap[mapping] for mapping in self._mappings]

    def _encode(self, remaps: list[np.ndarray], max_sentence_length: int | None) -> Corpus:
        blocks = self._collect()
        n_ids = sum(block.n_ids for block in blocks)
        n_lines = sum(len(block.line_ends) for block in blocks)
        if max_sentence_length is None:
            max_sentence_length = _NO_SPLIT
        ids = np.empty(n_ids, dtype=np.int32)
        offsets = np.zeros(n_lines + n_ids // max_sentence_length + 2, dtype=np.int64)
        state = np.zeros(3, dtype=np.int64)
        for block in blocks:
            k.encode_block(
                block.ids, block.line_ends, remaps[block.table], max_sentence_length, ids,
                offsets, state,
            )  # fmt: skip
            block.ids = block.ids[:0]
        written, sentences, open_run = (int(v) for v in state)
        if open_run:
            sentences += 1
            offsets[sentences] = written
        return Corpus(ids[:written], offsets[: sentences + 1].copy())

    def _encode_lines(
        self,
        word_remaps: list[np.ndarray],
        label_remaps: list[np.ndarray],
        n_words: int,
        n_labels: int,
    ) -> Corpus:
        """Encode every non-blank line whole, its words and labels apart (arrays of exactly
        the ``n_words`` word and ``n_labels`` label tokens kept)."""
        blocks = self._collect()
        n_lines = sum(len(block.line_ends) for block in blocks)
        ids = np.empty(n_words, dtype=np.int32)
        labels = np.empty(n_labels, dtype=np.int32)
        offsets = np.zeros(n_lines + 2, dtype=np.int64)
        label_offsets = np.zeros(n_lines + 2, dtype=np.int64)
        state = np.zeros(4, dtype=np.int64)
        for block in blocks:
            kl.encode_lines(
                block.ids, block.line_ends, word_remaps[block.table],
                label_remaps[block.table], ids, offsets, labels, label_offsets, state,
            )  # fmt: skip
            block.ids = block.ids[:0]
        lines = int(state[2])
        if state[3]:
            lines += 1
            offsets[lines] = state[0]
            label_offsets[lines] = state[1]
        return Corpus(ids, offsets[: lines + 1].copy(), labels, label_offsets[: lines + 1].copy())
