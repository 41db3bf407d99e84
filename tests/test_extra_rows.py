"""Per-word extra input rows: none for word2vec, fastText's char n-gram rows for subwords."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wordspace.errors import ParameterError
from wordspace.extra_rows import ExtraRows
from wordspace.hashing import char_ngram_buckets, char_ngram_count
from wordspace.subwords import CharNgrams
from wordspace.vocab import Vocabulary

WORDS = ["the", "cat", "zürich", "日本語", "aaaa", "ab", "a", "naïve", "unpredictabilities"]


def test_plain_word2vec_has_no_extra_rows():
    rows = ExtraRows.none(5)
    assert rows.offsets.tolist() == [0] * 6 and len(rows.rows) == 0
    assert rows.n_words == 5 and len(rows.of(3)) == 0
    assert rows.offsets.dtype == rows.rows.dtype == np.int64


@pytest.mark.parametrize(("minn", "maxn", "bucket"), [(0, 0, 1000), (3, 6, 0)])
def test_char_ngrams_without_lengths_or_buckets_give_no_rows(minn, maxn, bucket):
    rows = ExtraRows.char_ngrams(Vocabulary.from_words(WORDS), minn, maxn, bucket)
    assert rows.offsets.tolist() == [0] * (len(WORDS) + 1) and len(rows.rows) == 0


@pytest.mark.parametrize(("minn", "maxn"), [(3, 6), (1, 3), (2, 2), (5, 3)])
def test_char_ngram_rows_are_the_words_buckets_past_the_vocabulary(minn, maxn):
    vocab = Vocabulary.from_words(WORDS)
    rows = ExtraRows.char_ngrams(vocab, minn, maxn, 10_007)
    ngrams = CharNgrams(np.zeros((10_007, 1), dtype=np.float32), minn, maxn)
    assert rows.offsets[0] == 0 and rows.offsets[-1] == len(rows.rows)
    for w, word in enumerate(WORDS):
        assert rows.of(w).tolist() == (len(WORDS) + ngrams.buckets(word)).tolist()


def test_skipped_words_get_no_char_ngram_rows():
    vocab = Vocabulary.from_words(["the", "</s>", "cat"])
    rows = ExtraRows.char_ngrams(vocab, 3, 6, 1000, skip=np.array([False, True, False]))
    assert len(rows.of(1)) == 0 and len(rows.of(0)) == len(rows.of(2)) == 6


def test_negative_sizes_and_a_skip_mask_of_the_wrong_length_are_refused():
    vocab = Vocabulary.from_words(WORDS)
    with pytest.raises(ParameterError, match="minn"):
        ExtraRows.char_ngrams(vocab, -1, 6, 1000)
    with pytest.raises(ParameterError, match="skip"):
        ExtraRows.char_ngrams(vocab, 3, 6, 1000, skip=np.zeros(2, dtype=bool))


@settings(max_examples=300, deadline=None)
@given(
    st.binary(max_size=20),
    st.integers(min_value=0, max_value=7),
    st.integers(min_value=0, max_value=7),
)
def test_char_ngram_count_equals_the_number_of_buckets_written(word, minn, maxn):
    # Any bytes, invalid UTF-8 included: the count must size the table exactly.
    wrapped = np.frombuffer(b"<" + word + b">", dtype=np.uint8)
    out = np.empty(len(wrapped) * max(maxn, 1), dtype=np.int64)
    written = char_ngram_buckets(wrapped, len(wrapped), minn, maxn, 97, out)
    assert char_ngram_count(wrapped, len(wrapped), minn, maxn, 97) == written


FASTTEXT_TEXT = "the zürich 日本語 cat aaaa ab\nthe cat sat on naïve a\nunpredictabilities über\n"


def _facebook_model(tmp_path, minn, maxn, bucket):
    fasttext = pytest.importorskip("fasttext")
    corpus = tmp_path / "c.txt"
    corpus.write_text(FASTTEXT_TEXT * 3, encoding="utf-8")
    out = tmp_path / "m.bin"
    # fasttext-numpy2 trains reliably only in a fresh process (see test_fasttext_format).
    script = (
        "import sys, fasttext; fasttext.train_unsupervised(sys.argv[1], model='skipgram', "
        f"dim=2, epoch=1, minCount=1, minn={minn}, maxn={maxn}, bucket={bucket}, thread=1, "
        "verbose=0).save_model(sys.argv[2])"
    )
    subprocess.run([sys.executable, "-c", script, str(corpus), str(out)], check=True)
    return fasttext.load_model(str(out))


@pytest.mark.parametrize(("minn", "maxn", "bucket"), [(3, 6, 2_000_000), (1, 3, 1000)])
def test_char_ngram_rows_equal_the_subword_ids_of_facebook_fasttext(tmp_path, minn, maxn, bucket):
    model = _facebook_model(tmp_path, minn, maxn, bucket)
    words = model.words
    vocab = Vocabulary.from_words(words)
    skip = np.array([w == "</s>" for w in words])
    rows = ExtraRows.char_ngrams(vocab, minn, maxn, bucket, skip=skip)
    for w, word in enumerate(words):
        _, ids = model.get_subwords(word)
        assert ids[0] == w
        assert rows.of(w).tolist() == ids[1:].tolist(), word
