"""The approximate neighbour index: built into a native folder, memory-mapped when used,
close to exact search, refused when it belongs to other vectors, dropped when the model is
saved again, and reachable from the command line."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import wordspace
from wordspace.errors import ModelFileError, ParameterError
from wordspace.formats import save
from wordspace.formats.native import read_meta
from wordspace.neighbour_index import INDEX_FOLDER, build_index, open_index

pytest.importorskip("faiss", reason="needs faiss-cpu (the test extra)")


def wordspace_cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "wordspace.cli", *map(str, args)], capture_output=True, text=True
    )


@pytest.fixture(scope="module")
def indexed(small_word_model, tmp_path_factory):
    """A copy of the small word model with its neighbour index."""
    folder = tmp_path_factory.mktemp("indexed") / "model"
    shutil.copytree(small_word_model, folder)
    vectors = wordspace.load(folder)
    build_index(folder, vectors.matrix, vectors.norms, read_meta(folder), threads=1)
    return folder


def test_approximate_neighbours_are_nearly_all_the_exact_ones(indexed):
    vectors = wordspace.load(indexed)
    assert vectors.approximate is not None and vectors.approximate.rows == len(vectors)
    queries = np.asarray(vectors.matrix[:300])
    exact_rows, exact_scores = vectors.nearest(queries, 10)
    rows, scores = vectors.nearest(queries, 10, exact=False)
    pairs = zip(exact_rows.tolist(), rows.tolist(), strict=True)
    hits = sum(len(set(a) & set(b)) for a, b in pairs)
    assert hits / exact_rows.size > 0.95
    same = rows == exact_rows
    assert np.allclose(scores[same], exact_scores[same], atol=1e-5)
    assert np.all(np.diff(scores, axis=1) <= 1e-6)


def test_most_similar_leaves_out_its_inputs_either_way(indexed):
    vectors = wordspace.load(indexed)
    word = vectors.words[20]
    found = vectors.most_similar(word, topn=5, exact=False, breadth=200)
    assert len(found) == 5 and word not in dict(found)
    exact = vectors.most_similar(word, topn=5)
    assert [w for w, _ in found] == [w for w, _ in exact]
    assert np.allclose([s for _, s in found], [s for _, s in exact], atol=1e-5)
    analogy = vectors.most_similar(["city", "war"], ["the"], topn=3, exact=False)
    assert {"city", "war", "the"}.isdisjoint(dict(analogy))


def test_without_an_index_an_inexact_query_stays_exact(small_word_model):
    vectors = wordspace.load(small_word_model)
    assert vectors.approximate is None
    assert vectors.most_similar("city", exact=False) == vectors.most_similar("city")


def test_the_index_is_memory_mapped_not_read_into_the_process(indexed):
    vectors = wordspace.load(indexed)
    vectors.most_similar("city", exact=False)
    index_file = str((indexed / INDEX_FOLDER / "hnsw.faiss").resolve())
    assert index_file in Path("/proc/self/maps").read_text()


def test_an_index_of_other_vectors_is_refused(indexed, tmp_path):
    other = tmp_path / "other"
    vectors = wordspace.load(indexed)
    changed = wordspace.Vectors.from_words(vectors.words, np.asarray(vectors.matrix) * 2)
    save(changed, other, "native")
    shutil.copytree(indexed / INDEX_FOLDER, other / INDEX_FOLDER)
    with pytest.raises(ModelFileError, match="built for other vectors"):
        wordspace.load(other)


def test_saving_the_model_again_drops_its_index(indexed, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(indexed, copy)
    (copy / "notes.txt").write_text("mine")
    save(wordspace.load(copy), copy, "native")
    assert not (copy / INDEX_FOLDER).exists()
    assert (copy / "notes.txt").read_text() == "mine"
    assert open_index(copy, read_meta(copy)) is None


def test_bad_index_parameters_are_refused(small_word_model):
    vectors = wordspace.load(small_word_model)
    with pytest.raises(ParameterError, match="degree must be a positive integer"):
        build_index(small_word_model, vectors.matrix, vectors.norms, {}, degree=0)


def test_the_cli_builds_reports_and_uses_the_index(small_word_model, tmp_path):
    folder = tmp_path / "model"
    shutil.copytree(small_word_model, folder)
    built = wordspace_cli("index", folder, "--degree", "24", "--threads", "1", "--json")
    assert built.returncode == 0, built.stderr
    summary = json.loads(built.stdout)
    assert summary["degree"] == 24 and 0.5 < summary["sample_recall_at_10"] <= 1
    info = json.loads(wordspace_cli("info", folder, "--json").stdout)
    assert info["neighbour_index"]["rows"] == info["vocab_size"]
    approximate = wordspace_cli("neighbors", folder, "city", "--approximate", "--json")
    exact = wordspace_cli("neighbors", folder, "city", "--json")
    assert approximate.returncode == 0, approximate.stderr
    runs = (approximate, exact)
    first = [[n["word"] for n in json.loads(r.stdout)["neighbors"][:3]] for r in runs]
    assert first[0] == first[1]


def test_the_cli_refuses_a_model_that_is_not_a_native_folder(small_word_model, tmp_path):
    text = tmp_path / "vectors.txt"
    save(wordspace.load(small_word_model), text, "word2vec-txt")
    refused = wordspace_cli("index", text)
    assert refused.returncode == 2
    assert refused.stderr.count("\n") == 1
    assert "kept in a native model folder" in refused.stderr
