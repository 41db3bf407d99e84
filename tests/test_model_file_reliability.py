"""Broken, hostile or odd model files: every anticipated failure to load is one
ModelFileError (or InsufficientMemoryError) naming the file and the problem; nothing hangs,
traces back from numpy, numba or gzip, or takes memory the guard did not allow."""

from __future__ import annotations

import bz2
import gzip
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wordspace import ModelFileError, Vectors
from wordspace.errors import InsufficientMemoryError
from wordspace.formats import FORMATS, convert, detect_format, load, load_model
from wordspace.formats.fasttext import read_fasttext_bin, save_native, write_fasttext_bin
from wordspace.formats.native import load_vectors, save_vectors
from wordspace.formats.word2vec import read_word2vec, write_word2vec
from wordspace.models.fasttext import FastTextModel, default_args
from wordspace.vocab import Vocabulary

from .conftest import finishes

WORDS = ["the", "of", "zürich", "日本", "x"]


def one_line_error(error_type, work, *names: str) -> str:
    """The message of the ``error_type`` that ``work()`` raises, checked to be one line that
    names every one of ``names``."""
    with pytest.raises(error_type) as info:
        finishes(work)
    message = str(info.value)
    assert "\n" not in message
    for name in names:
        assert str(name) in message
    return message


@pytest.fixture
def vectors() -> Vectors:
    rng = np.random.default_rng(0)
    return Vectors.from_words(WORDS, rng.normal(size=(len(WORDS), 4)), counts=[5, 4, 3, 2, 1])


@pytest.fixture
def native(vectors, tmp_path) -> Path:
    save_vectors(vectors, tmp_path / "model")
    return tmp_path / "model"


def edit_meta(folder: Path, edit) -> None:
    meta = json.loads((folder / "meta.json").read_text())
    edit(meta)
    (folder / "meta.json").write_text(json.dumps(meta))


def replace_array(folder: Path, name: str, array: np.ndarray) -> None:
    """Rewrite one array, and meta.json to agree with it (as a consistent but wrong writer
    would)."""
    np.save(folder / f"{name}.npy", array)

    def agree(meta):
        meta["arrays"][name]["dtype"] = array.dtype.str
        meta["arrays"][name]["shape"] = list(array.shape)

    edit_meta(folder, agree)


# 1. A vocabulary index without an empty slot


def test_unknown_word_lookup_ends_when_the_index_has_no_empty_slot():
    vocab = Vocabulary.from_words(WORDS)
    full = np.zeros_like(vocab.slots)
    crowded = Vocabulary(vocab.blob, vocab.offsets, vocab.counts, full)
    assert finishes(lambda: crowded.index("not-there")) == -1
    assert finishes(lambda: crowded.indices(["not-there", "nor-this"]).tolist()) == [-1, -1]


def test_a_native_index_without_an_empty_slot_is_refused_on_load(native):
    index = np.load(native / "vocab_index.npy")
    index[index < 0] = 0
    np.save(native / "vocab_index.npy", index)
    message = one_line_error(ModelFileError, lambda: load(native), native)
    assert "inconsistent" in message


@pytest.mark.parametrize(
    "corrupt",
    [
        lambda index: index[:0],
        lambda index: index[:6],
        lambda index: np.where(index == 2, -1, index),
        lambda index: np.where(index >= 0, index + 5, index),
    ],
    ids=["empty", "not-a-power-of-two", "a-word-missing", "outside-the-vocabulary"],
)
def test_a_native_index_that_cannot_be_probed_safely_is_refused(native, corrupt):
    index = np.ascontiguousarray(corrupt(np.load(native / "vocab_index.npy")))
    replace_array(native, "vocab_index", index)
    assert "inconsistent" in one_line_error(ModelFileError, lambda: load(native), native)


# 2. The structure of meta.json


