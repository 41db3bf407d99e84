"""Saves are atomic: killing a saving process never leaves a broken model behind."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from wordspace import Vectors, load
from wordspace.formats import save

ROWS, DIM = 40_000, 64

SAVER = textwrap.dedent(
    f"""
    import sys
    import numpy as np
    from wordspace import Vectors
    from wordspace.formats import save
    target, fmt = sys.argv[1], sys.argv[2]
    words = [f"w{{i}}" for i in range({ROWS})]
    versions = [Vectors.from_words(words, np.full(({ROWS}, {DIM}), v, dtype=np.float32))
                for v in (1.0, 2.0)]
    print("ready", flush=True)
    i = 0
    while True:
        save(versions[i % 2], target, fmt)
        i += 1
    """
)


@pytest.mark.parametrize(
    ("fmt", "name"),
    [("native", "model"), ("word2vec-bin", "v.bin"), ("fasttext-bin", "m.bin")],
)
def test_killing_a_save_at_any_moment_leaves_a_loadable_model(tmp_path, fmt, name):
    target = tmp_path / name
    words = [f"w{i}" for i in range(ROWS)]
    save(Vectors.from_words(words, np.full((ROWS, DIM), 1.0, dtype=np.float32)), target, fmt)
    for delay in (0.05, 0.13, 0.21, 0.34, 0.55, 0.8, 1.1):
        saver = subprocess.Popen(
            [sys.executable, "-c", SAVER, str(target), fmt], stdout=subprocess.PIPE, text=True
        )
        assert saver.stdout.readline().strip() == "ready"
        time.sleep(delay)
        saver.kill()
        saver.wait()
        loaded = load(target, verify=True)
        assert len(loaded) == ROWS
        value = float(loaded.matrix[0, 0])
        assert value in (1.0, 2.0)
        assert np.all(loaded.matrix == value)
