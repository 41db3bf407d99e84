"""fastText's quantized matrices and pruned index (``.ftz``), read, checked and decoded.

``fasttext quantize`` stores the input matrix (and with ``-qout`` the output matrix) as a
product quantizer. The layout, as fastText's ``QuantMatrix::save`` and
``ProductQuantizer::save`` write it (little-endian):

- ``qnorm`` bool (one byte), rows int64, cols int64, ``codesize`` int32 (rows x nsubq), then
  ``codesize`` uint8 codes, row by row, one per sub-quantizer;
- the product quantizer: dim, nsubq, dsub, lastdsub (int32; nsubq = ceil(dim / dsub), and
  lastdsub is the width of the last slice), then dim x 256 float32 centroids;
- with ``qnorm`` (rows were normalised before quantizing): one uint8 norm code per row and
  a second product quantizer of dimension 1 whose 256 centroids are the norms.

Decoding gives each element as fastText's ``addRowToVector`` adds it (``norm * centroid``
in float32), so a model predicts from the dense rows as fastText does from the codes.

With ``-cutoff`` the dictionary keeps the words and n-gram buckets of largest norm; the
pairs (bucket int32, compact row int32) that follow the dictionary entries give the row of
each kept bucket, and fastText's ``pushHash`` leaves out every bucket missing from them
(all of them when the index is empty). ``bucket_map`` turns the pairs into the map of
``FastTextModel.bucket_rows``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from wordspace.formats.files import file_error, read_record
from wordspace.kernels.quantized import KSUB, decode_rows
from wordspace.memory import ensure_available
from wordspace.models.fasttext import CONVERT_HINT

_MATRIX_HEAD = np.dtype([("qnorm", "u1"), ("rows", "<i8"), ("cols", "<i8"), ("codesize", "<i4")])
_QUANTIZER_HEAD = np.dtype([("dim", "<i4"), ("nsubq", "<i4"), ("dsub", "<i4"), ("last", "<i4")])
_PAIR = np.dtype([("bucket", "<i4"), ("row", "<i4")])


def _bytes(path: Path, buf: np.ndarray, pos: int, size: int, what: str) -> np.ndarray:
    """``buf[pos:pos + size]`` (a view), or the error that the file ends inside ``what``."""
    if size < 0 or pos + size > len(buf):
        raise file_error(path, f"file ends inside the {what} (truncated?)")
    return np.asarray(buf[pos : pos + size])


def _quantizer(
    path: Path, buf: np.ndarray, pos: int, what: str, dim: int
) -> tuple[tuple[int, int, int], np.ndarray, int]:
    """The product quantizer at ``pos``, checked to quantize vectors of ``dim``:
    ((nsubq, dsub, lastdsub), centroids as float32, position after it)."""
    head = read_record(path, buf, pos, _QUANTIZER_HEAD, f"{what} header")
    found, nsubq, dsub, last = (int(head[name]) for name in _QUANTIZER_HEAD.names)
    if found != dim:
        raise file_error(
            path, f"the {what} is for dimension {found}, not {dim} (wrong code size or corrupt)"
        )
    if not 0 < dsub <= dim or nsubq != -(-dim // dsub) or last != dim - (nsubq - 1) * dsub:
        raise file_error(
            path,
            f"the {what}'s sub-quantizers (nsubq {nsubq}, dsub {dsub}, lastdsub {last}) "
            f"do not split dimension {dim}",
        )
    pos += _QUANTIZER_HEAD.itemsize
    size = dim * KSUB * 4
    centroids = np.array(_bytes(path, buf, pos, size, f"{what}'s centroids").view("<f4"))
    return (nsubq, dsub, last), centroids.astype(np.float32, copy=False), pos + size


def read_quantized(
    path: Path, buf: np.ndarray, pos: int, what: str, rows: int, dim: int
) -> tuple[np.ndarray, int]:
    """The quantized ``what`` matrix at ``pos`` of a ``.ftz``'s bytes, checked to hold
    ``rows`` x ``dim`` and to fit in the file, decoded to dense float32 rows (after checking
    that the memory is available); returns (matrix, position after it)."""
    head = read_record(path, buf, pos, _MATRIX_HEAD, f"quantized {what} matrix header")
    qnorm, m, n, codesize = (int(head[name]) for name in _MATRIX_HEAD.names)
    if m != rows or n != dim:
        raise file_error(
            path, f"quantized {what} matrix is {m} x {n}, the model needs {rows} x {dim}"
        )
    pos += _MATRIX_HEAD.itemsize
    per_row = codesize // m if m > 0 else 0
    if codesize < 0 or per_row * m != codesize or (m > 0 and not 0 < per_row <= n):
        raise file_error(
            path, f"quantized {what} matrix has {codesize:,} codes, not 1 to {n} per row of {m:,}"
        )
    codes = _bytes(path, buf, pos, codesize, f"quantized {what} matrix's codes")
    pos += codesize
    (nsubq, dsub, last), centroids, pos = _quantizer(path, buf, pos, f"{what} quantizer", dim)
    if codesize != m * nsubq:
        raise file_error(
            path,
            f"quantized {what} matrix has {codesize:,} codes, not one per row and "
            f"sub-quantizer ({m:,} x {nsubq})",
        )
    norm_codes = None
    if qnorm:
        norm_codes = _bytes(path, buf, pos, m, f"quantized {what} matrix's norm codes")
        _, norm_centroids, pos = _quantizer(path, buf, pos + m, f"{what} norm quantizer", 1)
    ensure_available(
        m * (n + 1) * 4,
        f"{path}: decoding the quantized {what} matrix ({m:,} x {n})",
        suggestion=CONVERT_HINT,
    )
    norms = np.zeros(0, dtype=np.float32) if norm_codes is None else norm_centroids[norm_codes]
    matrix = np.empty((m, n), dtype=np.float32)
    decode_rows(codes, nsubq, dsub, last, centroids, norms, matrix)
    return matrix, pos


def read_pruned_index(path: Path, buf: np.ndarray, pos: int, size: int) -> tuple[np.ndarray, int]:
    """The ``size`` (bucket, compact row) pairs of a pruned dictionary at ``pos``, as an
    (n, 2) int64 array, and the position after them."""
    pairs = _bytes(path, buf, pos, size * _PAIR.itemsize, "pruned n-gram index")
    view = pairs.view(_PAIR)
    return np.stack([view["bucket"], view["row"]], axis=1).astype(np.int64), pos + pairs.size


def bucket_map(path: Path, pairs: np.ndarray, bucket: int, rows: int) -> np.ndarray:
    """``FastTextModel.bucket_rows`` of a pruned model: for each of ``bucket`` buckets its
    row among the ``rows`` kept n-gram rows, -1 where the bucket was dropped; the pairs
    must name distinct buckets and rows that exist."""
    buckets, kept = pairs[:, 0], pairs[:, 1]
    if len(pairs) and (buckets.min() < 0 or buckets.max() >= bucket):
        raise file_error(path, f"the pruned n-gram index names buckets outside 0..{bucket - 1}")
    if len(pairs) and (kept.min() < 0 or kept.max() >= rows):
        raise file_error(path, f"the pruned n-gram index points past its {rows:,} n-gram rows")
    if len(np.unique(buckets)) != len(buckets):
        raise file_error(path, "the pruned n-gram index names a bucket twice")
    ensure_available(bucket * 4, f"{path}: the map of {bucket:,} n-gram buckets")
    rows_of = np.full(bucket, -1, dtype=np.int32)
    rows_of[buckets] = kept
    return rows_of
