"""The ranking rule (easiest first, ties by question id) and its grouping, against lexsort by hand."""

from __future__ import annotations

import numpy as np
import pytest

from slicesand.slicing.difficulty import easiest_first, group_boundaries, groups_by_position, tie_rank


@pytest.mark.parametrize("levels", [None, 3, 1])  # continuous values, many ties, all equal
def test_easiest_first_equals_lexsort(levels):
    rng = np.random.default_rng(5)
    values = -rng.random((40, 300))
    if levels is not None:
        values = np.round(values * levels) / max(levels, 1)
    values[3, 7] = values[3, 9] = np.nan  # NaN sorts last in both, ties among NaNs by rank
    ranks = rng.permutation(300)
    expected = np.lexsort((np.broadcast_to(ranks, values.shape), -values), axis=-1)
    assert np.array_equal(easiest_first(values, ranks), expected)
    sub = np.sort(rng.choice(300, 120, replace=False))  # a subset of ranks is not a permutation
    expected_sub = np.lexsort((np.broadcast_to(ranks[sub], (40, 120)), -values[:, sub]), axis=-1)
    assert np.array_equal(easiest_first(values[:, sub], ranks[sub]), expected_sub)


def test_negative_and_positive_zero_tie():
    assert easiest_first(np.array([-0.0, 0.0, -0.0]), np.array([2, 0, 1])).tolist() == [1, 2, 0]


def test_tie_rank_compares_ids_as_text_then_tasks():
    ids = np.array(["9", "10", "a", "a"], dtype=object)
    tasks = np.array(["t", "t", "u", "s"], dtype=object)
    assert tie_rank(ids, tasks).tolist() == [1, 0, 3, 2]


def test_unit_counts_give_the_slicing_groups():
    rng = np.random.default_rng(2)
    difficulty = -rng.random(1001)
    ranks = rng.permutation(1001)
    order = easiest_first(difficulty, ranks)
    expected = np.empty(1001, dtype=np.int64)
    expected[order] = np.repeat(np.arange(4), np.diff(group_boundaries(1001, 4)))
    got = groups_by_position(difficulty[None, :], np.ones((1, 1001), dtype=np.int64), ranks, 4)[0]
    assert np.array_equal(got, expected)


def test_counts_move_positions_by_hand():
    # Order: q1 (-0.1), q0 (-0.5), q2 (-0.7), q3 (-0.9); q1 drawn 3 times -> positions 0, 3, 3, 4.
    difficulty = np.array([[-0.5, -0.1, -0.7, -0.9]])
    counts = np.array([[0, 3, 1, 0]])
    # Boundaries of 4 questions in 2 groups: [0, 2, 4]: positions < 2 are group 0.
    assert groups_by_position(difficulty, counts, np.arange(4), 2).tolist() == [[1, 0, 1, 1]]
