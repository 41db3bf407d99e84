"""Analogy and similarity evaluation."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats

from wordspace import InputError, Vectors
from wordspace.evaluate import evaluate_analogies, evaluate_similarity, spearman


@pytest.fixture
def planted(tmp_path):
    rng = np.random.default_rng(9)
    base = {w: rng.normal(size=40) for w in ["man", "woman", "paris", "rome", "x"]}
    shift = rng.normal(size=40)
    vecs = {**base, "king": base["man"] + shift, "queen": base["woman"] + shift}
    capital = rng.normal(size=40)
    vecs["france"] = base["paris"] + capital
    vecs["italy"] = base["rome"] + capital
    words = list(vecs)
    vectors = Vectors.from_words(words, np.array([vecs[w] for w in words], dtype=np.float32))
    questions = tmp_path / "q.txt"
    questions.write_text(
        ": family\nman king woman queen\nMan King Woman Queen\nman king woman zebra\n"
        ": capitals\nparis france rome italy\nparis france rome x\n"
    )
    return vectors, questions


def test_analogy_scores_sections_and_counts_oov_separately(planted):
    vectors, questions = planted
    result = evaluate_analogies(vectors, questions, restrict_vocab=None)
    family, capitals = result.sections
    assert (family.name, family.correct, family.total, family.oov) == ("family", 2, 2, 1)
    assert (capitals.correct, capitals.total, capitals.oov) == (1, 2, 0)
    assert result.accuracy == pytest.approx(3 / 4)
    assert result.to_dict()["oov_questions"] == 1


def test_restrict_vocab_turns_rare_words_into_oov(planted):
    vectors, questions = planted
    result = evaluate_analogies(vectors, questions, restrict_vocab=5)
    assert result.total == 0 and result.oov == 5


def test_malformed_question_line_names_file_and_line(planted, tmp_path):
    vectors, _ = planted
    bad = tmp_path / "bad.txt"
    bad.write_text(": s\na b c\n")
    with pytest.raises(InputError, match=r"bad.txt:2: expected 4 words"):
        evaluate_analogies(vectors, bad)


def test_spearman_matches_scipy_with_ties():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 10, 200).astype(float)
    b = a + rng.normal(0, 3, 200)
    assert spearman(a, b) == pytest.approx(scipy.stats.spearmanr(a, b).statistic, rel=1e-12)


def test_similarity_reports_spearman_and_oov_pairs(planted, tmp_path):
    vectors, _ = planted
    pairs = tmp_path / "pairs.txt"
    pairs.write_text(
        "# comment\nking\tqueen\t8\nman\twoman\t7\nparis\tx\t1\nrome\tITALY\t9\nzebra\tman\t3\n"
    )
    result = evaluate_similarity(vectors, pairs)
    assert result.pairs == 4 and result.oov_pairs == 1
    unit = vectors.normalized
    idx = vectors.vocab.indices
    model = [
        float(unit[i] @ unit[j])
        for i, j in zip(
            idx(["king", "man", "paris", "rome"]),
            idx(["queen", "woman", "x", "italy"]),
            strict=False,
        )
    ]
    assert result.spearman == pytest.approx(scipy.stats.spearmanr(model, [8, 7, 1, 9]).statistic)
