"""Phrase detection as in word2vec's word2phrase (Mikolov et al. 2013, section 4).

A pass counts every token and every pair of adjacent tokens, scores each pair
``(count(ab) - delta) / count(a) / count(b) * tokens`` (or by normalised pointwise mutual
information), and joins the pairs that score above a threshold into one token ("new_york");
later passes, on the rewritten text, join phrases into longer ones. The counts and scores are
word2phrase's exactly, including its quirks, so that its phrase table is reproduced:

- Pairs are counted over the whole token stream, across line ends, but never joined across
  one (word2phrase does the same).
- word2phrase keeps unigrams and bigrams in one table of strings, so the string "a_b" counts
  once per token "a_b" and once per adjacent pair (a, b), and once per pair (a_b's other
  spellings, as ("a", "b_c") and ("a_b", "c") of "a_b_c"). Counts here are merged the same
  way, wherever the delimiter occurs in a token.
- In a pass a token joins the one before it unless that one was just joined, so a pass makes
  phrases of at most two of its input tokens.

Counting is bounded in memory: when the table of distinct pairs outgrows ``max_pairs`` the
pairs seen at most ``n`` times are dropped, ``n`` rising from 1 each time (word2phrase's
``ReduceVocab``); the pairs dropped then have undercounted totals, and with several threads
each thread's share of the input is pruned on its own share of the limit. Where it differs
from word2phrase: tokens are split at all ASCII whitespace (word2phrase: space, tab, newline;
it deletes carriage returns) and long tokens are kept whole (word2phrase cuts them at 59
bytes). The encoded corpus is held in memory (4 bytes a token) between passes.
"""

from __future__ import annotations

import collections
import itertools
import os
import time
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from wordspace.corpus import Corpus, ReadStats
from wordspace.errors import InputError, ModelFileError, NotFittedError, ParameterError
from wordspace.fileio import atomic_file
from wordspace.formats.native import load_array, read_meta
from wordspace.hashing import table_capacity
from wordspace.kernels import phrases as kp
from wordspace.kernels.numtext import gather_ranges
from wordspace.kernels.scan import encode_block
from wordspace.models import params as p
from wordspace.models.params import bounded_workers
from wordspace.text.reader import CorpusInput, empty_vocabulary, scanned
from wordspace.text.sentences import (
    SENTENCE_SEPARATOR,
    TOKEN_LIST_CLASSES,
    TOKEN_SEPARATOR,
    sentence_blocks,
)
from wordspace.vocab import Vocabulary

SCORINGS = ("word2vec", "npmi")
DEFAULT_THRESHOLDS = {"word2vec": 100.0, "npmi": 0.5}
MAX_PASSES = 16
DEFAULT_MAX_PAIRS = 100_000_000
"""Distinct pairs kept before pruning (16 bytes each while counting, so 1.6 GB at most): a
corpus of a few billion tokens fits unpruned; the full enwiki sample (65M tokens) has 12 million."""
CHUNK_PAIRS = 1 << 23
"""Pairs sorted at a time by one counting thread (64 MB of keys)."""
BLOCK_TOKENS = 1 << 20
"""Tokens formatted as one block of output text (about 6 MB of English)."""
TABLE_HEADER = "phrase\tleft\tright\tscore\tcount\tpass"
_TABLE_MAGIC = "# wordspace phrases"


@dataclass
class TokenStream:
    """A corpus as token-type ids: ``types`` (strings and counts), ``ids`` (int32, in text
    order) and ``starts`` (line i is ``ids[starts[i]:starts[i + 1]]``, blank lines kept)."""

    types: Vocabulary
    ids: np.ndarray
    starts: np.ndarray

    @property
    def n_lines(self) -> int:
        return len(self.starts) - 1


@dataclass(frozen=True)
class PassReport:
    """What one pass found: its threshold, the distinct pairs it counted, the prune level it
    reached (0: no pair was dropped), the phrases it made and the tokens before and after."""

    pass_number: int
    threshold: float
    pairs: int
    pruned_at_most: int
    phrases: int
    tokens_before: int
    tokens_after: int
    seconds: float


@dataclass
class PhraseTable:
    """Learned phrases: ``strings`` holds every string in the table; each row joins
    ``strings[left]`` and ``strings[right]`` into ``strings[phrase]`` in pass ``passes``
    (from 1), with its score and the count of the pair."""

    strings: Vocabulary
    left: np.ndarray
    right: np.ndarray
    phrase: np.ndarray
    score: np.ndarray
    count: np.ndarray
    passes: np.ndarray
    settings: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.phrase)


