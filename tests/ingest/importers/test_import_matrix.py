"""Wide 0/1 CSVs, py-irt JSON lines and long tables."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from slicesand.errors import InputDataError
from slicesand.ingest.importers import DUMP_SCHEMA, ImportOptions, read_source


def as_frame(result) -> pd.DataFrame:
    return result.dump.to_pandas()


# --- wide CSV --------------------------------------------------------------------------------


def test_models_as_rows_by_header(fixtures_dir):
    result = read_source(fixtures_dir / "matrix" / "models_as_rows.csv")
    frame = as_frame(result)

    assert result.kind == "matrix-csv"
    assert result.dump.schema.equals(DUMP_SCHEMA)
    assert frame.shape[0] == 3 * 4
    assert set(frame["task"]) == {"models_as_rows"}
    row = frame.query("model == 'my-finetune'").sort_values("question")
    assert row["correct"].tolist() == [1, 1, 1, 0]
    assert frame["p_correct"].isna().all()


def test_empty_cell_is_unknown_with_a_note(fixtures_dir):
    result = read_source(fixtures_dir / "matrix" / "models_as_rows.csv")
    frame = as_frame(result)

    cell = frame.query("model == 'EleutherAI/pythia-160m-deduped' and question == 'q4'")
    assert cell["correct"].isna().all()
    assert any("1 empty cells" in note for note in result.notes)


def test_models_as_columns_by_header(fixtures_dir):
    frame = as_frame(read_source(fixtures_dir / "matrix" / "models_as_columns.csv"))

    assert set(frame["model"]) == {"EleutherAI/pythia-70m-deduped", "EleutherAI/pythia-160m-deduped"}
    assert set(frame["question"]) == {"q1", "q2", "q3"}
    small = frame.query("model == 'EleutherAI/pythia-70m-deduped'").sort_values("question")
    assert small["correct"].tolist() == [0, 0, 1]


def test_orientation_from_known_model_names(tmp_path):
    path = tmp_path / "scores.csv"
    path.write_text(",a,b\nEleutherAI/pythia-70m-deduped,0,1\nfacebook/opt-125m,1,1\n")

    frame = as_frame(read_source(path))

    assert set(frame["model"]) == {"EleutherAI/pythia-70m-deduped", "facebook/opt-125m"}


def test_orientation_from_shape_with_a_note(tmp_path):
    path = tmp_path / "scores.csv"
    path.write_text("id,i1,i2,i3,i4,i5\nm1,0,1,0,1,1\nm2,1,1,0,0,1\n")

    result = read_source(path)

    assert set(as_frame(result)["model"]) == {"m1", "m2"}
    assert any("from the shape" in note and "--orientation" in note for note in result.notes)


def test_ambiguous_orientation_is_an_error_with_a_hint(fixtures_dir):
    with pytest.raises(InputDataError, match="`matrix_orientation`"):
        read_source(fixtures_dir / "matrix" / "unlabelled.csv")


def test_explicit_orientation_overrides_the_header(fixtures_dir):
    result = read_source(
        fixtures_dir / "matrix" / "unlabelled.csv", options=ImportOptions(matrix_orientation="columns")
    )
    assert set(as_frame(result)["model"]) == {"a", "b", "c"}


def test_a_cell_that_is_not_zero_or_one_is_an_error_naming_it(fixtures_dir):
    with pytest.raises(InputDataError) as caught:
        read_source(fixtures_dir / "matrix" / "bad_cell.csv")
    message = str(caught.value)
    assert "row 2" in message and "'m2' x 'q2'" in message and "0.5" in message


def test_repeated_ids_are_an_error(tmp_path):
    path = tmp_path / "scores.csv"
    path.write_text("model,q1,q1\nm1,0,1\n")
    with pytest.raises(InputDataError, match="header row repeats an id"):
        read_source(path, "matrix-csv")


def _quote_broken(n_questions: int, how: str) -> str:
    header = "model," + ",".join(f"q{j}" for j in range(n_questions)) + "\n"
    rows = [f"m{i}," + ",".join(str((i * j) % 2) for j in range(n_questions)) + "\n" for i in range(6)]
    if how == "opened in the last cell":
        rows[3] = rows[3][:-2] + '"1\n'
    elif how == "opened in the file's last cell":  # a wide file's cells were trimmed of that line break
        rows[5] = rows[5][:-2] + '"1\n'
    else:
        rows[3] = rows[3].replace(",1,", ',"1,', 1)
        if how == "two stray quotes":
            rows[4] = rows[4].replace(",0,", ',0",', 1)
    return header + "".join(rows)


@pytest.mark.parametrize("n_questions", [80, 600])  # pyarrow's reader, and the csv module for a wide file
@pytest.mark.parametrize("how", ["opened in the last cell", "opened in the file's last cell", "opened inside a line",
                                 "two stray quotes"])
def test_a_quote_never_closed_is_one_line_naming_it(tmp_path, n_questions, how):
    """A quote in the last cell took the rest of the file into it: refused as a bad 0/1 cell, its message
    quoting every later line; opened inside a line it was a field count, or 'line 5 has 3 cells'."""
    path = tmp_path / "m.csv"
    path.write_text(_quote_broken(n_questions, how))
    with pytest.raises(InputDataError) as caught:
        read_source(path)
    message = str(caught.value)
    assert "a double quote opens a value that no quote closes" in message and "\n" not in message, message
    assert "(hint: close the quote" in message and len(message) - len(str(path)) < 300
    if how == "opened in the file's last cell":
        assert f"line 7, cell {n_questions + 1}: " in message
    elif how == "opened in the last cell" or n_questions > 512:
        assert "line 5, cell " in message  # the fifth line is m3's


def _plain_matrix(n_questions: int) -> str:
    return _quote_broken(n_questions, "two stray quotes").replace('"', "")


def _with_empty_lines(text: str) -> str:
    """The file with an empty line after the header, a CRLF empty line after the second model, and two at the end."""
    lines = text.splitlines(keepends=True)
    return "".join([lines[0], "\n", *lines[1:3], "\r\n", *lines[3:], "\n\n"])


@pytest.mark.parametrize("n_questions", [80, 600])
@pytest.mark.parametrize("quoted", [False, True])  # a wide file is split by pyarrow's kernels, or by the csv module
def test_empty_lines_are_skipped_on_every_path(tmp_path, n_questions, quoted):
    plain = _plain_matrix(n_questions)
    if quoted:
        plain = plain.replace("model,", '"model",', 1)
    (tmp_path / "plain.csv").write_text(plain)
    (tmp_path / "spaced.csv").write_text(_with_empty_lines(plain))
    expected = as_frame(read_source(tmp_path / "plain.csv")).drop(columns="task")
    assert as_frame(read_source(tmp_path / "spaced.csv")).drop(columns="task").equals(expected)


@pytest.mark.parametrize("n_questions", [80, 600])
def test_a_message_names_the_line_of_the_file_after_empty_lines(tmp_path, n_questions):
    path = tmp_path / "m.csv"
    path.write_text(_with_empty_lines(_quote_broken(n_questions, "opened in the last cell")))
    with pytest.raises(InputDataError, match="line 7, cell "):  # m3's line, after two empty lines
        read_source(path)
    ragged = _plain_matrix(n_questions).splitlines(keepends=True)
    ragged[4] = ragged[4].rstrip("\n") + ",1\n"  # m3's line has a cell too many
    path.write_text(_with_empty_lines("".join(ragged)))
    # The wide path counts cells itself; for the narrow one, pyarrow's "Expected 81 columns, got 82: m3,..."
    # (no line number, the row quoted whole) is said in the same words (found by review).
    with pytest.raises(InputDataError, match=f"line 7 has {n_questions + 2} cells, the first line {n_questions + 1}"):
        read_source(path)


@pytest.mark.parametrize("name, text, problem", [
    # lines ended by a CR alone, as pyarrow's reader and the csv module break them (found by review:
    # an IndexError, exit 1, and a line number of no line of the file)
    ("cr_quote", b'model,q1,q2\na,1,0\rb,0,1\rc,1,1\rd,0,0\r"e\n",1,0\n', "line 6, cell 1: "),
    ("cr_short", b"model,q1,q2\na,1,0\rb,0,1\rc,1,1\rd,0,0\re,1\n", "line 6 has 2 cells, the first line 3"),
    ("quoted_short", b'model,q1,q2\n"a",1,0\nb,0\n', "line 3 has 2 cells, the first line 3"),
    ("wide_cr_cr", b"model," + b",".join(b"q%d" % i for i in range(600)) + b"\n\r\r\na," + b",".join([b"1"] * 600)
     + b"\nb," + b",".join([b"1"] * 599) + b"\n", "line 5 has 600 cells, the first line 601"),
])
def test_lines_ended_by_a_carriage_return_are_lines(tmp_path, name, text, problem):
    path = tmp_path / f"{name}.csv"
    path.write_bytes(text)
    with pytest.raises(InputDataError, match=problem):
        read_source(path)


def test_task_name_option_labels_the_matrix(fixtures_dir):
    result = read_source(fixtures_dir / "matrix" / "models_as_rows.csv", options=ImportOptions(task_name="arc"))
    assert set(as_frame(result)["task"]) == {"arc"}


cells = st.sampled_from([0, 1, None])


@settings(max_examples=60, deadline=None)
@given(
    matrix=arrays(np.object_, st.tuples(st.integers(1, 6), st.integers(1, 9)), elements=cells),
    models_on_rows=st.booleans(),
    header=st.booleans(),
)
def test_wide_csv_round_trip(matrix, models_on_rows, header):
    """Write a random 0/1 matrix (with unknown cells) as a wide CSV in either orientation; read it back."""
    n_models, n_questions = matrix.shape
    models = [f"model-{i}" for i in range(n_models)]
    questions = [f"question-{j}" for j in range(n_questions)]
    table = pd.DataFrame(matrix, index=models, columns=questions)
    written = table if models_on_rows else table.T
    corner = ("model" if models_on_rows else "question") if header else "id"
    options = ImportOptions() if header else ImportOptions(matrix_orientation="rows" if models_on_rows else "columns")
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "random.csv"
        written.rename_axis(corner).to_csv(path, na_rep="")

        frame = read_source(path, "matrix-csv", options=options).dump.to_pandas()

    assert len(frame) == n_models * n_questions
    back = frame.pivot(index="model", columns="question", values="correct").reindex(index=models, columns=questions)
    expected = table.astype("float64")
    np.testing.assert_array_equal(back.to_numpy(dtype=float), expected.to_numpy(dtype=float))


# --- py-irt ----------------------------------------------------------------------------------


def test_pyirt_lines(fixtures_dir):
    result = read_source(fixtures_dir / "pyirt" / "responses.jsonl")
    frame = as_frame(result)

    assert result.kind == "py-irt"
    assert frame.shape[0] == 9
    assert set(frame["task"]) == {"responses"}
    assert frame.query("model == 'EleutherAI/pythia-160m-deduped'")["correct"].tolist() == [1, 0, 1]
    assert result.models.set_index("model").loc["EleutherAI/pythia-70m-deduped", "flops"] == pytest.approx(1.26e20)


def test_pyirt_value_that_is_not_zero_or_one_is_an_error(tmp_path):
    path = tmp_path / "irt.jsonl"
    path.write_text(json.dumps({"subject_id": "m1", "responses": {"a": 1, "b": 0.7}}) + "\n")
    with pytest.raises(InputDataError, match="subject m1: responses must be 0 or 1"):
        read_source(path, "py-irt")


def test_pyirt_truncated_line_names_the_line(tmp_path):
    path = tmp_path / "irt.jsonl"
    path.write_text(json.dumps({"subject_id": "m1", "responses": {"a": 1}}) + "\n" + '{"subject_id": "m2", "resp')
    with pytest.raises(InputDataError, match="line 2 is not valid JSON"):
        read_source(path, "py-irt")


def test_pyirt_repeated_subject_is_an_error(tmp_path):
    path = tmp_path / "irt.jsonl"
    line = json.dumps({"subject_id": "m1", "responses": {"a": 1}}) + "\n"
    path.write_text(line + line)
    with pytest.raises(InputDataError, match="repeats an id"):
        read_source(path, "py-irt")


# --- long tables -----------------------------------------------------------------------------


def test_long_csv_keeps_unknowns(fixtures_dir):
    result = read_source(fixtures_dir / "long" / "dump.csv")
    frame = as_frame(result)

    assert result.kind == "long"
    assert result.dump.schema.equals(DUMP_SCHEMA)
    assert frame["correct"].isna().tolist() == [False, False, False, True]
    assert frame["p_correct"].isna().tolist() == [False, False, True, False]
    assert frame["question"].tolist() == ["0", "1", "0", "1"]  # ids stay text


def test_long_parquet(tmp_path):
    path = tmp_path / "dump.parquet"
    table = pa.table(
        {"model": ["m", "m"], "question": ["a", "b"], "task": ["t", "t"], "correct": [1, 0], "p_correct": [0.9, None]}
    )
    pq.write_table(table, path)

    result = read_source(path)

    assert result.kind == "long"
    assert result.dump.to_pylist()[1] == {"model": "m", "question": "b", "task": "t", "correct": 0, "p_correct": None}


def test_long_p_correct_out_of_range_is_an_error(tmp_path):
    path = tmp_path / "dump.csv"
    path.write_text("model,question,task,correct,p_correct\nm,1,t,1,0.5\nm,2,t,0,1.5\n")
    with pytest.raises(InputDataError) as caught:
        read_source(path)
    assert "column 'p_correct', row 2" in str(caught.value)


def test_long_table_without_task_takes_task_name(tmp_path):
    """The task column is optional, as for `slice` (issue 11, item 8): one unnamed task, or task_name."""
    path = tmp_path / "dump.csv"
    path.write_text("model,question,correct\nm,1,1\n")

    assert read_source(path, "long").dump.to_pylist()[0]["task"] == ""
    result = read_source(path, "long", options=ImportOptions(task_name="arc"))
    assert result.dump.to_pylist()[0]["task"] == "arc"


def test_a_long_tables_own_flops_are_its_models_scales(tmp_path):
    """`slice dump.csv` takes the dump's flops column; `import` took the bundled table's FLOPs where it
    knew a model and dropped the column ("ignored columns flops"), so the same file gave other scales
    imported (found by review)."""
    from slicesand.ingest.importers import flops_per_row

    path = tmp_path / "dump.csv"
    path.write_text("model,question,correct,flops\nEleutherAI/pythia-1b,q1,1,1e20\nEleutherAI/pythia-1b,q2,0,1e20\n"
                    "m2,q1,1,3e21\nm3,q1,0,\n")
    result = read_source(path, "long")
    models = result.models.set_index("model")
    assert models.loc["EleutherAI/pythia-1b", "flops"] == 1e20 and models.loc["m2", "flops"] == 3e21
    assert models.loc["EleutherAI/pythia-1b", "scale_source"] == "the dump's flops column"
    assert np.isnan(models.loc["EleutherAI/pythia-1b", "tokens"])  # not the bundled row's tokens
    assert np.isnan(models.loc["m3", "flops"])  # no FLOPs given, none known
    assert flops_per_row(result).to_pylist() == [1e20, 1e20, 3e21, None]
    assert not any("ignored columns" in note for note in result.notes), result.notes


def test_a_long_tables_flops_are_checked_as_slice_checks_them(tmp_path):
    path = tmp_path / "dump.csv"
    path.write_text("model,question,correct,flops\nm1,q1,1,1e20\nm1,q2,0,2e20\n")
    with pytest.raises(InputDataError, match="row 2"):
        read_source(path, "long")
    path.write_text("model,question,correct,flops\nm1,q1,1,-3\n")
    with pytest.raises(InputDataError, match="FLOPs must be a positive, finite number"):
        read_source(path, "long")


def test_long_duplicate_rows_are_an_error(tmp_path):
    path = tmp_path / "dump.csv"
    path.write_text("model,question,task,correct\nm,1,t,1\nm,1,t,0\n")
    with pytest.raises(InputDataError, match="appears twice"):
        read_source(path)
