"""Showing training progress: a live bar on a terminal, plain log lines otherwise."""

from __future__ import annotations

import math
import sys
import time
from typing import TextIO

from wordspace.training import Progress


def _duration(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "--:--"
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def describe(event: Progress) -> str:
    """One line of figures: epoch, percent, words/s, loss, learning rate, ETA."""
    return (
        f"epoch {event.epoch}/{event.epochs}  {100 * event.fraction:5.1f}%  "
        f"{event.words_per_second / 1000:,.0f}k words/s  loss {event.loss:.4f}  "
        f"lr {event.learning_rate:.6f}  eta {_duration(event.eta)}"
    )


class LogLines:
    """Writes a progress line every ``every`` seconds (and at the end) to a non-terminal."""

    def __init__(self, stream: TextIO = sys.stderr, every: float = 5.0) -> None:
        self.stream = stream
        self.every = every
        self._last = time.monotonic()

    def __call__(self, event: Progress) -> None:
        now = time.monotonic()
        if event.finished or now - self._last >= self.every:
            self._last = now
            print(f"wordspace: {describe(event)}", file=self.stream, flush=True)

    def close(self) -> None:
        pass


_OPEN_BARS: list[LiveBar] = []
"""Bars drawing now: a signal can end the command between a bar's start and the code that
would close it, so the command's boundary closes what is left here."""


def close_open_bars() -> None:
    """Stop every live bar still drawing (restoring the terminal's cursor)."""
    for bar in list(_OPEN_BARS):
        bar.close()


class LiveBar:
    """A rich progress bar on the terminal, refreshed with every progress report."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn

        self._progress = Progress(
            TextColumn("[bold]epoch {task.fields[epoch]}"),
            BarColumn(),
            TextColumn("{task.percentage:>5.1f}%"),
            TextColumn("{task.fields[figures]}"),
            console=Console(file=stream),
            transient=False,
        )
        self._task = self._progress.add_task("train", total=1.0, epoch="", figures="")
        _OPEN_BARS.append(self)
        self._progress.start()

    def __call__(self, event: Progress) -> None:
        figures = (
            f"{event.words_per_second / 1000:,.0f}k words/s  loss {event.loss:.4f}  "
            f"lr {event.learning_rate:.6f}  eta {_duration(event.eta)}"
        )
        self._progress.update(
            self._task,
            completed=event.fraction,
            epoch=f"{event.epoch}/{event.epochs}",
            figures=figures,
        )

    def close(self) -> None:
        if self in _OPEN_BARS:
            _OPEN_BARS.remove(self)
        self._progress.stop()


def progress_reporter(quiet: bool, stream: TextIO = sys.stderr) -> LogLines | LiveBar | None:
    """The right display for ``stream``: none when quiet, a bar on a terminal, else lines."""
    if quiet:
        return None
    if stream.isatty():
        return LiveBar(stream)
    return LogLines(stream)
