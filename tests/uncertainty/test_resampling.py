"""Question resampling: the draws depend on the seed only, not on blocks or threads."""

from __future__ import annotations

import numpy as np
import pytest

import slicesand.uncertainty.resampling as qr
from slicesand.slicing.difficulty import SliceOptions, groups_by_position, slice_dump
from tests.uncertainty.test_calibration import _noisy_dump


def test_blocks_and_threads_do_not_change_the_draws(monkeypatch):
    dump, flops = _noisy_dump(n_questions=90)
    frame = slice_dump(dump, flops, SliceOptions(cut=1e22, groups=3)).slices
    matrix, _ = qr.question_matrix(dump, flops, 1e22, 3)
    models = frame["model"].to_numpy()[frame["flops"] < 1e22]
    weights = np.random.default_rng(1).multinomial(len(models), np.full(len(models), 1 / len(models)), 30) * 1.0
    reference = qr.question_draws(matrix, models, weights, seed=4)
    assert qr.block_rows(90) == 11104  # one block of 32 rows by default
    # Fewer draws are the first draws of more, though their last block is shorter (13 = 8 + 5 rows).
    assert np.array_equal(qr.question_draws(matrix, models, weights[:13], seed=4), reference[:, :13], equal_nan=True)
    monkeypatch.setattr(qr, "BLOCK_CELLS", 90 * 17)  # blocks of 16 draws, the last one short
    assert qr.block_rows(90) == 16
    for threads in (1, 2):
        monkeypatch.setattr(qr, "THREADS", threads)
        assert np.array_equal(qr.question_draws(matrix, models, weights, seed=4), reference, equal_nan=True)
    assert not np.array_equal(qr.question_draws(matrix, models, weights, seed=5), reference, equal_nan=True)


def test_blocks_reuse_their_arrays_without_leaking_between_draws_on_a_ragged_dump(monkeypatch):
    # Missing cells and questions no reference model answered: the general path, whose per-thread
    # arrays (qr.Buffers) are only partly written by each part of it. Draws in one block and in
    # short blocks, on one thread and on two, must be the same bits.
    from slicesand.ingest.dump import Dump

    dump, flops = _noisy_dump(n_questions=90, dense=False)
    keep = ~(((dump.question_code >= 80) & (flops[dump.model_code] < 1e22))
             | ((dump.question_code % 7 == 0) & (dump.model_code % 5 == 0)))
    dump = Dump(dump.source, dump.model_names, dump.question_ids, dump.question_tasks, dump.model_code[keep],
                dump.question_code[keep], dump.score[keep], dump.correct[keep], None, True, dense=False)
    matrix, _ = qr.question_matrix(dump, flops, 1e22, 3)
    assert matrix.count is not None and int((~matrix.ranked).sum()) == 10
    models = matrix.models[flops < 1e22]
    weights = np.random.default_rng(2).multinomial(len(models), np.full(len(models), 1 / len(models)), 40) * 1.0
    one_block = qr.question_draws(matrix, models, weights, seed=3, threads=1)
    monkeypatch.setattr(qr, "BLOCK_CELLS", 90 * 9)  # blocks of 8 draws: the arrays are reused four times
    for threads in (1, 2):
        assert np.array_equal(qr.question_draws(matrix, models, weights, seed=3, threads=threads), one_block,
                              equal_nan=True)


def test_buffers_are_reused_and_grow_when_too_small():
    buffers = qr.Buffers()
    first = buffers.get("a", (8, 5))
    assert np.shares_memory(buffers.get("a", (3, 5)), first)
    assert not np.shares_memory(buffers.get("a", (9, 5)), first)  # more rows: a new array
    assert buffers.get("a", (2, 4)).shape == (2, 4) and buffers.get("a", (2, 4), bool).dtype == bool


def test_multiplicities_are_uniform_with_replacement():
    ranked = np.r_[np.ones(40, bool), np.zeros(10, bool)]
    counts = qr.question_multiplicities(ranked, 4000, seed=0)
    assert (counts[:, :40].sum(axis=1) == 40).all() and (counts[:, 40:].sum(axis=1) == 10).all()
    # Multinomial(n, 1/n) margins: mean 1, variance 1 - 1/n (here within a few standard errors).
    assert abs(counts[:, :40].mean() - 1.0) < 1e-12
    assert abs(counts[:, :40].var() - (1 - 1 / 40)) < 0.03


