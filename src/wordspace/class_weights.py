"""Class weights of a classifier: how much each label's examples count in training.

fastText trains every example alike, so a label seen in 1% of the lines is learned from 1% of
the updates; users have asked it for class weights for years. Here a label's weight scales
the learning rate of the examples whose target it is. ``"balanced"`` gives each label
``total / (labels * count)`` (scikit-learn's rule: every label then weighs as much in total),
a mapping or a file gives chosen weights (labels not named keep 1).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from wordspace.errors import InputError, ParameterError
from wordspace.vocab import Vocabulary

ClassWeight = str | os.PathLike | Mapping[str, float] | None
"""``None`` (all 1), ``"balanced"``, a mapping of label to weight, or the path of a file of
``LABEL WEIGHT`` lines."""


def read_class_weights(path: str | os.PathLike) -> dict[str, float]:
    """The weights of a file of ``LABEL WEIGHT`` lines (blank lines and ``#`` comments
    skipped); a malformed line, a weight that is not a positive number or a label given twice
    is an error naming the file and line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read the class weights ({exc})") from None
    weights: dict[str, float] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if not fields or fields[0].startswith("#"):
            continue
        where = f"{path}, line {number}"
        if len(fields) != 2:
            raise InputError(f"{where}: expected 'LABEL WEIGHT', got {line.strip()!r}")
        label, value = fields
        try:
            weight = float(value)
        except ValueError:
            raise InputError(f"{where}: weight {value!r} is not a number") from None
        if not (math.isfinite(weight) and weight > 0):
            raise InputError(f"{where}: weight {value} must be a positive number")
        if label in weights:
            raise InputError(f"{where}: label {label!r} is given a second time")
        weights[label] = weight
    return weights


def label_weights(class_weight: ClassWeight, labels: Vocabulary, label_prefix: str) -> np.ndarray:
    """float32 weight of each label of ``labels`` (their ids' order). Names in a mapping or
    file may be written with or without ``label_prefix``; a name that is not a label of the
    training data is an error (a typo would otherwise silently weigh nothing)."""
    n = len(labels)
    if class_weight is None:
        return np.ones(n, dtype=np.float32)
    if isinstance(class_weight, str) and class_weight == "balanced":
        counts = labels.counts.astype(np.float64)
        return (counts.sum() / (n * counts)).astype(np.float32)
    source = "class_weight"
    if isinstance(class_weight, str | os.PathLike):
        source = str(class_weight)
        class_weight = read_class_weights(class_weight)
    if not isinstance(class_weight, Mapping):
        raise ParameterError(
            "class_weight must be None, 'balanced', a mapping of label to weight or the "
            f"path of a weights file, got {type(class_weight).__name__}"
        )
    weights = np.ones(n, dtype=np.float32)
    for name, weight in class_weight.items():
        label = name if str(name).startswith(label_prefix) else f"{label_prefix}{name}"
        index = labels.index(label)
        if index < 0:
            raise ParameterError(f"{source}: {name!r} is not a label of the training data")
        try:
            value = float(weight)
        except (TypeError, ValueError):
            raise ParameterError(f"{source}: the weight of {name!r} is not a number") from None
        if not (math.isfinite(value) and value > 0):
            raise ParameterError(f"{source}: the weight of {name!r} must be positive")
        weights[index] = value
    return weights
