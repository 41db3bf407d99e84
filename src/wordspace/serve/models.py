"""A model as the service answers with it: loaded (memory-mapped where the format allows)
once per worker process, its kind, and batched answers for each endpoint."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from wordspace.classify import Predictor
from wordspace.errors import ParameterError
from wordspace.formats import detect_format, load_model
from wordspace.formats.native import read_meta
from wordspace.models.fasttext import FastTextModel
from wordspace.neighbour_index import open_index
from wordspace.sentences import SentenceEmbedder, sentences_text
from wordspace.vectors import Vectors

KINDS = ("word", "subword", "sent2vec", "classifier")
"""What a served model is: word vectors, subword vectors (unseen words from n-grams), a
sent2vec model (sentences from words and word n-grams) or a classifier."""
_TOUCH_BLOCK = 64 << 20


def model_kind(model: FastTextModel | Vectors) -> str:
    """One of KINDS."""
    if isinstance(model, FastTextModel):
        if model.labels is not None:
            return "classifier"
        if model.is_sent2vec:
            return "sent2vec"
        ngrams = model.ngrams
        return "subword" if ngrams.maxn > 0 and ngrams.bucket > 0 else "word"
    ngrams = model.ngrams
    return "subword" if ngrams is not None and ngrams.maxn > 0 else "word"


@dataclass
class ServedModel:
    """One loaded model and what answers its requests."""

    name: str
    format: str
    model: FastTextModel | Vectors
    vectors: Vectors
    sentences: SentenceEmbedder
    words: SentenceEmbedder
    predictor: Predictor | None
    meta: dict[str, Any]

    @classmethod
    def load(cls, path: str | os.PathLike) -> ServedModel:
        """Load the model at ``path``; a format read into memory is checked against the
        memory available first (one clear error instead of being killed)."""
        fmt = detect_format(path)
        model = load_model(path)
        vectors = model.vectors() if isinstance(model, FastTextModel) else model
        predictor = None
        if isinstance(model, FastTextModel) and model.labels is not None:
            predictor = Predictor(model)
        meta = read_meta(path) if fmt == "native" else {}
        if meta and vectors.approximate is None:
            vectors.approximate = open_index(path, meta)
        sentences = SentenceEmbedder(model)
        words = SentenceEmbedder(vectors) if sentences.sent2vec else sentences
        return cls(
            os.path.basename(os.path.normpath(os.fspath(path))), fmt, model, vectors,
            sentences, words, predictor, meta,
        )  # fmt: skip

    @property
    def kind(self) -> str:
        return model_kind(self.model)

    @property
    def dim(self) -> int:
        return self.vectors.dim

    def info(self) -> dict[str, Any]:
        """What ``/v1/info`` says of the model."""
        document: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind,
            "format": self.format,
            "dim": self.dim,
            "vocab_size": len(self.vectors),
            "subwords": self.kind == "subword",
        }
        if "version" in self.meta:
            document["format_version"] = self.meta["version"]
        if self.predictor is not None:
            document["labels"] = list(self.predictor.label_names)
        index = self.vectors.approximate
        document["neighbour_index"] = None if index is None else index.describe()
        return document

    def word_vectors(self, words: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(vectors, in the vocabulary?, has a vector?) of each word, in one compiled pass:
        a vocabulary word's vector, or an unseen word's from its n-grams where the model
        has them (zeros and ``has_vector`` False otherwise)."""
        in_vocab = self.vectors.vocab.indices(words) >= 0
        if not words:
            return np.zeros((0, self.dim), np.float32), in_vocab, in_vocab
        vectors, counts = self.words.embed_text(sentences_text(words))
        return vectors, in_vocab, counts > 0

    def embed(self, sentences: list[str]) -> tuple[np.ndarray, int]:
        """Sentence vectors and how many sentences had no known word (zero vectors)."""
        if not sentences:
            return np.zeros((0, self.dim), np.float32), 0
        vectors, counts = self.sentences.embed_text(sentences_text(sentences))
        return vectors, int(np.count_nonzero(counts == 0))

    def predict(self, texts: list[str], k: int, threshold: float) -> list[list[dict]]:
        """Top-``k`` labels and probabilities of each text, as ``wordspace predict``."""
        if self.predictor is None:
            raise ParameterError("this model is not a classifier")
        answers = self.predictor.predict(texts, k=k, threshold=threshold)
        return [[{"label": lab, "probability": p} for lab, p in line] for line in answers]

    def touch(self) -> int:
        """Read every page of the model's arrays and of its neighbour index once
        (``--preload``), so that the first requests do not wait for the disk; returns the
        bytes read."""
        arrays = [self.vectors.matrix]
        if self.vectors.ngrams is not None:
            arrays.append(self.vectors.ngrams.vectors)
        if isinstance(self.model, FastTextModel):
            arrays += [self.model.input, self.model.output]
        total = 0
        index = self.vectors.approximate
        if index is not None:
            for path in sorted(index.folder.iterdir()):
                with open(path, "rb") as stream:
                    while block := stream.read(_TOUCH_BLOCK):
                        total += len(block)
        for array in arrays:
            flat = np.asarray(array).reshape(-1)
            step = max(1, _TOUCH_BLOCK // max(flat.itemsize, 1))
            for start in range(0, len(flat), step):
                float(np.sum(flat[start : start + step], dtype=np.float64))
            total += flat.nbytes
        return total
