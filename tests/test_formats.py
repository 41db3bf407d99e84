"""File formats: the native folder, and word2vec text/binary against gensim and the C tool."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from wordspace import ModelFileError, OutputError, Vectors, Word2Vec, export, load
from wordspace.formats.native import load_vectors, save_vectors
from wordspace.formats.word2vec import read_word2vec, write_word2vec

WORD2VEC_C = Path(sys.executable).parent / "word2vec"


@pytest.fixture(scope="module")
def trained(enwiki_lines):
    return Word2Vec(dim=24, epochs=1, workers=2, min_count=3).fit(enwiki_lines(1500))


def test_native_save_and_load_round_trips_memory_mapped(trained, tmp_path):
    trained.save(tmp_path / "model")
    loaded = load(tmp_path / "model")
    assert isinstance(loaded.matrix, np.memmap)
    np.testing.assert_array_equal(loaded.matrix, trained.vectors.matrix)
    assert loaded.words == trained.vectors.words
    np.testing.assert_array_equal(loaded.counts, trained.vectors.counts)
    assert loaded.vocab.index("the") == trained.vectors.vocab.index("the")


def test_verify_detects_a_corrupted_array(trained, tmp_path):
    save_vectors(trained.vectors, tmp_path / "m")
    load_vectors(tmp_path / "m", verify=True)
    data = bytearray((tmp_path / "m" / "vectors.npy").read_bytes())
    data[-7] ^= 0xFF
    (tmp_path / "m" / "vectors.npy").write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="checksum"):
        load_vectors(tmp_path / "m", verify=True)


def test_saving_never_replaces_a_folder_that_is_not_a_model(trained, tmp_path):
    precious = tmp_path / "data"
    precious.mkdir()
    (precious / "thesis.tex").write_text("years of work")
    with pytest.raises(OutputError, match="not a model"):
        save_vectors(trained.vectors, precious)
    assert (precious / "thesis.tex").read_text() == "years of work"


def test_text_export_is_read_by_gensim(trained, tmp_path):
    from gensim.models import KeyedVectors

    export(trained.vectors, tmp_path / "v.txt", "word2vec-txt")
    kv = KeyedVectors.load_word2vec_format(str(tmp_path / "v.txt"), binary=False)
    assert list(kv.index_to_key) == trained.vectors.words
    assert np.abs(kv.vectors - trained.vectors.matrix).max() <= 1e-6


def test_binary_export_is_read_by_gensim_exactly(trained, tmp_path):
    from gensim.models import KeyedVectors

    export(trained.vectors, tmp_path / "v.bin", "word2vec-bin")
    kv = KeyedVectors.load_word2vec_format(str(tmp_path / "v.bin"), binary=True)
    assert list(kv.index_to_key) == trained.vectors.words
    np.testing.assert_array_equal(kv.vectors, trained.vectors.matrix)


@pytest.fixture(scope="module")
def gensim_files(enwiki_lines, tmp_path_factory):
    from gensim.models import Word2Vec as GensimWord2Vec

    folder = tmp_path_factory.mktemp("gensim")
    model = GensimWord2Vec(
        corpus_file=str(enwiki_lines(1500)), vector_size=16, min_count=3, epochs=1, workers=1
    )
    model.wv.save_word2vec_format(str(folder / "g.txt"), binary=False)
    model.wv.save_word2vec_format(str(folder / "g.bin"), binary=True)
    return model.wv, folder


@pytest.mark.parametrize("name", ["g.txt", "g.bin"])
def test_reads_files_written_by_gensim(gensim_files, name):
    kv, folder = gensim_files
    vectors = load(folder / name)
    assert vectors.words == list(kv.index_to_key)
    assert np.abs(vectors.matrix - kv.vectors).max() <= 1e-6


def test_limit_reads_only_the_first_words(gensim_files):
    kv, folder = gensim_files
    for name in ("g.txt", "g.bin"):
        vectors = read_word2vec(folder / name, limit=10)
        assert vectors.words == list(kv.index_to_key[:10])


@pytest.fixture(scope="module")
def c_tool_files(enwiki_lines, tmp_path_factory):
    if not WORD2VEC_C.exists():
        pytest.skip("the word2vec C tool (PyPI package word2vec) is not installed")
    folder = tmp_path_factory.mktemp("c")
    for binary in (0, 1):
        subprocess.run(
            [str(WORD2VEC_C), "-train", str(enwiki_lines(1500)), "-output",
             str(folder / f"c{binary}"), "-size", "16", "-min-count", "3", "-iter", "1",
             "-threads", "1", "-binary", str(binary)],
            check=True, capture_output=True,
        )  # fmt: skip
    return folder


def test_reads_c_tool_text_and_binary_alike(c_tool_files):
    text = load(c_tool_files / "c0")
    binary = read_word2vec(c_tool_files / "c1")
    assert text.words == binary.words and text.words[0] == "</s>"
    assert np.abs(text.matrix - binary.matrix).max() <= 1e-6


def test_text_writer_matches_the_c_tool_byte_for_byte(c_tool_files, tmp_path):
    # The C tool's own text output ("%lf " per value) is the reference layout.
    ours = tmp_path / "ours.txt"
    c_text = c_tool_files / "c0"
    write_word2vec(read_word2vec(c_tool_files / "c1"), ours)
    assert ours.read_bytes() == c_text.read_bytes()


def test_binary_writer_matches_the_c_tool_byte_for_byte(c_tool_files, tmp_path):
    ours = tmp_path / "ours.bin"
    write_word2vec(read_word2vec(c_tool_files / "c1"), ours, binary=True)
    assert ours.read_bytes() == (c_tool_files / "c1").read_bytes()


def test_reader_tolerates_crlf_trailing_blanks_and_blank_lines(tmp_path):
    path = tmp_path / "v.txt"
    path.write_bytes(b"2 3\r\nfoo 1 2 3 \r\n\r\nbar -1.5e-1 0.25 +3\r\n")
    vectors = read_word2vec(path)
    assert vectors.words == ["foo", "bar"]
    np.testing.assert_allclose(vectors.matrix, [[1, 2, 3], [-0.15, 0.25, 3]])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"3 2\na 1 2\nb 3 4\n", "promises 3 words"),
        (b"3 2\na 1 2\nb 3 4\nc 5\n", "file ends early"),
        (b"1000000000 300\na 1 2\n", "can hold at most 0"),
        (b"1 2\na 1 x\n", "not a number"),
        (b"1 2\na 1 2 3\n", "more than the header's 2 values"),
        (b"1 2\na nan 2\n", "NaN"),
        (b"hello world\n", "not 'count dim'"),
        (b"", "empty"),
    ],
)
def test_corrupt_word2vec_files_give_errors_naming_the_file(tmp_path, content, message):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(ModelFileError, match=message) as info:
        read_word2vec(path, binary=False)
    assert str(path) in str(info.value)


def test_truncated_binary_file_is_refused(trained, tmp_path):
    export(trained.vectors, tmp_path / "v.bin", "word2vec-bin")
    data = (tmp_path / "v.bin").read_bytes()
    (tmp_path / "cut.bin").write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match=r"ends early|can hold at most"):
        read_word2vec(tmp_path / "cut.bin", binary=True)


def test_words_with_invalid_utf8_follow_the_unicode_errors_policy(tmp_path):
    path = tmp_path / "v.bin"
    rows = np.ones((1, 2), dtype="<f4").tobytes()
    path.write_bytes(b"1 2\ncaf\xe9 " + rows)
    assert read_word2vec(path, binary=True).words == ["caf\ufffd"]
    assert read_word2vec(path, binary=True, unicode_errors="ignore").words == ["caf"]
    with pytest.raises(ModelFileError, match="not valid UTF-8"):
        read_word2vec(path, binary=True, unicode_errors="strict")


def test_vectors_from_words_round_trip_through_text(tmp_path):
    vectors = Vectors.from_words(["日本", "é"], np.array([[0.5, -0.25], [1e-7, 3.0]]))
    write_word2vec(vectors, tmp_path / "v.txt")
    back = read_word2vec(tmp_path / "v.txt")
    assert back.words == ["日本", "é"]
    np.testing.assert_allclose(back.matrix, [[0.5, -0.25], [0.0, 3.0]])


def test_a_corrupt_vocabulary_index_is_refused_not_followed(trained, tmp_path):
    save_vectors(trained.vectors, tmp_path / "m")
    index = np.load(tmp_path / "m" / "vocab_index.npy")
    index[index >= 0] += 10**6
    np.save(tmp_path / "m" / "vocab_index.npy", index)
    with pytest.raises(ModelFileError, match="inconsistent"):
        load(tmp_path / "m")


def test_loading_a_native_model_builds_no_python_word_list(trained, tmp_path):
    save_vectors(trained.vectors, tmp_path / "m")
    vectors = load(tmp_path / "m")
    assert "words" not in vectors.vocab.__dict__
    assert vectors.vocab.index("the") == trained.vectors.vocab.index("the")
    assert "words" not in vectors.vocab.__dict__
