"""Shared fixtures: paths into ../shared/data and slices of the real corpus."""

from __future__ import annotations

import gzip
import itertools
import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
ENWIKI = SHARED_DATA / "enwiki" / "enwiki2015.tok.txt.gz"
QUESTIONS = SHARED_DATA / "analogy" / "questions-words.txt"
WORDSIM = SHARED_DATA / "wordsim"


def require(path: Path) -> Path:
    """Skip the test (with the reason) when a shared data file is absent."""
    if not path.exists():
        pytest.skip(f"needs {path} (the shared data folder beside the repository)")
    return path


@pytest.fixture(scope="session")
def enwiki_lines(tmp_path_factory):
    """Factory: a plain-text file holding the first ``n`` lines of the enwiki corpus."""
    made: dict[int, Path] = {}

    def make(n: int) -> Path:
        require(ENWIKI)
        if n not in made:
            path = tmp_path_factory.mktemp("enwiki") / f"enwiki-{n}.txt"
            with gzip.open(ENWIKI, "rb") as src, open(path, "wb") as dst:
                dst.writelines(itertools.islice(src, n))
            made[n] = path
        return made[n]

    return make


@pytest.fixture(scope="session")
def small_word_model(enwiki_lines, tmp_path_factory):
    """A native skip-gram model (dim 32, one epoch, one worker: the same every run) of the
    first 3,000 enwiki lines."""
    from wordspace import Word2Vec

    out = tmp_path_factory.mktemp("small-word-model") / "w2v"
    Word2Vec(dim=32, epochs=1, min_count=3, workers=1).fit(str(enwiki_lines(3000))).save(out)
    return out


TINY_SENTENCES = [
    "the quick brown fox jumps over the lazy dog",
    "a lazy dog sleeps in the warm sun all day",
    "the brown dog and the quick fox are friends",
]


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory):
    """A 120-line corpus of 26 words: enough for every verb to run in a second."""
    path = tmp_path_factory.mktemp("tiny") / "tiny.txt"
    path.write_text("\n".join(TINY_SENTENCES * 40) + "\n")
    return path


@pytest.fixture(scope="session")
def tiny_model(tiny_corpus, tmp_path_factory):
    """A native CBOW model of dimension 8 trained on ``tiny_corpus`` by the CLI."""
    out = tmp_path_factory.mktemp("tiny-model") / "m"
    command = [sys.executable, "-m", "wordspace", "train", "cbow", str(tiny_corpus), "-o"]
    result = subprocess.run(
        [*command, str(out), "--dim", "8", "--epochs", "1", "-q"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return out


def finishes(work, seconds: float = 60):
    """``work()``'s result (or its exception), failing the test when it runs for ever."""
    box: dict = {}

    def target() -> None:
        try:
            box["value"] = work()
        except BaseException as exc:  # handed to the test below
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        pytest.fail(f"still running after {seconds} s: it hangs")
    if "error" in box:
        raise box["error"]
    return box.get("value")


def train_in_fresh_process(kind: str, corpus, output, **params):
    """Train with Facebook's fastText in a new process and load the result here.

    fasttext-numpy2 reads uninitialised heap memory while training: in a process whose heap
    already held other data it can stop with "Encountered NaN", so it trains alone.
    """
    script = (
        "import json, sys, fasttext; kind, corpus, out, params = sys.argv[1:5]; "
        "train = getattr(fasttext, f'train_{kind}'); "
        "train(corpus, **json.loads(params)).save_model(out)"
    )
    subprocess.run(
        [sys.executable, "-c", script, kind, str(corpus), str(output), json.dumps(params)],
        check=True,
    )
    import fasttext

    return fasttext.load_model(str(output))
