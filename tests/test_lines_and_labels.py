"""Line-level corpora: lines kept whole, and labels apart from words (fastText's rules)."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import numpy as np
import pytest

from wordspace.errors import InputError, ParameterError
from wordspace.text.encoder import CorpusEncoder
from wordspace.text.reader import read_corpus, read_labelled_corpus

from .conftest import SHARED_DATA, require


def lines(result):
    """Each line as (words, labels), in strings."""
    words, labels, corpus = result.vocab.words, result.labels.words, result.corpus
    out = []
    for i in range(corpus.n_sentences):
        a, b = corpus.offsets[i], corpus.offsets[i + 1]
        la, lb = corpus.label_offsets[i], corpus.label_offsets[i + 1]
        out.append(([words[t] for t in corpus.ids[a:b]], [labels[t] for t in corpus.labels[la:lb]]))
    return out


def test_lines_longer_than_the_sentence_length_are_kept_whole_when_asked(tmp_path):
    words = [f"w{i % 7}" for i in range(25_000)]
    path = tmp_path / "long.txt"
    path.write_text(" ".join(words) + "\nshort line\n")
    vocab, corpus, _ = read_corpus(path, min_count=1, max_sentence_length=None)
    assert np.diff(corpus.offsets).tolist() == [25_000, 2]
    assert [vocab.words[i] for i in corpus.ids[:25_000]] == words
    assert corpus.labels is None and corpus.label_offsets is None


def test_plain_reading_keeps_label_tokens_as_words():
    vocab, corpus, _ = read_corpus(["__label__x w"], min_count=1)
    assert vocab.words == ["__label__x", "w"] and corpus.labels is None


def test_a_sentence_length_below_one_is_refused():
    with pytest.raises(ParameterError, match="max_sentence_length"):
        read_corpus(["a b"], min_count=1, max_sentence_length=0)


def test_labels_anywhere_in_the_line_go_to_the_label_vocabulary():
    result = read_labelled_corpus(
        ["__label__a x y", "x __label__b y", "y x __label__a"], min_count=1
    )
    assert result.vocab.words == ["x", "y"]
    assert result.labels.words == ["__label__a", "__label__b"]
    assert lines(result) == [
        (["x", "y"], ["__label__a"]),
        (["x", "y"], ["__label__b"]),
        (["y", "x"], ["__label__a"]),
    ]
    assert result.corpus.labels.dtype == np.int32
    assert result.corpus.label_offsets.dtype == np.int64


def test_several_labels_of_a_line_keep_their_order_and_repeats():
    result = read_labelled_corpus(["__label__b w __label__a __label__b"], min_count=1)
    assert lines(result) == [(["w"], ["__label__b", "__label__a", "__label__b"])]


def test_lines_without_labels_and_lines_of_only_labels_are_kept_as_lines():
    text = ["w __label__x", "no labels", "", "__label__y", "w"]
    result = read_labelled_corpus(text, min_count=1)
    assert lines(result) == [
        (["w"], ["__label__x"]),
        (["no", "labels"], []),
        ([], ["__label__y"]),
        (["w"], []),
    ]
    assert result.corpus.n_sentences == result.stats.lines == 4


def test_lines_whose_words_are_all_rare_are_kept_empty():
    result = read_labelled_corpus(["common __label__x", "rare __label__y", "common"], min_count=2)
    assert lines(result) == [(["common"], ["__label__x"]), ([], ["__label__y"]), (["common"], [])]


def test_the_label_vocabulary_is_sorted_by_count_then_first_seen():
    text = ["__label__c w", "__label__a w", "__label__b w", "__label__b w", "__label__a w"]
    result = read_labelled_corpus(text, min_count=1)
    assert result.labels.words == ["__label__a", "__label__b", "__label__c"]
    assert result.labels.counts.tolist() == [2, 2, 1]


def test_min_count_applies_to_words_and_min_label_count_to_labels():
    text = ["w __label__x", "w __label__x", "v __label__y"]
    result = read_labelled_corpus(text, min_count=2, min_label_count=2)
    assert result.vocab.words == ["w"] and result.labels.words == ["__label__x"]
    assert lines(result) == [(["w"], ["__label__x"]), (["w"], ["__label__x"]), ([], [])]


def test_the_label_prefix_is_configurable():
    result = read_labelled_corpus(
        ["#pos good", "bad #neg __label__x"], min_count=1, label_prefix="#"
    )
    assert result.labels.words == ["#pos", "#neg"]
    assert result.vocab.words == ["good", "bad", "__label__x"]


def test_a_label_prefix_that_no_token_can_start_with_is_refused():
    for prefix in ("", "a b"):
        with pytest.raises(ParameterError, match="label_prefix"):
            read_labelled_corpus(["w __label__x"], min_count=1, label_prefix=prefix)


def test_input_without_labels_or_without_words_is_a_clear_error():
    with pytest.raises(InputError, match="no labels"):
        read_labelled_corpus(["just words"], min_count=1)
    with pytest.raises(InputError, match=r"vocabulary is empty.* 2 distinct words"):
        read_labelled_corpus(["a __label__x", "b __label__x"], min_count=2)


def test_token_lists_and_files_are_read_alike(tmp_path):
    text = ["__label__x the cat", "the dog __label__y __label__x", "no label"]
    path = tmp_path / "t.txt"
    path.write_text("\n".join(text) + "\n")
    from_file = lines(read_labelled_corpus(path, min_count=1))
    assert lines(read_labelled_corpus([s.split() for s in text], min_count=1)) == from_file
    assert lines(read_labelled_corpus(text, min_count=1)) == from_file


def _labelled(data: bytes, threads: int, block_bytes: int):
    encoder = CorpusEncoder(threads=threads)
    encoder.feed_stream(io.BytesIO(data), "x", block_bytes=block_bytes)
    vocab, labels, corpus = encoder.finish_labelled(1, None, "__label__")
    return (
        vocab.words, labels.words, corpus.ids.tolist(), corpus.offsets.tolist(),
        corpus.labels.tolist(), corpus.label_offsets.tolist(),
    )  # fmt: skip


@pytest.mark.parametrize("threads", [1, 3])
@pytest.mark.parametrize("block_bytes", [1, 4, 13])
def test_labelled_lines_split_across_blocks_and_threads_read_as_one(threads, block_bytes):
    data = (
        b"__label__a x y\n\n__label__b\r\nz __label__a w __label__c\nno labels here\n"
        b"   __label__b   \nlast __label__a"
    )
    assert _labelled(data, threads, block_bytes) == _labelled(data, 1, 1 << 20)


def test_words_and_labels_and_their_counts_equal_facebook_fasttexts():
    pytest.importorskip("fasttext")
    train = require(SHARED_DATA / "classification" / "senteval" / "trec.train.txt")
    script = (
        "import sys, json, fasttext; m = fasttext.train_supervised(sys.argv[1], dim=2, "
        "epoch=1, minCount=2, thread=1, verbose=0); w, wc = m.get_words(include_freq=True); "
        "l, lc = m.get_labels(include_freq=True); "
        "print(json.dumps([dict(zip(w, wc.tolist())), dict(zip(l, lc.tolist()))]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(train)], check=True, capture_output=True, text=True
    )
    fb_words, fb_labels = json.loads(done.stdout)
    fb_words.pop("</s>")
    result = read_labelled_corpus(train, min_count=2)
    assert dict(zip(result.vocab.words, result.vocab.counts.tolist(), strict=True)) == fb_words
    assert dict(zip(result.labels.words, result.labels.counts.tolist(), strict=True)) == fb_labels
    assert result.labels.counts.tolist() == sorted(fb_labels.values(), reverse=True)
    assert result.corpus.n_sentences == sum(
        1 for line in train.read_bytes().splitlines() if line.split()
    )
