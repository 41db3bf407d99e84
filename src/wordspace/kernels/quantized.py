"""Decoding fastText's product-quantized matrices (``.ftz``) into dense float32 rows.

A quantized row is one byte per sub-quantizer: the index of one of 256 centroids of that
sub-quantizer's slice of the columns (``dsub`` columns each, ``lastdsub`` for the last one).
fastText never rebuilds the row: ``addRowToVector`` adds ``norm * centroid`` element by
element, in float32, to the vector it composes. The decoded element here is that same
float32 product, so that adding decoded rows gives fastText's sums bit for bit.
"""

from __future__ import annotations

import numpy as np
from numba import njit

KSUB = 256
"""Centroids per sub-quantizer (fastText's ``ksub_``: 8-bit codes)."""


@njit(nogil=True, fastmath=True, cache=True)
def decode_rows(codes, nsubq, dsub, lastdsub, centroids, norms, out):
    """Fill ``out`` (rows x dim, float32) with the rows that ``codes`` (uint8, ``nsubq``
    per row) pick from ``centroids`` (fastText's layout: sub-quantizer ``q`` at ``q * KSUB
    * dsub``, its centroid ``c`` at ``c * dsub`` past that, ``c * lastdsub`` for the last),
    each scaled by its norm in ``norms`` (float32, one per row), or unscaled when ``norms``
    is empty (a model quantized without ``-qnorm``)."""
    rows = out.shape[0]
    scaled = len(norms) > 0
    for i in range(rows):
        norm = norms[i] if scaled else np.float32(1.0)
        first = i * nsubq
        for q in range(nsubq):
            width = lastdsub if q == nsubq - 1 else dsub
            start = q * KSUB * dsub + np.int64(codes[first + q]) * width
            column = q * dsub
            if scaled:
                for k in range(width):
                    out[i, column + k] = norm * centroids[start + k]
            else:
                for k in range(width):
                    out[i, column + k] = centroids[start + k]
