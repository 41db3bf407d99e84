"""The names users pass to choose an architecture, a loss, a kernel, a method or a format.

Each tuple is declared here once: the estimators validate against it and the CLI offers its
choices from it, so a new name is added here (and given its code where the kernels need one;
a test checks that every name has one). This module imports nothing, so any module may use
it without risking an import cycle.
"""

from __future__ import annotations

ARCHITECTURES = ("skipgram", "cbow")
"""How a word model turns text into examples: skip-gram (each context word predicts the
centre word) or CBOW (the window's words together predict it)."""

TRAINING_MODES = (*ARCHITECTURES, "supervised", "sent2vec")
"""What ``wordspace train`` trains: a word model of either architecture, a classifier, or
sentence embeddings."""

SENT2VEC_HASHES = ("wordspace", "sent2vec")
"""How a sent2vec model hashes its word n-grams: from the words' 64-bit hashes (ours, well
mixed) or from vocabulary ids (the reference's, which its tools read)."""

SENT2VEC_PRESETS = (
    "wiki-unigrams", "wiki-bigrams", "toronto-unigrams", "toronto-bigrams",
    "twitter-unigrams", "twitter-bigrams",
)  # fmt: skip
"""The published sent2vec models whose training parameters ``Sent2Vec.preset`` gives."""

SKIPGRAM_BAGS = ("context", "centre")
"""Which word's bag of rows a subword skip-gram trains: each context word's against the centre
word (as word2vec pairs them; 5-6 analogy points better at one epoch) or the centre word's
against each context word (as fastText does)."""

WORD_LOSSES = ("ns", "hs", "softmax")
"""The losses a word model accepts: negative sampling (about (negative+1) x dim per example),
hierarchical softmax (about log2(V) x dim) and full softmax (V x dim: small vocabularies)."""

CLASSIFIER_LOSSES = ("softmax", "ns", "hs", "ova")
"""The losses a classifier accepts: the word losses over labels, and one-vs-all (multi-label)."""

KERNELS = ("fast", "classic")
"""Training kernels: fast (noise words shared across a window) or classic (as word2vec)."""

ANALOGY_METHODS = ("add", "mul")
"""How an analogy is scored: 3CosAdd (b - a + c) or 3CosMul (Levy and Goldberg, 2014)."""

FORMATS = ("native", "word2vec-txt", "word2vec-bin", "fasttext-bin", "fasttext-vec")
"""The model formats wordspace reads and writes; ``native`` is the memory-mapped folder."""

MATRICES = ("vectors", "input", "output")
"""Which matrix ``export`` writes: what a query returns for each vocabulary word, the raw
input rows (words, then n-gram buckets), or the output rows (words, tree nodes or labels)."""

MATRIX_FORMATS = ("word2vec-txt", "fasttext-vec", "word2vec-bin")
"""The formats one exported matrix is written in: a named row per line (or record)."""

TRAINING_LOSSES = tuple(dict.fromkeys((*WORD_LOSSES, *CLASSIFIER_LOSSES)))
"""The losses ``wordspace train`` offers: every word loss and classifier loss, once."""
