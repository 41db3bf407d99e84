"""Where training text comes from: files, folders, globs, stdin, compressed streams.

A source is opened as a binary stream of decompressed bytes; the compression is recognised
by the stream's magic bytes (so it also works on stdin), not by the file name.
"""

from __future__ import annotations

import bz2
import fnmatch
import glob
import gzip
import io
import lzma
import os
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

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

    @contextmanager
    def open(self) -> Iterator[BinaryIO]:
        """The source as a stream of decompressed bytes, closed afterwards.

        What this opened is closed again, stdin never: reading ``-`` twice then reads an
        empty stream instead of failing on a closed file.
        """
        if self.path == STDIN:
            yield _decompressing(_stdin_bytes(), self.name)
            return
        raw = _open_file(self.path)
        try:
            stream = _decompressing(raw, self.name)
            try:
                yield stream
            finally:
                stream.close()
        finally:
            raw.close()


def _stdin_bytes() -> BinaryIO:
    """The byte stream under ``sys.stdin``; a process started with its stdin closed has
    none (``sys.stdin`` is None), which is an input error rather than a traceback."""
    buffer = getattr(sys.stdin, "buffer", None)
    if buffer is None or buffer.closed:
        raise InputError(
            "<stdin>: stdin is closed (or gives no bytes); pipe text into the command or "
            "give a file"
        )
    return buffer


def _open_file(path: str) -> BinaryIO:
    try:
        return open(path, "rb")
    except OSError as exc:
        raise InputError(f"{path}: cannot open ({exc.strerror or exc})") from exc


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


_SPECIAL_KINDS = {
    stat.S_IFIFO: "named pipe (FIFO)",
    stat.S_IFSOCK: "socket",
    stat.S_IFCHR: "character device",
    stat.S_IFBLK: "block device",
}


def _is_hidden(path: str) -> bool:
    return os.path.basename(path).startswith(".")


