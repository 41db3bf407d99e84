"""The trainer: hands chunks of the encoded corpus to worker threads and reports progress.

It knows nothing about models: a model gives it a function that trains one chunk (a numba
kernel call that releases the GIL) and returns the chunk's summed loss and example count.
Work items are (epoch, chunk) pairs, the chunks of each epoch in a seeded random order (or in
corpus order); each carries the number of words trained before it, so the learning-rate
schedule and the kernel's random seed depend only on the item, not on which thread runs it
or when. With one worker, two runs are bit-identical.

Shuffling chunks (of about ten thousand words, so sentences stay in order within a chunk)
matters on text that is ordered by topic, such as Wikipedia dumps: in corpus order, the last
articles are learned at the smallest learning rate and the first ones are partly forgotten.

Loss is summed in float64 per chunk and reduced per reporting interval, so the figure
reported is the true mean loss of the examples trained in that interval. A chunk whose loss
is not finite stops the run at once (``Diverged``): the weights are lost to NaN or infinity
by then, and going on would only hide it.
"""

from __future__ import annotations

import itertools
import math
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from wordspace.corpus import Corpus, ReadStats
from wordspace.kernels.matrices import narrow_rows
from wordspace.kernels.simd import LANES

CHUNK_TOKENS = 10_000


@dataclass(frozen=True)
class Progress:
    """A progress report, as given to callbacks and drawn by the CLI."""

    epoch: int
    """Current epoch, counting from 1."""
    epochs: int
    words_done: int
    """Corpus words trained so far, over all epochs (before subsampling)."""
    words_total: int
    words_per_second: float
    """Training speed over the last interval."""
    loss: float
    """Mean loss of the examples trained in the last interval (nan if none)."""
    examples: int
    """Examples (input, target pairs) trained in the last interval."""
    learning_rate: float
    elapsed: float
    """Seconds since training began."""
    eta: float
    """Seconds left, from the average speed so far."""
    finished: bool = False

    @property
    def fraction(self) -> float:
        return self.words_done / self.words_total if self.words_total else 1.0


ChunkTrainer = Callable[[int, int, int, int, int], tuple[float, int]]
"""``train(epoch, chunk_index, first_sentence, end_sentence, words_done) -> (loss, examples)``"""
ProgressCallback = Callable[[Progress], None]


class Diverged(Exception):
    """A chunk's loss was not finite: the run stopped ``fraction`` of the way through."""

    def __init__(self, epoch: int, fraction: float, loss: float) -> None:
        super().__init__(f"loss {loss} in epoch {epoch + 1}, {100 * fraction:.1f}% into the run")
        self.epoch = epoch
        self.fraction = fraction
        self.loss = loss


@dataclass
class TrainingSummary:
    """What a finished run measured."""

    seconds: float
    words: int
    examples: int
    epoch_losses: list[float]
    """Mean loss per example in each epoch."""

    @property
    def words_per_second(self) -> float:
        return self.words / self.seconds if self.seconds > 0 else float("nan")


def run_figures(
    summary: TrainingSummary, stats: ReadStats, read_seconds: float, started: float
) -> dict[str, Any]:
    """What a saved model's meta.json records of the run that trained it: what reading found
    (``stats``, a ``ReadStats``), the words and examples trained, the times and losses, and
    when training started (``started``, a ``time.time()``)."""
    return {
        "corpus": asdict(stats),
        "trained_words": summary.words,
        "examples": summary.examples,
        "read_seconds": round(read_seconds, 3),
        "seconds": round(summary.seconds, 3),
        "words_per_second": round(summary.words_per_second, 1),
        "epoch_losses": summary.epoch_losses,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(started)),
    }


class _Tally:
    """Counters shared by the workers, read by the reporting thread."""

    def __init__(self, epochs: int) -> None:
        self.lock = threading.Lock()
        self.words = 0
        self.loss = 0.0
        self.examples = 0
        self.epoch = 1
        self.epoch_loss = [0.0] * epochs
        self.epoch_examples = [0] * epochs

    def add(self, epoch: int, words: int, loss: float, examples: int) -> None:
        with self.lock:
            self.words += words
            self.loss += loss
            self.examples += examples
            self.epoch = max(self.epoch, epoch + 1)
            self.epoch_loss[epoch] += loss
            self.epoch_examples[epoch] += examples

    def snapshot(self) -> tuple[int, float, int, int]:
        with self.lock:
            return self.words, self.loss, self.examples, self.epoch

    def epoch_means(self) -> list[float]:
        return [
            loss / n if n else float("nan")
            for loss, n in zip(self.epoch_loss, self.epoch_examples, strict=True)
        ]


