"""The classifier past fastText's options: class weights, a validation file scored after
every epoch, pretrained word vectors, several labels per line (one-vs-all), and the one-line
refusals of bad input."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from wordspace import ParameterError
from wordspace.class_weights import label_weights, read_class_weights
from wordspace.errors import InputError
from wordspace.models.classifier import Classifier
from wordspace.vocab import Vocabulary

from .conftest import SHARED_DATA, require

SENTEVAL = SHARED_DATA / "classification" / "senteval"


def _write(path, lines):
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return path


def _imbalanced(rng, n, minority_share):
    """Two labels whose lines share their words but for one weak cue: 80% of the minority's
    lines hold a cue word, 20% of the majority's (the majority stays the likelier label)."""
    lines = []
    for _ in range(n):
        minority = rng.random() < minority_share
        words = [f"w{i}" for i in rng.integers(0, 300, size=12)]
        if rng.random() < (0.8 if minority else 0.2):
            words[0] = f"cue{rng.integers(0, 20)}"
        rng.shuffle(words)
        label = "__label__rare" if minority else "__label__common"
        lines.append(f"{label} {' '.join(words)}")
    return lines


def _recall(model, lines, label):
    gold = [line.split()[0] == label for line in lines]
    texts = [line.split(" ", 1)[1] for line in lines]
    got = [p[0][0] == label for p in model.predict(texts)]
    hits = sum(g and p for g, p in zip(gold, got, strict=True))
    return hits / sum(gold)


def test_balanced_class_weights_raise_the_recall_of_a_rare_label(tmp_path):
    rng = np.random.default_rng(3)
    train = _write(tmp_path / "train.txt", _imbalanced(rng, 6000, 0.05))
    test = _imbalanced(rng, 4000, 0.05)
    settings = {"dim": 10, "epochs": 5, "workers": 1, "lr": 0.2}
    plain = Classifier(**settings).fit(train)
    balanced = Classifier(class_weight="balanced", **settings).fit(train)
    before = _recall(plain, test, "__label__rare")
    after = _recall(balanced, test, "__label__rare")
    assert before < 0.1 and after >= 0.4, (before, after)


def test_balanced_weights_make_every_label_weigh_the_same_in_total():
    labels = Vocabulary.from_words(["__label__a", "__label__b"], [90, 10])
    weights = label_weights("balanced", labels, "__label__")
    np.testing.assert_allclose(weights * labels.counts, [50, 50], rtol=1e-6)


def test_a_weights_file_names_labels_with_or_without_the_prefix(tmp_path):
    labels = Vocabulary.from_words(["__label__a", "__label__b", "__label__c"], [5, 3, 1])
    path = tmp_path / "w.txt"
    path.write_text("# weights\n__label__a 2\n\nc 0.5\n")
    assert read_class_weights(path) == {"__label__a": 2.0, "c": 0.5}
    np.testing.assert_array_equal(label_weights(path, labels, "__label__"), [2.0, 1.0, 0.5])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("__label__a\n", r"w\.txt, line 1: expected 'LABEL WEIGHT'"),
        ("__label__a x\n", r"line 1: weight 'x' is not a number"),
        ("__label__a 1\n__label__a -1\n", r"line 2: weight -1 must be a positive number"),
        ("__label__a 1\n__label__a 2\n", r"line 2: label '__label__a' is given a second time"),
    ],
)
def test_a_bad_weights_file_is_refused_naming_its_line(tmp_path, text, message):
    path = tmp_path / "w.txt"
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        read_class_weights(path)


def test_a_weight_for_an_unknown_label_is_refused(tmp_path):
    labels = Vocabulary.from_words(["__label__a"], [5])
    with pytest.raises(ParameterError, match="'__label__typo' is not a label"):
        label_weights({"__label__typo": 2.0}, labels, "__label__")
    with pytest.raises(ParameterError, match="neither 'balanced' nor a weights file"):
        Classifier(class_weight="balance")


def test_unit_class_weights_train_bit_identically_to_none(tmp_path):
    train = _write(tmp_path / "t.txt", _imbalanced(np.random.default_rng(1), 500, 0.2))
    settings = {"dim": 8, "epochs": 2, "workers": 1}
    plain = Classifier(**settings).fit(train)
    unit = Classifier(class_weight={"rare": 1.0, "common": 1.0}, **settings).fit(train)
    np.testing.assert_array_equal(plain.model.input, unit.model.input)
    np.testing.assert_array_equal(plain.model.output, unit.model.output)


def test_validation_p_at_1_is_scored_after_every_epoch():
    train = require(SENTEVAL / "trec.train.txt")
    test = SENTEVAL / "trec.test.txt"
    seen = []
    model = Classifier(dim=10, word_ngrams=2, lr=0.25, epochs=4, workers=2)
    model.fit(train, validation=test, on_validation=seen.append)
    assert [s.epoch for s in seen] == [1, 2, 3, 4]
    assert seen == model.validation_scores
    assert all(s.examples == 500 for s in seen)
    # the last pass saw the final weights: it is the trained model's own score
    assert seen[-1].precision == model.score(test).precision
    assert seen[-1].precision > seen[0].precision - 0.05 and seen[-1].precision > 0.8


def test_validation_from_stdin_is_refused():
    with pytest.raises(ParameterError, match="give a file, not -"):
        Classifier().fit("unused.txt", validation="-")


