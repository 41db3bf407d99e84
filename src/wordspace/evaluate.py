"""Intrinsic evaluation: word analogies (Google format) and word similarity (Spearman).

The analogy protocol is word2vec's compute-accuracy: only the ``restrict_vocab`` most
frequent words are used, questions with a word outside them are skipped and reported as
out-of-vocabulary, the three question words are never an answer, and words are compared
case-insensitively by default.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from wordspace.errors import InputError, ParameterError
from wordspace.names import ANALOGY_METHODS
from wordspace.vectors import Vectors, analogy_search

MAX_EVALUATION_BYTES = 256 << 20
"""Evaluation files are read whole; one larger than this (the standard ones hold well under
a megabyte) is refused, so that a device such as /dev/zero cannot fill the memory."""


def _read_lines(path: Path) -> list[str]:
    """The lines of a small text file; every way reading it can fail is an InputError."""
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_EVALUATION_BYTES + 1)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    except ValueError as exc:
        raise InputError(f"{str(path)!r}: is not a usable path ({exc})") from exc
    if len(data) > MAX_EVALUATION_BYTES:
        raise InputError(
            f"{path}: is larger than {MAX_EVALUATION_BYTES >> 20} MiB, which no evaluation "
            "file is; check the path"
        )
    return data.decode("utf-8", errors="replace").splitlines()


def _restrict_limit(vectors: Vectors, restrict_vocab: object) -> int:
    """How many of the most frequent words an analogy search may use: ``restrict_vocab``
    (a positive whole number, capped at the vocabulary size) or all of them for None."""
    if restrict_vocab is None:
        return len(vectors)
    if isinstance(restrict_vocab, bool) or not isinstance(restrict_vocab, int | np.integer):
        raise ParameterError(
            f"restrict_vocab (--restrict) must be a positive whole number or None, "
            f"got {restrict_vocab!r}"
        )
    if restrict_vocab < 1:
        raise ParameterError(
            f"restrict_vocab (--restrict) must be at least 1 (the number of most frequent "
            f"words searched), got {restrict_vocab}"
        )
    return min(int(restrict_vocab), len(vectors))


def _check_search(method: object, batch_size: object) -> None:
    """Refuse an analogy method or batch size that cannot work, before reading anything."""
    if method not in ANALOGY_METHODS:
        raise ParameterError(f"method must be one of {', '.join(ANALOGY_METHODS)}, got {method!r}")
    whole = isinstance(batch_size, int | np.integer) and not isinstance(batch_size, bool)
    if not whole or batch_size < 1:  # type: ignore[operator]
        raise ParameterError(f"batch_size must be a positive whole number, got {batch_size!r}")


@dataclass
class SectionScore:
    name: str
    correct: int = 0
    total: int = 0
    oov: int = 0

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else float("nan")


@dataclass
class AnalogyScore:
    """Accuracy per section and overall; ``total`` counts the questions answered."""

    path: str
    method: str
    restrict_vocab: int | None
    sections: list[SectionScore] = field(default_factory=list)

    @property
    def correct(self) -> int:
        return sum(s.correct for s in self.sections)

    @property
    def total(self) -> int:
        return sum(s.total for s in self.sections)

    @property
    def oov(self) -> int:
        return sum(s.oov for s in self.sections)

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else float("nan")

    def to_dict(self) -> dict:
        return {
            "questions": self.path,
            "method": self.method,
            "restrict_vocab": self.restrict_vocab,
            "accuracy": self.accuracy,
            "correct": self.correct,
            "answered": self.total,
            "oov_questions": self.oov,
            "sections": [{**asdict(s), "accuracy": s.accuracy} for s in self.sections],
        }


def _restricted_index(vectors: Vectors, limit: int, case_insensitive: bool) -> dict[str, int]:
    index: dict[str, int] = {}
    for i, word in enumerate(vectors.words[:limit]):
        key = word.lower() if case_insensitive else word
        index.setdefault(key, i)
    return index


def evaluate_analogies(
    vectors: Vectors,
    path: str | os.PathLike,
    *,
    restrict_vocab: int | None = 30_000,
    method: str = "add",
    case_insensitive: bool = True,
    batch_size: int = 512,
) -> AnalogyScore:
    """Answer every question "a b c d" of a Google-format file and score the answers.

    ``restrict_vocab`` is a positive number of most frequent words, or None for all of them
    (ParameterError otherwise). A file without a single question is an InputError; one whose
    questions all fall outside the vocabulary is a valid result with nothing answered (its
    accuracy is nan, which the CLI's JSON prints as null).
    """
    path = Path(path)
    limit = _restrict_limit(vectors, restrict_vocab)
    _check_search(method, batch_size)
    index = _restricted_index(vectors, limit, case_insensitive)
    score = AnalogyScore(str(path), method, restrict_vocab)
    questions: list[tuple[int, int, int, int]] = []
    owners: list[SectionScore] = []
    for number, line in enumerate(_read_lines(path), start=1):
        line = line.strip()
        if not line:
            continue
        if line.startswith(":"):
            score.sections.append(SectionScore(line[1:].strip()))
            continue
        words = line.split()
        if len(words) != 4:
            raise InputError(f"{path}:{number}: expected 4 words, got {len(words)}")
        if not score.sections:
            score.sections.append(SectionScore("(no section)"))
        section = score.sections[-1]
        if case_insensitive:
            words = [w.lower() for w in words]
        rows = [index.get(w, -1) for w in words]
        if min(rows) < 0:
            section.oov += 1
            continue
        questions.append((rows[0], rows[1], rows[2], rows[3]))
        owners.append(section)
    if not questions and not score.oov:
        raise InputError(f"{path}: holds no questions (expected lines 'a b c d')")
    if not questions:
        return score
    table = np.array(questions, dtype=np.int64)
    for start in range(0, len(table), batch_size):
        batch = table[start : start + batch_size]
        best, _ = analogy_search(vectors, batch[:, :3], 1, method, limit)
        hits = best[:, 0] == batch[:, 3]
        for offset, hit in enumerate(hits):
            section = owners[start + offset]
            section.total += 1
            section.correct += int(hit)
    return score


def rank(values: np.ndarray) -> np.ndarray:
    """Ranks from 1, ties given their average rank (as Spearman's rho needs)."""
    values = np.asarray(values, dtype=np.float64)
    order = np.argsort(values, kind="mergesort")
    sorted_values = values[order]
    starts = np.flatnonzero(np.r_[True, sorted_values[1:] != sorted_values[:-1]])
    ends = np.r_[starts[1:], len(values)]
    average = (starts + ends + 1) / 2.0
    ranks = np.empty(len(values), dtype=np.float64)
    ranks[order] = np.repeat(average, ends - starts)
    return ranks


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rank correlation of two equally long sequences."""
    if len(a) < 2:
        return float("nan")
    ra, rb = rank(a), rank(b)
    ra -= ra.mean()
    rb -= rb.mean()
    denominator = np.sqrt((ra * ra).sum() * (rb * rb).sum())
    return float((ra * rb).sum() / denominator) if denominator > 0 else float("nan")


@dataclass
class SimilarityScore:
    """Spearman's rho over the pairs answered.

    ``pairs`` counts the pairs answered, ``ngram_pairs`` those of them with a word outside
    the vocabulary whose vector was built from its character n-grams (subword models only),
    and ``oov_pairs`` the pairs skipped because a word has no vector at all; ``pairs`` plus
    ``oov_pairs`` is the number of pairs in the file.
    """

    path: str
    spearman: float
    pairs: int
    oov_pairs: int
    ngram_pairs: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


def _human_score(path: Path, number: int, text: str) -> float:
    """A pair's human score: a finite number (nan or inf would corrupt the ranking)."""
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"{path}:{number}: score {text!r} is not a number") from None
    if not np.isfinite(value):
        raise InputError(f"{path}:{number}: score {text!r} is not a finite number")
    return value


class _PairVectors:
    """Looks up the words of similarity pairs: vocabulary rows first (case-insensitively
    when asked), then, on subword models, vectors built from a word's character n-grams
    (spelled as the pairs file spells it)."""

    def __init__(self, vectors: Vectors, case_insensitive: bool) -> None:
        self.vectors = vectors
        self.lookup = _restricted_index(vectors, len(vectors), True) if case_insensitive else None

    def row(self, word: str) -> int:
        if self.lookup is not None:
            return self.lookup.get(word.lower(), -1)
        return self.vectors.vocab.index(word)

    def vector(self, word: str) -> tuple[np.ndarray | None, bool]:
        """(the word's vector or None when it has none, whether it came from n-grams)."""
        row = self.row(word)
        if row >= 0:
            return self.vectors.matrix[row], False
        if self.vectors.ngrams is not None and self.vectors.has_vector(word):
            return self.vectors.ngrams.vector(word), True
        return None, False


def evaluate_similarity(
    vectors: Vectors, path: str | os.PathLike, *, case_insensitive: bool = True
) -> SimilarityScore:
    """Spearman correlation between cosine similarity and human scores of word pairs
    ("word1 word2 score" per line, tab or space separated; ``#`` starts a comment).

    Words outside the vocabulary of a subword model (fastText) are answered from their
    n-grams and counted in ``ngram_pairs``. A file without a single pair, or with a score
    that is not a finite number, is an InputError naming it (and the line).
    """
    path = Path(path)
    words = _PairVectors(vectors, case_insensitive)
    model_scores, human_scores = [], []
    oov = from_ngrams = 0
    for number, line in enumerate(_read_lines(path), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split("\t") if "\t" in line else line.split()
        if len(fields) < 3:
            raise InputError(f"{path}:{number}: expected 'word1 word2 score'")
        human = _human_score(path, number, fields[2])
        (va, ngram_a), (vb, ngram_b) = (words.vector(w.strip()) for w in fields[:2])
        if va is None or vb is None:
            oov += 1
            continue
        from_ngrams += int(ngram_a or ngram_b)
        model_scores.append(vectors.similarity(va, vb))
        human_scores.append(human)
    if not model_scores and not oov:
        raise InputError(f"{path}: holds no word pairs (expected lines 'word1 word2 score')")
    rho = spearman(np.array(model_scores), np.array(human_scores))
    return SimilarityScore(str(path), rho, len(model_scores), oov, from_ngrams)
