"""The wordspace command, run as a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from .conftest import QUESTIONS, WORDSIM, require


def wordspace(*args, stdin=None):
    return subprocess.run(
        [sys.executable, "-m", "wordspace.cli", *map(str, args)],
        capture_output=True,
        text=True,
        input=stdin,
    )


@pytest.fixture(scope="module")
def model(enwiki_lines, tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "model"
    result = wordspace(
        "train", "skipgram", enwiki_lines(3000), "-o", out, "--dim", "32",
        "--epochs", "2", "--min-count", "3", "--json", "--quiet",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return out, json.loads(result.stdout)


def test_train_json_reports_figures_and_saves_a_model(model):
    out, report = model
    assert report["vocab_size"] > 1000
    assert report["trained_words"] > 100_000
    assert report["words_per_second"] > 0
    assert len(report["epoch_losses"]) == 2
    assert (out / "meta.json").exists()


def test_progress_goes_to_stderr_as_log_lines_when_not_a_terminal(enwiki_lines, tmp_path):
    result = wordspace("train", "cbow", enwiki_lines(1000), "-o", tmp_path / "m", "--epochs", "1")
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("wordspace: epoch")]
    assert lines and "words/s" in lines[-1] and "loss" in lines[-1] and "100.0%" in lines[-1]
    assert result.stdout == ""


def test_training_from_stdin(tmp_path):
    text = "the quick brown fox jumps over the lazy dog\n" * 200
    result = wordspace("train", "cbow", "-", "-o", tmp_path / "m", "--quiet", stdin=text)
    assert result.returncode == 0, result.stderr
    info = json.loads(wordspace("info", tmp_path / "m", "--json").stdout)
    assert info["vocab_size"] == 8


def test_info_neighbors_and_analogy(model):
    out, _ = model
    info = json.loads(wordspace("info", out, "--json").stdout)
    assert info["dim"] == 32 and info["config"]["architecture"] == "skipgram"
    result = wordspace("neighbors", out, "the", "-k", "3", "--json")
    assert len(json.loads(result.stdout)["neighbors"]) == 3
    result = wordspace("analogy", out, "he", "his", "she", "-k", "2")
    assert result.returncode == 0 and len(result.stdout.splitlines()) == 2


def test_eval_commands_print_one_json_object(model):
    out, _ = model
    analogy = wordspace("eval", "analogy", out, require(QUESTIONS), "--json")
    assert analogy.returncode == 0, analogy.stderr
    document = json.loads(analogy.stdout)
    assert document["answered"] + document["oov_questions"] == 19544
    assert len(document["sections"]) == 14
    pairs = require(WORDSIM / "EN-WS-353-ALL.txt")
    similarity = json.loads(wordspace("eval", "similarity", out, pairs, "--json").stdout)
    assert similarity["pairs"] + similarity["oov_pairs"] == 353


def test_export_word2vec_text_is_read_by_gensim(model, tmp_path):
    from gensim.models import KeyedVectors

    out, _ = model
    result = wordspace("export", out, tmp_path / "v.txt", "--format", "word2vec-txt")
    assert result.returncode == 0, result.stderr
    kv = KeyedVectors.load_word2vec_format(str(tmp_path / "v.txt"))
    original = np.load(out / "vectors.npy")
    assert np.abs(kv.vectors - original).max() <= 1e-6


def _assert_one_line_error(result, *fragments):
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    for fragment in fragments:
        assert fragment in lines[0]
    assert result.stdout == ""


@pytest.fixture
def bad_inputs(tmp_path):
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "rare.txt").write_text("alpha beta gamma alpha\n")
    garbage = np.random.default_rng(1).integers(0, 256, 100_000, dtype=np.uint8)
    (tmp_path / "garbage.bin").write_bytes(garbage.tobytes())
    return tmp_path


@pytest.mark.parametrize(
    ("name", "fragments"),
    [
        ("empty.txt", ["empty.txt", "no text"]),
        ("rare.txt", ["rare.txt", "vocabulary is empty", "min_count=5"]),
        ("garbage.bin", ["garbage.bin", "binary"]),
        ("missing.txt", ["missing.txt", "no such file"]),
    ],
)
def test_bad_input_files_exit_2_with_one_line(bad_inputs, name, fragments):
    result = wordspace("train", "skipgram", bad_inputs / name, "-o", bad_inputs / "m")
    _assert_one_line_error(result, *fragments)
    assert not (bad_inputs / "m").exists()


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        (["--dim", "0"], "dim"),
        (["--window", "-1"], "window"),
        (["--negative", "0"], "negative"),
        (["--loss", "ova"], "loss"),
        (["--epochs", "0"], "epochs"),
        (["--sample", "-1"], "sample"),
        (["--dim", "ten"], "dim"),
    ],
)
def test_nonsense_parameters_exit_2_with_one_line(enwiki_lines, tmp_path, options, fragment):
    result = wordspace("train", "skipgram", enwiki_lines(1000), "-o", tmp_path / "m", *options)
    _assert_one_line_error(result, fragment)


def test_negative_zero_is_fine_with_hierarchical_softmax(tmp_path):
    text = "a b c d e f g\n" * 100
    result = wordspace(
        "train", "skipgram", "-", "-o", tmp_path / "m", "--loss", "hs", "--negative", "0",
        "--quiet", stdin=text,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


def test_unknown_word_and_missing_model_are_one_line_errors(model, tmp_path):
    out, _ = model
    _assert_one_line_error(wordspace("neighbors", out, "qwxzzy"), "qwxzzy")
    _assert_one_line_error(wordspace("info", tmp_path / "nothing"), "nothing")


def test_output_that_is_not_a_model_is_refused_before_training(tmp_path):
    (tmp_path / "notes.txt").write_text("keep me")
    result = wordspace("train", "cbow", "-", "-o", tmp_path / "notes.txt", stdin="a b\n" * 50)
    _assert_one_line_error(result, "notes.txt")
    assert (tmp_path / "notes.txt").read_text() == "keep me"


def test_convert_between_every_format_keeps_the_vectors(model, tmp_path):
    out, _ = model
    original = np.load(out / "vectors.npy")
    chain = [
        ("v.bin", "word2vec-bin", []),
        ("v.txt", "word2vec-txt", []),
        ("m.bin", "fasttext-bin", ["--to", "fasttext-bin"]),
        ("m.vec", "fasttext-vec", []),
        ("again", "native", []),
    ]
    source = out
    for name, fmt, options in chain:
        result = wordspace("convert", source, tmp_path / name, *options)
        assert result.returncode == 0, result.stderr
        assert f"({fmt})" in result.stderr
        info = json.loads(wordspace("info", tmp_path / name, "--json").stdout)
        assert info["vocab_size"] == original.shape[0]
        source = tmp_path / name
    final = np.load(tmp_path / "again" / "vectors.npy")
    assert np.abs(final - original).max() <= 2e-6


def test_convert_limit_and_explicit_formats(model, tmp_path):
    out, _ = model
    result = wordspace("convert", out, tmp_path / "top", "--to", "word2vec-txt", "--limit", "100")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "top").read_text().split("\n", 1)[0] == "100 32"
    _assert_one_line_error(wordspace("convert", out, tmp_path / "x", "--to", "parquet"), "parquet")


def test_info_names_what_kind_of_model_each_file_holds(model, tmp_path):
    """A native folder's ``kind`` is "fasttext" for subword, sent2vec and classifier models
    alike; ``info`` tells them apart (it called a sent2vec model fasttext)."""
    from .test_sent2vec_reference import FIXTURES

    out, _ = model
    labelled = tmp_path / "labelled.txt"
    labelled.write_text("__label__a one two\n__label__b three four\n" * 5, encoding="utf-8")
    classifier = tmp_path / "classifier"
    trained = wordspace("train", "supervised", labelled, "-o", classifier, "--dim", "4", "-q")
    assert trained.returncode == 0, trained.stderr
    sent2vec = tmp_path / "sent2vec"
    assert wordspace("convert", FIXTURES / "model.bin", sent2vec).returncode == 0
    assert wordspace("convert", out, tmp_path / "v.txt").returncode == 0
    expected = {
        out: "word2vec",
        classifier: "classifier",
        FIXTURES / "model.bin": "sent2vec",
        sent2vec: "sent2vec",
        tmp_path / "v.txt": "vectors",
    }
    for path, kind in expected.items():
        result = wordspace("info", path, "--json")
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["type"] == kind, path
