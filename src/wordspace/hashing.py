"""Hash functions over byte strings, shared by the vocabulary index and feature hashing.

Token hashes are 64-bit FNV-1a followed by the MurmurHash3 finaliser, so that the low bits
used to pick a hash-table slot are well mixed even for short, similar words.
"""

from __future__ import annotations

import numpy as np
from numba import njit

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
