"""The training engine reproduces its frozen results bit for bit.

``fixtures/engine_reference.json`` holds, for each Word2Vec configuration (skip-gram and
CBOW, negative sampling and hierarchical softmax, fast and classic kernels), what a seeded
``workers=1`` run on the first 2,000 lines of the enwiki corpus produced when it was made:
hashes of the vectors and output weights, the epoch losses, the example count and a few rows.
A refactor of the engine must leave them unchanged; see ``fixtures/make_engine_reference.py``
for when (rarely) to regenerate them.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from .conftest import ENWIKI, require
from .fixtures import make_engine_reference as ref

REFERENCE = json.loads(ref.REFERENCE.read_text(encoding="utf-8"))
CONFIGS = REFERENCE["configs"]


@pytest.fixture(scope="module")
def corpus(enwiki_lines) -> Path:
    require(ENWIKI)
    path = enwiki_lines(REFERENCE["corpus"]["lines"])
    if ref.file_sha256(path) != REFERENCE["corpus"]["sha256"]:
        pytest.fail(
            f"the first {REFERENCE['corpus']['lines']:,} lines of {ENWIKI} are not the text "
            "the reference was made from: the shared corpus changed"
        )
    return path


def _row_drift(expected: dict, got: dict) -> str:
    """How far the recorded rows of the most frequent words moved."""
    if expected["top_words"] != got["top_words"]:
        return f"the most frequent words changed: {expected['top_words']} -> {got['top_words']}"
    lines = []
    for word, before, after in zip(
        expected["top_words"], expected["top_rows"], got["top_rows"], strict=True
    ):
        before = np.asarray(before, dtype=np.float32)
        after = np.asarray(after, dtype=np.float32)
        diff = np.abs(after - before)
        lines.append(
            f"  {word!r}: max |diff| {diff.max():.3g} in {np.count_nonzero(diff)} of "
            f"{diff.size} components (row max |x| {np.abs(before).max():.3g})"
        )
    return "vectors of the most frequent words moved:\n" + "\n".join(lines)


def _environment_note() -> str:
    now = ref.environment()
    then = REFERENCE["environment"]
    changed = {k: (then.get(k), now[k]) for k in now if then.get(k) != now[k]}
    if not changed:
        return "same environment as the reference: the change comes from the code"
    items = ", ".join(f"{k} {a} -> {b}" for k, (a, b) in changed.items())
    return (
        f"NOTE: the environment differs from the reference's ({items}); "
        "that alone may change the bits"
    )


@pytest.mark.parametrize("name", list(CONFIGS))
def test_engine_reproduces_reference(name, corpus):
    expected = CONFIGS[name]
    got = ref.train_record(corpus, expected["params"])
    problems = [
        f"{key}: {expected[key]!r} -> {got[key]!r}"
        for key in (
            "vocab_size",
            "vectors_shape",
            "output_shape",
            "examples",
            "words",
            "epoch_losses",
            "vectors_sha256",
            "output_sha256",
        )
        if got[key] != expected[key]
    ]
    if problems:
        pytest.fail(
            f"{name} no longer reproduces engine_reference.json:\n  "
            + "\n  ".join(problems)
            + "\n"
            + _row_drift(expected, got)
            + "\n"
            + _environment_note(),
            pytrace=False,
        )
    # the rows are covered by the hash; checked too so the fixture stays self-consistent
    assert got["top_rows"] == expected["top_rows"]