def _unreadable(path: str) -> InputError:
    """The error for a folder entry or pattern match that is not a folder or regular file.

    Only regular files are read from a folder or a pattern: a pipe or a device there would
    block the read for ever, or never end.
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        if os.path.islink(path):
            return InputError(f"{path}: is a broken symbolic link")
        return InputError(f"{path}: vanished while its folder was being read")
    except OSError as exc:
        return InputError(f"{path}: cannot read ({exc.strerror or exc})")
    kind = _SPECIAL_KINDS.get(stat.S_IFMT(mode), "special file")
    return InputError(
        f"{path}: is a {kind}, not a regular file; only regular files are read from a folder "
        "or a pattern (give a pipe or a device as the input path itself to read it)"
    )


def _entries(folder: str) -> list[os.DirEntry]:
    """The non-hidden entries of a folder, sorted by name; an unlistable folder is an error
    (``os.walk`` would skip it without a word)."""
    try:
        with os.scandir(folder or os.curdir) as scan:
            entries = [entry for entry in scan if not entry.name.startswith(".")]
    except OSError as exc:
        raise InputError(f"{folder}: cannot list the folder ({exc.strerror or exc})") from exc
    return sorted(entries, key=lambda entry: entry.name)


def _walk(top: str) -> Iterator[tuple[str, list[str], list[str]]]:
    """(folder, regular files, other entries) for ``top`` and every non-hidden folder below
    it, top-down in sorted order, as ``os.walk`` visits them.

    Symbolic links to folders are followed, as links to files are, but each real folder is
    visited once, so a link cycle ends and a folder linked twice is read once. An explicit
    stack, not recursion, so that deep trees cannot exhaust Python's recursion limit.
    """
    visited: set[str] = set()
    stack = [top]
    while stack:
        folder = stack.pop()
        real = os.path.realpath(folder or os.curdir)
        if real in visited:
            continue
        visited.add(real)
        subfolders, files, others = [], [], []
        for entry in _entries(folder):
            path = os.path.join(folder, entry.name)
            if entry.is_dir():
                subfolders.append(path)
            elif entry.is_file():
                files.append(path)
            else:
                others.append(path)
        yield folder, files, others
        stack.extend(reversed(subfolders))


def _files_under(folder: str) -> list[str]:
    """Every regular file under ``folder``; anything else there is refused, naming it."""
    found = []
    for _, files, others in _walk(folder):
        if others:
            raise _unreadable(others[0])
        found.extend(files)
    return found


def _below(base: str, with_entries: bool) -> list[str]:
    """What ``**`` matches under ``base``: ``base`` and every folder below it, and with
    ``with_entries`` (``**`` ends the pattern) the other entries in them too."""
    if not os.path.isdir(base or os.curdir):
        return []
    found = []
    for folder, files, others in _walk(base):
        found.append(folder)
        if with_entries:
            found.extend(files + others)
    return found


def _names(folder: str, hidden: bool) -> list[str]:
    """Names in ``folder`` (none when it is not a folder), hidden ones only if asked."""
    try:
        with os.scandir(folder or os.curdir) as scan:
            names = [entry.name for entry in scan]
    except (FileNotFoundError, NotADirectoryError):
        return []
    except OSError as exc:
        raise InputError(f"{folder}: cannot list the folder ({exc.strerror or exc})") from exc
    return names if hidden else [name for name in names if not name.startswith(".")]


def _glob(pattern: str) -> list[str]:
    """Paths matching ``pattern`` as ``glob.glob(pattern, recursive=True)`` finds them, but
    with ``**`` following each linked folder once (glob's own ``**`` runs for ever in a
    folder holding two links to itself) and an unlistable folder reported, not skipped."""
    paths = [os.sep if os.path.isabs(pattern) else ""]
    parts = [part for part in pattern.split(os.sep) if part]
    for number, part in enumerate(parts, start=1):
        if part == "**":
            last = number == len(parts)
            paths = [path for base in paths for path in _below(base, last)]
        elif glob.has_magic(part):
            hidden = part.startswith(".")
            paths = [
                os.path.join(base, name)
                for base in paths
                for name in fnmatch.filter(_names(base, hidden), part)
            ]
        else:
            paths = [os.path.join(base, part) for base in paths]
    if pattern.endswith(os.sep):
        paths = [path for path in paths if os.path.isdir(path)]
    return [path for path in paths if path and os.path.lexists(path)]


def _matching_files(pattern: str) -> list[str]:
    """The regular files a pattern matches, sorted; folders it matches are passed over (a
    pattern selects files), anything else it matches is refused, naming it."""
    files = []
    for path in sorted(set(_glob(pattern))):
        if _is_hidden(path) or os.path.isdir(path):
            continue
        if not os.path.isfile(path):
            raise _unreadable(path)
        files.append(path)
    return files


def _input_mode(path: str) -> int | None:
    """The file mode of an input path (links followed), or None when nothing is there."""
    try:
        return os.stat(path).st_mode
    except ValueError:
        raise InputError(f"{path!r}: is not a usable path (it holds a NUL character)") from None
    except (FileNotFoundError, NotADirectoryError):
        if os.path.islink(path):
            raise InputError(f"{path}: is a broken symbolic link") from None
        return None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from exc


def resolve_sources(spec: str | os.PathLike | list | tuple) -> list[Source]:
    """Expand a path, folder, glob pattern, ``-`` or a list of them into ordered sources.

    Folders are read recursively in sorted order, skipping hidden files and following
    linked folders once; a pattern that matches nothing, a missing path or an empty folder
    is an error, never an empty corpus. Only regular files are read from a folder or a
    pattern; a pipe or device given as the path itself is read as stdin is.
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
    mode = _input_mode(path)
    if mode is not None and stat.S_ISDIR(mode):
        files = _files_under(path)
        if not files:
            raise InputError(f"{path}: folder holds no (non-hidden) files")
        return [Source(f) for f in files]
    if mode is not None and stat.S_ISSOCK(mode):
        raise InputError(f"{path}: is a socket, which cannot be read as a file")
    if mode is not None:
        return [Source(path)]
    if glob.has_magic(path):
        files = _matching_files(path)
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


def line_blocks(stream: BinaryIO, block_bytes: int) -> Iterator[np.ndarray]:
    """The stream's bytes in blocks of whole lines (uint8 arrays), each cut at the last
    newline of about ``block_bytes`` read; the last block may lack a newline."""
    carry = b""
    for block in iter_chunks(stream, block_bytes):
        data = carry + block
        cut = data.rfind(b"\n")
        if cut < 0:
            carry = data
            continue
        carry = data[cut + 1 :]
        yield np.frombuffer(data, np.uint8, cut + 1)
    if carry:
        yield np.frombuffer(carry, np.uint8)
