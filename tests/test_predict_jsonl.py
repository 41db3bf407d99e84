"""``wordspace predict --jsonl``: JSON lines in, the same objects out with the predicted
labels and probabilities added, streamed in blocks, with one-line errors naming the line."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest

from wordspace import jsonl
from wordspace.classify import Predictor
from wordspace.errors import InputError
from wordspace.formats import load_model

from .conftest import SHARED_DATA, require

TREC = SHARED_DATA / "classification" / "senteval"


@pytest.fixture(scope="module")
def classifier(tmp_path_factory):
    out = tmp_path_factory.mktemp("jsonl") / "m"
    command = [sys.executable, "-m", "wordspace", "train", "supervised"]
    flags = ["--dim", "10", "--word-ngrams", "2", "--lr", "0.25", "-q"]
    result = subprocess.run(
        [*command, str(require(TREC / "trec.train.txt")), "-o", str(out), *flags],
        capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return out


def _questions(n):
    lines = (TREC / "trec.test.txt").read_text(encoding="utf-8").splitlines()[:n]
    return [line.split(" ", 1)[1] for line in lines]


def test_jsonl_objects_come_back_with_the_labels_predict_gives(classifier, tmp_path):
    texts = _questions(300)
    records = [{"id": i, "meta": {"é": [1, 2.5]}, "text": t} for i, t in enumerate(texts)]
    records.append({"id": "multi", "text": "what is the\ncapital of france ?"})
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    command = [sys.executable, "-m", "wordspace", "predict", str(classifier), str(path)]
    result = subprocess.run([*command, "--jsonl", "-k", "2"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    predictor = Predictor(load_model(classifier))
    flat = [r["text"].replace("\n", " ") for r in records]
    want = predictor.predict(flat, k=2)
    assert len(out) == len(records)
    for record, got, expected in zip(records, out, want, strict=True):
        assert {k: got[k] for k in record} == record
        assert got[jsonl.LABELS_KEY] == [label for label, _ in expected]
        assert got[jsonl.PROBABILITIES_KEY] == pytest.approx([p for _, p in expected])


def test_jsonl_across_block_boundaries_keeps_every_line_in_order(classifier, monkeypatch):
    monkeypatch.setattr(jsonl, "BLOCK_BYTES", 97)
    texts = _questions(200)
    data = "".join(json.dumps({"n": i, "body": t}) + "\n" for i, t in enumerate(texts))
    predictor = Predictor(load_model(classifier))
    written = io.BytesIO()
    count = jsonl.predict_jsonl(
        predictor, io.BytesIO(data.encode()), written.write, field="body", workers=2
    )
    out = [json.loads(line) for line in written.getvalue().decode().splitlines()]
    assert count == len(out) == len(texts)
    assert [o["n"] for o in out] == list(range(len(texts)))
    want = predictor.predict(texts)
    assert [o[jsonl.LABELS_KEY] for o in out] == [[label for label, _ in w] for w in want]


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (['{"text": "a"}', "{oops"], r"in\.jsonl, line 2: not valid JSON"),
        (['["text"]'], r"line 1: not a JSON object"),
        (['{"text": "a"}', '{"body": "b"}'], r"line 2: the object has no 'text' field"),
        (['{"text": 3}'], r"line 1: the object has a non-string 'text' field"),
        (['{"text": "a", "predicted_labels": []}'], r"line 1: the object already holds"),
        (['{"text": "a"}', ""], r"line 2: not valid JSON"),
    ],
)
def test_bad_json_lines_are_refused_naming_the_line(classifier, tmp_path, lines, message):
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(lines) + "\n")
    predictor = Predictor(load_model(classifier))
    with pytest.raises(InputError, match=message), path.open("rb") as stream:
        jsonl.predict_jsonl(predictor, stream, lambda _: None, name=str(path))


def test_the_cli_refuses_bad_json_lines_in_one_line(classifier):
    command = [sys.executable, "-m", "wordspace", "predict", str(classifier), "-", "--jsonl"]
    result = subprocess.run(command, input='{"text": "ok"}\nnot json\n', capture_output=True,
                            text=True)  # fmt: skip
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "line 2: not valid JSON" in result.stderr
