"""The command's one boundary: every anticipated failure is one line and exit 2, with a JSON
error object under --json; Ctrl-C and SIGTERM end cleanly; real bugs keep their traceback;
every numeric option of train, given any value, ends in exit 0 or one line and exit 2."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import sys
import tempfile
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wordspace import cli


def wordspace(*args, stdin=None, timeout=120, env=None):
    return subprocess.run(
        [sys.executable, "-m", "wordspace", *map(str, args)],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=timeout,
        env=env,
    )


def one_error_line(result, status=2):
    assert result.returncode == status, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and len(lines[0]) > 8, lines
    assert "Traceback" not in result.stderr
    return lines[0]


def test_bare_command_prints_help_and_exits_zero():
    result = wordspace()
    assert result.returncode == 0
    assert "Usage: wordspace" in result.stdout and "error" not in result.stderr


def test_version_and_python_dash_m():
    result = wordspace("--version")
    assert result.returncode == 0 and result.stdout.strip().startswith("wordspace ")


def test_shell_completion_is_offered():
    assert "--show-completion" in wordspace("--help").stdout


@pytest.mark.parametrize("command", ["", "train", "convert", "eval analogy", "neighbors"])
def test_help_reads_well_at_80_columns(command):
    env = {**os.environ, "COLUMNS": "80"}
    result = wordspace(*command.split(), "--help", env=env)
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert "<bool>" not in result.stdout and "{" not in result.stdout
    assert "╭" not in result.stdout
    if command == "train":
        assert "all CPUs" in result.stdout and "ARCHITECTURE INPUT" in result.stdout
    continued = [len(line) - len(line.lstrip()) for line in lines if line.startswith(" " * 8)]
    assert max(continued, default=0) <= 40, "descriptions get at least 40 columns"


def test_errors_under_json_are_one_json_object_on_stdout(tmp_path):
    result = wordspace("info", tmp_path / "missing", "--json")
    line = one_error_line(result)
    document = json.loads(result.stdout)
    assert document["error"] == line.removeprefix("error: ")
    assert document["type"] == "ModelFileError"


@pytest.mark.parametrize("k", ["0", "-5"])
def test_neighbors_and_analogy_refuse_a_k_below_one(tiny_model, k):
    assert "-k" in one_error_line(wordspace("neighbors", tiny_model, "the", "-k", k))
    assert "-k" in one_error_line(wordspace("analogy", tiny_model, "the", "dog", "fox", "-k", k))


@pytest.mark.parametrize(
    ("option", "value", "named"),
    [
        ("--seed", str(2**64), "seed"),
        ("--seed", "-1", "seed"),
        ("--negative", "1000000000", "negative"),
        ("--epochs", "4294967296", "epochs"),
        ("--dim", "10000000", "dim"),
        ("--window", "1000000000", "window"),
        ("--ns-exponent", "1e6", "ns_exponent"),
        ("--lr", "nan", "lr"),
    ],
)
def test_parameters_that_size_memory_or_time_are_bounded(
    tiny_corpus, tmp_path, option, value, named
):
    result = wordspace("train", "skipgram", tiny_corpus, "-o", tmp_path / "m", option, value, "-q")
    assert named in one_error_line(result)
    assert not (tmp_path / "m").exists()


def test_a_full_64_bit_seed_trains(tiny_corpus, tmp_path):
    result = wordspace(
        "train", "skipgram", tiny_corpus, "-o", tmp_path / "m", "--seed", str(2**64 - 1),
        "--epochs", "1", "--dim", "8", "-q",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


def test_too_many_workers_are_capped_with_a_note(tiny_corpus, tmp_path):
    result = wordspace(
        "train", "skipgram", tiny_corpus, "-o", tmp_path / "m", "--workers", "100000000",
        "--epochs", "1", "--dim", "8", "-q", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "note: workers=100,000,000 is more than the" in result.stderr
    assert json.loads(result.stdout)["vocab_size"] > 10


def test_closed_stdout_pipe_ends_quietly(tiny_model):
    process = subprocess.Popen(
        [sys.executable, "-m", "wordspace", "neighbors", tiny_model, "the", "-k", "20"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    process.stdout.close()
    _, err = process.communicate(timeout=60)
    assert b"Traceback" not in err


def _start_long_training(tiny_corpus, tmp_path, *, terminal=False):
    args = [
        sys.executable,
        "-m",
        "wordspace",
        "train",
        "skipgram",
        tiny_corpus,
        "-o",
        tmp_path / "m",
    ]
    args += ["--epochs", "10000", "--dim", "64", "--sample", "0"]
    if not terminal:
        return subprocess.Popen(args, stderr=subprocess.PIPE), None
    leader, follower = pty.openpty()
    process = subprocess.Popen(args, stdin=follower, stdout=follower, stderr=follower)
    os.close(follower)
    return process, leader


def _wait_for_training(process, stream_fd, deadline=60.0):
    """Read the child's terminal until its progress shows (training has begun)."""
    seen = b""
    end = time.monotonic() + deadline
    while time.monotonic() < end and b"%" not in seen:
        ready, _, _ = select.select([stream_fd], [], [], 1.0)
        if ready:
            seen += os.read(stream_fd, 4096)
    return seen


