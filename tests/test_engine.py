"""The shared training step and the word2vec pair builders, part by part.

Builders are checked on a known sentence (which bags, scales, groups and targets they
write); the step against a float64 numpy reference of "hidden = scaled sum of the bag, loss,
gradient back to every row of the bag"; and the softmax loss of word models end to end.
"""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit
from numba.core.errors import TypingError

from wordspace import Word2Vec
from wordspace.errors import ParameterError
from wordspace.kernels.borrowed import borrowed, keep_alive
from wordspace.kernels.builders import (
    CBOW,
    CENTRE_SKIPGRAM,
    SKIPGRAM,
    PairBuilder,
    cbow_examples,
    centre_skipgram_examples,
    skipgram_examples,
)
from wordspace.kernels.engine import (
    FullLossTables,
    LogisticLossTables,
    OutputRows,
    new_block,
    new_scratch,
    scored_pairs,
    step_block,
)
from wordspace.kernels.random import seeded
from wordspace.kernels.softmax import SOFTMAX
from wordspace.losses import prepare_loss

WIDTH = 16
SENTENCE = np.array([10, 11, 12, 13, 14], dtype=np.int32)


def _pairs(architecture, *, shared=True, mean=True, extra=None, n_words=30):
    offsets = np.zeros(n_words + 1, dtype=np.int64)
    rows: list[int] = []
    for word in range(n_words):
        rows += (extra or {}).get(word, [])
        offsets[word + 1] = len(rows)
    most = 1 + int(np.diff(offsets).max())
    rows = np.array(rows, dtype=np.int64)
    return PairBuilder(architecture, 2, shared, mean, offsets, rows, most)


def _read(block, n_groups):
    """The block as Python lists: per group, its targets and its examples' (bag, scale)."""
    groups = []
    for g in range(n_groups):
        targets = block.target_ids[block.target_offsets[g] : block.target_offsets[g + 1]]
        examples = []
        for e in range(block.group_offsets[g], block.group_offsets[g + 1]):
            bag = block.bag_rows[block.bag_offsets[e] : block.bag_offsets[e + 1]].tolist()
            examples.append((bag, float(block.bag_scale[e]), float(block.grad_scale[e])))
        groups.append((targets.tolist(), examples))
    return groups


def _build(builder, pairs, pos=2, lo=0, hi=5):
    block = new_block(8, 64, 8)
    return _read(block, builder(pairs, SENTENCE, pos, lo, hi, block))


def test_shared_skipgram_puts_every_context_word_of_a_window_in_one_group():
    got = _build(skipgram_examples, _pairs(SKIPGRAM))
    assert got == [([12], [([10], 1.0, 1.0), ([11], 1.0, 1.0), ([13], 1.0, 1.0), ([14], 1.0, 1.0)])]


def test_classic_skipgram_makes_a_group_of_each_context_word():
    got = _build(skipgram_examples, _pairs(SKIPGRAM, shared=False), pos=0, lo=0, hi=3)
    assert got == [([10], [([11], 1.0, 1.0)]), ([10], [([12], 1.0, 1.0)])]


@pytest.mark.parametrize(("mean", "scale"), [(True, 0.25), (False, 1.0)])
def test_cbow_makes_one_bag_of_the_context_averaged_or_summed(mean, scale):
    got = _build(cbow_examples, _pairs(CBOW, mean=mean))
    assert got == [([12], [([10, 11, 13, 14], scale, 1.0)])]


def test_a_window_without_context_makes_no_example():
    for builder, architecture in ((skipgram_examples, SKIPGRAM), (cbow_examples, CBOW)):
        assert _build(builder, _pairs(architecture), pos=0, lo=0, hi=1) == []


def test_words_with_extra_rows_bring_them_into_their_bags_as_a_mean():
    # The subword models' case: word 11 has two extra rows (its n-gram buckets).
    extra = {11: [40, 41]}
    skipgram = _build(skipgram_examples, _pairs(SKIPGRAM, extra=extra), pos=2, lo=1, hi=4)
    third = np.float32(1 / 3)
    assert skipgram == [([12], [([11, 40, 41], third, 1.0), ([13], 1.0, 1.0)])]
    cbow = _build(cbow_examples, _pairs(CBOW, extra=extra), pos=2, lo=1, hi=4)
    assert cbow == [([12], [([11, 40, 41, 13], 0.25, 1.0)])]


