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
