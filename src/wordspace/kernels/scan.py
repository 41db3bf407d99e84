"""Tokenising, counting and encoding raw bytes in one compiled pass.

The scanner walks a block of bytes, splits it into tokens at separator bytes, repairs
invalid UTF-8 (each maximal ill-formed subsequence becomes U+FFFD, as Python's
``errors="replace"`` does), hashes each token once into an open-addressing table of token
types, counts it, and writes its type id to the output. It never allocates the big arrays
itself: when one is full it stops where it is and returns a status naming the array, so the
Python side can grow it and call again from the same position.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from wordspace.hashing import bytes_equal, fmix64, hash_bytes
from wordspace.kernels.utf8 import repair_utf8

# Byte classes.
TOKEN = 0
SEPARATOR = 1
LINE_END = 2

# Positions in the int64 state array.
POS = 0
N_TYPES = 1
ARENA_USED = 2
N_IDS = 3
N_LINES = 4
INVALID_SEQUENCES = 5
LINE_NO = 6
FIRST_INVALID_LINE = 7
LINE_OPEN = 8
ORDER_BASE = 9
KEEP_BLANK = 10
STATE_SIZE = 11

# Statuses.
DONE = 0
GROW_TABLE = 1
GROW_ARENA = 2
GROW_TYPES = 3
GROW_LINES = 4
GROW_IDS = 5


SHORT_TOKEN = 7
"""Tokens of up to this many bytes are their own exact table key (bytes plus length)."""
_KEY_BITS = np.uint64(0x00FFFFFFFFFFFFFF)


@njit(nogil=True, cache=True, inline="always")
def token_key(src, s, e):
    """(table key, 64-bit hash) of the token ``src[s:e]``.

    A token of up to ``SHORT_TOKEN`` bytes is keyed by its bytes and length packed into one
    word (the length in the top byte), so equal keys mean equal tokens and the lookup needs
    no second memory access; the key's mixed bits are its hash. A longer token is keyed by
    the low 56 bits of its byte hash (top byte zero, so it never equals a short key) and
    confirmed by comparing its bytes.
    """
    n = e - s
    if n <= SHORT_TOKEN:
        key = np.uint64(n) << np.uint64(56)
        for i in range(n):
            key |= np.uint64(src[s + i]) << np.uint64(8 * i)
        return key, fmix64(key)
    h = hash_bytes(src, s, e)
    return h & _KEY_BITS, h


@njit(nogil=True, cache=True, inline="always")
def _find_type(table, type_offsets, arena, src, s, e, key, h):
    """Slot of the token ``src[s:e]``: (slot, type id or -1 when absent).

    ``table`` holds (key, type id) per slot, type id -1 when the slot is empty; linear
    probing from the hash's low bits.
    """
    mask = table.shape[0] - 1
    slot = np.int64(h & np.uint64(mask))
    short = e - s <= SHORT_TOKEN
    while True:
        t = table[slot, 1]
        if t < 0:
            return slot, -1
        if np.uint64(table[slot, 0]) == key and (
            short or bytes_equal(arena, type_offsets[t], type_offsets[t + 1], src, s, e)
        ):
            return slot, t
        slot = (slot + 1) & mask


@njit(nogil=True, cache=True)
def rehash(table, type_offsets, arena, n_types):
    """Fill an empty table (type ids all -1) with the first ``n_types`` types."""
    mask = table.shape[0] - 1
    for t in range(n_types):
        key, h = token_key(arena, type_offsets[t], type_offsets[t + 1])
        slot = np.int64(h & np.uint64(mask))
        while table[slot, 1] >= 0:
            slot = (slot + 1) & mask
        table[slot, 0] = np.int64(key)
        table[slot, 1] = t


@njit(nogil=True, cache=True, inline="always")
def _insert_type(table, slot, key, type_offsets, arena, arena_used, src, s, e, t):
    """Store token ``src[s:e]`` as type ``t`` in the empty ``slot``; returns the new arena
    fill. The caller has checked that the arrays have room."""
    for k in range(e - s):
        arena[arena_used + k] = src[s + k]
    arena_used += e - s
    type_offsets[t + 1] = arena_used
    table[slot, 0] = np.int64(key)
    table[slot, 1] = t
    return arena_used


@njit(nogil=True, cache=True)
def scan(
    buf,
    end,
    final,
    byte_class,
    state,
    table,
    type_offsets,
    arena,
    counts,
    first_seen,
    out_ids,
    out_line_ends,
):
    """Tokenise, count and encode ``buf[state[POS]:end]``; see the module docstring.

    When ``final`` is false a token touching ``end`` may continue in the next block, so
    scanning stops before it and ``state[POS]`` says where the unread rest begins. A new
    type's ``first_seen`` is ``state[ORDER_BASE]`` plus its position in ``out_ids``, so that
    types found by several scanners can be put in order of first occurrence. With
    ``state[KEEP_BLANK]`` set every line end is recorded, so blank lines are kept as empty
    lines (phrase detection rewrites a corpus line for line); otherwise only lines with
    tokens are.
    """
    pos = state[POS]
    n_types = state[N_TYPES]
    arena_used = state[ARENA_USED]
    n_ids = state[N_IDS]
    n_lines = state[N_LINES]
    line_open = state[LINE_OPEN]
    line_no = state[LINE_NO]
    keep_blank = state[KEEP_BLANK]
    status = DONE
    scratch = np.empty(0, dtype=np.uint8)
    max_types = len(counts)
    while pos < end:
        c = byte_class[buf[pos]]
        if c == SEPARATOR:
            pos += 1
            continue
        if c == LINE_END:
            if line_open or keep_blank:
                if n_lines >= len(out_line_ends):
                    status = GROW_LINES
                    break
                out_line_ends[n_lines] = n_ids
                n_lines += 1
                line_open = 0
            line_no += 1
            pos += 1
            continue
        s = pos
        high = np.uint8(0)
        while pos < end and byte_class[buf[pos]] == TOKEN:
            high |= buf[pos]
            pos += 1
        e = pos
        if e == end and not final:
            pos = s
            break
        if n_ids >= len(out_ids):
            pos = s
            status = GROW_IDS
            break
        src = buf
        ss = s
        se = e
        bad = 0
        if high >= 0x80:
            if len(scratch) < 3 * (e - s):
                scratch = np.empty(3 * (e - s), dtype=np.uint8)
            n, bad = repair_utf8(buf, s, e, scratch)
            if bad:
                src = scratch
                ss = 0
                se = n
        key, h = token_key(src, ss, se)
        slot, t = _find_type(table, type_offsets, arena, src, ss, se, key, h)
        if t < 0:
            if n_types >= max_types:
                status = GROW_TYPES
            elif arena_used + (se - ss) > len(arena):
                status = GROW_ARENA
            elif 2 * (n_types + 1) > table.shape[0]:
                status = GROW_TABLE
            if status != DONE:
                pos = s
                break
            t = n_types
            arena_used = _insert_type(
                table, slot, key, type_offsets, arena, arena_used, src, ss, se, t
            )
            first_seen[t] = state[ORDER_BASE] + n_ids
            n_types += 1
        if bad:
            if state[FIRST_INVALID_LINE] < 0:
                state[FIRST_INVALID_LINE] = line_no + 1
            state[INVALID_SEQUENCES] += bad
        counts[t] += 1
        out_ids[n_ids] = t
        n_ids += 1
        line_open = 1
    if status == DONE and final and pos >= end and line_open:
        if n_lines >= len(out_line_ends):
            status = GROW_LINES
        else:
            out_line_ends[n_lines] = n_ids
            n_lines += 1
            line_open = 0
    state[POS] = pos
    state[N_TYPES] = n_types
    state[ARENA_USED] = arena_used
    state[N_IDS] = n_ids
    state[N_LINES] = n_lines
    state[LINE_OPEN] = line_open
    state[LINE_NO] = line_no
    return status


@njit(nogil=True, cache=True)
def merge_types(
    table, type_offsets, arena, counts, first_seen, n_types, arena_used,
    other_offsets, other_arena, other_counts, other_first_seen, other_n_types, mapping,
):  # fmt: skip
    """Add the ``other_n_types`` types of another scanner's table to this one: counts add up,
    first occurrences take the earlier. ``mapping[t]`` gets the id here of the other's type
    ``t``. The arrays must have room for all types (the caller reserves it). Returns the new
    (type count, arena fill)."""
    for t in range(other_n_types):
        s = other_offsets[t]
        e = other_offsets[t + 1]
        key, h = token_key(other_arena, s, e)
        slot, mine = _find_type(table, type_offsets, arena, other_arena, s, e, key, h)
        if mine < 0:
            mine = n_types
            arena_used = _insert_type(
                table, slot, key, type_offsets, arena, arena_used, other_arena, s, e, mine
            )
            counts[mine] = 0
            first_seen[mine] = other_first_seen[t]
            n_types += 1
        counts[mine] += other_counts[t]
        first_seen[mine] = min(first_seen[mine], other_first_seen[t])
        mapping[t] = mine
    return n_types, arena_used


@njit(nogil=True, cache=True)
def last_boundary(buf, end, byte_class):
    """Position just after the last non-token byte of ``buf[:end]`` (0 when there is none):
    where a block can be cut without splitting a token."""
    for pos in range(end - 1, -1, -1):
        if byte_class[buf[pos]] != TOKEN:
            return pos + 1
    return 0


@njit(nogil=True, cache=True)
def line_open_after(buf, end, byte_class, open_before):
    """Whether a line is open (has tokens but no line end yet) after ``buf[:end]``, given
    whether one was open before it."""
    for pos in range(end - 1, -1, -1):
        c = byte_class[buf[pos]]
        if c == TOKEN:
            return True
        if c == LINE_END:
            return False
    return open_before


@njit(nogil=True, cache=True)
def encode_block(ids, line_ends, remap, max_sentence_length, out, offsets, state):
    """Append the kept tokens of one scanned block to ``out`` as vocabulary ids (``remap``
    maps the scanner's type ids; -1 drops a word), ending a sentence at each line end and
    after every ``max_sentence_length`` kept tokens.

    ``state`` is (tokens written, sentences ended, tokens in the open sentence), carried from
    block to block, since a line may continue in the next block; ``offsets[j + 1]`` gets the
    end of sentence j.
    """
    w, n_sent, run = state[0], state[1], state[2]
    r = 0
    for li in range(len(line_ends) + 1):
        line_end = line_ends[li] if li < len(line_ends) else len(ids)
        while r < line_end:
            v = remap[ids[r]]
            r += 1
            if v < 0:
                continue
            if run == max_sentence_length:
                n_sent += 1
                offsets[n_sent] = w
                run = 0
            out[w] = v
            w += 1
            run += 1
        if li < len(line_ends) and run > 0:
            n_sent += 1
            offsets[n_sent] = w
            run = 0
    state[0], state[1], state[2] = w, n_sent, run