def test_centre_skipgram_scores_one_bag_of_the_centre_word_against_every_context_word():
    # fastText's order: word 12's bag (its row and its n-gram rows, averaged) is the one
    # example; its targets are the context words, each drawing its own noise rows.
    extra = {12: [40, 41, 42]}
    got = _build(centre_skipgram_examples, _pairs(CENTRE_SKIPGRAM, extra=extra))
    assert got == [([10, 11, 13, 14], [([12, 40, 41, 42], 0.25, 1.0)])]


def test_classic_centre_skipgram_composes_the_centre_bag_afresh_for_each_context_word():
    extra = {10: [40]}
    got = _build(
        centre_skipgram_examples,
        _pairs(CENTRE_SKIPGRAM, shared=False, extra=extra),
        pos=0,
        lo=0,
        hi=3,
    )
    assert got == [([11], [([10, 40], 0.5, 1.0)]), ([12], [([10, 40], 0.5, 1.0)])]


def test_scored_pairs_count_every_example_against_every_target_of_its_group():
    for builder, architecture in (
        (skipgram_examples, SKIPGRAM),
        (cbow_examples, CBOW),
        (centre_skipgram_examples, CENTRE_SKIPGRAM),
    ):
        pairs = _pairs(architecture)
        block = new_block(8, 64, 8)
        n_groups = builder(pairs, SENTENCE, 2, 0, 5, block)
        assert scored_pairs(block, n_groups) == (1 if architecture == CBOW else 4)


# ---------------------------------------------------------------- the step


def _softmax_loss(h, out, target):
    s = out @ h
    top = s.max()
    return np.log(np.exp(s - top).sum()) + top - s[target]


def _numeric_grad(f, x, eps=1e-6):
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        d = np.zeros_like(x)
        d[i] = eps
        g[i] = (f(x + d) - f(x - d)) / (2 * eps)
    return g


def _weights(seed, n_in, n_out, dim):
    """Input and output rows of ``WIDTH`` floats, the first ``dim`` of them random."""
    rng = np.random.default_rng(seed)
    syn0 = np.zeros((n_in, WIDTH), np.float32)
    out = np.zeros((n_out, WIDTH), np.float32)
    syn0[:, :dim] = rng.normal(0, 0.5, (n_in, dim))
    out[:, :dim] = rng.normal(0, 0.5, (n_out, dim))
    return syn0, out


def _block_of(bags, scales, grad_scales, groups, targets):
    block = new_block(len(bags), sum(map(len, bags)), len(targets))
    block.bag_rows[:] = [r for bag in bags for r in bag]
    block.bag_offsets[1:] = np.cumsum([len(b) for b in bags])
    block.bag_scale[:] = scales
    block.grad_scale[:] = grad_scales
    block.group_offsets[1 : len(groups) + 1] = np.cumsum(groups)
    block.target_ids[: len(targets)] = targets
    block.target_offsets[1 : len(targets) + 1] = np.arange(1, len(targets) + 1)
    return block, len(groups)


def _softmax_step(syn0, out, block, n_groups, lr):
    loss = prepare_loss("softmax", np.ones(len(out), np.int64))
    outputs = OutputRows(out, out[:0], len(out))
    scratch = new_scratch(WIDTH, len(block.bag_scale), loss.tables, outputs, 1)
    return step_block(
        block, n_groups, syn0, outputs, loss.tables, np.float32(lr), seeded(1, 0, 0), scratch
    )


def test_the_step_trains_a_scaled_bag_by_minus_lr_times_the_gradient():
    # One example, a mean bag of three rows (one of them twice), softmax over 5 outputs:
    # each bag row moves by grad_scale * -lr * dL/dh, the output rows by -lr * dL/dout.
    syn0, out = _weights(3, 6, 5, 10)
    bag, target, lr, grad_scale = [1, 4, 4], 2, 0.1, 0.5
    h = syn0[bag, :10].astype(np.float64).mean(axis=0)
    dh = _numeric_grad(lambda x: _softmax_loss(x, out[:, :10].astype(np.float64), target), h)
    dout = _numeric_grad(lambda o: _softmax_loss(h, o, target), out[:, :10].astype(np.float64))
    want_syn0 = syn0[:, :10].astype(np.float64)
    for r in bag:
        want_syn0[r] -= grad_scale * lr * dh
    want_out = out[:, :10] - lr * dout
    want_loss = _softmax_loss(h, out[:, :10].astype(np.float64), target)
    block, n_groups = _block_of([bag], [np.float32(1 / 3)], [grad_scale], [1], [target])
    loss = _softmax_step(syn0, out, block, n_groups, lr)
    np.testing.assert_allclose(syn0[:, :10], want_syn0, atol=1e-6)
    np.testing.assert_allclose(out[:, :10], want_out, atol=1e-6)
    assert loss == pytest.approx(want_loss, rel=1e-5)
    assert not syn0[:, 10:].any() and not out[:, 10:].any()


