"""The vocabulary and what training derives from its counts.

Words live in one UTF-8 blob with offsets, in frequency order, and are found through an
open-addressing hash index over that blob: the same arrays are saved to disk and memory-mapped
back, so looking a word up never needs a Python dict of the whole vocabulary.

Derived from the counts: the Huffman tree of hierarchical softmax, the noise distribution of
negative sampling (as an alias table, exact and O(1) per draw) and the keep-probabilities of
frequent-word subsampling.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cached_property

import numpy as np
from numba import njit

from wordspace.hashing import bytes_equal, hash_bytes, table_capacity


@njit(nogil=True, cache=True)
def _build_index(blob, offsets, slots):
    """Place every word in the open-addressing table ``slots`` (all -1 on entry, and larger
    than the vocabulary, as ``table_capacity`` makes it, so an empty slot always remains)."""
    mask = len(slots) - 1
    for w in range(len(offsets) - 1):
        slot = np.int64(hash_bytes(blob, offsets[w], offsets[w + 1]) & np.uint64(mask))
        while slots[slot] >= 0:
            slot = (slot + 1) & mask
        slots[slot] = w


@njit(nogil=True, cache=True)
def lookup(slots, blob, offsets, key, start, end):
    """Index of the word ``key[start:end]`` (UTF-8 bytes), or -1.

    Probing stops at an empty slot and, whatever the table holds (a corrupt file may leave
    none empty), after visiting every slot once.
    """
    return lookup_hashed(slots, blob, offsets, key, start, end, hash_bytes(key, start, end))


@njit(nogil=True, cache=True, inline="always")
def lookup_hashed(slots, blob, offsets, key, start, end, h):
    """``lookup`` of a word whose ``hash_bytes`` is already known as ``h``."""
    mask = len(slots) - 1
    slot = np.int64(h & np.uint64(mask))
    for _ in range(len(slots)):
        w = slots[slot]
        if w < 0:
            return -1
        if bytes_equal(blob, offsets[w], offsets[w + 1], key, start, end):
            return w
        slot = (slot + 1) & mask
    return -1


@njit(nogil=True, cache=True)
def _lookup_many(slots, blob, offsets, keys, key_offsets, out):
    for i in range(len(key_offsets) - 1):
        out[i] = lookup(slots, blob, offsets, keys, key_offsets[i], key_offsets[i + 1])


@njit(nogil=True, cache=True)
def _with_prefix(blob, offsets, prefix, limit, out):
    """Fill ``out`` with the first ``limit`` word indices (frequency order) whose bytes
    start with ``prefix``; returns how many were found."""
    found = 0
    n = len(prefix)
    for w in range(len(offsets) - 1):
        start = offsets[w]
        if offsets[w + 1] - start < n:
            continue
        same = True
        for j in range(n):
            if blob[start + j] != prefix[j]:
                same = False
                break
        if same:
            out[found] = w
            found += 1
            if found == limit:
                break
    return found


def _utf8_blob(words: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    encoded = [w.encode("utf-8", "surrogatepass") for w in words]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum([len(e) for e in encoded], out=offsets[1:])
    blob = np.frombuffer(b"".join(encoded), dtype=np.uint8)
    return blob, offsets


def _decode(data: bytes) -> str:
    """UTF-8 as ``_utf8_blob`` encodes it (lone surrogates pass), with ill-formed bytes
    replaced instead of raising."""
    try:
        return data.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        return data.decode("utf-8", "replace")


class Vocabulary:
    """Words in frequency order (most frequent first) with their corpus counts."""

    def __init__(
        self,
        blob: np.ndarray,
        offsets: np.ndarray,
        counts: np.ndarray,
        slots: np.ndarray | None = None,
    ) -> None:
        self.blob = blob
        self.offsets = offsets
        self.counts = counts
        if slots is None:
            slots = np.full(table_capacity(len(counts)), -1, dtype=np.int32)
            _build_index(blob, offsets, slots)
        self.slots = slots

    @classmethod
    def from_words(cls, words: Sequence[str], counts: Sequence[int] | None = None) -> Vocabulary:
        """A vocabulary of the given words, in the given order (duplicates are an error)."""
        blob, offsets = _utf8_blob(words)
        if counts is None:
            counts_arr = np.zeros(len(words), dtype=np.int64)
        else:
            counts_arr = np.asarray(counts, dtype=np.int64)
        vocab = cls(blob, offsets, counts_arr)
        found = vocab.indices(words)
        duplicated = np.flatnonzero(found != np.arange(len(words)))
        if len(duplicated):
            raise ValueError(f"word {words[duplicated[0]]!r} occurs twice in the vocabulary")
        return vocab

    def __len__(self) -> int:
        return len(self.counts)

    def index(self, word: str) -> int:
        """Position of ``word`` in the vocabulary, or -1 when it is not there."""
        key = np.frombuffer(word.encode("utf-8", "surrogatepass"), dtype=np.uint8)
        return int(lookup(self.slots, self.blob, self.offsets, key, 0, len(key)))

    def indices(self, words: Iterable[str]) -> np.ndarray:
        """Positions of many words at once (-1 for each unknown one)."""
        words = list(words)
        keys, key_offsets = _utf8_blob(words)
        out = np.empty(len(words), dtype=np.int64)
        _lookup_many(self.slots, self.blob, self.offsets, keys, key_offsets, out)
        return out

    def indices_of_bytes(self, keys: np.ndarray, key_offsets: np.ndarray) -> np.ndarray:
        """Positions of the words ``keys[key_offsets[i]:key_offsets[i + 1]]`` (UTF-8 bytes
        already in one blob; -1 for each unknown one)."""
        out = np.empty(len(key_offsets) - 1, dtype=np.int64)
        _lookup_many(self.slots, self.blob, self.offsets, keys, key_offsets, out)
        return out

    def with_prefix(self, prefix: str, limit: int) -> np.ndarray:
        """Indices of the (at most ``limit``) most frequent words starting with ``prefix``,
        most frequent first: one pass over the word bytes, no sorted copy kept."""
        key = np.frombuffer(prefix.encode("utf-8", "surrogatepass"), dtype=np.uint8)
        out = np.empty(max(int(limit), 0), dtype=np.int64)
        if not len(out):
            return out
        return out[: _with_prefix(self.blob, self.offsets, key, len(out), out)]

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and self.index(word) >= 0

    def word(self, i: int) -> str:
        """The word at position ``i`` (bytes that are not UTF-8, which only a corrupt file
        holds, come out as U+FFFD rather than as an error)."""
        return _decode(bytes(self.blob[self.offsets[i] : self.offsets[i + 1]]))

    @cached_property
    def words(self) -> list[str]:
        """All words, most frequent first (decoded once, on first use)."""
        text = _decode(bytes(self.blob))
        if len(text) == len(self.blob):
            ends = self.offsets[1:].tolist()
            starts = self.offsets[:-1].tolist()
            return [text[a:b] for a, b in zip(starts, ends, strict=True)]
        return [self.word(i) for i in range(len(self))]

    @property
    def total(self) -> int:
        """Sum of all counts: the number of corpus tokens the vocabulary covers."""
        return int(self.counts.sum())


@njit(nogil=True, cache=True)
def huffman_tree(counts):
    """Huffman codes over ``counts`` (sorted descending), built as the word2vec tool does.

    Returns (code_offsets, codes, points): word ``w``'s path from the root is
    ``points[code_offsets[w]:code_offsets[w+1]]`` (inner-node rows of the output matrix)
    with the branch taken at each node in ``codes`` at the same positions.
    """
    v = len(counts)
    big = np.int64(1) << 62
    count = np.empty(2 * v, dtype=np.int64)
    count[:v] = counts
    count[v:] = big
    parent = np.zeros(2 * v, dtype=np.int64)
    binary = np.zeros(2 * v, dtype=np.uint8)
    pos1 = v - 1
    pos2 = v
    for a in range(v - 1):
        if pos1 >= 0 and count[pos1] < count[pos2]:
            min1 = pos1
            pos1 -= 1
        else:
            min1 = pos2
            pos2 += 1
        if pos1 >= 0 and count[pos1] < count[pos2]:
            min2 = pos1
            pos1 -= 1
        else:
            min2 = pos2
            pos2 += 1
        count[v + a] = count[min1] + count[min2]
        parent[min1] = v + a
        parent[min2] = v + a
        binary[min2] = 1
    root = 2 * v - 2
    lengths = np.zeros(v, dtype=np.int64)
    for w in range(v):
        b = w
        n = 0
        while b != root and v > 1:
            n += 1
            b = parent[b]
        lengths[w] = n
    code_offsets = np.zeros(v + 1, dtype=np.int64)
    for w in range(v):
        code_offsets[w + 1] = code_offsets[w] + lengths[w]
    codes = np.empty(code_offsets[v], dtype=np.uint8)
    points = np.empty(code_offsets[v], dtype=np.int32)
    for w in range(v):
        n = lengths[w]
        base = code_offsets[w]
        b = w
        for i in range(n):
            codes[base + n - 1 - i] = binary[b]
            b = parent[b]
            points[base + n - 1 - i] = b - v
    return code_offsets, codes, points


@njit(nogil=True, cache=True)
def alias_table(weights):
    """Walker/Vose alias table for drawing index ``i`` with probability ∝ ``weights[i]``.

    Returns (probability float32[n], alias int32[n]): draw ``i`` uniformly, keep it with
    ``probability[i]``, else take ``alias[i]``.
    """
    n = len(weights)
    scaled = weights * (n / weights.sum())
    prob = np.ones(n, dtype=np.float32)
    alias = np.arange(n).astype(np.int32)
    small = np.empty(n, dtype=np.int64)
    large = np.empty(n, dtype=np.int64)
    ns = 0
    nl = 0
    for i in range(n):
        if scaled[i] < 1.0:
            small[ns] = i
            ns += 1
        else:
            large[nl] = i
            nl += 1
    while ns > 0 and nl > 0:
        ns -= 1
        s = small[ns]
        nl -= 1
        g = large[nl]
        prob[s] = scaled[s]
        alias[s] = g
        scaled[g] = (scaled[g] + scaled[s]) - 1.0
        if scaled[g] < 1.0:
            small[ns] = g
            ns += 1
        else:
            large[nl] = g
            nl += 1
    return prob, alias


def noise_distribution(counts: np.ndarray, exponent: float) -> tuple[np.ndarray, np.ndarray]:
    """Alias table of the negative-sampling noise: P(w) ∝ count(w) ** exponent."""
    return alias_table(np.power(counts.astype(np.float64), exponent))


def keep_probabilities(counts: np.ndarray, sample: float) -> np.ndarray:
    """Probability of keeping each occurrence of a word under frequent-word subsampling.

    The word2vec tool's formula: with ``t = sample * total``, keep with
    ``(sqrt(count / t) + 1) * t / count``, capped at 1; ``sample = 0`` keeps everything.
    """
    counts = counts.astype(np.float64)
    if sample <= 0 or len(counts) == 0:
        return np.ones(len(counts), dtype=np.float32)
    threshold = sample * counts.sum()
    with np.errstate(divide="ignore"):
        keep = (np.sqrt(counts / threshold) + 1.0) * threshold / counts
    return np.minimum(keep, 1.0).astype(np.float32)