@pytest.mark.parametrize(
    ("edit", "key"),
    [
        (lambda m: m.pop("arrays"), "arrays"),
        (lambda m: m.update(arrays=["vectors.npy"]), "arrays"),
        (lambda m: m["arrays"]["vectors"].pop("file"), "file"),
        (lambda m: m["arrays"]["vectors"].pop("dtype"), "dtype"),
        (lambda m: m["arrays"]["vectors"].pop("shape"), "shape"),
        (lambda m: m["arrays"].update(vectors="vectors.npy"), "vectors"),
        (lambda m: m["arrays"]["vectors"].update(shape="5x4"), "shape"),
        (lambda m: m["arrays"]["vectors"].update(shape=[5.0, 4]), "shape"),
        (lambda m: m["arrays"]["vectors"].update(shape=[5, -4]), "shape"),
        (lambda m: m["arrays"]["vectors"].update(dtype=4), "dtype"),
        (lambda m: m["arrays"]["vectors"].update(file="../vectors.npy"), "file"),
        (lambda m: m["arrays"]["vectors"].update(file="/etc/passwd"), "file"),
        (lambda m: m["arrays"]["vectors"].update(file="sub/vectors.npy"), "file"),
        (lambda m: m["arrays"]["vectors"].update(file=".."), "file"),
        (lambda m: m["arrays"]["vectors"].update(file=None), "file"),
        (lambda m: m["arrays"]["vectors"].update(crc32="abc"), "crc32"),
        (lambda m: m.update(subwords={"minn": "3", "maxn": 6}), "minn"),
        (lambda m: m.update(subwords={"minn": 3}), "maxn"),
        (lambda m: m.update(subwords={"minn": 3, "maxn": 10**9}), "maxn"),
        (lambda m: m.update(subwords=[3, 6]), "subwords"),
        (lambda m: m.update(kind=["vectors"]), "kind"),
        (lambda m: m.update(version=True), "version"),
    ],
    ids=[
        "no-arrays",
        "arrays-a-list",
        "no-file",
        "no-dtype",
        "no-shape",
        "entry-a-string",
        "shape-a-string",
        "shape-of-floats",
        "negative-shape",
        "dtype-a-number",
        "file-dotdot",
        "file-absolute",
        "file-in-subfolder",
        "file-is-dotdot",
        "file-null",
        "crc-a-string",
        "minn-a-string",
        "no-maxn",
        "huge-maxn",
        "subwords-a-list",
        "kind-a-list",
        "version-true",
    ],
)
def test_a_malformed_meta_json_names_meta_json_and_the_key(native, edit, key):
    edit_meta(native, edit)
    message = one_line_error(ModelFileError, lambda: load(native), native / "meta.json")
    assert key in message


@pytest.mark.parametrize(
    "content", [b"", b"{", b"[1, 2]", b'"text"', b"[" * 100_000, b"\xff\xfe{}", b'{"a": 1e99999}']
)
def test_an_unparsable_meta_json_is_one_line(native, content):
    (native / "meta.json").write_bytes(content)
    one_line_error(ModelFileError, lambda: load(native), native / "meta.json")


def test_a_native_fasttext_model_with_a_malformed_fasttext_entry_is_refused(tmp_path):
    model = _fasttext_model()
    save_native(model, tmp_path / "ft")
    for edit, key in [
        (lambda m: m.pop("fasttext"), "fasttext"),
        (lambda m: m["fasttext"]["args"].pop("dim"), "dim"),
        (lambda m: m["fasttext"]["args"].update(maxn=10**9), "maxn"),
        (lambda m: m["fasttext"].update(ntokens="many"), "ntokens"),
    ]:
        shutil.copytree(tmp_path / "ft", tmp_path / "bad", dirs_exist_ok=True)
        edit_meta(tmp_path / "bad", edit)
        message = one_line_error(ModelFileError, lambda: load_model(tmp_path / "bad"), "meta.json")
        assert key in message


# 3. Arrays of the wrong dtype or shape for their role


