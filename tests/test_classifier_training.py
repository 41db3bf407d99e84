"""Training classifiers (fastText's supervised mode): accuracy next to fastText's on the same
data and parameters, and models that fastText itself loads and predicts the same with."""

from __future__ import annotations

import numpy as np
import pytest

from wordspace import ParameterError, export
from wordspace.formats import load_model
from wordspace.models.classifier import Classifier

from .conftest import SHARED_DATA, require, train_in_fresh_process

fasttext = pytest.importorskip("fasttext")

SENTEVAL = SHARED_DATA / "classification" / "senteval"
SETTINGS = {
    "softmax": {"word_ngrams": 2, "dim": 10, "lr": 0.25},
    "ns": {"dim": 10},
    "hs": {"word_ngrams": 2, "dim": 10, "lr": 0.25},
    "ova": {"dim": 10, "lr": 0.25, "minn": 2, "maxn": 4, "bucket": 100_000},
}


@pytest.fixture(scope="module", params=sorted(SETTINGS))
def trained(request):
    params = SETTINGS[request.param]
    model = Classifier(loss=request.param, epochs=5, workers=1, **params)
    return request.param, params, model.fit(require(SENTEVAL / "trec.train.txt"))


def test_accuracy_is_fasttexts_within_two_points(trained, tmp_path):
    loss, params, model = trained
    test = SENTEVAL / "trec.test.txt"
    theirs = {
        "wordNgrams": params.get("word_ngrams", 1), "dim": params["dim"],
        "lr": params.get("lr", 0.1), "minn": params.get("minn", 0),
        "maxn": params.get("maxn", 0), "bucket": params.get("bucket", 2_000_000),
    }  # fmt: skip
    facebook = train_in_fresh_process(
        "supervised", SENTEVAL / "trec.train.txt", tmp_path / "ft.bin", loss=loss, epoch=5,
        thread=1, verbose=0, **theirs,
    )  # fmt: skip
    _, want, _ = facebook.test(str(test))
    score = model.score(test)
    assert score.examples == 500
    assert score.precision > want - 0.02, (loss, score.precision, want)


def test_our_bin_predicts_the_same_in_fasttext(trained, tmp_path):
    _, _, model = trained
    export(model.model, tmp_path / "ours.bin", "fasttext-bin")
    facebook = fasttext.load_model(str(tmp_path / "ours.bin"))
    lines = (SENTEVAL / "trec.test.txt").read_text(encoding="utf-8").splitlines()[:200]
    ours = model.predict(lines, k=2)
    for line, got in zip(lines, ours, strict=True):
        labels, probs = facebook.predict(line, k=2)
        assert [label for label, _ in got] == list(labels), line
        np.testing.assert_allclose([p for _, p in got], probs, atol=1e-5, err_msg=line)


def test_a_saved_classifier_loads_and_predicts_the_same(trained, tmp_path):
    _, _, model = trained
    model.save(tmp_path / "m")
    from wordspace.classify import Predictor

    again = Predictor(load_model(tmp_path / "m"))
    lines = ["what is the capital of france ?", "how many feet in a mile ?", ""]
    assert again.predict(lines, k=3) == model.predict(lines, k=3)


def test_bad_classifier_parameters_are_refused_naming_them():
    with pytest.raises(ParameterError, match="loss"):
        Classifier(loss="nope")
    with pytest.raises(ParameterError, match="need bucket > 0"):
        Classifier(word_ngrams=2, bucket=0)
    with pytest.raises(ParameterError, match="minn=5 must not exceed maxn=3"):
        Classifier(minn=5, maxn=3)


def test_the_cli_trains_a_classifier_that_test_scores(tmp_path):
    import subprocess
    import sys

    train = require(SENTEVAL / "trec.train.txt")
    out = tmp_path / "m"
    command = [sys.executable, "-m", "wordspace", "train", "supervised", str(train), "-o"]
    flags = ["--word-ngrams", "2", "--dim", "10", "--lr", "0.25", "-q", "--json"]
    result = subprocess.run([*command, str(out), *flags], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    test = [sys.executable, "-m", "wordspace", "test", str(out), str(SENTEVAL / "trec.test.txt")]
    scored = subprocess.run([*test, "--json"], capture_output=True, text=True)
    assert scored.returncode == 0, scored.stderr
    import json

    figures = json.loads(scored.stdout)
    assert figures["examples"] == 500 and figures["precision"] > 0.85


def test_a_one_label_hierarchical_softmax_classifier_keeps_fasttexts_shape(tmp_path):
    text = tmp_path / "one.txt"
    text.write_text("__label__only some words here\n__label__only more words\n" * 20)
    model = Classifier(loss="hs", dim=8, epochs=1, workers=1).fit(text)
    assert model.model.output.shape == (1, 8)
    assert model.predict(["some words"]) == [[("__label__only", pytest.approx(1.0, abs=1e-4))]]
