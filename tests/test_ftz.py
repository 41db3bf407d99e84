"""Quantized fastText models (``.ftz``): decoded rows and predictions equal Facebook fastText's.

Each model is trained and quantized by the real fastText in a fresh process (it misbehaves
when one process trains several models), on the shared TREC set or on a 378-label set made
from it (output quantization needs at least 256 rows). That process also writes fastText's
predictions of the test lines. The cases cover ``qnorm`` on and off, ``qout`` on and off,
``cutoff`` (pruned: words and buckets dropped) and none, char n-grams, and dimensions that
``dsub`` does not divide (so the last sub-quantizer is narrower).

The rows we decode must equal fastText's ``get_input_vector`` (and dense output matrices
its ``getOutputMatrix``) bit for bit; predictions must give the same labels in the same
order and probabilities within 1e-5 (``-qout`` scores are products with the code norm
taken after the dot product in fastText, before it here).
"""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from wordspace import ModelFileError
from wordspace.classify import Predictor
from wordspace.errors import OutputError
from wordspace.formats import convert, detect_format, load_model
from wordspace.formats.fasttext import load_native, save_native, write_fasttext_bin
from wordspace.formats.quantized import _MATRIX_HEAD, _QUANTIZER_HEAD
from wordspace.kernels.quantized import KSUB

from .conftest import SHARED_DATA, require

fasttext = pytest.importorskip("fasttext")

SENTEVAL = SHARED_DATA / "classification" / "senteval"
EDGE_LINES = [
    "",
    "totally unseen wordz here",
    "é 日本 🙂 zürich",
    "What is the capital of France ?",
]
CASES = {
    # word bigrams, pruned to 1,000 rows (retrained), norms quantized
    "pruned-qnorm": {
        "data": "trec",
        "params": {"dim": 10, "wordNgrams": 2, "bucket": 20_000},
        "quantize": {"qnorm": True, "cutoff": 1000, "retrain": True},
    },
    # char n-grams, dim 15 in sub-quantizers of 2 (the last one of 1), no qnorm
    "pruned-chars-odd-dim": {
        "data": "trec",
        "params": {"dim": 15, "wordNgrams": 2, "minn": 2, "maxn": 4, "bucket": 20_000},
        "quantize": {"qnorm": False, "cutoff": 1500},
    },
    # not pruned: every word and bucket, dim 9 in sub-quantizers of 4 (the last one of 1)
    "whole-dsub4": {
        "data": "trec",
        "params": {"dim": 9, "wordNgrams": 2, "bucket": 1000},
        "quantize": {"qnorm": True, "cutoff": 0, "dsub": 4},
    },
    # 378 labels: the output matrix quantized too, pruned, norms quantized
    "qout-pruned": {
        "data": "many",
        "params": {"dim": 12, "wordNgrams": 2, "bucket": 5000},
        "quantize": {"qnorm": True, "cutoff": 600, "qout": True, "retrain": True},
    },
    # the output matrix quantized, not pruned, no qnorm
    "qout-whole": {
        "data": "many",
        "params": {"dim": 8, "wordNgrams": 2, "bucket": 500},
        "quantize": {"qnorm": False, "cutoff": 0, "qout": True},
    },
}
KS = (1, 3)
WHOLE = sorted(name for name, case in CASES.items() if not case["quantize"]["cutoff"])
PRUNED = sorted(name for name, case in CASES.items() if case["quantize"]["cutoff"])

FASTTEXT_SCRIPT = r"""
import json, sys, fasttext
spec = json.loads(sys.argv[1])
if "params" in spec:
    model = fasttext.train_supervised(
        spec["train"], epoch=3, thread=1, verbose=0, seed=1, **spec["params"])
    model.quantize(input=spec["train"], thread=1, **spec["quantize"])
    model.save_model(spec["model"])
else:
    model = fasttext.load_model(spec["model"])
with open(spec["lines"], encoding="utf-8", newline="") as src:
    lines = src.read().split("\n")
out = {}
for k in spec["ks"]:
    found = [model.predict(line, k=k) for line in lines]
    out[str(k)] = [[list(labels), [float(p) for p in probs]] for labels, probs in found]
with open(spec["json"], "w") as dst:
    json.dump(out, dst)
"""