def train(
    corpus: Corpus,
    train_chunk: ChunkTrainer,
    *,
    epochs: int,
    workers: int,
    lr_start: float,
    lr_end: float,
    shuffle_seed: int | None = None,
    callbacks: Sequence[ProgressCallback] = (),
    report_every: float = 1.0,
    chunk_tokens: int = CHUNK_TOKENS,
    epoch_done: Callable[[int], None] | None = None,
) -> TrainingSummary:
    """Run ``epochs`` passes over ``corpus`` on ``workers`` threads.

    With ``shuffle_seed`` the chunks of each epoch are visited in a random order drawn from
    that seed; without, in corpus order. With ``epoch_done``, each epoch ends before the
    next begins and ``epoch_done(epoch)`` (from 0) is called in between, while no thread
    trains (a validation pass sees the weights of exactly that many epochs).
    """
    bounds = corpus.chunks(chunk_tokens)
    starts = corpus.offsets[bounds]
    n_words = corpus.n_tokens
    words_total = n_words * epochs
    items = _work_items(np.diff(starts), epochs, shuffle_seed)
    take_lock = threading.Lock()
    stop = threading.Event()
    errors: list[BaseException] = []
    tally = _Tally(epochs)

    def work(next_item: Iterator[tuple[int, int, int]]) -> None:
        try:
            while not stop.is_set():
                with take_lock:
                    item = next(next_item, None)
                if item is None:
                    return
                epoch, c, words_before = item
                loss, examples = train_chunk(
                    epoch, c, int(bounds[c]), int(bounds[c + 1]), words_before
                )
                if not math.isfinite(loss):
                    raise Diverged(epoch, words_before / max(words_total, 1), loss)
                tally.add(epoch, int(starts[c + 1] - starts[c]), loss, examples)
        except BaseException as exc:
            errors.append(exc)
            stop.set()

    began = time.perf_counter()
    last_time = began
    last_words, last_loss, last_examples = 0, 0.0, 0

    def report(finished: bool) -> None:
        nonlocal last_time, last_words, last_loss, last_examples
        now = time.perf_counter()
        words, loss, examples, epoch = tally.snapshot()
        interval = max(now - last_time, 1e-9)
        d_examples = examples - last_examples
        mean = (loss - last_loss) / d_examples if d_examples else float("nan")
        elapsed = now - began
        rate = words / elapsed if elapsed > 0 else 0.0
        fraction = min(words / words_total, 1.0) if words_total else 1.0
        event = Progress(
            epoch=min(epoch, epochs),
            epochs=epochs,
            words_done=words,
            words_total=words_total,
            words_per_second=(words - last_words) / interval,
            loss=mean,
            examples=d_examples,
            learning_rate=lr_start - (lr_start - lr_end) * fraction,
            elapsed=elapsed,
            eta=(words_total - words) / rate if rate > 0 else float("inf"),
            finished=finished,
        )
        last_time, last_words, last_loss, last_examples = now, words, loss, examples
        for callback in callbacks:
            callback(event)

    def run(next_item: Iterator[tuple[int, int, int]]) -> None:
        threads = [
            threading.Thread(target=work, args=(next_item,), daemon=True)
            for _ in range(max(1, workers))
        ]
        for thread in threads:
            thread.start()
        try:
            while any(t.is_alive() for t in threads):
                deadline = time.perf_counter() + report_every
                for thread in threads:
                    thread.join(max(0.0, deadline - time.perf_counter()))
                if errors:
                    break
                if callbacks and any(t.is_alive() for t in threads):
                    report(False)
        except BaseException:
            stop.set()
            for thread in threads:
                thread.join()
            raise
        for thread in threads:
            thread.join()
        if errors:
            stop.set()
            raise errors[0]

    if epoch_done is None:
        run(items)
    else:
        for epoch, epoch_items in itertools.groupby(items, key=lambda item: item[0]):
            run(epoch_items)
            epoch_done(epoch)
    if callbacks:
        report(True)
    seconds = time.perf_counter() - began
    words, _, examples, _ = tally.snapshot()
    return TrainingSummary(
        seconds=seconds, words=words, examples=examples, epoch_losses=tally.epoch_means()
    )


def _work_items(
    chunk_words: np.ndarray, epochs: int, shuffle_seed: int | None
) -> Iterator[tuple[int, int, int]]:
    """(epoch, chunk, words trained before it) for every chunk of every epoch, in order,
    made one epoch at a time (a run of many epochs never holds them all)."""
    done = 0
    for epoch in range(epochs):
        if shuffle_seed is None:
            order = np.arange(len(chunk_words))
        else:
            order = np.random.default_rng([shuffle_seed, epoch]).permutation(len(chunk_words))
        for chunk in order.tolist():
            yield epoch, chunk, done
            done += int(chunk_words[chunk])


ROW_ALIGNMENT = LANES
"""Training matrices are this many floats wide or a multiple (one AVX-512 register), so the
kernels' inner loops run in whole vector steps; the extra columns stay exactly zero."""


def padded_width(dim: int) -> int:
    return -(-dim // ROW_ALIGNMENT) * ROW_ALIGNMENT


def initial_vectors(n: int, dim: int, seed: int, width: int | None = None) -> np.ndarray:
    """Input vectors uniform in [-1/dim, 1/dim), as gensim and fastText initialise them (the
    word2vec tool uses half that range, which learns measurably slower in one epoch); columns
    past ``dim`` (up to ``width``) are zero."""
    rng = np.random.default_rng(seed)
    vectors = np.zeros((n, width or dim), dtype=np.float32)
    # block by block, the same stream and arithmetic as one call: no matrix-sized temporaries
    step = max(1, (1 << 20) // max(dim, 1))
    for start in range(0, n, step):
        block = rng.random((min(step, n - start), dim), dtype=np.float32)
        block *= 2
        block -= 1
        block /= dim
        vectors[start : start + len(block), :dim] = block
    return vectors


def narrowed(matrix: np.ndarray, dim: int) -> np.ndarray:
    """The first ``dim`` columns of a C-ordered training matrix as a contiguous matrix,
    moved to the start of its own buffer: a run's millions of padded rows are never copied
    to finish it (the matrix is overwritten)."""
    rows, width = matrix.shape
    flat = matrix.reshape(-1)
    narrow_rows(flat, rows, width, dim)
    return flat[: rows * dim].reshape(rows, dim)
