"""Compiled reading and writing of fastText's dictionary records.

A record is the word's bytes, a NUL, its count (int64, little-endian) and its type (int8:
0 word, 1 label). Records have no length prefix, so they are scanned; every read is
bounds-checked against the end of the buffer.
"""

from __future__ import annotations

import numpy as np
from numba import njit

OK = 0
TRUNCATED = 1


@njit(nogil=True, cache=True)
def _int64_at(buf, pos):
    value = np.int64(0)
    for k in range(7, -1, -1):
        value = (value << np.int64(8)) | np.int64(buf[pos + k])
    return value


@njit(nogil=True, cache=True)
def parse_entries(buf, pos, end, starts, ends, counts, types):
    """Parse ``len(starts)`` records from ``buf[pos:end]``; returns (status, records read,
    position after them)."""
    for i in range(len(starts)):
        starts[i] = pos
        while pos < end and buf[pos] != 0:
            pos += 1
        if pos + 10 > end:
            return TRUNCATED, i, pos
        ends[i] = pos
        counts[i] = _int64_at(buf, pos + 1)
        types[i] = buf[pos + 9]
        pos += 10
    return OK, len(starts), pos


@njit(nogil=True, cache=True)
def format_entries(blob, offsets, counts, entry_type):
    """The records of the words in (blob, offsets), all of type ``entry_type``."""
    n = len(offsets) - 1
    out = np.empty(len(blob) + 10 * n, dtype=np.uint8)
    w = 0
    for i in range(n):
        a = offsets[i]
        b = offsets[i + 1]
        out[w : w + b - a] = blob[a:b]
        w += b - a
        out[w] = 0
        value = np.int64(counts[i])
        for k in range(8):
            out[w + 1 + k] = np.uint8((value >> np.int64(8 * k)) & np.int64(0xFF))
        out[w + 9] = entry_type
        w += 10
    return out
