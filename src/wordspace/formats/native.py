"""The native model format: a folder of ``.npy`` arrays and a ``meta.json``.

Every array, the vocabulary included (UTF-8 blob, offsets, counts, hash index), is a plain
``.npy`` file, so loading maps them with ``numpy.load(mmap_mode="r")``: no copy, no parsing,
no Python object per word. ``meta.json`` records the format version, the shapes and dtypes,
a CRC-32 per array (checked with ``verify=True``), the training configuration and figures.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from wordspace.errors import ModelFileError
from wordspace.fileio import atomic_folder, recover_folder
from wordspace.subwords import CharNgrams
from wordspace.vectors import Vectors
from wordspace.vocab import Vocabulary

FORMAT = "wordspace"
VERSION = 1
META = "meta.json"

VOCAB_ARRAYS = {
    "vocab_blob": np.uint8,
    "vocab_offsets": np.int64,
    "vocab_counts": np.int64,
    "vocab_index": np.int32,
}


def _crc32(array: np.ndarray) -> int:
    data = np.ascontiguousarray(array)
    return zlib.crc32(memoryview(data).cast("B")) if data.size else 0


def is_native(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a folder holding a native model."""
    return (Path(path) / META).is_file()


def _may_replace(path: Path) -> bool:
    return path.is_dir() and (is_native(path) or not any(path.iterdir()))


def save_arrays(
    path: str | os.PathLike, arrays: dict[str, np.ndarray], meta: dict[str, Any]
) -> None:
    """Write arrays and metadata as a native model folder, atomically."""
    entries = {}
    owned = {META, *(f"{name}.npy" for name in arrays)}
    try:
        with atomic_folder(path, may_replace=_may_replace, owned=_owned_by(path, owned)) as tmp:
            for name, array in arrays.items():
                array = np.ascontiguousarray(array)
                np.save(tmp / f"{name}.npy", array, allow_pickle=False)
                entries[name] = {
                    "file": f"{name}.npy",
                    "dtype": array.dtype.str,
                    "shape": list(array.shape),
                    "crc32": _crc32(array),
                }
            document = {"format": FORMAT, "version": VERSION, **meta, "arrays": entries}
            text = json.dumps(json_safe(document), indent=2, default=_json_default, allow_nan=False)
            (tmp / META).write_text(text + "\n")
    except FileExistsError as exc:
        raise ModelFileError(str(exc)) from exc


def _owned_by(path: str | os.PathLike, new_files: set[str]):
    """Which names of the folder being replaced are the model's: its meta.json and the arrays
    it lists, and the files of the new model. Everything else there is the user's, kept."""
    old_files = set()
    with contextlib.suppress(ModelFileError, OSError, AttributeError, TypeError):
        old_files = {entry.get("file") for entry in read_meta(path).get("arrays", {}).values()}
    return lambda name: name in new_files or name in old_files


def json_safe(value: Any) -> Any:
    """``value`` with every non-finite float replaced by None, since JSON has no NaN."""
    if isinstance(value, float | np.floating) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


