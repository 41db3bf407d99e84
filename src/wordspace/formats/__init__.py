"""Reading and writing vectors in every supported format, and converting between them.

Formats: ``native`` (a folder, memory-mapped), ``word2vec-txt`` and ``word2vec-bin`` (the C
tool's and gensim's), ``fasttext-bin`` (Facebook's model, with n-grams for unknown words; its
quantized ``.ftz`` form is read too, found by content like the ``.bin``) and ``fasttext-vec``
(fastText's text vectors, the word2vec text layout).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from wordspace.errors import ModelFileError, OutputError, ParameterError
from wordspace.formats import fasttext
from wordspace.formats.files import model_path, read_head, regular_file
from wordspace.formats.native import is_native, load_vectors, read_meta, save_vectors
from wordspace.formats.word2vec import is_binary_file, read_word2vec, write_word2vec
from wordspace.models.fasttext import FastTextModel
from wordspace.names import FORMATS
from wordspace.vectors import Vectors
from wordspace.vocab import Vocabulary

EXPORT_FORMATS = FORMATS
"""The formats ``save`` and ``export`` write: all of FORMATS."""
Model = Vectors | FastTextModel
WORD2VEC_LAYOUTS = {
    "word2vec-txt": False,
    "fasttext-vec": False,
    "word2vec-bin": True,
}
"""Formats in the word2vec layout, and whether each is binary."""


def _is_fasttext_bin(path: Path) -> bool:
    head = read_head(path, 4)
    return len(head) == 4 and int.from_bytes(head, "little", signed=True) == fasttext.MAGIC


def detect_format(path: str | os.PathLike) -> str:
    """The format of an existing model file or folder, one of FORMATS, from its content
    (compressed or not). Only fastText's text vectors and word2vec text, which look alike,
    are told apart by the name: ``.vec`` (or ``.vec.gz``) is fastText's."""
    target = model_path(path)
    if target.is_dir() or is_native(target):
        return "native"
    if not target.exists():
        raise ModelFileError(f"{target}: no such model file or folder")
    regular_file(target)
    if _is_fasttext_bin(target):
        return "fasttext-bin"
    if is_binary_file(target):
        return "word2vec-bin"
    name = target.name.removesuffix(".gz")
    return "fasttext-vec" if name.endswith(".vec") else "word2vec-txt"


def output_format(path: str | os.PathLike, source: Model) -> str:
    """The format a file name asks for: ``.txt`` word2vec text, ``.vec`` fastText text,
    ``.bin`` fastText's model for fastText sources and word2vec binary otherwise, and a name
    without these suffixes a native folder. A further ``.gz`` has the word2vec layouts
    written gzip-compressed (a fastText ``.bin`` is always written plain, to be mapped).
    ``.ftz`` is refused: quantized models are read, never written."""
    name = Path(path).name.removesuffix(".gz")
    if name.endswith(".txt"):
        return "word2vec-txt"
    if name.endswith(".vec"):
        return "fasttext-vec"
    if name.endswith(".bin"):
        return "fasttext-bin" if isinstance(source, FastTextModel) else "word2vec-bin"
    if name.endswith(".ftz"):
        raise OutputError(
            f"{path}: wordspace reads quantized fastText models (.ftz) but does not write "
            "them; name a .bin (dense fastText) or a folder (native)"
        )
    return "native"


def _check_format(name: str | None) -> None:
    if name is not None and name not in FORMATS:
        raise ParameterError(f"format must be one of {', '.join(FORMATS)}, got {name!r}")


def load_model(
    path: str | os.PathLike, *, format: str | None = None, mmap: bool = True, verify: bool = False
) -> Model:
    """Load whatever ``path`` holds: a FastTextModel for fastText models (native, ``.bin`` or
    ``.ftz``), Vectors otherwise."""
    _check_format(format)
    fmt = format or detect_format(path)
    if fmt == "native":
        if read_meta(path).get("kind") == "fasttext":
            return fasttext.load_native(path, mmap=mmap, verify=verify)
        return load_vectors(path, mmap=mmap, verify=verify)
    if fmt == "fasttext-bin":
        return fasttext.read_fasttext_bin(path, mmap=mmap)
    return read_word2vec(path, binary=WORD2VEC_LAYOUTS[fmt])


def as_vectors(model: Model) -> Vectors:
    return model.vectors() if isinstance(model, FastTextModel) else model


def load(
    path: str | os.PathLike, *, format: str | None = None, mmap: bool = True, verify: bool = False
) -> Vectors:
    """Load vectors from any supported format (native folders are memory-mapped)."""
    return as_vectors(load_model(path, format=format, mmap=mmap, verify=verify))


def save(model: Model, path: str | os.PathLike, format: str) -> None:
    """Write ``model`` to ``path`` in ``format`` (one of FORMATS), atomically."""
    _check_format(format)
    if format == "native":
        if isinstance(model, FastTextModel):
            fasttext.save_native(model, path)
        else:
            save_vectors(model, path)
    elif format == "fasttext-bin":
        if not isinstance(model, FastTextModel):
            model = FastTextModel.from_vectors(model)
        fasttext.write_fasttext_bin(model, path)
    else:
        write_word2vec(as_vectors(model), path, binary=format == "word2vec-bin")


def first_words(model: Model, limit: int) -> Model:
    """The model restricted to its ``limit`` first (most frequent) words."""
    vectors = as_vectors(model)
    if limit >= len(vectors):
        return model
    vocab = vectors.vocab
    end = int(vocab.offsets[limit])
    words = Vocabulary(
        np.asarray(vocab.blob[:end]),
        np.asarray(vocab.offsets[: limit + 1]),
        np.asarray(vocab.counts[:limit]),
    )
    if isinstance(model, FastTextModel):
        rows = np.concatenate([model.input[:limit], model.input[model.nwords :]])
        output = model.output if model.labels is not None else model.output[:limit]
        return FastTextModel(
            model.args, words, rows, output, model.labels, model.ntokens, model.version,
            model.bucket_rows, pruned=model.pruned,
        )  # fmt: skip
    return Vectors(words, np.asarray(vectors.matrix[:limit]), vectors.ngrams)


def convert(
    source: str | os.PathLike,
    target: str | os.PathLike,
    *,
    from_format: str | None = None,
    to_format: str | None = None,
    limit: int | None = None,
) -> str:
    """Convert a model between formats (inferred from content and names when not given);
    returns the format written."""
    _check_format(to_format)
    if limit is not None and limit < 1:
        raise ParameterError(f"limit must be a positive integer, got {limit}")
    fmt = from_format or detect_format(source)
    if limit is not None and fmt in WORD2VEC_LAYOUTS:
        model: Model = read_word2vec(source, binary=WORD2VEC_LAYOUTS[fmt], limit=limit)
    else:
        model = load_model(source, format=from_format)
        if limit is not None:
            model = first_words(model, limit)
    written = to_format or output_format(target, model)
    save(model, target, written)
    return written
