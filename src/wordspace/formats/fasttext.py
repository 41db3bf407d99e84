"""Facebook fastText's binary model format (``.bin`` and quantized ``.ftz``, versions 11, 12).

Layout, all little-endian: magic int32 793712314, version int32; the training arguments
(twelve int32 and a float64); the dictionary (size, nwords, nlabels as int32, ntokens and
the pruned-index size as int64, then one record per entry: the word, NUL, count int64, type
int8, then as many pruned-index pairs as the size says when it is positive); a bool
"quantized input"; the input matrix (rows, cols as int64, then float32 values: one row per
word, then one per hashed n-gram bucket); a bool "quantized output"; the output matrix (one
row per word, or per label for classifiers).

A ``.ftz`` (``fasttext quantize``) has the same layout with the input matrix, and with
"quantized output" the output matrix too, product-quantized (``wordspace.formats.quantized``
gives that layout); a pruned-index size of -1 means not pruned, 0 or more that ``-cutoff``
kept the words and buckets of largest norm: the input matrix then has a row per kept word
and kept bucket, and the pairs map each kept bucket to its row. fastText refuses a pruned
dictionary with a dense matrix, and so does this reader.

Reading maps dense matrices straight from the file, so opening a multi-gigabyte model costs
almost no memory until vectors are used; only the composed vectors of vocabulary words, and
the decoded rows of quantized matrices (small: a ``.ftz`` is a compressed model), are
computed into RAM, after checking that it is available. A pruned model keeps its bucket
map with ``pruned=True`` (a dropped bucket is left out of a bag, not a zero row): it is
saved natively as it is, but not written back as a dense ``.bin``, which cannot express it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from wordspace.errors import OutputError
from wordspace.fileio import atomic_file
from wordspace.formats.files import compression, regular_file
from wordspace.formats.files import file_error as _fail
from wordspace.formats.files import read_record as _take
from wordspace.formats.native import (
    META,
    load_array,
    load_vectors,
    load_vocab,
    read_meta,
    save_vectors,
    vocab_arrays,
)
from wordspace.formats.quantized import bucket_map, read_pruned_index, read_quantized
from wordspace.hashing import SENT2VEC_NGRAM_SCHEME, WORD_NGRAM_SCHEME
from wordspace.kernels import dictionary as kd
from wordspace.kernels.numtext import gather_ranges
from wordspace.kernels.utf8 import repair_strings
from wordspace.memory import ensure_available
from wordspace.models.fasttext import (
    CONVERT_HINT,
    FASTTEXT_VERSION,
    SENT2VEC_MODEL,
    SUPERVISED_MODEL,
    FastTextModel,
)
from wordspace.vocab import Vocabulary

MAGIC = 793712314
VERSION = FASTTEXT_VERSION
"""The .bin version written, and the newest one read (11 is read too)."""
SENT2VEC_VERSION = 11
"""The only version the sent2vec reference reads, written for sent2vec models."""
ARGS = np.dtype(
    [
        ("dim", "<i4"),
        ("ws", "<i4"),
        ("epoch", "<i4"),
        ("min_count", "<i4"),
        ("neg", "<i4"),
        ("word_ngrams", "<i4"),
        ("loss", "<i4"),
        ("model", "<i4"),
        ("bucket", "<i4"),
        ("minn", "<i4"),
        ("maxn", "<i4"),
        ("lr_update_rate", "<i4"),
        ("t", "<f8"),
    ]
)
LOSS_NAMES = {1: "hs", 2: "ns", 3: "softmax", 4: "ova"}
MODEL_NAMES = {1: "cbow", 2: "skipgram", 3: "supervised"}
_DICT_HEADER = np.dtype([("size", "<i4"), ("nwords", "<i4"), ("nlabels", "<i4")])
_MAX_DIM = 1 << 16
_MAX_NGRAM = 64
_CHAR_WORD_CBOW = 5
"""sent2vec's cbow-c+w-ngrams model code, whose arguments hold one more field."""


