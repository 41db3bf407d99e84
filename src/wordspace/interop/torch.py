"""``Vectors`` to and from a ``torch.nn.Embedding`` (the optional extra ``wordspace[torch]``).

A frozen embedding's weight is the vectors' matrix itself (memory-mapped or not, no copy);
a trainable one gets a copy, so that training rewrites neither the vectors (whose cached
norms would go stale) nor a read-only mapping. ``from_torch`` copies the weight, so later
training of the embedding leaves the vectors as they were.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from wordspace.errors import ParameterError

if TYPE_CHECKING:
    import torch

    from wordspace.vectors import Vectors


def _torch() -> Any:
    try:
        import torch
    except ImportError:
        raise ImportError("PyTorch is not installed: pip install 'wordspace[torch]'") from None
    return torch


def to_torch(vectors: Vectors, freeze: bool = True) -> tuple[torch.nn.Embedding, dict[str, int]]:
    """An embedding whose row ``i`` is the vector of word ``i``, and the word-to-row map."""
    torch = _torch()
    matrix = np.asarray(vectors.matrix)
    if matrix.dtype != np.float32 or not matrix.flags.c_contiguous:
        matrix = np.ascontiguousarray(matrix, dtype=np.float32)
    if not freeze:
        matrix = matrix.copy()  # training must not rewrite these vectors (nor a mapping)
    with warnings.catch_warnings():
        # a frozen embedding never writes to the read-only mapping torch warns about
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        weight = torch.from_numpy(matrix)
    embedding = torch.nn.Embedding.from_pretrained(weight, freeze=freeze)
    return embedding, {word: i for i, word in enumerate(vectors.words)}


def from_torch(
    embedding: torch.nn.Embedding | torch.Tensor,
    words: Sequence[str] | Mapping[str, int],
    vectors_class: type[Vectors],
) -> Vectors:
    """Vectors (of ``vectors_class``) from an embedding (or a weight tensor) and its words:
    a sequence in row order, or a word-to-row mapping as ``to_torch`` gives."""
    torch = _torch()
    weight = embedding.weight if isinstance(embedding, torch.nn.Embedding) else embedding
    if not isinstance(weight, torch.Tensor) or weight.ndim != 2:
        raise ParameterError("from_torch needs an nn.Embedding or a 2-D weight tensor")
    matrix = weight.detach().to("cpu", torch.float32).numpy().copy()  # not the live weight
    if isinstance(words, Mapping):
        order = sorted(words.items(), key=lambda item: item[1])
        if [row for _, row in order] != list(range(len(order))):
            raise ParameterError("the word-to-row mapping must number the rows 0, 1, 2, ...")
        words = [word for word, _ in order]
    words = list(words)
    if len(words) != matrix.shape[0]:
        raise ParameterError(f"{len(words):,} words for an embedding of {matrix.shape[0]:,} rows")
    return vectors_class.from_words(words, matrix)
