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

from wordspace.errors import InputError
from wordspace.vectors import Vectors, analogy_search


def _read_lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from exc


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
    """Answer every question "a b c d" of a Google-format file and score the answers."""
    path = Path(path)
    limit = len(vectors) if restrict_vocab is None else min(restrict_vocab, len(vectors))
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
    path: str
    spearman: float
    pairs: int
    oov_pairs: int

    def to_dict(self) -> dict:
        return asdict(self)


def evaluate_similarity(
    vectors: Vectors, path: str | os.PathLike, *, case_insensitive: bool = True
) -> SimilarityScore:
    """Spearman correlation between cosine similarity and human scores of word pairs
    ("word1 word2 score" per line, tab or space separated; ``#`` starts a comment)."""
    path = Path(path)
    lookup: dict[str, int] | None = None
    if case_insensitive:
        lookup = _restricted_index(vectors, len(vectors), True)
    model_scores, human_scores = [], []
    oov = 0
    for number, line in enumerate(_read_lines(path), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split("\t") if "\t" in line else line.split()
        if len(fields) < 3:
            raise InputError(f"{path}:{number}: expected 'word1 word2 score'")
        try:
            human = float(fields[2])
        except ValueError:
            raise InputError(f"{path}:{number}: score {fields[2]!r} is not a number") from None
        a, b = fields[0].strip(), fields[1].strip()
        if lookup is not None:
            ia, ib = lookup.get(a.lower(), -1), lookup.get(b.lower(), -1)
        else:
            ia, ib = vectors.vocab.index(a), vectors.vocab.index(b)
        if ia < 0 or ib < 0:
            oov += 1
            continue
        model_scores.append(vectors.similarity(vectors.matrix[ia], vectors.matrix[ib]))
        human_scores.append(human)
    rho = spearman(np.array(model_scores), np.array(human_scores))
    return SimilarityScore(str(path), rho, len(model_scores), oov)
