"""Opening model files: what every reader checks before it trusts a path, and gzip by content.

A model path must name a regular file: a FIFO would block the reader and a device would never
end. Compression is recognised from the first bytes, as training input is, never from the
name. A gzip file is decompressed in blocks into one buffer that grows only after the memory
guard agrees, so a small, highly compressible file cannot take the machine's memory; corrupt
or truncated compressed data is one ModelFileError, like any other corrupt model.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import stat
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from wordspace.errors import ModelFileError
from wordspace.memory import describe_bytes, ensure_available

GZIP_MAGIC = b"\x1f\x8b"
_OTHER_COMPRESSION = {b"BZh": "bzip2", b"\xfd7zXZ\x00": "xz", b"\x28\xb5\x2f\xfd": "zstd"}
_MAGIC_BYTES = 6
_DEFLATE_MAX_RATIO = 1032
"""Deflate never expands data by more than this, which bounds what a gzip trailer may claim."""
_BLOCK = 16 << 20
_GUNZIP_HINT = (
    "gunzip it first (a plain file is memory-mapped, not copied into memory) or convert it "
    "once with `wordspace convert FILE FOLDER --to native` and load the folder"
)


def model_path(path: str | os.PathLike) -> Path:
    """``path`` as a Path; an empty one is refused instead of being read as the current folder."""
    if not os.fspath(path):
        raise ModelFileError("(empty path): no model file or folder given")
    return Path(path)


def regular_file(path: str | os.PathLike) -> Path:
    """``path``, checked to name an existing regular file (not a folder, FIFO or device)."""
    target = model_path(path)
    try:
        mode = target.stat().st_mode
    except FileNotFoundError:
        raise ModelFileError(f"{target}: no such file") from None
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise ModelFileError(f"{target}: cannot read ({reason})") from None
    if stat.S_ISDIR(mode):
        raise ModelFileError(f"{target}: is a folder, not a model file")
    if not stat.S_ISREG(mode):
        raise ModelFileError(f"{target}: not a regular file (a FIFO, socket or device)")
    return target


def file_error(path: Path, problem: str) -> ModelFileError:
    """The one-line error of a model file that is corrupt or foreign: ``PATH: problem``."""
    return ModelFileError(f"{path}: {problem}")


def read_record(path: Path, buf: np.ndarray, pos: int, dtype: np.dtype, what: str) -> np.void:
    """The record of ``dtype`` at byte ``pos`` of a model file's bytes ``buf``, or a
    ModelFileError saying that the file ends inside ``what``."""
    end = pos + dtype.itemsize
    if pos < 0 or end > len(buf):
        raise file_error(path, f"file ends inside the {what} (truncated?)")
    return np.frombuffer(bytes(buf[pos:end]), dtype=dtype)[0]


def compression(head: bytes) -> str | None:
    """The compression that a file's first bytes show ("gzip", "bzip2", "xz", "zstd"), or None."""
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    for magic, name in _OTHER_COMPRESSION.items():
        if head.startswith(magic):
            return name
    return None


def _only_gzip(path: Path, kind: str) -> None:
    if kind != "gzip":
        raise ModelFileError(
            f"{path}: is {kind}-compressed; decompress it first (models are read plain or gzipped)"
        )


@contextlib.contextmanager
def _reading(path: Path) -> Iterator[None]:
    """Turn what reading (and decompressing) a file can raise into one ModelFileError."""
    try:
        yield
    except EOFError:
        raise ModelFileError(
            f"{path}: truncated gzip data (the file ends inside the compressed stream)"
        ) from None
    except (gzip.BadGzipFile, zlib.error) as exc:
        raise ModelFileError(f"{path}: corrupt gzip data ({exc})") from None
    except OSError as exc:
        raise ModelFileError(f"{path}: cannot read ({exc.strerror or exc})") from None


def read_head(path: str | os.PathLike, size: int) -> bytes:
    """Up to ``size`` first bytes of a model file's content, decompressed when it is gzip."""
    target = regular_file(path)
    with _reading(target), open(target, "rb") as raw:
        head = raw.read(max(size, _MAGIC_BYTES))
        kind = compression(head)
        if kind is None:
            return head[:size]
        _only_gzip(target, kind)
        raw.seek(0)
        with gzip.GzipFile(fileobj=raw, mode="rb") as unpacked:
            return unpacked.read(size)


def read_bytes(path: str | os.PathLike) -> np.ndarray:
    """The whole content of a model file as uint8: memory-mapped when plain, decompressed
    into a buffer guarded by the memory check when gzip (whatever the file is named)."""
    target = regular_file(path)
    with _reading(target):
        size = target.stat().st_size
        if size == 0:
            raise ModelFileError(f"{target}: file is empty")
        with open(target, "rb") as raw:
            kind = compression(raw.read(_MAGIC_BYTES))
            if kind is None:
                return np.memmap(target, dtype=np.uint8, mode="r")
            _only_gzip(target, kind)
            content = _gunzip(target, raw, size)
    if len(content) == 0:
        raise ModelFileError(f"{target}: file is empty (once decompressed)")
    return content


def _size_hint(raw, size: int) -> int:
    """The gzip trailer's ISIZE, bounded by deflate's largest ratio: the decompressed size
    of a single-member file under 4 GiB, and only a first guess otherwise (it is mod 2**32,
    of the last member only, and unchecked until the end)."""
    if size < 18:
        return 0
    raw.seek(size - 4)
    isize = int.from_bytes(raw.read(4), "little")
    return min(isize, size * _DEFLATE_MAX_RATIO)


def _allocate(path: Path, capacity: int, done: int) -> np.ndarray:
    what = f"{path}: decompressing" + (f" (over {describe_bytes(done)} so far)" if done else "")
    ensure_available(capacity, what, suggestion=_GUNZIP_HINT)
    return np.empty(capacity, dtype=np.uint8)


def _gunzip(path: Path, raw, size: int) -> np.ndarray:
    """Decompress a gzip file block by block into one buffer; the buffer is sized from the
    trailer and grows (doubling, each time after checking available memory) when the data
    turns out larger, so memory use is bounded by what the guard allows."""
    out = _allocate(path, _size_hint(raw, size), 0)
    n = 0
    raw.seek(0)
    with gzip.GzipFile(fileobj=raw, mode="rb") as unpacked:
        while chunk := unpacked.read(_BLOCK):
            end = n + len(chunk)
            if end > len(out):
                grown = _allocate(path, max(end, 2 * len(out)), n)
                grown[:n] = out[:n]
                out = grown
            out[n:end] = np.frombuffer(chunk, dtype=np.uint8)
            n = end
    return out[:n]