def _drain(fd):
    out = b""
    while True:
        try:
            ready, _, _ = select.select([fd], [], [], 2.0)
            if not ready:
                return out
            chunk = os.read(fd, 4096)
        except OSError:
            return out
        if not chunk:
            return out
        out += chunk


def test_ctrl_c_prints_interrupted_and_saves_nothing(tiny_corpus, tmp_path):
    process, _ = _start_long_training(tiny_corpus, tmp_path)
    assert b"%" in _wait_for_training(process, process.stderr.fileno())
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    err = err.decode()
    assert process.returncode == 130
    assert err.strip().splitlines()[-1] == "error: interrupted"
    assert "Traceback" not in err and not (tmp_path / "m").exists()


def test_sigterm_on_a_terminal_restores_the_cursor(tiny_corpus, tmp_path):
    process, leader = _start_long_training(tiny_corpus, tmp_path, terminal=True)
    try:
        before = _wait_for_training(process, leader)
        assert b"%" in before, before
        process.send_signal(signal.SIGTERM)
        after = before + _drain(leader)
        process.wait(timeout=60)
    finally:
        os.close(leader)
    assert process.returncode == 143
    assert b"error: terminated" in after
    hidden, shown = after.rfind(b"\x1b[?25l"), after.rfind(b"\x1b[?25h")
    assert hidden >= 0 and shown > hidden
    assert not (tmp_path / "m").exists()


def test_an_unexpected_exception_keeps_its_traceback(monkeypatch, capsys, tmp_path):
    def broken(path):
        raise RuntimeError("a bug")

    monkeypatch.setattr(cli, "_load", broken)
    with pytest.raises(SystemExit) as exit_:
        cli.main(["neighbors", str(tmp_path), "word"])
    assert exit_.value.code == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "RuntimeError: a bug" in err and "please report" in err


def test_an_end_of_file_bug_is_not_reported_as_an_interruption(monkeypatch, capsys, tmp_path):
    def truncated(path):
        raise EOFError("ran out of input")

    monkeypatch.setattr(cli, "_load", truncated)
    with pytest.raises(SystemExit) as exit_:
        cli.main(["neighbors", str(tmp_path), "word"])
    assert exit_.value.code == 1
    assert "interrupted" not in capsys.readouterr().err


def test_debug_variable_shows_the_traceback_of_anticipated_errors(tmp_path):
    env = {**os.environ, "WORDSPACE_DEBUG": "1"}
    result = wordspace("info", tmp_path / "missing", env=env)
    assert result.returncode == 2 and "Traceback" in result.stderr


