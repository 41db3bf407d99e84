"""A line of text as fastText's supervised models read it: compiled, many lines per call.

fastText (``Dictionary::getLine``) splits a line on its whitespace bytes, ends it with the
end-of-sentence token ``</s>`` (its ``predict`` adds the newline that becomes it; a literal
``</s>`` token ends the line there, and its Python ``predict`` ignores the rest), and turns
each word into input rows: a vocabulary word gives its row and its character n-gram rows, an
unknown word its character n-grams only, a label token nothing; then every run of up to
``word_ngrams`` consecutive words adds the bucket of its hash,
``h = h * 116049371 + hash(next word)`` over the words' 32-bit FNV-1a hashes sign-extended to
64 bits (``Dictionary::addWordNgrams``). Doing the same here gives the same rows in the same
order, so the hidden vector, and the prediction, are fastText's.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from wordspace.hashing import both_hashes, bytes_equal, char_ngram_buckets, fasttext_hash
from wordspace.kernels.prefetch import prefetch_item, prefetch_row
from wordspace.vocab import lookup, lookup_hashed

_WORD_NGRAM_PRIME = np.uint64(116049371)
_LT = 60
_GT = 62
_LOOKAHEAD = 8
"""Tokens ahead whose vocabulary slot is prefetched."""
_ROW_LOOKAHEAD = 16
"""Rows ahead that are prefetched while a line's rows are summed."""


@njit(nogil=True, cache=True, inline="always")
def is_space(b):
    """fastText's token separators: space, tab, vertical tab, form feed, CR, LF and NUL."""
    return b == 32 or b == 9 or b == 10 or b == 11 or b == 12 or b == 13 or b == 0


EOS_BYTES = np.frombuffer(b"</s>", dtype=np.uint8)
"""The end-of-sentence token: a literal one ends a line for fastText and sent2vec."""


@njit(nogil=True, cache=True, inline="always")
def next_token(text, pos, end):
    """(first, last) of the next token of ``text[pos:end]`` (``first == last`` when there
    is none left): a run of non-separator bytes."""
    while pos < end and is_space(text[pos]):
        pos += 1
    first = pos
    while pos < end and not is_space(text[pos]):
        pos += 1
    return first, pos


@njit(nogil=True, cache=True, inline="always")
def is_eos(text, first, last):
    """Whether ``text[first:last]`` is the literal token ``</s>``."""
    return last - first == 4 and bytes_equal(text, first, last, EOS_BYTES, 0, 4)


@njit(nogil=True, cache=True, inline="always")
def signed_hash(h):
    """A 32-bit hash as fastText keeps it for word n-grams: an int32, widened to 64 bits
    with its sign."""
    v = np.int64(h)
    if v >= 2**31:
        v -= 2**32
    return np.uint64(v)


@njit(nogil=True, cache=True, inline="always")
def add_word_ngrams(hashes, n_hashes, word_ngrams, nwords, bucket, rows, n):
    """fastText's ``addWordNgrams``: append to ``rows[n:]`` the ``nwords + bucket`` row of
    every run of 2 to ``word_ngrams`` consecutive words of ``hashes[:n_hashes]`` (their
    ``signed_hash``); returns the new end."""
    for first in range(n_hashes):
        h = hashes[first]
        for nxt in range(first + 1, min(n_hashes, first + word_ngrams)):
            h = h * _WORD_NGRAM_PRIME + hashes[nxt]
            rows[n] = nwords + np.int64(h % np.uint64(bucket))
            n += 1
    return n


@njit(nogil=True, cache=True)
def _grow(rows, needed):
    if needed <= len(rows):
        return rows
    bigger = np.empty(max(needed, 2 * len(rows)), dtype=np.int64)
    bigger[: len(rows)] = rows
    return bigger


@njit(nogil=True, cache=True, inline="always")
def _has_prefix(key, start, end, prefix):
    """Whether ``key[start:end]`` begins with the bytes of ``prefix``."""
    m = len(prefix)
    if end - start < m:
        return False
    for k in range(m):
        if key[start + k] != prefix[k]:
            return False
    return True


