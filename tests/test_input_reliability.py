"""Hostile training and evaluation input: every anticipated failure is one InputError or
ParameterError naming the file, line or parameter; nothing hangs, traces back or is skipped
without a word."""

from __future__ import annotations

import errno
import glob
import io
import math
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from wordspace import Vectors
from wordspace.errors import InputError, ParameterError
from wordspace.evaluate import evaluate_analogies, evaluate_similarity, spearman
from wordspace.subwords import CharNgrams
from wordspace.text import encoder, reader
from wordspace.text.reader import read_corpus
from wordspace.text.sources import resolve_sources
from wordspace.vocab import Vocabulary

from .conftest import finishes

TEXT = b"the cat sat on the mat\nthe dog sat\n"
AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def counts_of(spec) -> dict[str, int]:
    vocab, _, _ = read_corpus(spec, min_count=1)
    return dict(zip(vocab.words, vocab.counts.tolist(), strict=True))


def paths_of(spec) -> list[str]:
    return [source.path for source in resolve_sources(spec)]


def bytes_stdin(data: bytes) -> io.TextIOWrapper:
    return io.TextIOWrapper(io.BufferedReader(io.BytesIO(data)))


# 1. stdin


def test_closed_stdin_is_an_input_error(monkeypatch):
    monkeypatch.setattr(sys, "stdin", None)
    with pytest.raises(InputError, match=r"^<stdin>: stdin is closed"):
        read_corpus("-", min_count=1)


def test_train_with_stdin_closed_prints_one_line_and_exits_2(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "wordspace.cli", "train", "skipgram", "-", "-o", "model"],
        cwd=tmp_path,
        preexec_fn=lambda: os.close(0),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        "error: <stdin>: stdin is closed (or gives no bytes); pipe text into the command or "
        "give a file"
    ]


def test_open_empty_stdin_still_says_there_is_no_text(monkeypatch):
    monkeypatch.setattr(sys, "stdin", bytes_stdin(b""))
    with pytest.raises(InputError, match="no text to train on"):
        read_corpus("-", min_count=1)


def test_stdin_named_twice_is_read_once_instead_of_failing_on_a_closed_file(monkeypatch):
    monkeypatch.setattr(sys, "stdin", bytes_stdin(TEXT))
    assert counts_of([Path("-"), Path("-")])["the"] == 3


def test_a_non_blocking_stdin_with_no_data_ready_is_an_error_not_the_end(monkeypatch):
    read_end, write_end = os.pipe()
    os.set_blocking(read_end, False)
    os.write(write_end, TEXT)
    with open(read_end, "rb", buffering=0, closefd=True) as raw:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(raw)))
        try:
            with pytest.raises(InputError, match=r"^<stdin>: cannot read"):
                read_corpus("-", min_count=1)
        finally:
            os.close(write_end)


# 2. read errors


@pytest.mark.skipif(not os.path.exists("/proc/self/mem"), reason="needs Linux /proc")
def test_a_read_error_after_opening_is_an_input_error_naming_the_source():
    with pytest.raises(InputError, match=r"^/proc/self/mem: cannot read \(Input/output error\)"):
        read_corpus("/proc/self/mem", min_count=1)


def test_an_os_error_in_the_middle_of_a_file_names_the_file(tmp_path, monkeypatch):
    path = tmp_path / "a.txt"
    path.write_bytes(TEXT)

    def failing(stream, view):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(encoder, "_fill", failing)
    with pytest.raises(InputError, match=r"a\.txt: cannot read \(Input/output error\)$"):
        read_corpus(path, min_count=1)


# 3. linked folders


