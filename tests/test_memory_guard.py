"""Loading refuses, with one clear line, what would not fit in memory."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from wordspace import Vectors
from wordspace.errors import InsufficientMemoryError
from wordspace.formats.word2vec import read_word2vec, write_word2vec
from wordspace.memory import available_bytes


def test_available_memory_is_the_smaller_of_meminfo_and_the_cgroup_limit(tmp_path):
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal: 100 kB\nMemAvailable:    8000000 kB\n")
    cgroup = tmp_path / "cgroup"
    cgroup.mkdir()
    assert available_bytes(meminfo, cgroup) == 8000000 * 1024
    (cgroup / "memory.max").write_text("4294967296\n")
    (cgroup / "memory.current").write_text("1073741824\n")
    assert available_bytes(meminfo, cgroup) == 3 * 2**30
    (cgroup / "memory.max").write_text("max\n")
    assert available_bytes(meminfo, cgroup) == 8000000 * 1024
    v1 = tmp_path / "v1"
    (v1 / "memory").mkdir(parents=True)
    (v1 / "memory" / "memory.limit_in_bytes").write_text(str(2**30))
    (v1 / "memory" / "memory.usage_in_bytes").write_text(str(2**29))
    assert available_bytes(meminfo, v1) == 2**29


@pytest.fixture
def big_file(tmp_path):
    vectors = Vectors.from_words([f"w{i}" for i in range(2000)], np.ones((2000, 50)))
    write_word2vec(vectors, tmp_path / "v.bin", binary=True)
    return tmp_path / "v.bin"


def test_reading_more_than_is_available_is_refused_with_advice(big_file, monkeypatch):
    monkeypatch.setattr("wordspace.memory.available_bytes", lambda: 100_000)
    with pytest.raises(InsufficientMemoryError) as info:
        read_word2vec(big_file)
    message = str(info.value)
    assert str(big_file) in message and "needs" in message and "wordspace convert" in message
    monkeypatch.setenv("WORDSPACE_SKIP_MEMORY_CHECK", "1")
    assert len(read_word2vec(big_file)) == 2000


def test_cli_reports_the_memory_refusal_as_one_line(big_file, tmp_path):
    script = (
        "import sys, wordspace.memory as m; m.available_bytes = lambda: 100_000; "
        "from wordspace.cli import main; sys.argv = ['wordspace', 'info', sys.argv[1]]; main()"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(big_file)], capture_output=True, text=True
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "memory" in lines[0]
