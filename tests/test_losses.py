"""The four losses: each SGD step against a float64 numpy reference, and a planted rule fitted.

Negative sampling and hierarchical softmax come from ``kernels.losses`` (``draw_*`` then
``logistic_block``, as the shared step's ``train_group`` composes them), the full softmax and
one-vs-all from ``kernels.softmax``. Every reference is only the loss, written in float64
numpy; its gradient comes from central differences, so the kernels' closed-form updates
are checked against the definition rather than against a second copy of the same formula.
"""

from __future__ import annotations

import numpy as np
import pytest

from wordspace.kernels.engine import OutputRows, new_block, new_scratch, train_group
from wordspace.kernels.losses import logistic_block
from wordspace.kernels.random import seeded
from wordspace.kernels.simd import LANES
from wordspace.kernels.softmax import (
    MIN_PROBABILITY,
    one_vs_all_block,
    one_vs_all_rows,
    softmax_block,
    softmax_rows,
)
from wordspace.losses import prepare_loss

DIM = 27
"""Real columns of every row; rows are padded with zeros to ``WIDTH``."""
WIDTH = 32


# ---------------------------------------------------------------- float64 references


def _softplus(s):
    return np.logaddexp(0.0, s)


def _logistic_loss(hidden, out, rows, labels):
    """Negative sampling / hierarchical softmax: binary logistic losses on rows of ``out``
    (a row may be listed twice) with the same labels for every hidden row."""
    s = hidden @ out[rows].T
    return float((_softplus(s) - labels[None, :] * s).sum())


def _softmax_loss(hidden, out, targets):
    s = hidden @ out.T
    neg_log_p = np.logaddexp.reduce(s, axis=1) - s[np.arange(len(s)), targets]
    return float(np.minimum(neg_log_p, -np.log(MIN_PROBABILITY)).sum())


def _one_vs_all_loss(hidden, out, positives):
    s = hidden @ out.T
    y = np.zeros_like(s)
    for i, p in enumerate(positives):
        y[i, p] = 1.0
    return float((_softplus(s) - y * s).sum())


def _numeric_gradient(f, x, eps=1e-6):
    """d f() / d x by central differences, ``x`` perturbed in place (and restored)."""
    grad = np.zeros_like(x)
    flat, flat_grad = x.reshape(-1), grad.reshape(-1)
    for k in range(flat.size):
        v = flat[k]
        flat[k] = v + eps
        up = f()
        flat[k] = v - eps
        down = f()
        flat[k] = v
        flat_grad[k] = (up - down) / (2 * eps)
    return grad


def _reference_step(loss_of, hidden, out, lr, group):
    """Plain SGD in float64: groups of ``group`` hidden rows in turn, each one step of
    -lr * gradient of ``loss_of(examples, their hidden rows, out)`` on the output rows, the
    hidden rows' share going to ``grad``. Returns (grad, out after, summed loss)."""
    hidden = hidden.astype(np.float64)
    out = out.astype(np.float64)
    grad = np.zeros_like(hidden)
    total = 0.0
    for first in range(0, len(hidden), group):
        examples = np.arange(first, min(first + group, len(hidden)))
        h = hidden[examples].copy()

        def f(examples=examples, h=h, out=out):
            return loss_of(examples, h, out)

        total += f()
        d_hidden = _numeric_gradient(f, h)
        d_out = _numeric_gradient(f, out)
        grad[examples] = -lr * d_hidden
        out -= lr * d_out
    return grad, out, total


# ---------------------------------------------------------------- calling the kernels


def _rows(n, scale, rng):
    """``n`` random rows of ``DIM`` floats, zero-padded to ``WIDTH``."""
    rows = np.zeros((n, WIDTH), np.float32)
    rows[:, :DIM] = rng.normal(0, scale, (n, DIM))
    return rows


def _addresses(matrix):
    return (matrix.ctypes.data + np.arange(len(matrix)) * matrix.strides[0]).astype(np.int64)


def _output_table(out, rows, hot_start):
    """Addresses of ``out[rows]``, those at or above ``hot_start`` in a private copy (as a
    worker trains the hot rows); returns (table, copy) — merge the copy back after."""
    hot = out[hot_start:].copy()
    table = np.array(
        [hot.ctypes.data + (r - hot_start) * hot.strides[0] if r >= hot_start else
         out.ctypes.data + r * out.strides[0] for r in rows], dtype=np.int64,
    )  # fmt: skip
    return table, hot


