"""Numbers as C++ streams print them, written compiled: fastText's ``predict-prob`` lines
and the reference sent2vec's vector lines.

``std::cout`` prints with precision ``p`` as C's ``%.pg``: ``p`` significant digits,
trailing zeros dropped, scientific notation below 1e-4 (``1e-05``); fastText's
probabilities use the default 6, sent2vec's vectors 5. The digits here are the correctly
rounded ones for every value except those within a millionth of a digit of a rounding tie,
whose lines are left out and reported so that the caller prints them the exact way (a
binary value is almost never that close).
"""

from __future__ import annotations

import numpy as np
from numba import njit

_DIGITS = 6
"""fastText's probabilities: std::cout's default precision."""
_SPACE = 32
_NEWLINE = 10
_ZERO = 48
_TIE_MARGIN = 1e-6
_POWERS = 10.0 ** np.arange(0, 23)
"""Powers of ten that a float64 holds exactly."""
_LONGEST_NUMBER = 12
"""Bytes of the longest ``%.6g`` written here (``1.23457e-16`` has 11)."""


@njit(nogil=True, cache=True)
def significant_digits(value, precision):
    """(digits, exponent): positive ``value`` ~= digits * 10**(exponent - precision + 1)
    with ``digits`` of exactly ``precision`` digits, correctly rounded; digits -1 where the
    value is too close to a tie, or out of the range that is computed exactly (1e-16 to
    1e16)."""
    if not (1e-16 <= value < 1e16):
        return -1, 0
    low = 10.0 ** (precision - 1) - 0.5
    high = 10.0**precision - 0.5
    exponent = int(np.floor(np.log10(value)))
    for _ in range(3):
        shift = precision - 1 - exponent
        scaled = value * _POWERS[shift] if shift >= 0 else value / _POWERS[-shift]
        if scaled < low:
            exponent -= 1
            continue
        if scaled >= high:
            exponent += 1
            continue
        whole = np.floor(scaled)
        if abs(scaled - whole - 0.5) < _TIE_MARGIN:
            return -1, 0
        digits = int(whole) + (1 if scaled - whole > 0.5 else 0)
        return digits, exponent
    return -1, 0


@njit(nogil=True, cache=True)
def write_general(digits, exponent, precision, out, pos):
    """Write ``digits * 10**(exponent - precision + 1)`` as ``%.{precision}g`` at
    ``out[pos:]``; returns the end."""
    text = np.empty(precision, dtype=np.uint8)
    for k in range(precision - 1, -1, -1):
        text[k] = _ZERO + digits % 10
        digits //= 10
    used = precision
    while used > 1 and text[used - 1] == _ZERO:
        used -= 1
    if exponent < -4 or exponent >= precision:
        out[pos] = text[0]
        pos += 1
        if used > 1:
            out[pos] = 46  # "."
            pos += 1
            for k in range(1, used):
                out[pos] = text[k]
                pos += 1
        out[pos] = 101  # "e"
        out[pos + 1] = 45 if exponent < 0 else 43  # "-" or "+"
        pos += 2
        size = abs(exponent)
        out[pos] = _ZERO + (size // 10) % 10
        out[pos + 1] = _ZERO + size % 10
        return pos + 2
    if exponent < 0:
        out[pos] = _ZERO
        out[pos + 1] = 46
        pos += 2
        for _ in range(-exponent - 1):
            out[pos] = _ZERO
            pos += 1
        for k in range(used):
            out[pos] = text[k]
            pos += 1
        return pos
    for k in range(exponent + 1):
        out[pos] = text[k]
        pos += 1
    if used > exponent + 1:
        out[pos] = 46
        pos += 1
        for k in range(exponent + 1, used):
            out[pos] = text[k]
            pos += 1
    return pos


@njit(nogil=True, cache=True, inline="always")
def _end_line(out, start, pos, left_out):
    """End the line begun at ``start``: its newline, or nothing at all for a line left out
    (rewound to ``start``); returns where the next line begins."""
    if left_out:
        return start
    out[pos] = _NEWLINE
    return pos + 1


@njit(nogil=True, cache=True)
def vector_lines(matrix, precision):
    """The bytes of one line per row of ``matrix`` as the reference sent2vec prints a
    vector (``std::cout << setprecision(precision)``): every component as ``%.{p}g``
    followed by a space (``0`` and ``-0`` for zeros), then a newline. Returns (bytes,
    line ends, left out): a row holding a component too close to a rounding tie, or too far
    from 1, to be printed exactly here is left out (its line empty, not even a newline) and
    flagged, for the caller to print it the exact way."""
    rows, dim = matrix.shape
    out = np.empty(rows * (dim * (precision + 8) + 1), dtype=np.uint8)
    ends = np.zeros(rows + 1, dtype=np.int64)
    left_out = np.zeros(rows, dtype=np.bool_)
    pos = 0
    for i in range(rows):
        start = pos
        for j in range(dim):
            value = np.float64(matrix[i, j])
            if value < 0 or (value == 0 and np.signbit(value)):
                out[pos] = 45  # "-"
                pos += 1
                value = -value
            if value == 0:
                out[pos] = _ZERO
                pos += 1
            else:
                digits, exponent = significant_digits(value, precision)
                if digits < 0:
                    left_out[i] = True
                    break
                pos = write_general(digits, exponent, precision, out, pos)
            out[pos] = _SPACE
            pos += 1
        pos = _end_line(out, start, pos, left_out[i])
        ends[i + 1] = pos
    return out[:pos], ends, left_out


@njit(nogil=True, cache=True)
def prediction_lines(blob, offsets, ids, probs):
    """The bytes of one line per row of ``ids`` (label ids, -1 for none) and ``probs``:
    ``LABEL PROB`` pairs separated by spaces, ``PROB`` as ``%.6g``, labels' UTF-8 in
    ``blob[offsets[i]:offsets[i + 1]]``; an empty line where a row has no label. Returns
    (bytes, line ends, left out) as ``vector_lines``."""
    longest = 0
    for i in range(len(offsets) - 1):
        longest = max(longest, offsets[i + 1] - offsets[i])
    rows, k = ids.shape
    out = np.empty(rows * (k * (longest + 2 + _LONGEST_NUMBER) + 1), dtype=np.uint8)
    ends = np.zeros(rows + 1, dtype=np.int64)
    left_out = np.zeros(rows, dtype=np.bool_)
    pos = 0
    for i in range(rows):
        start = pos
        first = True
        for j in range(k):
            label = ids[i, j]
            if label < 0:
                continue
            digits, exponent = significant_digits(probs[i, j], _DIGITS)
            if digits < 0:
                left_out[i] = True
                break
            if not first:
                out[pos] = _SPACE
                pos += 1
            first = False
            for b in range(offsets[label], offsets[label + 1]):
                out[pos] = blob[b]
                pos += 1
            out[pos] = _SPACE
            pos = write_general(digits, exponent, _DIGITS, out, pos + 1)
        pos = _end_line(out, start, pos, left_out[i])
        ends[i + 1] = pos
    return out[:pos], ends, left_out


def with_lines_restored(text: np.ndarray, ends: np.ndarray, left_out: np.ndarray, line) -> bytes:
    """``text`` (as the kernels above write it) with each left-out row ``i`` printed by
    ``line(i)`` (bytes, newline included) in its place."""
    if not left_out.any():
        return text.tobytes()
    parts = []
    done = 0
    for i in np.flatnonzero(left_out).tolist():
        parts.append(text[done : ends[i]].tobytes())
        parts.append(line(i))
        done = ends[i]
    parts.append(text[done:].tobytes())
    return b"".join(parts)