def test_linked_subfolders_are_followed_once_and_link_cycles_end(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_bytes(b"alpha\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "b.txt").write_bytes(b"beta\n")
    (corpus / "again").symlink_to(outside, target_is_directory=True)
    (corpus / "linked").symlink_to(outside, target_is_directory=True)
    (corpus / "loop").symlink_to(corpus, target_is_directory=True)
    assert finishes(lambda: paths_of(corpus)) == [
        str(corpus / "a.txt"),
        str(corpus / "again" / "b.txt"),
    ]
    assert counts_of(corpus) == {"alpha": 1, "beta": 1}


def test_a_folder_symlink_loop_given_as_the_input_says_so(tmp_path):
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    with pytest.raises(InputError, match=r"loop: cannot read \(Too many levels of symbolic"):
        resolve_sources(loop)


def test_a_broken_symbolic_link_is_named_as_one(tmp_path):
    (tmp_path / "a.txt").write_bytes(TEXT)
    (tmp_path / "b.txt").symlink_to(tmp_path / "gone.txt")
    with pytest.raises(InputError, match=r"b\.txt: is a broken symbolic link$"):
        resolve_sources(tmp_path)
    with pytest.raises(InputError, match=r"b\.txt: is a broken symbolic link$"):
        resolve_sources(tmp_path / "b.txt")


# 4. pipes, sockets and devices


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _socket(path: Path) -> None:
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.close()


def _device(path: Path) -> None:
    path.symlink_to("/dev/null")


@pytest.mark.parametrize(
    ("make", "kind"),
    [(_fifo, r"named pipe \(FIFO\)"), (_socket, "socket"), (_device, "character device")],
    ids=["fifo", "socket", "device"],
)
def test_a_pipe_socket_or_device_inside_a_folder_is_refused_naming_it(tmp_path, make, kind):
    (tmp_path / "a.txt").write_bytes(TEXT)
    make(tmp_path / "b.txt")
    with pytest.raises(InputError, match=rf"b\.txt: is a {kind}, not a regular file"):
        finishes(lambda: read_corpus(tmp_path, min_count=1))


def test_a_pattern_matching_a_fifo_refuses_it(tmp_path):
    (tmp_path / "a.txt").write_bytes(TEXT)
    os.mkfifo(tmp_path / "b.txt")
    with pytest.raises(InputError, match=r"b\.txt: is a named pipe \(FIFO\)"):
        finishes(lambda: resolve_sources(str(tmp_path / "*.txt")))


def test_a_fifo_given_as_the_input_path_is_read_like_stdin(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_bytes(TEXT), daemon=True)
    writer.start()
    assert finishes(lambda: counts_of(fifo))["the"] == 3
    writer.join(5)


def test_a_socket_given_as_the_input_path_is_refused(tmp_path):
    _socket(tmp_path / "s")
    with pytest.raises(InputError, match=r"s: is a socket"):
        resolve_sources(tmp_path / "s")


# 7. other hostile input


def test_a_recursive_pattern_ends_in_a_folder_that_links_to_itself_twice(tmp_path):
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "f.txt").write_bytes(b"word\n")
    (folder / "l1").symlink_to(".")
    (folder / "l2").symlink_to(".")
    assert finishes(lambda: paths_of(str(tmp_path / "**" / "*.txt"))) == [str(folder / "f.txt")]


@pytest.mark.parametrize(
    "pattern",
    ["*.txt", "**/*.txt", "**", "*/*.txt", "s*/**/*.txt", "sub/*", ".h*/*", "x*/a.txt", "*/"],
)
def test_patterns_match_what_glob_matches_in_a_tree_without_links(tmp_path, pattern):
    for name in ["a.txt", "b.log", "sub/c.txt", "sub/deep/d.txt", ".hidden/e.txt", "sub/.f.txt"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"word\n")
    spec = str(tmp_path / pattern)
    expected = sorted(
        m
        for m in glob.glob(spec, recursive=True)
        if os.path.isfile(m) and not os.path.basename(m).startswith(".")
    )
    if expected:
        assert paths_of(spec) == expected
    else:
        with pytest.raises(InputError, match="pattern matches no files"):
            resolve_sources(spec)


def test_a_path_holding_a_nul_character_is_an_input_error():
    with pytest.raises(InputError, match="NUL character"):
        read_corpus("a\0b.txt", min_count=1)


@pytest.mark.skipif(AS_ROOT, reason="root reads files whatever their permissions")
def test_an_unreadable_subfolder_is_an_error_not_skipped(tmp_path):
    (tmp_path / "a.txt").write_bytes(TEXT)
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "b.txt").write_bytes(TEXT)
    locked.chmod(0)
    try:
        with pytest.raises(InputError, match=r"locked: cannot list the folder \(Permission"):
            resolve_sources(tmp_path)
    finally:
        locked.chmod(0o700)


