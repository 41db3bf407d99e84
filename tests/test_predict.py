"""Predicting with Facebook's supervised models: the labels and probabilities fastText gives.

Each model is trained by the real fastText on a shared SentEval set; our predictions of its
test lines, and of lines built to hit the edge cases of fastText's tokeniser, must equal
fastText's ``predict``: the same labels in the same order (ties included) and probabilities
within 1e-6.
"""

from __future__ import annotations

import gzip
import subprocess
import sys

import numpy as np
import pytest

from wordspace import ParameterError, classify, export, load
from wordspace.classify import Predictor, predict_stream, score_stream
from wordspace.formats import load_model

from .conftest import SHARED_DATA, require, train_in_fresh_process

fasttext = pytest.importorskip("fasttext")

SENTEVAL = SHARED_DATA / "classification" / "senteval"
EDGE_LINES = [
    "",
    "   ",
    "totally unseen wordz here",
    "__label__NUM only a label and words",
    "__label__unknownlabel is skipped as a label",
    "é 日本 🙂 zürich",
    "tabs\tand\vvertical\ftabs\rand CR",
    "many     spaces    between",
    "What is the capital of France ?",
    "a",
    "a literal </s> and __label__NUM in the middle of a line",
    " ".join(["How many unseenwordy people live in the city ?"] * 300),
    # unknown words longer than the kernel's first scratch for their character n-grams
    "what is " + "q" * 300 + " then " + "ü" * 90 + " ?",
]
SETTINGS = {
    "softmax-bigrams": {"wordNgrams": 2, "dim": 10, "lr": 0.25},
    "ova-char-ngrams": {"wordNgrams": 3, "minn": 2, "maxn": 4, "dim": 16, "loss": "ova"},
    "ns": {"wordNgrams": 1, "loss": "ns", "dim": 8},
    "hs-char-ngrams": {"wordNgrams": 2, "minn": 3, "maxn": 5, "dim": 12, "loss": "hs"},
}


@pytest.fixture(scope="module", params=sorted(SETTINGS))
def trained(request, tmp_path_factory):
    train = require(SENTEVAL / "trec.train.txt")
    path = tmp_path_factory.mktemp("sup") / f"{request.param}.bin"
    model = train_in_fresh_process(
        "supervised", train, path, epoch=3, thread=1, bucket=50_000, verbose=0,
        **SETTINGS[request.param],
    )  # fmt: skip
    return model, path


def _test_lines():
    lines = (SENTEVAL / "trec.test.txt").read_text(encoding="utf-8").splitlines()
    return lines + EDGE_LINES


@pytest.mark.parametrize(("k", "threshold"), [(3, 0.0), (6, 0.05)])
def test_predictions_equal_fasttexts_labels_and_probabilities(trained, k, threshold):
    facebook, path = trained
    lines = _test_lines()
    ours = Predictor(load_model(path)).predict(lines, k=k, threshold=threshold)
    for line, got in zip(lines, ours, strict=True):
        labels, probs = facebook.predict(line, k=k, threshold=threshold)
        assert [label for label, _ in got] == list(labels), line
        np.testing.assert_allclose([p for _, p in got], probs, atol=1e-6, err_msg=line)


def test_the_cli_prints_fasttexts_labels_for_every_line_of_a_stream(trained, tmp_path):
    facebook, path = trained
    lines = _test_lines()
    source = tmp_path / "lines.txt.gz"
    with gzip.open(source, "wt", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")
    command = [sys.executable, "-m", "wordspace", "predict", str(path), str(source), "-k", "2"]
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    printed = result.stdout.split("\n")[:-1]
    assert len(printed) == len(lines)
    for line, shown in zip(lines, printed, strict=True):
        labels, _ = facebook.predict(line, k=2)
        assert shown.split()[::2] == list(labels), line
    # without a newline after the last line, it is still predicted (without the </s> that
    # fastText reads only from a newline)
    source.write_bytes(gzip.compress("\n".join(["what is it", "how many feet"]).encode()))
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0 and len(result.stdout.split("\n")[:-1]) == 2


def test_batches_of_a_stream_predict_as_the_whole_text(trained, tmp_path, monkeypatch):
    _, path = trained
    predictor = Predictor(load_model(path))
    text = ("\n".join(_test_lines()) + "\n").encode("utf-8")
    whole = predictor.predict_text(np.frombuffer(text, np.uint8), k=2)
    monkeypatch.setattr(classify, "BLOCK_BYTES", 300)
    file = tmp_path / "t.txt"
    file.write_bytes(text)
    with open(file, "rb") as stream:
        batches = list(predict_stream(predictor, stream, 2, 0.0, workers=2))
    assert len(batches) > 3
    np.testing.assert_array_equal(np.concatenate([ids for ids, _ in batches]), whole[0])
    np.testing.assert_array_equal(np.concatenate([p for _, p in batches]), whole[1])


def test_a_line_holding_a_newline_and_bad_k_are_refused(trained):
    predictor = Predictor(load_model(trained[1]))
    with pytest.raises(ParameterError, match="newline"):
        predictor.predict(["one\ntwo"])
    with pytest.raises(ParameterError, match="k must be"):
        predictor.predict(["one"], k=0)
    with pytest.raises(ParameterError, match="threshold"):
        predictor.predict(["one"], threshold=2.0)


def test_a_model_without_labels_is_refused_in_one_line(tmp_path, tiny_model):
    train = require(SENTEVAL / "trec.train.txt")
    words = tmp_path / "words.bin"
    export(load(tiny_model), words, "fasttext-bin")
    command = [sys.executable, "-m", "wordspace", "predict", str(words), str(train)]
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: the model has no labels: it is not a classifier"
    ]


@pytest.mark.parametrize("k", [1, 2])
def test_scores_on_labelled_lines_equal_fasttexts_test(trained, k):
    facebook, path = trained
    test_file = SENTEVAL / "trec.test.txt"
    predictor = Predictor(load_model(path))
    with open(test_file, "rb") as stream:
        score = score_stream(predictor, stream, k)
    n, precision, recall = facebook.test(str(test_file), k=k)
    assert (score.examples, score.k) == (n, k)
    assert score.precision == pytest.approx(precision, abs=1e-12)
    assert score.recall == pytest.approx(recall, abs=1e-12)
    theirs = facebook.test_label(str(test_file), k=k)
    for row in score.per_label():
        want = theirs[row["label"]]
        for ours, key in (("precision", "precision"), ("recall", "recall"), ("f1", "f1score")):
            assert row[ours] == pytest.approx(want[key], nan_ok=True), (row, want)


def test_the_test_command_prints_fasttexts_figures(trained):
    facebook, path = trained
    test_file = SENTEVAL / "trec.test.txt"
    command = [sys.executable, "-m", "wordspace", "test", str(path), str(test_file), "-k", "2"]
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    n, precision, recall = facebook.test(str(test_file), k=2)
    assert result.stdout == f"N\t{n}\nP@2\t{precision:.3f}\nR@2\t{recall:.3f}\n"
