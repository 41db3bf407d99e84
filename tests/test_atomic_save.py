"""Saves are atomic: killing a saving process never leaves a broken model behind."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import numpy as np

from wordspace import Vectors, load

SAVER = textwrap.dedent(
    """
    import sys
    import numpy as np
    from wordspace import Vectors
    target = sys.argv[1]
    words = [f"w{i}" for i in range(40_000)]
    versions = [Vectors.from_words(words, np.full((40_000, 64), v, dtype=np.float32))
                for v in (1.0, 2.0)]
    print("ready", flush=True)
    i = 0
    while True:
        versions[i % 2].save(target)
        i += 1
    """
)


def test_killing_a_save_at_any_moment_leaves_a_loadable_model(tmp_path):
    target = tmp_path / "model"
    words = [f"w{i}" for i in range(40_000)]
    Vectors.from_words(words, np.full((40_000, 64), 1.0, dtype=np.float32)).save(target)
    for delay in (0.05, 0.13, 0.21, 0.34, 0.55, 0.8, 1.1, 1.5):
        saver = subprocess.Popen(
            [sys.executable, "-c", SAVER, str(target)], stdout=subprocess.PIPE, text=True
        )
        assert saver.stdout.readline().strip() == "ready"
        time.sleep(delay)
        saver.kill()
        saver.wait()
        loaded = load(target, verify=True)
        assert len(loaded) == 40_000
        value = float(loaded.matrix[0, 0])
        assert value in (1.0, 2.0)
        assert np.all(loaded.matrix == value)
