"""``FastTextModel``: a Facebook fastText model (unsupervised or supervised) as arrays.

It holds what a fastText ``.bin`` holds (the training arguments, the words and labels, the
input matrix of word and n-gram bucket rows, the output matrix) and gives the word vectors
as fastText's ``get_word_vector`` computes them. Reading and writing files is the business of
``wordspace.formats.fasttext``; this module knows no file layout.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from wordspace.kernels.subwords import compose_vocabulary
from wordspace.memory import ensure_available
from wordspace.subwords import CharNgrams
from wordspace.vectors import Vectors
from wordspace.vocab import Vocabulary

FASTTEXT_VERSION = 12
"""fastText's current ``.bin`` version, recorded for models that were not read from a file."""
FASTTEXT_LOSS_CODES = {"hs": 1, "ns": 2, "softmax": 3, "ova": 4}
"""fastText's code of each loss name, as its ``.bin`` stores it."""
SUPERVISED_MODEL = 3
"""fastText's model code of a classifier (``sup``)."""
SENT2VEC_MODEL = 4
"""The model code of the sent2vec reference (epfml/sent2vec, a fork of fastText's format)."""
MAX_BUCKET = 2**31 - 1
"""The most buckets a ``.bin`` can hold (its bucket count is an int32)."""
EOS = "</s>"
"""fastText's end-of-sentence token, a vocabulary word without n-grams."""
CONVERT_HINT = (
    "convert it once with `wordspace convert MODEL.bin FOLDER --to native` and load the "
    "folder, which is memory-mapped"
)
"""What to do when a fastText model needs more memory than is available."""


def default_args(dim: int) -> dict[str, Any]:
    """fastText's defaults for an unsupervised skip-gram model of dimension ``dim``."""
    return {
        "dim": dim, "ws": 5, "epoch": 5, "min_count": 5, "neg": 5, "word_ngrams": 1,
        "loss": 2, "model": 2, "bucket": 2_000_000, "minn": 3, "maxn": 6,
        "lr_update_rate": 100, "t": 1e-4,
    }  # fmt: skip


@dataclass
class FastTextModel:
    """Everything a fastText ``.bin`` holds.

    ``input`` has one row per word, then one per n-gram bucket, or with ``bucket_rows`` (the
    compact form of models we train, see ``CharNgrams``) one per bucket in use; ``output``
    one row per word (unsupervised) or per label (supervised). ``labels`` is None for
    unsupervised models. ``pruned`` says that ``bucket_rows`` is fastText's pruned index (a
    quantized model with ``-cutoff``): a bucket missing from it is left out of a word's or
    line's rows, as fastText's ``pushHash`` leaves it, instead of counting as a zero row.
    ``word_ngram_scheme`` names how word n-grams are hashed when it is not the format's own
    (fastText's ``addWordNgrams``; the sent2vec reference's ids): ``hashing``'s names.
    """

    args: dict[str, Any]
    words: Vocabulary
    input: np.ndarray
    output: np.ndarray
    labels: Vocabulary | None = None
    ntokens: int = 0
    version: int = FASTTEXT_VERSION
    bucket_rows: np.ndarray | None = None
    pruned: bool = False
    word_ngram_scheme: str | None = None
    _vectors: Vectors | None = field(default=None, repr=False)

    @property
    def dim(self) -> int:
        return int(self.args["dim"])

    @property
    def is_sent2vec(self) -> bool:
        """Whether this is a sent2vec model (the reference's ``.bin``): a sentence is the
        mean of its known words' rows and of its word n-grams hashed from vocabulary ids."""
        return int(self.args["model"]) == SENT2VEC_MODEL

    @property
    def nwords(self) -> int:
        return len(self.words)

    @property
    def ngrams(self) -> CharNgrams:
        """The n-gram bucket rows of the input matrix (a view, no copy)."""
        return CharNgrams(
            self.input[self.nwords :],
            int(self.args["minn"]),
            int(self.args["maxn"]),
            self.bucket_rows,
            self.pruned,
        )

    def dense_input(self, start: int, end: int) -> np.ndarray:
        """Rows ``start:end`` of the input matrix as fastText lays it out (every word, then
        every bucket), as a float32 block: what a ``.bin`` holds, written block by block."""
        nwords = self.nwords
        parts = []
        if start < nwords:
            parts.append(np.asarray(self.input[start : min(end, nwords)], dtype=np.float32))
        if end > nwords:
            parts.append(self.ngrams.dense_rows(max(start - nwords, 0), end - nwords))
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    @property
    def input_rows(self) -> int:
        """The rows of the input matrix as fastText lays it out: words, then buckets."""
        return self.nwords + self.ngrams.bucket

    def vectors(self) -> Vectors:
        """Word vectors exactly as fastText's ``get_word_vector`` gives them, for vocabulary
        words (computed once) and, through the n-grams, for any other word. Without n-grams
        a word's vector is its input row, which is used as is (memory-mapped, no copy)."""
        if self._vectors is None:
            ngrams = self.ngrams
            if ngrams.bucket == 0 or ngrams.maxn == 0 or ngrams.minn > ngrams.maxn:
                self._vectors = Vectors(self.words, self.input[: self.nwords], ngrams)
                return self._vectors
            ensure_available(
                self.nwords * self.dim * 4,
                f"composing the vectors of {self.nwords:,} words",
                suggestion=CONVERT_HINT,
            )
            composed = np.empty((self.nwords, self.dim), dtype=np.float32)
            skip = np.zeros(self.nwords, dtype=np.bool_)
            eos = self.words.index(EOS)
            if eos >= 0 and not self.is_sent2vec:  # the sent2vec fork gives </s> n-grams
                skip[eos] = True
            compose_vocabulary(
                self.words.blob,
                self.words.offsets,
                skip,
                self.input[: self.nwords],
                ngrams.vectors,
                ngrams.bucket_map,
                ngrams.bucket,
                ngrams.pruned and ngrams.bucket_rows is not None,
                ngrams.minn,
                ngrams.maxn,
                composed,
            )
            self._vectors = Vectors(self.words, composed, ngrams)
        return self._vectors

    @classmethod
    def from_vectors(cls, vectors: Vectors, output: np.ndarray | None = None) -> FastTextModel:
        """A fastText model holding plain word vectors (no n-grams: unknown words get zeros),
        so that fastText and gensim can load vectors trained elsewhere."""
        args = default_args(vectors.dim) | {"bucket": 0, "minn": 0, "maxn": 0}
        if vectors.ngrams is not None:
            raise ValueError("vectors with n-grams come from a FastTextModel; write that instead")
        out = np.zeros_like(vectors.matrix) if output is None else output
        return cls(args, vectors.vocab, np.asarray(vectors.matrix), np.asarray(out), None,
                   int(vectors.counts.sum()))  # fmt: skip