def _thresholds(threshold: float | Sequence[float], passes: int, scoring: str) -> list[float]:
    """One threshold per pass. A single word2vec threshold halves from pass to pass down to
    the one given (the word2vec demo's 200 then 100); npmi keeps the same each pass."""
    if isinstance(threshold, Sequence) and not isinstance(threshold, str):
        values = [p.finite_float("threshold", t) for t in threshold]
        if len(values) != passes:
            raise ParameterError(
                f"threshold lists {len(values)} values for passes={passes}; give one per pass "
                "or a single number"
            )
    else:
        one = p.finite_float("threshold", threshold)
        if scoring == "npmi":
            values = [one] * passes
        else:
            values = [one * 2 ** (passes - 1 - k) for k in range(passes)]
    for value in values:
        if scoring == "npmi" and not -1 <= value <= 1:
            raise ParameterError(
                f"threshold={value} is outside [-1, 1], the range of npmi scores; try 0.5"
            )
        if scoring == "word2vec" and value < 0:
            raise ParameterError(f"threshold={value} must be >= 0 for word2vec scoring")
    return values


class Phrases:
    """word2phrase's phrase detection, compiled and on several threads.

    Parameters
    ----------
    min_count : pairs and tokens seen fewer times are never joined (word2phrase's
        ``-min-count``).
    threshold : a pair joins when its score is above this (``-threshold``; default 100, npmi
        0.5). With several
        passes and word2vec scoring a single number is the last pass's and each earlier pass
        doubles it (passes=2: 200 then 100, as the word2vec demo runs); a list gives each
        pass its own.
    delta : subtracted from a pair's count before scoring, against rare pairs (default
        ``min_count``, which is what word2phrase uses).
    passes : rounds of joining; pass k joins the output of pass k - 1, so up to 2**k tokens
        form one phrase.
    scoring : ``word2vec`` (the paper's score) or ``npmi`` (normalised pointwise mutual
        information, in [-1, 1], as gensim's).
    delimiter : what joins the parts of a phrase.
    max_pairs : distinct pairs the counting keeps before it prunes rare ones.
    workers : threads (default: the CPUs available).
    """

    def __init__(
        self,
        *,
        min_count: int = 5,
        threshold: float | Sequence[float] | None = None,
        delta: float | None = None,
        passes: int = 2,
        scoring: str = "word2vec",
        delimiter: str = "_",
        max_pairs: int = DEFAULT_MAX_PAIRS,
        workers: int | None = None,
    ) -> None:
        self.min_count = p.positive_int("min_count", min_count)
        self.passes = p.positive_int("passes", passes, MAX_PASSES)
        self.scoring = p.one_of("scoring", scoring, SCORINGS)
        if threshold is None:
            threshold = DEFAULT_THRESHOLDS[self.scoring]
        self.thresholds = _thresholds(threshold, self.passes, self.scoring)
        self.delta = float(self.min_count) if delta is None else p.finite_float("delta", delta)
        if not isinstance(delimiter, str) or not delimiter or any(c.isspace() for c in delimiter):
            raise ParameterError(
                f"delimiter={delimiter!r} must be a non-empty string without whitespace"
            )
        self.delimiter = delimiter
        self.max_pairs = p.positive_int("max_pairs", max_pairs)
        self.workers = bounded_workers(workers)
        self.table: PhraseTable | None = None
        self.read_stats: ReadStats | None = None
        self.source = ""
        self.reports: list[PassReport] = []
        self._joiners: list[tuple[np.ndarray, np.ndarray]] | None = None

    def settings(self) -> dict[str, Any]:
        return {
            "min_count": self.min_count,
            "delta": self.delta,
            "scoring": self.scoring,
            "delimiter": self.delimiter,
            "passes": self.passes,
            "thresholds": self.thresholds,
            "max_pairs": self.max_pairs,
        }

    def fit(self, corpus: CorpusInput) -> Phrases:
        """Learn phrases from a corpus (a path, paths, or an iterable of token lists or of
        strings, as training reads)."""
        self.learn(corpus)
        return self

    def learn(self, corpus: CorpusInput) -> TokenStream:
        """Learn phrases from ``corpus`` and return it rewritten with them (what ``fit``
        does, keeping the phrased corpus for training or writing)."""
        encoder, name = scanned(corpus, self.workers, keep_blank=True)
        self.read_stats = encoder.stats(name)
        stream = TokenStream(*encoder.finish_stream())
        del encoder
        rows: list[tuple[np.ndarray, ...]] = []
        self.reports = []
        for number, threshold in enumerate(self.thresholds, start=1):
            stream, found, report = self._one_pass(stream, number, threshold)
            rows.append(found)
            self.reports.append(report)
        self.table = _compact_table(stream.types, rows, self.settings())
        self._joiners = None
        self.source = name
        return stream

    def _one_pass(
        self, stream: TokenStream, number: int, threshold: float
    ) -> tuple[TokenStream, tuple[np.ndarray, ...], PassReport]:
        began = time.perf_counter()
        types = stream.types
        if number == 1:
            unigrams = types.counts.astype(np.int64)
        else:
            unigrams = np.bincount(stream.ids, minlength=len(types)).astype(np.int64)
        keys, counts, pruned = count_pairs(stream.ids, self.max_pairs, self.workers)
        unigrams, pair_totals = self._merged_counts(types, unigrams, keys, counts)
        left, right, score, count = self._select(
            unigrams, keys, pair_totals, len(stream.ids), threshold
        )
        n_pairs = len(keys)
        del keys, counts, pair_totals
        types, phrase = _with_phrases(types, left, right, self.delimiter)
        ids, starts = join(
            stream.ids, stream.starts, _phrase_table(left, right, phrase), self.workers
        )
        report = PassReport(
            pass_number=number, threshold=threshold, pairs=n_pairs,
            pruned_at_most=pruned, phrases=len(phrase), tokens_before=len(stream.ids),
            tokens_after=len(ids), seconds=time.perf_counter() - began,
        )  # fmt: skip
        return TokenStream(types, ids, starts), (left, right, phrase, score, count), report

    def _merged_counts(
        self, types: Vocabulary, unigrams: np.ndarray, keys: np.ndarray, counts: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Token and pair counts as word2phrase's single table of strings has them (see the
        module docstring); the plain counts when no token holds the delimiter."""
        delimiter = np.frombuffer(self.delimiter.encode("utf-8"), dtype=np.uint8)
        has = np.empty(len(types), dtype=np.bool_)
        kp.delimited(types.blob, types.offsets, delimiter, has)
        if not has.any():
            return unigrams, counts
        with_delimiter = np.flatnonzero(has)
        extra = np.zeros(len(types), dtype=np.int64)
        _on_threads(
            self.workers, with_delimiter,
            lambda part: kp.type_pair_counts(
                types.slots, types.blob, types.offsets, delimiter, part, keys, counts, extra
            ),
        )  # fmt: skip
        merged = unigrams + extra
        pairs = np.flatnonzero(has[(keys >> np.uint64(32)).astype(np.int64)] | has[
            (keys & np.uint64(0xFFFFFFFF)).astype(np.int64)
        ])  # fmt: skip
        spelled = np.empty(len(pairs), dtype=np.int64)
        totals = counts.copy()
        _on_threads(
            self.workers, np.arange(len(pairs)),
            lambda part: kp.spelled_pair_counts(
                types.slots, types.blob, types.offsets, delimiter, pairs[part], keys, counts,
                merged, spelled[part[0] : part[-1] + 1],
            ),
        )  # fmt: skip
        totals[pairs] = spelled
        _respell_plain_pairs(types, delimiter, with_delimiter, has, keys, merged, totals)
        return merged, totals

    def _select(
        self,
        unigrams: np.ndarray,
        keys: np.ndarray,
        totals: np.ndarray,
        tokens: int,
        threshold: float,
    ) -> tuple[np.ndarray, ...]:
        """The pairs that score above ``threshold``: (left, right, score, count), best
        first."""
        candidates = np.flatnonzero(totals >= self.min_count)
        left = (keys[candidates] >> np.uint64(32)).astype(np.int32)
        right = (keys[candidates] & np.uint64(0xFFFFFFFF)).astype(np.int32)
        pab = totals[candidates]
        pa, pb = unigrams[left], unigrams[right]
        known = (pa >= self.min_count) & (pb >= self.min_count)
        left, right, pab, pa, pb = left[known], right[known], pab[known], pa[known], pb[known]
        if self.scoring == "word2vec":
            score = (pab - self.delta).astype(np.float32)
            score /= pa.astype(np.float32)
            score /= pb.astype(np.float32)
            score *= np.float32(tokens)
            chosen = score > np.float32(threshold)
        else:
            n = float(tokens)
            joint = pab / n
            with np.errstate(divide="ignore", invalid="ignore"):
                score = np.log(joint / ((pa / n) * (pb / n))) / -np.log(joint)
            chosen = np.isfinite(score) & (score > threshold)
        order = np.lexsort((right[chosen], left[chosen], -score[chosen]))
        picked = np.flatnonzero(chosen)[order]
        return left[picked], right[picked], score[picked], pab[picked]

    def _compiled(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per pass, the open-addressing table from (left, right) to phrase."""
        table = self._fitted()
        if self._joiners is None:
            self._joiners = []
            for number in range(1, int(table.settings.get("passes", 1)) + 1):
                rows = table.passes == number
                self._joiners.append(
                    _phrase_table(table.left[rows], table.right[rows], table.phrase[rows])
                )
        return self._joiners

    def _fitted(self) -> PhraseTable:
        if self.table is None:
            raise NotFittedError("these Phrases are not fitted: call fit() or load() first")
        return self.table

    def transform(self, text: str | Sequence[str] | Iterable[Sequence[str]]) -> Any:
        """Join the learned phrases in new text: a string (split at whitespace) gives a
        string, a list of tokens a list of tokens, an iterable of token lists a list of
        token lists."""
        table = self._fitted()
        if isinstance(text, str):
            return " ".join(self._transform_lists([text.split()], table)[0])
        if isinstance(text, list | tuple) and all(isinstance(t, str) for t in text):
            return self._transform_lists([list(text)], table)[0]
        return self._transform_lists(list(text), table)

    __getitem__ = transform

    def _transform_lists(self, sentences: list, table: PhraseTable) -> list[list[str]]:
        if not sentences:
            return []
        if not all(isinstance(s, list | tuple) for s in sentences):
            raise InputError("transform takes a string, a list of tokens or token lists")
        if not any(sentences):
            return [[] for _ in sentences]
        _, blocks = sentence_blocks(sentences)
        data = np.frombuffer(b"".join(blocks), dtype=np.uint8)
        starts = np.empty(len(data) + 1, dtype=np.int64)
        ends = np.empty(len(data) + 1, dtype=np.int64)
        line_starts = np.empty(len(data) + 2, dtype=np.int64)
        n, lines = kp.token_spans(data, TOKEN_LIST_CLASSES, starts, ends, line_starts)
        starts, ends, line_starts = starts[:n], ends[:n], line_starts[: lines + 1]
        tokens_blob, token_offsets = gather_ranges(data, starts, ends)
        known = table.strings.indices_of_bytes(tokens_blob, token_offsets)
        base = len(table.strings)
        ids = np.where(known >= 0, known, base + np.arange(n)).astype(np.int32)
        blob = np.concatenate([table.strings.blob, tokens_blob])
        offsets = np.concatenate(
            [table.strings.offsets, token_offsets[1:] + len(table.strings.blob)]
        )
        for joiner in self._compiled():
            ids, line_starts = join(ids, line_starts, joiner, 1)
        blocks = _text_blocks(blob, offsets, ids, line_starts, TOKEN_SEPARATOR, SENTENCE_SEPARATOR)
        text = b"".join(blocks).decode("utf-8", "surrogatepass")
        lines = text.split(SENTENCE_SEPARATOR)[:-1]
        return [line.split(TOKEN_SEPARATOR) if line else [] for line in lines]

    def export_phrases(self) -> dict[str, float]:
        """Every learned phrase with its score (of the pass that made it), as gensim's
        ``Phrases.export_phrases`` gives."""
        table = self._fitted()
        words = table.strings.words
        return {
            words[i]: float(s)
            for i, s in zip(table.phrase.tolist(), table.score.tolist(), strict=True)
        }

    def save(self, path: str | os.PathLike) -> None:
        """Write the phrase table as tab-separated text (atomically): one row per phrase with
        its parts, score, count and pass, under a line of the settings."""
        write_table(self._fitted(), path)

    @classmethod
    def load(cls, path: str | os.PathLike, workers: int | None = None) -> Phrases:
        """Phrases from a table ``save`` (or ``wordspace phrases --save-phrases``) wrote, or
        from a native model trained with ``phrases=`` (which stores its table)."""
        table = table_from_model(path) if Path(path).is_dir() else read_table(path)
        s = table.settings
        phrases = cls(
            min_count=int(s["min_count"]), threshold=list(s["thresholds"]),
            delta=float(s["delta"]), passes=int(s["passes"]), scoring=str(s["scoring"]),
            delimiter=str(s["delimiter"]), max_pairs=int(s["max_pairs"]), workers=workers,
        )  # fmt: skip
        phrases.table = table
        return phrases


