"""Compiled readers and writers of word-vector files: rows of a word followed by its floats.

Parsing and formatting run over whole byte buffers, so loading or writing millions of rows
costs no Python work per word or per number. Statuses name what went wrong and where; the
Python side turns them into messages.
"""

from __future__ import annotations

import numpy as np
from numba import njit

OK = 0
TRUNCATED = 1
BAD_NUMBER = 2
TOO_MANY_VALUES = 3
EMPTY_WORD = 4
TOO_FEW_VALUES = 5

_POW10 = np.array([10.0**i for i in range(23)], dtype=np.float64)


@njit(nogil=True, cache=True, inline="always")
def _is_blank(b):
    return b == 32 or b == 9 or b == 13


@njit(nogil=True, cache=True)
def _scale(mantissa, exponent):
    value = np.float64(mantissa)
    while exponent > 22:
        value *= 1e22
        exponent -= 22
    while exponent < -22:
        value /= 1e22
        exponent += 22
    if exponent >= 0:
        return value * _POW10[exponent]
    return value / _POW10[-exponent]


@njit(nogil=True, cache=True)
def _match_word(buf, i, end, word):
    n = len(word)
    if i + n > end:
        return False
    for k in range(n):
        c = buf[i + k]
        if c >= 65 and c <= 90:
            c += 32
        if c != word[k]:
            return False
    return True


_NAN = np.frombuffer(b"nan", dtype=np.uint8).copy()
_INF = np.frombuffer(b"inf", dtype=np.uint8).copy()
_INFINITY = np.frombuffer(b"infinity", dtype=np.uint8).copy()


@njit(nogil=True, cache=True)
def parse_float(buf, i, end):
    """Parse a decimal float (C ``strtod`` syntax, also nan/inf) starting at ``buf[i]``.

    Returns (value, index after it); the index equals ``i`` when no number is there.
    """
    start = i
    negative = False
    if i < end and (buf[i] == 45 or buf[i] == 43):
        negative = buf[i] == 45
        i += 1
    if _match_word(buf, i, end, _INFINITY):
        return (-np.inf if negative else np.inf), i + 8
    if _match_word(buf, i, end, _INF):
        return (-np.inf if negative else np.inf), i + 3
    if _match_word(buf, i, end, _NAN):
        return np.nan, i + 3
    mantissa = np.int64(0)
    exponent = 0
    digits = 0
    while i < end and 48 <= buf[i] <= 57:
        if mantissa < 100000000000000000:
            mantissa = mantissa * 10 + (buf[i] - 48)
        else:
            exponent += 1
        digits += 1
        i += 1
    if i < end and buf[i] == 46:
        i += 1
        while i < end and 48 <= buf[i] <= 57:
            if mantissa < 100000000000000000:
                mantissa = mantissa * 10 + (buf[i] - 48)
                exponent -= 1
            digits += 1
            i += 1
    if digits == 0:
        return 0.0, start
    if i < end and (buf[i] == 101 or buf[i] == 69):
        j = i + 1
        exp_negative = False
        if j < end and (buf[j] == 45 or buf[j] == 43):
            exp_negative = buf[j] == 45
            j += 1
        if j < end and 48 <= buf[j] <= 57:
            e = 0
            while j < end and 48 <= buf[j] <= 57:
                if e < 100000:
                    e = e * 10 + (buf[j] - 48)
                j += 1
            exponent += -e if exp_negative else e
            i = j
    value = _scale(mantissa, exponent)
    return (-value if negative else value), i


@njit(nogil=True, cache=True)
def _only_blank_after(buf, pos, end):
    """Whether ``buf[pos:end]`` holds nothing but blanks and newlines."""
    while pos < end:
        if not (_is_blank(buf[pos]) or buf[pos] == 10):
            return False
        pos += 1
    return True


@njit(nogil=True, cache=True)
def parse_text_rows(buf, pos, end, n_rows, out, word_starts, word_ends):
    """Parse ``n_rows`` text rows "word v1 ... vd" from ``buf[pos:end]`` into ``out``.

    Blank lines before a row are skipped; trailing blanks and CR are allowed. Returns
    (status, row reached, position reached): a row that stops short of ``d`` values is
    TOO_FEW_VALUES when more rows follow it, TRUNCATED when the file ends there.
    """
    dim = out.shape[1]
    for r in range(n_rows):
        while pos < end and (_is_blank(buf[pos]) or buf[pos] == 10):
            pos += 1
        if pos >= end:
            return TRUNCATED, r, pos
        word_starts[r] = pos
        while pos < end and not _is_blank(buf[pos]) and buf[pos] != 10:
            pos += 1
        word_ends[r] = pos
        for j in range(dim):
            while pos < end and _is_blank(buf[pos]):
                pos += 1
            if pos >= end:
                return TRUNCATED, r, pos
            if buf[pos] == 10:
                status = TRUNCATED if _only_blank_after(buf, pos, end) else TOO_FEW_VALUES
                return status, r, pos
            value, after = parse_float(buf, pos, end)
            if after == pos or (after < end and not _is_blank(buf[after]) and buf[after] != 10):
                return BAD_NUMBER, r, pos
            out[r, j] = value
            pos = after
        while pos < end and _is_blank(buf[pos]):
            pos += 1
        if pos < end and buf[pos] != 10:
            return TOO_MANY_VALUES, r, pos
    return OK, n_rows, pos


