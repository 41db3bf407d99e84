"""The scikit-learn estimators: pooling as defined (checked against scikit-learn's own IDF and
a numpy SIF), the estimator contract (scikit-learn's checks that apply to text input), and
use inside Pipeline, GridSearchCV and cross_val_score on a shared data set."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import estimator_checks

import wordspace
from wordspace.errors import ParameterError
from wordspace.sentences import SentenceEmbedder
from wordspace.sklearn import EmbeddingVectorizer, TextClassifier

from .conftest import SHARED_DATA, require

TREC = SHARED_DATA / "classification" / "senteval" / "trec"

APPLICABLE_CHECKS = [
    "check_estimator_cloneable",
    "check_estimator_repr",
    "check_estimator_tags_renamed",
    "check_valid_tag_types",
    "check_no_attributes_set_in_init",
    "check_do_not_raise_errors_in_init_or_set_params",
    "check_parameters_default_constructible",
    "check_get_params_invariance",
    "check_set_params",
    "check_mixin_order",
    "check_fit1d",
]
"""scikit-learn's checks that apply to estimators of text: they never fit numeric arrays.
The others (fit on random 2-D float arrays, sparse input, NaN, dtypes, sample weights,
n_features_in_) assume numeric features and do not apply: ``check_estimator`` itself runs
none of them for an estimator tagged ``input_tags.string`` without 2-D input. Their text
counterparts (unfitted errors, fit returns self, idempotent fit, pickling, subsets and order
of the rows, y None) are tested below."""


def _read(path):
    texts, labels = [], []
    for line in path.read_text().splitlines():
        tokens = line.split()
        labels.append(next(t for t in tokens if t.startswith("__label__")))
        texts.append(" ".join(t for t in tokens if not t.startswith("__label__")))
    return texts, labels


@pytest.fixture(scope="module")
def trec():
    train = require(TREC.with_name("trec.train.txt"))
    return _read(train), _read(TREC.with_name("trec.test.txt"))


@pytest.fixture(scope="module")
def word_model(small_word_model):
    return small_word_model


TEXTS = ["the city of paris", "a war in the north", "music of the city", "", "zzqx paris"]


@pytest.mark.parametrize("estimator", [TextClassifier(dim=8), EmbeddingVectorizer("m")])
@pytest.mark.parametrize("check", APPLICABLE_CHECKS)
def test_scikit_learn_checks_that_apply_to_text_estimators_pass(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        getattr(estimator_checks, check)(type(estimator).__name__, estimator)


def test_mean_pooling_is_the_models_own_sentence_embedding(word_model):
    features = EmbeddingVectorizer(str(word_model)).fit_transform(TEXTS)
    vectors = wordspace.load(word_model)
    np.testing.assert_array_equal(features, SentenceEmbedder(vectors).embed(TEXTS))
    np.testing.assert_allclose(features[0], vectors[["the", "city", "of", "paris"]].mean(0))
    assert not features[3].any()


def test_tfidf_weights_are_scikit_learns_idf(word_model, trec):
    (texts, _), _ = trec
    vectorizer = EmbeddingVectorizer(str(word_model), pooling="tfidf").fit(texts)
    reference = TfidfVectorizer(token_pattern=r"\S+", lowercase=False).fit(texts)
    vectors = wordspace.load(word_model)
    shared = [w for w in reference.vocabulary_ if w in vectors][:500]
    assert len(shared) == 500
    ours = vectorizer.weights_[vectors.indices(shared)]
    theirs = reference.idf_[[reference.vocabulary_[w] for w in shared]]
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)
    text = texts[0].split()
    known = [w for w in text if w in vectors]
    weights = vectorizer.weights_[vectors.indices(known)]
    expected = (weights[:, None] * vectors[known]).sum(0) / weights.sum()
    np.testing.assert_allclose(vectorizer.transform(texts[:1])[0], expected, rtol=1e-5)


def test_sif_pooling_equals_the_papers_recipe_in_numpy(word_model, trec):
    (texts, _), _ = trec
    texts = texts[:400]
    vectors = wordspace.load(word_model)
    a = 1e-3
    counts: dict[str, int] = {}
    for text in texts:
        for word in text.split():
            counts[word] = counts.get(word, 0) + 1
    total = sum(counts.values())
    rows = []
    for text in texts:
        known = [w for w in text.split() if w in vectors]
        weights = np.array([a / (a + counts[w] / total) for w in known])
        rows.append((weights[:, None] * vectors[known]).mean(0) if known else np.zeros(32))
    embedded = np.array(rows)
    u = np.linalg.svd(embedded, full_matrices=False)[2][0]
    expected = embedded - np.outer(embedded @ u, u)
    ours = EmbeddingVectorizer(str(word_model), pooling="sif").fit_transform(texts)
    np.testing.assert_allclose(ours, expected, atol=2e-5)


def test_vectorizer_refuses_bad_input_in_one_line(word_model):
    with pytest.raises(ValueError, match="single string"):
        EmbeddingVectorizer(str(word_model)).fit("the city")
    with pytest.raises(ParameterError, match="pooling must be one of"):
        EmbeddingVectorizer(str(word_model), pooling="max").fit(TEXTS)
    with pytest.raises(NotFittedError):
        EmbeddingVectorizer(str(word_model)).transform(TEXTS)
    tokens = EmbeddingVectorizer(str(word_model)).fit_transform([["the", "city"], "the\ncity"])
    np.testing.assert_array_equal(tokens[0], tokens[1])


def test_classifier_in_a_grid_search_over_two_parameters(trec):
    (texts, labels), (test_texts, test_labels) = trec
    grid = GridSearchCV(
        TextClassifier(word_ngrams=2, epochs=5, bucket=100_000, workers=2),
        {"dim": [10, 30], "lr": [0.25, 0.5]},
        cv=3,
    )
    grid.fit(texts, labels)
    assert set(grid.best_params_) == {"dim", "lr"}
    assert len(grid.cv_results_["mean_test_score"]) == 4
    assert grid.best_score_ > 0.75
    assert grid.score(test_texts, test_labels) > 0.8


def test_vectorizer_and_logistic_regression_in_cross_val_score(word_model, trec):
    (texts, labels), _ = trec
    pipe = make_pipeline(
        EmbeddingVectorizer(str(word_model), pooling="tfidf", lowercase=True),
        StandardScaler(),
        LogisticRegression(max_iter=500),
    )
    scores = cross_val_score(pipe, texts[:2000], labels[:2000], cv=3)
    majority = max(labels[:2000].count(label) for label in set(labels)) / 2000
    assert scores.mean() > majority + 0.1


def test_classifier_probabilities_follow_classes_and_labels_keep_their_type(trec):
    (texts, labels), (test_texts, _) = trec
    y = np.array([sorted(set(labels)).index(label) * 10 for label in labels])
    model = TextClassifier(dim=10, word_ngrams=2, lr=0.25, workers=1).fit(texts, y)
    assert list(model.classes_) == [0, 10, 20, 30, 40, 50]
    proba = model.predict_proba(test_texts[:50])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    predicted = model.predict(test_texts[:50])
    np.testing.assert_array_equal(predicted, model.classes_[proba.argmax(axis=1)])
    assert predicted.dtype == y.dtype


def test_classifier_contract_on_text(trec):
    (texts, labels), _ = trec
    texts, labels = texts[:1000], labels[:1000]
    model = TextClassifier(dim=8, workers=1, bucket=10_000)
    with pytest.raises(NotFittedError):
        model.predict(texts[:3])
    with pytest.raises(ValueError, match="requires y"):
        model.fit(texts, None)
    params = model.get_params()
    assert model.fit(texts, labels) is model
    assert model.get_params() == params
    first = model.predict_proba(texts)
    np.testing.assert_array_equal(clone(model).fit(texts, labels).predict_proba(texts), first)
    np.testing.assert_array_equal(model.predict_proba(texts[::-1]), first[::-1])
    np.testing.assert_array_equal(model.predict_proba(texts[100:200]), first[100:200])
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(again.predict_proba(texts), first)


def test_unseen_words_of_a_subword_model_weigh_as_words_no_text_holds(tiny_corpus):
    model = wordspace.FastText(dim=8, epochs=1, min_count=1, bucket=2000, workers=1)
    vectors = model.fit(str(tiny_corpus)).vectors
    texts = [f"the fox xq{i}zz" for i in range(50)]
    tfidf = EmbeddingVectorizer(vectors, pooling="tfidf").fit(texts)
    assert tfidf.weights_[-1] == pytest.approx(np.log(51) + 1)
    assert tfidf.weights_[vectors.index("the")] == pytest.approx(1.0)
    sif = EmbeddingVectorizer(vectors, pooling="sif").fit(texts)
    assert sif.weights_[-1] == 1.0


def test_sif_removes_no_direction_the_training_texts_lack(word_model):
    vectorizer = EmbeddingVectorizer(str(word_model), pooling="sif").fit(["zzqx yyqx", "qqzx"])
    assert len(vectorizer.components_) == 0
    assert vectorizer.transform(["the city"]).any()


def test_clones_share_a_loaded_or_trained_model(word_model, trec):
    vectors = wordspace.load(word_model)
    copy = clone(EmbeddingVectorizer(vectors, pooling="tfidf"))
    assert copy.model is vectors
    trained = wordspace.Word2Vec(dim=8, epochs=1, min_count=1, workers=1).fit(TEXTS * 5)
    (texts, labels), _ = trec
    pipe = make_pipeline(EmbeddingVectorizer(trained), LogisticRegression(max_iter=200))
    assert len(cross_val_score(pipe, texts[:300], labels[:300], cv=2)) == 2


def test_weights_of_the_wrong_length_are_refused(word_model):
    vectors = wordspace.load(word_model)
    with pytest.raises(ParameterError, match="one value per word"):
        SentenceEmbedder(vectors, np.ones(3, dtype=np.float32))
    with pytest.raises(ParameterError, match="finite and not negative"):
        SentenceEmbedder(vectors, np.full(len(vectors) + 1, -1.0))


def test_class_weight_naming_no_class_is_refused(trec):
    (texts, labels), _ = trec
    with pytest.raises(ValueError, match="not a class of y"):
        TextClassifier(dim=8, class_weight={"__label__9": 2.0}).fit(texts[:100], labels[:100])
