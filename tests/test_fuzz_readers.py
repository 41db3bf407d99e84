"""No input, however broken, crashes a reader or makes it allocate what the file cannot hold:
every failure is a ModelFileError that names the file."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wordspace import ModelFileError, Vectors
from wordspace.formats import load_model
from wordspace.formats.fasttext import read_fasttext_bin, write_fasttext_bin
from wordspace.formats.word2vec import read_word2vec, write_word2vec
from wordspace.models.fasttext import FastTextModel, default_args
from wordspace.vocab import Vocabulary

FUZZ = settings(
    max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _valid_files(folder):
    rng = np.random.default_rng(0)
    words = ["the", "of", "zürich", "日本", "x"]
    vectors = Vectors.from_words(words, rng.normal(size=(5, 4)), counts=[5, 4, 3, 2, 1])
    write_word2vec(vectors, folder / "v.txt")
    write_word2vec(vectors, folder / "v.bin", binary=True)
    args = default_args(4) | {"bucket": 7, "minn": 1, "maxn": 3}
    model = FastTextModel(
        args,
        Vocabulary.from_words(words, [5, 4, 3, 2, 1]),
        rng.normal(size=(12, 4)).astype(np.float32),
        rng.normal(size=(5, 4)).astype(np.float32),
        ntokens=15,
    )
    write_fasttext_bin(model, folder / "m.bin")
    return {name: (folder / name).read_bytes() for name in ("v.txt", "v.bin", "m.bin")}


@pytest.fixture(scope="module")
def valid(tmp_path_factory):
    return _valid_files(tmp_path_factory.mktemp("valid"))


def _read_all_ways(path):
    for read in (
        lambda: read_word2vec(path),
        lambda: read_word2vec(path, binary=True),
        lambda: read_word2vec(path, binary=False, unicode_errors="strict"),
        lambda: read_fasttext_bin(path).vectors()["zürich"],
        lambda: load_model(path),
    ):
        try:
            read()
        except ModelFileError as exc:
            assert str(path) in str(exc)


mutation = st.tuples(
    st.sampled_from(["v.txt", "v.bin", "m.bin"]),
    st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=6),
    st.integers(0, 10_000),
)


@FUZZ
@given(mutation)
def test_mutated_model_files_never_crash_the_readers(valid, tmp_path, case):
    name, flips, cut = case
    data = bytearray(valid[name])
    for position, value in flips:
        data[position % len(data)] = value
    path = tmp_path / name
    path.write_bytes(bytes(data[: max(1, len(data) - cut % len(data))]))
    _read_all_ways(path)


@FUZZ
@given(st.binary(max_size=600))
def test_random_bytes_never_crash_the_readers(tmp_path, data):
    path = tmp_path / "random.bin"
    path.write_bytes(data)
    _read_all_ways(path)


def test_a_lying_fasttext_header_is_refused_before_allocating(valid, tmp_path):
    data = bytearray(valid["m.bin"])
    data[64:68] = (2**31 - 1).to_bytes(4, "little")
    data[68:72] = (2**31 - 1).to_bytes(4, "little")
    data[72:76] = (0).to_bytes(4, "little")
    (tmp_path / "lie.bin").write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="more than the file can hold"):
        read_fasttext_bin(tmp_path / "lie.bin")