@njit(nogil=True, cache=True)
def parse_binary_rows(buf, pos, end, n_rows, dim, out_bytes, word_starts, word_ends):
    """Parse ``n_rows`` binary rows "word " + ``dim`` little-endian float32 (+ optional
    newline) into ``out_bytes`` (the uint8 view of a float32 matrix).

    Returns (status, row reached, position reached).
    """
    row_bytes = 4 * dim
    for r in range(n_rows):
        while pos < end and (buf[pos] == 10 or buf[pos] == 13):
            pos += 1
        word_starts[r] = pos
        while pos < end and buf[pos] != 32:
            pos += 1
        if pos >= end:
            return TRUNCATED, r, pos
        word_ends[r] = pos
        if word_ends[r] == word_starts[r]:
            return EMPTY_WORD, r, pos
        pos += 1
        if pos + row_bytes > end:
            return TRUNCATED, r, pos
        source = buf[pos : pos + row_bytes]
        target = out_bytes[r * row_bytes : (r + 1) * row_bytes]
        for k in range(row_bytes):
            target[k] = source[k]
        pos += row_bytes
    return OK, n_rows, pos


@njit(nogil=True, cache=True)
def _write_fixed(out, n, value, decimals, scale):
    if value != value:
        out[n] = 110
        out[n + 1] = 97
        out[n + 2] = 110
        return n + 3
    if value < 0:
        out[n] = 45
        n += 1
        value = -value
    if value == np.inf:
        out[n] = 105
        out[n + 1] = 110
        out[n + 2] = 102
        return n + 3
    scaled = np.int64(np.rint(value * scale))
    whole = scaled // np.int64(scale)
    frac = scaled - whole * np.int64(scale)
    digits = 0
    w = whole
    while True:
        digits += 1
        w //= 10
        if w == 0:
            break
    w = whole
    for k in range(digits - 1, -1, -1):
        out[n + k] = 48 + w % 10
        w //= 10
    n += digits
    if decimals > 0:
        out[n] = 46
        n += 1
        for k in range(decimals - 1, -1, -1):
            out[n + k] = 48 + frac % 10
            frac //= 10
        n += decimals
    return n


@njit(nogil=True, cache=True)
def format_text_rows(blob, offsets, matrix, decimals, out):
    """Write rows "word v1 v2 ... vd \\n" with each value as C's ``%.{decimals}f``, the
    word2vec tool's own layout (it prints "%lf " after every value).

    ``out`` must be large enough (see ``text_rows_bound``); returns the bytes written, or -1
    when a value is too large for fixed-point output.
    """
    scale = 10.0**decimals
    n = 0
    limit = 9.0e18 / scale
    for r in range(matrix.shape[0]):
        a = offsets[r]
        b = offsets[r + 1]
        for k in range(b - a):
            out[n + k] = blob[a + k]
        n += b - a
        out[n] = 32
        n += 1
        for j in range(matrix.shape[1]):
            value = np.float64(matrix[r, j])
            if abs(value) >= limit and value == value and abs(value) != np.inf:
                return -1
            n = _write_fixed(out, n, value, decimals, scale)
            out[n] = 32
            n += 1
        out[n] = 10
        n += 1
    return n


def text_rows_bound(blob_size: int, rows: int, dim: int, decimals: int) -> int:
    """Bytes ``format_text_rows`` may need at most (values below 9e18 / 10**decimals)."""
    return blob_size + rows * (2 + dim * (decimals + 22))


@njit(nogil=True, cache=True)
def gather_ranges(buf, starts, ends):
    """Concatenate ``buf[starts[i]:ends[i]]`` for all i: (blob, offsets)."""
    n = len(starts)
    offsets = np.empty(n + 1, dtype=np.int64)
    offsets[0] = 0
    for i in range(n):
        offsets[i + 1] = offsets[i] + ends[i] - starts[i]
    blob = np.empty(offsets[n], dtype=np.uint8)
    for i in range(n):
        blob[offsets[i] : offsets[i + 1]] = buf[starts[i] : ends[i]]
    return blob, offsets


@njit(nogil=True, cache=True)
def format_binary_rows(blob, offsets, row_bytes, out):
    """Write rows "word " + the row's float32 bytes + "\\n", the word2vec tool's layout;
    ``row_bytes`` is the uint8 view (rows x 4*dim) of the little-endian matrix."""
    n = 0
    width = row_bytes.shape[1]
    for r in range(row_bytes.shape[0]):
        a = offsets[r]
        b = offsets[r + 1]
        out[n : n + b - a] = blob[a:b]
        n += b - a
        out[n] = 32
        n += 1
        out[n : n + width] = row_bytes[r]
        n += width
        out[n] = 10
        n += 1
    return n


@njit(nogil=True, cache=True)
def nonfinite_rows(matrix):
    """(index of the first row holding NaN or infinity or -1, number of such rows)."""
    first = -1
    count = 0
    for r in range(matrix.shape[0]):
        for k in range(matrix.shape[1]):
            value = matrix[r, k]
            if value != value or value == np.inf or value == -np.inf:
                if first < 0:
                    first = r
                count += 1
                break
    return first, count