def test_a_bag_of_one_row_trained_in_place_equals_the_same_row_composed():
    syn0, out = _weights(4, 4, 3, 12)
    in_place = (syn0.copy(), out.copy())
    composed = (syn0.copy(), out.copy())
    block, n = _block_of([[2]], [1.0], [1.0], [1], [0])
    loss_a = _softmax_step(*in_place, block, n, 0.2)
    block, n = _block_of([[2, 2]], [0.5], [0.5], [1], [0])
    loss_b = _softmax_step(*composed, block, n, 0.2)
    np.testing.assert_allclose(in_place[0], composed[0], atol=1e-7)
    np.testing.assert_allclose(in_place[1], composed[1], atol=1e-7)
    assert loss_a == pytest.approx(loss_b)


def test_groups_of_a_block_are_trained_one_after_another():
    # Two groups on the same row: the second sees the first's update (sequential SGD), so
    # the result equals two single-group steps in a row.
    syn0, out = _weights(5, 3, 4, 8)
    together = (syn0.copy(), out.copy())
    apart = (syn0.copy(), out.copy())
    block, n = _block_of([[1], [1]], [1.0, 1.0], [1.0, 1.0], [1, 1], [0, 3])
    _softmax_step(*together, block, n, 0.3)
    for target in (0, 3):
        block, n = _block_of([[1]], [1.0], [1.0], [1], [target])
        _softmax_step(*apart, block, n, 0.3)
    np.testing.assert_array_equal(together[0], apart[0])
    np.testing.assert_array_equal(together[1], apart[1])


def test_a_group_with_several_targets_is_scored_against_each_targets_draw():
    # Negative sampling without noise rows: each target is one positive output row. One bag
    # scored against targets 0 and 2 gets the sum of both gradients, each output row its own.
    syn0, out = _weights(6, 3, 4, 8)
    loss = prepare_loss("ns", np.ones(4, np.int64), negative=0)
    outputs = OutputRows(out, out[:0], len(out))
    block = new_block(1, 2, 2)
    block.bag_rows[:2] = [0, 1]
    block.bag_offsets[1] = 2
    block.bag_scale[0] = 0.5
    block.group_offsets[1] = 1
    block.target_ids[:2] = [0, 2]
    block.target_offsets[1] = 2
    scratch = new_scratch(WIDTH, 1, loss.tables, outputs, 2)
    h = syn0[[0, 1], :8].astype(np.float64).mean(axis=0)
    o = out[[0, 2], :8].astype(np.float64)
    alpha = 0.1 * (1 - 1 / (1 + np.exp(-(o @ h))))
    want_syn0 = syn0[:, :8] + np.where(np.arange(3)[:, None] < 2, alpha @ o, 0)
    want_out = out[:, :8].astype(np.float64)
    want_out[[0, 2]] += np.outer(alpha, h)
    total = step_block(
        block, 1, syn0, outputs, loss.tables, np.float32(0.1), seeded(1, 0, 0), scratch
    )
    # scores come from the sigmoid table (1024 steps over [-6, 6]): close, not exact
    np.testing.assert_allclose(syn0[:, :8], want_syn0, atol=2e-4)
    np.testing.assert_allclose(out[:, :8], want_out, atol=2e-4)
    assert total == pytest.approx(np.sum(np.log1p(np.exp(-(o @ h)))), rel=2e-2)


# ---------------------------------------------------------------- softmax for word models


def test_word_models_train_with_the_full_softmax(tiny_corpus):
    model = Word2Vec("cbow", loss="softmax", dim=16, epochs=20, min_count=1, workers=1, sample=0)
    model.fit(tiny_corpus)
    n_words = len(model.vectors.vocab)
    assert model.output_weights.shape == (n_words, 16)
    first, *_, last = model.training.epoch_losses
    assert last < first < np.log(n_words) + 0.5
    # The sentences are short and repeated: the full softmax learns to predict the centre
    # word from its window well below the uniform guess.
    assert last < 0.6 * np.log(n_words)