def test_over_the_memory_budget_a_seeded_subset_of_questions_with_a_note():
    dump, flops = _noisy_dump(dense=False, n_questions=90)
    full, note = qr.question_matrix(dump, flops, 1e22, 3)
    assert note is None and full.score.shape[1] == 90
    per_question = int(np.isfinite(flops).sum()) * 8 * 4 * 2
    small, note = qr.question_matrix(dump, flops, 1e22, 3, memory_budget=30 * per_question, seed=1)
    assert small.score.shape[1] == 30 and "seeded subset of 30 of the 90 questions" in note
    again, _ = qr.question_matrix(dump, flops, 1e22, 3, memory_budget=30 * per_question, seed=1)
    assert np.array_equal(small.score, again.score)  # seeded
    # The subset's columns are the full matrix's columns of the chosen questions.
    chosen = np.flatnonzero(np.isin(full.score.T, small.score.T).all(axis=1))
    assert chosen.size == 30
    none, why = qr.question_matrix(dump, flops, 1e22, 3, memory_budget=2 * per_question)
    assert none is None and "not even 3 questions fit" in why


def test_stability_over_the_budget_notes_its_subset():
    from slicesand.uncertainty.stability import dump_instability

    dump, flops = _noisy_dump(n_questions=90)
    full = dump_instability(dump, flops, 1e22, 3)
    part = dump_instability(dump, flops, 1e22, 3, memory_budget=1e4)
    assert "note" not in full.facts() and "seeded subset" in part.facts()["note"]


@pytest.mark.parametrize("levels", [None, 4, 1])  # continuous difficulties, many ties, all equal
@pytest.mark.parametrize("groups", [1, 2, 3, 5])
def test_edge_groups_are_the_first_and_last_groups_by_position(levels, groups):
    rng = np.random.default_rng(levels or 0)
    n = 61
    difficulty = -rng.random((200, n))
    if levels is not None:
        difficulty = np.round(difficulty * levels) / levels
    difficulty[5, :10] = 0.0
    difficulty[5, 10:20] = -0.0  # minus and plus zero are one difficulty
    picks = rng.integers(0, n, (200, n))
    picks[7] = np.arange(n)[::-1]  # every question once: the slicing's own groups
    counts = np.stack([np.bincount(row, minlength=n) for row in picks])
    group = groups_by_position(difficulty, counts, np.arange(n), groups)
    for given in (None, picks):  # the repeated rows made from the counts, or gathered from the picks
        easy, hard = qr.edge_groups(difficulty, counts, groups, picks=given)
        assert np.array_equal(easy, group == 0)  # questions not drawn included
        assert np.array_equal(hard, group == groups - 1)
    if levels == 4:
        assert (difficulty[:, :, None] == difficulty[:, None, :]).sum() > 200 * n  # ties were exercised


def test_edge_groups_fall_back_to_sorting_rows_it_cannot_partition():
    difficulty = np.array([[-0.5, np.nan, -0.7, -0.1], [-0.5, -0.2, -0.7, -0.1]])
    counts = np.array([[1, 1, 1, 1], [2, 2, 1, 1]])  # NaN; counts that do not add up to the questions
    group = groups_by_position(difficulty, counts, np.arange(4), 2)
    easy, hard = qr.edge_groups(difficulty, counts, 2)
    assert np.array_equal(easy, group == 0) and np.array_equal(hard, group == 1)


def test_the_draws_do_not_depend_on_how_many_threads_blas_may_use():
    from threadpoolctl import threadpool_limits

    dump, flops = _noisy_dump(n_models=60, n_questions=14000)
    frame = slice_dump(dump, flops, SliceOptions(cut=1e22, groups=3)).slices
    matrix, _ = qr.question_matrix(dump, flops, 1e22, 3)
    models = frame["model"].to_numpy()[frame["flops"] < 1e22]
    weights = np.random.default_rng(1).multinomial(len(models), np.full(len(models), 1 / len(models)), 200) * 1.0
    drawn = {}
    for threads in (1, 2):  # what the machine (or OPENBLAS_NUM_THREADS) would give BLAS
        with threadpool_limits(limits=threads, user_api="blas"):
            drawn[threads] = qr.question_draws(matrix, models, weights, seed=3)
    assert np.array_equal(drawn[1], drawn[2], equal_nan=True)
