"""The web explorer at `/` in a real browser (Debian's chromium driven by Playwright) over a
real `wordspace serve`: suggestions, neighbours and their map, analogies, sentences,
predictions, API errors shown in the page, and no request to any other host (it works
offline)."""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest

import wordspace

from .conftest import TINY_SENTENCES
from .servers import running

CHROMIUM = "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else shutil.which("chromium")
if CHROMIUM is None and os.environ.get("WORDSPACE_REQUIRE_BROWSER") == "1":
    raise RuntimeError("WORDSPACE_REQUIRE_BROWSER=1 (CI) but no chromium is installed")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="needs a chromium browser (/usr/bin/chromium) to drive"
)
sync_api = pytest.importorskip("playwright.sync_api", reason="needs playwright (the test extra)")
expect = sync_api.expect

WORD = "city"
MISSING_RESOURCE = re.compile(r"^Failed to load resource: .* status of 404")


@dataclass
class Visit:
    """One page of the explorer, with what went wrong while it was open."""

    page: sync_api.Page
    host: str
    console_errors: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)

    def console(self, message: sync_api.ConsoleMessage) -> None:
        if message.type == "error":
            self.console_errors.append(message.text)

    def request(self, request: sync_api.Request) -> None:
        url = urlsplit(request.url)
        if url.scheme != "data" and url.netloc != self.host:
            self.foreign_requests.append(request.url)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def word_server(small_word_model):
    with running(small_word_model) as (client, _):
        yield client