def _on_threads(threads: int, items: np.ndarray, work: Any) -> None:
    """Run ``work`` on ``threads`` contiguous parts of ``items`` at once (kernels release the
    GIL); an empty part is skipped."""
    parts = [part for part in np.array_split(items, max(1, threads)) if len(part)]
    if len(parts) <= 1:
        for part in parts:
            work(part)
        return
    with ThreadPoolExecutor(len(parts), thread_name_prefix="wordspace-phrases") as pool:
        for future in [pool.submit(work, part) for part in parts]:
            future.result()


def _respell_plain_pairs(
    types: Vocabulary,
    delimiter: np.ndarray,
    with_delimiter: np.ndarray,
    has_delimiter: np.ndarray,
    keys: np.ndarray,
    merged: np.ndarray,
    totals: np.ndarray,
) -> None:
    """A pair of plain tokens (a, b) whose string "a_b" is also a token gets that token's
    merged count, which holds the pair's own."""
    found = np.empty(len(with_delimiter), dtype=np.int64)
    kp.plain_split_pairs(
        types.slots, types.blob, types.offsets, delimiter, with_delimiter, has_delimiter, keys,
        found,
    )  # fmt: skip
    spelled = found >= 0
    totals[found[spelled]] = merged[with_delimiter[spelled]]


