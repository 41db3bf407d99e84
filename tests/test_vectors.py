"""The query API: lookups, most_similar, analogy, batched neighbours."""

from __future__ import annotations

import json

import numpy as np
import pytest

from wordspace import Vectors
from wordspace.errors import ParameterError
from wordspace.formats.native import load_vectors, save_vectors


@pytest.fixture
def vectors():
    rng = np.random.default_rng(3)
    words = [f"w{i}" for i in range(500)]
    return Vectors.from_words(words, rng.normal(size=(500, 24)).astype(np.float32))


def _brute_force(matrix, query, exclude, k):
    unit = matrix / np.linalg.norm(matrix, axis=1, keepdims=True)
    scores = unit @ (query / np.linalg.norm(query))
    scores[list(exclude)] = -np.inf
    order = np.argsort(-scores)[:k]
    return order, scores[order]


def test_lookup_contains_len_and_getitem(vectors):
    assert len(vectors) == 500 and vectors.dim == 24
    assert "w3" in vectors and "zz" not in vectors and 3 not in vectors
    np.testing.assert_array_equal(vectors["w3"], vectors.matrix[3])
    np.testing.assert_array_equal(vectors[["w3", "w0"]], vectors.matrix[[3, 0]])
    with pytest.raises(KeyError, match="'zz'"):
        vectors["zz"]
    assert vectors.get("zz") is None
    assert vectors.words[:2] == ["w0", "w1"]


def test_most_similar_matches_brute_force_and_excludes_inputs(vectors):
    got = vectors.most_similar("w7", topn=5)
    idx, val = _brute_force(vectors.matrix, vectors.matrix[7], [7], 5)
    assert [w for w, _ in got] == [f"w{i}" for i in idx]
    np.testing.assert_allclose([s for _, s in got], val, rtol=1e-5)
    assert "w7" in [w for w, _ in vectors.most_similar("w7", topn=1, exclude_inputs=False)]


def test_most_similar_with_positive_and_negative_is_3cosadd(vectors):
    got = vectors.most_similar(positive=["w1", "w2"], negative=["w3"], topn=3)
    unit = vectors.normalized
    query = unit[1] + unit[2] - unit[3]
    idx, _ = _brute_force(vectors.matrix, query, [1, 2, 3], 3)
    assert [w for w, _ in got] == [f"w{i}" for i in idx]


def test_restrict_vocab_limits_candidates(vectors):
    got = vectors.most_similar("w400", topn=10, restrict_vocab=50)
    assert all(int(w[1:]) < 50 for w, _ in got)


def test_batched_nearest_equals_single_queries(vectors):
    queries = vectors.matrix[[5, 9, 11]]
    idx, _val = vectors.nearest(queries, topn=4, exclude=[[5], [9], [11]])
    for row, word in enumerate(["w5", "w9", "w11"]):
        single = vectors.most_similar(word, topn=4)
        assert [f"w{i}" for i in idx[row]] == [w for w, _ in single]


def test_analogy_finds_the_planted_answer_with_add_and_mul():
    rng = np.random.default_rng(5)
    base = rng.normal(size=(6, 50)).astype(np.float32)
    gender = rng.normal(size=50).astype(np.float32)
    matrix = np.vstack([base, base[0] + gender, base[1] + gender])
    words = ["man", "king", "x1", "x2", "x3", "x4", "woman", "queen"]
    vectors = Vectors.from_words(words, matrix)
    for method in ("add", "mul"):
        assert vectors.analogy("man", "king", "woman", method=method)[0][0] == "queen"


def test_an_unknown_analogy_method_is_a_parameter_error(vectors):
    with pytest.raises(ParameterError, match="method must be one of add, mul"):
        vectors.analogy(*vectors.vocab.words[:3], method="sum")


def test_norms_are_computed_once_and_normalized_rows_have_unit_length(vectors):
    assert vectors.norms is vectors.norms
    np.testing.assert_allclose(vectors.norms, np.linalg.norm(vectors.matrix, axis=1), rtol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(vectors.normalized, axis=1), 1.0, rtol=1e-5)


def test_similarity_is_symmetric_cosine(vectors):
    a, b = vectors.matrix[1], vectors.matrix[2]
    expected = a @ b / np.linalg.norm(a) / np.linalg.norm(b)
    assert vectors.similarity("w1", "w2") == pytest.approx(expected, rel=1e-5)
    assert vectors.similarity("w2", "w1") == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize(("rows", "queries"), [(50, 1), (70_000, 5), (200_000, 9)])
def test_batched_search_equals_a_full_sort_of_the_cosines(rows, queries):
    rng = np.random.default_rng(rows)
    matrix = rng.standard_normal((rows, 16)).astype(np.float32)
    matrix[3] = 0.0
    matrix[7] = matrix[5]  # a tie: the earlier row ranks first
    vectors = Vectors.from_words([f"w{i}" for i in range(rows)], matrix)
    asked = np.vstack([matrix[5], rng.standard_normal((queries - 1, 16))]).astype(np.float32)
    idx, val = vectors.nearest(asked, 12)
    norms = np.linalg.norm(matrix, axis=1)
    norms[norms == 0] = 1
    cosines = (asked / np.linalg.norm(asked, axis=1, keepdims=True)) @ matrix.T / norms
    for q in range(queries):
        expected = np.lexsort((np.arange(rows), -cosines[q]))[:12]
        np.testing.assert_array_equal(idx[q], expected)
        np.testing.assert_allclose(val[q], cosines[q, expected], rtol=1e-5, atol=1e-6)
    assert list(idx[0][:2]) == [5, 7]


def test_search_leaves_out_excluded_rows_and_stops_at_the_candidates():
    # b, c and d at clearly different angles from a: equal cosines would be ordered by
    # float rounding, which the CPU's vector code decides
    matrix = np.eye(4, dtype=np.float32) + 0.1
    matrix[1:, 0] = [0.5, 0.3, 0.2]
    vectors = Vectors.from_words(["a", "b", "c", "d"], matrix)
    idx, _ = vectors.nearest(matrix[:2], 10, exclude=[[0], [1, 2]])
    assert idx.shape == (2, 4)
    assert 0 not in idx[0] and list(idx[0][3:]) == [-1]
    assert list(idx[1][2:]) == [-1, -1]
    assert [w for w, _ in vectors.most_similar("a", topn=10)] == ["b", "c", "d"]
    idx, _ = vectors.nearest(matrix[:1], 10, restrict_vocab=2)
    assert list(idx[0]) == [0, 1]


def test_native_folders_store_the_row_norms(tmp_path):
    matrix = np.arange(12, dtype=np.float32).reshape(4, 3)
    save_vectors(Vectors.from_words(["a", "b", "c", "d"], matrix), tmp_path / "m")
    loaded = load_vectors(tmp_path / "m")
    assert isinstance(loaded.__dict__["norms"], np.memmap)
    np.testing.assert_allclose(loaded.norms, np.linalg.norm(matrix, axis=1), rtol=1e-6)
    meta = json.loads((tmp_path / "m" / "meta.json").read_text())
    del meta["arrays"]["norms"]  # a folder written before norms were stored
    (tmp_path / "m" / "meta.json").write_text(json.dumps(meta))
    np.testing.assert_allclose(load_vectors(tmp_path / "m").norms, loaded.norms)