def test_a_subfolder_that_cannot_be_listed_is_an_error_not_skipped(tmp_path, monkeypatch):
    (tmp_path / "a.txt").write_bytes(TEXT)
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "b.txt").write_bytes(TEXT)
    scandir = os.scandir

    def refusing(path="."):
        if os.path.basename(os.fspath(path)) == "locked":
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))
        return scandir(path)

    monkeypatch.setattr(os, "scandir", refusing)
    with pytest.raises(InputError, match=r"locked: cannot list the folder \(Permission"):
        resolve_sources(tmp_path)
    with pytest.raises(InputError, match=r"locked: cannot list the folder \(Permission"):
        resolve_sources(str(tmp_path / "**" / "*.txt"))


@pytest.mark.skipif(AS_ROOT, reason="root reads files whatever their permissions")
def test_an_unreadable_file_in_a_folder_is_named(tmp_path):
    (tmp_path / "a.txt").write_bytes(TEXT)
    (tmp_path / "b.txt").write_bytes(TEXT)
    (tmp_path / "b.txt").chmod(0)
    with pytest.raises(InputError, match=r"b\.txt: cannot open \(Permission denied\)"):
        read_corpus(tmp_path, min_count=1)


def test_a_file_that_vanishes_between_listing_and_opening_is_named(tmp_path, monkeypatch):
    (tmp_path / "a.txt").write_bytes(TEXT)
    (tmp_path / "b.txt").write_bytes(TEXT)

    def listing_then_removal(spec):
        found = resolve_sources(spec)
        (tmp_path / "b.txt").unlink()
        return found

    monkeypatch.setattr(reader, "resolve_sources", listing_then_removal)
    with pytest.raises(InputError, match=r"b\.txt: cannot open \(No such file or directory\)"):
        read_corpus(tmp_path, min_count=1)


def test_a_token_longer_than_the_bound_is_refused_naming_its_line(tmp_path, monkeypatch):
    monkeypatch.setattr(encoder, "MAX_TOKEN_BYTES", 1 << 20, raising=False)
    path = tmp_path / "big.txt"
    path.write_bytes(b"a b\nc d\n" + b"x" * (17 << 20) + b"\nend\n")
    with pytest.raises(InputError, match=r"big\.txt:3: holds a token .* more than 1 MiB"):
        read_corpus(path, min_count=1)


def test_a_long_token_within_the_bound_is_read_whole(tmp_path):
    path = tmp_path / "long.txt"
    path.write_bytes(b"short\n" + b"y" * (17 << 20) + b"\nshort\n")
    vocab, corpus, _ = read_corpus(path, min_count=1)
    assert sorted(len(word) for word in vocab.words) == [5, 17 << 20]
    assert corpus.n_tokens == 3


def test_evaluation_files_beyond_the_size_bound_are_refused(tmp_path, monkeypatch):
    from wordspace import evaluate

    monkeypatch.setattr(evaluate, "MAX_EVALUATION_BYTES", 1 << 16, raising=False)
    vectors, _ = planted_vectors(tmp_path)
    with pytest.raises(InputError, match=r"^/dev/zero: is larger than"):
        finishes(lambda: evaluate_analogies(vectors, "/dev/zero"))


def test_an_evaluation_file_that_is_a_folder_is_an_input_error(tmp_path):
    vectors, _ = planted_vectors(tmp_path)
    with pytest.raises(InputError, match=r"cannot read \(Is a directory\)"):
        evaluate_similarity(vectors, tmp_path)


# 5. evaluation parameters and files


def planted_vectors(tmp_path: Path) -> tuple[Vectors, Path]:
    rng = np.random.default_rng(9)
    words = ["man", "king", "woman", "queen", "paris", "france", "rome", "italy"]
    vectors = Vectors.from_words(words, rng.normal(size=(len(words), 16)).astype(np.float32))
    questions = tmp_path / "questions.txt"
    questions.write_text(": family\nman king woman queen\n: capitals\nparis france rome italy\n")
    return vectors, questions


@pytest.mark.parametrize("restrict", [0, -5, 2.5, True, "10"])
def test_restrict_vocab_must_be_a_positive_whole_number(tmp_path, restrict):
    vectors, questions = planted_vectors(tmp_path)
    with pytest.raises(ParameterError, match=r"^restrict_vocab \(--restrict\) must be"):
        evaluate_analogies(vectors, questions, restrict_vocab=restrict)


