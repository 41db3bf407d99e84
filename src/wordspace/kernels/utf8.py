"""UTF-8 validation and repair over byte arrays, with Python's ``errors=`` semantics.

Each maximal ill-formed subsequence (the longest prefix of a valid sequence, or one byte)
is replaced by U+FFFD, or dropped, exactly as ``bytes.decode("utf-8", errors)`` does.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_REPLACEMENT = (0xEF, 0xBF, 0xBD)


@njit(nogil=True, cache=True)
def _utf8_sequence_length(buf, i, end):
    """Length of the valid UTF-8 sequence at ``buf[i]``, or minus the length of the maximal
    ill-formed subpart to replace (at least 1)."""
    b0 = buf[i]
    if b0 < 0x80:
        return 1
    if 0xC2 <= b0 <= 0xDF:
        need = 1
        lo, hi = 0x80, 0xBF
    elif b0 == 0xE0:
        need = 2
        lo, hi = 0xA0, 0xBF
    elif b0 == 0xED:
        need = 2
        lo, hi = 0x80, 0x9F
    elif 0xE1 <= b0 <= 0xEF:
        need = 2
        lo, hi = 0x80, 0xBF
    elif b0 == 0xF0:
        need = 3
        lo, hi = 0x90, 0xBF
    elif 0xF1 <= b0 <= 0xF3:
        need = 3
        lo, hi = 0x80, 0xBF
    elif b0 == 0xF4:
        need = 3
        lo, hi = 0x80, 0x8F
    else:
        return -1
    for k in range(1, need + 1):
        j = i + k
        if j >= end:
            return -k
        b = buf[j]
        if k == 1:
            ok = lo <= b <= hi
        else:
            ok = 0x80 <= b <= 0xBF
        if not ok:
            return -k
    return need + 1


@njit(nogil=True, cache=True)
def repair_utf8(buf, start, end, out):
    """Copy ``buf[start:end]`` to ``out`` with ill-formed parts replaced by U+FFFD.

    Returns (bytes written, number of replacements); ``out`` needs 3 bytes per input byte.
    """
    n = 0
    bad = 0
    i = start
    while i < end:
        k = _utf8_sequence_length(buf, i, end)
        if k > 0:
            for j in range(k):
                out[n + j] = buf[i + j]
            n += k
            i += k
        else:
            out[n] = _REPLACEMENT[0]
            out[n + 1] = _REPLACEMENT[1]
            out[n + 2] = _REPLACEMENT[2]
            n += 3
            bad += 1
            i += -k
    return n, bad


@njit(nogil=True, cache=True)
def repair_strings(blob, offsets, drop):
    """Repair every string of a (blob, offsets) list: (new blob, new offsets, bad count).

    Ill-formed parts become U+FFFD, or vanish when ``drop`` is true.
    """
    n = len(offsets) - 1
    out = np.empty(3 * len(blob), dtype=np.uint8)
    new_offsets = np.empty(n + 1, dtype=np.int64)
    new_offsets[0] = 0
    scratch = np.empty(3 * len(blob), dtype=np.uint8)
    w = 0
    bad_total = 0
    for i in range(n):
        a = offsets[i]
        b = offsets[i + 1]
        if drop:
            j = a
            while j < b:
                k = _utf8_sequence_length(blob, j, b)
                if k > 0:
                    for t in range(k):
                        out[w + t] = blob[j + t]
                    w += k
                    j += k
                else:
                    bad_total += 1
                    j += -k
        else:
            m, bad = repair_utf8(blob, a, b, scratch)
            out[w : w + m] = scratch[:m]
            w += m
            bad_total += bad
        new_offsets[i + 1] = w
    return out[:w].copy(), new_offsets, bad_total
