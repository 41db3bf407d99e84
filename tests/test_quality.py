"""Quality floors on real data: the kernels must learn English, not just run.

Trained on the first 60,000 lines (4.5M tokens) of the shared enwiki corpus. Figures
measured when the floors were set (2026-11-23, 2 workers): skip-gram NS 16.5% analogy /
0.558 WS-353; skip-gram HS 13.2% / 0.565; CBOW NS 21.2% / 0.627. Chance is about 0.003%;
a flipped gradient sign or a disabled input update fails these floors (checked by hand).
"""

from __future__ import annotations

import pytest

from wordspace import Word2Vec
from wordspace.evaluate import evaluate_analogies, evaluate_similarity

from .conftest import QUESTIONS, WORDSIM, require

CASES = {
    "skipgram-ns": (dict(architecture="skipgram", loss="ns", epochs=5, sample=1e-4), 0.12, 0.50),
    "skipgram-hs": (dict(architecture="skipgram", loss="hs", epochs=2, sample=1e-3), 0.10, 0.50),
    "cbow-ns": (dict(architecture="cbow", loss="ns", epochs=10, sample=1e-4), 0.16, 0.55),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES)
def test_training_on_real_text_reaches_analogy_and_similarity_floors(enwiki_lines, case):
    params, analogy_floor, ws353_floor = CASES[case]
    corpus = enwiki_lines(60_000)
    vectors = Word2Vec(**params, workers=2).fit(corpus).vectors
    analogy = evaluate_analogies(vectors, require(QUESTIONS), restrict_vocab=30_000)
    similarity = evaluate_similarity(vectors, require(WORDSIM / "EN-WS-353-ALL.txt"))
    assert analogy.total > 10_000
    assert analogy.accuracy > analogy_floor, analogy.to_dict()
    assert similarity.spearman > ws353_floor, similarity
    assert similarity.pairs >= 330
