"""The training kernels: one block step against a numpy reference, reproducibility, loss."""

from __future__ import annotations

from collections import namedtuple

import numpy as np
import pytest
from numba import njit

from wordspace import Word2Vec
from wordspace.kernels.borrowed import borrowed, keep_alive
from wordspace.kernels.losses import _gradients, logistic_block
from wordspace.kernels.simd import add_tile, dot_tile


def _reference_block(hidden, out, rows, labels, lr, group):
    """Groups of ``group`` hidden rows in turn, each one plain minibatch step."""
    out = out.copy()
    grad_hidden = np.zeros_like(hidden)
    loss = 0.0
    for first in range(0, len(hidden), group):
        h = hidden[first : first + group]
        scores = h @ out[rows].T
        sig = 1 / (1 + np.exp(-scores))
        g = (labels[None, :] - sig) * lr
        grad_hidden[first : first + group] = g @ out[rows]
        for t, r in enumerate(rows):
            out[r] += g[:, t] @ h
        loss -= (labels * np.log(sig) + (1 - labels) * np.log(1 - sig)).sum()
    return grad_hidden, out, loss


def _addresses(matrix, rows=None):
    """Row addresses as the kernels take them; the caller keeps ``matrix`` alive."""
    rows = np.arange(len(matrix)) if rows is None else np.asarray(rows)
    return (matrix.ctypes.data + rows * matrix.strides[0]).astype(np.int64)


def _block(hidden, group, out, rows, labels, lr, hot_start=None):
    """Run ``logistic_block`` on rows of ``out`` (those at or above ``hot_start`` from a
    private copy, merged back after); returns (grad, loss)."""
    n_in, dim = hidden.shape
    hot_start = len(out) if hot_start is None else hot_start
    hot = out[hot_start:].copy()
    out_rows = np.array(
        [hot.ctypes.data + (r - hot_start) * hot.strides[0] if r >= hot_start else
         out.ctypes.data + r * out.strides[0] for r in rows], dtype=np.int64,
    )  # fmt: skip
    grad = np.zeros((n_in, dim), np.float32)
    scores = np.zeros((n_in, len(rows)), np.float32)
    loss = logistic_block(
        _addresses(hidden), n_in, group, out_rows, len(rows), labels, lr, grad,
        _addresses(grad), scores,
    )  # fmt: skip
    out[hot_start:] = hot
    return grad, loss


@pytest.mark.parametrize("group", [4, 16])
@pytest.mark.parametrize("hot_start", [40, 30])
@pytest.mark.parametrize(
    ("n_in", "n_out"), [(6, 6), (1, 1), (1, 14), (2, 14), (5, 7), (4, 8), (10, 17)]
)
def test_logistic_block_matches_a_numpy_reference_step(group, hot_start, n_in, n_out):
    # Shapes cover full and partial 4 x 4 tiles on both sides, and one or several groups of
    # hidden rows; rows of 32 floats take two vector steps. Rows at or above hot_start are
    # read and updated in a private copy.
    rng = np.random.default_rng(n_in * 100 + n_out)
    dim = 32
    hidden = rng.normal(0, 0.5, (n_in, dim)).astype(np.float32)
    out = rng.normal(0, 0.5, (40, dim)).astype(np.float32)
    rows = rng.choice(40, n_out, replace=False).astype(np.int64)
    labels = (rng.random(n_out) < 0.4).astype(np.float32)
    lr = np.float32(0.05)
    want_grad, want_out, want_loss = _reference_block(
        hidden.astype(np.float64), out.astype(np.float64), rows, labels, lr, group
    )
    hidden_before = hidden.copy()
    grad, loss = _block(hidden, group, out, rows, labels, lr, hot_start)
    # The kernel's sigmoid comes from a 1,024-entry table (error up to about 0.0015 per
    # score), so sums over many rows drift from the exact reference by a few 1e-4.
    np.testing.assert_allclose(grad, want_grad, atol=5e-4)
    np.testing.assert_allclose(out, want_out, atol=5e-4)
    np.testing.assert_array_equal(hidden, hidden_before)
    assert loss == pytest.approx(want_loss, rel=1e-2)


@njit
def _dot_tile(left, i, n_i, right, t, n_t, out, width):
    dot_tile(left, i, n_i, right, t, n_t, out, width)


@njit
def _add_tile(dst, d, n_d, src, s, n_s, coef, width, transposed):
    add_tile(dst, d, n_d, src, s, n_s, coef, width, transposed)


