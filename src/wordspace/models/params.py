"""Validation of hyperparameters at the boundary, with messages that name the parameter."""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable

import numpy as np

from wordspace.errors import ParameterError
from wordspace.memory import available_cpus


def _is_int(value: object) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def positive_int(name: str, value: object, maximum: int | None = None) -> int:
    """``value`` as an int in 1..maximum; ``maximum`` bounds what sizes memory or time."""
    if not _is_int(value) or value < 1:  # type: ignore[operator]
        raise ParameterError(f"{name} must be a positive integer, got {value!r}")
    if maximum is not None and value > maximum:  # type: ignore[operator]
        raise ParameterError(f"{name} must be at most {maximum:,}, got {value!r}")
    return int(value)  # type: ignore[call-overload]


def non_negative_int(name: str, value: object, maximum: int | None = None) -> int:
    """``value`` as an int in 0..maximum."""
    if not _is_int(value) or value < 0:  # type: ignore[operator]
        raise ParameterError(f"{name} must be an integer >= 0, got {value!r}")
    if maximum is not None and value > maximum:  # type: ignore[operator]
        raise ParameterError(f"{name} must be at most {maximum:,}, got {value!r}")
    return int(value)  # type: ignore[call-overload]


def positive_float(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ParameterError(f"{name} must be a number > 0, got {value!r}")
    if not math.isfinite(value):
        raise ParameterError(f"{name} must be finite, got {value!r}")
    return float(value)


def non_negative_float(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        raise ParameterError(f"{name} must be a number >= 0, got {value!r}")
    if not math.isfinite(value):
        raise ParameterError(f"{name} must be finite, got {value!r}")
    return float(value)


def finite_float(name: str, value: object, bound: float | None = None) -> float:
    """``value`` as a finite float, within [-bound, bound] when ``bound`` is given."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ParameterError(f"{name} must be a finite number, got {value!r}")
    if bound is not None and abs(value) > bound:
        raise ParameterError(f"{name} must be between -{bound:g} and {bound:g}, got {value!r}")
    return float(value)


def boolean(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise ParameterError(f"{name} must be True or False, got {value!r}")
    return value


def one_of(name: str, value: object, allowed: Iterable[str]) -> str:
    allowed = tuple(allowed)
    if value not in allowed:
        choices = ", ".join(repr(a) for a in allowed)
        raise ParameterError(f"{name} must be one of {choices}, got {value!r}")
    return value  # type: ignore[return-value]


def bounded_workers(workers: int | None) -> int:
    """The number of training threads: ``workers`` (default: every CPU available), capped at
    the CPUs available with a warning, since more threads than CPUs only adds contention."""
    cpus = available_cpus()
    if workers is None:
        return cpus
    workers = positive_int("workers", workers)
    if workers > cpus:
        warnings.warn(
            f"workers={workers:,} is more than the {cpus} CPUs available; using {cpus}",
            stacklevel=3,
        )
        return cpus
    return workers
