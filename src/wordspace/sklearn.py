"""scikit-learn estimators over wordspace models (the optional extra ``wordspace[sklearn]``).

- ``EmbeddingVectorizer``: texts to dense features with any model, by the model's own
  sentence embedding (``pooling="mean"``: averaged word vectors, unseen words from their
  n-grams, or sent2vec's embedding) or by weighted averages of its word vectors learned on
  the training texts: ``"tfidf"`` (each word weighted by its inverse document frequency) or
  ``"sif"`` (Arora et al., ICLR 2017: weight ``a / (a + p(w))`` and the training set's first
  principal component removed). Transform is one compiled pass over all texts.
- ``TextClassifier``: the supervised classifier (``wordspace.Classifier``, fastText's
  ``supervised``) as a scikit-learn classifier: ``fit(texts, y)`` with any label values,
  ``predict``, ``predict_proba`` (columns in ``classes_`` order), accuracy ``score``; works
  in ``Pipeline``, ``GridSearchCV`` and ``cross_val_score``.

Texts are strings split on whitespace (or lists of tokens), as fastText reads a line; a
newline inside a text counts as a space. Both estimators take text, not numeric arrays:
their tags say so (``input_tags.string``, no 2-D array input).

>>> from sklearn.pipeline import make_pipeline
>>> from sklearn.linear_model import LogisticRegression
>>> pipe = make_pipeline(EmbeddingVectorizer("model-folder", pooling="sif"),
...                      LogisticRegression(max_iter=1000))
>>> pipe.fit(train_texts, train_labels).score(test_texts, test_labels)
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import check_is_fitted
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "wordspace.sklearn needs scikit-learn: pip install 'wordspace[sklearn]'"
    ) from exc

from wordspace.errors import ParameterError
from wordspace.formats import Model, load_model
from wordspace.kernels.fasttext_lines import line_ends_of
from wordspace.kernels.sentences import count_words
from wordspace.models.classifier import Classifier
from wordspace.models.fasttext import FastTextModel
from wordspace.sentences import SentenceEmbedder, sentences_text
from wordspace.vectors import Vectors

POOLINGS = ("mean", "tfidf", "sif")
"""How ``EmbeddingVectorizer`` turns a text's word vectors into one vector."""
LABEL_PREFIX = "__wordspace_label__"
"""The label prefix of the lines ``TextClassifier`` gives the classifier: a token in a text
is never taken for a label unless it starts with this."""


def _texts(X: Any, what: str) -> list[str] | list[list[str]]:
    """``X`` as a list of texts (strings or token lists); a newline counts as a space."""
    if isinstance(X, str | bytes):
        raise ValueError(f"{what} expects an iterable of texts; a single string was given")
    if isinstance(X, np.ndarray) and X.ndim != 1:
        raise ValueError(f"{what} expects a 1-D sequence of texts, got an array of {X.shape}")
    texts = list(X)
    for i, text in enumerate(texts):
        if isinstance(text, str):
            if "\n" in text or "\r" in text:
                texts[i] = text.replace("\r", " ").replace("\n", " ")
        elif isinstance(text, np.str_):
            texts[i] = str(text)
        elif not (isinstance(text, list | tuple) and all(isinstance(t, str) for t in text)):
            raise ValueError(
                f"{what}: text {i} is a {type(text).__name__}, not a string or a list of tokens"
            )
    return texts


def trained_model(model: Any) -> Model:
    """A loaded model from a path, a loaded model, or a trained wordspace estimator."""
    if isinstance(model, str | os.PathLike):
        return load_model(model)
    if isinstance(model, Vectors | FastTextModel):
        return model
    inner = getattr(model, "model", None)
    if isinstance(inner, FastTextModel):
        return inner
    vectors = getattr(model, "vectors", None)
    if isinstance(vectors, Vectors):
        return vectors
    raise ParameterError(
        f"model must be a model path, a loaded model or a trained wordspace estimator, "
        f"not a {type(model).__name__}"
    )


