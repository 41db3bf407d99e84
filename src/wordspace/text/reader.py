"""Turn whatever the user passed as a corpus into a vocabulary and an encoded corpus."""

from __future__ import annotations

import errno
import lzma
import os
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

import numpy as np

from wordspace.corpus import MAX_SENTENCE_LENGTH, Corpus, ReadStats
from wordspace.errors import InputError, ParameterError
from wordspace.text.encoder import TEXT_CLASSES, CorpusEncoder
from wordspace.text.sentences import sentence_blocks
from wordspace.text.sources import STDIN, Source, describe, resolve_sources
from wordspace.vocab import Vocabulary

_DECOMPRESSION_ERRORS: tuple[type[Exception], ...] = (OSError, EOFError, lzma.LZMAError)
try:
    import zstandard

    _DECOMPRESSION_ERRORS += (zstandard.ZstdError,)
except ImportError:
    pass

CorpusInput = str | os.PathLike | list[Path] | Iterable


def _is_path_input(corpus: object) -> bool:
    if isinstance(corpus, str | os.PathLike):
        return True
    return (
        isinstance(corpus, list | tuple)
        and len(corpus) > 0
        and all(isinstance(item, os.PathLike) for item in corpus)
    )


def _read_source(encoder: CorpusEncoder, source: Source) -> None:
    """Feed one source to the encoder. Any operating-system or decompression error while
    opening or reading it (EIO, a folder, a truncated archive, a closed stdin) becomes an
    :class:`InputError` naming the source."""
    try:
        with source.open() as stream:
            encoder.feed_stream(stream, source.name)
    except _DECOMPRESSION_ERRORS as exc:
        raise InputError(f"{source.name}: {_failure(source, exc)}") from exc


def _failure(source: Source, exc: Exception) -> str:
    """What went wrong reading a source, in words."""
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    if source.path == STDIN and isinstance(exc, OSError) and exc.errno == errno.EBADF:
        return f"stdin is closed ({reason}); pipe text into the command or give a file"
    return f"cannot read ({reason or type(exc).__name__})"


def scanned(
    corpus: CorpusInput, threads: int, keep_blank: bool = False
) -> tuple[CorpusEncoder, str]:
    """Scan the whole input: the encoder holding its types and blocks, and its name. With
    ``keep_blank`` blank lines are kept as empty lines."""
    if _is_path_input(corpus):
        sources = resolve_sources(corpus)  # type: ignore[arg-type]
        name = describe(sources)
        encoder = CorpusEncoder(TEXT_CLASSES, threads, keep_blank)
        for source in sources:
            _read_source(encoder, source)
    else:
        name = "<corpus iterable>"
        classes, blocks = sentence_blocks(corpus)
        encoder = CorpusEncoder(classes, threads, keep_blank)
        encoder.feed_blocks(blocks, name)
    if encoder.raw_tokens == 0:
        raise InputError(f"{name}: no text to train on (the input holds no tokens)")
    return encoder, name


def empty_vocabulary(name: str, counts: np.ndarray, min_count: int) -> InputError:
    """The error for a vocabulary left empty by ``min_count`` (``counts``: the word types')."""
    most = f"{int(counts.max()):,}" if len(counts) else "0"
    return InputError(
        f"{name}: the vocabulary is empty: none of its {len(counts):,} distinct words "
        f"occurs min_count={min_count} times (the most frequent occurs "
        f"{most} times); lower min_count or give more text"
    )


def read_corpus(
    corpus: CorpusInput,
    *,
    min_count: int,
    max_vocab_size: int | None = None,
    max_sentence_length: int | None = MAX_SENTENCE_LENGTH,
    threads: int = 1,
) -> tuple[Vocabulary, Corpus, ReadStats]:
    """Read, count and encode a corpus in one pass, scanning on ``threads`` threads.

    ``corpus`` is a path (file, folder, glob pattern or ``-`` for stdin; a list of
    ``Path`` objects for several), an iterable of token lists, or an iterable of strings
    (each tokenised like a line of a file). Lines longer than ``max_sentence_length`` words
    are split into sentences of that many; None keeps every line whole (sent2vec's
    examples are lines), however long. Raises :class:`InputError` when there is nothing to
    train on, saying why.
    """
    if max_sentence_length is not None and max_sentence_length < 1:
        raise ParameterError(
            f"max_sentence_length={max_sentence_length} must be at least 1, or None to keep "
            "lines whole"
        )
    encoder, name = scanned(corpus, threads)
    stats = encoder.stats(name)
    counts = encoder.type_counts()
    vocab, encoded = encoder.finish(min_count, max_vocab_size, max_sentence_length)
    if len(vocab) == 0:
        raise empty_vocabulary(name, counts, min_count)
    return vocab, encoded, stats


LABEL_PREFIX = "__label__"
"""fastText's label prefix: a token that starts with it is a label, not a word."""


class LabelledCorpus(NamedTuple):
    """What :func:`read_labelled_corpus` gives: the word vocabulary, the label vocabulary,
    the corpus of whole lines with their labels (``corpus.labels``, ``corpus.label_offsets``)
    and what reading found."""

    vocab: Vocabulary
    labels: Vocabulary
    corpus: Corpus
    stats: ReadStats


def read_labelled_corpus(
    corpus: CorpusInput,
    *,
    min_count: int,
    label_prefix: str = LABEL_PREFIX,
    min_label_count: int = 1,
    max_vocab_size: int | None = None,
    threads: int = 1,
) -> LabelledCorpus:
    """Read a corpus for a line-level model, fastText's way: each non-blank line is one
    example, kept whole; tokens that start with ``label_prefix`` are its labels, wherever
    they stand in the line, and form a vocabulary of their own (most frequent first, labels
    seen fewer than ``min_label_count`` times dropped); the other tokens are its words
    (``min_count`` and ``max_vocab_size`` apply to them only). Lines with no label and lines
    with only labels are kept: a model decides what to do with them (fastText's supervised
    training skips lines without labels).

    Raises :class:`InputError` when the input holds no label or no word to train on.
    """
    if not label_prefix or any(c.isspace() for c in label_prefix):
        raise ParameterError(
            f"label_prefix={label_prefix!r} must be a non-empty string without whitespace "
            "(fastText's is '__label__')"
        )
    encoder, name = scanned(corpus, threads)
    stats = encoder.stats(name)
    vocab, labels, encoded = encoder.finish_labelled(
        min_count, max_vocab_size, label_prefix, min_label_count
    )
    if len(labels) == 0:
        raise InputError(
            f"{name}: no labels: no token starts with the label prefix {label_prefix!r} "
            f"at least min_label_count={min_label_count} times; mark each line's labels "
            "(as in '__label__sports') or give the prefix the data uses"
        )
    if len(vocab) == 0:
        word_counts = encoder.type_counts()[~encoder.label_types(label_prefix)]
        raise empty_vocabulary(name, word_counts, min_count)
    return LabelledCorpus(vocab, labels, encoded, stats)
