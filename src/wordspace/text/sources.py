"""Where training text comes from: files, folders, globs, stdin, compressed streams.

A source is opened as a binary stream of decompressed bytes; the compression is recognised
by the stream's magic bytes (so it also works on stdin), not by the file name.
"""

from __future__ import annotations

import bz2
import glob
import gzip
import io
import lzma
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from wordspace.errors import InputError

STDIN = "-"

_MAGIC_GZIP = b"\x1f\x8b"
_MAGIC_BZIP2 = b"BZh"
_MAGIC_XZ = b"\xfd7zXZ\x00"
_MAGIC_ZSTD = b"\x28\xb5\x2f\xfd"


@dataclass(frozen=True)
class Source:
    """One readable input: a file path, or stdin when ``path`` is ``-``."""

    path: str

    @property
    def name(self) -> str:
        return "<stdin>" if self.path == STDIN else self.path

    def open(self) -> BinaryIO:
        """Open the source as a stream of decompressed bytes."""
        if self.path == STDIN:
            raw: BinaryIO = sys.stdin.buffer
        else:
            try:
                raw = open(self.path, "rb")  # noqa: SIM115 - handed to the caller
            except OSError as exc:
                raise InputError(f"{self.path}: cannot open ({exc.strerror})") from exc
        return _decompressing(raw, self.name)


def _peek(raw: BinaryIO, n: int) -> bytes:
    if isinstance(raw, io.BufferedReader):
        return raw.peek(n)[:n]
    buffered = io.BufferedReader(raw)  # type: ignore[arg-type]
    return buffered.peek(n)[:n]


def _decompressing(raw: BinaryIO, name: str) -> BinaryIO:
    if not isinstance(raw, io.BufferedReader):
        raw = io.BufferedReader(raw)  # type: ignore[arg-type]
    head = _peek(raw, 6)
    if head.startswith(_MAGIC_GZIP):
        return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
    if head.startswith(_MAGIC_BZIP2):
        return bz2.BZ2File(raw, mode="rb")  # type: ignore[return-value]
    if head.startswith(_MAGIC_XZ):
        return lzma.LZMAFile(raw, mode="rb")  # type: ignore[return-value]
    if head.startswith(_MAGIC_ZSTD):
        try:
            import zstandard
        except ImportError as exc:
            raise InputError(
                f"{name}: is zstd-compressed; install the zstandard package "
                "(pip install 'wordspace[zstd]') or decompress it first"
            ) from exc
        reader = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)
        return io.BufferedReader(reader)  # type: ignore[arg-type]
    return raw


def _is_hidden(path: str) -> bool:
    return os.path.basename(path).startswith(".")


def _files_under(folder: str) -> list[str]:
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found.extend(os.path.join(root, f) for f in sorted(files) if not f.startswith("."))
    return found


def resolve_sources(spec: str | os.PathLike | list | tuple) -> list[Source]:
    """Expand a path, folder, glob pattern, ``-`` or a list of them into ordered sources.

    Folders are read recursively in sorted order, skipping hidden files; a pattern that
    matches nothing, a missing path or an empty folder is an error, never an empty corpus.
    """
    if isinstance(spec, list | tuple):
        sources: list[Source] = []
        for item in spec:
            sources.extend(resolve_sources(item))
        if not sources:
            raise InputError("no input files given")
        return sources
    path = os.fspath(spec)
    if path == STDIN:
        return [Source(STDIN)]
    if os.path.isdir(path):
        files = _files_under(path)
        if not files:
            raise InputError(f"{path}: folder holds no (non-hidden) files")
        return [Source(f) for f in files]
    if os.path.exists(path):
        return [Source(path)]
    if glob.has_magic(path):
        matches = sorted(m for m in glob.glob(path, recursive=True) if not _is_hidden(m))
        files = [m for m in matches if os.path.isfile(m)]
        if not files:
            raise InputError(f"{path}: pattern matches no files")
        return [Source(f) for f in files]
    raise InputError(f"{path}: no such file or folder")


def describe(sources: list[Source]) -> str:
    """A short human name for a list of sources, for messages."""
    if len(sources) == 1:
        return sources[0].name
    return f"{sources[0].name} (+{len(sources) - 1} more files)"


def iter_chunks(stream: BinaryIO, chunk_bytes: int) -> Iterator[bytes]:
    """Read a stream in blocks of about ``chunk_bytes``; the last one may be shorter."""
    while True:
        block = stream.read(chunk_bytes)
        if not block:
            return
        yield block


def as_path(spec: object) -> str | None:
    """The path a corpus argument names, or None when it is not a path-like value."""
    if isinstance(spec, str | os.PathLike):
        return os.fspath(spec)
    return None


def looks_like_paths(spec: object) -> bool:
    """True for a path, or a list/tuple of paths (``Path`` objects)."""
    if isinstance(spec, str | Path | os.PathLike):
        return True
    return isinstance(spec, list | tuple) and bool(spec) and all(isinstance(s, Path) for s in spec)