class _TextInput:
    """Tags of an estimator whose input is text, not a numeric array."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        return tags


class EmbeddingVectorizer(_TextInput, TransformerMixin, BaseEstimator):
    """Texts to dense float32 features with a wordspace model (see the module docstring).

    Parameters
    ----------
    model : a model path (any readable format; a native folder is memory-mapped), a loaded
        model, or a trained wordspace estimator; clones share it (never copied).
    pooling : ``"mean"`` (the model's sentence embedding), ``"tfidf"`` (the IDF-weighted
        mean of the word vectors, IDF ``ln((1 + n) / (1 + df)) + 1`` as scikit-learn's
        ``TfidfVectorizer``) or ``"sif"``.
    sif_a : SIF's smoothing ``a``: a word of training-text frequency ``p`` weighs
        ``a / (a + p)``.
    sif_components : principal components of the training embeddings removed by SIF.
    lowercase : lowercase the texts first (for a model trained on lowercased text).

    Attributes (after ``fit``)
    ----------
    weights_ : float32, one per vocabulary word and a last one for words outside it, which
        weigh as a word no training text holds (None for ``"mean"``).
    components_ : the removed directions, (sif_components, dim) (SIF only).
    """

    def __init__(
        self,
        model: Any = None,
        pooling: str = "mean",
        sif_a: float = 1e-3,
        sif_components: int = 1,
        lowercase: bool = False,
    ) -> None:
        self.model = model
        self.pooling = pooling
        self.sif_a = sif_a
        self.sif_components = sif_components
        self.lowercase = lowercase

    def __sklearn_clone__(self) -> EmbeddingVectorizer:
        """An unfitted copy with the same parameters and the same model object: a model is
        read, never changed, so clones share it (a mapped one stays mapped once)."""
        return type(self)(**self.get_params(deep=False))

    def _check_params(self) -> None:
        if self.pooling not in POOLINGS:
            raise ParameterError(
                f"pooling must be one of {', '.join(POOLINGS)}, got {self.pooling!r}"
            )
        if not (isinstance(self.sif_a, int | float) and self.sif_a > 0):
            raise ParameterError(f"sif_a must be a positive number, got {self.sif_a!r}")
        components = self.sif_components
        if isinstance(components, bool) or not isinstance(components, int) or components < 0:
            raise ParameterError(
                f"sif_components must be a non-negative integer, got {components!r}"
            )
        if self.model is None:
            raise ParameterError("model is not set: give a model path or a trained model")

    def fit(self, X: Sequence[str], y: Any = None) -> EmbeddingVectorizer:
        """Learn the pooling's word weights (and SIF's components) from the texts ``X``."""
        self._check_params()
        texts = self._prepared(X, "EmbeddingVectorizer.fit")
        model = trained_model(self.model)
        self.weights_ = None
        self.components_ = None
        if self.pooling == "mean":
            self.embedder_ = SentenceEmbedder(model)
            self.dim_ = self.embedder_.dim
            return self
        words = model.vectors() if isinstance(model, FastTextModel) else model
        occurrences, in_lines = _word_counts(words, texts)
        tokens = max(int(occurrences.sum()), 1)
        # an unseen word (vectors from n-grams) is weighed as a word no training text holds
        occurrences[-1] = in_lines[-1] = 0
        if self.pooling == "tfidf":
            n = len(texts)
            weights = np.log((1.0 + n) / (1.0 + in_lines)) + 1.0
        else:
            weights = self.sif_a / (self.sif_a + occurrences / tokens)
        self.weights_ = weights.astype(np.float32)
        self.embedder_ = SentenceEmbedder(words, self.weights_, by_weight=self.pooling == "tfidf")
        self.dim_ = self.embedder_.dim
        if self.pooling == "sif" and self.sif_components > 0:
            embedded = self.embedder_.embed(texts)
            _, s, vt = np.linalg.svd(embedded.astype(np.float64), full_matrices=False)
            real = s > 1e-6 * s.max(initial=0.0)  # directions the texts do have
            self.components_ = vt[real][: self.sif_components].astype(np.float32)
        return self

    def transform(self, X: Sequence[str]) -> np.ndarray:
        """One float32 row per text (zeros for a text with no known word)."""
        check_is_fitted(self, "embedder_")
        embedded = self.embedder_.embed(self._prepared(X, "EmbeddingVectorizer.transform"))
        if self.components_ is not None and len(embedded):
            embedded -= (embedded @ self.components_.T) @ self.components_
        return embedded

    def _prepared(self, X: Any, what: str) -> list:
        texts = _texts(X, what)
        if not self.lowercase:
            return texts
        return [t.lower() if isinstance(t, str) else [w.lower() for w in t] for t in texts]

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        check_is_fitted(self, "embedder_")
        return np.array([f"embedding{i}" for i in range(self.dim_)], dtype=object)


def _word_counts(vectors: Vectors, texts: list) -> tuple[np.ndarray, np.ndarray]:
    """Occurrences and documents of each vocabulary word (then of unknown words) in texts."""
    text = sentences_text(texts)
    starts, ends = line_ends_of(text, 0, len(text))
    vocab = vectors.vocab
    return count_words(text, starts, ends, (vocab.slots, vocab.blob, vocab.offsets), len(vocab))


class TextClassifier(_TextInput, ClassifierMixin, BaseEstimator):
    """fastText's supervised classifier (``wordspace.Classifier``) as a scikit-learn
    estimator: the same parameters and defaults (see ``Classifier``), labels of any value
    in ``y``, and hyperparameters checked at ``fit``, as scikit-learn's convention asks.

    Attributes (after ``fit``): ``classes_`` (the sorted labels, ``predict_proba``'s column
    order) and ``classifier_`` (the trained ``Classifier``: save it with ``.save(path)``).
    """

    def __init__(
        self,
        dim: int = 100,
        lr: float = 0.1,
        epochs: int = 5,
        min_count: int = 1,
        word_ngrams: int = 1,
        bucket: int = 2_000_000,
        minn: int = 0,
        maxn: int = 0,
        loss: str = "softmax",
        negative: int = 5,
        class_weight: Any = None,
        workers: int | None = None,
        seed: int = 1,
    ) -> None:
        self.dim = dim
        self.lr = lr
        self.epochs = epochs
        self.min_count = min_count
        self.word_ngrams = word_ngrams
        self.bucket = bucket
        self.minn = minn
        self.maxn = maxn
        self.loss = loss
        self.negative = negative
        self.class_weight = class_weight
        self.workers = workers
        self.seed = seed

    def fit(self, X: Sequence[str], y: Any) -> TextClassifier:
        """Train on texts ``X`` with one label each in ``y``."""
        texts = _texts(X, "TextClassifier.fit")
        if y is None:
            raise ValueError("TextClassifier requires y to be passed, but the target y is None")
        y = np.asarray(y)
        if y.ndim != 1 or len(y) != len(texts):
            raise ValueError(f"y must hold one label per text: {len(texts)} texts, y {y.shape}")
        check_classification_targets(y)
        self.classes_, codes = np.unique(y, return_inverse=True)
        params = self.get_params()
        weight = params.pop("class_weight")
        if isinstance(weight, dict):
            index = {label: i for i, label in enumerate(self.classes_.tolist())}
            unknown = [k for k in weight if k not in index]
            if unknown:
                raise ValueError(
                    f"class_weight names {unknown[0]!r}, which is not a class of y "
                    f"(classes: {', '.join(map(str, self.classes_[:10]))})"
                )
            weight = {f"{LABEL_PREFIX}{index[k]}": v for k, v in weight.items()}
        lines = [
            f"{LABEL_PREFIX}{code} {_line(text)}" for code, text in zip(codes, texts, strict=True)
        ]
        classifier = Classifier(label_prefix=LABEL_PREFIX, class_weight=weight, **params)
        self.classifier_ = classifier.fit(lines)
        names = classifier.classes_
        self._columns = np.array([int(name.removeprefix(LABEL_PREFIX)) for name in names])
        return self

    def predict_proba(self, X: Sequence[str]) -> np.ndarray:
        """Each class's probability for each text (columns in ``classes_`` order); with
        ``loss="ns"`` or ``"ova"`` they are independent sigmoids and need not sum to 1."""
        check_is_fitted(self, "classifier_")
        texts = [_line(text) for text in _texts(X, "TextClassifier.predict_proba")]
        trained = self.classifier_.predict_proba(texts)
        proba = np.zeros((len(texts), len(self.classes_)), dtype=np.float64)
        proba[:, self._columns] = trained
        return proba

    def predict(self, X: Sequence[str]) -> np.ndarray:
        """The most probable class of each text."""
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]


def _line(text: str | Sequence[str]) -> str:
    return text if isinstance(text, str) else " ".join(text)
