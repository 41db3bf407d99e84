"""sent2vec's builder and chunk loop: each word of a sentence is predicted from the rest of it.

A sentence's rows are its words' rows and one row per word n-gram (2 to ``word_ngrams``
consecutive words), built once per run (:func:`line_ngram_rows`). Every word kept by target
subsampling becomes an example of the engine's leave-out block
(``engine.step_leave_out_block``): the shared bag is the sentence's rows, the example's own
bag the rows it leaves out of it: its word's row, the rows of the n-grams containing it, and
those of the n-grams touching ``dropout_k`` random positions drawn for this context (as the
reference's ``addNgrams`` drops them: every n-gram touching a dropped position). With
``masked``, the example also adds a placeholder row and the n-grams over the sentence with
its word masked, as the reference builds its context. Its hidden vector is the mean of the
rest, so the work per word does not grow with the sentence's length, where the reference
copies the sentence and recomputes the mean for every target word.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit

from wordspace.hashing import SENT2VEC_NGRAM_SCHEME, WORD_NGRAM_SCHEME, ngram_bucket, ngram_hash
from wordspace.kernels.borrowed import borrowed, keep_alive
from wordspace.kernels.engine import (
    OutputRows,
    new_block,
    new_scratch,
    new_shared_bag,
    step_leave_out_block,
)
from wordspace.kernels.random import below, seeded, uniform

WORDSPACE_HASH = 0
"""N-gram buckets from the words' own 64-bit hashes (``hashing.WORD_NGRAM_SCHEME``)."""
SENT2VEC_HASH = 1
"""N-gram buckets from vocabulary ids, as the reference (``h = h * 116049371 + id``)."""

SCHEME_CODES = {WORD_NGRAM_SCHEME: WORDSPACE_HASH, SENT2VEC_NGRAM_SCHEME: SENT2VEC_HASH}
"""The kernels' code of each word n-gram scheme a sent2vec model may store."""

_WORD_NGRAM_PRIME = np.uint64(116049371)

SentenceLines = namedtuple(
    "SentenceLines",
    [
        "ids",  # int32: the corpus's word ids (unknown words already left out)
        "offsets",  # int64: sentence s is ids[offsets[s]:offsets[s + 1]]
        "gram_rows",  # int64: sentence s's n-gram rows, gram_rows[gram_offsets[s]:...[s + 1]],
        # by start word, then by length (2 .. word_ngrams)
        "gram_offsets",  # int64
        "target_prob",  # float32 per word: probability that an occurrence is a target
        "nwords",  # words in the vocabulary; the placeholder's id in an n-gram
        "bucket",  # n-gram buckets
        "word_ngrams",  # longest n-gram, in words (1: none)
        "scheme",  # WORDSPACE_HASH or SENT2VEC_HASH
        "word_hashes",  # uint64: each word's 64-bit hash, then the placeholder's
        "bucket_rows",  # int32: each bucket's row past nwords (-1: never used)
        "placeholder_row",  # the row of the placeholder that stands in for the target
        "masked",  # the target is masked by the placeholder (else it and its n-grams are
        # left out of its context)
        "dropout_k",  # positions per sentence and epoch left out of n-gram building
        "longest",  # most words one sentence has (sizes the block)
    ],
)
"""The training sentences, as the kernel reads them."""


@njit(nogil=True, cache=True, inline="always")
def grams_from(start, n, word_ngrams):
    """How many n-grams (of 2 to ``word_ngrams`` words) begin at word ``start`` of ``n``."""
    return min(word_ngrams - 1, n - 1 - start)


@njit(nogil=True, cache=True, inline="always")
def ngram_row(ids, first, length, grams):
    """The input row ``nwords + bucket`` of the n-gram ``ids[first:first + length]`` under
    ``grams`` = (nwords, bucket, word_ngrams, scheme, word hashes): ``WORDSPACE_HASH``
    hashes the words' 64-bit hashes (``hashing.ngram_hash``), ``SENT2VEC_HASH`` the ids
    themselves, as the reference's ``addNgrams``."""
    nwords, bucket, _, scheme, word_hashes = grams
    if scheme == WORDSPACE_HASH:
        return nwords + ngram_bucket(ngram_hash(word_hashes, ids, first, length), bucket)
    h = np.uint64(ids[first])
    for j in range(first + 1, first + length):
        h = h * _WORD_NGRAM_PRIME + np.uint64(ids[j])
    return nwords + np.int64(h % np.uint64(bucket))


@njit(nogil=True, cache=True, inline="always")
def add_sentence_ngrams(ids, first, n, grams, rows, at):
    """Append to ``rows[at:]`` the row (:func:`ngram_row`) of every n-gram of 2 to
    ``word_ngrams`` words of ``ids[first:first + n]``, by start word, then by length;
    returns the new end."""
    bucket = grams[1]
    word_ngrams = grams[2]
    if word_ngrams < 2 or bucket <= 0:
        return at
    for a in range(n):
        for length in range(2, 2 + grams_from(a, n, word_ngrams)):
            rows[at] = ngram_row(ids, first + a, length, grams)
            at += 1
    return at


