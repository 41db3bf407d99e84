"""FastText: word2vec with subword information (fastText's unsupervised models).

A word's input rows are its own row and the rows of its hashed character n-grams (fastText's
buckets); its vector is their mean, so that any string, seen or not, gets a vector. It trains
on the word2vec engine with the same pair builders: CBOW's bag is every row of every context
word, as fastText's; skip-gram trains each context word's bag against the centre word, as
word2vec pairs words, or (``skipgram_bag="centre"``) the centre word's bag against each
context word, as fastText does: composing one bag per centre word instead of one per context
word is only about 1.3x faster, and loses 5-6 analogy points (BENCHMARKS.md, "Subword
vectors").

Only the buckets the vocabulary's n-grams fall in are trained (355,109 of 2M for the 83,227
words of 20M words of Wikipedia), so the training matrix holds a row for each of those alone
and a bucket map says which is which (``CharNgrams.bucket_rows``): less memory, and rows
closer together in cache. The others stay zero: never trained, they would only add noise to
the vector of an unseen word that falls in them (gensim keeps them at their random start,
fastText's current trainer most rows of its matrix at zero). Trained rows start uniform in
[-1/dim, 1/dim], as gensim's.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from wordspace.corpus import Corpus
from wordspace.errors import NotFittedError, ParameterError
from wordspace.extra_rows import ExtraRows, compact_buckets
from wordspace.formats import Model
from wordspace.formats.fasttext import save_native
from wordspace.formats.native import MAX_NGRAM
from wordspace.kernels.builders import CENTRE_SKIPGRAM, PairBuilder
from wordspace.kernels.engine import LossTables
from wordspace.kernels.matrices import rows_to_extra_mean
from wordspace.kernels.word2vec import Schedule, Sentences, Weights
from wordspace.losses import prepare_loss
from wordspace.matrices import NamedRows, fasttext_rows
from wordspace.models import params as p
from wordspace.models.continued import Start
from wordspace.models.fasttext import EOS, FASTTEXT_LOSS_CODES, MAX_BUCKET, FastTextModel
from wordspace.models.word2vec import Word2Vec
from wordspace.names import SKIPGRAM_BAGS
from wordspace.training import initial_vectors, narrowed, padded_width
from wordspace.vocab import Vocabulary

DEFAULT_LR = 0.05
DEFAULT_SAMPLE = 1e-4
DEFAULT_BUCKET = 2_000_000
"""fastText's defaults where they differ from word2vec's."""
FASTTEXT_MODEL_CODES = {"cbow": 1, "skipgram": 2}
"""fastText's codes of our architecture names, as its ``.bin`` stores them."""


