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
from numpy.lib.format import open_memmap

from wordspace.errors import ModelFileError
from wordspace.fileio import atomic_folder, recover_folder
from wordspace.formats.files import model_path
from wordspace.memory import ensure_available
from wordspace.neighbour_index import INDEX_FOLDER, open_index
from wordspace.subwords import CharNgrams
from wordspace.vectors import Vectors
from wordspace.vocab import Vocabulary

FORMAT = "wordspace"
VERSION = 1
META = "meta.json"

MAX_NGRAM = 64
"""The longest character n-grams a model may ask for (as in fastText's reader)."""
_MAX_META_BYTES = 64 << 20
FLOAT = np.dtype(np.float32)
FLOAT_ARRAYS = frozenset({"vectors", "ngrams", "input", "output"})
"""The float matrices of a model: stored float32; float64 ones are converted on load."""
VOCAB_PARTS = {"blob": np.uint8, "offsets": np.int64, "counts": np.int64, "index": np.int32}
"""The arrays of a vocabulary (``vocab_*``) or label set (``labels_*``) and their dtypes."""
VOCAB_ARRAYS = {f"vocab_{part}": dtype for part, dtype in VOCAB_PARTS.items()}


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
    owned = {META, INDEX_FOLDER, *(f"{name}.npy" for name in arrays)}
    try:
        with atomic_folder(path, may_replace=_may_replace, owned=_owned_by(path, owned)) as tmp:
            for name, array in arrays.items():
                array = _stored(name, array)
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


def _stored(name: str, array: np.ndarray) -> np.ndarray:
    """``array`` as the native format stores it: in C order and with the dtype its role needs
    (float matrices as float32), so that every model wordspace writes maps back as it is."""
    role = array_role(name)
    dtype = None if role is None else (role[0] or FLOAT)
    return np.ascontiguousarray(array, dtype=dtype)


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


def _one_line(reason: object) -> str:
    return " ".join(str(reason).split())[:300]


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _file_name_problem(file: object) -> str | None:
    """Why ``file`` cannot name an array of the model: it must be a plain name inside the
    model folder (no path separator, no ``..``), so a model never reads outside itself."""
    if not isinstance(file, str) or not file:
        return f"must be a file name, got {_shown(file)}"
    if "/" in file or "\\" in file or "\0" in file or file in (".", ".."):
        return f"must name a file inside the model folder, got {_shown(file)}"
    return None


def _entry_problem(entry: object) -> str | None:
    """What is wrong with one entry of ``meta.json``'s "arrays", or None."""
    if not isinstance(entry, dict):
        return f"must be an object, got {_shown(entry)}"
    for key in ("file", "dtype", "shape"):
        if key not in entry:
            return f'has no "{key}"'
    problem = _file_name_problem(entry["file"])
    if problem:
        return f".file {problem}"
    if not isinstance(entry["dtype"], str):
        return f".dtype must be a string such as '<f4', got {_shown(entry['dtype'])}"
    shape = entry["shape"]
    if not (
        isinstance(shape, list) and len(shape) <= 32 and all(_is_int(n) and n >= 0 for n in shape)
    ):
        return f".shape must be a list of non-negative integers, got {_shown(shape)}"
    crc = entry.get("crc32")
    if crc is not None and not (_is_int(crc) and 0 <= crc < 1 << 32):
        return f".crc32 must be a 32-bit unsigned integer, got {_shown(crc)}"
    return None


def _subwords_problem(subwords: object) -> str | None:
    if not isinstance(subwords, dict):
        return f"must be an object with minn and maxn, got {_shown(subwords)}"
    for key in ("minn", "maxn"):
        value = subwords.get(key)
        if not (_is_int(value) and 0 <= value <= MAX_NGRAM):
            return f".{key} must be an integer from 0 to {MAX_NGRAM}, got {_shown(value)}"
    if not isinstance(subwords.get("pruned", False), bool):
        return f".pruned must be true or false, got {_shown(subwords['pruned'])}"
    return None


def _meta_problem(meta: dict[str, Any]) -> str | None:
    """What is wrong with the structure of a parsed ``meta.json``, naming the key, or None."""
    arrays = meta.get("arrays")
    if arrays is None:
        return 'has no "arrays"'
    if not isinstance(arrays, dict):
        return f'"arrays" must be an object naming each array, got {_shown(arrays)}'
    for name, entry in arrays.items():
        problem = _entry_problem(entry)
        if problem:
            return f"arrays[{name!r}]{'' if problem[0] == '.' else ' '}{problem}"
    if "kind" in meta and not isinstance(meta["kind"], str):
        return f'"kind" must be a string, got {_shown(meta["kind"])}'
    if meta.get("subwords"):
        problem = _subwords_problem(meta["subwords"])
        if problem:
            return f'"subwords"{"" if problem[0] == "." else " "}{problem}'
    return None