@njit(nogil=True, cache=True)
def line_hidden(
    text, line_starts, line_ends, words, labels, word_offsets, word_rows, prefix, model,
    matrices, out,
):  # fmt: skip
    """fastText's hidden vector of each line ``text[line_starts[i]:line_ends[i]]`` (without
    its newline) in ``out[i]``: the mean of its input rows, numbered as fastText's input
    matrix (words, then ``nwords + bucket``), summed in float32 and scaled by
    ``float32(1 / count)`` as ``Model::computeHidden``; zeros for a line without rows.
    Returns each line's row count, and the labels of the label set the lines hold (CSR:
    offsets, label ids), as fastText's ``test`` reads them. Rows are gathered per line in a
    scratch array and summed at once, never stored for the whole batch.

    A line is read in passes: its tokens and both their hashes, then their words (the
    vocabulary slot of a token a few places ahead already on its way from memory), then
    its rows; the rows are summed with the rows a few places ahead prefetched. Random reads
    of the slot table and of the matrices are what a long line costs, and this keeps
    several of them in flight at once.

    ``words`` and ``labels`` are (slots, blob, offsets) of the vocabularies; word ``w``'s
    n-gram rows are ``word_rows[word_offsets[w]:word_offsets[w + 1]]``; ``prefix`` (bytes)
    marks labels not in the label set; ``model`` is (nwords, minn, maxn, bucket,
    word_ngrams, pruned); ``matrices`` is (word rows, n-gram rows, bucket map or empty), as
    ``hidden_of_rows`` takes them. With ``pruned`` (a ``.ftz`` cut with ``-cutoff``) a
    bucket the map drops is left out of the line, as fastText's ``pushHash`` leaves it out,
    instead of counting as a zero row.
    """
    nwords, minn, maxn, bucket, word_ngrams, pruned = model
    w_slots, w_blob, w_offsets = words
    l_slots, l_blob, l_offsets = labels
    slot_mask = np.uint64(len(w_slots) - 1)
    n_lines = len(line_starts)
    counts = np.zeros(n_lines, dtype=np.int64)
    label_offsets = np.zeros(n_lines + 1, dtype=np.int64)
    longest = 4
    text_bytes = 0
    for i in range(n_lines):
        longest = max(longest, line_ends[i] - line_starts[i])
        text_bytes += line_ends[i] - line_starts[i]
    # </s>, the token fastText's newline becomes, is looked up once for the whole batch
    eos = EOS_BYTES
    eos_word = lookup(w_slots, w_blob, w_offsets, eos, 0, 4)
    eos_label = lookup(l_slots, l_blob, l_offsets, eos, 0, 4)
    eos_skipped = eos_word < 0 and (eos_label >= 0 or _has_prefix(eos, 0, 4, prefix))
    eos_hash = signed_hash(fasttext_hash(eos, 0, 4))
    # a line holds at most one label per token and </s>
    gold = np.empty(text_bytes + n_lines, dtype=np.int64)
    n_gold = 0
    rows = np.empty(1024, dtype=np.int64)
    # scratch for an unknown word's character n-grams, grown for a longer word
    buf = np.empty(64, dtype=np.uint8)
    ids = np.empty(64 * max(maxn, 1), dtype=np.int64)
    most_tokens = longest // 2 + 2
    token_starts = np.empty(most_tokens, dtype=np.int64)
    token_ends = np.empty(most_tokens, dtype=np.int64)
    slot_hashes = np.empty(most_tokens, dtype=np.uint64)
    hashes = np.empty(most_tokens, dtype=np.uint64)
    for i in range(n_lines):
        end = line_ends[i]
        # no newline ends the file's last line: fastText reads no </s> at its end
        ends_with_eos = end < len(text)
        n_tokens = 0
        pos = line_starts[i]
        while True:
            first, pos = next_token(text, pos, end)
            if first == pos:
                break
            if is_eos(text, first, pos):
                ends_with_eos = True  # fastText's getLine stops at a literal </s>
                break
            token_starts[n_tokens] = first
            token_ends[n_tokens] = pos
            slot_hashes[n_tokens], hashes[n_tokens] = both_hashes(text, first, pos)
            n_tokens += 1
        n = 0
        n_hashes = 0
        for t in range(n_tokens):
            if t + _LOOKAHEAD < n_tokens:
                prefetch_item(w_slots, np.int64(slot_hashes[t + _LOOKAHEAD] & slot_mask))
            first, last = token_starts[t], token_ends[t]
            wid = lookup_hashed(w_slots, w_blob, w_offsets, text, first, last, slot_hashes[t])
            if wid < 0:
                label = lookup(l_slots, l_blob, l_offsets, text, first, last)
                if label >= 0:
                    gold[n_gold] = label
                    n_gold += 1
                    continue
                if _has_prefix(text, first, last, prefix):
                    continue
            b = last - first
            if n + 1 + (b + 2) * max(maxn, 1) > len(rows):
                rows = _grow(rows, n + 1 + (b + 2) * max(maxn, 1))
            if wid >= 0:
                rows[n] = wid
                n += 1
                if maxn > 0:
                    for p in range(word_offsets[wid], word_offsets[wid + 1]):
                        rows[n] = word_rows[p]
                        n += 1
            elif maxn > 0 and bucket > 0:
                if b + 2 > len(buf):
                    buf = np.empty(2 * (b + 2), dtype=np.uint8)
                    ids = np.empty(2 * (b + 2) * maxn, dtype=np.int64)
                buf[0] = _LT
                for k in range(b):
                    buf[1 + k] = text[first + k]
                buf[b + 1] = _GT
                count = char_ngram_buckets(buf, b + 2, minn, maxn, bucket, ids)
                for j in range(count):
                    rows[n] = nwords + ids[j]
                    n += 1
            hashes[n_hashes] = signed_hash(hashes[t])
            n_hashes += 1
        if ends_with_eos:
            rows = _grow(rows, n + 1)
            if eos_word >= 0:
                rows[n] = eos_word
                n += 1
            elif eos_label >= 0:
                gold[n_gold] = eos_label
                n_gold += 1
            if not eos_skipped:
                hashes[n_hashes] = eos_hash
                n_hashes += 1
        if bucket > 0 and word_ngrams > 1:
            if n + n_hashes * (word_ngrams - 1) > len(rows):
                rows = _grow(rows, n + n_hashes * (word_ngrams - 1))
            n = add_word_ngrams(hashes, n_hashes, word_ngrams, nwords, bucket, rows, n)
        if pruned:
            n = drop_pruned_buckets(rows, n, nwords, matrices[2])
        counts[i] = n
        label_offsets[i + 1] = n_gold
        hidden_of_rows(rows, n, matrices, nwords, out, i)
    return counts, label_offsets, gold[:n_gold].copy()