def _matrix(
    path: Path, buf: np.ndarray, pos: int, what: str, rows: int | None, dim: int, mmap: bool
) -> tuple[np.ndarray, int]:
    shape = np.dtype([("rows", "<i8"), ("cols", "<i8")])
    header = _take(path, buf, pos, shape, f"{what} matrix header")
    m, n = int(header["rows"]), int(header["cols"])
    if n != dim or m < 0 or (rows is not None and m != rows):
        expected = f"{rows} x {dim}" if rows is not None else f"? x {dim}"
        raise _fail(path, f"{what} matrix is {m} x {n}, the model needs {expected}")
    start = pos + shape.itemsize
    size = m * n * 4
    if start + size > len(buf):
        raise _fail(path, f"file ends inside the {what} matrix (truncated?)")
    if mmap and isinstance(buf, np.memmap):
        matrix = np.memmap(path, dtype="<f4", mode="r", offset=start, shape=(m, n))
    else:
        ensure_available(size, f"{path}: reading the {what} matrix", suggestion=CONVERT_HINT)
        matrix = np.frombuffer(bytes(buf[start : start + size]), dtype="<f4").reshape(m, n)
    return matrix, start + size


def _sent2vec_input(
    path: Path, buf: np.ndarray, pos: int, rows: int, dim: int, mmap: bool
) -> tuple[np.ndarray, int]:
    """The input matrix of a sent2vec model: ``rows`` (words + buckets) as the reference
    wrote it before 2019, or one more, never used, as it writes it since (its unused
    ``bucketChar`` row); the extra row is left out of the view."""
    matrix, end = _matrix(path, buf, pos, "input", None, dim, mmap)
    if matrix.shape[0] not in (rows, rows + 1):
        raise _fail(
            path,
            f"input matrix has {matrix.shape[0]:,} rows, the model needs {rows:,} (or one more)",
        )
    return matrix[:rows], end


def _vocabulary(buf, starts, ends, counts) -> Vocabulary:
    blob, offsets = gather_ranges(buf, starts, ends)
    try:
        bytes(blob).decode("utf-8")
    except UnicodeDecodeError:
        blob, offsets, _ = repair_strings(blob, offsets, False)
    return Vocabulary(blob, offsets, counts.astype(np.int64))


def _map(path: Path) -> np.memmap:
    """The file's bytes, memory-mapped; a compressed model is refused (it would have to be
    read into memory whole, and fastText itself cannot read it either)."""
    try:
        if path.stat().st_size == 0:
            raise _fail(path, "file is empty")
        buf = np.memmap(path, dtype=np.uint8, mode="r")
    except OSError as exc:
        raise _fail(path, f"cannot read ({exc.strerror or exc})") from None
    kind = compression(bytes(buf[:6]))
    if kind is not None:
        raise _fail(path, f"is {kind}-compressed; decompress it first (fastText models are mapped)")
    return buf


def _check_args(path: Path, args: dict[str, Any]) -> None:
    """Refuse training arguments that would size memory or loops absurdly."""
    if not 0 < args["dim"] <= _MAX_DIM or args["bucket"] < 0:
        raise _fail(path, f"implausible arguments dim={args['dim']} bucket={args['bucket']}")
    if not 0 <= args["word_ngrams"] <= _MAX_NGRAM:
        raise _fail(path, f"implausible word n-gram length word_ngrams={args['word_ngrams']}")
    if not (0 <= args["minn"] <= _MAX_NGRAM and 0 <= args["maxn"] <= _MAX_NGRAM):
        raise _fail(path, f"implausible n-gram lengths minn={args['minn']} maxn={args['maxn']}")