def _recover(folder: Path) -> None:
    """Put back a model that an interrupted save left renamed aside (only a missing folder
    with a name can have been; "/", "." and "" are never)."""
    if folder.exists() or folder.name in ("", ".", ".."):
        return
    try:
        recover_folder(folder)
    except OSError as exc:
        raise ModelFileError(
            f"{folder}: cannot restore the model an interrupted save left aside "
            f"({exc.strerror or exc})"
        ) from None


def _parse_meta(meta_path: Path) -> Any:
    try:
        size = meta_path.stat().st_size
        if size > _MAX_META_BYTES:
            raise ModelFileError(
                f"{meta_path}: {size:,} bytes, too large to be a model's metadata (corrupt?)"
            )
        return json.loads(meta_path.read_bytes())
    except RecursionError:
        raise ModelFileError(f"{meta_path}: unreadable (nested too deeply)") from None
    except (OSError, ValueError) as exc:
        raise ModelFileError(f"{meta_path}: unreadable ({_one_line(exc)})") from None


def read_meta(path: str | os.PathLike) -> dict[str, Any]:
    """The parsed ``meta.json`` of a native model folder, checked for format and version and
    for the structure that loading relies on (the arrays it lists, the subword lengths)."""
    folder = model_path(path)
    _recover(folder)
    meta_path = folder / META
    if not folder.exists():
        raise ModelFileError(f"{folder}: no such model")
    if not folder.is_dir():
        raise ModelFileError(f"{folder}: not a wordspace model folder (not a folder)")
    if not meta_path.is_file():
        raise ModelFileError(f"{folder}: not a wordspace model folder (no {META})")
    meta = _parse_meta(meta_path)
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelFileError(f"{meta_path}: not a wordspace model")
    version = meta.get("version")
    if version != VERSION or not _is_int(version):
        raise ModelFileError(
            f"{meta_path}: format version {_shown(version)} is not supported "
            f"(this wordspace reads version {VERSION})"
        )
    problem = _meta_problem(meta)
    if problem:
        raise ModelFileError(f"{meta_path}: {problem}")
    return meta


def array_role(name: str) -> tuple[np.dtype | None, int] | None:
    """What the array called ``name`` must be, as (dtype, ndim), for the arrays wordspace
    interprets: the dtype is None for float matrices (float32, or float64 converted on load);
    None for arrays it stores without reading them itself."""
    if name in FLOAT_ARRAYS:
        return None, 2
    if name == "ngram_rows":
        return np.dtype(np.int32), 1
    if name == "norms":
        return np.dtype(np.float32), 1
    prefix, _, part = name.rpartition("_")
    if prefix in ("vocab", "labels") and part in VOCAB_PARTS:
        return np.dtype(VOCAB_PARTS[part]), 1
    return None


def _type_name(dtype: np.dtype) -> str:
    return dtype.name + (" big-endian" if dtype.byteorder == ">" else "")


def _role_problem(name: str, array: np.ndarray) -> str | None:
    role = array_role(name)
    if role is None:
        return None
    dtype, ndim = role
    held = _type_name(array.dtype)
    if array.ndim != ndim:
        return f"{name} must be {ndim}-dimensional, the file holds {array.ndim} dimensions"
    if dtype is None:
        if array.dtype.kind == "f" and array.dtype.itemsize in (4, 8):
            return None
        return f"{name} must hold float32 (or float64) values, the file holds {held}"
    if array.dtype != dtype:
        return f"{name} must hold {_type_name(dtype)} values, the file holds {held}"
    return None


def _open_array(file: Path) -> np.ndarray:
    """Map a ``.npy`` file: numpy checks its magic, header and that the file holds all the
    data the header promises, before anything is read (nor allocated)."""
    if not file.is_file():
        listed = "missing" if not file.exists() else "not a regular file"
        raise ModelFileError(f"{file}: array file {listed} (meta.json lists it)")
    # numpy's header parser answers hostile bytes with ValueError, SyntaxError, TypeError,
    # tokenize.TokenError...: whichever it is, the file is not a readable array
    try:
        return open_memmap(file, mode="r")
    except Exception as exc:
        raise ModelFileError(f"{file}: unreadable or truncated array ({_one_line(exc)})") from None


def _in_memory(file: Path, array: np.ndarray, dtype: np.dtype) -> np.ndarray:
    needed = array.size * dtype.itemsize
    ensure_available(needed, f"{file}: reading {list(array.shape)} {dtype.name} into memory")
    return np.array(array, dtype=dtype)


