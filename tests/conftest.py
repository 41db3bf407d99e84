"""Shared fixtures: paths into ../shared/data and slices of the real corpus."""

from __future__ import annotations

import gzip
import itertools
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
