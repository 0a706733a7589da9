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


# --- hostile files: the same one line from both engines ------------------------------------------

def _hostile() -> dict[str, tuple[pd.DataFrame, str]]:
    """Each case: a bad dump, and the words every engine's message must hold (file, column, row, value)."""
    base = _noisy(n_models=5, n_questions=8)
    cases = {}

    def case(name, frame, expected):
        cases[name] = (frame, expected)

    frame = base.copy()
    frame.loc[10, "flops"] = 5e25
    case("flops differ across rows", frame, "column 'flops', row 11: FLOPs must be constant per model, but model "
         "'m01' has 2.1544346900318777e+19 on row 9; found 5e+25 (hint: give a model the same FLOPs")
    case("flops differ across tasks",
         pd.concat([base.assign(task="a"), base.assign(task="b", flops=base["flops"] * 2)], ignore_index=True),
         "column 'flops', row 41: FLOPs must be constant per model, but model 'm00' has 1e+19 on row 1; found 2e+19")
    case("duplicate row", pd.concat([base, base.iloc[[17]]], ignore_index=True),
         "row 41: duplicate row for model 'm02' and question 'q001', first on row 18 (hint: each (model, question)")
    swapped = base.copy()  # a model with its row count, one question twice and another missing
    swapped.loc[(swapped.model == "m03") & (swapped.question == "q001"), "question"] = "q002"
    case("duplicate that keeps the row count", swapped,
         "row 27: duplicate row for model 'm03' and question 'q002', first on row 26")
    for value, label in ((1.5, "above 1"), (-0.25, "below 0")):
        frame = base.copy()
        frame.loc[12, "p_correct"] = value
        case(f"p_correct {label}", frame, f"column 'p_correct', row 13: p_correct must be a probability in [0, 1]; "
             f"found {value} (hint: pass probabilities")
    frame = base.copy()
    frame.loc[14, "correct"] = 2
    case("correct 2", frame, "column 'correct', row 15: correct must be 0/1 or true/false; found 2.0")
    frame = base.astype({"correct": float})
    frame.loc[14, "correct"] = 0.5
    case("correct 0.5", frame, "column 'correct', row 15: correct must be 0/1 or true/false; found 0.5")
    for value in (-1.0, np.inf):
        frame = base.copy()
        frame.loc[9, "flops"] = value
        case(f"flops {value}", frame, f"column 'flops', row 10: FLOPs must be a positive, finite number; found {value}")
    frame = base.astype({"correct": float})
    frame.loc[13, ["correct", "p_correct"]] = np.nan
    case("no score", frame, "column 'p_correct', row 14: no score on this row: both correct and p_correct are empty")
    frame = base.drop(columns="correct")
    frame.loc[13, "p_correct"] = None
    case("no score, p_correct only", frame, "column 'p_correct', row 14: no score on this row: p_correct is empty")
    frame = base.astype({"p_correct": str})
    frame.loc[3, "p_correct"] = "high"
    case("p_correct as text", frame,
         "column 'p_correct', row 4: not a number; expected a probability in [0, 1]; found 'high'")
    frame = base.astype({"flops": str})
    frame.loc[9, "flops"] = "1e21 FLOPs"
    case("flops as text", frame, "column 'flops', row 10: not a number; expected a positive number of FLOPs; "
         "found '1e21 FLOPs'")
    case("correct as text", base.assign(correct=base["correct"].map({0: "no", 1: "yes"})),
         "column 'correct', row 1: not a number; expected 0/1 or true/false; found 'no'")
    for column in ("model", "question"):
        frame = base.astype({column: object})
        frame.loc[4, column] = None
        case(f"empty {column}", frame, f"column '{column}', row 5: empty value")
    return cases


HOSTILE = _hostile()