@pytest.mark.parametrize(("name", "value"), [("method", "sub"), ("batch_size", 0)])
def test_analogy_method_and_batch_size_are_checked(tmp_path, name, value):
    vectors, questions = planted_vectors(tmp_path)
    with pytest.raises(ParameterError, match=rf"^{name} must be"):
        evaluate_analogies(vectors, questions, **{name: value})


@pytest.mark.parametrize("score", ["nan", "inf", "-Infinity"])
def test_non_finite_human_scores_are_refused_naming_the_line(tmp_path, score):
    vectors, _ = planted_vectors(tmp_path)
    pairs = tmp_path / "pairs.txt"
    pairs.write_text(f"man\twoman\t5\nking\tqueen\t{score}\n")
    with pytest.raises(InputError, match=rf"pairs\.txt:2: score '{score}' is not a finite"):
        evaluate_similarity(vectors, pairs)


@pytest.mark.parametrize("content", ["", "\n\n", ": family\n: capitals\n"])
def test_a_questions_file_without_questions_is_an_input_error(tmp_path, content):
    vectors, _ = planted_vectors(tmp_path)
    questions = tmp_path / "empty.txt"
    questions.write_text(content)
    with pytest.raises(InputError, match=r"empty\.txt: holds no questions"):
        evaluate_analogies(vectors, questions)


@pytest.mark.parametrize("content", ["", "# only a comment\n\n"])
def test_a_pairs_file_without_pairs_is_an_input_error(tmp_path, content):
    vectors, _ = planted_vectors(tmp_path)
    pairs = tmp_path / "empty.txt"
    pairs.write_text(content)
    with pytest.raises(InputError, match=r"empty\.txt: holds no word pairs"):
        evaluate_similarity(vectors, pairs)


def test_questions_all_out_of_vocabulary_are_a_valid_empty_result(tmp_path):
    vectors, _ = planted_vectors(tmp_path)
    questions = tmp_path / "unknown.txt"
    questions.write_text(": s\na b c d\ne f g h\n")
    result = evaluate_analogies(vectors, questions)
    assert (result.correct, result.total, result.oov) == (0, 0, 2)
    assert math.isnan(result.accuracy) and math.isnan(result.to_dict()["accuracy"])


def test_pairs_all_out_of_vocabulary_are_a_valid_empty_result(tmp_path):
    vectors, _ = planted_vectors(tmp_path)
    pairs = tmp_path / "unknown.txt"
    pairs.write_text("a b 1\nc d 2\n")
    result = evaluate_similarity(vectors, pairs)
    assert (result.pairs, result.oov_pairs, result.ngram_pairs) == (0, 2, 0)
    assert math.isnan(result.spearman)


# 6. unseen words of subword models


def subword_vectors() -> Vectors:
    rng = np.random.default_rng(3)
    words = ["king", "queen", "man", "woman"]
    matrix = rng.normal(size=(len(words), 16)).astype(np.float32)
    ngrams = CharNgrams(rng.normal(size=(997, 16)).astype(np.float32), 3, 5)
    return Vectors(Vocabulary.from_words(words), matrix, ngrams)


def test_similarity_answers_unseen_words_of_subword_models_from_ngrams(tmp_path):
    vectors = subword_vectors()
    pairs = tmp_path / "pairs.txt"
    lines = [("king", "queen", 9), ("Kings", "queen", 8), ("man", "wombat", 2), ("man", "woman", 5)]
    pairs.write_text("".join(f"{a}\t{b}\t{s}\n" for a, b, s in lines))
    result = evaluate_similarity(vectors, pairs)
    assert (result.pairs, result.ngram_pairs, result.oov_pairs) == (4, 2, 0)
    model = [vectors.similarity(a, b) for a, b, _ in lines]
    expected = spearman(np.array(model), np.array([s for _, _, s in lines], dtype=float))
    assert result.spearman == pytest.approx(expected)
    assert result.to_dict()["ngram_pairs"] == 2


def test_similarity_without_ngrams_counts_unseen_words_as_out_of_vocabulary(tmp_path):
    subwords = subword_vectors()
    vectors = Vectors(subwords.vocab, subwords.matrix)
    pairs = tmp_path / "pairs.txt"
    pairs.write_text("king queen 9\nkings queen 8\nman wombat 2\nman woman 5\n")
    result = evaluate_similarity(vectors, pairs)
    assert (result.pairs, result.ngram_pairs, result.oov_pairs) == (2, 0, 2)