@njit(nogil=True, cache=True, inline="always")
def drop_pruned_buckets(rows, n, nwords, bucket_rows):
    """Remove from ``rows[:n]``, in place and keeping their order, the n-gram rows whose
    bucket ``bucket_rows`` maps to -1; returns how many rows are left."""
    kept = 0
    for p in range(n):
        r = rows[p]
        if r >= nwords and bucket_rows[r - nwords] < 0:
            continue
        rows[kept] = r
        kept += 1
    return kept


@njit(nogil=True, cache=True)
def line_ends_of(text, start, end):
    """Start and end of every line of ``text[start:end]`` (ends exclude the newline; a last
    line without a newline counts), skipping nothing: fastText predicts blank lines too."""
    count = 0
    for p in range(start, end):
        if text[p] == 10:
            count += 1
    if end > start and text[end - 1] != 10:
        count += 1
    starts = np.empty(count, dtype=np.int64)
    ends = np.empty(count, dtype=np.int64)
    i = 0
    s = start
    for p in range(start, end):
        if text[p] == 10:
            starts[i] = s
            ends[i] = p
            i += 1
            s = p + 1
    if i < count:
        starts[i] = s
        ends[i] = end
    return starts, ends


@njit(nogil=True, cache=True, inline="always")
def hidden_of_rows(rows, n, matrices, nwords, out, i):
    """``out[i]`` = the mean of input rows ``rows[:n]`` (zeros if none): rows past ``nwords``
    are n-gram buckets, mapped through the bucket map when it is not empty (-1: a zero
    row). The row a few places ahead is prefetched (with a map, its map entry further
    ahead)."""
    word_matrix, ngram_matrix, bucket_rows = matrices
    mapped = len(bucket_rows) > 0
    dim = out.shape[1]
    for k in range(dim):
        out[i, k] = 0.0
    for p in range(n):
        ahead = p + _ROW_LOOKAHEAD
        if ahead < n:
            r = rows[ahead]
            if r < nwords:
                prefetch_row(word_matrix, r)
            elif not mapped:
                prefetch_row(ngram_matrix, r - nwords)
            elif bucket_rows[r - nwords] >= 0:
                prefetch_row(ngram_matrix, bucket_rows[r - nwords])
            if mapped and ahead + _ROW_LOOKAHEAD < n and rows[ahead + _ROW_LOOKAHEAD] >= nwords:
                prefetch_item(bucket_rows, rows[ahead + _ROW_LOOKAHEAD] - nwords)
        r = rows[p]
        if r < nwords:
            for k in range(dim):
                out[i, k] += word_matrix[r, k]
            continue
        r -= nwords
        if mapped:
            r = bucket_rows[r]
            if r < 0:
                continue
        for k in range(dim):
            out[i, k] += ngram_matrix[r, k]
    if n > 0:
        scale = np.float32(1.0 / n)
        for k in range(dim):
            out[i, k] *= scale
