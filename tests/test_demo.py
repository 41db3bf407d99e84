"""The README's first command: the demo script trains on the real corpus and shows results."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ENWIKI, require

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_demo_trains_on_the_start_of_the_corpus_and_prints_results(tmp_path):
    require(ENWIKI)
    env = dict(
        os.environ,
        WORDSPACE=str(Path(sys.executable).parent / "wordspace"),
        DEMO_LINES="20000",
        DEMO_EPOCHS="1",
        DEMO_MODEL=str(tmp_path / "model"),
    )
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "demo.sh")], env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "first 20000 lines" in result.stdout
    assert "analogy accuracy" in result.stdout
    assert "nearest neighbours of 'paris'" in result.stdout
    assert (tmp_path / "model" / "meta.json").exists()
