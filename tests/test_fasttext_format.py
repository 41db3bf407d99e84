"""fastText's .bin: exact vectors against Facebook's fastText and gensim, both directions."""

from __future__ import annotations

import numpy as np
import pytest

from wordspace import ModelFileError, Vectors, load
from wordspace.formats import convert
from wordspace.formats.fasttext import (
    load_native,
    read_fasttext_bin,
    save_native,
    write_fasttext_bin,
)
from wordspace.models.fasttext import FastTextModel

from .conftest import SHARED_DATA, require, train_in_fresh_process

fasttext = pytest.importorskip("fasttext")
OOV = ["zürich", "xyzzyqq", "日本語", "a", "unpredictabilities", "", "ü"]


@pytest.fixture(scope="module")
def facebook(enwiki_lines, tmp_path_factory):
    path = tmp_path_factory.mktemp("fb") / "model.bin"
    model = train_in_fresh_process(
        "unsupervised", enwiki_lines(1500), path, model="skipgram", dim=16, epoch=1,
        minCount=3, thread=1, minn=2, maxn=5, bucket=20_000, verbose=0,
    )  # fmt: skip
    return model, path


def _words(model, n=300):
    return [*model.words[:n], model.words[-1]]


def test_vectors_equal_facebook_get_word_vector_bit_for_bit(facebook):
    model, path = facebook
    vectors = load(path)
    assert vectors.words == model.words
    for word in _words(model) + OOV:
        np.testing.assert_array_equal(vectors[word], model.get_word_vector(word))
    assert vectors.in_vocab("the") and not vectors.in_vocab("zürich")
    assert vectors.has_vector("zürich")


def test_written_bin_is_byte_identical_and_loads_in_fasttext(facebook, tmp_path):
    model, path = facebook
    write_fasttext_bin(read_fasttext_bin(path), tmp_path / "again.bin")
    assert (tmp_path / "again.bin").read_bytes() == path.read_bytes()
    again = fasttext.load_model(str(tmp_path / "again.bin"))
    for word in OOV + _words(model, 20):
        np.testing.assert_array_equal(again.get_word_vector(word), model.get_word_vector(word))


def test_native_round_trip_keeps_the_whole_model(facebook, tmp_path):
    model, path = facebook
    save_native(read_fasttext_bin(path), tmp_path / "native")
    vectors = load(tmp_path / "native")
    assert isinstance(vectors.matrix, np.memmap) and isinstance(vectors.ngrams.vectors, np.memmap)
    for word in OOV + _words(model, 50):
        np.testing.assert_array_equal(vectors[word], model.get_word_vector(word))
    write_fasttext_bin(load_native(tmp_path / "native"), tmp_path / "back.bin")
    assert (tmp_path / "back.bin").read_bytes() == path.read_bytes()


def test_gensim_reads_our_bin_and_we_read_gensims(facebook, tmp_path):
    from gensim.models.fasttext import load_facebook_model, save_facebook_model

    model, path = facebook
    write_fasttext_bin(read_fasttext_bin(path), tmp_path / "ours.bin")
    gensim_model = load_facebook_model(str(tmp_path / "ours.bin"))
    # gensim also adds n-grams to the end-of-sentence token </s>, which fastText does not.
    words = [w for w in _words(model) if w != "</s>"] + [w for w in OOV if w]
    for word in words:
        assert np.abs(gensim_model.wv[word] - model.get_word_vector(word)).max() <= 1e-6
    save_facebook_model(gensim_model, str(tmp_path / "gensim.bin"))
    vectors = load(tmp_path / "gensim.bin")
    for word in words:
        assert np.abs(vectors[word] - gensim_model.wv[word]).max() <= 1e-6


