"""A line of text as a sentence vector: as the reference sent2vec embeds it, or as the mean
of a word model's vectors; compiled, many lines per call.

The reference (epfml/sent2vec, ``FastText::textVector``) splits a line on the same
whitespace bytes as fastText, stops at a literal ``</s>``, drops unknown words before
anything else (so word n-grams span the gap they leave) and adds no end-of-sentence token.
Each run of 2 to ``word_ngrams`` consecutive known words adds bucket ``h % bucket`` of
``h = h * 116049371 + id`` over the words' vocabulary ids (``Dictionary::addNgrams``: the
seed is an id, not a string hash), or for models trained here the bucket of the n-gram's
well-mixed hash; a bucket the model's map leaves out is a zero row. The embedding is the
float32 mean of the word rows and then the n-gram rows, in that order, as
``hidden_of_rows`` sums them: bit for bit the reference's vector.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from wordspace.kernels.fasttext_lines import hidden_of_rows, is_eos, next_token
from wordspace.kernels.sent2vec import add_sentence_ngrams
from wordspace.kernels.subwords import ngram_vector
from wordspace.vocab import lookup


@njit(nogil=True, cache=True)
def sent2vec_hidden(text, line_starts, line_ends, words, grams, matrices, out):
    """The sent2vec embedding of each line ``text[line_starts[i]:line_ends[i]]`` in
    ``out[i]`` (zeros for a line without known words); returns each line's row count.
    ``words`` is (slots, blob, offsets) of the vocabulary; ``grams`` is (nwords, bucket,
    word_ngrams, scheme, word hashes) as ``kernels.sent2vec.add_sentence_ngrams`` takes it;
    ``matrices`` is (word rows, n-gram rows, bucket map) as ``hidden_of_rows`` takes them."""
    slots, blob, offsets = words
    nwords = len(offsets) - 1
    word_ngrams = grams[2]
    n_lines = len(line_starts)
    counts = np.zeros(n_lines, dtype=np.int64)
    longest = 2
    for i in range(n_lines):
        longest = max(longest, line_ends[i] - line_starts[i])
    most_words = longest // 2 + 2
    ids = np.empty(most_words, dtype=np.int64)
    rows = np.empty(most_words * max(word_ngrams, 1), dtype=np.int64)
    for i in range(n_lines):
        end = line_ends[i]
        pos = line_starts[i]
        n = 0
        while True:
            first, pos = next_token(text, pos, end)
            if first == pos or is_eos(text, first, pos):
                break
            word = lookup(slots, blob, offsets, text, first, pos)
            if word >= 0:
                ids[n] = word
                rows[n] = word
                n += 1
        n = add_sentence_ngrams(ids, 0, n, grams, rows, n)
        counts[i] = n
        hidden_of_rows(rows, n, matrices, nwords, out, i)
    return counts


@njit(nogil=True, cache=True)
def word_mean_hidden(text, line_starts, line_ends, words, matrix, subwords, weighting, out):
    """The mean of the word vectors of each line's tokens in ``out[i]`` (split as above,
    a literal ``</s>`` ends the line): a vocabulary word gives its row of ``matrix``; with
    subwords (``subwords`` = (minn, maxn, n-gram rows, bucket map, bucket, pruned), bucket 0
    for none) an unknown word gives the mean of its character n-gram rows, as a fastText
    query of it; a token without a vector is skipped. ``weighting`` = (weights, by_weight):
    with weights (float32, one per vocabulary word and a last one for unknown words; empty
    for a plain mean) each vector counts with its word's weight, and the sum is divided by
    the total weight (``by_weight``, a weighted mean) or by the number of vectors. Returns
    the vectors averaged per line (0: a zero vector)."""
    slots, blob, offsets = words
    minn, maxn, ngram_rows, bucket_map, bucket, pruned = subwords
    weights, by_weight = weighting
    weighted = len(weights) > 0
    unknown_weight = weights[len(weights) - 1] if weighted else np.float32(1.0)
    n_lines = len(line_starts)
    dim = out.shape[1]
    counts = np.zeros(n_lines, dtype=np.int64)
    unknown = np.empty(dim, dtype=np.float32)
    for i in range(n_lines):
        for k in range(dim):
            out[i, k] = 0.0
        end = line_ends[i]
        pos = line_starts[i]
        n = 0
        total = 0.0
        while True:
            first, pos = next_token(text, pos, end)
            if first == pos or is_eos(text, first, pos):
                break
            word = lookup(slots, blob, offsets, text, first, pos)
            if word >= 0:
                if weighted:
                    w = weights[word]
                    for k in range(dim):
                        out[i, k] += w * matrix[word, k]
                    total += w
                else:
                    for k in range(dim):
                        out[i, k] += matrix[word, k]
                n += 1
            elif bucket > 0 and maxn > 0:
                used = ngram_vector(
                    text[first:pos], minn, maxn, ngram_rows, bucket_map, bucket, pruned, unknown
                )
                if used > 0:
                    for k in range(dim):
                        out[i, k] += unknown_weight * unknown[k]
                    total += unknown_weight
                    n += 1
        counts[i] = n
        divisor = total if weighted and by_weight else n
        if n > 0 and divisor > 0:
            scale = np.float32(1.0 / divisor)
            for k in range(dim):
                out[i, k] *= scale
    return counts


@njit(nogil=True, cache=True)
def count_words(text, line_starts, line_ends, words, n_words):
    """How often each vocabulary word occurs in the lines (split as ``word_mean_hidden``
    splits them) and in how many lines; the last entry of both counts unknown words (and
    lines holding one). Returns (occurrences, lines)."""
    slots, blob, offsets = words
    occurrences = np.zeros(n_words + 1, dtype=np.int64)
    in_lines = np.zeros(n_words + 1, dtype=np.int64)
    last_line = np.full(n_words + 1, -1, dtype=np.int64)
    for i in range(len(line_starts)):
        end = line_ends[i]
        pos = line_starts[i]
        while True:
            first, pos = next_token(text, pos, end)
            if first == pos or is_eos(text, first, pos):
                break
            word = lookup(slots, blob, offsets, text, first, pos)
            slot = word if word >= 0 else n_words
            occurrences[slot] += 1
            if last_line[slot] != i:
                last_line[slot] = i
                in_lines[slot] += 1
    return occurrences, in_lines