@pytest.mark.parametrize(
    ("name", "change", "use"),
    [
        ("vectors", lambda a: a.astype(np.int64), lambda v: v.most_similar("the")),
        ("vectors", lambda a: a.astype(np.float16), lambda v: v.most_similar("the")),
        ("vectors", lambda a: a.reshape(-1), lambda v: v["the"]),
        ("vocab_offsets", lambda a: a.astype(np.float64), lambda v: v.index("the")),
        ("vocab_offsets", lambda a: a.astype(np.int32), lambda v: v.index("the")),
        ("vocab_index", lambda a: a.astype(np.int64), lambda v: v.vocab.index("unknown")),
        ("vocab_index", lambda a: a.astype(">i4"), lambda v: v.vocab.index("unknown")),
        ("vocab_blob", lambda a: a.astype(np.int8), lambda v: v.words),
        ("vocab_counts", lambda a: a.astype(np.float32), lambda v: v.vocab.total),
        ("vocab_counts", lambda a: a.reshape(1, -1), lambda v: v.vocab.total),
    ],
    ids=[
        "vectors-int64",
        "vectors-float16",
        "vectors-1d",
        "offsets-float64",
        "offsets-int32",
        "index-int64",
        "index-big-endian",
        "blob-int8",
        "counts-float32",
        "counts-2d",
    ],
)
def test_an_array_of_the_wrong_dtype_for_its_role_is_refused(native, name, change, use):
    replace_array(native, name, change(np.load(native / f"{name}.npy")))
    message = one_line_error(ModelFileError, lambda: use(load(native)), f"{name}.npy")
    assert name in message


def test_float64_vectors_are_converted_to_float32_on_load(native, vectors):
    replace_array(native, "vectors", np.load(native / "vectors.npy").astype(np.float64))
    loaded = load(native)
    assert loaded.matrix.dtype == np.float32
    np.testing.assert_array_equal(loaded.matrix, vectors.matrix)
    assert loaded.most_similar("the", topn=1)


def test_float64_vectors_are_saved_as_float32(vectors, tmp_path):
    wide = Vectors(vectors.vocab, vectors.matrix.astype(np.float64))
    save_vectors(wide, tmp_path / "m")
    assert np.load(tmp_path / "m" / "vectors.npy", mmap_mode="r").dtype == np.float32
    assert isinstance(load(tmp_path / "m").matrix, np.memmap)


def test_a_missing_checksum_is_reported_when_verifying(native):
    edit_meta(native, lambda m: m["arrays"]["vectors"].pop("crc32"))
    assert load(native).dim == 4
    message = one_line_error(ModelFileError, lambda: load(native, verify=True), "vectors.npy")
    assert "checksum" in message


# 4. Empty and truncated arrays


@pytest.mark.parametrize("mmap", [True, False])
@pytest.mark.parametrize("keep", [0, 5, 100, -10])
def test_an_empty_or_truncated_array_is_an_unreadable_array(native, mmap, keep):
    data = (native / "vectors.npy").read_bytes()
    (native / "vectors.npy").write_bytes(data[:keep])
    message = one_line_error(ModelFileError, lambda: load(native, mmap=mmap), "vectors.npy")
    assert "unreadable or truncated array" in message


def test_an_array_file_that_is_not_npy_is_unreadable(native):
    np.savez(native / "vectors.npz", a=np.zeros(3))
    os.replace(native / "vectors.npz", native / "vectors.npy")
    assert "unreadable" in one_line_error(ModelFileError, lambda: load(native), "vectors.npy")


def test_a_missing_array_file_is_named(native):
    (native / "vectors.npy").unlink()
    assert "missing" in one_line_error(ModelFileError, lambda: load(native), "vectors.npy")


def test_an_array_file_that_is_a_fifo_is_refused_without_blocking(native):
    (native / "vectors.npy").unlink()
    os.mkfifo(native / "vectors.npy")
    one_line_error(ModelFileError, lambda: load(native), "vectors.npy")


# 5. Gzip: bounded memory, corrupt and truncated streams


def _text_model(tmp_path, vectors, name="v.txt") -> bytes:
    write_word2vec(vectors, tmp_path / name)
    return (tmp_path / name).read_bytes()


def _bomb(size: int) -> bytes:
    """A gzip file of one small row padded to ``size`` bytes with blank lines."""
    return gzip.compress(b"1 2\nw 0.5 0.25\n" + b"\n" * size, compresslevel=1)


def test_a_gzip_bomb_is_refused_by_the_memory_guard(tmp_path, monkeypatch):
    (tmp_path / "bomb.txt.gz").write_bytes(_bomb(40 << 20))
    monkeypatch.setattr("wordspace.memory.available_bytes", lambda: 8 << 20)
    message = one_line_error(
        InsufficientMemoryError, lambda: load(tmp_path / "bomb.txt.gz"), tmp_path / "bomb.txt.gz"
    )
    assert "native" in message


