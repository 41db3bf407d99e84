"""Hash functions over byte strings, shared by the vocabulary index and feature hashing.

Token hashes are 64-bit FNV-1a followed by the MurmurHash3 finaliser, so that the low bits
used to pick a hash-table slot are well mixed even for short, similar words.

Two feature-hashing schemes live here: fastText's 32-bit FNV-1a character n-grams
(``char_ngram_buckets``, bit-compatible with its models, named ``CHAR_NGRAM_SCHEME``) and
our well-mixed 64-bit word n-grams (``vocabulary_hashes`` + ``ngram_hash``, named
``WORD_NGRAM_SCHEME``). A model stores
the name of the scheme it was trained with, so the values here must never change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numba import njit

if TYPE_CHECKING:
    from wordspace.vocab import Vocabulary

FNV64_OFFSET = np.uint64(0xCBF29CE484222325)
FNV64_PRIME = np.uint64(0x100000001B3)
_MIX1 = np.uint64(0xFF51AFD7ED558CCD)
_MIX2 = np.uint64(0xC4CEB9FE1A85EC53)
_S33 = np.uint64(33)


@njit(nogil=True, cache=True)
def fmix64(h: np.uint64) -> np.uint64:
    """MurmurHash3's 64-bit finaliser: every input bit affects every output bit."""
    h ^= h >> _S33
    h *= _MIX1
    h ^= h >> _S33
    h *= _MIX2
    h ^= h >> _S33
    return h


@njit(nogil=True, cache=True)
def hash_bytes(buf: np.ndarray, start: int, end: int) -> np.uint64:
    """Well-mixed 64-bit hash of ``buf[start:end]`` (uint8 array)."""
    h = FNV64_OFFSET
    for i in range(start, end):
        h ^= np.uint64(buf[i])
        h *= FNV64_PRIME
    return fmix64(h)


@njit(nogil=True, cache=True)
def bytes_equal(a: np.ndarray, a0: int, a1: int, b: np.ndarray, b0: int, b1: int) -> bool:
    """Whether ``a[a0:a1]`` and ``b[b0:b1]`` hold the same bytes."""
    n = a1 - a0
    if n != b1 - b0:
        return False
    for i in range(n):
        if a[a0 + i] != b[b0 + i]:
            return False
    return True


def table_capacity(n_keys: int, max_load: float = 0.5) -> int:
    """Smallest power of two that keeps an open-addressing table at most ``max_load`` full."""
    need = max(8, int(n_keys / max_load) + 1)
    return 1 << (need - 1).bit_length()


_FNV32_OFFSET = np.uint64(2166136261)
_FNV32_PRIME = np.uint64(16777619)
_LOW32 = np.uint64(0xFFFFFFFF)


@njit(nogil=True, cache=True, inline="always")
def _fasttext_step(h, byte):
    # fastText XORs each byte as a *signed* char widened to 32 bits, so bytes >= 0x80 set
    # the upper 24 bits too (its issue #539); kept for compatibility with its models.
    signed = np.uint64(byte) | np.uint64(0xFFFFFF00) if byte >= 0x80 else np.uint64(byte)
    return ((h ^ signed) * _FNV32_PRIME) & _LOW32


@njit(nogil=True, cache=True, inline="always")
def both_hashes(buf, start, end):
    """(``hash_bytes``, ``fasttext_hash``) of ``buf[start:end]`` in one pass over the bytes:
    a token's vocabulary slot and its fastText word n-gram hash."""
    h = FNV64_OFFSET
    f = _FNV32_OFFSET
    for i in range(start, end):
        byte = buf[i]
        h ^= np.uint64(byte)
        h *= FNV64_PRIME
        f = _fasttext_step(f, byte)
    return fmix64(h), f


@njit(nogil=True, cache=True)
def fasttext_hash(buf, start, end):
    """fastText's 32-bit FNV-1a hash of ``buf[start:end]``, sign-extension quirk included."""
    h = _FNV32_OFFSET
    for i in range(start, end):
        h = _fasttext_step(h, buf[i])
    return h


@njit(nogil=True, cache=True)
def char_ngram_buckets(word, n, minn, maxn, bucket, out):
    """Bucket ids of the character n-grams of ``word[:n]`` (UTF-8 bytes already wrapped in
    ``<`` and ``>``), in fastText's order: by start character, then by length. N-grams are
    ``minn``..``maxn`` characters long; the lone boundary characters ``<`` and ``>`` are
    skipped. ``out`` needs ``n * maxn`` entries; returns how many were written."""
    count = 0
    if bucket <= 0 or maxn <= 0:
        return 0
    for i in range(n):
        if (word[i] & 0xC0) == 0x80:
            continue
        h = _FNV32_OFFSET
        j = i
        chars = 1
        while j < n and chars <= maxn:
            h = _fasttext_step(h, word[j])
            j += 1
            while j < n and (word[j] & 0xC0) == 0x80:
                h = _fasttext_step(h, word[j])
                j += 1
            if chars >= minn and not (chars == 1 and (i == 0 or j == n)):
                out[count] = np.int64(h % np.uint64(bucket))
                count += 1
            chars += 1
    return count


@njit(nogil=True, cache=True)
def char_ngram_count(word, n, minn, maxn, bucket):
    """How many bucket ids ``char_ngram_buckets`` writes for the same arguments, counted
    from the characters alone (no hashing): what sizing a table of n-gram rows needs."""
    if bucket <= 0 or maxn <= 0:
        return 0
    chars = 0
    for i in range(n):
        if (word[i] & 0xC0) != 0x80:
            chars += 1
    shortest = max(minn, 1)
    count = 0
    for a in range(chars):
        longest = min(maxn, chars - a)
        if longest >= shortest:
            count += longest - shortest + 1
            if shortest == 1 and (a == 0 or a == chars - 1):
                count -= 1
    return count