@njit(nogil=True, cache=True)
def line_ngram_rows(ids, offsets, grams):
    """(offsets, rows) of the word n-grams of every sentence ``ids[offsets[s]:...[s + 1]]``,
    as :func:`add_sentence_ngrams` gives them."""
    word_ngrams = grams[2] if grams[1] > 0 else 1
    n_lines = len(offsets) - 1
    gram_offsets = np.zeros(n_lines + 1, dtype=np.int64)
    for s in range(n_lines):
        n = offsets[s + 1] - offsets[s]
        count = 0
        for a in range(n):
            count += grams_from(a, n, word_ngrams)
        gram_offsets[s + 1] = gram_offsets[s] + count
    rows = np.empty(gram_offsets[n_lines], dtype=np.int64)
    for s in range(n_lines):
        add_sentence_ngrams(
            ids, offsets[s], offsets[s + 1] - offsets[s], grams, rows, gram_offsets[s]
        )
    return gram_offsets, rows


@njit(nogil=True, cache=True)
def compact_buckets(ids, offsets, gram_rows, grams, masked_grams):
    """Give the buckets training uses compact rows: those of every n-gram of the sentences
    and, with ``masked_grams``, of every n-gram with one word masked by the placeholder (id
    ``nwords``, whose hash is the last of ``grams``' word hashes), numbered in increasing
    order. ``gram_rows`` is
    rewritten in place to ``nwords + row``; returns (buckets in use, int32 row of each
    bucket, -1 where unused)."""
    nwords, bucket, word_ngrams, _, _ = grams
    bucket_rows = np.full(max(bucket, 0), -1, dtype=np.int32)
    for r in gram_rows:
        bucket_rows[r - nwords] = 0
    longest = 0
    for s in range(len(offsets) - 1):
        longest = max(longest, offsets[s + 1] - offsets[s])
    masked = np.empty(longest, dtype=np.int32)
    for s in range(len(offsets) - 1 if masked_grams else 0):
        first = offsets[s]
        n = offsets[s + 1] - first
        for p in range(n):
            masked[p] = ids[first + p]
        for i in range(n):
            masked[i] = nwords
            for a in range(max(0, i - word_ngrams + 1), i + 1):
                for length in range(max(2, i - a + 1), 2 + grams_from(a, n, word_ngrams)):
                    bucket_rows[ngram_row(masked, a, length, grams) - nwords] = 0
            masked[i] = ids[first + i]
    used = 0
    for b in range(len(bucket_rows)):
        if bucket_rows[b] == 0:
            bucket_rows[b] = used
            used += 1
    for p in range(len(gram_rows)):
        gram_rows[p] = nwords + bucket_rows[gram_rows[p] - nwords]
    return used, bucket_rows


@njit(nogil=True, cache=True, inline="always")
def draw_dropped(n, k, rng, marks):
    """Draw ``min(k, n - 2)`` distinct random positions of a sentence of ``n`` words into
    ``marks`` (at least two stay, as the reference leaves them); returns how many."""
    count = min(k, max(n - 2, 0))
    drawn = 0
    while drawn < count:
        p = below(rng, n)
        fresh = True
        for j in range(drawn):
            if marks[j] == p:
                fresh = False
                break
        if fresh:
            marks[drawn] = p
            drawn += 1
    return count


@njit(nogil=True, cache=True, inline="always")
def touches(a, length, marks, count):
    """Whether the n-gram of ``length`` words from ``a`` holds one of ``marks[:count]``."""
    for j in range(count):
        if a <= marks[j] < a + length:
            return True
    return False