def _prune(
    keys: np.ndarray, counts: np.ndarray, limit: int, level: int
) -> tuple[np.ndarray, np.ndarray, int]:
    """word2phrase's ReduceVocab while the table is over ``limit``: drop the pairs seen at
    most ``level`` times, then raise the level. Returns the table and the next level."""
    while len(keys) > limit:
        kept = counts > level
        keys, counts = keys[kept], counts[kept]
        level += 1
    return keys, counts, level


def _count_share(
    ids: np.ndarray, chunks: list[tuple[int, int]], limit: int
) -> tuple[np.ndarray, np.ndarray, int]:
    """Distinct pairs and their counts over the pairs starting in ``chunks`` (sorted
    table), pruned to ``limit``; with the prune level reached."""
    keys = np.empty(0, dtype=np.uint64)
    counts = np.empty(0, dtype=np.int64)
    level = 1
    buffer = np.empty(CHUNK_PAIRS, dtype=np.uint64)
    for start, end in chunks:
        n = kp.pair_keys(ids, start, end, buffer)
        part = buffer[:n]
        part.sort()
        run_keys = np.empty(n, dtype=np.uint64)
        run_counts = np.empty(n, dtype=np.int64)
        m = kp.run_counts(part, n, run_keys, run_counts)
        keys, counts = _merged(keys, counts, run_keys[:m], run_counts[:m])
        keys, counts, level = _prune(keys, counts, limit, level)
    return keys, counts, level