def read_fasttext_bin(path: str | os.PathLike, *, mmap: bool = True) -> FastTextModel:
    """Read a Facebook fastText ``.bin`` model (versions 11 and 12, unsupervised or
    supervised) or a quantized ``.ftz`` one. Dense matrices are memory-mapped from the file
    unless ``mmap=False``; quantized ones are decoded into dense float32 rows, each element
    what fastText adds for it, so that word vectors and hidden vectors equal fastText's
    (an output matrix quantized with norms differs in the last bits: fastText scales its
    dot product by the norm, where the decoded row is scaled first)."""
    path = regular_file(path)
    buf = _map(path)
    head = np.dtype([("magic", "<i4"), ("version", "<i4")])
    signature = _take(path, buf, 0, head, "header")
    if int(signature["magic"]) != MAGIC:
        raise _fail(path, "not a fastText .bin model (wrong magic number)")
    version = int(signature["version"])
    if version not in (11, VERSION):
        raise _fail(path, f"fastText format version {version} is not supported (11 and 12 are)")
    raw_args = _take(path, buf, head.itemsize, ARGS, "arguments")
    args = {name: raw_args[name].item() for name in ARGS.names}
    _check_args(path, args)
    if version == 11 and args["model"] == SUPERVISED_MODEL:
        args["maxn"] = 0
    if args["model"] == _CHAR_WORD_CBOW:
        raise _fail(path, "sent2vec's cbow-c+w-ngrams models (model 5) are not supported")
    pos = head.itemsize + ARGS.itemsize
    sizes = _take(path, buf, pos, _DICT_HEADER, "dictionary header")
    size, nwords, nlabels = int(sizes["size"]), int(sizes["nwords"]), int(sizes["nlabels"])
    pos += _DICT_HEADER.itemsize
    extra = np.dtype([("ntokens", "<i8"), ("pruned", "<i8")])
    more = _take(path, buf, pos, extra, "dictionary header")
    ntokens, pruned = int(more["ntokens"]), int(more["pruned"])
    pos += extra.itemsize
    if min(size, nwords, nlabels) < 0 or nwords + nlabels != size:
        raise _fail(path, f"dictionary sizes do not add up ({nwords} + {nlabels} != {size})")
    if size > (len(buf) - pos) // 10:
        raise _fail(path, f"dictionary promises {size:,} entries, more than the file can hold")
    starts = np.empty(size, dtype=np.int64)
    ends = np.empty(size, dtype=np.int64)
    counts = np.empty(size, dtype=np.int64)
    types = np.empty(size, dtype=np.uint8)
    status, done, pos = kd.parse_entries(buf, pos, len(buf), starts, ends, counts, types)
    if status != kd.OK:
        raise _fail(path, f"file ends inside dictionary entry {done + 1} of {size} (truncated?)")
    if np.any(types[:nwords] != 0) or np.any(types[nwords:] != 1):
        raise _fail(path, "dictionary entries are not words followed by labels")
    pairs = np.zeros((0, 2), dtype=np.int64)
    if pruned > 0:
        pairs, pos = read_pruned_index(path, buf, pos, pruned)
    quantized = bool(_take(path, buf, pos, np.dtype("u1"), "matrix flag"))
    pos += 1
    bucket_rows = None
    expected_rows = nwords + args["bucket"]
    if pruned >= 0:  # fastText's isPruned: `quantize -cutoff` cut the dictionary
        if not quantized:
            raise _fail(path, "its dictionary is pruned but its input matrix is not quantized")
        bucket_rows = bucket_map(path, pairs, args["bucket"], len(pairs))
        expected_rows = nwords + len(pairs)
    if quantized:
        input_matrix, pos = read_quantized(path, buf, pos, "input", expected_rows, args["dim"])
    elif args["model"] == SENT2VEC_MODEL:
        input_matrix, pos = _sent2vec_input(path, buf, pos, expected_rows, args["dim"], mmap)
    else:
        input_matrix, pos = _matrix(path, buf, pos, "input", expected_rows, args["dim"], mmap)
    quantized_out = bool(_take(path, buf, pos, np.dtype("u1"), "matrix flag"))
    pos += 1
    out_rows = nlabels if args["model"] == SUPERVISED_MODEL else nwords
    if quantized and quantized_out:
        output_matrix, pos = read_quantized(path, buf, pos, "output", out_rows, args["dim"])
    else:
        output_matrix, pos = _matrix(path, buf, pos, "output", out_rows, args["dim"], mmap)
    words = _vocabulary(buf, starts[:nwords], ends[:nwords], counts[:nwords])
    labels = _vocabulary(buf, starts[nwords:], ends[nwords:], counts[nwords:]) if nlabels else None
    return FastTextModel(
        args, words, input_matrix, output_matrix, labels, ntokens, version, bucket_rows,
        pruned=bucket_rows is not None,
    )  # fmt: skip