def test_pretrained_vectors_start_the_rows_of_the_words_they_know(tmp_path):
    train = _write(tmp_path / "t.txt", ["__label__x alpha beta", "__label__y gamma delta"] * 5)
    rng = np.random.default_rng(0)
    known = {"alpha": rng.normal(size=6), "gamma": rng.normal(size=6), "zeta": rng.normal(size=6)}
    vec = tmp_path / "v.vec"
    vec.write_text(
        f"{len(known)} 6\n"
        + "".join(f"{w} {' '.join(f'{x:.6f}' for x in v)}\n" for w, v in known.items())
    )
    model = Classifier(dim=6, lr=1e-9, epochs=1, workers=1, pretrained=vec).fit(train)
    assert model.pretrained_words == 2
    words = model.model.words
    for word in ("alpha", "gamma"):
        row = model.model.input[words.index(word)]
        np.testing.assert_allclose(row, np.round(known[word], 6), atol=1e-6)
    with pytest.raises(ParameterError, match="dimension 6, the classifier 8"):
        Classifier(dim=8, pretrained=vec, workers=1).fit(train)


def _multilabel(rng, n):
    lines = []
    for _ in range(n):
        chosen = sorted(rng.choice(6, size=rng.integers(1, 4), replace=False).tolist())
        words = [f"t{c}_{rng.integers(0, 8)}" for c in chosen for _ in range(4)]
        words += [f"noise{rng.integers(0, 50)}" for _ in range(4)]
        rng.shuffle(words)
        lines.append((set(chosen), " ".join(words)))
    return lines


def test_one_vs_all_with_a_threshold_recovers_sets_of_labels(tmp_path):
    rng = np.random.default_rng(7)
    train = _multilabel(rng, 3000)
    _write(tmp_path / "t.txt", [" ".join(f"__label__{c}" for c in s) + " " + t for s, t in train])
    model = Classifier(loss="ova", dim=16, lr=0.5, epochs=10, workers=1).fit(tmp_path / "t.txt")
    test = _multilabel(rng, 500)
    predicted = model.predict([t for _, t in test], k=6, threshold=0.5)
    exact = sum(
        {int(label.removeprefix("__label__")) for label, _ in got} == gold
        for (gold, _), got in zip(test, predicted, strict=True)
    )
    assert exact / len(test) >= 0.9, exact


def _cli(*args, stdin=None):
    return subprocess.run(
        [sys.executable, "-m", "wordspace", *map(str, args)],
        capture_output=True, text=True, input=stdin,
    )  # fmt: skip


def _one_line_error(result, needle):
    assert result.returncode == 2, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], result.stderr


@pytest.fixture(scope="module")
def small_classifier(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clf")
    train = _write(folder / "t.txt", ["__label__a one two", "__label__b three four"] * 20)
    out = folder / "m"
    result = _cli("train", "supervised", train, "-o", out, "--dim", "4", "-q")
    assert result.returncode == 0, result.stderr
    return out


def test_training_text_without_any_label_is_refused(tmp_path):
    text = _write(tmp_path / "plain.txt", ["just words here", "and more words"])
    _one_line_error(_cli("train", "supervised", text, "-o", tmp_path / "m"), "label")


def test_training_text_of_label_only_lines_is_refused(tmp_path):
    text = _write(tmp_path / "labels.txt", ["__label__a", "__label__b __label__a"])
    _one_line_error(_cli("train", "supervised", text, "-o", tmp_path / "m"), "word")


def test_predict_with_a_model_that_is_not_a_classifier_is_refused(tiny_model):
    _one_line_error(_cli("predict", tiny_model, "-", stdin="a b\n"), "not a classifier")


@pytest.mark.parametrize(
    ("flags", "needle"),
    [(["-k", "0"], "k must be"), (["--threshold", "1.5"], "threshold must be between 0 and 1")],
)
def test_predict_refuses_a_bad_k_or_threshold(small_classifier, flags, needle):
    _one_line_error(_cli("predict", small_classifier, "-", *flags, stdin="one two\n"), needle)


def test_supervised_options_are_refused_for_word_vectors(tiny_corpus, tmp_path):
    result = _cli("train", "cbow", tiny_corpus, "-o", tmp_path / "m", "--class-weight", "balanced")
    _one_line_error(result, "--class-weight is for supervised training")


def test_the_cli_prints_validation_scores_and_takes_class_weights(small_classifier, tmp_path):
    train = _write(tmp_path / "t.txt", ["__label__a one two", "__label__b three four"] * 20)
    weights = tmp_path / "w.txt"
    weights.write_text("a 2\n")
    result = _cli(
        "train", "supervised", train, "-o", tmp_path / "m", "--dim", "4", "--epochs", "2",
        "--validation", train, "--class-weight", weights,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "epoch 1/2: validation P@1" in result.stderr
    assert "epoch 2/2: validation P@1" in result.stderr


@pytest.mark.parametrize("loss", ["softmax", "hs", "ova"])
def test_predict_proba_gives_every_labels_probability_consistent_with_predict(loss):
    train = require(SENTEVAL / "trec.train.txt")
    model = Classifier(loss=loss, dim=10, word_ngrams=2, lr=0.25, epochs=3, workers=1).fit(train)
    lines = [
        line.split(" ", 1)[1] for line in (SENTEVAL / "trec.test.txt").read_text().splitlines()
    ]
    lines = lines[:200]
    probs = model.predict_proba(lines)
    assert probs.shape == (len(lines), len(model.classes_)) and probs.dtype == np.float32
    assert np.all((probs >= 0) & (probs <= 1))
    if loss != "ova":
        np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-4)
    top = [model.classes_[i] for i in probs.argmax(axis=1)]
    predicted = model.predict(lines, k=1)
    assert sum(t == p[0][0] for t, p in zip(top, predicted, strict=True)) >= len(lines) - 2
    if loss == "softmax":
        shown = np.array([p[0][1] for p in predicted])
        np.testing.assert_allclose(probs.max(axis=1) + 1e-5, shown, atol=1e-4)
    assert model.predict_proba([]).shape == (0, len(model.classes_))
