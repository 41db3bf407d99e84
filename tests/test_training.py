"""The trainer: work order, learning-rate bookkeeping, progress reports and their loss."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from wordspace import Word2Vec
from wordspace.console import LogLines
from wordspace.corpus import Corpus
from wordspace.training import train


def _corpus(n_sentences=200, length=50):
    offsets = np.arange(n_sentences + 1, dtype=np.int64) * length
    return Corpus(np.zeros(offsets[-1], dtype=np.int32), offsets)


def test_every_chunk_of_every_epoch_is_trained_once_with_its_word_offset():
    corpus = _corpus()
    seen = []
    lock = threading.Lock()

    def chunk(epoch, index, first, end, words_done):
        with lock:
            seen.append((epoch, first, end, words_done))
        return 0.0, 0

    train(corpus, chunk, epochs=3, workers=2, lr_start=0.1, lr_end=0.0, chunk_tokens=1000)
    assert len(seen) == 3 * 10
    for epoch, first, _end, words_done in seen:
        assert words_done == epoch * corpus.n_tokens + corpus.offsets[first]
    per_epoch = sorted((e, f, t) for e, f, t, _ in seen)
    assert [(f, t) for e, f, t in per_epoch if e == 0] == [(i * 20, i * 20 + 20) for i in range(10)]


def test_shuffled_epochs_visit_every_chunk_once_in_a_seeded_order():
    corpus = _corpus()

    def visits(seed):
        seen = []

        def chunk(epoch, index, first, end, words_done):
            seen.append((epoch, index, words_done))
            return 0.0, 0

        train(
            corpus, chunk, epochs=2, workers=1, lr_start=0.1, lr_end=0.0, chunk_tokens=1000,
            shuffle_seed=seed,
        )  # fmt: skip
        return seen

    first = visits(3)
    assert first == visits(3) and first != visits(4)
    assert sorted(i for e, i, _ in first if e == 0) == list(range(10))
    assert [i for e, i, _ in first if e == 0] != list(range(10))
    assert [d for _, _, d in first] == [1000 * k for k in range(20)]


def test_reported_losses_are_exact_interval_means_of_what_the_kernels_returned():
    corpus = _corpus(400)
    events = []
    rng = np.random.default_rng(0)
    returns = {c: (float(rng.random() * 100), int(rng.integers(1, 50))) for c in range(40)}

    def chunk(epoch, index, first, end, words_done):
        time.sleep(0.004)
        return returns[index]

    summary = train(
        corpus, chunk, epochs=1, workers=2, lr_start=0.1, lr_end=0.001,
        callbacks=[events.append], report_every=0.02, chunk_tokens=500,
    )  # fmt: skip
    assert len(events) > 3 and events[-1].finished
    total_loss = sum(loss for loss, _ in returns.values())
    total_examples = sum(n for _, n in returns.values())
    reported = [e for e in events if e.examples]
    assert sum(e.examples for e in reported) == total_examples
    assert sum(e.loss * e.examples for e in reported) == pytest.approx(total_loss, rel=1e-12)
    assert summary.epoch_losses[0] == pytest.approx(total_loss / total_examples, rel=1e-12)
    rates = [e.learning_rate for e in events]
    assert rates == sorted(rates, reverse=True) and rates[-1] == pytest.approx(0.001)
    assert events[-1].words_done == events[-1].words_total == corpus.n_tokens


def test_an_error_in_a_worker_stops_training_and_is_raised():
    def chunk(epoch, index, first, end, words_done):
        if index == 3:
            raise RuntimeError("kernel failed")
        return 0.0, 1

    with pytest.raises(RuntimeError, match="kernel failed"):
        train(_corpus(), chunk, epochs=2, workers=2, lr_start=0.1, lr_end=0.0, chunk_tokens=500)


def test_word2vec_callbacks_see_progress_to_the_end(enwiki_lines):
    events = []
    model = Word2Vec(dim=16, epochs=2, workers=2).fit(enwiki_lines(1000), callbacks=[events.append])
    last = events[-1]
    assert last.finished and last.epoch == 2 and last.fraction == 1.0
    assert last.words_done == model.training.words
    assert np.isfinite(last.loss) or last.examples == 0


def test_log_lines_are_throttled_but_the_last_one_always_printed(capsys):
    import io

    stream = io.StringIO()
    log = LogLines(stream, every=3600)
    corpus = _corpus()
    train(
        corpus, lambda *a: (1.0, 2), epochs=1, workers=1, lr_start=0.1, lr_end=0.0,
        callbacks=[log], report_every=0.001, chunk_tokens=100,
    )  # fmt: skip
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1 and "100.0%" in lines[0] and "loss 0.5000" in lines[0]
