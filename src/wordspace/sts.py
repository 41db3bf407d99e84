"""Semantic textual similarity: how well the cosine of two sentence vectors follows human
similarity scores (Spearman and Pearson), on the STS Benchmark or a plain pairs file.

Files: the STS Benchmark layout (tab separated: genre, file, year, id, score, sentence1,
sentence2, sometimes further columns, which are ignored; no CSV quoting) or
``sentence1<TAB>sentence2<TAB>score``. STS sentences are raw text, so by default they are
tokenised as the shared corpora are (lowercase, runs of letters and digits with internal
apostrophes kept, everything else dropped); ``tokens="whitespace"`` keeps them as they are.
"""

from __future__ import annotations

import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from wordspace.errors import InputError, ParameterError
from wordspace.evaluate import spearman
from wordspace.formats import Model
from wordspace.sentences import SentenceEmbedder

TOKENISERS = ("words", "whitespace")
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
_STSB_FIELDS = 7


@dataclass
class StsScore:
    """Correlations over all ``pairs``; ``zero_pairs`` of them had a sentence without a known
    word (a zero vector, cosine 0)."""

    path: str
    spearman: float
    pearson: float
    pairs: int
    zero_pairs: int

    def to_dict(self) -> dict:
        return asdict(self)


def read_sts_pairs(path: str | os.PathLike) -> tuple[list[str], list[str], np.ndarray]:
    """(first sentences, second sentences, gold scores) of an STS file; a line that fits
    neither layout is an InputError naming it. Blank lines are skipped."""
    path = Path(path)
    first: list[str] = []
    second: list[str] = []
    gold: list[float] = []
    try:
        with open(path, "rb") as handle:
            for number, raw in enumerate(handle, 1):
                try:
                    line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
                except UnicodeDecodeError as exc:
                    raise InputError(
                        f"{path}:{number}: not UTF-8 text ({exc.reason} at byte {exc.start + 1} "
                        "of the line)"
                    ) from None
                fields = line.rstrip("\r\n").split("\t")
                if fields == [""]:
                    continue
                if len(fields) >= _STSB_FIELDS:
                    score, a, b = fields[4], fields[5], fields[6]
                elif len(fields) == 3:
                    a, b, score = fields
                else:
                    raise InputError(
                        f"{path}:{number}: expected 7 tab-separated fields (STS Benchmark) "
                        f"or 3 (sentence, sentence, score), got {len(fields)}"
                    )
                try:
                    gold.append(float(score))
                except ValueError:
                    raise InputError(
                        f"{path}:{number}: score {score[:40]!r} is not a number"
                    ) from None
                first.append(a)
                second.append(b)
    except OSError as exc:
        raise InputError(f"{path}: {exc.strerror or exc}") from None
    if not gold:
        raise InputError(f"{path}: no sentence pairs")
    return first, second, np.array(gold, dtype=np.float64)


def tokenised(sentences: list[str], tokens: str) -> list[str]:
    """The sentences as the model reads them (see the module's docstring)."""
    if tokens not in TOKENISERS:
        raise ParameterError(f"tokens must be one of {', '.join(TOKENISERS)}, got {tokens!r}")
    if tokens == "whitespace":
        return sentences
    return [" ".join(_WORD.findall(s.lower())) for s in sentences]


def evaluate_sts(model: Model, path: str | os.PathLike, tokens: str = "words") -> StsScore:
    """Spearman and Pearson correlation between the cosine of each pair's sentence vectors
    (``SentenceEmbedder``) and its gold score."""
    first, second, gold = read_sts_pairs(path)
    embedder = SentenceEmbedder(model)
    a = embedder.embed(tokenised(first, tokens)).astype(np.float64)
    b = embedder.embed(tokenised(second, tokens)).astype(np.float64)
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    zero = norms == 0
    cosine = np.zeros(len(gold))
    cosine[~zero] = (a * b).sum(axis=1)[~zero] / norms[~zero]
    pearson = (
        float(np.corrcoef(cosine, gold)[0, 1])
        if len(gold) > 1 and cosine.std() > 0
        else float("nan")
    )
    return StsScore(str(path), spearman(cosine, gold), pearson, len(gold), int(zero.sum()))
