"""Reading and writing vectors in every supported format."""

from __future__ import annotations

import os
from pathlib import Path

from wordspace.errors import ModelFileError
from wordspace.formats.native import is_native, load_vectors
from wordspace.formats.word2vec import read_word2vec, write_word2vec
from wordspace.vectors import Vectors

EXPORT_FORMATS = ("word2vec-txt", "word2vec-bin", "native")


def load(path: str | os.PathLike, *, mmap: bool = True, verify: bool = False) -> Vectors:
    """Load vectors from a native model folder (memory-mapped) or a word2vec file."""
    target = Path(path)
    if target.is_dir() or is_native(target):
        return load_vectors(target, mmap=mmap, verify=verify)
    if not target.exists():
        raise ModelFileError(f"{target}: no such model file or folder")
    return read_word2vec(target)


def export(vectors: Vectors, path: str | os.PathLike, fmt: str) -> None:
    """Write ``vectors`` to ``path`` in the format named ``fmt`` (one of EXPORT_FORMATS)."""
    if fmt == "word2vec-txt":
        write_word2vec(vectors, path, binary=False)
    elif fmt == "word2vec-bin":
        write_word2vec(vectors, path, binary=True)
    elif fmt == "native":
        vectors.save(path)
    else:
        raise ValueError(f"format must be one of {', '.join(EXPORT_FORMATS)}, got {fmt!r}")
