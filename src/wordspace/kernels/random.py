"""A tiny random-number generator for kernels: SplitMix64 over a one-element state array.

Each unit of work (a chunk of the corpus in one epoch) seeds its own state from the run's
seed, so results do not depend on which thread happens to take which chunk.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S32 = np.uint64(32)
_S11 = np.uint64(11)
_LOW32 = np.uint64(0xFFFFFFFF)
_INV_2_53 = 1.0 / 9007199254740992.0
_INV_2_32 = np.float32(1.0 / 4294967296.0)


@njit(nogil=True, cache=True, inline="always")
def next_u64(state) -> np.uint64:
    """Advance ``state`` (uint64[1]) and return 64 random bits."""
    state[0] += _GAMMA
    z = state[0]
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(nogil=True, cache=True, inline="always")
def uniform(state) -> float:
    """A float64 uniform in [0, 1)."""
    return np.float64(next_u64(state) >> _S11) * _INV_2_53


@njit(nogil=True, cache=True, inline="always")
def below(state, n) -> int:
    """An integer uniform in [0, n), for n < 2**32."""
    return np.int64(((next_u64(state) >> _S32) * np.uint64(n)) >> _S32)


@njit(nogil=True, cache=True, inline="always")
def index_and_fraction(state, n):
    """One draw split in two: an index uniform in [0, n) and a float32 uniform in [0, 1)."""
    r = next_u64(state)
    return (
        np.int64(((r >> _S32) * np.uint64(n)) >> _S32),
        np.float32(r & _LOW32) * _INV_2_32,
    )


@njit(nogil=True, cache=True)
def seeded(seed, stream_a, stream_b):
    """A fresh state for work item (``stream_a``, ``stream_b``) of a run seeded ``seed``."""
    state = np.empty(1, dtype=np.uint64)
    state[0] = np.uint64(seed)
    state[0] = next_u64(state) ^ np.uint64(stream_a)
    state[0] = next_u64(state) ^ np.uint64(stream_b)
    next_u64(state)
    return state
