"""`wordspace serve`: the real server in a subprocess on a free loopback port, over HTTP."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys

import numpy as np
import pytest

import wordspace
from wordspace.formats.native import read_meta
from wordspace.neighbour_index import build_index
from wordspace.sentences import SentenceEmbedder

from .conftest import TINY_SENTENCES
from .servers import running


@pytest.fixture(scope="module")
def word_server(small_word_model):
    with running(small_word_model, "--max-batch", "50", "--max-body-bytes", "20000") as server:
        yield server[0]


@pytest.fixture(scope="module")
def word_vectors(small_word_model):
    return wordspace.load(small_word_model)


def test_health_and_info(word_server, word_vectors):
    assert word_server.get("/healthz").json() == {"status": "ok"}
    info = word_server.get("/v1/info").json()
    assert info["kind"] == "word"
    assert info["dim"] == 32
    assert info["vocab_size"] == len(word_vectors)
    assert info["limits"]["max_batch"] == 50
    assert "/v1/similar" in word_server.get("/openapi.json").json()["paths"]


def test_words_with_a_prefix_come_most_frequent_first(word_server, word_vectors):
    answer = word_server.get("/v1/words", params={"prefix": "c", "limit": 5}).json()
    expected = [w for w in word_vectors.vocab.words if w.startswith("c")][:5]
    assert answer["words"] == expected
    assert word_server.get("/v1/words", params={"prefix": "zzqxq"}).json() == {"words": []}
    refused = word_server.get("/v1/words", params={"prefix": "c", "limit": 0})
    assert refused.status_code == 422
    assert "limit must be between 1 and 1000" in refused.json()["error"]


def test_the_explorer_page_is_served_at_the_root(word_server):
    page = word_server.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "<title>" in page.text


def test_vectors_of_known_and_unknown_words(word_server, word_vectors):
    answer = word_server.post("/v1/vectors", json={"words": ["city", "zzqxq", "war"]}).json()
    assert answer["in_vocab"] == [True, False, True]
    assert answer["has_vector"] == [True, False, True]
    assert answer["vectors"][1] is None
    np.testing.assert_allclose(answer["vectors"][0], word_vectors["city"], rtol=1e-6)
    np.testing.assert_allclose(answer["vectors"][2], word_vectors["war"], rtol=1e-6)


def test_similar_analogy_and_similarity_equal_the_library(word_server, word_vectors):
    answer = word_server.post("/v1/similar", json={"positive": ["city"], "k": 5}).json()
    assert [r["word"] for r in answer["results"]] == [
        w for w, _ in word_vectors.most_similar("city", topn=5)
    ]
    by_vector = word_server.post(
        "/v1/similar", json={"vector": word_vectors["war"].tolist(), "k": 3}
    ).json()
    assert [r["word"] for r in by_vector["results"]] == [
        w for w, _ in word_vectors.most_similar(word_vectors["war"], topn=3)
    ]
    common = word_server.post(
        "/v1/similar", json={"positive": ["city"], "k": 5, "restrict_vocab": 300}
    ).json()
    assert [r["word"] for r in common["results"]] == [
        w for w, _ in word_vectors.most_similar("city", topn=5, restrict_vocab=300)
    ]
    analogy = word_server.post("/v1/analogy", json={"a": "man", "b": "king", "c": "woman"})
    assert (
        analogy.json()["results"][0]["word"] == word_vectors.analogy("man", "king", "woman")[0][0]
    )
    pairs = word_server.post("/v1/similarity", json={"pairs": [["city", "war"], ["city", "zq"]]})
    first, second = pairs.json()["similarities"]
    assert first == pytest.approx(word_vectors.similarity("city", "war"), abs=1e-6)
    assert second is None


def test_embed_equals_the_sentence_embedder(word_server, word_vectors):
    sentences = ["the city of the war", "", "zzqxq"]
    answer = word_server.post("/v1/embed", json={"sentences": sentences}).json()
    assert answer["empty"] == 2
    np.testing.assert_allclose(
        answer["vectors"], SentenceEmbedder(word_vectors).embed(sentences), rtol=1e-6
    )


BAD_REQUESTS = [
    ("/v1/vectors", b'{"words": [', 422, "not valid JSON"),
    ("/v1/vectors", {"words": [1, 2]}, 422, "valid string"),
    ("/v1/vectors", {"words": ["a"], "extra": 1}, 422, "Extra inputs"),
    ("/v1/vectors", {"words": []}, 422, "words is empty"),
    ("/v1/vectors", {"words": ["two words"]}, 422, "not a word"),
    ("/v1/vectors", {"words": ["w"] * 51}, 422, "at most 50 words"),
    ("/v1/vectors", {"words": "city"}, 422, "valid list"),
    ("/v1/similar", {"positive": ["city"], "k": 0}, 422, "k must be between 1 and 1000"),
    ("/v1/similar", {"positive": ["city"], "k": 1001}, 422, "k must be between"),
    ("/v1/similar", {"positive": ["zzqxq"]}, 404, "'zzqxq' has no vector"),
    ("/v1/similar", {}, 422, "give positive or negative words"),
    ("/v1/similar", {"positive": ["city"], "restrict_vocab": 0}, 422, "restrict_vocab must be"),
    ("/v1/similar", {"vector": [1.0, 2.0]}, 422, "dimension is 32"),
    ("/v1/similar", {"vector": [0.0] * 32}, 422, "all zeros"),
    ("/v1/similarity", {"pairs": [["city"]]}, 422, "at least 2 items"),
    ("/v1/analogy", {"a": "man", "b": "king"}, 422, "c: Field required"),
    ("/v1/analogy", {"a": "man", "b": "king", "c": "woman", "method": "x"}, 422, "'add'"),
    ("/v1/embed", {"sentences": ["x" * 10_001]}, 422, "over 10,000"),
    ("/v1/predict", {"texts": ["the city"]}, 404, "needs a classifier"),
    ("/v1/nothing", {}, 404, "Not Found"),
]


@pytest.mark.parametrize(("path", "body", "status", "message"), BAD_REQUESTS)
def test_bad_requests_get_a_4xx_with_a_json_error(word_server, path, body, status, message):
    if isinstance(body, bytes):
        response = word_server.post(
            path, content=body, headers={"content-type": "application/json"}
        )
    else:
        response = word_server.post(path, json=body)
    assert response.status_code == status, response.text
    assert message in response.json()["error"]


def test_a_body_over_the_limit_is_refused_with_413(word_server):
    response = word_server.post("/v1/embed", json={"sentences": ["a " * 6000] * 2})
    assert response.status_code == 413
    assert "over the limit of 20,000 bytes" in response.json()["error"]

    def chunks():
        yield b'{"sentences": ["'
        for _ in range(30):
            yield b"a " * 500
        yield b'"]}'

    chunked = word_server.post(
        "/v1/embed", content=chunks(), headers={"content-type": "application/json"}
    )
    assert chunked.status_code == 413


def test_metrics_count_requests_and_errors(word_server):
    word_server.post("/v1/vectors", json={"words": []})
    text = word_server.get("/metrics").text
    assert 'wordspace_requests_total{endpoint="/v1/vectors",status="422"}' in text
    assert 'wordspace_errors_total{endpoint="/v1/vectors"}' in text
    assert "wordspace_request_seconds_bucket" in text


def test_subword_server_answers_unseen_words_from_their_ngrams(tiny_corpus, tmp_path):
    model = wordspace.FastText(dim=8, epochs=1, min_count=1, bucket=2000, workers=1)
    model.fit(str(tiny_corpus)).save(tmp_path / "sub")
    vectors = wordspace.load(tmp_path / "sub")
    with running(tmp_path / "sub", "--preload") as (client, _):
        assert client.get("/v1/info").json()["kind"] == "subword"
        answer = client.post("/v1/vectors", json={"words": ["foxes", "dog"]}).json()
    assert answer["in_vocab"] == [False, True]
    assert answer["has_vector"] == [True, True]
    np.testing.assert_allclose(answer["vectors"][0], vectors["foxes"], rtol=1e-5, atol=1e-7)


def test_classifier_server_predicts_as_the_classifier(tiny_corpus, tmp_path):
    lines = [f"__label__{i % 2} {s}" for i, s in enumerate(TINY_SENTENCES * 30)]
    classifier = wordspace.Classifier(dim=8, epochs=5, workers=1).fit(lines)
    classifier.save(tmp_path / "clf")
    texts = ["the quick brown fox", "a lazy dog"]
    with running(tmp_path / "clf", "--workers", "2") as (client, _):
        info = client.get("/v1/info").json()
        answer = client.post("/v1/predict", json={"texts": texts, "k": 2}).json()
        refused = client.post("/v1/predict", json={"texts": texts, "threshold": 2})
        assert "wordspace_requests_total" in client.get("/metrics").text
    assert info["kind"] == "classifier"
    assert sorted(info["labels"]) == ["__label__0", "__label__1"]
    expected = classifier.predict(texts, k=2)
    got = [[(p["label"], p["probability"]) for p in line] for line in answer["predictions"]]
    assert got == expected
    assert refused.status_code == 422


def test_similar_uses_the_neighbour_index_unless_asked_to_be_exact(small_word_model, tmp_path):
    pytest.importorskip("faiss", reason="needs faiss-cpu (the test extra)")
    folder = tmp_path / "indexed"
    shutil.copytree(small_word_model, folder)
    vectors = wordspace.load(folder)
    build_index(folder, vectors.matrix, vectors.norms, read_meta(folder), threads=1)
    with running(folder) as (client, _):
        assert client.get("/v1/info").json()["neighbour_index"]["rows"] == len(vectors)
        fast = client.post("/v1/similar", json={"positive": ["city"], "k": 5}).json()
        exact = client.post("/v1/similar", json={"positive": ["city"], "k": 5, "exact": True})
    assert fast["exact"] is False and exact.json()["exact"] is True
    expected = [w for w, _ in vectors.most_similar("city", topn=5, exact=False)]
    assert [r["word"] for r in fast["results"]] == expected


def test_sigterm_stops_the_server_gracefully(small_word_model):
    with running(small_word_model) as (client, process):
        assert client.get("/healthz").status_code == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0


def test_a_model_that_cannot_be_served_is_refused_in_one_line(tmp_path):
    (tmp_path / "broken.txt").write_text("3 4\nnot a vector file\n")
    for model in (tmp_path / "missing", tmp_path / "broken.txt"):
        result = subprocess.run(
            [sys.executable, "-m", "wordspace.cli", "serve", str(model), "--port", "1"],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert result.returncode == 2, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