def test_a_gzip_trailer_that_understates_the_size_is_only_a_first_guess(tmp_path, monkeypatch):
    data = bytearray(_bomb(40 << 20))
    data[-4:] = (1000).to_bytes(4, "little")
    (tmp_path / "lie.txt.gz").write_bytes(bytes(data))
    monkeypatch.setattr("wordspace.memory.available_bytes", lambda: 8 << 20)
    one_line_error(InsufficientMemoryError, lambda: load(tmp_path / "lie.txt.gz"), "lie.txt.gz")


def test_a_gzip_model_larger_than_its_trailer_says_still_loads(tmp_path, vectors):
    text = _text_model(tmp_path, vectors)
    halves = gzip.compress(text[:40]) + gzip.compress(text[40:])
    (tmp_path / "members.txt.gz").write_bytes(halves)
    assert load(tmp_path / "members.txt.gz").words == WORDS


def test_corrupt_gzip_data_is_one_model_file_error(tmp_path, vectors):
    packed = bytearray(gzip.compress(_text_model(tmp_path, vectors)))
    packed[15:25] = b"\xff" * 10
    (tmp_path / "bad.txt.gz").write_bytes(bytes(packed))
    message = one_line_error(ModelFileError, lambda: load(tmp_path / "bad.txt.gz"), "bad.txt.gz")
    assert "corrupt gzip data" in message


def test_a_gzip_model_with_a_wrong_checksum_is_corrupt(tmp_path, vectors):
    packed = bytearray(gzip.compress(_text_model(tmp_path, vectors)))
    packed[-8] ^= 0xFF
    (tmp_path / "crc.txt.gz").write_bytes(bytes(packed))
    assert "corrupt gzip" in one_line_error(ModelFileError, lambda: load(tmp_path / "crc.txt.gz"))


@pytest.mark.parametrize("keep", [3, 10, 30, -9])
def test_a_truncated_gzip_model_is_one_model_file_error(tmp_path, vectors, keep):
    packed = gzip.compress(_text_model(tmp_path, vectors))
    (tmp_path / "cut.txt.gz").write_bytes(packed[:keep])
    for work in (
        lambda: load(tmp_path / "cut.txt.gz"),
        lambda: read_word2vec(tmp_path / "cut.txt.gz"),
    ):
        message = one_line_error(ModelFileError, work, "cut.txt.gz")
        assert "truncated gzip data" in message


# 6. Compression is told from the content, and formats are always names in FORMATS


def test_a_gzipped_model_loads_whatever_its_name(tmp_path, vectors):
    (tmp_path / "vectors.txt").write_bytes(gzip.compress(_text_model(tmp_path, vectors, "p.txt")))
    assert detect_format(tmp_path / "vectors.txt") == "word2vec-txt"
    assert load(tmp_path / "vectors.txt").words == WORDS


def test_a_plain_model_named_gz_loads(tmp_path, vectors):
    (tmp_path / "v.txt.gz").write_bytes(_text_model(tmp_path, vectors))
    assert load(tmp_path / "v.txt.gz").words == WORDS
    write_word2vec(vectors, tmp_path / "b.bin", binary=True)
    os.replace(tmp_path / "b.bin", tmp_path / "b.bin.gz")
    assert detect_format(tmp_path / "b.bin.gz") == "word2vec-bin"
    assert load(tmp_path / "b.bin.gz").words == WORDS


def test_a_model_named_gz_is_written_compressed_and_reads_back(tmp_path, vectors):
    for name, binary in [("v.txt.gz", False), ("v.bin.gz", True)]:
        write_word2vec(vectors, tmp_path / name, binary=binary)
        assert (tmp_path / name).read_bytes()[:2] == b"\x1f\x8b"
        np.testing.assert_allclose(load(tmp_path / name).matrix, vectors.matrix, atol=1e-6)
    assert convert(tmp_path / "v.bin.gz", tmp_path / "again.txt.gz") == "word2vec-txt"
    assert detect_format(tmp_path / "again.txt.gz") == "word2vec-txt"


