"""The in-memory reader (pyarrow) and the out-of-core scans (DuckDB) name the same ids alike and
refuse the same hostile Parquet files with the same one line (exit 3)."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from slicesand.errors import InputDataError
from slicesand.pipeline.stages import slice_stage
from slicesand.slicing.difficulty import SliceOptions
from tests.pipeline.test_scanned_run import _both, _same_run
from tests.slicing.test_scans import _noisy

N_MODELS, N_QUESTIONS = 6, 12
_START = dt.datetime(2024, 1, 1, 12)
IDS = {  # N_QUESTIONS distinct values of each type
    "timestamp": pa.array([_START + dt.timedelta(hours=j) for j in range(N_QUESTIONS)], pa.timestamp("us")),
    "timestamp_fraction": pa.array([_START + dt.timedelta(milliseconds=1500 * j) for j in range(N_QUESTIONS)],
                                   pa.timestamp("ms")),
    "timestamp_zone": pa.array(pd.date_range("2024-01-01 12:00", periods=N_QUESTIONS, freq="h", tz="Europe/Paris"),
                               pa.timestamp("us", tz="Europe/Paris")),
    "date": pa.array([dt.date(2024, 1, 1 + j) for j in range(N_QUESTIONS)], pa.date32()),
    "time": pa.array([dt.time(1, j) for j in range(N_QUESTIONS)], pa.time64("us")),
    "integer": pa.array(np.arange(N_QUESTIONS) * 7 - 20, pa.int64()),
    "float": pa.array(np.arange(N_QUESTIONS) / 2.0),
    "float32": pa.array(np.arange(N_QUESTIONS, dtype=np.float32) / np.float32(10.0)),
    "decimal": pa.array([decimal.Decimal(j) / 100 for j in range(N_QUESTIONS)], pa.decimal128(2, 2)),
    "uuid": pa.array([uuid.UUID(int=j * 7919).bytes for j in range(N_QUESTIONS)], pa.uuid()),
}


def _dump(questions: pa.Array | None = None, models: pa.Array | None = None) -> pa.Table:
    rng = np.random.default_rng(5)
    p = np.round(rng.random(N_MODELS * N_QUESTIONS), 2)
    return pa.table({
        "model": models if models is not None else pa.array(np.repeat([f"m{i}" for i in range(N_MODELS)], N_QUESTIONS)),
        "question": questions if questions is not None else pa.array([f"q{j:02d}" for j in range(N_QUESTIONS)] * N_MODELS),
        "correct": pa.array((rng.random(N_MODELS * N_QUESTIONS) < p).astype(np.int8)),
        "p_correct": pa.array(p),
        "flops": pa.array(np.repeat(10.0 ** (20 + np.arange(N_MODELS) / 2), N_QUESTIONS)),
    })


def _both_engines(path, options=SliceOptions(groups=3, cut=1e22)):
    in_memory = slice_stage(path, options, engine="numpy")
    scanned = slice_stage(path, options)
    assert scanned.dump is None and in_memory.dump is not None
    return in_memory.result, scanned.result


@pytest.mark.parametrize("kind", list(IDS))
def test_question_ids_of_any_type_are_written_alike(tmp_path, kind):
    """A timestamp question id was '2024-01-01 12:00:00.000000' in memory and '2024-01-01 12:00:00' out
    of core; a decimal 0.05 was '0.05' and '.05' (and run crashed on it out of core)."""
    path = tmp_path / "dump.parquet"
    repeated = pa.concat_arrays([IDS[kind]] * N_MODELS)
    pq.write_table(_dump(questions=repeated), path)
    a, b = _both_engines(path)
    pd.testing.assert_frame_equal(a.questions, b.questions, check_exact=False, rtol=1e-12, atol=1e-12)
    pd.testing.assert_frame_equal(a.slices, b.slices, check_exact=False, rtol=1e-12, atol=1e-12)
    assert sorted(a.questions["question"]) == sorted(set(a.questions["question"]))
    assert not any(text.endswith(".000000") for text in a.questions["question"])


@pytest.mark.parametrize("kind", ["timestamp", "float", "integer", "decimal"])
def test_model_names_of_any_type_are_written_alike(tmp_path, kind):
    path = tmp_path / "dump.parquet"
    names = IDS[kind].take(pa.array(np.repeat(np.arange(N_MODELS), N_QUESTIONS)))
    pq.write_table(_dump(models=names), path)
    a, b = _both_engines(path)
    assert a.slices["model"].tolist() == b.slices["model"].tolist()
    pd.testing.assert_frame_equal(a.slices, b.slices, check_exact=False, rtol=1e-12, atol=1e-12)


def test_the_ids_are_the_clear_text(tmp_path):
    path = tmp_path / "dump.parquet"
    pq.write_table(_dump(questions=pa.concat_arrays([IDS["timestamp_zone"]] * N_MODELS)), path)
    for result in _both_engines(path):
        assert "2024-01-01 11:00:00+00" in result.questions["question"].tolist()  # 12:00 in Paris, in UTC
    pq.write_table(_dump(questions=pa.concat_arrays([IDS["decimal"]] * N_MODELS)), path)
    for result in _both_engines(path):
        assert "0.05" in result.questions["question"].tolist()


@pytest.mark.parametrize("kind", ["decimal", "timestamp_fraction"])
def test_a_run_out_of_core_reads_the_matrices_of_such_ids(tmp_path, kind):
    """The scans' matrices join the questions by their text: with DuckDB's text and pandas' apart, a
    decimal-id dump matched no question and run failed with an internal ZeroDivisionError."""
    frame = _noisy(n_models=14, n_questions=N_QUESTIONS)
    codes = frame["question"].str[1:].astype(int).to_numpy()
    frame["question"] = IDS[kind].take(pa.array(codes)).to_pandas()
    in_memory, scanned = _both(frame, tmp_path, bootstrap=20)
    _same_run(in_memory, scanned)