@pytest.mark.parametrize("transposed", [False, True])
def test_tiles_of_every_partial_shape_match_numpy(transposed):
    # Each of the 16 tile shapes has its own straight-line code; rows outside the tile, in
    # both tables, must be neither used nor changed.
    rng = np.random.default_rng(11)
    dim = 32
    for n_a in range(1, 5):
        for n_b in range(1, 5):
            left = rng.normal(0, 1, (6, dim)).astype(np.float32)
            right = rng.normal(0, 1, (6, dim)).astype(np.float32)
            scores = np.full((6, 6), -7.0, np.float32)
            _dot_tile(_addresses(left), 1, n_a, _addresses(right), 2, n_b, scores, dim)
            want = np.full((6, 6), -7.0, np.float32)
            want[1 : 1 + n_a, 2 : 2 + n_b] = left[1 : 1 + n_a] @ right[2 : 2 + n_b].T
            np.testing.assert_allclose(scores, want, rtol=1e-5, atol=1e-5)

            coef = rng.normal(0, 1, (6, 6)).astype(np.float32)
            weights = coef.T if transposed else coef
            before = left.copy()
            _add_tile(_addresses(left), 1, n_a, _addresses(right), 2, n_b, coef, dim, transposed)
            expected = before.copy()
            expected[1 : 1 + n_a] += weights[1 : 1 + n_a, 2 : 2 + n_b] @ right[2 : 2 + n_b]
            np.testing.assert_allclose(left, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("n_out", [6, 9, 14, 16, 25])
def test_gradients_ignore_the_padding_columns_they_process(n_out):
    # With room in the buffers, a row's last partial vector is processed whole: the columns
    # past n_out must not change the real gradients or enter the loss.
    rng = np.random.default_rng(n_out)
    exact = rng.normal(0, 3, (3, n_out)).astype(np.float32)
    labels = (rng.random(n_out) < 0.5).astype(np.float32)
    padded = rng.normal(0, 3, (3, 32)).astype(np.float32)
    padded[:, :n_out] = exact
    padded_labels = np.ones(32, np.float32)
    padded_labels[:n_out] = labels
    lr = np.float32(0.025)
    want = _gradients(exact, 0, 3, labels, n_out, lr)
    got = _gradients(padded, 0, 3, padded_labels, n_out, lr)
    assert got == pytest.approx(want, rel=1e-6)
    np.testing.assert_array_equal(padded[:, :n_out], exact)


def test_an_output_row_listed_twice_gets_both_updates():
    rng = np.random.default_rng(3)
    dim = 16
    hidden = rng.normal(0, 0.5, (3, dim)).astype(np.float32)
    out = rng.normal(0, 0.5, (5, dim)).astype(np.float32)
    rows = np.array([2, 4, 2], np.int64)
    labels = np.array([1.0, 0.0, 0.0], np.float32)
    lr = np.float32(0.05)
    _, want_out, _ = _reference_block(
        hidden.astype(np.float64), out.astype(np.float64), rows, labels, lr, 3
    )
    _block(hidden, 3, out, rows, labels, lr)
    np.testing.assert_allclose(out, want_out, atol=5e-4)


def test_groups_see_the_output_rows_left_by_the_groups_before_them():
    rng = np.random.default_rng(7)
    dim = 16
    hidden = np.tile(rng.normal(0, 1, (1, dim)), (8, 1)).astype(np.float32)
    rows = np.array([0, 1], np.int64)
    labels = np.array([1.0, 0.0], np.float32)
    grads = [
        _block(hidden, group, np.zeros((4, dim), np.float32), rows, labels, np.float32(0.01))[0]
        for group in (4, 8)
    ]
    # Starting from zero output rows, the first group's gradient is zero; the second group
    # sees rows the first one moved only when trained in groups.
    assert not grads[0][:4].any()
    assert np.abs(grads[0][4:]).max() > 0.0
    assert not grads[1].any()


def test_logistic_block_refuses_rows_not_padded_to_whole_vectors():
    dim = 20
    with pytest.raises(ValueError, match="multiple of 16"):
        _block(
            np.zeros((2, dim), np.float32), 2, np.zeros((4, dim), np.float32),
            np.array([0, 1], np.int64), np.ones(2, np.float32), np.float32(0.1),
        )  # fmt: skip


@pytest.fixture(scope="module")
def small_corpus(enwiki_lines):
    return enwiki_lines(2000)


@pytest.mark.parametrize("loss", ["ns", "hs"])
@pytest.mark.parametrize("architecture", ["skipgram", "cbow"])
def test_one_worker_and_a_seed_give_bit_identical_vectors(small_corpus, architecture, loss):
    def run(seed):
        model = Word2Vec(architecture, loss=loss, dim=20, epochs=1, workers=1, seed=seed)
        return model.fit(small_corpus).vectors.matrix

    first = run(7)
    assert np.array_equal(first, run(7))
    assert not np.array_equal(first, run(8))


@pytest.mark.parametrize(
    ("architecture", "loss", "kernel"),
    [
        ("skipgram", "ns", "fast"),
        ("skipgram", "ns", "classic"),
        ("skipgram", "hs", "fast"),
        ("cbow", "ns", "fast"),
        ("cbow", "hs", "fast"),
    ],
)
def test_loss_falls_from_epoch_to_epoch_at_a_constant_learning_rate(
    small_corpus, architecture, loss, kernel
):
    # With a decaying rate the online loss of topically ordered text may rise again late in
    # training (updates stop adapting to the current article), so hold the rate constant.
    lr = 0.02 if architecture == "skipgram" else 0.04
    model = Word2Vec(
        architecture, loss=loss, kernel=kernel, dim=32, epochs=3, workers=2, lr=lr, min_lr=lr
    )
    losses = model.fit(small_corpus).training.epoch_losses
    assert losses[0] > losses[1] > losses[2] > 0
    assert np.isfinite(model.vectors.matrix).all()


def test_cbow_sum_and_mean_both_learn(small_corpus):
    for mean in (True, False):
        model = Word2Vec("cbow", cbow_mean=mean, dim=20, epochs=2, workers=1)
        losses = model.fit(small_corpus).training.epoch_losses
        assert losses[1] < losses[0]


_Nested = namedtuple("_Nested", ["values", "pair"])


@njit
def _first_of_borrowed(structure):
    view = borrowed(structure)
    first = view.values[0]
    keep_alive(structure)
    return first


def test_borrowing_a_structure_with_arrays_in_a_nested_tuple_is_refused():
    # the nested array's memory record was released once more than taken: a double free
    with pytest.raises(Exception, match="not nested"):
        _first_of_borrowed(_Nested(np.ones(2), (1, np.zeros(3))))
    assert _first_of_borrowed(_Nested(np.ones(2), (1, 2))) == 1.0
