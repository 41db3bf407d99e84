"""Compiled parts of phrase detection: counting adjacent pairs, the merged counts of
word2phrase's single namespace, joining pairs into phrases and writing the rewritten lines.

A pair of adjacent tokens (type ids a, b) is the key ``a << 32 | b``. Pairs are counted by
sorting chunks of keys (numpy's sort, which releases the GIL, so chunks sort on several
threads) and merging the sorted runs with their counts; the table of counted pairs is then a
sorted key array searched by bisection.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from wordspace.hashing import bytes_equal, fmix64
from wordspace.vocab import lookup

_LOW = np.uint64(0xFFFFFFFF)
_SHIFT = np.uint64(32)
EMPTY = np.uint64(0xFFFFFFFFFFFFFFFF)
"""The key of an empty slot of a phrase table (no pair of int32 ids has it)."""


@njit(nogil=True, cache=True)
def pair_keys(ids, start, end, out):
    """``out[j] = ids[start + j] << 32 | ids[start + j + 1]`` for the pairs that start in
    ``[start, end)``; returns how many were written."""
    n = 0
    for i in range(start, end):
        out[n] = (np.uint64(ids[i]) << _SHIFT) | np.uint64(ids[i + 1])
        n += 1
    return n


@njit(nogil=True, cache=True)
def run_counts(sorted_keys, n, out_keys, out_counts):
    """Collapse the sorted ``sorted_keys[:n]`` into distinct keys and how often each
    occurs; returns how many distinct keys there are."""
    m = 0
    i = 0
    while i < n:
        key = sorted_keys[i]
        j = i + 1
        while j < n and sorted_keys[j] == key:
            j += 1
        out_keys[m] = key
        out_counts[m] = j - i
        m += 1
        i = j
    return m


@njit(nogil=True, cache=True)
def merge_counts(keys_a, counts_a, keys_b, counts_b, out_keys, out_counts):
    """Merge two sorted tables of distinct keys, adding the counts of keys in both; returns
    the size of the merged table (``out`` has room for both)."""
    i = j = m = 0
    na, nb = len(keys_a), len(keys_b)
    while i < na and j < nb:
        if keys_a[i] < keys_b[j]:
            out_keys[m] = keys_a[i]
            out_counts[m] = counts_a[i]
            i += 1
        elif keys_b[j] < keys_a[i]:
            out_keys[m] = keys_b[j]
            out_counts[m] = counts_b[j]
            j += 1
        else:
            out_keys[m] = keys_a[i]
            out_counts[m] = counts_a[i] + counts_b[j]
            i += 1
            j += 1
        m += 1
    while i < na:
        out_keys[m] = keys_a[i]
        out_counts[m] = counts_a[i]
        i += 1
        m += 1
    while j < nb:
        out_keys[m] = keys_b[j]
        out_counts[m] = counts_b[j]
        j += 1
        m += 1
    return m


@njit(nogil=True, cache=True, inline="always")
def _pair_index(keys, a, b):
    """Index of the pair (a, b) in the sorted ``keys``, or -1."""
    key = (np.uint64(a) << _SHIFT) | np.uint64(b)
    i = np.searchsorted(keys, key)
    if i < len(keys) and keys[i] == key:
        return i
    return -1


@njit(nogil=True, cache=True)
def delimited(blob, offsets, delimiter, out):
    """``out[t]``: whether type t holds ``delimiter`` (so it may be a phrase of an earlier
    pass, or a token of the input that looks like one)."""
    d = len(delimiter)
    for t in range(len(offsets) - 1):
        out[t] = False
        for p in range(offsets[t], offsets[t + 1] - d + 1):
            if bytes_equal(blob, p, p + d, delimiter, 0, d):
                out[t] = True
                break


@njit(nogil=True, cache=True, inline="always")
def _split_sum(slots, blob, offsets, text, start, end, delimiter, keys, counts):
    """Sum of the pair counts of every way to cut ``text[start:end]`` at a delimiter into
    two known types (left, right): what word2phrase's single table of strings counts for
    that string as a bigram."""
    d = len(delimiter)
    total = 0
    for p in range(start + 1, end - d):
        if not bytes_equal(text, p, p + d, delimiter, 0, d):
            continue
        left = lookup(slots, blob, offsets, text, start, p)
        if left < 0:
            continue
        right = lookup(slots, blob, offsets, text, p + d, end)
        if right < 0:
            continue
        i = _pair_index(keys, left, right)
        if i >= 0:
            total += counts[i]
    return total


@njit(nogil=True, cache=True)
def type_pair_counts(slots, blob, offsets, delimiter, with_delimiter, keys, counts, extra):
    """For each type in ``with_delimiter``: ``extra[t]`` gets the counts of the pairs that
    spell it (word2phrase counts the string "a_b" once as a token and once per pair a, b)."""
    for t in with_delimiter:
        extra[t] = _split_sum(
            slots, blob, offsets, blob, offsets[t], offsets[t + 1], delimiter, keys, counts
        )


@njit(nogil=True, cache=True)
def spelled_pair_counts(
    slots, blob, offsets, delimiter, pairs, keys, counts, type_counts, out
):  # fmt: skip
    """``out[j]`` for each pair index ``pairs[j]``: the count word2phrase gives the string
    "left_right": the merged count of the type it spells when there is one, else the counts
    of all pairs that spell the same string."""
    d = len(delimiter)
    scratch = np.empty(256, dtype=np.uint8)
    for j in range(len(pairs)):
        key = keys[pairs[j]]
        a = np.int64(key >> _SHIFT)
        b = np.int64(key & _LOW)
        la = offsets[a + 1] - offsets[a]
        lb = offsets[b + 1] - offsets[b]
        n = la + d + lb
        if n > len(scratch):
            scratch = np.empty(2 * n, dtype=np.uint8)
        scratch[:la] = blob[offsets[a] : offsets[a + 1]]
        scratch[la : la + d] = delimiter
        scratch[la + d : n] = blob[offsets[b] : offsets[b + 1]]
        t = lookup(slots, blob, offsets, scratch, 0, n)
        if t >= 0:
            out[j] = type_counts[t]
        else:
            out[j] = _split_sum(slots, blob, offsets, scratch, 0, n, delimiter, keys, counts)


@njit(nogil=True, cache=True)
def joined_strings(blob, offsets, lefts, rights, delimiter):
    """The strings left + delimiter + right of the given type pairs: (blob, offsets)."""
    d = len(delimiter)
    n = len(lefts)
    out_offsets = np.empty(n + 1, dtype=np.int64)
    out_offsets[0] = 0
    for i in range(n):
        a, b = lefts[i], rights[i]
        size = offsets[a + 1] - offsets[a] + d + offsets[b + 1] - offsets[b]
        out_offsets[i + 1] = out_offsets[i] + size
    out = np.empty(out_offsets[n], dtype=np.uint8)
    for i in range(n):
        a, b = lefts[i], rights[i]
        w = out_offsets[i]
        la = offsets[a + 1] - offsets[a]
        out[w : w + la] = blob[offsets[a] : offsets[a + 1]]
        out[w + la : w + la + d] = delimiter
        out[w + la + d : out_offsets[i + 1]] = blob[offsets[b] : offsets[b + 1]]
    return out, out_offsets


@njit(nogil=True, cache=True, inline="always")
def _slot(key, mask):
    return np.int64(fmix64(key) & np.uint64(mask))


@njit(nogil=True, cache=True)
def fill_phrase_table(table_keys, table_values, lefts, rights, phrases):
    """Put each pair (lefts[i], rights[i]) -> phrases[i] into the open-addressing table
    (keys all ``EMPTY`` on entry, more slots than pairs)."""
    mask = len(table_keys) - 1
    for i in range(len(lefts)):
        key = (np.uint64(lefts[i]) << _SHIFT) | np.uint64(rights[i])
        slot = _slot(key, mask)
        while table_keys[slot] != EMPTY and table_keys[slot] != key:
            slot = (slot + 1) & mask
        table_keys[slot] = key
        table_values[slot] = phrases[i]


@njit(nogil=True, cache=True, inline="always")
def _phrase_of(table_keys, table_values, a, b):
    """The phrase that joins types a and b, or -1 (also for negative ids: unknown tokens)."""
    if a < 0 or b < 0:
        return -1
    key = (np.uint64(a) << _SHIFT) | np.uint64(b)
    mask = len(table_keys) - 1
    slot = _slot(key, mask)
    while True:
        k = table_keys[slot]
        if k == key:
            return table_values[slot]
        if k == EMPTY:
            return -1
        slot = (slot + 1) & mask


@njit(nogil=True, cache=True)
def join_lines(ids, starts, first_line, end_line, table_keys, table_values, out, out_starts):
    """Rewrite lines ``[first_line, end_line)`` with every pair of the phrase table joined,
    as word2phrase does: left to right, a token joins the one before it unless that one was
    itself just joined (each pass makes phrases of at most two of its tokens), never across a
    line end. The lines are written from ``out[starts[first_line]]`` on (they only shrink);
    ``out_starts[i]`` gets where line ``first_line + i`` begins. Returns the end written."""
    w = starts[first_line]
    for line in range(first_line, end_line):
        out_starts[line - first_line] = w
        joined = True
        for i in range(starts[line], starts[line + 1]):
            t = ids[i]
            if not joined:
                p = _phrase_of(table_keys, table_values, out[w - 1], t)
                if p >= 0:
                    out[w - 1] = p
                    joined = True
                    continue
            out[w] = t
            w += 1
            joined = False
    return w


@njit(nogil=True, cache=True)
def format_lines(blob, offsets, ids, starts, first_line, end_line, space, newline, out):
    """Write lines from ``first_line`` on as text (tokens between single ``space`` bytes,
    each line ended by a ``newline`` byte) into ``out`` until the next line would not fit
    or ``end_line`` is reached: (bytes written, first line not written)."""
    w = 0
    line = first_line
    while line < end_line:
        size = 1
        for i in range(starts[line], starts[line + 1]):
            t = ids[i]
            size += offsets[t + 1] - offsets[t] + 1
        if starts[line + 1] > starts[line]:
            size -= 1
        if w + size > len(out):
            break
        for i in range(starts[line], starts[line + 1]):
            if i > starts[line]:
                out[w] = space
                w += 1
            t = ids[i]
            n = offsets[t + 1] - offsets[t]
            out[w : w + n] = blob[offsets[t] : offsets[t + 1]]
            w += n
        out[w] = newline
        w += 1
        line += 1
    return w, line


@njit(nogil=True, cache=True)
def token_spans(data, byte_class, token_starts, token_ends, line_starts):
    """Split ``data`` into tokens and lines by the scanner's byte classes (every line end
    ends a line, blank lines too; text after the last one is a last line): returns (tokens,
    lines); line i holds tokens ``line_starts[i]:line_starts[i + 1]``."""
    n = 0
    lines = 0
    pos = 0
    end = len(data)
    line_starts[0] = 0
    open_line = False
    while pos < end:
        c = byte_class[data[pos]]
        if c == 2:
            lines += 1
            line_starts[lines] = n
            open_line = False
            pos += 1
            continue
        if c == 1:
            pos += 1
            continue
        token_starts[n] = pos
        while pos < end and byte_class[data[pos]] == 0:
            pos += 1
        token_ends[n] = pos
        n += 1
        open_line = True
    if open_line:
        lines += 1
        line_starts[lines] = n
    return n, lines


@njit(nogil=True, cache=True)
def plain_split_pairs(slots, blob, offsets, delimiter, with_delimiter, has_delimiter, keys, out):
    """``out[j]``: the index of the counted pair (left, right) that spells type
    ``with_delimiter[j]`` with neither part holding the delimiter, or -1 (a string has at
    most one such spelling)."""
    d = len(delimiter)
    for j in range(len(with_delimiter)):
        t = with_delimiter[j]
        out[j] = -1
        start, end = offsets[t], offsets[t + 1]
        for p in range(start + 1, end - d):
            if not bytes_equal(blob, p, p + d, delimiter, 0, d):
                continue
            left = lookup(slots, blob, offsets, blob, start, p)
            right = lookup(slots, blob, offsets, blob, p + d, end)
            if left >= 0 and right >= 0 and not has_delimiter[left] and not has_delimiter[right]:
                out[j] = _pair_index(keys, left, right)
                break


@njit(nogil=True, cache=True)
def formatted_size(offsets, ids, starts, first_line, end_line):
    """Bytes ``format_lines`` writes for lines ``[first_line, end_line)``."""
    size = 0
    for line in range(first_line, end_line):
        size += 1
        for i in range(starts[line], starts[line + 1]):
            t = ids[i]
            size += offsets[t + 1] - offsets[t] + 1
        if starts[line + 1] > starts[line]:
            size -= 1
    return size