def _write_matrix(
    handle,
    shape: tuple[int, int],
    rows: Callable[[int, int], np.ndarray],
    block_rows: int = 1 << 16,
) -> None:
    """Write a fastText matrix of ``shape`` whose rows ``start:end`` are ``rows(start,
    end)``, one block at a time (a 2M-bucket input matrix is never copied whole)."""
    handle.write(np.array(shape, dtype="<i8").tobytes())
    for start in range(0, shape[0], block_rows):
        block = np.ascontiguousarray(rows(start, min(start + block_rows, shape[0])), dtype="<f4")
        handle.write(memoryview(block).cast("B"))


def write_fasttext_bin(model: FastTextModel, path: str | os.PathLike) -> None:
    """Write ``model`` as a fastText ``.bin`` (version 12) that ``fasttext.load_model`` and
    gensim's ``load_facebook_model`` read, atomically.

    A pruned model (read from a ``.ftz`` quantized with ``-cutoff``) whose n-gram buckets
    are used is refused: a dense ``.bin`` has a row for every bucket, and fastText would
    average the dropped ones in as zero rows where the pruned model leaves them out."""
    if model.word_ngram_scheme == WORD_NGRAM_SCHEME and uses_buckets(model.args):
        raise OutputError(
            f"{path}: this sent2vec model hashes its word n-grams with wordspace's scheme, "
            "which the sent2vec reference would not read back (it hashes vocabulary ids): "
            "save it natively, or train with ngram_hash='sent2vec' (--ngram-hash sent2vec) "
            "for a .bin"
        )
    if model.pruned and uses_buckets(model.args):
        raise OutputError(
            f"{path}: a pruned fastText model (a .ftz quantized with -cutoff) cannot be "
            "written as a dense .bin, which would count its dropped n-gram buckets as zero "
            "rows; keep the .ftz or save it natively"
        )
    args = np.zeros(1, dtype=ARGS)
    for name in ARGS.names:
        args[name] = model.args[name]
    nlabels = 0 if model.labels is None else len(model.labels)
    words = model.words
    entries = [kd.format_entries(words.blob, words.offsets, words.counts, 0)]
    if model.labels is not None:
        labels = model.labels
        entries.append(kd.format_entries(labels.blob, labels.offsets, labels.counts, 1))
    with atomic_file(path) as handle:
        version = SENT2VEC_VERSION if model.is_sent2vec else VERSION
        handle.write(np.array([MAGIC, version], dtype="<i4").tobytes())
        handle.write(args.tobytes())
        handle.write(np.array([len(words) + nlabels, len(words), nlabels], dtype="<i4").tobytes())
        handle.write(np.array([model.ntokens, -1], dtype="<i8").tobytes())
        for block in entries:
            handle.write(memoryview(block))
        handle.write(b"\x00")
        _write_matrix(handle, (model.input_rows, model.dim), model.dense_input)
        handle.write(b"\x00")
        output = model.output
        _write_matrix(handle, output.shape, lambda start, end: output[start:end])


def uses_buckets(args: dict[str, Any]) -> bool:
    """Whether a model with these arguments puts n-gram bucket rows in a line's (or word's)
    bag: word n-grams (``word_ngrams`` > 1) or character n-grams (``maxn`` > 0), hashed into
    ``bucket`` > 0 buckets."""
    return args["bucket"] > 0 and (args["word_ngrams"] > 1 or args["maxn"] > 0)


def save_native(model: FastTextModel, path: str | os.PathLike, **meta: Any) -> None:
    """Save a whole fastText model in the native format: the composed word vectors (for
    memory-mapped queries), the input and output matrices (and the bucket map of a compact
    one, with whether it is a pruned one), words and labels, arguments, and any further
    ``meta`` entries (a trained model's configuration and training figures)."""
    extra = {"input": model.input, "output": model.output}
    if model.bucket_rows is not None:
        extra["ngram_rows"] = model.bucket_rows
    if model.labels is not None:
        extra |= vocab_arrays(model.labels, prefix="labels")
    fasttext = {"args": model.args, "ntokens": model.ntokens, "version": model.version}
    if model.pruned:
        fasttext["pruned"] = True
    if model.word_ngram_scheme is not None:
        fasttext["word_ngram_scheme"] = model.word_ngram_scheme
    save_vectors(
        model.vectors(), path, kind="fasttext", fasttext=fasttext, extra_arrays=extra, **meta
    )