def load_array(
    path: str | os.PathLike, meta: dict[str, Any], name: str, *, mmap: bool, verify: bool
) -> np.ndarray:
    """One array of a native model, checked against what ``meta.json`` promises and what its
    role needs (see ``array_role``). Float64 matrices are converted to float32 in memory."""
    entry = meta["arrays"].get(name)
    if entry is None:
        raise ModelFileError(f"{path}: model has no array {name!r}")
    file = Path(path) / entry["file"]
    array = _open_array(file)
    if array.dtype.str != entry["dtype"] or list(array.shape) != entry["shape"]:
        raise ModelFileError(
            f"{file}: holds {array.dtype.str} {list(array.shape)}, "
            f"meta.json promises {_shown(entry['dtype'])} {_shown(entry['shape'])}"
        )
    problem = _role_problem(name, array)
    if problem:
        raise ModelFileError(f"{file}: {problem}")
    if verify:
        if "crc32" not in entry:
            raise ModelFileError(f"{file}: meta.json records no checksum to verify it against")
        if _crc32(array) != entry["crc32"]:
            raise ModelFileError(f"{file}: checksum mismatch, the file is corrupt")
    if name in FLOAT_ARRAYS and array.dtype != FLOAT:
        return _in_memory(file, array, FLOAT)
    return array if mmap else _in_memory(file, array, array.dtype)


def vocab_arrays(vocab: Vocabulary, prefix: str = "vocab") -> dict[str, np.ndarray]:
    return {
        f"{prefix}_blob": vocab.blob,
        f"{prefix}_offsets": vocab.offsets,
        f"{prefix}_counts": vocab.counts,
        f"{prefix}_index": vocab.slots,
    }


def _vocab_problem(blob, offsets, counts, index) -> str | None:
    """Why the vocabulary arrays cannot be looked up safely, or None. Every check is one
    vectorised pass (milliseconds for a million words): offsets that stay inside the blob, an
    index of power-of-two size whose entries are -1 or a word, with each word once and so at
    least one empty slot, which is what ends an unsuccessful probe."""
    n = len(counts)
    if len(offsets) != n + 1:
        return f"{len(offsets)} offsets for {n} words"
    if int(offsets[0]) != 0 or int(offsets[-1]) != len(blob):
        return "the offsets do not span the word bytes"
    if not bool(np.all(offsets[1:] >= offsets[:-1])):
        return "the offsets decrease"
    size = len(index)
    if size <= n or size & (size - 1):
        return f"an index of {size} slots for {n} words (it needs a power of two above {n})"
    if int(index.min()) < -1 or int(index.max()) >= n:
        return "the index points outside the vocabulary"
    if int(np.count_nonzero(index >= 0)) != n:
        return "the index does not hold each word once"
    return None


def load_vocab(
    path: str | os.PathLike,
    meta: dict[str, Any],
    *,
    mmap: bool,
    verify: bool,
    prefix: str = "vocab",
) -> Vocabulary:
    """The vocabulary (or label set, ``prefix="labels"``) of a native model, memory-mapped,
    refused when its arrays do not fit together."""
    arrays = {
        part: load_array(path, meta, f"{prefix}_{part}", mmap=mmap, verify=verify)
        for part in VOCAB_PARTS
    }
    problem = _vocab_problem(arrays["blob"], arrays["offsets"], arrays["counts"], arrays["index"])
    if problem:
        raise ModelFileError(
            f"{path}: the {prefix} arrays are inconsistent ({problem}; corrupt model)"
        )
    return Vocabulary(arrays["blob"], arrays["offsets"], arrays["counts"], arrays["index"])


def save_vectors(vectors: Vectors, path: str | os.PathLike, **meta: Any) -> None:
    """Save ``vectors`` (with their n-gram vectors, if any, and any extra arrays in
    ``meta["extra_arrays"]``) natively."""
    extra = meta.pop("extra_arrays", {})
    arrays = {
        "vectors": vectors.matrix, "norms": vectors.norms, **vocab_arrays(vectors.vocab),
        **extra,
    }  # fmt: skip
    if vectors.ngrams is not None and "input" not in extra:
        arrays["ngrams"] = vectors.ngrams.vectors
        if vectors.ngrams.bucket_rows is not None:
            arrays["ngram_rows"] = vectors.ngrams.bucket_rows
    if vectors.ngrams is not None:
        meta["subwords"] = {"minn": vectors.ngrams.minn, "maxn": vectors.ngrams.maxn}
        if vectors.ngrams.pruned:
            meta["subwords"]["pruned"] = True
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
    bucket_rows = None
    if "ngram_rows" in meta["arrays"]:
        bucket_rows = load_array(path, meta, "ngram_rows", mmap=mmap, verify=verify)
        if len(bucket_rows) and (bucket_rows.min() < -1 or bucket_rows.max() >= len(rows)):
            raise ModelFileError(
                f"{path}: ngram_rows points past the {len(rows):,} n-gram rows the model holds"
            )
    pruned = subwords.get("pruned", False)
    return CharNgrams(rows, int(subwords["minn"]), int(subwords["maxn"]), bucket_rows, pruned)


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
    norms = None
    if "norms" in meta["arrays"]:
        norms = load_array(path, meta, "norms", mmap=mmap, verify=verify)
        if norms.shape != (len(vocab),):
            raise ModelFileError(f"{path}: {len(norms):,} row norms for {len(vocab):,} words")
    vectors = Vectors(vocab, matrix, ngrams, norms)
    vectors.approximate = open_index(path, meta)
    return vectors