def _scratch(n_in, n_out):
    """(grad, its row addresses, scores) as the kernels take them."""
    grad = np.full((n_in, WIDTH), np.nan, np.float32)  # the kernels must overwrite it
    scores = np.zeros((n_in, -(-n_out // LANES) * LANES), np.float32)
    return grad, _addresses(grad), scores


def _softmax(hidden, out, targets, lr, group, hot_start=None):
    """``softmax_block`` on all rows of ``out`` (updated in place); returns (grad, loss)."""
    n_in, n_out = len(hidden), len(out)
    table, hot = _output_table(out, np.arange(n_out), n_out if hot_start is None else hot_start)
    grad, grad_rows, scores = _scratch(n_in, n_out)
    targets = np.asarray(targets, np.int64)
    loss = softmax_block(
        _addresses(hidden), n_in, group, table, n_out, targets, np.float32(lr), grad,
        grad_rows, scores,
    )  # fmt: skip
    out[len(out) - len(hot) :] = hot
    return grad, loss


def _csr(positives):
    offsets = np.zeros(len(positives) + 1, np.int64)
    offsets[1:] = np.cumsum([len(p) for p in positives])
    ids = np.array([t for p in positives for t in p], np.int64)
    return offsets, ids


def _one_vs_all(hidden, out, positives, lr, group, hot_start=None):
    """``one_vs_all_block`` on all rows of ``out`` (updated in place); returns (grad, loss)."""
    n_in, n_out = len(hidden), len(out)
    table, hot = _output_table(out, np.arange(n_out), n_out if hot_start is None else hot_start)
    grad, grad_rows, scores = _scratch(n_in, n_out)
    offsets, ids = _csr(positives)
    loss = one_vs_all_block(
        _addresses(hidden), n_in, group, table, n_out, offsets, ids, np.float32(lr), grad,
        grad_rows, scores,
    )  # fmt: skip
    out[len(out) - len(hot) :] = hot
    return grad, loss


class _Logistic:
    """One group of the shared step (``engine.train_group``) for ``n_words`` words with
    ``counts`` (sorted descending): the prepared loss, the output matrix and the scratch."""

    def __init__(self, loss, counts, negative, span):
        prepared = prepare_loss(loss, counts, negative=negative)
        self.tables = prepared.tables
        self.tree = (self.tables.code_offsets, self.tables.codes, self.tables.points)
        self.out = np.zeros((prepared.output_rows, WIDTH), np.float32)
        self.outputs = OutputRows(self.out, self.out[:0], len(self.out))
        self.block = new_block(span, span, 1)
        self.scratch = new_scratch(WIDTH, span, self.tables, self.outputs, 1)

    def step(self, hidden, target, lr, rng):
        """Train the rows of ``hidden`` (one group) on ``target``; returns (grad, loss,
        output rows, labels) of the step."""
        n_in = len(hidden)
        self.block.target_ids[0] = target
        self.block.target_offsets[:2] = (0, 1)
        self.scratch.hidden_rows[:n_in] = _addresses(hidden)
        self.scratch.out_rows[:] = 0
        loss = train_group(
            self.block, 0, n_in, self.outputs, self.tables, np.float32(lr), rng, self.scratch
        )
        # The rows and labels written by the draw; labels past them are zero.
        n_out = int(np.count_nonzero(self.scratch.out_rows))  # addresses are never 0
        rows = self.scratch.out_ids[:n_out].copy()
        return self.scratch.grad[:n_in].copy(), loss, rows, self.scratch.labels[:n_out].copy()


# ---------------------------------------------------------------- gradients


@pytest.mark.parametrize(
    ("n_in", "n_out", "group", "hot_start"),
    [(1, 1, 1, None), (1, 5, 1, None), (3, 7, 3, None), (5, 9, 1, 6), (5, 9, 2, None),
     (6, 17, 4, 12)],
)  # fmt: skip
def test_softmax_step_is_minus_lr_times_the_gradient_of_the_loss(n_in, n_out, group, hot_start):
    # Shapes cover partial 4 x 4 tiles on both sides, one or several groups (each group
    # sees the output rows left by the one before), and rows read from a private copy.
    rng = np.random.default_rng(n_in * 100 + n_out)
    hidden = _rows(n_in, 0.5, rng)
    out = _rows(n_out, 0.5, rng)
    targets = rng.integers(0, n_out, n_in)
    lr = 0.1
    want_grad, want_out, want_loss = _reference_step(
        lambda ex, h, o: _softmax_loss(h, o, targets[ex]), hidden, out, lr, group
    )
    hidden_before = hidden.copy()
    grad, loss = _softmax(hidden, out, targets, lr, group, hot_start)
    np.testing.assert_allclose(grad, want_grad, atol=2e-6)
    np.testing.assert_allclose(out, want_out, atol=2e-6)
    np.testing.assert_array_equal(hidden, hidden_before)
    assert not out[:, DIM:].any() and not grad[:, DIM:].any()
    assert loss == pytest.approx(want_loss, rel=1e-5, abs=1e-6)


@pytest.mark.parametrize(
    ("n_in", "n_out", "group", "hot_start"),
    [(1, 1, 1, None), (1, 6, 1, None), (4, 7, 4, 5), (5, 9, 1, None), (6, 17, 4, None)],
)
def test_one_vs_all_step_is_minus_lr_times_the_gradient_of_the_loss(n_in, n_out, group, hot_start):
    # Examples with no positive target, one, and several.
    rng = np.random.default_rng(n_in * 100 + n_out + 1)
    hidden = _rows(n_in, 0.5, rng)
    out = _rows(n_out, 0.5, rng)
    positives = [np.sort(rng.choice(n_out, min(i % 4, n_out), replace=False)) for i in range(n_in)]
    lr = 0.1
    want_grad, want_out, want_loss = _reference_step(
        lambda ex, h, o: _one_vs_all_loss(h, o, [positives[i] for i in ex]),
        hidden, out, lr, group,
    )  # fmt: skip
    hidden_before = hidden.copy()
    grad, loss = _one_vs_all(hidden, out, positives, lr, group, hot_start)
    np.testing.assert_allclose(grad, want_grad, atol=2e-6)
    np.testing.assert_allclose(out, want_out, atol=2e-6)
    np.testing.assert_array_equal(hidden, hidden_before)
    assert not out[:, DIM:].any() and not grad[:, DIM:].any()
    assert loss == pytest.approx(want_loss, rel=1e-5)


@pytest.mark.parametrize(("loss", "n_in", "group"), [("ns", 1, 1), ("ns", 6, 6), ("hs", 6, 4)])
def test_logistic_step_drawn_for_a_target_is_minus_lr_times_the_gradient(loss, n_in, group):
    # train_group draws the output rows (target and noise words, or the Huffman
    # path) and trains the block: noise words shared by the whole block, path nodes in
    # groups of four hidden rows.
    rng = np.random.default_rng(5)
    counts = np.sort(rng.integers(1, 500, 40))[::-1]
    model = _Logistic(loss, counts, negative=8, span=8)
    model.out[:] = _rows(len(model.out), 0.5, rng)
    hidden = _rows(n_in, 0.5, rng)
    target, lr = 37, 0.05
    out_before = model.out.copy()
    grad, got_loss, rows, labels = model.step(hidden, target, lr, seeded(3, 0, 0))
    if loss == "ns":
        assert rows[0] == target and labels[0] == 1.0
        assert len(rows) > 1 and (rows[1:] != target).all() and not labels[1:].any()
    else:
        offsets, codes, points = model.tree
        path = slice(offsets[target], offsets[target + 1])
        np.testing.assert_array_equal(rows, points[path])
        np.testing.assert_array_equal(labels, 1.0 - codes[path])
    want_grad, want_out, want_loss = _reference_step(
        lambda ex, h, o: _logistic_loss(h, o, rows, labels), hidden, out_before, lr, group
    )
    # The kernel's sigmoid comes from a 1,024-entry table (error up to about 0.0015 per
    # score), so its updates drift from the exact ones by a few 1e-4.
    np.testing.assert_allclose(grad, want_grad, atol=5e-4)
    np.testing.assert_allclose(model.out, want_out, atol=5e-4)
    assert got_loss == pytest.approx(want_loss, rel=1e-2)


def test_logistic_block_with_repeated_rows_is_minus_lr_times_the_gradient():
    # A noise word drawn twice is two binary losses on one row: the row gets both updates.
    rng = np.random.default_rng(9)
    hidden = _rows(5, 0.5, rng)
    out = _rows(6, 0.5, rng)
    rows = np.array([4, 1, 3, 1, 0, 1, 5], np.int64)
    labels = np.array([1, 0, 0, 0, 0, 0, 0], np.float32)
    lr = 0.05
    want_grad, want_out, want_loss = _reference_step(
        lambda ex, h, o: _logistic_loss(h, o, rows, labels), hidden, out, lr, 5
    )
    grad, grad_rows, scores = _scratch(5, len(rows))
    table, _ = _output_table(out, rows, len(out))
    loss = logistic_block(
        _addresses(hidden), 5, 5, table, len(rows), np.resize(labels, scores.shape[1]), lr,
        grad, grad_rows, scores,
    )  # fmt: skip
    np.testing.assert_allclose(grad, want_grad, atol=5e-4)
    np.testing.assert_allclose(out, want_out, atol=5e-4)
    assert loss == pytest.approx(want_loss, rel=1e-2)


def test_softmax_and_one_vs_all_stay_finite_on_huge_scores():
    # Scores of several hundred: exp would overflow without the max subtracted (softmax)
    # or the exp(-|s|) form (one-vs-all). The softmax loss is capped at -log(1e-5), as
    # fastText's is; a confident right answer costs nothing and moves nothing.
    hidden = np.zeros((2, WIDTH), np.float32)
    hidden[:, 0] = 30.0
    out = np.zeros((3, WIDTH), np.float32)
    out[:, 0] = [20.0, -20.0, 0.0]  # scores 600, -600, 0
    grad, loss = _softmax(hidden, out.copy(), [0, 1], 0.1, 1)
    assert np.isfinite(grad).all()
    assert loss == pytest.approx(-np.log(MIN_PROBABILITY), rel=1e-5)
    assert not grad[0].any()
    np.testing.assert_allclose(grad[1, 0], 0.1 * (-20.0 - 20.0), rtol=1e-5)

    grad, loss = _one_vs_all(hidden, out.copy(), [[0], [0, 1]], 0.1, 2)
    assert np.isfinite(grad).all()
    assert loss == pytest.approx(2 * np.log(2) + 600.0, rel=1e-5)


def test_rows_and_block_forms_agree_and_check_their_scratch():
    rng = np.random.default_rng(2)
    hidden, out = _rows(5, 0.5, rng), _rows(6, 0.5, rng)
    targets = rng.integers(0, 6, 5)
    want_out = out.copy()
    want_grad, want_loss = _softmax(hidden, want_out, targets, 0.1, 1)
    grad, grad_rows, scores = _scratch(5, 6)
    rows, loss = _addresses(out), 0.0
    for i in range(5):
        loss += softmax_rows(
            _addresses(hidden), i, i + 1, rows, 6, targets, np.float32(0.1), grad, grad_rows,
            scores,
        )  # fmt: skip
    np.testing.assert_array_equal(out, want_out)
    np.testing.assert_array_equal(grad, want_grad)
    assert loss == want_loss

    offsets, ids = _csr([[1, 2]] * 5)
    narrow = np.zeros((5, WIDTH - 4), np.float32)
    with pytest.raises(ValueError, match="multiple of 16"):
        one_vs_all_rows(
            _addresses(hidden), 0, 5, rows, 6, offsets, ids, np.float32(0.1), narrow,
            _addresses(narrow), scores,
        )  # fmt: skip
    with pytest.raises(ValueError, match="n_in x n_out"):
        one_vs_all_block(
            _addresses(hidden), 5, 1, rows, 6, offsets, ids, np.float32(0.1), grad,
            grad_rows, scores[:4],
        )  # fmt: skip


# ---------------------------------------------------------------- fitting a planted rule

N_CLASSES = 10
N_TRAIN = 2000
N_TEST = 1000


@pytest.fixture(scope="module")
def projected():
    """Hidden vectors of about unit length, their last real column a constant 1 (a bias
    input: without one, no linear score gives one-vs-all its base rate of 2 in 10), and each
    one's class scores under a random linear rule of the other columns."""
    rng = np.random.default_rng(1)
    hidden = _rows(N_TRAIN + N_TEST, 1 / np.sqrt(DIM), rng)
    hidden[:, DIM - 1] = 1.0
    rule = rng.normal(0, 1, (N_CLASSES, WIDTH)).astype(np.float32)
    rule[:, DIM - 1 :] = 0.0
    return hidden, hidden @ rule.T


@pytest.fixture(scope="module")
def clustered():
    """Classes drawn with Zipf frequencies (numbered by falling frequency, as a vocabulary
    is), and hidden vectors around one random centre per class, with noise as large as the
    centres. A nearest-centre rule labels 99.7% of the test rows right."""
    rng = np.random.default_rng(2)
    zipf = 1.0 / np.arange(1, N_CLASSES + 1)
    labels = rng.choice(N_CLASSES, N_TRAIN + N_TEST, p=zipf / zipf.sum())
    centres = _rows(N_CLASSES, 1 / np.sqrt(DIM), rng)
    hidden = centres[labels] + _rows(N_TRAIN + N_TEST, 1 / np.sqrt(DIM), rng)
    hidden[:, DIM - 1] = 1.0
    return hidden, labels


def _fit(epoch, epochs, lr):
    """Mean loss per example at the start (``epoch(0.0)``) and in the last of ``epochs``
    calls ``epoch(lr_now)``, the learning rate falling linearly from ``lr`` as in fastText."""
    start = epoch(0.0)
    losses = [epoch(lr * (1 - e / epochs)) for e in range(epochs)]
    return start, losses[-1]


def test_softmax_fits_a_planted_argmax_rule(projected):
    hidden, scores = projected
    train, test = hidden[:N_TRAIN], hidden[N_TRAIN:]
    labels = scores.argmax(axis=1)
    out = np.zeros((N_CLASSES, WIDTH), np.float32)
    start, last = _fit(
        lambda lr: _softmax(train, out, labels[:N_TRAIN], lr, 1)[1] / N_TRAIN, 10, 1.0
    )
    accuracy = ((test @ out.T).argmax(axis=1) == labels[N_TRAIN:]).mean()
    assert start == pytest.approx(np.log(N_CLASSES))  # zero output rows: p uniform
    assert last < 0.2 * start
    assert accuracy > 0.9


def test_one_vs_all_fits_a_planted_top_two_rule(projected):
    hidden, scores = projected
    train, test = hidden[:N_TRAIN], hidden[N_TRAIN:]
    top2 = np.argsort(-scores, axis=1)[:, :2]
    positives = [np.sort(p) for p in top2[:N_TRAIN]]
    out = np.zeros((N_CLASSES, WIDTH), np.float32)
    start, last = _fit(lambda lr: _one_vs_all(train, out, positives, lr, 1)[1] / N_TRAIN, 10, 1.0)
    predicted = np.argsort(-(test @ out.T), axis=1)[:, :2]
    truth = top2[N_TRAIN:]
    precision_at_2 = np.mean(
        [len(set(p) & set(t)) / 2 for p, t in zip(predicted, truth, strict=True)]
    )
    assert start == pytest.approx(N_CLASSES * np.log(2))  # zero output rows: each p = 1/2
    assert last < 0.3 * start
    assert precision_at_2 > 0.85


def _word_log_probabilities(loss, model, hidden):
    """log P(word | hidden) up to a constant (negative sampling: the scores), every word."""
    scores = hidden.astype(np.float64) @ model.out.T
    if loss == "ns":
        return scores
    offsets, codes, points = model.tree
    return np.stack(
        [
            -_softplus(
                (2.0 * codes[offsets[w] : offsets[w + 1]] - 1.0)
                * scores[:, points[offsets[w] : offsets[w + 1]]]
            ).sum(axis=1)
            for w in range(N_CLASSES)
        ],
        axis=1,
    )  # log sigmoid(+-score) along each word's path


@pytest.mark.parametrize("loss", ["ns", "hs"])
def test_logistic_losses_fit_planted_clusters(clustered, loss):
    # The classes are the "words"; each example draws its own noise words (or walks its
    # word's Huffman path) through train_group, as an unshared skip-gram pair does.
    # (An argmax-of-projection rule would not do for hierarchical softmax: a node's "which
    # half of the words" is not linear in the hidden vector, and it tops out near 65%.)
    hidden, labels = clustered
    counts = np.bincount(labels[:N_TRAIN], minlength=N_CLASSES)
    model = _Logistic(loss, counts, negative=5, span=1)
    rng = seeded(1, 0, 0)

    def epoch(lr):
        total = 0.0
        for i in range(N_TRAIN):
            total += model.step(hidden[i : i + 1], int(labels[i]), lr, rng)[1]
        return total / N_TRAIN

    start, last = _fit(epoch, 4, 0.5)
    log_p = _word_log_probabilities(loss, model, hidden[N_TRAIN:])
    accuracy = (log_p.argmax(axis=1) == labels[N_TRAIN:]).mean()
    assert last < 0.2 * start
    assert accuracy > 0.9