def _json_default(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot store {type(value).__name__} in meta.json")


def read_meta(path: str | os.PathLike) -> dict[str, Any]:
    """The parsed ``meta.json`` of a native model folder, checked for format and version."""
    folder = Path(path)
    recover_folder(folder)
    meta_path = folder / META
    if not folder.exists():
        raise ModelFileError(f"{folder}: no such model")
    if not meta_path.is_file():
        raise ModelFileError(f"{folder}: not a wordspace model folder (no {META})")
    try:
        meta = json.loads(meta_path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{meta_path}: unreadable ({exc})") from exc
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelFileError(f"{meta_path}: not a wordspace model")
    if meta.get("version") != VERSION:
        raise ModelFileError(
            f"{meta_path}: format version {meta.get('version')} is not supported "
            f"(this wordspace reads version {VERSION})"
        )
    return meta


def load_array(
    path: str | os.PathLike, meta: dict[str, Any], name: str, *, mmap: bool, verify: bool
) -> np.ndarray:
    """One array of a native model, checked against what ``meta.json`` promises."""
    entry = meta["arrays"].get(name)
    if entry is None:
        raise ModelFileError(f"{path}: model has no array {name!r}")
    file = Path(path) / entry["file"]
    try:
        array = np.load(file, mmap_mode="r" if mmap else None, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise ModelFileError(f"{file}: unreadable array ({exc})") from exc
    if array.dtype.str != entry["dtype"] or list(array.shape) != entry["shape"]:
        raise ModelFileError(
            f"{file}: holds {array.dtype.str} {list(array.shape)}, "
            f"meta.json promises {entry['dtype']} {entry['shape']}"
        )
    if verify and _crc32(array) != entry["crc32"]:
        raise ModelFileError(f"{file}: checksum mismatch, the file is corrupt")
    return array


def vocab_arrays(vocab: Vocabulary, prefix: str = "vocab") -> dict[str, np.ndarray]:
    return {
        f"{prefix}_blob": vocab.blob,
        f"{prefix}_offsets": vocab.offsets,
        f"{prefix}_counts": vocab.counts,
        f"{prefix}_index": vocab.slots,
    }


def load_vocab(
    path: str | os.PathLike,
    meta: dict[str, Any],
    *,
    mmap: bool,
    verify: bool,
    prefix: str = "vocab",
) -> Vocabulary:
    arrays = {
        part: load_array(path, meta, f"{prefix}_{part}", mmap=mmap, verify=verify)
        for part in ("blob", "offsets", "counts", "index")
    }
    offsets, index, n = arrays["offsets"], arrays["index"], len(arrays["counts"])
    consistent = (
        len(offsets) == n + 1
        and int(offsets[0]) == 0
        and int(offsets[-1]) == len(arrays["blob"])
        and bool(np.all(offsets[1:] >= offsets[:-1]))
        and len(index) >= n
        and len(index) & (len(index) - 1) == 0
        and (n == 0 or (int(index.min()) >= -1 and int(index.max()) < n))
    )
    if not consistent:
        raise ModelFileError(f"{path}: the {prefix} arrays are inconsistent (corrupt model)")
    return Vocabulary(arrays["blob"], offsets, arrays["counts"], index)


def save_vectors(vectors: Vectors, path: str | os.PathLike, **meta: Any) -> None:
    """Save ``vectors`` (with their n-gram vectors, if any, and any extra arrays in
    ``meta["extra_arrays"]``) natively."""
    extra = meta.pop("extra_arrays", {})
    arrays = {"vectors": vectors.matrix, **vocab_arrays(vectors.vocab), **extra}
    if vectors.ngrams is not None and "input" not in extra:
        arrays["ngrams"] = vectors.ngrams.vectors
    if vectors.ngrams is not None:
        meta["subwords"] = {"minn": vectors.ngrams.minn, "maxn": vectors.ngrams.maxn}
    meta = {"kind": "vectors", "vocab_size": len(vectors), "dim": vectors.dim, **meta}
    save_arrays(path, arrays, meta)


def _ngrams(path, meta, matrix_rows: int, *, mmap: bool, verify: bool) -> CharNgrams | None:
    subwords = meta.get("subwords")
    if not subwords:
        return None
    if "ngrams" in meta["arrays"]:
        rows = load_array(path, meta, "ngrams", mmap=mmap, verify=verify)
    else:
        rows = load_array(path, meta, "input", mmap=mmap, verify=verify)[matrix_rows:]
    return CharNgrams(rows, int(subwords["minn"]), int(subwords["maxn"]))


def load_vectors(path: str | os.PathLike, *, mmap: bool = True, verify: bool = False) -> Vectors:
    """Load the vectors of a native model folder, memory-mapped by default."""
    meta = read_meta(path)
    vocab = load_vocab(path, meta, mmap=mmap, verify=verify)
    matrix = load_array(path, meta, "vectors", mmap=mmap, verify=verify)
    if matrix.ndim != 2 or matrix.shape[0] != len(vocab):
        raise ModelFileError(
            f"{path}: vectors of shape {matrix.shape} do not match {len(vocab)} words"
        )
    ngrams = _ngrams(path, meta, len(vocab), mmap=mmap, verify=verify)
    if ngrams is not None and ngrams.vectors.shape[1] != matrix.shape[1]:
        raise ModelFileError(f"{path}: n-gram vectors and word vectors differ in dimension")
    return Vectors(vocab, matrix, ngrams)
