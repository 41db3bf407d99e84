"""STS evaluation: both file layouts, one-line errors, and correlations computed from the
cosines of sentence vectors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from wordspace.errors import InputError
from wordspace.evaluate import spearman
from wordspace.sts import evaluate_sts, read_sts_pairs, tokenised
from wordspace.vectors import Vectors

from .conftest import SHARED_DATA, require


def _vectors() -> Vectors:
    matrix = np.array([[1, 0], [0, 1], [1, 1], [1, -1]], dtype=np.float32)
    return Vectors.from_words(["cat", "dog", "pet", "car"], matrix)


def test_both_layouts_are_read_and_extra_columns_ignored(tmp_path):
    stsb = tmp_path / "stsb.csv"
    stsb.write_text("g\tf\t2012\t1\t4.5\tA cat.\tThe dog!\textra\tmore\n\ng\tf\t2012\t2\t0\tx\ty\n")
    plain = tmp_path / "plain.tsv"
    plain.write_text("\ufeffa cat\tthe dog\t3\n", encoding="utf-8")
    first, second, gold = read_sts_pairs(stsb)
    assert (first, second, gold.tolist()) == (["A cat.", "x"], ["The dog!", "y"], [4.5, 0.0])
    assert read_sts_pairs(plain)[0] == ["a cat"]  # a byte-order mark is not text


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("a\tb\n", ":1: expected 7"),
        ("a\tb\tgood\n", ":1: score 'good'"),
        ("", "no sentence"),
        ("a\tb\t1\n" * 5000 + "x\xff\ty\t2\n", ":5001: not UTF-8"),
    ],
)
def test_bad_files_are_refused_naming_the_line(tmp_path, text, match):
    path = tmp_path / "bad.tsv"
    path.write_bytes(text.encode("latin-1"))
    with pytest.raises(InputError, match=match) as info:
        read_sts_pairs(path)
    assert "\n" not in str(info.value)


def test_words_are_lowercased_runs_of_letters_and_digits():
    assert tokenised(["The cat's toy, 2 Dogs!"], "words") == ["the cat's toy 2 dogs"]
    assert tokenised(["The cat."], "whitespace") == ["The cat."]


def test_correlations_follow_the_cosines_of_the_sentence_vectors(tmp_path):
    path = tmp_path / "pairs.tsv"
    path.write_text("Cat.\tpet\t4\ncat\tdog\t0\ncar\tpet\t1\ncat dog\tpet\t5\nzebra\tcat\t2\n")
    score = evaluate_sts(_vectors(), path)
    cosines = [1 / np.sqrt(2), 0.0, 0.0, 1.0, 0.0]  # zebra is unknown: cosine 0
    gold = [4, 0, 1, 5, 2]
    assert score.pairs == 5 and score.zero_pairs == 1
    assert score.spearman == pytest.approx(spearman(np.array(cosines), np.array(gold)))
    assert score.pearson == pytest.approx(np.corrcoef(cosines, gold)[0, 1])


def test_the_cli_scores_the_sts_benchmark_with_the_reference_model():
    sts = require(SHARED_DATA / "sts" / "sts-test.csv")
    model = str(Path(__file__).parent / "fixtures" / "sent2vec" / "model.bin")
    result = subprocess.run(
        [sys.executable, "-m", "wordspace", "eval", "sts", model, str(sts), "--json"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["pairs"] == 1379 and -1 <= document["spearman"] <= 1
