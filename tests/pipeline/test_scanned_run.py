"""`run` on a big Parquet dump (or a folder or glob) reads it out of core (DuckDB scans, no dump in
memory), and a small file into memory; out of core it makes the same artifacts as the in-memory path: slices, facts (the stability check's too), fit, predictions (with the
bootstrap's intervals), the spectrum; per task in a multi-task dump; and a seeded question subset when
the matrices exceed the memory budget."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from slicesand.artifacts.documents import fit_document
from slicesand.config import run_config
from slicesand.pipeline import stages
from slicesand.pipeline.stages import ScannedInput, compute_run, load_stage_dump, open_scanned, run_input
from slicesand.pipeline.tasks import run_tasks
from tests.slicing.test_scans import _noisy


def _close(a, b, path="") -> None:
    """Equal JSON-like values, floats to 1e-9 relative (the scans sum in another order than numpy)."""
    if isinstance(a, float) or isinstance(b, float):
        assert (a is None and b is None) or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12), (path, a, b)
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for key in a:
            _close(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            _close(x, y, f"{path}[{i}]")
    else:
        assert a == b, (path, a, b)


def _both(frame: pd.DataFrame, tmp_path, **options):
    path = tmp_path / "dump.parquet"
    frame.to_parquet(path, index=False)
    config = run_config(cut=1e22, **options)
    in_memory = compute_run(path, config, loaded=load_stage_dump(path, config.dump))
    scanned = compute_run(path, config, loaded=open_scanned(path, config.dump))
    assert scanned.slice_stage.dump is None and scanned.slice_stage.scanned is not None  # out of core
    assert in_memory.slice_stage.dump is not None and in_memory.slice_stage.scanned is None
    return in_memory, scanned


def _same_run(a, b) -> None:
    tables = [(a.slice_stage.result.slices, b.slice_stage.result.slices),
              (a.slice_stage.result.questions, b.slice_stage.result.questions),
              (a.forecast.table, b.forecast.table), (a.spectrum, b.spectrum)]
    for x, y in tables:
        pd.testing.assert_frame_equal(x, y, check_exact=False, rtol=1e-9, atol=1e-12)
    assert a.slice_stage.result.facts == b.slice_stage.result.facts  # incl. group_instability, exactly
    source = a.slice_stage.source
    _close(json.loads(json.dumps(fit_document(a.fit, source))), json.loads(json.dumps(fit_document(b.fit, source))))
    _close(a.forecast.intervals, b.forecast.intervals)
    assert [w.message for w in a.warnings] == [w.message for w in b.warnings]


@pytest.mark.parametrize("ragged", [False, True])
def test_run_out_of_core_equals_the_in_memory_run(tmp_path, ragged):
    a, b = _both(_noisy(n_models=16, n_questions=80, ragged=ragged), tmp_path, bootstrap=40)
    assert "group_instability" in b.slice_stage.result.facts
    assert b.forecast.intervals["resampled"] == "models and questions"
    _same_run(a, b)


def test_row_order_does_not_change_the_resampling(tmp_path):
    """Questions are resampled in tie order, so shuffled rows give the same stability and intervals."""
    frame = _noisy(n_models=14, n_questions=50)
    a, _ = _both(frame, tmp_path, bootstrap=30)
    shuffled = frame.sample(frac=1.0, random_state=1).reset_index(drop=True)
    (tmp_path / "shuffled").mkdir()
    c, d = _both(shuffled, tmp_path / "shuffled", bootstrap=30)
    assert c.slice_stage.dump.dense is False  # the in-memory path takes the general (bincount) branch
    _same_run(c, d)
    assert a.slice_stage.result.facts["group_instability"] == c.slice_stage.result.facts["group_instability"]
    _close(a.forecast.intervals, c.forecast.intervals)


def test_over_the_memory_budget_the_scanned_run_notes_a_seeded_subset(tmp_path):
    frame = _noisy(n_models=16, n_questions=80)
    path = tmp_path / "dump.parquet"
    frame.to_parquet(path, index=False)
    config = run_config(cut=1e22, bootstrap=20, memory_budget=(16 * 8 * 4 * 2 * 30 + 100) / 1e9)  # 30 questions
    runs = [compute_run(path, config) for _ in range(2)]
    assert runs[0].slice_stage.scanned is not None  # 1,280 rows do not fit 31 kB in memory: scanned
    stability = runs[0].slice_stage.result.facts["group_instability"]
    assert "seeded subset" in stability["note"] and "of the 80 questions" in stability["note"]
    assert "seeded subset of 30 of the 80 questions" in runs[0].forecast.intervals["questions_note"]
    assert stability == runs[1].slice_stage.result.facts["group_instability"]  # seeded
    _close(runs[0].forecast.intervals, runs[1].forecast.intervals)


def test_run_tasks_scans_each_task_of_a_parquet_dump(tmp_path, monkeypatch):
    monkeypatch.setattr(stages, "IN_MEMORY_BYTES_PER_ROW", 1e12)  # as if the file were too big for memory
    frames = []
    for task, seed in (("alpha", 1), ("beta", 2)):
        frame = _noisy(n_models=14, n_questions=40, seed=seed)
        frame.insert(2, "task", task)
        frames.append(frame)
    path = tmp_path / "multi.parquet"
    pd.concat(frames).to_parquet(path, index=False)
    config = run_config(cut=1e22, bootstrap=0, figures=False)
    runs = run_tasks(path, tmp_path / "out", config)
    assert runs.multitask and runs.failed is None and sorted(runs.runs) == ["alpha", "beta"]
    for task, frame in zip(("alpha", "beta"), frames):
        alone = tmp_path / f"{task}.parquet"
        frame.to_parquet(alone, index=False)
        in_memory = compute_run(alone, config, loaded=load_stage_dump(alone, config.dump))
        scanned = runs.runs[task]
        assert scanned.slice_stage.dump is None
        pd.testing.assert_frame_equal(in_memory.slice_stage.result.slices, scanned.slice_stage.result.slices,
                                      check_exact=False, rtol=1e-12, atol=1e-12)
        pd.testing.assert_frame_equal(in_memory.forecast.table, scanned.forecast.table,
                                      check_exact=False, rtol=1e-9, atol=1e-12)
        assert (in_memory.slice_stage.result.facts["group_instability"]
                == scanned.slice_stage.result.facts["group_instability"])
    assert (tmp_path / "out" / "tasks.csv").exists()


def test_a_tight_memory_budget_keeps_the_same_questions_in_memory_and_out_of_core(tmp_path):
    """Both engines count a question's bytes alike, so one budget keeps one seeded subset (found by review:
    a ragged dump as CSV and as Parquet gave different stability shares)."""
    frame = _noisy(n_models=16, n_questions=80, ragged=True)
    in_memory, scanned = _both(frame, tmp_path, bootstrap=20, memory_budget=(16 * 8 * 4 * 2 * 30 + 100) / 1e9)
    _same_run(in_memory, scanned)
    assert "seeded subset" in scanned.slice_stage.result.facts["group_instability"]["note"]
    assert "seeded subset of 30 of the 80 questions" in scanned.forecast.intervals["questions_note"]


def test_run_reads_a_parquet_file_into_memory_when_its_rows_fit_the_budget(tmp_path):
    """A run builds the model x question matrix anyway, so a file that fits the memory budget is read
    once into memory; a bigger one, or a folder, is scanned out of core."""
    frame = _noisy(n_models=10, n_questions=20)  # 200 rows
    path = tmp_path / "dump.parquet"
    frame.to_parquet(path, index=False)
    options = run_config().dump
    fits = 200 * stages.IN_MEMORY_BYTES_PER_ROW
    assert isinstance(run_input(path, options, memory_budget=fits), tuple)  # (dump, flops, notes)
    assert isinstance(run_input(path, options, memory_budget=fits - 1), ScannedInput)
    (tmp_path / "folder").mkdir()
    frame.to_parquet(tmp_path / "folder" / "part-0.parquet", index=False)
    assert isinstance(run_input(tmp_path / "folder", options, memory_budget=1e12), ScannedInput)
    small = run_tasks(path, tmp_path / "out", run_config(cut=1e22, bootstrap=0, figures=False)).runs[""]
    assert small.slice_stage.scanned is None and small.slice_stage.dump is not None
