"""Predictions added to JSON lines: the data-pipeline use of a classifier.

Each input line is a JSON object whose ``field`` holds the text; the same object is written
back with two more keys, the predicted labels and their probabilities, best first. The stream
is read and predicted in blocks of whole lines (all workers at once, as ``wordspace predict``
does) and written in input order, so a file of any size is never held whole. A newline inside
the text is read as a space: fastText classifies one line at a time, and an escaped newline is
part of the text, not the end of it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import BinaryIO

import orjson

from wordspace.classify import BLOCK_BYTES, Predictor
from wordspace.errors import InputError
from wordspace.text.sources import iter_chunks

LABELS_KEY = "predicted_labels"
"""The key of the labels added to each object."""
PROBABILITIES_KEY = "predicted_probabilities"
"""The key of their probabilities."""


def _line_blocks(stream: BinaryIO) -> Iterator[list[bytes]]:
    """The stream's lines (without their newlines), in lists of about ``BLOCK_BYTES``."""
    carry: list[bytes] = []
    for block in iter_chunks(stream, BLOCK_BYTES):
        lines = block.split(b"\n")
        if carry:
            carry.append(lines[0])
            lines[0] = b"".join(carry)
        carry = [lines.pop()]
        if lines:
            yield lines
    if carry and carry[0]:
        yield [b"".join(carry)]


def _objects(lines: list[bytes], first_line: int, name: str, field: str) -> tuple[list, list]:
    """The decoded objects of ``lines`` and their texts; a line that is not an object with a
    string ``field``, or that already holds the keys to be added, is an error naming it."""
    objects, texts = [], []
    for number, line in enumerate(lines, start=first_line):
        try:
            item = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise InputError(f"{name}, line {number}: not valid JSON ({exc})") from None
        if not isinstance(item, dict):
            raise InputError(f"{name}, line {number}: not a JSON object")
        text = item.get(field)
        if not isinstance(text, str):
            problem = "has no" if text is None else "has a non-string"
            raise InputError(f"{name}, line {number}: the object {problem} {field!r} field")
        if LABELS_KEY in item or PROBABILITIES_KEY in item:
            raise InputError(
                f"{name}, line {number}: the object already holds {LABELS_KEY!r} or "
                f"{PROBABILITIES_KEY!r} (predicted twice?); nothing would be overwritten"
            )
        objects.append(item)
        texts.append(text.replace("\r\n", " ").replace("\n", " "))
    return objects, texts


def _predicted(
    predictor: Predictor, lines: list[bytes], first_line: int, name: str, field: str,
    k: int, threshold: float,
) -> bytes:  # fmt: skip
    objects, texts = _objects(lines, first_line, name, field)
    predictions = predictor.predict(texts, k=k, threshold=threshold)
    out = []
    for item, predicted in zip(objects, predictions, strict=True):
        item[LABELS_KEY] = [label for label, _ in predicted]
        item[PROBABILITIES_KEY] = [probability for _, probability in predicted]
        out.append(orjson.dumps(item))
    out.append(b"")
    return b"\n".join(out)


def predict_jsonl(
    predictor: Predictor,
    stream: BinaryIO,
    write: Callable[[bytes], object],
    *,
    field: str = "text",
    k: int = 1,
    threshold: float = 0.0,
    workers: int = 1,
    name: str = "<input>",
) -> int:
    """Predict the ``field`` of every JSON line of ``stream`` and ``write`` the objects back
    (UTF-8 bytes, one per line, in input order) with the labels and probabilities added;
    returns the number of lines. Blank lines are refused like any other non-object."""
    lines_seen = 0
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending: deque = deque()
        for lines in _line_blocks(stream):
            pending.append(
                pool.submit(_predicted, predictor, lines, lines_seen + 1, name, field, k, threshold)
            )
            lines_seen += len(lines)
            if len(pending) >= 2 * workers:
                write(pending.popleft().result())
        while pending:
            write(pending.popleft().result())
    return lines_seen