def _merged(
    keys_a: np.ndarray, counts_a: np.ndarray, keys_b: np.ndarray, counts_b: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    if not len(keys_a):
        return keys_b.copy(), counts_b.copy()
    out_keys = np.empty(len(keys_a) + len(keys_b), dtype=np.uint64)
    out_counts = np.empty(len(out_keys), dtype=np.int64)
    m = kp.merge_counts(keys_a, counts_a, keys_b, counts_b, out_keys, out_counts)
    return out_keys[:m].copy(), out_counts[:m].copy()


def count_pairs(
    ids: np.ndarray, max_pairs: int, threads: int
) -> tuple[np.ndarray, np.ndarray, int]:
    """Every distinct pair of adjacent tokens (sorted keys ``left << 32 | right``) with how
    often it occurs, over the whole stream; pruned as word2phrase does when there are more
    than ``max_pairs``. Returns (keys, counts, highest count pruned, 0 when none was)."""
    n_pairs = max(len(ids) - 1, 0)
    bounds = [*range(0, n_pairs, CHUNK_PAIRS), n_pairs]
    chunks = list(itertools.pairwise(bounds))
    threads = max(1, min(threads, len(chunks)))
    shares = [chunks[i::threads] for i in range(threads)]
    limit = max(1, max_pairs // threads)
    if threads == 1:
        results = [_count_share(ids, shares[0], limit)]
    else:
        with ThreadPoolExecutor(threads, thread_name_prefix="wordspace-pairs") as pool:
            futures = [pool.submit(_count_share, ids, share, limit) for share in shares]
            results = [future.result() for future in futures]
    keys, counts, level = results[0]
    for other_keys, other_counts, other_level in results[1:]:
        keys, counts = _merged(keys, counts, other_keys, other_counts)
        level = max(level, other_level)
    keys, counts, level = _prune(keys, counts, max_pairs, level)
    return keys, counts, level - 1


def _phrase_table(
    left: np.ndarray, right: np.ndarray, phrase: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The open-addressing table from (left, right) to phrase that ``join`` reads."""
    size = table_capacity(len(left) + 1)
    keys = np.full(size, kp.EMPTY, dtype=np.uint64)
    values = np.empty(size, dtype=np.int32)
    kp.fill_phrase_table(keys, values, left, right, phrase)
    return keys, values


def join(
    ids: np.ndarray, starts: np.ndarray, table: tuple[np.ndarray, np.ndarray], threads: int
) -> tuple[np.ndarray, np.ndarray]:
    """Lines (token ids, line starts) with the pairs of ``table`` joined (see
    ``kernels.phrases.join_lines``), cut into ``threads`` parts rewritten at once."""
    n_lines = len(starts) - 1
    out = np.empty_like(ids)
    out_starts = np.empty(n_lines + 1, dtype=np.int64)
    cuts = np.searchsorted(starts, np.linspace(0, len(ids), max(1, threads) + 1)[1:-1])
    edges = [0, *sorted({int(c) for c in cuts if 0 < c < n_lines}), n_lines]
    parts = list(itertools.pairwise(edges))
    ends = [0] * len(parts)

    def rewrite(index: int) -> None:
        lo, hi = parts[index]
        ends[index] = kp.join_lines(ids, starts, lo, hi, table[0], table[1], out, out_starts[lo:hi])

    if len(parts) == 1:
        rewrite(0)
    else:
        with ThreadPoolExecutor(len(parts), thread_name_prefix="wordspace-join") as pool:
            for future in [pool.submit(rewrite, i) for i in range(len(parts))]:
                future.result()
    pieces, written = [], 0
    for (lo, hi), end in zip(parts, ends, strict=True):
        begin = int(starts[lo])
        out_starts[lo:hi] += written - begin
        pieces.append(out[begin:end])
        written += end - begin
    out_starts[n_lines] = written
    return (np.concatenate(pieces) if len(pieces) > 1 else pieces[0].copy()), out_starts


def _with_phrases(
    types: Vocabulary, left: np.ndarray, right: np.ndarray, delimiter: str
) -> tuple[Vocabulary, np.ndarray]:
    """The types with the strings of the new phrases added (a phrase that is already a type,
    or that two pairs spell alike, is one type), and the type of each phrase."""
    mark = np.frombuffer(delimiter.encode("utf-8"), dtype=np.uint8)
    blob, offsets = kp.joined_strings(types.blob, types.offsets, left, right, mark)
    phrase = types.indices_of_bytes(blob, offsets)
    new = np.flatnonzero(phrase < 0)
    if not len(new):
        return types, phrase.astype(np.int32)
    new_blob, new_offsets = gather_ranges(blob, offsets[new], offsets[new + 1])
    first = Vocabulary(new_blob, new_offsets, np.zeros(len(new), np.int64))
    canonical = first.indices_of_bytes(new_blob, new_offsets)
    unique = np.flatnonzero(canonical == np.arange(len(new)))
    rank = np.full(len(new), -1, dtype=np.int64)
    rank[unique] = np.arange(len(unique))
    phrase[new] = len(types) + rank[canonical]
    added_blob, added_offsets = gather_ranges(
        new_blob, new_offsets[unique], new_offsets[unique + 1]
    )
    grown = Vocabulary(
        np.concatenate([types.blob, added_blob]),
        np.concatenate([types.offsets, added_offsets[1:] + len(types.blob)]),
        np.zeros(len(types) + len(unique), dtype=np.int64),
    )
    return grown, phrase.astype(np.int32)


def _compact_table(
    types: Vocabulary, rows: list[tuple[np.ndarray, ...]], settings: dict[str, Any]
) -> PhraseTable:
    """The phrase table over just the strings it names."""
    left = np.concatenate([r[0] for r in rows]).astype(np.int64)
    right = np.concatenate([r[1] for r in rows]).astype(np.int64)
    phrase = np.concatenate([r[2] for r in rows]).astype(np.int64)
    used = np.unique(np.concatenate([left, right, phrase]))
    blob, offsets = gather_ranges(types.blob, types.offsets[used], types.offsets[used + 1])
    strings = Vocabulary(blob, offsets, np.zeros(len(used), np.int64))
    return PhraseTable(
        strings=strings,
        left=np.searchsorted(used, left).astype(np.int32),
        right=np.searchsorted(used, right).astype(np.int32),
        phrase=np.searchsorted(used, phrase).astype(np.int32),
        score=np.concatenate([r[3] for r in rows]).astype(np.float64),
        count=np.concatenate([r[4] for r in rows]).astype(np.int64),
        passes=np.concatenate([np.full(len(r[0]), k, np.int16) for k, r in enumerate(rows, 1)]),
        settings=settings,
    )


def _text_blocks(
    blob: np.ndarray,
    offsets: np.ndarray,
    ids: np.ndarray,
    starts: np.ndarray,
    space: str = " ",
    newline: str = "\n",
    threads: int = 1,
) -> Iterator[np.ndarray]:
    """Lines of token ids as text, block by block in order (each block formatted on one of
    ``threads`` threads): tokens between single spaces, a newline ending every line (blank
    ones too)."""
    n_lines = len(starts) - 1
    cuts = np.searchsorted(starts, np.arange(BLOCK_TOKENS, len(ids), BLOCK_TOKENS))
    edges = np.unique(np.concatenate([[0], cuts, [n_lines]]))
    ranges = [(int(lo), int(hi)) for lo, hi in itertools.pairwise(edges)]

    def formatted(lo: int, hi: int) -> np.ndarray:
        out = np.empty(kp.formatted_size(offsets, ids, starts, lo, hi), dtype=np.uint8)
        kp.format_lines(blob, offsets, ids, starts, lo, hi, ord(space), ord(newline), out)
        return out

    if threads <= 1 or len(ranges) <= 1:
        for lo, hi in ranges:
            yield formatted(lo, hi)
        return
    with ThreadPoolExecutor(threads, thread_name_prefix="wordspace-format") as pool:
        pending: collections.deque = collections.deque()
        for lo, hi in ranges:
            pending.append(pool.submit(formatted, lo, hi))
            if len(pending) > 2 * threads:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def write_text(stream: TokenStream, out: BinaryIO, threads: int = 1) -> int:
    """Write the stream as text to an open binary file; returns the bytes written."""
    size = 0
    types = stream.types
    blocks = _text_blocks(types.blob, types.offsets, stream.ids, stream.starts, threads=threads)
    for block in blocks:
        out.write(block)
        size += len(block)
    return size


def write_corpus(stream: TokenStream, path: str | os.PathLike, threads: int = 1) -> int:
    """Write the stream as text to ``path`` (atomically); returns the bytes written."""
    with atomic_file(path) as out:
        return write_text(stream, out, threads)


def write_table(table: PhraseTable, path: str | os.PathLike) -> None:
    """The phrase table as tab-separated text, best phrases of each pass first."""
    words = table.strings.words
    if any(("\t" in w or "\n" in w or "\r" in w) for w in words):
        raise ParameterError(
            f"{path}: a phrase holds a tab or line break, which the table's format cannot hold"
        )
    settings = " ".join(
        f"{k}={','.join(str(v) for v in value) if isinstance(value, list) else value}"
        for k, value in table.settings.items()
    )
    lines = [f"{_TABLE_MAGIC} {settings}", TABLE_HEADER]
    lines += [
        f"{words[ph]}\t{words[a]}\t{words[b]}\t{score:.9g}\t{count}\t{number}"
        for ph, a, b, score, count, number in zip(
            table.phrase.tolist(), table.left.tolist(), table.right.tolist(),
            table.score.tolist(), table.count.tolist(), table.passes.tolist(), strict=True,
        )
    ]  # fmt: skip
    with atomic_file(path) as out:
        out.write(("\n".join(lines) + "\n").encode("utf-8", "surrogatepass"))


PHRASE_ARRAYS = (
    "phrase_strings",
    "phrase_offsets",
    "phrase_rows",
    "phrase_scores",
    "phrase_counts",
)
"""The arrays a native model trained with phrases stores its phrase table in."""


def table_arrays(table: PhraseTable) -> dict[str, np.ndarray]:
    """The phrase table as a native model's arrays (``PHRASE_ARRAYS``)."""
    rows = np.stack([table.left, table.right, table.phrase, table.passes]).T.astype(np.int64)
    return dict(
        zip(
            PHRASE_ARRAYS,
            (table.strings.blob, table.strings.offsets, rows, table.score, table.count),
            strict=True,
        )
    )


def table_from_model(path: str | os.PathLike) -> PhraseTable:
    """The phrase table a native model folder stores (see ``table_arrays``), checked."""
    meta = read_meta(path)
    settings = (meta.get("config") or {}).get("phrases")
    if not settings or "phrase_rows" not in meta["arrays"]:
        raise ModelFileError(
            f"{path}: holds no phrase table (train it with --phrases, or load a table that "
            "`wordspace phrases --save-phrases` wrote)"
        )
    blob, offsets, rows, score, count = (
        load_array(path, meta, name, mmap=False, verify=True) for name in PHRASE_ARRAYS
    )
    n_strings = len(offsets) - 1
    if (
        rows.ndim != 2
        or rows.shape[1] != 4
        or len(score) != len(rows)
        or len(count) != len(rows)
        or (len(rows) and (rows[:, :3].min() < 0 or rows[:, :3].max() >= n_strings))
        or n_strings < 0
        or offsets[-1] != len(blob)
    ):
        raise ModelFileError(f"{path}: its phrase table arrays do not fit together")
    return PhraseTable(
        strings=Vocabulary(blob, offsets, np.zeros(n_strings, np.int64)),
        left=rows[:, 0].astype(np.int32), right=rows[:, 1].astype(np.int32),
        phrase=rows[:, 2].astype(np.int32), score=score.astype(np.float64),
        count=count.astype(np.int64), passes=rows[:, 3].astype(np.int16), settings=settings,
    )  # fmt: skip


_SETTING_TYPES = {
    "min_count": int, "delta": float, "scoring": str, "delimiter": str, "passes": int,
    "max_pairs": int,
}  # fmt: skip


def read_table(path: str | os.PathLike) -> PhraseTable:
    """A phrase table that ``write_table`` wrote; a malformed one is refused naming the
    line."""
    try:
        text = Path(path).read_text(encoding="utf-8", errors="surrogatepass")
    except OSError as exc:
        raise ModelFileError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    lines = text.split("\n")
    if not lines[0].startswith(_TABLE_MAGIC) or len(lines) < 2 or lines[1] != TABLE_HEADER:
        raise ModelFileError(
            f"{path}:1: not a phrase table (expected '{_TABLE_MAGIC} ...' then the header "
            f"'{TABLE_HEADER}')"
        )
    settings: dict[str, Any] = {}
    for item in lines[0][len(_TABLE_MAGIC) :].split():
        name, _, value = item.partition("=")
        if name == "thresholds":
            settings[name] = [float(v) for v in value.split(",")]
        elif name in _SETTING_TYPES:
            settings[name] = _SETTING_TYPES[name](value)
    missing = {"thresholds", *_SETTING_TYPES} - set(settings)
    if missing:
        raise ModelFileError(f"{path}:1: the settings line lacks {', '.join(sorted(missing))}")
    rows = [line.split("\t") for line in lines[2:] if line]
    for number, row in enumerate(rows, start=3):
        if len(row) != 6:
            raise ModelFileError(
                f"{path}:{number}: expected 6 tab-separated fields, got {len(row)}"
            )
    strings: dict[str, int] = {}
    for row in rows:
        for s in row[:3]:
            strings.setdefault(s, len(strings))
    try:
        score = np.array([float(r[3]) for r in rows], dtype=np.float64)
        count = np.array([int(r[4]) for r in rows], dtype=np.int64)
        passes = np.array([int(r[5]) for r in rows], dtype=np.int16)
    except ValueError as exc:
        raise ModelFileError(f"{path}: a score, count or pass is not a number ({exc})") from exc
    if len(passes) and (passes.min() < 1 or passes.max() > settings["passes"]):
        raise ModelFileError(f"{path}: a row's pass is outside 1..{settings['passes']}")
    index = np.array([[strings[s] for s in r[:3]] for r in rows], dtype=np.int32).reshape(-1, 3)
    return PhraseTable(
        strings=Vocabulary.from_words(list(strings)),
        left=index[:, 1].copy(), right=index[:, 2].copy(), phrase=index[:, 0].copy(),
        score=score, count=count, passes=passes, settings=settings,
    )  # fmt: skip


def phrase_finder(phrases: Phrases | int | None, workers: int) -> Phrases | None:
    """A training option's phrase finder: None, a ``Phrases`` as given, or a number of
    passes with the default settings."""
    if phrases is None or isinstance(phrases, Phrases):
        return phrases
    if isinstance(phrases, bool) or not isinstance(phrases, int):
        raise ParameterError(
            f"phrases must be a number of passes or a Phrases, got {type(phrases).__name__}"
        )
    return Phrases(passes=phrases, workers=workers)


def read_phrased_corpus(
    corpus: CorpusInput,
    phrases: Phrases,
    *,
    min_count: int,
    max_vocab_size: int | None = None,
    max_sentence_length: int | None = None,
    threads: int = 1,
) -> tuple[Vocabulary, Corpus, ReadStats]:
    """What ``read_corpus`` gives, for the corpus rewritten with the phrases ``phrases``
    learns from it: the vocabulary (phrases among the words, most frequent first, ties in
    order of first occurrence) and the encoded sentences."""
    stream = phrases.learn(corpus)
    assert phrases.read_stats is not None
    counts = np.bincount(stream.ids, minlength=len(stream.types)).astype(np.int64)
    order = np.lexsort((np.arange(len(counts)), -counts))
    kept = order[counts[order] >= min_count]
    if max_vocab_size is not None:
        kept = kept[:max_vocab_size]
    if not len(kept):
        raise empty_vocabulary(phrases.source, counts, min_count)
    types = stream.types
    blob, offsets = gather_ranges(types.blob, types.offsets[kept], types.offsets[kept + 1])
    vocab = Vocabulary(blob, offsets, counts[kept])
    remap = np.full(len(counts), -1, dtype=np.int32)
    remap[kept] = np.arange(len(kept), dtype=np.int32)
    longest = np.iinfo(np.int64).max if max_sentence_length is None else max_sentence_length
    ids = np.empty(len(stream.ids), dtype=np.int32)
    sentence_ends = np.zeros(stream.n_lines + len(stream.ids) // longest + 2, dtype=np.int64)
    state = np.zeros(3, dtype=np.int64)
    encode_block(stream.ids, stream.starts[1:], remap, longest, ids, sentence_ends, state)
    written, sentences, open_run = (int(v) for v in state)
    if open_run:
        sentences += 1
        sentence_ends[sentences] = written
    encoded = Corpus(ids[:written], sentence_ends[: sentences + 1].copy())
    return vocab, encoded, phrases.read_stats
