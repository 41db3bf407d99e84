"""Continued training: start a run from an existing model instead of random vectors.

The new run's vocabulary is the union of the model's words and the new text's (counts
added, sorted by count, as every vocabulary is); the corpus is re-encoded to it with one
array lookup. Which rows start from the model is each model class's business; this module
only says, per word of the union, which row of the starting model it was.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from wordspace.corpus import Corpus
from wordspace.errors import ModelFileError, ParameterError
from wordspace.formats import Model, load_model
from wordspace.models.fasttext import FastTextModel
from wordspace.vectors import Vectors
from wordspace.vocab import Vocabulary

InitModel = Model | str | os.PathLike
"""What ``fit(init=...)`` takes: a loaded model, or the path of one in any readable format."""


@dataclass(frozen=True)
class Start:
    """The model a run starts from, and where each word of the run's vocabulary was in it."""

    model: Model
    known: np.ndarray
    """int64 per word of the run's vocabulary: its row in the starting model, -1 if new."""

    @property
    def fasttext(self) -> FastTextModel | None:
        """The starting model when it is a fastText model (with its raw input rows)."""
        return self.model if isinstance(self.model, FastTextModel) else None


def model_words(model: Model) -> Vocabulary:
    """A model's vocabulary, without composing the vectors of a fastText model."""
    return model.words if isinstance(model, FastTextModel) else model.vocab


def model_dim(model: Model) -> int:
    """A model's dimension, without composing the vectors of a fastText model."""
    return model.dim


def load_start(init: InitModel) -> Model:
    """``init`` itself, or the model at that path (memory-mapped where the format allows)."""
    if isinstance(init, str | os.PathLike):
        return load_model(init)
    if isinstance(init, Vectors | FastTextModel):
        return init
    raise ParameterError(f"init must be a model or the path of one, got {type(init).__name__}")


def merge_start(
    model: Model, vocab: Vocabulary, corpus: Corpus
) -> tuple[Vocabulary, Corpus, Start]:
    """The union of ``model``'s words and ``vocab`` (counts added, most frequent first), the
    corpus re-encoded to it, and the ``Start`` saying where each word was in ``model``."""
    old = model_words(model)
    old_words = old.words
    in_old = old.indices(vocab.words)
    counts = old.counts.astype(np.int64)
    found = in_old >= 0
    np.add.at(counts, in_old[found], vocab.counts[found])
    new_words = [w for w, i in zip(vocab.words, in_old, strict=True) if i < 0]
    all_words = old_words + new_words
    all_counts = np.concatenate([counts, vocab.counts[~found]])
    order = np.argsort(-all_counts, kind="stable")
    try:
        merged = Vocabulary.from_words([all_words[i] for i in order], all_counts[order])
    except ValueError as exc:
        raise ModelFileError(f"cannot continue the init model: {exc}") from None
    position = np.empty(len(order), dtype=np.int64)
    position[order] = np.arange(len(order))
    remap = np.empty(len(vocab), dtype=np.int32)
    remap[found] = position[in_old[found]]
    remap[~found] = position[len(old_words) + np.arange(int((~found).sum()))]
    ids = remap[corpus.ids]
    known = np.where(order < len(old_words), order, -1).astype(np.int64)
    encoded = Corpus(ids, corpus.offsets, corpus.labels, corpus.label_offsets)
    return merged, encoded, Start(model, known)