class FastText(Word2Vec):
    """Learns fastText-style subword vectors: skip-gram or CBOW over bags of word and
    character n-gram rows.

    Parameters are Word2Vec's, with fastText's defaults where they differ (``lr`` 0.05 for
    both architectures, ``sample`` 1e-4), plus:

    minn, maxn : lengths of the character n-grams of ``<word>`` (fastText's 3 and 6).
    bucket : number of hash buckets the n-grams share (fastText's 2,000,000).
    skipgram_bag : ``"context"`` trains each context word's bag of word and n-gram rows
        against the centre word, as word2vec pairs words; ``"centre"`` trains the centre
        word's bag against each context word, as fastText does. Measured on 20M words of
        Wikipedia at one epoch, ``"context"`` reaches 51-52% on the analogies against 46%
        for about 1.3x the training time (BENCHMARKS.md, "Subword vectors").

    ``kernel`` is Word2Vec's: ``"fast"`` scores a window's examples against one shared draw
    of noise words per target (with ``skipgram_bag="centre"``: the centre word's bag is
    composed once and scored against every context word), ``"classic"`` draws them per
    (context, centre) pair and updates the rows after each, exactly as fastText's loop
    does with ``skipgram_bag="centre"``.

    Example
    -------
    >>> model = FastText("skipgram", epochs=1).fit("corpus.txt")
    >>> model.vectors.most_similar("paris", topn=5)
    >>> model.vectors["parisian-style"]   # unseen: from its n-grams
    """

    def __init__(
        self,
        architecture: str = "skipgram",
        *,
        minn: int = 3,
        maxn: int = 6,
        bucket: int = DEFAULT_BUCKET,
        skipgram_bag: str = "context",
        sample: float = DEFAULT_SAMPLE,
        **params: Any,
    ) -> None:
        self.minn = p.positive_int("minn", minn, MAX_NGRAM)
        self.maxn = p.positive_int("maxn", maxn, MAX_NGRAM)
        if self.minn > self.maxn:
            raise ParameterError(f"minn={self.minn} must not exceed maxn={self.maxn}")
        self.bucket = p.positive_int("bucket", bucket, MAX_BUCKET)
        self.skipgram_bag = p.one_of("skipgram_bag", skipgram_bag, SKIPGRAM_BAGS)
        if architecture == "cbow" and self.skipgram_bag != "context":
            raise ParameterError("skipgram_bag is for skip-gram; CBOW's bag is its context")
        super().__init__(architecture, sample=sample, **params)
        self.model: FastTextModel | None = None

    def _default_lr(self) -> float:
        return DEFAULT_LR

    def get_params(self) -> dict[str, Any]:
        own = {"minn": self.minn, "maxn": self.maxn, "bucket": self.bucket}
        return super().get_params() | own | {"skipgram_bag": self.skipgram_bag}

    @property
    def fasttext_model(self) -> FastTextModel:
        """The trained model as fastText holds it: words, input rows (words, then buckets
        in use) and output rows; ``wordspace.export(model.fasttext_model, "m.bin",
        "fasttext-bin")`` writes a Facebook ``.bin``."""
        if self.model is None:
            raise NotFittedError("the model is not trained yet: call fit() first")
        return self.model

    def _check_start(self, model: Model) -> None:
        super()._check_start(model)
        if not isinstance(model, FastTextModel) or model.ngrams.maxn == 0:
            return
        theirs = {"minn": model.ngrams.minn, "maxn": model.ngrams.maxn}
        theirs["bucket"] = model.ngrams.bucket
        for name, value in theirs.items():
            if getattr(self, name) != value:
                raise ParameterError(
                    f"{name}={getattr(self, name)}, but the init model has {name}={value}: "
                    "its n-gram rows only mean something with its own n-gram settings"
                )

    def _pairs(self, extra: ExtraRows) -> PairBuilder:
        pairs = super()._pairs(extra)
        if self.architecture == "skipgram" and self.skipgram_bag == "centre":
            # the full softmax scores one target per group: one group per context word
            shared = pairs.shared and self.loss != "softmax"
            return pairs._replace(architecture=CENTRE_SKIPGRAM, shared=shared)
        return pairs

    def _kernel_inputs(
        self,
        vocab: Vocabulary,
        encoded: Corpus,
        output: str | os.PathLike | None = None,
        start: Start | None = None,
    ) -> tuple[Weights, Sentences, PairBuilder, LossTables, Schedule]:
        n_words = len(vocab)
        skip = np.zeros(n_words, dtype=np.bool_)
        eos = vocab.index(EOS)
        if eos >= 0:
            skip[eos] = True
        extra = ExtraRows.char_ngrams(vocab, self.minn, self.maxn, self.bucket, skip)
        buckets = extra.rows - n_words
        start_model = start.fasttext if start is not None else None
        kept = None
        if start_model is not None and start_model.ngrams.maxn > 0:
            kept = _nonzero_buckets(start_model)
        map_bytes = self.bucket * 4
        tables = 5 * self.bucket + 2 * extra.rows.nbytes
        self._check_resources(n_words, n_words, None, extra_memory=tables)
        used, bucket_rows = compact_buckets(buckets, self.bucket, kept)
        input_rows = n_words + len(used)
        self._check_resources(
            n_words,
            input_rows,
            output,
            extra_memory=tables,
            extra_disk=map_bytes + n_words * self.dim * 4,
        )
        compact = ExtraRows(extra.offsets, n_words + bucket_rows[buckets].astype(np.int64))
        syn0 = initial_vectors(input_rows, self.dim, self.seed, padded_width(self.dim))
        loss = prepare_loss(
            self.loss, vocab.counts, negative=self.negative, ns_exponent=self.ns_exponent
        )
        out = np.zeros((loss.output_rows, syn0.shape[1]), dtype=np.float32)
        if start is not None:
            _start_rows(start, syn0, out, self.dim, used, compact, self.loss)
        self._bucket_rows = bucket_rows
        return (
            Weights(syn0, out, loss.hot_rows),
            self._sentences(vocab, encoded),
            self._pairs(compact),
            loss.tables,
            self._schedule(encoded),
        )

    def _finish(self, vocab: Vocabulary, encoded: Corpus, weights: Weights) -> None:
        """Keep the trained rows, narrowed to ``dim`` columns in place (the input matrix may
        hold a million rows: no second copy), as a FastTextModel."""
        matrix = narrowed(weights.input, self.dim)
        output = np.ascontiguousarray(weights.output[:, : self.dim])
        if self.loss == "hs":
            # fastText's hierarchical softmax keeps one output row per word (the tree's
            # inner nodes use all but one): the same shape, so that its readers accept it
            output = np.vstack([output, np.zeros((1, self.dim), dtype=np.float32)])
        args = {
            "dim": self.dim, "ws": self.window, "epoch": self.epochs,
            "min_count": self.min_count, "neg": self.negative, "word_ngrams": 1,
            "loss": FASTTEXT_LOSS_CODES[self.loss],
            "model": FASTTEXT_MODEL_CODES[self.architecture], "bucket": self.bucket,
            "minn": self.minn, "maxn": self.maxn, "lr_update_rate": 100, "t": self.sample,
        }  # fmt: skip
        self.model = FastTextModel(
            args, vocab, matrix, output, None, encoded.n_tokens, bucket_rows=self._bucket_rows
        )
        self._vectors = self.model.vectors()
        self.output_weights = output

    def export_rows(self, matrix: str) -> NamedRows:
        """``matrix`` (``"vectors"``, ``"input"`` or ``"output"``) of the trained model, each
        row named (see ``wordspace.matrices``)."""
        return fasttext_rows(self.fasttext_model, matrix)

    def save(self, path: str | os.PathLike, *, include_output: bool = True) -> None:
        """Save the model natively (a folder): the composed vectors of the vocabulary
        (memory-mapped, ready for queries), the n-gram rows and bucket map (for unseen
        words), the output rows, configuration and training figures. The output rows are
        part of a fastText model (its ``.bin`` holds them), so ``include_output=False`` is
        refused."""
        if not include_output:
            raise ParameterError("a subword model is saved with its output rows")
        save_native(self.fasttext_model, path, config=self.config(), training=self.training_info())


