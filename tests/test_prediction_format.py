"""Prediction lines are printed as fastText's predict-prob prints them (C's ``%.6g``), by a
compiled pass that must agree with Python's exact formatting on every value."""

from __future__ import annotations

import numpy as np

from wordspace.classify import format_predictions
from wordspace.kernels.prediction_lines import prediction_lines
from wordspace.vocab import Vocabulary

LABELS = Vocabulary.from_words(["__label__a", "__label__b", "__label__zürich"])


def _python_lines(ids: np.ndarray, probs: np.ndarray) -> bytes:
    names = LABELS.words
    return "".join(
        " ".join(f"{names[i]} {p:.6g}" for i, p in zip(row, prob, strict=True) if i >= 0) + "\n"
        for row, prob in zip(ids.tolist(), probs.tolist(), strict=True)
    ).encode("utf-8")


def _values() -> np.ndarray:
    rng = np.random.default_rng(7)
    special = [1e-05, 1.00001, 1.0, 0.5, 0.1, 0.25, 9.99999e-05, 0.0001, 0.000123456789,
               0.99999949, 0.9999995001, 0.12345, 1.5e-05, 3.0000000000000004e-05]  # fmt: skip
    return np.concatenate([
        special,
        rng.uniform(0.0, 1.0, 200_000),
        10.0 ** rng.uniform(-6, 0.3, 200_000),
        np.exp(np.log(rng.uniform(0, 1, 50_000).astype(np.float32) + np.float32(1e-5))),
    ]).astype(np.float64)  # fmt: skip


def test_compiled_lines_equal_pythons_six_significant_digits():
    values = _values()
    ids = np.tile(np.array([0, 2, 1]), len(values) // 3 + 1)[: len(values)].reshape(-1, 1)
    left = 0
    for block in range(0, len(values), 1000):
        part_ids, part = ids[block : block + 1000], values[block : block + 1000, None]
        text, ends, left_out = prediction_lines(LABELS.blob, LABELS.offsets, part_ids, part)
        kept = ~left_out
        expected = _python_lines(part_ids[kept], part[kept])
        assert text.tobytes() == expected and ends[-1] == len(text)
        assert format_predictions(LABELS, part_ids, part) == _python_lines(part_ids, part)
        left += int(left_out.sum())
    assert left <= 5


def test_missing_labels_give_short_and_empty_lines():
    ids = np.array([[1, 0, -1], [-1, -1, -1], [2, -1, -1]])
    probs = np.array([[0.6, 0.4, 0.0], [0.0, 0.0, 0.0], [1.00001, 0.0, 0.0]])
    expected = "__label__b 0.6 __label__a 0.4\n\n__label__zürich 1.00001\n".encode()
    assert format_predictions(LABELS, ids, probs) == expected


def test_a_value_at_a_rounding_tie_is_printed_exactly_by_the_fallback():
    tie = 0.1234565  # the binary value lies just beside the decimal tie
    ids, probs = np.array([[0]]), np.array([[tie]])
    _, _, left_out = prediction_lines(LABELS.blob, LABELS.offsets, ids, probs)
    assert left_out.tolist() == [True]
    assert format_predictions(LABELS, ids, probs) == f"__label__a {tie:.6g}\n".encode()
    # only that line is printed by Python, in its place among the others
    ids, probs = np.array([[0], [1], [2]]), np.array([[0.5], [tie], [0.25]])
    expected = f"__label__a 0.5\n__label__b {tie:.6g}\n__label__zürich 0.25\n".encode()
    assert format_predictions(LABELS, ids, probs) == expected