def _run_fasttext(spec: dict) -> dict:
    """Run FASTTEXT_SCRIPT in a new process; fastText's predictions, by k then line."""
    subprocess.run([sys.executable, "-c", FASTTEXT_SCRIPT, json.dumps(spec)], check=True)
    return json.loads(Path(spec["json"]).read_text())


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """The training files (TREC, and the 378-label set made from it) and the test lines."""
    trec = require(SENTEVAL / "trec.train.txt")
    folder = tmp_path_factory.mktemp("ftz-data")
    texts = [line.split(maxsplit=1)[1] for line in trec.read_text(encoding="utf-8").splitlines()]
    longest = [max(text.split(), key=len) for text in texts]
    seen = Counter(longest)
    many = folder / "many.txt"
    many.write_text(
        "".join(f"__label__{w} {t}\n" for w, t in zip(longest, texts, strict=True) if seen[w] >= 3),
        encoding="utf-8",
    )
    lines = require(SENTEVAL / "trec.test.txt").read_text(encoding="utf-8").splitlines()
    lines += EDGE_LINES
    lines_file = folder / "lines.txt"
    with open(lines_file, "w", encoding="utf-8", newline="") as out:
        out.write("\n".join(lines))
    return {"trec": trec, "many": many, "lines": lines, "lines_file": lines_file}


@pytest.fixture(scope="module")
def build(data, tmp_path_factory):
    """Factory: (.ftz path, fastText's predictions by k) of a case, each built once."""
    made: dict[str, tuple[Path, dict]] = {}

    def make(name: str) -> tuple[Path, dict]:
        if name not in made:
            case = CASES[name]
            folder = tmp_path_factory.mktemp("ftz")
            spec = {
                "train": str(data[case["data"]]), "params": case["params"],
                "quantize": case["quantize"], "model": str(folder / f"{name}.ftz"),
                "lines": str(data["lines_file"]), "ks": list(KS),
                "json": str(folder / "predictions.json"),
            }  # fmt: skip
            made[name] = Path(spec["model"]), _run_fasttext(spec)
        return made[name]

    return make


@pytest.fixture(scope="module", params=sorted(CASES))
def quantized(request, build):
    """(case name, .ftz path, fastText's predictions by k) for each case."""
    return request.param, *build(request.param)


def _assert_same_predictions(ours, theirs, lines):
    for line, got, (labels, probs) in zip(lines, ours, theirs, strict=True):
        assert [label for label, _ in got] == labels, line
        np.testing.assert_allclose([p for _, p in got], probs, rtol=0, atol=1e-5, err_msg=line)


def test_ftz_is_found_by_content_and_decodes_to_fasttexts_rows(quantized):
    name, path, _ = quantized
    case = CASES[name]
    assert detect_format(path) == "fasttext-bin"
    ours = load_model(path)
    facebook = fasttext.load_model(str(path))
    assert ours.words.words == list(facebook.words)
    assert ours.labels.words == list(facebook.labels)
    assert ours.pruned == (case["quantize"]["cutoff"] > 0)
    if ours.pruned:
        kept = int((ours.bucket_rows >= 0).sum())
        assert ours.input.shape[0] == case["quantize"]["cutoff"] == ours.nwords + kept
        assert kept > 0 and ours.nwords < case["quantize"]["cutoff"]  # some of each dropped
        assert len(ours.bucket_rows) == case["params"]["bucket"]
    else:
        assert ours.bucket_rows is None
        assert ours.input.shape[0] == ours.nwords + case["params"]["bucket"]
    rows = np.array([facebook.get_input_vector(i) for i in range(ours.input.shape[0])])
    np.testing.assert_array_equal(ours.input, rows)
    if not case["quantize"].get("qout"):
        np.testing.assert_array_equal(ours.output, np.array(facebook.f.getOutputMatrix()))


