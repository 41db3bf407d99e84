"""Reading text: sources, compression, tokenisation, sentences, UTF-8 repair, iterables."""

from __future__ import annotations

import bz2
import collections
import gzip
import io
import itertools
import lzma
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wordspace.errors import InputError
from wordspace.kernels.utf8 import repair_strings
from wordspace.text.encoder import CorpusEncoder
from wordspace.text.reader import read_corpus

TEXT = b"the cat sat on the mat\nthe dog sat\n\nthe end the\n"


def sentences(vocab, corpus):
    words = vocab.words
    return [
        [words[i] for i in corpus.ids[a:b]]
        for a, b in zip(corpus.offsets[:-1], corpus.offsets[1:], strict=True)
    ]


def read(spec, min_count=1, **kw):
    vocab, corpus, stats = read_corpus(spec, min_count=min_count, **kw)
    return vocab, corpus, stats


def test_sentences_are_lines_and_words_are_sorted_by_count_then_first_seen(tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes(TEXT)
    vocab, corpus, stats = read(path)
    assert vocab.words[:3] == ["the", "sat", "cat"]
    assert list(vocab.counts[:2]) == [5, 2]
    assert sentences(vocab, corpus) == [
        ["the", "cat", "sat", "on", "the", "mat"],
        ["the", "dog", "sat"],
        ["the", "end", "the"],
    ]
    assert stats.raw_tokens == 12


@pytest.mark.parametrize(
    "compress",
    [gzip.compress, bz2.compress, lzma.compress, pytest.param("zst", id="zstd")],
)
def test_compressed_input_is_recognised_by_content(tmp_path, compress):
    if compress == "zst":
        zstandard = pytest.importorskip("zstandard")
        data = zstandard.ZstdCompressor().compress(TEXT)
    else:
        data = compress(TEXT)
    path = tmp_path / "corpus.data"
    path.write_bytes(data)
    plain = tmp_path / "plain.txt"
    plain.write_bytes(TEXT)
    assert sentences(*read(path)[:2]) == sentences(*read(plain)[:2])


def test_folder_is_read_recursively_in_sorted_order_skipping_hidden_files(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "2.txt").write_bytes(b"two words")
    (tmp_path / "1.txt").write_bytes(b"one word")
    (tmp_path / ".hidden").write_bytes(b"secret secret")
    vocab, corpus, _ = read(tmp_path)
    assert sentences(vocab, corpus) == [["one", "word"], ["two", "words"]]


def test_glob_pattern_selects_files(tmp_path):
    (tmp_path / "x.txt").write_bytes(b"alpha")
    (tmp_path / "y.txt").write_bytes(b"beta")
    (tmp_path / "z.log").write_bytes(b"gamma")
    vocab, _, _ = read(str(tmp_path / "*.txt"))
    assert sorted(vocab.words) == ["alpha", "beta"]


def test_dash_reads_stdin(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(io.BytesIO(TEXT))))
    vocab, corpus, _ = read("-")
    assert len(sentences(vocab, corpus)) == 3


def test_a_file_without_final_newline_ends_its_last_sentence(tmp_path):
    (tmp_path / "a").write_bytes(b"x y\nz w")
    (tmp_path / "b").write_bytes(b"p q")
    vocab, corpus, _ = read(tmp_path)
    assert sentences(vocab, corpus) == [["x", "y"], ["z", "w"], ["p", "q"]]


