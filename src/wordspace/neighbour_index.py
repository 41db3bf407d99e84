"""An approximate nearest-neighbour index kept in a native model folder.

``wordspace index MODEL`` builds a faiss HNSW graph over the model's unit-length vectors
(inner product, so scores are cosines) into ``MODEL/neighbours/``; every process that opens
it maps the file read-only (``IO_FLAG_MMAP_IFC`` maps the graph and the stored vectors), so
the workers of a server share one copy, as they share the model. faiss was chosen over
usearch by measurement (``bench/ann_index.py``: at equal recall it builds twice as fast and
answers 2-4x more queries per second, and both map the whole index).

The index records the checksums of the model's arrays: an index built for other vectors
(the model was saved again, or the folder copied over) is refused, never used silently.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from wordspace.errors import ModelFileError, ParameterError
from wordspace.fileio import atomic_folder

INDEX_FOLDER = "neighbours"
"""The folder, inside a native model folder, that holds the index."""
INDEX_FILE = "hnsw.faiss"
INDEX_META = "index.json"
DEGREE = 32
BUILD_BREADTH = 100
SEARCH_BREADTH = 64
_ADD_BLOCK = 1 << 16
_NEEDS_FAISS = "the approximate index needs faiss: pip install 'wordspace[index]'"


def _faiss() -> Any:
    try:
        import faiss
    except ImportError as exc:
        raise ParameterError(_NEEDS_FAISS) from exc
    return faiss


def fingerprint(model_meta: dict[str, Any]) -> dict[str, int]:
    """What identifies a model's vectors: the checksum of each of its stored arrays."""
    return {name: entry.get("crc32") for name, entry in model_meta.get("arrays", {}).items()}


def _unit_block(matrix: np.ndarray, norms: np.ndarray, start: int, stop: int) -> np.ndarray:
    block = np.asarray(matrix[start:stop], dtype=np.float32)
    scale = norms[start:stop]
    return np.ascontiguousarray(block / np.where(scale > 0, scale, 1.0)[:, None])


@dataclass
class NeighbourIndex:
    """An HNSW index over a model's rows, opened (memory-mapped) on first search."""

    folder: Path
    meta: dict[str, Any]
    _index: Any = None

    @property
    def rows(self) -> int:
        return int(self.meta["rows"])

    @property
    def search_breadth(self) -> int:
        return int(self.meta["search_breadth"])

    def describe(self) -> dict[str, Any]:
        """What ``/v1/info`` and ``wordspace info`` say of the index."""
        keys = ("library", "kind", "rows", "degree", "build_breadth", "search_breadth")
        return {key: self.meta[key] for key in keys}

    def _opened(self) -> Any:
        if self._index is None:
            faiss = _faiss()
            path = self.folder / INDEX_FILE
            try:
                index = faiss.read_index(
                    str(path), faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY
                )
            except RuntimeError as exc:
                raise ModelFileError(f"{path}: not a readable faiss index ({exc})") from exc
            if index.ntotal != self.rows:
                raise ModelFileError(
                    f"{path}: holds {index.ntotal:,} rows, its index.json says {self.rows:,}"
                )
            self._index = index
        return self._index

    def search(
        self, units: np.ndarray, k: int, breadth: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(rows, cosines) of the ``k`` approximate best rows of each unit query, best first;
        -1 rows where the graph gave fewer. ``breadth`` is HNSW's efSearch (the index's
        default when None): larger finds more of the exact neighbours, more slowly."""
        index = self._opened()
        params = _faiss().SearchParametersHNSW(efSearch=max(int(breadth or self.search_breadth), k))
        scores, rows = index.search(np.ascontiguousarray(units, dtype=np.float32), k, params=params)
        return rows.astype(np.int64), scores


def open_index(model_folder: str | os.PathLike, model_meta: dict[str, Any]):
    """The index stored in a native model folder (None when it has none), checked to have
    been built for this model's vectors."""
    folder = Path(model_folder) / INDEX_FOLDER
    meta_path = folder / INDEX_META
    if not meta_path.is_file():
        return None
    try:
        meta = json.loads(meta_path.read_text())
        expected = meta["fingerprint"]
        int(meta["rows"]), int(meta["search_breadth"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelFileError(f"{meta_path}: unreadable index description ({exc})") from exc
    if expected != fingerprint(model_meta):
        raise ModelFileError(
            f"{folder}: the neighbour index was built for other vectors than this model's "
            f"(build it again: wordspace index {model_folder})"
        )
    return NeighbourIndex(folder, meta)


def build_index(
    model_folder: str | os.PathLike,
    matrix: np.ndarray,
    norms: np.ndarray,
    model_meta: dict[str, Any],
    *,
    degree: int = DEGREE,
    build_breadth: int = BUILD_BREADTH,
    search_breadth: int = SEARCH_BREADTH,
    threads: int | None = None,
) -> NeighbourIndex:
    """Build the HNSW index of ``matrix`` (the model's rows, ``norms`` their lengths) into
    ``model_folder/neighbours`` atomically, and return it opened. ``degree`` is HNSW's M
    (links per node), ``build_breadth`` its efConstruction, ``search_breadth`` the
    efSearch queries use unless they say otherwise."""
    for name, value in (("degree", degree), ("build_breadth", build_breadth),
                        ("search_breadth", search_breadth)):  # fmt: skip
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ParameterError(f"{name} must be a positive integer, got {value!r}")
    if len(matrix) == 0:
        raise ParameterError("the model has no rows to index")
    faiss = _faiss()
    if threads is not None:
        faiss.omp_set_num_threads(int(threads))
    start = time.perf_counter()
    index = faiss.IndexHNSWFlat(int(matrix.shape[1]), degree, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = build_breadth
    for first in range(0, len(matrix), _ADD_BLOCK):
        index.add(_unit_block(matrix, norms, first, min(first + _ADD_BLOCK, len(matrix))))
    meta = {
        "library": f"faiss {faiss.__version__}", "kind": "HNSWFlat", "metric": "cosine",
        "rows": int(index.ntotal), "dim": int(matrix.shape[1]), "degree": degree,
        "build_breadth": build_breadth, "search_breadth": search_breadth,
        "build_seconds": round(time.perf_counter() - start, 3),
        "fingerprint": fingerprint(model_meta),
    }  # fmt: skip
    target = Path(model_folder) / INDEX_FOLDER
    with atomic_folder(target, may_replace=lambda p: (p / INDEX_META).is_file()) as tmp:
        faiss.write_index(index, str(tmp / INDEX_FILE))
        (tmp / INDEX_META).write_text(json.dumps(meta, indent=2) + "\n")
    return NeighbourIndex(target, meta)


def sample_recall(
    vectors: Any, index: NeighbourIndex, queries: int = 200, k: int = 10
) -> tuple[float, int]:
    """Recall@k of ``index`` against exact search over ``queries`` rows drawn (seeded) from
    the 50,000 most frequent, and how many were drawn: the figure ``wordspace index``
    reports."""
    rng = np.random.default_rng(0)
    rows = np.sort(rng.choice(min(len(vectors), 50_000), min(queries, len(vectors)), False))
    units = _unit_block(vectors.matrix[rows], vectors.norms[rows], 0, len(rows))
    k = min(k, len(vectors))
    exact = vectors.nearest(units, k)[0]
    approximate = index.search(units, k)[0]
    pairs = zip(exact.tolist(), approximate.tolist(), strict=True)
    return sum(len(set(a) & set(b)) for a, b in pairs) / exact.size, len(rows)