@pytest.mark.parametrize("name", sorted(CASES))
def test_word_vectors_equal_fasttexts(build, name):
    path, _ = build(name)
    vectors = load_model(path).vectors()
    facebook = fasttext.load_model(str(path))
    for word in [*facebook.words[:300], "zürich", "unseenword", "a"]:
        np.testing.assert_array_equal(vectors[word], facebook.get_word_vector(word), word)


def test_a_pruned_models_bucket_map_gives_fasttexts_subword_rows(build):
    path, _ = build("pruned-chars-odd-dim")
    ours = load_model(path)
    facebook = fasttext.load_model(str(path))
    ngrams = ours.ngrams
    for word in [*facebook.words[1:200], "zürich", "unseenword", "a"]:  # </s> has none
        _, ids = facebook.get_subwords(word)
        kept = ours.bucket_rows[ngrams.buckets(word)]
        expected = ours.nwords + kept[kept >= 0]
        in_vocab = ours.words.index(word) >= 0
        assert list(ids[1:] if in_vocab else ids) == expected.tolist(), word


def _fasttext_hash(token: str) -> int:
    """fastText's token hash (FNV-1a over the bytes as signed chars) as its word n-grams
    use it: an int32, widened to uint64."""
    h = 2166136261
    for byte in token.encode("utf-8"):
        signed = byte - 256 if byte > 127 else byte
        h = ((h ^ (signed & 0xFFFFFFFF)) * 16777619) & 0xFFFFFFFF
    return (h - (1 << 32) if h >= 1 << 31 else h) % (1 << 64)


def _sentence_vector(model, line: str) -> np.ndarray:
    """A reference of fastText's ``getLine`` and ``getSentenceVector`` for a pruned model,
    in plain Python: the rows of the line's words and their kept char n-grams, then of its
    kept word n-grams (a bucket missing from the pruned index adds nothing), averaged in
    float32 in that order."""
    rows, hashes = [], []
    for token in [*line.split(), "</s>"]:
        if token.startswith("__label__"):
            continue
        wid = model.words.index(token)
        if wid >= 0:
            rows.append(wid)
        if token != "</s>" and model.args["maxn"] > 0:
            kept = model.bucket_rows[model.ngrams.buckets(token)]
            rows += (model.nwords + kept[kept >= 0]).tolist()
        hashes.append(_fasttext_hash(token))
    for i in range(len(hashes)):
        h = hashes[i]
        for j in range(i + 1, min(i + model.args["word_ngrams"], len(hashes))):
            h = (h * 116049371 + hashes[j]) % (1 << 64)
            row = model.bucket_rows[h % model.args["bucket"]]
            if row >= 0:
                rows.append(model.nwords + int(row))
    total = np.zeros(model.dim, dtype=np.float32)
    for row in rows:
        total += model.input[row]
    return total * np.float32(1.0 / len(rows))


@pytest.mark.parametrize("name", PRUNED)
def test_a_pruned_models_rows_and_map_give_fasttexts_sentence_vectors(build, data, name):
    path, _ = build(name)
    ours = load_model(path)
    facebook = fasttext.load_model(str(path))
    for line in data["lines"]:
        expected = facebook.get_sentence_vector(line)
        np.testing.assert_array_equal(_sentence_vector(ours, line), expected, err_msg=line)


@pytest.mark.parametrize("k", KS)
def test_predictions_equal_fasttexts(quantized, data, k):
    _, path, predictions = quantized
    ours = Predictor(load_model(path)).predict(data["lines"], k=k)
    _assert_same_predictions(ours, predictions[str(k)], data["lines"])


# A pruned model that kept no n-gram bucket (pruned-index size 0): fastText then adds no
# n-gram row at all. fastText's cutoff rarely makes one; it is made here from a pruned model
# by keeping only the word rows, which fastText reads and predicts from.


