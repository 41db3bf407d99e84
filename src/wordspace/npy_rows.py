"""A float32 ``.npy`` matrix written row block by row block, its row count known only at
the end: the header is written first with room for any count, then filled in.

The ``.npy`` format (NumPy's ``format.rst``, version 1.0) is the magic ``\\x93NUMPY``, the
version bytes, a little-endian uint16 header length, and a Python-literal dict padded with
spaces and ended by a newline, so that the data starts at a multiple of 64 bytes.
"""

from __future__ import annotations

from typing import BinaryIO

import numpy as np

_MAGIC = b"\x93NUMPY\x01\x00"
_MOST_ROWS = 10**18


def _header(rows: int, dim: int) -> bytes:
    text = f"{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows}, {dim}), }}"
    longest = f"{{'descr': '<f4', 'fortran_order': False, 'shape': ({_MOST_ROWS}, {dim}), }}"
    size = -(-(len(_MAGIC) + 2 + len(longest) + 1) // 64) * 64
    body = text.ljust(size - len(_MAGIC) - 2 - 1) + "\n"
    return _MAGIC + len(body).to_bytes(2, "little") + body.encode("latin-1")


class NpyRows:
    """Append float32 rows of width ``dim`` to ``handle`` (a seekable binary file opened
    at its start); ``close`` writes the final shape into the header."""

    def __init__(self, handle: BinaryIO, dim: int) -> None:
        self.handle = handle
        self.dim = dim
        self.rows = 0
        handle.write(_header(0, dim))

    def write(self, block: np.ndarray) -> None:
        self.handle.write(np.ascontiguousarray(block, dtype="<f4").tobytes())
        self.rows += len(block)

    def close(self) -> None:
        end = self.handle.tell()
        self.handle.seek(0)
        self.handle.write(_header(self.rows, self.dim))
        self.handle.seek(end)