def test_a_model_compressed_otherwise_than_gzip_says_to_decompress(tmp_path, vectors):
    (tmp_path / "v.txt.bz2").write_bytes(bz2.compress(_text_model(tmp_path, vectors)))
    message = one_line_error(ModelFileError, lambda: load(tmp_path / "v.txt.bz2"), "v.txt.bz2")
    assert "bzip2" in message


def _fasttext_model() -> FastTextModel:
    rng = np.random.default_rng(1)
    args = default_args(4) | {"bucket": 7, "minn": 1, "maxn": 3}
    return FastTextModel(
        args,
        Vocabulary.from_words(WORDS, [5, 4, 3, 2, 1]),
        rng.normal(size=(12, 4)).astype(np.float32),
        rng.normal(size=(5, 4)).astype(np.float32),
        ntokens=15,
    )


def test_detect_format_gives_only_names_in_formats(tmp_path, vectors):
    write_word2vec(vectors, tmp_path / "a.txt")
    write_word2vec(vectors, tmp_path / "a.bin", binary=True)
    write_word2vec(vectors, tmp_path / "a.vec")
    write_word2vec(vectors, tmp_path / "a.vec.gz")
    write_word2vec(vectors, tmp_path / "a.bin.gz", binary=True)
    write_fasttext_bin(_fasttext_model(), tmp_path / "m.bin")
    save_vectors(vectors, tmp_path / "native")
    expected = {
        "a.txt": "word2vec-txt",
        "a.bin": "word2vec-bin",
        "a.vec": "fasttext-vec",
        "a.vec.gz": "fasttext-vec",
        "a.bin.gz": "word2vec-bin",
        "m.bin": "fasttext-bin",
        "native": "native",
    }
    assert set(expected.values()) == set(FORMATS), "a file of every format"
    for name, fmt in expected.items():
        assert detect_format(tmp_path / name) == fmt
        assert fmt in FORMATS
        assert len(load(tmp_path / name)) == len(WORDS)


def test_a_gzipped_fasttext_model_says_to_decompress(tmp_path):
    write_fasttext_bin(_fasttext_model(), tmp_path / "m.bin")
    (tmp_path / "m.bin.gz").write_bytes(gzip.compress((tmp_path / "m.bin").read_bytes()))
    message = one_line_error(ModelFileError, lambda: load(tmp_path / "m.bin.gz"), "m.bin.gz")
    assert "gzip" in message


# 7. Text files whose header dimension is wrong


def _rows(values: int, rows: int = 3) -> bytes:
    rng = np.random.default_rng(2)
    lines = [f"w{r} " + " ".join(f"{v:.6f}" for v in rng.normal(size=values)) for r in range(rows)]
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.parametrize(("values", "side"), [(101, "more"), (99, "fewer")])
def test_a_header_dimension_off_by_one_is_reported_as_such(tmp_path, values, side):
    (tmp_path / "off.txt").write_bytes(b"3 100\n" + _rows(values))
    message = one_line_error(ModelFileError, lambda: load(tmp_path / "off.txt"), "off.txt")
    assert f"row 1 has {values} values, {side} than the header's 100 values per row" in message


def test_a_later_row_of_the_wrong_length_is_reported_with_its_count(tmp_path):
    content = b"3 4\na 1 2 3 4\nb 1 2 3\nc 1 2 3 4\n"
    (tmp_path / "short.txt").write_bytes(content)
    message = one_line_error(ModelFileError, lambda: load(tmp_path / "short.txt"), "short.txt")
    assert "line 3: row 2 has 3 values, fewer than the header's 4" in message


def test_binary_files_are_still_told_from_text(tmp_path, vectors):
    write_word2vec(vectors, tmp_path / "v.bin", binary=True)
    assert read_word2vec(tmp_path / "v.bin").words == WORDS
    one = Vectors.from_words(["a"], [[7.0]])
    write_word2vec(one, tmp_path / "one.txt")
    assert read_word2vec(tmp_path / "one.txt").matrix.tolist() == [[7.0]]


# 8. Paths that are no model file at all