def _layout(path: Path, name: str) -> dict[str, int]:
    """Byte offsets of the parts of a .ftz of case ``name``, and its sizes (from our reading
    of it): the pruned-index pairs, the quantized input matrix's flag, header, codes,
    quantizer and norm codes, and its end."""
    model = load_model(path)
    data = path.read_bytes()
    quantize = CASES[name]["quantize"]
    dim, dsub = model.dim, quantize.get("dsub", 2)
    nsubq = -(-dim // dsub)
    rows = model.input.shape[0]
    kept = rows - model.nwords if model.pruned else 0
    head = np.array([(quantize["qnorm"], rows, dim, rows * nsubq)], dtype=_MATRIX_HEAD)
    at = data.index(b"\x01" + head.tobytes())
    codes = at + 1 + _MATRIX_HEAD.itemsize
    quantizer = codes + rows * nsubq
    norms = quantizer + _QUANTIZER_HEAD.itemsize + dim * KSUB * 4
    end = norms + (rows + _QUANTIZER_HEAD.itemsize + KSUB * 4 if quantize["qnorm"] else 0)
    return {
        "pairs": at - 8 * kept, "flag": at, "head": at + 1, "codes": codes,
        "quantizer": quantizer, "norms": norms, "end": end, "rows": rows,
        "nwords": model.nwords, "nsubq": nsubq, "dim": dim,
    }  # fmt: skip


def _without_ngrams(path: Path, name: str, target: Path) -> None:
    """Write ``target``: the pruned model ``path`` with its n-gram rows and index dropped
    (a pruned model's rows are its words, then its kept buckets)."""
    data = path.read_bytes()
    at = _layout(path, name)
    nwords, nsubq, norms = at["nwords"], at["nsubq"], at["norms"]
    qnorm = CASES[name]["quantize"]["qnorm"]
    head = np.array([(qnorm, nwords, at["dim"], nwords * nsubq)], dtype=_MATRIX_HEAD)
    parts = [
        data[:84], struct.pack("<q", 0), data[92 : at["pairs"]], b"\x01", head.tobytes(),
        data[at["codes"] : at["codes"] + nwords * nsubq], data[at["quantizer"] : norms],
    ]  # fmt: skip
    if qnorm:
        parts += [data[norms : norms + nwords], data[norms + at["rows"] : at["end"]]]
    target.write_bytes(b"".join([*parts, data[at["end"] :]]))


def test_a_pruned_model_without_ngram_rows_adds_none(build, data, tmp_path):
    name = "pruned-qnorm"
    path, _ = build(name)
    bare = tmp_path / "bare.ftz"
    _without_ngrams(path, name, bare)
    ours = load_model(bare)
    assert ours.pruned and ours.input.shape[0] == ours.nwords
    assert len(ours.bucket_rows) == CASES[name]["params"]["bucket"]
    assert not (ours.bucket_rows >= 0).any()
    spec = {"model": str(bare), "lines": str(data["lines_file"]), "ks": [3],
            "json": str(tmp_path / "bare.json")}  # fmt: skip
    predictions = _run_fasttext(spec)
    ours_predicted = Predictor(ours).predict(data["lines"], k=3)
    _assert_same_predictions(ours_predicted, predictions["3"], data["lines"])


# Writing and converting


@pytest.mark.parametrize("name", WHOLE)
def test_a_whole_ftz_is_written_as_a_bin_that_predicts_the_same(build, data, tmp_path, name):
    path, predictions = build(name)
    written = tmp_path / "dense.bin"
    write_fasttext_bin(load_model(path), written)
    facebook = fasttext.load_model(str(written))
    assert not facebook.is_quantized()
    for line, (labels, probs) in zip(data["lines"], predictions["3"], strict=True):
        got_labels, got_probs = facebook.predict(line, k=3)
        assert list(got_labels) == labels, line
        np.testing.assert_allclose(got_probs, probs, rtol=0, atol=1e-5, err_msg=line)


@pytest.mark.parametrize("name", PRUNED)
def test_a_pruned_model_is_not_written_as_a_bin_but_kept_natively(build, data, tmp_path, name):
    path, _ = build(name)
    model = load_model(path)
    with pytest.raises(OutputError, match="pruned") as info:
        write_fasttext_bin(model, tmp_path / "dense.bin")
    assert "\n" not in str(info.value) and "dense.bin" in str(info.value)
    assert not (tmp_path / "dense.bin").exists()
    save_native(model, tmp_path / "native")
    again = load_native(tmp_path / "native")
    assert again.pruned
    np.testing.assert_array_equal(again.bucket_rows, model.bucket_rows)
    np.testing.assert_array_equal(again.input, model.input)
    np.testing.assert_array_equal(again.output, model.output)
    lines = data["lines"]
    assert Predictor(again).predict(lines, k=3) == Predictor(model).predict(lines, k=3)
    for word in ["zürich", "unseenword", *model.words.words[:50]]:
        np.testing.assert_array_equal(again.vectors()[word], model.vectors()[word], word)
    convert(path, tmp_path / "first", limit=100)
    first = load_model(tmp_path / "first")
    assert first.pruned and first.nwords == 100
    np.testing.assert_array_equal(first.bucket_rows, model.bucket_rows)


def test_ftz_output_names_are_refused(build, tmp_path):
    path, _ = build("whole-dsub4")
    with pytest.raises(OutputError, match=r"again\.ftz: .*does not write"):
        convert(path, tmp_path / "again.ftz")
    assert not (tmp_path / "again.ftz").exists()


# Damaged files


@pytest.fixture(scope="module")
def pruned_ftz(build):
    """(bytes, layout) of the pruned, qnorm word-bigram model."""
    path, _ = build("pruned-qnorm")
    return path.read_bytes(), _layout(path, "pruned-qnorm")


def _refused(tmp_path: Path, data: bytes, match: str) -> None:
    bad = tmp_path / "bad.ftz"
    bad.write_bytes(data)
    with pytest.raises(ModelFileError, match=match) as info:
        load_model(bad)
    message = str(info.value)
    assert "\n" not in message and str(bad) in message


@pytest.mark.parametrize(
    ("part", "extra"),
    [("pairs", 3), ("head", 5), ("codes", 10), ("quantizer", 8), ("quantizer", 100),
     ("norms", 1), ("end", -5), ("end", 3)],
)  # fmt: skip
def test_truncated_ftz_files_are_refused_in_one_line(pruned_ftz, tmp_path, part, extra):
    data, at = pruned_ftz
    _refused(tmp_path, data[: at[part] + extra], "truncated|ends inside")


@pytest.mark.parametrize("delta", [-1, 1, -(10**6), 2**31 - 1])
def test_a_wrong_code_size_is_refused_in_one_line(pruned_ftz, tmp_path, delta):
    data, at = pruned_ftz
    codesize = at["rows"] * at["nsubq"]
    offset = at["head"] + 17
    wrong = np.int32(np.clip(codesize + delta, -(2**31), 2**31 - 1)).tobytes()
    _refused(tmp_path, data[:offset] + wrong + data[offset + 4 :], "codes|truncated")


@pytest.mark.parametrize(
    ("offset", "value", "match"),
    [
        (0, -1, "outside"),  # a bucket below 0
        (0, 2**31 - 1, "outside"),  # a bucket past the last
        (4, 10**6, "points past"),  # a row past the kept rows
        (8, None, "twice"),  # the second pair repeats the first bucket
    ],
)
def test_a_lying_pruned_index_is_refused_in_one_line(pruned_ftz, tmp_path, offset, value, match):
    data, at = pruned_ftz
    start = at["pairs"] + offset
    patch = data[at["pairs"] : at["pairs"] + 4] if value is None else struct.pack("<i", value)
    _refused(tmp_path, data[:start] + patch + data[start + 4 :], match)


def test_a_quantizer_that_does_not_split_the_dimension_is_refused(pruned_ftz, tmp_path):
    data, at = pruned_ftz
    start = at["quantizer"] + 4  # nsubq
    _refused(tmp_path, data[:start] + struct.pack("<i", 3) + data[start + 4 :], "sub-quantizers")


def test_a_pruned_dictionary_with_a_dense_matrix_is_refused(pruned_ftz, tmp_path):
    data, at = pruned_ftz
    patched = data[: at["flag"]] + b"\x00" + data[at["flag"] + 1 :]
    _refused(tmp_path, patched, "pruned but its input matrix is not quantized")