def _nonzero_buckets(model: FastTextModel, block: int = 1 << 16) -> np.ndarray:
    """Buckets of ``model`` whose rows are not all zero (read one block at a time)."""
    ngrams = model.ngrams
    found = []
    for first in range(0, ngrams.bucket, block):
        rows = ngrams.dense_rows(first, min(first + block, ngrams.bucket))
        found.append(first + np.flatnonzero(np.any(rows != 0, axis=1)))
    return np.concatenate(found) if found else np.zeros(0, dtype=np.int64)


def _start_rows(
    start: Start,
    syn0: np.ndarray,
    out: np.ndarray,
    dim: int,
    used: np.ndarray,
    extra: ExtraRows,
    loss: str,
) -> None:
    """Fill the training matrices from the starting model: the rows of the words it knows,
    its n-gram rows of the buckets in use, its output rows (negative sampling, one per
    word); new words start at the mean of their n-gram rows, where the starting model would
    have put them as unseen words."""
    known = np.flatnonzero(start.known >= 0)
    model = start.fasttext
    if model is None:
        syn0[known, :dim] = start.model.matrix[start.known[known]]
        return
    syn0[known, :dim] = model.input[start.known[known]]
    ns_per_word = model.labels is None and model.output.shape[0] == model.nwords
    if loss == "ns" and ns_per_word and int(model.args["loss"]) == FASTTEXT_LOSS_CODES["ns"]:
        out[known, :dim] = model.output[start.known[known]]
    if model.ngrams.maxn == 0:
        return
    n_words = len(start.known)
    ngrams = model.ngrams
    for first in range(0, len(used), 1 << 16):
        block = used[first : first + (1 << 16)]
        at = n_words + first
        syn0[at : at + len(block), :dim] = ngrams.rows_of(block)
    rows_to_extra_mean(syn0, extra.offsets, extra.rows, np.flatnonzero(start.known < 0))