def test_an_empty_path_is_refused_not_read_as_the_current_folder(tmp_path, vectors, monkeypatch):
    save_vectors(vectors, tmp_path / "here")
    monkeypatch.chdir(tmp_path / "here")
    for work in (lambda: load(""), lambda: load_vectors(""), lambda: read_word2vec("")):
        assert "empty path" in one_line_error(ModelFileError, work)


@pytest.mark.parametrize("where", ["/", "folder", "missing", "fifo", "/dev/null", "/dev/zero"])
def test_a_path_that_holds_no_model_is_one_line(tmp_path, where):
    path = {"folder": tmp_path, "missing": tmp_path / "missing", "fifo": tmp_path / "fifo"}.get(
        where, Path(where)
    )
    if where == "fifo":
        os.mkfifo(path)
    readers = [lambda: load(path), lambda: read_word2vec(path), lambda: read_fasttext_bin(path)]
    if not path.is_dir():
        readers.append(lambda: detect_format(path))
    for work in readers:
        one_line_error(ModelFileError, work, path)


# Others: fastText headers that promise more than the file holds


def _fasttext_bytes(tmp_path) -> bytearray:
    write_fasttext_bin(_fasttext_model(), tmp_path / "m.bin")
    return bytearray((tmp_path / "m.bin").read_bytes())


@pytest.mark.parametrize(
    ("offset", "value", "size"),
    [
        (8, 0, 4),  # dim 0
        (8, 2**31 - 1, 4),  # dim far too large
        (40, -5, 4),  # negative bucket
        (48, 1000, 4),  # maxn beyond any n-gram length
        (64, -1, 4),  # negative dictionary size
        (76, 2**62, 8),  # ntokens: harmless, must not matter
        (84, 2**60, 8),  # a pruned index far larger than the file
    ],
)
def test_a_lying_fasttext_header_is_refused_before_allocating(tmp_path, offset, value, size):
    data = _fasttext_bytes(tmp_path)
    data[offset : offset + size] = value.to_bytes(size, "little", signed=True)
    (tmp_path / "lie.bin").write_bytes(bytes(data))
    try:
        finishes(lambda: read_fasttext_bin(tmp_path / "lie.bin").vectors()["zürich"])
    except ModelFileError as exc:
        assert "lie.bin" in str(exc)


def test_fasttext_matrix_sizes_beyond_the_file_are_refused(tmp_path):
    data = _fasttext_bytes(tmp_path)
    input_header = data.index(b"x\x00") + 12  # after the last word's record and a flag
    for rows in (2**40, -3):
        patched = bytearray(data)
        patched[input_header : input_header + 8] = rows.to_bytes(8, "little", signed=True)
        (tmp_path / "big.bin").write_bytes(bytes(patched))
        message = one_line_error(ModelFileError, lambda: read_fasttext_bin(tmp_path / "big.bin"))
        assert "input matrix" in message


# Fuzz: mutated native folders


FUZZ = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module")
def native_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz") / "m"
    rng = np.random.default_rng(3)
    save_vectors(Vectors.from_words(WORDS, rng.normal(size=(5, 4))), folder)
    return {path.name: path.read_bytes() for path in folder.iterdir()}


@FUZZ
@given(
    st.sampled_from(
        ["meta.json", "vectors.npy", "vocab_index.npy", "vocab_offsets.npy", "vocab_blob.npy"]
    ),
    st.lists(st.tuples(st.integers(0, 4000), st.integers(0, 255)), max_size=4),
    st.integers(0, 4000),
)
def test_mutated_native_models_never_crash_or_hang_the_loader(
    native_files, tmp_path, name, flips, cut
):
    folder = tmp_path / "m"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    for file, content in native_files.items():
        (folder / file).write_bytes(content)
    data = bytearray(native_files[name])
    for position, value in flips:
        data[position % len(data)] = value
    (folder / name).write_bytes(bytes(data[: max(0, len(data) - cut % (len(data) + 1))]))

    def use():
        vectors = load(folder)
        return vectors.index("the"), vectors.vocab.index("unknown"), vectors.words

    try:
        finishes(use, 30)
    except ModelFileError as exc:
        assert str(folder) in str(exc)
        assert "\n" not in str(exc)
    except KeyError:
        pass