NUMERIC_OPTIONS = {
    "--dim": int,
    "--window": int,
    "--negative": int,
    "--ns-exponent": float,
    "--sample": float,
    "--min-count": int,
    "--max-vocab-size": int,
    "--lr": float,
    "--min-lr": float,
    "--epochs": int,
    "--workers": int,
    "--seed": int,
}
EDGE_INTEGERS = [0, 1, -1, 2, 7, 2**31, 2**32, 2**63, 2**64, 10**30, -(2**63)]
EDGE_FLOATS = ["nan", "inf", "-inf", "0", "-0.0", "1e-300", "1e300", "10", "0.5", "abc", ""]


def _values(kind):
    if kind is int:
        return st.one_of(
            st.sampled_from(EDGE_INTEGERS), st.integers(-1000, 100_000), st.integers()
        ).map(str)
    return st.one_of(
        st.sampled_from(EDGE_FLOATS),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
    )


@st.composite
def _option_and_value(draw):
    option = draw(st.sampled_from(sorted(NUMERIC_OPTIONS)))
    return option, draw(_values(NUMERIC_OPTIONS[option]))


MEMORY_CEILING = 1536 << 20
FUZZ_TIMEOUT = 120


def run_measured(args, timeout):
    """Run the command; (exit status, stderr, peak RSS in bytes), or None past ``timeout``."""
    with open(os.devnull, "wb") as null, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "wordspace", *map(str, args)], stdout=null, stderr=err
        )
        end = time.monotonic() + timeout
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > end:
                process.kill()
                os.wait4(process.pid, 0)
                return None
            time.sleep(0.05)
        process.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        return process.returncode, err.read().decode(), usage.ru_maxrss * 1024


@pytest.mark.slow
@settings(
    max_examples=24,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    derandomize=True,
)
@given(choice=_option_and_value())
def test_any_value_of_a_numeric_train_option_exits_cleanly(tiny_corpus, tmp_path, choice):
    option, value = choice
    out = tmp_path / "fuzzed"
    args = ["train", "skipgram", tiny_corpus, "-o", out, "-q", option, value]
    if option != "--epochs":
        args += ["--epochs", "1"]
    measured = run_measured(args, FUZZ_TIMEOUT)
    assert measured is not None, f"{option} {value}: still running after {FUZZ_TIMEOUT} s"
    status, err, peak = measured
    assert status in (0, 2), (option, value, err)
    assert "Traceback" not in err, (option, value, err)
    assert peak < MEMORY_CEILING, (option, value, peak)
    if status == 2:
        errors = [line for line in err.splitlines() if line.startswith("error: ")]
        assert len(errors) == 1 and len(errors[0]) > 8, (option, value, err)


def test_unseen_words_of_a_subword_model_are_answered_by_the_cli(tmp_path):
    import numpy as np

    from wordspace import Vectors
    from wordspace.formats.native import save_vectors
    from wordspace.subwords import CharNgrams
    from wordspace.vocab import Vocabulary

    rng = np.random.default_rng(1)
    words = ["paris", "london", "berlin", "rome", "madrid"]
    base = Vectors.from_words(words, rng.random((5, 8), dtype=np.float32))
    ngrams = CharNgrams(rng.random((100, 8), dtype=np.float32), 3, 6)
    vocab = Vocabulary.from_words(words)
    save_vectors(Vectors(vocab, base.matrix, ngrams), tmp_path / "sub")
    result = wordspace("neighbors", tmp_path / "sub", "parisian", "-k", "2", "--json")
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)["neighbors"]) == 2
    result = wordspace("analogy", tmp_path / "sub", "paris", "parisian", "rome")
    assert result.returncode == 0, result.stderr
    plain = tmp_path / "plain"
    save_vectors(base, plain)
    assert "not in the vocabulary" in one_error_line(wordspace("neighbors", plain, "parisian"))
