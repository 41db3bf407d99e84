"""Compiled encoding of scanned text as whole lines, with label tokens kept apart.

Line-level models (the supervised classifier, sent2vec) take one line as one example, so
lines are never split; the classifier's targets are the line's labels, tokens that start
with a label prefix (fastText's ``__label__``), wherever they stand in the line. The scanner
counts labels as token types like any other; which types are labels is decided once per type
(``mark_prefixed``), and encoding sends each token to the words or to the labels by its type.
"""

from __future__ import annotations

from numba import njit


@njit(nogil=True, cache=True)
def mark_prefixed(arena, type_offsets, n_types, prefix, out):
    """``out[t]`` = whether type ``t`` (bytes ``arena[type_offsets[t]:type_offsets[t+1]]``)
    starts with the bytes ``prefix``."""
    m = len(prefix)
    for t in range(n_types):
        s = type_offsets[t]
        found = type_offsets[t + 1] - s >= m
        k = 0
        while found and k < m:
            found = arena[s + k] == prefix[k]
            k += 1
        out[t] = found


@njit(nogil=True, cache=True)
def encode_lines(
    ids, line_ends, word_remap, label_remap, out_ids, offsets, out_labels, label_offsets, state
):
    """Append one scanned block to a line-level corpus: each token's type goes through
    ``word_remap`` (a word id, or -1) and, failing that, ``label_remap`` (a label id, or -1
    for a dropped token). Every line end closes one line, even when nothing of it was kept,
    so line ``j`` of the corpus is the ``j``-th non-blank line of the text.

    ``state`` is (words written, labels written, lines ended, tokens read since the last line
    end), carried from block to block since a line may continue in the next block;
    ``offsets[j + 1]`` and ``label_offsets[j + 1]`` get the ends of line ``j``.
    """
    w, lab, n_lines, open_tokens = state[0], state[1], state[2], state[3]
    r = 0
    for li in range(len(line_ends) + 1):
        line_end = line_ends[li] if li < len(line_ends) else len(ids)
        open_tokens += line_end - r
        while r < line_end:
            t = ids[r]
            r += 1
            v = word_remap[t]
            if v >= 0:
                out_ids[w] = v
                w += 1
                continue
            v = label_remap[t]
            if v >= 0:
                out_labels[lab] = v
                lab += 1
        if li < len(line_ends):
            n_lines += 1
            offsets[n_lines] = w
            label_offsets[n_lines] = lab
            open_tokens = 0
    state[0], state[1], state[2], state[3] = w, lab, n_lines, open_tokens
