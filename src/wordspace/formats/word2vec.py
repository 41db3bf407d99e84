"""The word2vec formats, text and binary, as the word2vec tool and gensim write them.

Both start with a header line "count dim". A text row is the word and ``dim`` decimal
numbers separated by spaces; a binary row is the word, one space and ``dim`` little-endian
float32 values, followed by a newline in the C tool's files and by nothing in gensim's.
Readers accept either, and trailing blanks, CRLF line ends and blank lines between rows;
a gzip-compressed file is recognised by its content, and a name ending in ``.gz`` is written
compressed.
"""

from __future__ import annotations

import contextlib
import gzip
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np

from wordspace.errors import ModelFileError
from wordspace.fileio import atomic_file
from wordspace.formats.files import model_path, read_bytes, read_head
from wordspace.kernels import numtext
from wordspace.kernels.utf8 import repair_strings
from wordspace.memory import ensure_available
from wordspace.vectors import Vectors
from wordspace.vocab import Vocabulary

UNICODE_ERRORS = ("strict", "replace", "ignore")
_HEADER_MAX = 256
_MAX_DIM = 1 << 20
_ROW_WINDOW = 1 << 20
_WRITE_BLOCK_BYTES = 64 << 20
_CONVERT_HINT = (
    "convert it once with `wordspace convert FILE FOLDER --to native` and load the folder, "
    "which is memory-mapped (or read fewer words with limit=)"
)


def _parse_header(path: Path, buf: np.ndarray) -> tuple[int, int, int]:
    head = bytes(buf[:_HEADER_MAX])
    newline = head.find(b"\n")
    if newline < 0:
        raise ModelFileError(f"{path}: no header line 'count dim' (not a word2vec file?)")
    fields = head[:newline].split()
    try:
        count, dim = (int(f) for f in fields)
    except ValueError:
        raise ModelFileError(
            f"{path}: header {head[:newline][:60]!r} is not 'count dim' (not a word2vec file?)"
        ) from None
    if count < 0 or not 0 < dim <= _MAX_DIM:
        raise ModelFileError(f"{path}: header promises {count} words of dimension {dim}")
    return count, dim, newline + 1


def _sample_size(dim: int) -> int:
    """Bytes of the first row that tell text from binary: a text row of ``dim`` values is
    rarely longer (a binary one is ``4 * dim`` bytes); at most 1 MiB, whatever the header
    claims, since the start of a long line tells as well."""
    return min(4096 + 64 * dim, _ROW_WINDOW)


def _is_number(field: bytes) -> bool:
    try:
        float(field)
    except ValueError:
        return False
    return True


def _looks_binary(buf: np.ndarray, start: int, dim: int) -> bool:
    """Whether the rows from ``buf[start]`` on are binary, from the first row: a text row is
    a word and decimal numbers on one line. A line of ``dim`` numbers is text; so is a line
    of two or more numbers when the header's dimension is wrong, so that the error says so
    instead of reading text as floats. Raw float32 bytes practically never look like that
    (it takes two number-like runs of bytes, a blank between them and a newline)."""
    raw = bytes(buf[start : start + _sample_size(dim)])
    sample = raw.lstrip(b"\r\n")
    line_end = sample.find(b"\n")
    fields = (sample if line_end < 0 else sample[:line_end]).split()
    if line_end < 0 and start + len(raw) < len(buf):
        fields = fields[:-1]
    values = fields[1:]
    if len(values) != dim and len(values) < 2:
        return True
    return not all(_is_number(field) for field in values)


def is_binary_file(path: str | os.PathLike) -> bool:
    """Whether the word2vec file at ``path`` (plain or gzip) is binary, from its header and
    first row only."""
    path = model_path(path)
    head = read_head(path, _HEADER_MAX)
    if not head:
        raise ModelFileError(f"{path}: file is empty")
    count, dim, start = _parse_header(path, np.frombuffer(head, dtype=np.uint8))
    if count == 0:
        return False
    sample = read_head(path, start + _sample_size(dim) + 1)
    return _looks_binary(np.frombuffer(sample, dtype=np.uint8), start, dim)


