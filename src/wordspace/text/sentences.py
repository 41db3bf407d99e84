"""Python iterables as training input: token lists, or strings tokenised like lines of a file.

Sentences are joined into large byte blocks (one C-level ``join`` per block, no Python work
per token) that the compiled scanner reads like a file. Token lists keep their tokens exactly
(spaces inside a token included): their tokens are joined with the ASCII unit separator and
sentences with the record separator, which therefore may not occur inside a token.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator

import numpy as np

from wordspace.errors import InputError
from wordspace.kernels import scan as k
from wordspace.text.encoder import TEXT_CLASSES

TOKEN_SEPARATOR = "\x1f"
SENTENCE_SEPARATOR = "\x1e"
BLOCK_CHARS = 4 << 20


def _token_list_classes() -> np.ndarray:
    classes = np.full(256, k.TOKEN, dtype=np.uint8)
    classes[ord(TOKEN_SEPARATOR)] = k.SEPARATOR
    classes[ord(SENTENCE_SEPARATOR)] = k.LINE_END
    return classes


TOKEN_LIST_CLASSES = _token_list_classes()


def _join_tokens(index: int, tokens: object) -> str:
    if not isinstance(tokens, list | tuple):
        raise InputError(
            f"sentence {index}: expected a list of tokens like the first sentence, "
            f"got {type(tokens).__name__}"
        )
    try:
        joined = TOKEN_SEPARATOR.join(tokens)
    except TypeError as exc:
        raise InputError(f"sentence {index}: every token must be a str ({exc})") from exc
    if tokens and (
        joined.count(TOKEN_SEPARATOR) != len(tokens) - 1 or SENTENCE_SEPARATOR in joined
    ):
        raise InputError(
            f"sentence {index}: a token contains the control character \\x1f or \\x1e, "
            "which token-list input reserves as separators"
        )
    return joined


def _check_string(index: int, line: object) -> str:
    if not isinstance(line, str):
        raise InputError(
            f"sentence {index}: expected a str like the first sentence, got {type(line).__name__}"
        )
    return line


def _blocks(parts: Iterator[str], separator: str) -> Iterator[bytes]:
    batch: list[str] = []
    size = 0
    for part in parts:
        batch.append(part)
        size += len(part) + 1
        if size >= BLOCK_CHARS:
            yield (separator.join(batch) + separator).encode("utf-8", "surrogatepass")
            batch = []
            size = 0
    if batch:
        yield (separator.join(batch) + separator).encode("utf-8", "surrogatepass")


def sentence_blocks(sentences: Iterable) -> tuple[np.ndarray, Iterator[bytes]]:
    """Byte classes and byte blocks for an iterable of token lists or of strings.

    The kind of the first sentence decides the kind of all; an iterable that yields nothing
    (for instance a generator that was already consumed) is an error.
    """
    try:
        iterator = iter(sentences)
    except TypeError as exc:
        raise InputError(
            "corpus must be a path, an iterable of token lists or an iterable of strings; "
            f"got {type(sentences).__name__}"
        ) from exc
    try:
        first = next(iterator)
    except StopIteration:
        consumed = " (a generator can be read only once: pass a list or a path)"
        raise InputError(
            "the corpus yielded no sentences" + (consumed if iterator is sentences else "")
        ) from None
    rest = itertools.chain([first], iterator)
    if isinstance(first, str):
        lines = (_check_string(i, s) for i, s in enumerate(rest))
        return TEXT_CLASSES, _blocks(lines, "\n")
    if isinstance(first, list | tuple):
        joined = (_join_tokens(i, s) for i, s in enumerate(rest))
        return TOKEN_LIST_CLASSES, _blocks(joined, SENTENCE_SEPARATOR)
    raise InputError(
        "corpus must be a path, an iterable of token lists or an iterable of strings; "
        f"its first sentence is a {type(first).__name__}"
    )