@njit(nogil=True, cache=True, inline="always")
def sentence_examples(lines, s, rng, work, block, shared):
    """Fill ``block`` (and ``shared.left_out_ends``) with the leave-out examples of sentence
    ``s`` (see the module doc); returns the number of groups, one example and one target
    each. ``work`` is (marks, first_gram, masked): per-position scratch."""
    marks, first_gram, masked = work
    ids = lines.ids
    start = lines.offsets[s]
    n = lines.offsets[s + 1] - start
    gram_rows = lines.gram_rows
    nwords = lines.nwords
    word_ngrams = lines.word_ngrams
    grams = (nwords, lines.bucket, word_ngrams, lines.scheme, lines.word_hashes)
    bucket_rows = lines.bucket_rows
    bag_rows = block.bag_rows
    bag_offsets = block.bag_offsets
    left_out_ends = shared.left_out_ends
    nb = 0
    for p in range(n):
        bag_rows[nb] = ids[start + p]
        masked[p] = ids[start + p]
        nb += 1
    q = lines.gram_offsets[s]
    for a in range(n):
        first_gram[a] = nb
        for t in range(grams_from(a, n, word_ngrams)):
            bag_rows[nb] = gram_rows[q + t]
            nb += 1
        q += grams_from(a, n, word_ngrams)
    n_shared = nb
    bag_offsets[0] = nb
    target_prob = lines.target_prob
    m = 0
    for i in range(n):
        w = ids[start + i]
        keep = target_prob[w]
        if keep < 1.0 and (keep <= 0.0 or uniform(rng) > keep):
            continue
        count = draw_dropped(n, lines.dropout_k, rng, marks) if word_ngrams > 1 else 0
        bag_rows[nb] = w
        nb += 1
        low = max(0, i - word_ngrams + 1)
        for a in range(low, i + 1):
            for length in range(max(2, i - a + 1), grams_from(a, n, word_ngrams) + 2):
                bag_rows[nb] = bag_rows[first_gram[a] + length - 2]
                nb += 1
        for j in range(count):
            p = marks[j]
            for a in range(max(0, p - word_ngrams + 1), p + 1):
                for length in range(max(2, p - a + 1), grams_from(a, n, word_ngrams) + 2):
                    if a <= i < a + length or touches(a, length, marks, j):
                        continue
                    bag_rows[nb] = bag_rows[first_gram[a] + length - 2]
                    nb += 1
        left_out_ends[m] = nb
        context = n_shared - (nb - bag_offsets[m])
        if lines.masked:
            bag_rows[nb] = lines.placeholder_row
            nb += 1
            masked[i] = nwords
            for a in range(low, i + 1):
                for length in range(max(2, i - a + 1), grams_from(a, n, word_ngrams) + 2):
                    if touches(a, length, marks, count):
                        continue
                    row = ngram_row(masked, a, length, grams)
                    bag_rows[nb] = nwords + bucket_rows[row - nwords]
                    nb += 1
            masked[i] = w
            context = n_shared - (left_out_ends[m] - bag_offsets[m]) + (nb - left_out_ends[m])
        if context <= 0:
            nb = bag_offsets[m]
            continue
        scale = np.float32(1.0 / context)
        block.bag_scale[m] = scale
        block.grad_scale[m] = scale
        block.target_ids[m] = w
        m += 1
        bag_offsets[m] = nb
        block.group_offsets[m] = m
        block.target_offsets[m] = m
    return m


@njit(nogil=True, cache=True, inline="always")
def bag_capacity(longest, word_ngrams, dropout_k):
    """Rows a leave-out block of a sentence of ``longest`` words can hold: its words and
    n-grams, then per word its own row and its n-grams' rows (left out), those of the
    dropped positions, and as many placeholders (added)."""
    grams = max(word_ngrams - 1, 0)
    per_position = 1 + grams * (grams + 1) // 2 + grams
    dropped = min(dropout_k, longest) * per_position
    return longest * (1 + grams) + longest * (2 * per_position + dropped)


@njit(nogil=True, cache=True)
def train_sentences(weights, lines, loss, schedule, chunk):
    """Train sentences ``chunk.first:chunk.end``; returns (summed loss, examples). A
    sentence of fewer than two words has nothing to predict from and is skipped, as the
    reference skips it."""
    syn0 = weights.input
    out = weights.output
    rng = seeded(schedule.seed, chunk.epoch, chunk.index)
    longest = max(lines.longest, 1)
    owned_outputs = OutputRows(out, out[:0], out.shape[0])
    capacity = bag_capacity(longest, lines.word_ngrams, lines.dropout_k)
    owned_block = new_block(longest, capacity, longest)
    owned_scratch = new_scratch(syn0.shape[1], 1, loss, owned_outputs, 1)
    owned_shared = new_shared_bag(syn0.shape[1], longest)
    outputs = borrowed(owned_outputs)
    block = borrowed(owned_block)
    scratch = borrowed(owned_scratch)
    shared = borrowed(owned_shared)
    lines = borrowed(lines)
    loss = borrowed(loss)
    work = (
        np.zeros(longest, dtype=np.int64),
        np.zeros(longest, dtype=np.int64),
        np.zeros(longest, dtype=np.int32),
    )
    offsets = lines.offsets
    total_loss = 0.0
    examples = 0
    done = chunk.words_done
    for s in range(chunk.first, chunk.end):
        n = offsets[s + 1] - offsets[s]
        progress = min(done / schedule.words_total, 1.0)
        lr = np.float32(schedule.lr_start - (schedule.lr_start - schedule.lr_end) * progress)
        done += n
        if n < 2:
            continue
        n_groups = sentence_examples(lines, s, rng, work, block, shared)
        if n_groups == 0:
            continue
        total_loss += step_leave_out_block(
            block, n_groups, syn0, outputs, loss, lr, rng, scratch, shared
        )
        examples += n_groups
    keep_alive(owned_outputs)
    keep_alive(owned_block)
    keep_alive(owned_scratch)
    keep_alive(owned_shared)
    return total_loss, examples