def _words_vocab(
    path: Path,
    buf: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
    unicode_errors: str,
) -> Vocabulary:
    blob, offsets = numtext.gather_ranges(buf, starts, ends)
    try:
        bytes(blob).decode("utf-8")
    except UnicodeDecodeError as exc:
        if unicode_errors == "strict":
            row = int(np.searchsorted(offsets, exc.start, side="right")) - 1
            raise ModelFileError(
                f"{path}: word {row + 1} is not valid UTF-8 ({exc.reason}); "
                "read with unicode_errors='replace' or 'ignore'"
            ) from None
        blob, offsets, _ = repair_strings(blob, offsets, unicode_errors == "ignore")
    return Vocabulary(blob, offsets, np.zeros(len(starts), dtype=np.int64))


def _line_of(buf: np.ndarray, pos: int) -> int:
    return int(np.count_nonzero(buf[: min(pos, len(buf))] == 10)) + 1


def _values_in_row(buf: np.ndarray, row_start: int) -> str:
    """How many values the text row starting at ``row_start`` holds ("over N" for a line
    longer than the window looked at)."""
    window = bytes(buf[row_start : row_start + _ROW_WINDOW])
    line, newline, _ = window.partition(b"\n")
    values = len(line.split()) - 1
    return str(values) if newline or row_start + len(window) >= len(buf) else f"over {values}"


def _row_error(
    path: Path,
    buf: np.ndarray,
    reached: tuple[int, int, int],
    starts: np.ndarray,
    count: int,
    dim: int,
    binary: bool,
) -> ModelFileError:
    """The error for a parse that stopped at (status, row, position)."""
    status, row, pos = reached
    where = f"word {row + 1}" if binary else f"line {_line_of(buf, pos)}"
    if status in (numtext.TOO_MANY_VALUES, numtext.TOO_FEW_VALUES):
        side = "more" if status == numtext.TOO_MANY_VALUES else "fewer"
        problem = (
            f"row {row + 1} has {_values_in_row(buf, int(starts[row]))} values, {side} than "
            f"the header's {dim} values per row"
        )
    else:
        problem = {
            numtext.TRUNCATED: f"file ends early: header promises {count} rows of {dim} values",
            numtext.BAD_NUMBER: "value is not a number",
            numtext.EMPTY_WORD: "empty word",
        }[status]
    return ModelFileError(f"{path}: {where}: {problem}")


def read_word2vec(
    path: str | os.PathLike,
    *,
    binary: bool | None = None,
    limit: int | None = None,
    unicode_errors: str = "replace",
) -> Vectors:
    """Read a word2vec text or binary file (``binary=None`` tells them apart by content).

    ``limit`` reads only the first words (the most frequent, in files these tools write).
    """
    if unicode_errors not in UNICODE_ERRORS:
        raise ValueError(f"unicode_errors must be one of {UNICODE_ERRORS}, got {unicode_errors!r}")
    path = model_path(path)
    buf = read_bytes(path)
    count, dim, start = _parse_header(path, buf)
    rows = count if limit is None else min(count, max(0, limit))
    if binary is None:
        binary = _looks_binary(buf, start, dim) if rows else False
    smallest_row = 2 + 4 * dim if binary else 1 + 2 * dim
    most = (len(buf) - start) // smallest_row
    if rows > most:
        raise ModelFileError(
            f"{path}: header promises {count:,} words of dimension {dim} but the file can "
            f"hold at most {most:,} (truncated, or not a word2vec file?)"
        )
    ensure_available(
        rows * (4 * dim + 24), f"{path}: reading {rows:,} x {dim} vectors", suggestion=_CONVERT_HINT
    )
    starts = np.empty(rows, dtype=np.int64)
    ends = np.empty(rows, dtype=np.int64)
    matrix = np.empty((rows, dim), dtype=np.float32)
    if binary:
        status, row, pos = numtext.parse_binary_rows(
            buf, start, len(buf), rows, dim, matrix.reshape(-1).view(np.uint8), starts, ends
        )
    else:
        status, row, pos = numtext.parse_text_rows(buf, start, len(buf), rows, matrix, starts, ends)
    if status != numtext.OK:
        raise _row_error(path, buf, (status, row, pos), starts, count, dim, binary)
    first_bad, n_bad = numtext.nonfinite_rows(matrix)
    if n_bad:
        raise ModelFileError(
            f"{path}: the vector of word {first_bad + 1} holds NaN or infinity ({n_bad} such rows)"
        )
    return Vectors(_words_vocab(path, buf, starts, ends, unicode_errors), matrix)