@pytest.mark.parametrize("case", list(HOSTILE))
def test_a_hostile_file_gets_the_same_line_from_both_engines(tmp_path, case):
    """The in-memory reader (engine numpy) and the scans (a folder, which only DuckDB reads: no fallback
    to the in-memory reader) give the same message, the expected one, and exit code 3. Out of core, a
    conflicting FLOPs value was quoted as a range without its row, and a duplicate or an out-of-range
    value without its row or value."""
    frame, expected = HOSTILE[case]
    path, folder = tmp_path / "dump.parquet", tmp_path / "parts"
    frame.to_parquet(path, index=False)
    folder.mkdir()
    frame.to_parquet(folder / "dump.parquet", index=False)
    messages = []
    for source, engine in ((path, "numpy"), (path, "auto"), (folder, "auto")):
        with pytest.raises(InputDataError) as error:
            slice_stage(source, SliceOptions(groups=2, cut=None), engine=engine)
        assert error.value.exit_code == 3
        messages.append(str(error.value).replace(str(folder / "dump.parquet"), str(path)))
    assert messages[0] == messages[1] == messages[2], messages
    assert messages[0].startswith(f"{path}: {expected}"), messages[0]


def test_the_command_line_says_it_alike(tmp_path):
    """run reads a small file in memory, slice scans a folder: the same line on stderr, exit 3."""
    from tests.cli.shell_helpers import RUN_OPTIONS, slicesand

    frame, expected = HOSTILE["duplicate row"]
    folder = tmp_path / "parts"
    folder.mkdir()
    frame.to_parquet(folder / "dump.parquet", index=False)
    in_memory = slicesand("run", folder / "dump.parquet", *RUN_OPTIONS, "-o", tmp_path / "out")
    scanned = slicesand("slice", folder, "--groups", "2")
    assert in_memory.returncode == scanned.returncode == 3, (in_memory.stderr, scanned.stderr)
    assert in_memory.stderr == scanned.stderr and expected.encode() in scanned.stderr, (in_memory.stderr, scanned.stderr)
    assert in_memory.stderr.count(b"\n") == 1


def _with_nan(column: str, row: int = 12) -> pa.Table:
    """A dump with a float NaN (not a null: pandas writes NaN as null) in ``column`` on ``row`` (0-based;
    12 is a reference model's, 34 one above the cut's)."""
    frame = _noisy(n_models=5, n_questions=8)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    values = frame[column].to_numpy(dtype=float).copy()
    values[row] = np.nan
    return table.set_column(table.column_names.index(column), column, pa.array(values, from_pandas=False))


@pytest.mark.parametrize("make", [
    pytest.param(lambda: _with_nan("p_correct"), id="NaN p_correct"),
    pytest.param(lambda: _with_nan("p_correct", 34), id="NaN p_correct above the cut"),
    pytest.param(lambda: _with_nan("correct"), id="NaN correct"),
    pytest.param(lambda: _with_nan("flops"), id="NaN flops"),
    pytest.param(lambda: pa.Table.from_pandas(_noisy(n_models=5, n_questions=8).astype(
        {"p_correct": str, "flops": str, "correct": str}), preserve_index=False), id="numbers as text"),
    pytest.param(lambda: pa.Table.from_pandas(_noisy(n_models=5, n_questions=8).astype({"p_correct": str}).assign(
        p_correct=lambda f: f["p_correct"].where(f.index % 9 != 4, "nan")), preserve_index=False), id="'nan' as text"),
])
def test_nan_and_numbers_as_text_are_read_alike(tmp_path, make):
    """A NaN is an empty cell in memory; the scans refused a NaN correct ('found nan') or FLOPs (as two
    values), a NaN p_correct of a reference model or a column of numbers stored as text failed inside
    DuckDB ('cannot be read as Parquet: Conversion Error'), and a NaN p_correct of a model above the cut
    made its hard group's mean 0.0 (-0.2495 in memory), silently."""
    table = make()
    path, folder = tmp_path / "dump.parquet", tmp_path / "parts"
    folder.mkdir()
    pq.write_table(table, path)
    pq.write_table(table, folder / "dump.parquet")
    options = SliceOptions(groups=2, cut=1e20)
    in_memory, scanned = slice_stage(path, options, engine="numpy"), slice_stage(folder, options)
    assert scanned.dump is None
    pd.testing.assert_frame_equal(in_memory.result.slices, scanned.result.slices, check_exact=False, rtol=1e-12)
    pd.testing.assert_frame_equal(in_memory.result.questions, scanned.result.questions, check_exact=False, rtol=1e-12)
    assert [w.message for w in in_memory.result.warnings] == [w.message for w in scanned.result.warnings]
