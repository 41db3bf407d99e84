"""Subword models (FastText): training, vectors for any string, Facebook files, continuing.

Vectors are checked against the real fastText and gensim reading the ``.bin`` we write, and
continued training against a model fastText trained itself.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from wordspace import FastText, ModelFileError, ParameterError, Word2Vec, export, load
from wordspace.formats import load_model
from wordspace.formats.native import read_meta
from wordspace.models.fasttext import FastTextModel

from .conftest import train_in_fresh_process

fasttext = pytest.importorskip("fasttext")

UNSEEN = ["zürich", "façade", "日本語", "東京都", "🙂", "🙂🙃", "a", "ab", "é", "xyzzyqq", ""]
"""Unseen words of every kind fastText hashes differently: accents, CJK, emoji (4-byte
UTF-8), one and two characters (their only n-grams include the < > marks), and the empty
string (no n-gram of 3 or more characters: a zero vector)."""


def _corpus(path, lines=3000, seed=0):
    """Text of 300 made-up words with shared stems and accents, so that n-grams matter."""
    rng = np.random.default_rng(seed)
    stems = ["lab", "méd", "kraft", "über", "nat", "ion", "sch", "ver"]
    ends = ["", "s", "ing", "ed", "ité", "ung", "er", "ös"]
    words = [a + b + c for a in stems for b in stems[:5] for c in ends[:8]][:300]
    probs = 1.0 / np.arange(1, len(words) + 1)
    probs /= probs.sum()
    with open(path, "w", encoding="utf-8") as out:
        for _ in range(lines):
            out.write(" ".join(rng.choice(words, size=12, p=probs)) + "\n")
    return path


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return _corpus(tmp_path_factory.mktemp("sub") / "text.txt")


@pytest.fixture(scope="module")
def trained(corpus):
    model = FastText("skipgram", dim=16, epochs=2, bucket=5_000, workers=1, min_count=2)
    return model.fit(corpus)


@pytest.fixture(scope="module")
def saved_bin(trained, tmp_path_factory):
    path = tmp_path_factory.mktemp("bin") / "model.bin"
    export(trained.fasttext_model, path, "fasttext-bin")
    return path


def test_fasttext_defaults_differ_from_word2vec_only_where_fasttexts_do():
    ours, plain = FastText("cbow"), Word2Vec("cbow")
    assert (ours.lr, ours.sample, ours.minn, ours.maxn, ours.bucket) == (
        0.05,
        1e-4,
        3,
        6,
        2_000_000,
    )
    assert FastText("skipgram").lr == 0.05 and Word2Vec("skipgram").lr == 0.025
    same = ("dim", "window", "negative", "epochs", "min_count")
    assert all(getattr(ours, k) == getattr(plain, k) for k in same)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"minn": 5, "maxn": 3}, "minn=5 must not exceed maxn=3"),
        ({"minn": 0}, "minn"),
        ({"bucket": 0}, "bucket"),
        ({"maxn": 65}, "maxn"),
        ({"skipgram_bag": "both"}, "skipgram_bag"),
    ],
)
def test_bad_subword_parameters_are_refused_naming_them(params, message):
    with pytest.raises(ParameterError, match=message):
        FastText(**params)


def test_vocabulary_words_use_their_row_and_ngram_rows_and_unseen_words_their_ngrams(trained):
    vectors = trained.vectors
    model = trained.fasttext_model
    word = vectors.words[3]
    buckets = vectors.ngrams.buckets(word)
    rows = [model.input[vectors.index(word)], vectors.ngrams.rows_of(buckets)]
    want = np.vstack(rows).mean(axis=0)
    np.testing.assert_allclose(vectors[word], want, atol=1e-6)
    assert vectors.in_vocab(word) and not vectors.in_vocab("labmédx")
    assert vectors.has_vector("labmédx") and not vectors.has_vector("")
    np.testing.assert_array_equal(vectors[""], np.zeros(16, np.float32))
    unseen = vectors["labmédx"]
    assert np.abs(unseen).sum() > 0
    np.testing.assert_allclose(unseen, vectors.ngrams.vector("labmédx"))


def test_only_buckets_the_vocabulary_uses_hold_rows(trained):
    model = trained.fasttext_model
    ngrams = model.ngrams
    assert ngrams.bucket == 5_000
    used = np.unique(np.concatenate([ngrams.buckets(w) for w in model.words.words]))
    assert np.array_equal(np.flatnonzero(ngrams.bucket_rows >= 0), used)
    assert model.input.shape == (len(model.words) + len(used), 16)


def test_unseen_word_vectors_of_our_bin_equal_fasttexts_get_word_vector(trained, saved_bin):
    facebook = fasttext.load_model(str(saved_bin))
    vectors = trained.vectors
    assert facebook.get_words() == vectors.words
    for word in [*vectors.words[:50], *UNSEEN]:
        np.testing.assert_array_equal(facebook.get_word_vector(word), vectors[word], err_msg=word)


def test_gensim_reads_our_bin_with_the_same_word_and_unseen_word_vectors(trained, saved_bin):
    from gensim.models.fasttext import load_facebook_model

    gensim_vectors = load_facebook_model(str(saved_bin)).wv
    vectors = trained.vectors
    for word in [*vectors.words[:50], *(w for w in UNSEEN if w)]:
        np.testing.assert_allclose(gensim_vectors[word], vectors[word], atol=1e-6, err_msg=word)


def test_the_native_folder_maps_the_composed_vectors_and_needs_no_recomputation(
    trained, tmp_path, monkeypatch
):
    trained.save(tmp_path / "m")
    meta = read_meta(tmp_path / "m")
    assert {"vectors", "input", "output", "ngram_rows"} <= set(meta["arrays"])
    assert meta["config"]["minn"] == 3 and meta["training"]["trained_words"] > 0

    def recompute(*args):
        raise AssertionError("loading recomputed the n-gram sums")

    monkeypatch.setattr("wordspace.models.fasttext.compose_vocabulary", recompute)
    loaded = load(tmp_path / "m")
    assert isinstance(loaded.matrix, np.memmap)
    assert isinstance(loaded.ngrams.vectors, np.memmap)
    word = trained.vectors.words[5]
    got, want = (v.most_similar(word, topn=3) for v in (loaded, trained.vectors))
    assert [w for w, _ in got] == [w for w, _ in want]
    np.testing.assert_allclose([s for _, s in got], [s for _, s in want], rtol=1e-6)
    np.testing.assert_array_equal(loaded["labmédx"], trained.vectors["labmédx"])


def test_a_bucket_map_pointing_past_the_ngram_rows_is_refused_in_one_line(trained, tmp_path):
    folder = tmp_path / "m"
    trained.save(folder)
    rows = np.load(folder / "ngram_rows.npy")
    rows[7] = 10**8
    np.save(folder / "ngram_rows.npy", rows)
    with pytest.raises(ModelFileError, match="ngram_rows points past") as caught:
        load(folder)
    assert "\n" not in str(caught.value)


def test_vec_export_holds_the_composed_vocabulary_vectors(trained, tmp_path):
    export(trained.fasttext_model, tmp_path / "m.vec", "fasttext-vec")
    vec = load(tmp_path / "m.vec")
    assert vec.words == trained.vectors.words
    np.testing.assert_allclose(vec.matrix, trained.vectors.matrix, atol=5e-7)  # %.6f


@pytest.mark.parametrize(
    ("architecture", "bag"), [("skipgram", "context"), ("skipgram", "centre"), ("cbow", "context")]
)
def test_one_worker_runs_are_bit_identical(corpus, architecture, bag):
    def run():
        model = FastText(
            architecture, dim=16, epochs=1, bucket=3_000, workers=1, skipgram_bag=bag, seed=7
        )
        return model.fit(corpus).fasttext_model.input

    np.testing.assert_array_equal(run(), run())


def test_the_cli_trains_subword_vectors_with_fasttexts_defaults(corpus, tmp_path):
    out = tmp_path / "m"
    command = [sys.executable, "-m", "wordspace", "train", "cbow", str(corpus), "-o", str(out)]
    flags = ["--minn", "2", "--bucket", "4000", "--dim", "8", "--epochs", "1", "-q", "--json"]
    result = subprocess.run([*command, *flags], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    config = read_meta(out)["config"]
    assert (config["minn"], config["maxn"], config["bucket"]) == (2, 6, 4000)
    assert (config["lr"], config["sample"]) == (0.05, 1e-4)
    assert load(out).has_vector("neverseen")


def test_cli_bucket_without_ngrams_is_one_clear_error(corpus, tmp_path):
    command = [sys.executable, "-m", "wordspace", "train", "cbow", str(corpus)]
    result = subprocess.run(
        [*command, "-o", str(tmp_path / "m"), "--bucket", "10"], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: --bucket needs n-grams: give --minn and --maxn too"
    ]


@pytest.fixture(scope="module")
def facebook_bin(corpus, tmp_path_factory):
    path = tmp_path_factory.mktemp("fb") / "fb.bin"
    train_in_fresh_process(
        "unsupervised", corpus, path, model="skipgram", dim=16, epoch=1, minCount=2,
        thread=1, minn=3, maxn=6, bucket=5_000, verbose=0,
    )  # fmt: skip
    return path


def test_init_from_a_fasttext_bin_with_lr_0_gives_its_vectors_back(facebook_bin, tmp_path_factory):
    more = _corpus(tmp_path_factory.mktemp("more") / "more.txt", lines=400, seed=3)
    with open(more, "a", encoding="utf-8") as out:
        out.write("brandnewword " * 5 + "\n")
    out = tmp_path_factory.mktemp("cont") / "m"
    command = [sys.executable, "-m", "wordspace", "train", "skipgram", str(more), "-o", str(out)]
    result = subprocess.run(
        [*command, "--init", str(facebook_bin), "--lr", "0", "--epochs", "1", "-q", "--json"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["vocab_size"] > 0
    facebook = fasttext.load_model(str(facebook_bin))
    continued = load(out)
    for word in [*facebook.get_words(), *UNSEEN]:
        np.testing.assert_array_equal(continued[word], facebook.get_word_vector(word), err_msg=word)
    # a new word starts where the fastText model put it as an unseen word
    assert continued.in_vocab("brandnewword")
    np.testing.assert_allclose(
        continued["brandnewword"], facebook.get_word_vector("brandnewword"), atol=1e-6
    )


def _cosines(a, b):
    return np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def test_init_keeps_known_words_and_continues_training(facebook_bin, corpus):
    start = load_model(facebook_bin)
    assert isinstance(start, FastTextModel)
    before = start.vectors()
    words = before.words[1:60]
    model = FastText("skipgram", dim=16, epochs=1, bucket=5_000, workers=1, min_count=2)
    after = model.fit(corpus, init=start).vectors
    assert set(before.words) <= set(after.words)
    fresh = FastText("skipgram", dim=16, epochs=1, bucket=5_000, workers=1, min_count=2)
    fresh_vectors = fresh.fit(corpus).vectors
    # trained further (the rows moved), from where fastText left them (much closer to its
    # vectors than a model trained from scratch on the same text)
    assert np.abs(after[words] - before[words]).max() > 1e-3
    continued = _cosines(after[words], before[words]).mean()
    scratch = _cosines(fresh_vectors[words], before[words]).mean()
    assert continued > scratch + 0.3, (continued, scratch)


def test_init_with_lr_0_keeps_the_output_rows_of_a_negative_sampling_model(facebook_bin, corpus):
    start = load_model(facebook_bin)
    with pytest.warns(UserWarning, match="lr=0 trains nothing"):
        model = FastText("skipgram", dim=16, epochs=1, bucket=5_000, workers=1, min_count=2, lr=0)
    model.fit(corpus, init=start)
    rows = model.vectors.vocab.indices(start.words.words)
    np.testing.assert_array_equal(model.output_weights[rows], start.output)


def test_word2vec_continues_a_fasttext_model_from_its_composed_vectors(facebook_bin, corpus):
    start = load_model(facebook_bin)
    with pytest.warns(UserWarning, match="lr=0 trains nothing"):
        model = Word2Vec("skipgram", dim=16, epochs=1, workers=1, min_count=2, lr=0)
    vectors = model.fit(corpus, init=start).vectors
    composed = start.vectors()
    for word in composed.words[:50]:
        np.testing.assert_array_equal(vectors[word], composed[word], err_msg=word)


def test_merging_a_start_keeps_every_word_and_reencodes_the_corpus():
    from wordspace.corpus import Corpus
    from wordspace.models.continued import merge_start
    from wordspace.vectors import Vectors
    from wordspace.vocab import Vocabulary

    old = Vectors(Vocabulary.from_words(["a", "b", "c"], [10, 5, 1]), np.eye(3, dtype=np.float32))
    new_vocab = Vocabulary.from_words(["c", "d", "a"], [30, 8, 2])
    ids = np.array([0, 1, 2, 0, 1], dtype=np.int32)
    corpus = Corpus(ids, np.array([0, 3, 5], dtype=np.int64))
    merged, encoded, start = merge_start(old, new_vocab, corpus)
    assert merged.words == ["c", "a", "d", "b"]
    assert merged.counts.tolist() == [31, 12, 8, 5]
    assert [merged.words[i] for i in encoded.ids] == [new_vocab.words[i] for i in ids]
    assert start.known.tolist() == [2, 0, -1, 1]


def test_hierarchical_softmax_models_write_a_bin_fasttext_reads(corpus, tmp_path):
    model = FastText("skipgram", loss="hs", dim=8, epochs=1, bucket=2_000, workers=1)
    model.fit(corpus)
    assert model.output_weights.shape == (len(model.vectors), 8)
    export(model.fasttext_model, tmp_path / "hs.bin", "fasttext-bin")
    facebook = fasttext.load_model(str(tmp_path / "hs.bin"))
    np.testing.assert_array_equal(facebook.get_word_vector("labmédx"), model.vectors["labmédx"])


def test_the_centre_bag_trains_with_every_loss(corpus):
    for loss in ("ns", "hs", "softmax"):
        model = FastText(
            "skipgram", loss=loss, skipgram_bag="centre", dim=8, epochs=1, bucket=2_000,
            workers=1, min_count=20,
        )  # fmt: skip
        model.fit(corpus)
        assert np.isfinite(model.training.epoch_losses[0]), loss
        assert model.training.examples > len(model.vectors), loss


def test_a_native_folder_whose_ngrams_disagree_with_its_arguments_is_refused(trained, tmp_path):
    folder = tmp_path / "m"
    trained.save(folder)
    meta_path = folder / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta["fasttext"]["args"]["bucket"] = 7
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(ModelFileError, match="differ from its fastText arguments") as caught:
        load_model(folder)
    assert "\n" not in str(caught.value)


def test_init_with_other_ngram_settings_is_refused(facebook_bin, corpus):
    model = FastText("skipgram", dim=16, minn=2, bucket=5_000)
    with pytest.raises(ParameterError, match="minn=2, but the init model has minn=3"):
        model.fit(corpus, init=facebook_bin)
    with pytest.raises(ParameterError, match="dim=32"):
        FastText("skipgram", dim=32, bucket=5_000).fit(corpus, init=facebook_bin)


@pytest.mark.slow
def test_a_misspelling_never_seen_gets_sensible_neighbours(enwiki_lines):
    model = FastText("skipgram", epochs=1, bucket=500_000, workers=2)
    vectors = model.fit(enwiki_lines(40_000)).vectors
    for typo, meant in (
        ("footbal", "football"),
        ("chmpionship", "championship"),
        ("presidnet", "president"),
    ):
        assert not vectors.in_vocab(typo) and vectors.in_vocab(meant)
        neighbours = [w for w, _ in vectors.most_similar(typo, topn=10)]
        assert meant in neighbours, (typo, neighbours)


def test_a_start_whose_words_decode_alike_is_refused_in_one_line():
    from wordspace.corpus import Corpus
    from wordspace.models.continued import merge_start
    from wordspace.vectors import Vectors
    from wordspace.vocab import Vocabulary

    raw = np.frombuffer(b"\xff\xfe", dtype=np.uint8)
    old = Vocabulary(raw, np.array([0, 1, 2]), np.array([3, 2]))  # two ill-formed words
    start = Vectors(old, np.zeros((2, 4), np.float32))
    corpus = Corpus(np.zeros(1, np.int32), np.array([0, 1]))
    with pytest.raises(ModelFileError, match="cannot continue the init model"):
        merge_start(start, Vocabulary.from_words(["x"], [1]), corpus)


def test_a_skipgram_bag_for_cbow_is_refused():
    with pytest.raises(ParameterError, match="skipgram_bag is for skip-gram"):
        FastText("cbow", skipgram_bag="centre")