def test_softmax_ignores_negative_and_other_losses_are_refused():
    assert Word2Vec(loss="softmax", negative=0).loss == "softmax"
    with pytest.raises(ParameterError, match="loss"):
        Word2Vec(loss="ova")


def test_every_user_facing_name_has_a_kernel_code():
    from wordspace import names
    from wordspace.losses import LOSS_CODES
    from wordspace.models.word2vec import ARCHITECTURE_CODES

    assert set(ARCHITECTURE_CODES) == set(names.ARCHITECTURES)
    assert set(LOSS_CODES) == set(names.WORD_LOSSES) | set(names.CLASSIFIER_LOSSES)
    assert len(set(LOSS_CODES.values())) == len(LOSS_CODES)


# ---------------------------------------------------------------- borrowed views


@njit(cache=True)
def _write_through_a_borrowed_view(n):
    owned = (np.zeros(n, dtype=np.float32), np.arange(n), 3)
    view = borrowed(owned)
    for i in range(n):
        view[0][i] = view[1][i] * view[2]
    keep_alive(owned)
    return owned[0]


def test_a_borrowed_view_reads_and_writes_the_owners_arrays():
    np.testing.assert_array_equal(_write_through_a_borrowed_view(5), [0, 3, 6, 9, 12])


def test_borrowing_refuses_what_holds_no_array():
    with pytest.raises(TypingError):
        njit(lambda: borrowed((1, 2.0)))()


def test_losses_that_score_every_row_have_their_own_type():
    # The training kernel compiles the softmax and one-vs-all step only for their type, so a
    # word2vec run with ns or hs never pays their compilation.
    counts = np.array([5, 3, 2, 1])
    for name in ("ns", "hs"):
        assert isinstance(prepare_loss(name, counts).tables, LogisticLossTables)
    for name in ("softmax", "ova"):
        assert isinstance(prepare_loss(name, counts).tables, FullLossTables)


def _ova_step(n_targets, max_positives):
    syn0, out = _weights(6, 3, 4, 8)
    loss = prepare_loss("ova", np.ones(4, np.int64), max_positives=max_positives)
    outputs = OutputRows(out, out[:0], len(out))
    block = new_block(1, 1, n_targets)
    block.bag_rows[0] = 1
    block.bag_offsets[1] = 1
    block.group_offsets[1] = 1
    block.target_ids[:n_targets] = [0, 2][:n_targets]
    block.target_offsets[1] = n_targets
    scratch = new_scratch(WIDTH, 1, loss.tables, outputs, n_targets)
    before = (syn0.copy(), out.copy())
    total = step_block(
        block, 1, syn0, outputs, loss.tables, np.float32(0.1), seeded(1, 0, 0), scratch
    )
    return before, (syn0, out), total


def test_one_vs_all_through_the_step_gives_each_example_the_groups_targets():
    (syn0, out), (syn0_after, out_after), total = _ova_step(2, max_positives=2)
    h = syn0[1, :8].astype(np.float64)
    s = out[:, :8] @ h
    labels = np.array([1.0, 0.0, 1.0, 0.0])
    alpha = 0.1 * (labels - 1 / (1 + np.exp(-s)))
    np.testing.assert_allclose(syn0_after[1, :8], h + alpha @ out[:, :8], atol=1e-6)
    np.testing.assert_allclose(out_after[:, :8], out[:, :8] + np.outer(alpha, h), atol=1e-6)
    want = np.sum(np.log1p(np.exp(-np.where(labels > 0, s, -s))))
    assert total == pytest.approx(want, rel=1e-5)


def test_a_one_vs_all_group_with_more_targets_than_prepared_is_refused():
    with pytest.raises(ValueError, match="more targets"):
        _ova_step(2, max_positives=1)


def test_logistic_tables_with_a_full_loss_code_are_refused():
    good = prepare_loss("ns", np.ones(4, np.int64)).tables
    wrong = good._replace(kind=SOFTMAX)
    out = np.zeros((4, WIDTH), np.float32)
    outputs = OutputRows(out, out[:0], len(out))
    block, n = _block_of([[0]], [1.0], [1.0], [1], [1])
    scratch = new_scratch(WIDTH, 1, wrong, outputs, 1)
    syn0 = np.zeros((2, WIDTH), np.float32)
    with pytest.raises(ValueError, match="FullLossTables"):
        step_block(block, n, syn0, outputs, wrong, np.float32(0.1), seeded(1, 0, 0), scratch)