CHAR_NGRAM_SCHEME = "fasttext-fnv1a32"
"""Facebook fastText's character n-gram hash (32-bit FNV-1a over sign-extended bytes)."""

WORD_NGRAM_SCHEME = "xxh64-of-fnv1a64-fmix64"
"""The name models store for our word n-gram hashing: each word hashed by ``hash_bytes``
(64-bit FNV-1a of its UTF-8 bytes, then MurmurHash3's fmix64), an n-gram hashed by XXH64
(seed 0) of its words' hashes as little-endian 64-bit lanes, its bucket that hash modulo the
bucket count."""

SENT2VEC_NGRAM_SCHEME = "sent2vec-vocabulary-ids"
"""The sent2vec reference's word n-gram hash: ``h = id``, then ``h = h * 116049371 + id`` over
the next words' vocabulary ids (uint64), its bucket ``h`` modulo the bucket count. What its
models use, and models trained here with ``ngram_hash="sent2vec"``."""

_P1 = np.uint64(0x9E3779B185EBCA87)
_P2 = np.uint64(0xC2B2AE3D27D4EB4F)
_P3 = np.uint64(0x165667B19E3779F9)
_P4 = np.uint64(0x85EBCA77C2B2AE63)
_P5 = np.uint64(0x27D4EB2F165667C5)
_V1 = np.uint64((0x9E3779B185EBCA87 + 0xC2B2AE3D27D4EB4F) % (1 << 64))
_V4 = np.uint64((1 << 64) - 0x9E3779B185EBCA87)
_U8 = np.uint64(8)
_S29 = np.uint64(29)
_S32 = np.uint64(32)


@njit(nogil=True, cache=True, inline="always")
def _rotl(x, r):
    return (x << np.uint64(r)) | (x >> np.uint64(64 - r))


@njit(nogil=True, cache=True, inline="always")
def _xxh64_round(acc, lane):
    acc += lane * _P2
    return _rotl(acc, 31) * _P1


@njit(nogil=True, cache=True, inline="always")
def _xxh64_merge(h, v):
    h ^= _xxh64_round(np.uint64(0), v)
    return h * _P1 + _P4


@njit(nogil=True, cache=True)
def hash_ranges(buf, offsets, out):
    """``out[i] = hash_bytes(buf, offsets[i], offsets[i + 1])`` for every range."""
    for i in range(len(offsets) - 1):
        out[i] = hash_bytes(buf, offsets[i], offsets[i + 1])


def vocabulary_hashes(vocab: Vocabulary) -> np.ndarray:
    """The 64-bit hash of every vocabulary word (uint64, in vocabulary order), computed in
    one compiled pass over the vocabulary's UTF-8 blob.

    Each is ``hash_bytes`` of the word's bytes: FNV-1a 64 then MurmurHash3's fmix64, the
    vocabulary index's own hash, so every bit of the word reaches every bit of the hash and
    ``ngram_hash`` can combine them without re-reading any bytes."""
    out = np.empty(len(vocab.offsets) - 1, dtype=np.uint64)
    hash_ranges(vocab.blob, vocab.offsets, out)
    return out


@njit(nogil=True, cache=True)
def ngram_hash(word_hashes, ids, start, n):
    """The 64-bit hash of the n-gram of ``n`` words ``ids[start:start + n]`` (vocabulary
    ids into ``word_hashes``, as ``vocabulary_hashes`` gives them).

    It is XXH64 with seed 0 of the ``8 * n`` bytes of the word hashes as little-endian
    lanes, computed on the lanes directly: each lane is rotated and multiplied into the
    state in turn, so the hash depends on word order ("a b" and "b a" differ) and on
    ``n``, and the final avalanche mixes every bit. Being plain XXH64, any language's xxHash
    library reproduces it."""
    h = np.uint64(0)
    k = 0
    if n >= 4:
        v1 = _V1
        v2 = _P2
        v3 = np.uint64(0)
        v4 = _V4
        while k + 4 <= n:
            v1 = _xxh64_round(v1, word_hashes[ids[start + k]])
            v2 = _xxh64_round(v2, word_hashes[ids[start + k + 1]])
            v3 = _xxh64_round(v3, word_hashes[ids[start + k + 2]])
            v4 = _xxh64_round(v4, word_hashes[ids[start + k + 3]])
            k += 4
        h = _rotl(v1, 1) + _rotl(v2, 7) + _rotl(v3, 12) + _rotl(v4, 18)
        h = _xxh64_merge(h, v1)
        h = _xxh64_merge(h, v2)
        h = _xxh64_merge(h, v3)
        h = _xxh64_merge(h, v4)
    else:
        h = _P5
    h += np.uint64(n) * _U8
    while k < n:
        h ^= _xxh64_round(np.uint64(0), word_hashes[ids[start + k]])
        h = _rotl(h, 27) * _P1 + _P4
        k += 1
    h ^= h >> _S33
    h *= _P2
    h ^= h >> _S29
    h *= _P3
    h ^= h >> _S32
    return h


@njit(nogil=True, cache=True, inline="always")
def ngram_bucket(h, bucket):
    """The bucket (0 .. ``bucket - 1``, int64) of a word n-gram hash: its value modulo the
    bucket count, as fastText takes its buckets. Its input row is ``n_words`` plus this."""
    return np.int64(h % np.uint64(bucket))
