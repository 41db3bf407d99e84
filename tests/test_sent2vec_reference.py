"""A model trained by the reference sent2vec (epfml/sent2vec, tests/fixtures/sent2vec/) loads
and embeds sentences exactly as the reference does: its Python wrapper's vectors bit for
bit, its print-sentence-vectors output byte for byte, its word vectors too."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from wordspace.errors import ModelFileError, ParameterError
from wordspace.formats import convert, load_model
from wordspace.formats.fasttext import read_fasttext_bin, write_fasttext_bin
from wordspace.kernels.prediction_lines import vector_lines
from wordspace.sentences import SentenceEmbedder, format_vectors

FIXTURES = Path(__file__).parent / "fixtures" / "sent2vec"
MODEL = FIXTURES / "model.bin"


def _lines(name: str) -> list[str]:
    return (FIXTURES / name).read_text(encoding="utf-8").split("\n")[:-1]


def _reference(name: str) -> np.ndarray:
    return np.loadtxt(FIXTURES / name, dtype=np.float32, ndmin=2)


@pytest.fixture(scope="module")
def embedder() -> SentenceEmbedder:
    return SentenceEmbedder(load_model(MODEL))


def test_the_reference_model_loads_with_its_layout():
    model = load_model(MODEL)
    assert model.is_sent2vec and model.version == 11
    assert model.words.words[0] == "<PLACEHOLDER>" and model.nwords == 394
    # the file holds nwords + bucket + 1 input rows; the unused last one is left out
    assert model.input.shape == (394 + 2000, 10)
    assert model.output.shape == (394, 10)


def test_sentences_embed_as_the_references_embed_sentences_bit_for_bit(embedder):
    got = embedder.embed(_lines("sentences.txt"))
    np.testing.assert_array_equal(got, _reference("vectors_full.txt"))


def test_a_words_embedding_is_its_row_and_unknown_words_give_zeros(embedder):
    np.testing.assert_array_equal(
        embedder.embed(_lines("words.txt")), _reference("word_embed_full.txt")
    )


def test_word_vectors_are_the_references_print_word_vectors():
    vectors = load_model(MODEL).vectors()
    got = np.array([vectors[word] for word in _lines("words.txt")])
    np.testing.assert_array_equal(got, _reference("word_vectors_full.txt"))


def test_token_lists_embed_as_their_joined_string(embedder):
    tokens = [["the", "state", "xyzzy", "of", "alabama"], ["lincoln"], []]
    strings = ["the state xyzzy of alabama", "lincoln", ""]
    np.testing.assert_array_equal(embedder.embed(tokens), embedder.embed(strings))
    assert not embedder.embed([[]]).any()


def test_bad_sentences_and_models_are_refused_in_one_line(embedder, tmp_path):
    with pytest.raises(ParameterError, match="newline"):
        embedder.embed(["the state\nof alabama"])
    with pytest.raises(ParameterError, match="whitespace"):
        embedder.embed([["the state"]])
    assert embedder.embed([]).shape == (0, 10)
    with pytest.raises(ModelFileError, match="cannot embed"):
        SentenceEmbedder(object())


def _patched(tmp_path: Path, offset: int, value: int) -> Path:
    data = bytearray(MODEL.read_bytes())
    data[offset : offset + 4] = value.to_bytes(4, "little", signed=True)
    path = tmp_path / "patched.bin"
    path.write_bytes(bytes(data))
    return path


def test_a_cbow_char_word_model_and_a_wrong_matrix_are_refused(tmp_path):
    with pytest.raises(ModelFileError, match="model 5") as info:
        read_fasttext_bin(_patched(tmp_path, 8 + 7 * 4, 5))
    assert "\n" not in str(info.value)
    with pytest.raises(ModelFileError, match="input matrix has 2,395 rows"):
        read_fasttext_bin(_patched(tmp_path, 8 + 8 * 4, 1000))  # bucket 2000 -> 1000


def test_a_native_folder_and_a_written_bin_embed_the_same(embedder, tmp_path):
    convert(MODEL, tmp_path / "native")
    native = load_model(tmp_path / "native")
    assert native.is_sent2vec and isinstance(native.input, np.memmap)
    sentences = _lines("sentences.txt")
    expected = _reference("vectors_full.txt")
    np.testing.assert_array_equal(SentenceEmbedder(native).embed(sentences), expected)
    write_fasttext_bin(load_model(MODEL), tmp_path / "again.bin")
    again = read_fasttext_bin(tmp_path / "again.bin")
    assert again.version == 11  # the only version the reference reads
    np.testing.assert_array_equal(SentenceEmbedder(again).embed(sentences), expected)


def _cli(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "wordspace", *args], input=stdin, capture_output=True, check=False
    )


def test_the_cli_prints_the_references_vectors_one_line_per_sentence(tmp_path):
    result = _cli("embed", str(MODEL), str(FIXTURES / "sentences.txt"))
    assert result.returncode == 0, result.stderr
    ours = result.stdout.split(b"\n")[:-1]
    theirs = (FIXTURES / "vectors.txt").read_bytes().split(b"\n")[:-1]
    assert len(ours) == 43  # the reference's CLI prints 45: it splits at a literal </s>
    # lines 1-34 align one to one; after the split, reference line 36+k is sentence 34+k
    assert ours[:34] == theirs[:34]
    assert ours[36:] == theirs[38:]
    assert b"embedded 43 lines (7 without known words" in result.stderr
    npy = tmp_path / "s.npy"
    result = _cli("embed", str(MODEL), "-", "-f", "npy", "-o", str(npy), stdin=b"the state\n\n")
    assert result.returncode == 0, result.stderr
    matrix = np.load(npy)
    np.testing.assert_array_equal(
        matrix, SentenceEmbedder(load_model(MODEL)).embed(["the state", ""])
    )


def test_the_cli_refuses_npy_without_a_file_and_a_classifier(tmp_path):
    result = _cli("embed", str(MODEL), "-f", "npy", stdin=b"the\n")
    assert result.returncode == 2 and b"-o" in result.stderr
    assert len(result.stderr.strip().split(b"\n")) == 1


def test_compiled_vector_lines_equal_pythons_five_significant_digits():
    rng = np.random.default_rng(3)
    values = np.concatenate([
        rng.normal(0, 1, 60_000), rng.normal(0, 1e-3, 20_000), [0.0, -0.0, 1e-5, -1e-5, 12345.6],
        10.0 ** rng.uniform(-8, 4, 20_000) * rng.choice([-1, 1], 20_000),
    ]).astype(np.float32)  # fmt: skip
    matrix = values[: len(values) // 5 * 5].reshape(-1, 5)
    left = 0
    for block in range(0, len(matrix), 500):
        part = matrix[block : block + 500]
        text, _, left_out = vector_lines(part, 5)
        lines = ["".join(f"{v:.5g} " for v in row) + "\n" for row in part.tolist()]
        kept = "".join(line for line, out in zip(lines, left_out, strict=True) if not out)
        assert text.tobytes() == kept.encode()
        assert format_vectors(part) == "".join(lines).encode()
        left += int(left_out.sum())
    assert left <= 20


def test_an_existing_output_is_refused_before_the_model_is_read(tmp_path):
    taken = tmp_path / "taken.npy"
    taken.write_bytes(b"keep me")
    result = _cli("embed", str(tmp_path / "missing.bin"), "-f", "npy", "-o", str(taken))
    assert result.returncode == 2 and b"already exists" in result.stderr
    assert taken.read_bytes() == b"keep me"
