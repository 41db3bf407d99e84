"""Turn whatever the user passed as a corpus into a vocabulary and an encoded corpus."""

from __future__ import annotations

import errno
import lzma
import os
from collections.abc import Iterable
from pathlib import Path

from wordspace.corpus import MAX_SENTENCE_LENGTH, Corpus, ReadStats
from wordspace.errors import InputError
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


def read_corpus(
    corpus: CorpusInput,
    *,
    min_count: int,
    max_vocab_size: int | None = None,
    max_sentence_length: int = MAX_SENTENCE_LENGTH,
    threads: int = 1,
) -> tuple[Vocabulary, Corpus, ReadStats]:
    """Read, count and encode a corpus in one pass, scanning on ``threads`` threads.

    ``corpus`` is a path (file, folder, glob pattern or ``-`` for stdin; a list of
    ``Path`` objects for several), an iterable of token lists, or an iterable of strings
    (each tokenised like a line of a file). Raises :class:`InputError` when there is
    nothing to train on, saying why.
    """
    if _is_path_input(corpus):
        sources = resolve_sources(corpus)  # type: ignore[arg-type]
        name = describe(sources)
        encoder = CorpusEncoder(TEXT_CLASSES, threads)
        for source in sources:
            _read_source(encoder, source)
    else:
        name = "<corpus iterable>"
        classes, blocks = sentence_blocks(corpus)
        encoder = CorpusEncoder(classes, threads)
        encoder.feed_blocks(blocks, name)
    stats = encoder.stats(name)
    if encoder.raw_tokens == 0:
        raise InputError(f"{name}: no text to train on (the input holds no tokens)")
    counts = encoder.type_counts()
    vocab, encoded = encoder.finish(min_count, max_vocab_size, max_sentence_length)
    if len(vocab) == 0:
        raise InputError(
            f"{name}: the vocabulary is empty: none of its {len(counts):,} distinct words "
            f"occurs min_count={min_count} times (the most frequent occurs "
            f"{int(counts.max()):,} times); lower min_count or give more text"
        )
    return vocab, encoded, stats
