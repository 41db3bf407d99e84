"""wordspace: word2vec, subword vectors, sentence vectors and text classification on one
fast numba engine, reading and writing the formats of gensim, fastText and word2vec."""

from wordspace.numba_cache import drop_stale_kernels

drop_stale_kernels()


from wordspace.errors import (
    InputError,
    InsufficientMemoryError,
    ModelFileError,
    NotFittedError,
    OutputError,
    ParameterError,
    TrainingDivergedError,
    WordspaceError,
)
from wordspace.formats import load
from wordspace.matrices import export
from wordspace.models.classifier import Classifier
from wordspace.models.sent2vec import Sent2Vec
from wordspace.models.subword import FastText
from wordspace.models.word2vec import Word2Vec
from wordspace.text.phrases import Phrases
from wordspace.training import Progress
from wordspace.vectors import Vectors

__version__ = "0.1.0"

__all__ = [
    "Classifier",
    "FastText",
    "InputError",
    "InsufficientMemoryError",
    "ModelFileError",
    "NotFittedError",
    "OutputError",
    "ParameterError",
    "Phrases",
    "Progress",
    "Sent2Vec",
    "TrainingDivergedError",
    "Vectors",
    "Word2Vec",
    "WordspaceError",
    "__version__",
    "export",
    "load",
]