def test_gensim_trained_fasttext_model_reads_with_equal_vectors(enwiki_lines, tmp_path):
    from gensim.models import FastText
    from gensim.models.fasttext import save_facebook_model

    gensim_model = FastText(
        corpus_file=str(enwiki_lines(1000)), vector_size=12, min_count=3, epochs=1, workers=1,
        min_n=3, max_n=5, bucket=10_000,
    )  # fmt: skip
    save_facebook_model(gensim_model, str(tmp_path / "g.bin"))
    vectors = load(tmp_path / "g.bin")
    for word in gensim_model.wv.index_to_key[:200] + [w for w in OOV if w]:
        assert np.abs(vectors[word] - gensim_model.wv[word]).max() <= 1e-6


def test_plain_vectors_become_a_bin_that_fasttext_and_gensim_read(tmp_path):
    from gensim.models.fasttext import load_facebook_model

    rng = np.random.default_rng(0)
    words = ["alpha", "beta", "gamma", "délta"]
    vectors = Vectors.from_words(words, rng.normal(size=(4, 8)), counts=[9, 7, 5, 3])
    write_fasttext_bin(FastTextModel.from_vectors(vectors), tmp_path / "plain.bin")
    model = fasttext.load_model(str(tmp_path / "plain.bin"))
    gensim_model = load_facebook_model(str(tmp_path / "plain.bin"))
    for word in words:
        np.testing.assert_array_equal(model.get_word_vector(word), vectors[word])
        np.testing.assert_array_equal(gensim_model.wv[word], vectors[word])
    assert not model.get_word_vector("unknown").any()


@pytest.fixture(scope="module")
def supervised(tmp_path_factory):
    train = require(SHARED_DATA / "classification" / "senteval" / "trec.train.txt")
    folder = tmp_path_factory.mktemp("sup")
    model = train_in_fresh_process(
        "supervised", train, folder / "sup.bin", dim=10, epoch=2, wordNgrams=2, minn=2, maxn=3,
        bucket=50_000, thread=1, verbose=0,
    )  # fmt: skip
    return model, folder / "sup.bin"


def test_supervised_models_keep_labels_and_vectors(supervised, tmp_path):
    model, path = supervised
    ours = read_fasttext_bin(path)
    assert ours.labels is not None and ours.labels.words == model.labels
    assert ours.output.shape == (len(model.labels), 10)
    vectors = ours.vectors()
    for word in model.words[:100] + OOV:
        np.testing.assert_array_equal(vectors[word], model.get_word_vector(word))
    write_fasttext_bin(ours, tmp_path / "again.bin")
    assert (tmp_path / "again.bin").read_bytes() == path.read_bytes()


def test_version_11_supervised_models_ignore_char_ngrams(supervised, tmp_path):
    _, path = supervised
    data = bytearray(path.read_bytes())
    data[4:8] = (11).to_bytes(4, "little")
    (tmp_path / "v11.bin").write_bytes(bytes(data))
    old = read_fasttext_bin(tmp_path / "v11.bin")
    assert old.args["maxn"] == 0 and old.version == 11
    assert not old.vectors()["qwertyuiop"].any()


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda b: b[: len(b) // 2], "truncated"),
        (lambda b: b[:40], "truncated|ends inside"),
        (lambda b: b"\x00\x00\x00\x00" + b[4:], "wrong magic"),
        (lambda b: b[:4] + (99).to_bytes(4, "little") + b[8:], "version 99"),
        (lambda b: b[:64] + (2**31 - 1).to_bytes(4, "little") + b[68:], "sizes do not add up"),
    ],
)
def test_corrupt_bin_files_are_refused_naming_the_file(facebook, tmp_path, mutate, message):
    _, path = facebook
    bad = tmp_path / "bad.bin"
    bad.write_bytes(mutate(path.read_bytes()))
    with pytest.raises(ModelFileError, match=message) as info:
        read_fasttext_bin(bad)
    assert str(bad) in str(info.value)


def test_vec_files_are_word2vec_text(facebook, tmp_path):
    model, path = facebook
    written = convert(path, tmp_path / "model.vec")
    assert written == "fasttext-vec"
    vectors = load(tmp_path / "model.vec")
    assert vectors.words == model.words
    assert np.abs(vectors["the"] - model.get_word_vector("the")).max() <= 1e-6