def _native_info(
    meta_path: Path, meta: dict[str, Any]
) -> tuple[dict[str, Any], int, int, bool, str | None]:
    """The "fasttext" entry of a native model's meta.json: (args, ntokens, version, pruned,
    word n-gram scheme), each checked for type and plausibility so that loading cannot fail
    later on a missing key ("pruned" may be absent: false; "word_ngram_scheme" too: the
    format's own)."""
    info = meta.get("fasttext")
    if not isinstance(info, dict) or not isinstance(info.get("args"), dict):
        raise _fail(meta_path, '"fasttext" must be an object with "args", "ntokens", "version"')
    args = dict(info["args"])
    for name in ARGS.names:
        value = args.get(name)
        number, wanted = (int | float, "a number") if name == "t" else (int, "an integer")
        if not isinstance(value, number) or isinstance(value, bool):
            raise _fail(meta_path, f"fasttext.args.{name} must be {wanted}, got {value!r:.40}")
    for key in ("ntokens", "version"):
        if not isinstance(info.get(key), int) or isinstance(info.get(key), bool):
            raise _fail(meta_path, f"fasttext.{key} must be an integer, got {info.get(key)!r:.40}")
    pruned = info.get("pruned", False)
    if not isinstance(pruned, bool):
        raise _fail(meta_path, f"fasttext.pruned must be true or false, got {pruned!r:.40}")
    scheme = info.get("word_ngram_scheme")
    if scheme is not None and scheme not in (WORD_NGRAM_SCHEME, SENT2VEC_NGRAM_SCHEME):
        raise _fail(meta_path, f"fasttext.word_ngram_scheme {scheme!r:.60} is not known")
    if scheme is not None and args["model"] != SENT2VEC_MODEL:
        raise _fail(meta_path, "fasttext.word_ngram_scheme is for sent2vec models only")
    _check_args(meta_path, args)
    return args, info["ntokens"], info["version"], pruned, scheme


def load_native(
    path: str | os.PathLike, *, mmap: bool = True, verify: bool = False
) -> FastTextModel:
    """The fastText model saved by ``save_native``, memory-mapped (checksums checked with
    ``verify=True``)."""
    meta = read_meta(path)
    if meta.get("kind") != "fasttext":
        raise _fail(Path(path), "not a fastText model (it holds plain vectors)")
    args, ntokens, version, pruned, scheme = _native_info(Path(path) / META, meta)
    vectors = load_vectors(path, mmap=mmap, verify=verify)
    labels = None
    if "labels_blob" in meta["arrays"]:
        labels = load_vocab(path, meta, mmap=mmap, verify=verify, prefix="labels")
    input_matrix = load_array(path, meta, "input", mmap=mmap, verify=verify)
    output_matrix = load_array(path, meta, "output", mmap=mmap, verify=verify)
    dims = {vectors.dim, input_matrix.shape[1], output_matrix.shape[1]}
    if dims != {args["dim"]} or input_matrix.shape[0] < len(vectors):
        raise _fail(
            Path(path),
            f"the input {list(input_matrix.shape)} and output {list(output_matrix.shape)} "
            f"matrices do not fit {len(vectors)} words of dimension {args['dim']}",
        )
    ngrams = vectors.ngrams
    bucket_rows = ngrams.bucket_rows if ngrams is not None else None
    if ngrams is not None and (ngrams.bucket, ngrams.minn, ngrams.maxn) != (
        args["bucket"],
        args["minn"],
        args["maxn"],
    ):
        raise _fail(
            Path(path),
            f"its n-grams ({ngrams.bucket:,} buckets, {ngrams.minn}-{ngrams.maxn} characters) "
            f"differ from its fastText arguments (bucket {args['bucket']:,}, "
            f"minn {args['minn']}, maxn {args['maxn']})",
        )
    if pruned and bucket_rows is None and args["bucket"] > 0:
        raise _fail(Path(path), "it is a pruned fastText model without its ngram_rows")
    if ngrams is not None and ngrams.pruned != pruned:
        raise _fail(Path(path), "its subwords.pruned and fasttext.pruned disagree")
    model = FastTextModel(
        args, vectors.vocab, input_matrix, output_matrix, labels, ntokens, version,
        bucket_rows, pruned, scheme,
    )  # fmt: skip
    model._vectors = vectors
    return model