def _row_blocks(n_rows: int, row_bytes: int) -> range:
    return range(0, n_rows, max(1, _WRITE_BLOCK_BYTES // max(row_bytes, 1)))


@contextlib.contextmanager
def _compressed_as_named(raw: BinaryIO, path: Path) -> Iterator[BinaryIO | gzip.GzipFile]:
    """``raw`` itself, or a gzip stream into it when the file's name ends in ``.gz``."""
    if path.suffix != ".gz":
        yield raw
        return
    with gzip.GzipFile(path.stem, mode="wb", compresslevel=6, fileobj=raw, mtime=0) as packed:
        yield packed


RowNames = Callable[[int, int], tuple[np.ndarray, np.ndarray]]
"""The names of rows ``first:last`` as a UTF-8 blob and its ``last - first + 1`` offsets
(from 0)."""
RowBlock = Callable[[int, int], np.ndarray]
"""Rows ``first:last`` of a matrix."""


def vocabulary_names(vocab: Vocabulary) -> RowNames:
    """The words of ``vocab`` as row names."""

    def names(first: int, last: int) -> tuple[np.ndarray, np.ndarray]:
        offsets = vocab.offsets[first : last + 1] - vocab.offsets[first]
        return np.asarray(vocab.blob[vocab.offsets[first] : vocab.offsets[last]]), offsets

    return names


def write_word2vec(
    vectors: Vectors, path: str | os.PathLike, *, binary: bool = False, decimals: int = 6
) -> None:
    """Write word2vec text (values as C's ``%.6f``, like the C tool) or binary, atomically;
    gzip-compressed when ``path`` ends in ``.gz``.

    Rows are formatted in compiled blocks of about 64 MB, whatever the size of the model.
    """
    vocab = vectors.vocab
    longest = int(np.diff(vocab.offsets).max(initial=0))
    write_rows(
        path, (len(vectors), vectors.dim), vocabulary_names(vocab),
        lambda first, last: vectors.matrix[first:last], longest,
        binary=binary, decimals=decimals,
    )  # fmt: skip


def write_rows(
    path: str | os.PathLike,
    shape: tuple[int, int],
    names: RowNames,
    rows: RowBlock,
    longest_name: int,
    *,
    binary: bool = False,
    decimals: int = 6,
) -> None:
    """Write a matrix of ``shape`` in the word2vec layout (see ``write_word2vec``), row
    ``i`` named by ``names`` (at most ``longest_name`` bytes), its values from ``rows``:
    both are asked for one block at a time, so the matrix need never be whole in memory."""
    n, dim = shape
    with atomic_file(path) as raw, _compressed_as_named(raw, Path(path)) as handle:
        handle.write(f"{n} {dim}\n".encode())
        per_row = longest_name + 2 + (4 * dim if binary else dim * (decimals + 22))
        step = _row_blocks(n, per_row).step
        out = np.empty(step * per_row, dtype=np.uint8)
        for first in range(0, n, step):
            last = min(first + step, n)
            block = np.ascontiguousarray(rows(first, last), dtype="<f4")
            blob, offsets = names(first, last)
            if binary:
                size = numtext.format_binary_rows(
                    blob, offsets, block.view(np.uint8).reshape(last - first, -1), out
                )
            else:
                size = numtext.format_text_rows(blob, offsets, block, decimals, out)
                if size < 0:
                    raise ValueError("a vector value is too large for fixed-point text; use binary")
            handle.write(memoryview(out[:size]))