def test_whitespace_is_space_tab_cr_vt_ff_and_crlf_lines_work(tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes(b"a\tb\x0bc\x0cd\r\ne  f\r\n")
    vocab, corpus, _ = read(path)
    assert sentences(vocab, corpus) == [["a", "b", "c", "d"], ["e", "f"]]


def test_long_lines_are_split_into_spans_and_never_truncated(tmp_path):
    words = [f"w{i % 7}" for i in range(25_000)]
    path = tmp_path / "long.txt"
    path.write_text(" ".join(words) + "\n")
    vocab, corpus, _ = read(path)
    assert np.diff(corpus.offsets).tolist() == [10_000, 10_000, 5_000]
    assert [word for sentence in sentences(vocab, corpus) for word in sentence] == words


def test_tokens_are_not_split_at_block_boundaries(tmp_path):
    data = b"alpha beta gamma\ndelta epsilon\n" * 50 + b"zeta " * 30
    expected = CorpusEncoder()
    expected.feed_stream(io.BytesIO(data), "x")
    for block in (1, 3, 7, 64):
        encoder = CorpusEncoder()
        encoder.feed_stream(io.BytesIO(data), "x", block_bytes=block)
        assert encoder.raw_tokens == expected.raw_tokens
        assert encoder.n_types == expected.n_types == 6
        a = encoder.finish(1, None, 10_000)
        b = CorpusEncoder()
        b.feed_stream(io.BytesIO(data), "x")
        b = b.finish(1, None, 10_000)
        assert sentences(*a) == sentences(*b)


def _encoded(data, threads, block_bytes, sources=1):
    encoder = CorpusEncoder(threads=threads)
    for i in range(sources):
        encoder.feed_stream(io.BytesIO(data), f"part{i}", block_bytes=block_bytes)
    stats = encoder.stats("x")
    vocab, corpus = encoder.finish(1, None, 7)
    return vocab.words, vocab.counts.tolist(), sentences(vocab, corpus), stats


@pytest.mark.parametrize("threads", [2, 3, 8])
@pytest.mark.parametrize("block_bytes", [1, 2, 5, 13, 64])
def test_scanning_on_several_threads_gives_the_one_thread_result(threads, block_bytes):
    # Lines that continue past a block, blocks that start with a line end (after a space or
    # a CR that ended the block before), empty lines, a line longer than a sentence (7),
    # ties in counts whose order is first occurrence, a missing final newline, and a second
    # source: all as one thread reads them.
    data = b"b a c \r\n\nd  e a\n" + b"f g h i j k l m n o p \n" * 3 + b"\n\nq b\r\nr s t\n c a z"
    want = _encoded(data, 1, 1 << 20, sources=2)
    got = _encoded(data, threads, block_bytes, sources=2)
    assert got[:3] == want[:3]
    assert (got[3].raw_tokens, got[3].lines, got[3].types) == (
        want[3].raw_tokens, want[3].lines, want[3].types,
    )  # fmt: skip


def test_scanning_threads_merge_counts_of_real_text(enwiki_lines):
    data = enwiki_lines(2000).read_bytes()
    assert _encoded(data, 2, 4096) == _encoded(data, 1, 1 << 24)


def test_invalid_utf8_is_replaced_counted_and_located(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes(b"good words here\ncaf\xe9 ok \xff\xfe\nfine caf\xe9\n")
    vocab, _corpus, stats = read(path)
    assert "caf\ufffd" in vocab
    assert vocab.counts[vocab.index("caf\ufffd")] == 2
    assert stats.invalid_utf8 == 4
    assert stats.first_invalid == f"{path}:2"
    assert len(stats.warnings()) == 1 and "4 invalid UTF-8" in stats.warnings()[0]


@pytest.mark.parametrize("block_bytes", [3, 16])
def test_invalid_utf8_is_located_when_several_threads_scan_small_blocks(block_bytes):
    data = b"good words here\nmore\n\nfine\ncaf\xe9 ok \xff\xfe\nfine caf\xe9\n"
    *_, stats = _encoded(data, 2, block_bytes, sources=2)
    assert stats.invalid_utf8 == 8
    assert stats.first_invalid == "part0:5"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=12), min_size=1, max_size=8))
def test_utf8_repair_matches_python_decode_with_replace_and_ignore(chunks):
    offsets = np.cumsum([0] + [len(c) for c in chunks]).astype(np.int64)
    blob = np.frombuffer(b"".join(chunks), dtype=np.uint8)
    for drop, errors in ((False, "replace"), (True, "ignore")):
        fixed, fixed_offsets, _ = repair_strings(blob, offsets, drop)
        got = [bytes(fixed[a:b]).decode("utf-8") for a, b in itertools.pairwise(fixed_offsets)]
        assert got == [c.decode("utf-8", errors) for c in chunks]


def test_token_lists_keep_tokens_exactly_even_with_spaces():
    vocab, corpus, _ = read([["new york", "is", "big"], ["new york", "x"]])
    assert sentences(vocab, corpus) == [["new york", "is", "big"], ["new york", "x"]]


def test_strings_are_tokenised_like_lines_of_a_file():
    vocab, corpus, _ = read(["the cat  sat", "the\tdog"])
    assert sentences(vocab, corpus) == [["the", "cat", "sat"], ["the", "dog"]]


def test_a_generator_is_consumed_once_into_the_encoded_corpus():
    gen = (line.split() for line in ["a b c", "a b"])
    _vocab, corpus, _ = read(gen)
    assert corpus.n_tokens == 5
    with pytest.raises(InputError, match="generator can be read only once"):
        read(gen)


def test_mixed_sentence_kinds_are_rejected_naming_the_sentence():
    with pytest.raises(InputError, match="sentence 1"):
        read([["a", "b"], "c d"])
    with pytest.raises(InputError, match="every token must be a str"):
        read([["a", 3]])
    with pytest.raises(InputError, match="got int"):
        read(5)


def test_counts_match_a_python_counter_on_real_text(enwiki_lines):
    path = enwiki_lines(3000)
    counter = collections.Counter(path.read_bytes().split())
    vocab, corpus, stats = read(path, min_count=3)
    assert stats.raw_tokens == sum(counter.values())
    assert stats.types == len(counter)
    expected = {w.decode(): c for w, c in counter.items() if c >= 3}
    assert dict(zip(vocab.words, vocab.counts.tolist(), strict=True)) == expected
    assert corpus.n_tokens == sum(expected.values())


def test_missing_empty_binary_and_rare_only_inputs_are_clear_errors(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read(tmp_path / "nope.txt")
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match="no text"):
        read(empty)
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(np.random.default_rng(0).integers(0, 256, 50_000, dtype=np.uint8))
    with pytest.raises(InputError, match="binary"):
        read(garbage)
    rare = tmp_path / "rare.txt"
    rare.write_text("a b c d a\n")
    with pytest.raises(InputError, match=r"vocabulary is empty.*min_count=5"):
        read(rare, min_count=5)
