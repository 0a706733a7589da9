"""The stability check read from the bootstrap's question matrix gives what reading the dump's cells
again gives, in memory and out of core, so `run` reads them once."""

from __future__ import annotations

import numpy as np
import pytest

import slicesand.uncertainty.resampling as qr
from slicesand.config import run_config
from slicesand.pipeline.stages import compute_run, load_stage_dump, open_scanned
from slicesand.uncertainty.stability import dump_instability, question_matrix_instability
from tests.slicing.test_scans import _noisy
from tests.uncertainty.test_calibration import _noisy_dump


@pytest.mark.parametrize("dense", [True, False])
@pytest.mark.parametrize("groups", [2, 3, 5])
def test_the_question_matrix_gives_the_dumps_instability(dense, groups):
    dump, flops = _noisy_dump(dense=dense, n_questions=90, seed=groups)
    flops[3] = np.nan  # a model without a scale is in neither
    matrix, note = qr.question_matrix(dump, flops, 1e22, groups)
    assert note is None
    from_matrix = question_matrix_instability(matrix, seed=7)
    assert from_matrix == dump_instability(dump, flops, 1e22, groups, seed=7)
    assert from_matrix.share_changed > 0  # a real check: the groups do move under resampling


def test_too_few_reference_models_give_none():
    dump, flops = _noisy_dump(n_questions=30)
    matrix, _ = qr.question_matrix(dump, flops, float(flops[1]), 3)  # one model below the cut
    assert question_matrix_instability(matrix) is None is dump_instability(dump, flops, float(flops[1]), 3)


@pytest.mark.parametrize("ragged", [False, True])
def test_run_records_the_same_instability_with_and_without_the_bootstrap(tmp_path, ragged):
    """Without the bootstrap there is no question matrix, and the check reads the cells itself."""
    path = tmp_path / "dump.parquet"
    _noisy(n_models=16, n_questions=50, ragged=ragged).to_parquet(path, index=False)
    facts = []
    for draws in (0, 50):
        config = run_config(cut=1e22, bootstrap=draws, figures=False)
        for loaded in (open_scanned(path, config.dump), load_stage_dump(path, config.dump)):  # out of core, in memory
            run = compute_run(path, config, loaded=loaded)
            facts.append(run.slice_stage.result.facts["group_instability"])
    assert all(f == facts[0] for f in facts[1:]), facts


def test_a_matrix_within_the_budget_whose_stability_check_is_not_leaves_it_to_its_own_subset(tmp_path):
    """16 models x 50 questions: the question matrix takes 1,024 B a question, the check 1,496 B (its
    draws' ranks): a budget of 60 kB holds the matrix, not the check, which then measures a subset."""
    path = tmp_path / "dump.parquet"
    _noisy(n_models=16, n_questions=50).to_parquet(path, index=False)
    facts = []
    for draws in (0, 50):
        run = compute_run(path, run_config(cut=1e22, bootstrap=draws, figures=False, memory_budget=60e3 / 1e9))
        facts.append(run.slice_stage.result.facts["group_instability"])
        if draws:
            intervals = run.forecast.intervals  # the bootstrap resampled every question
            assert intervals["resampled"] == "models and questions" and "subset" not in repr(intervals)
    assert "seeded subset" in facts[0]["note"] and facts[1] == facts[0]