def visit(browser, client):
    """The explorer served by ``client``'s server, open in a new page that records console
    errors and every request to another host."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    seen = Visit(page, urlsplit(str(client.base_url)).netloc)
    page.on("console", seen.console)
    page.on("request", seen.request)
    page.on("pageerror", lambda error: seen.console_errors.append(str(error)))
    page.goto(f"{client.base_url}/")
    expect(page.locator("#model")).to_contain_text("dimensions")
    return seen


@pytest.fixture
def explorer(browser, word_server):
    """The explorer of the word model; the test fails on a console error or a request to
    another host."""
    seen = visit(browser, word_server)
    yield seen
    seen.page.close()
    assert seen.console_errors == []
    assert seen.foreign_requests == []


def explore(page, word: str) -> None:
    page.fill("#word", word)
    page.press("#word", "Enter")


def test_the_page_names_the_model_and_hides_predict_for_a_word_model(explorer, word_server):
    info = word_server.get("/v1/info").json()
    model = explorer.page.locator("#model")
    expect(model).to_contain_text(f"{info['name']} · word model · {info['dim']} dimensions")
    expect(model).to_contain_text(f"{info['vocab_size']:,} words")
    expect(explorer.page.locator("#predict")).to_be_hidden()


def test_typing_a_prefix_suggests_vocabulary_words(explorer, word_server):
    expected = word_server.get("/v1/words", params={"prefix": WORD[:2]}).json()["words"]
    assert WORD in expected
    explorer.page.locator("#word").press_sequentially(WORD[:2])
    explorer.page.wait_for_function(
        "words => [...document.querySelectorAll('#suggestions option')]"
        ".map((o) => o.value).join(' ') === words",
        arg=" ".join(expected),
    )


def test_a_word_shows_its_scored_neighbours_and_their_map(explorer, word_server, tmp_path):
    page = explorer.page
    page.fill("#k", "8")
    explore(page, WORD)
    items = page.locator("#neighbours li")
    expect(items).to_have_count(8)
    expected = word_server.post("/v1/similar", json={"positive": [WORD], "k": 8}).json()
    assert items.locator(".word").all_inner_texts() == [r["word"] for r in expected["results"]]
    scores = [float(s) for s in items.locator(".score").all_inner_texts()]
    np.testing.assert_allclose(scores, [r["score"] for r in expected["results"]], atol=5e-4)
    expect(page.locator("#map svg circle")).to_have_count(9)
    labels = page.locator("#map svg text").all_text_contents()
    assert labels == [WORD, *(r["word"] for r in expected["results"])]
    expect(page.locator("#map .query text")).to_have_text(WORD)
    assert page.url.endswith(f"#{WORD}")
    page.screenshot(path=tmp_path / "explorer.png")


def test_clicking_a_neighbour_in_the_list_or_the_map_explores_it(explorer):
    page = explorer.page
    explore(page, WORD)
    first = page.locator("#neighbours li .word").first
    expect(first).to_be_visible()
    neighbour = first.inner_text()
    first.click()
    expect(page.locator("#map .query text")).to_have_text(neighbour)
    expect(page.locator("#word")).to_have_value(neighbour)
    mark = page.locator("#map .mark:not(.query)").first
    second = mark.locator("text").text_content()
    mark.locator("circle").dispatch_event("click")
    expect(page.locator("#map .query text")).to_have_text(second)
    page.go_back()
    expect(page.locator("#map .query text")).to_have_text(neighbour)


def test_the_analogy_form_answers_as_the_api(explorer, word_server):
    page = explorer.page
    question = {"a": "man", "b": "king", "c": "woman"}
    for name, word in question.items():
        page.fill(f"#analogy-{name}", word)
    page.click("#analogy-form button[type=submit]")
    answers = page.locator("#analogy-results li .word")
    expect(answers).to_have_count(5)
    expected = word_server.post("/v1/analogy", json={**question, "k": 5}).json()["results"]
    assert answers.all_inner_texts() == [r["word"] for r in expected]


def test_two_sentences_get_their_cosine_and_nearest_words(explorer, word_server):
    page = explorer.page
    sentences = TINY_SENTENCES[:2]
    page.fill("#sentence-a", sentences[0])
    page.fill("#sentence-b", sentences[1])
    page.click("#sentence-form button[type=submit]")
    a, b = np.array(word_server.post("/v1/embed", json={"sentences": sentences}).json()["vectors"])
    cosine = a @ b / np.linalg.norm(a) / np.linalg.norm(b)
    expect(page.locator("#sentence-cosine")).to_have_text(f"{cosine:.3f}")
    expect(page.locator("#sentence-result .near")).to_have_count(2)


def test_an_unknown_word_shows_the_api_error_in_the_page(explorer, word_server):
    page = explorer.page
    explore(page, WORD)
    expect(page.locator("#neighbours li")).not_to_have_count(0)
    explore(page, "zzqqx")
    message = word_server.post("/v1/similar", json={"positive": ["zzqqx"]}).json()["error"]
    expect(page.locator("#word-error")).to_have_text(message)
    expect(page.locator("#neighbours li")).to_have_count(0)
    expect(page.locator("#map svg")).to_have_count(0)
    page.fill("#analogy-a", "man")
    page.fill("#analogy-b", "zzqqx")
    page.fill("#analogy-c", "woman")
    page.click("#analogy-form button[type=submit]")
    expect(page.locator("#analogy-error")).to_have_text("word 'zzqqx' has no vector in this model")
    explore(page, WORD)
    expect(page.locator("#word-error")).to_be_hidden()
    assert len(explorer.console_errors) == 2
    assert all(MISSING_RESOURCE.match(e) for e in explorer.console_errors)
    explorer.console_errors.clear()


def test_a_classifier_gets_a_predict_box_answering_as_the_api(browser, tmp_path):
    lines = [f"__label__{i % 2} {s}" for i, s in enumerate(TINY_SENTENCES * 30)]
    wordspace.Classifier(dim=8, epochs=5, workers=1).fit(lines).save(tmp_path / "clf")
    with running(tmp_path / "clf") as (client, _):
        seen = visit(browser, client)
        page = seen.page
        expect(page.locator("#model")).to_contain_text("classifier model · 8 dimensions · ")
        page.fill("#predict-text", "the quick brown fox")
        page.fill("#predict-k", "2")
        page.click("#predict-form button[type=submit]")
        labels = page.locator("#predictions li .label")
        expect(labels).to_have_count(2)
        body = {"texts": ["the quick brown fox"], "k": 2}
        expected = client.post("/v1/predict", json=body).json()["predictions"][0]
        assert labels.all_inner_texts() == [p["label"] for p in expected]
        page.close()
    assert seen.console_errors == []
    assert seen.foreign_requests == []
