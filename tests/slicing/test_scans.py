"""The DuckDB scans give the numpy path's slices (to 1e-12) on every test dump, from files, folders
and globs; bad input is named by file, column and row; the emitted SQL is the SQL that runs."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from slicesand.errors import InputDataError
from slicesand.pipeline.stages import DumpOptions, slice_stage
from slicesand.slicing.difficulty import SliceOptions, group_boundaries
from slicesand.slicing.scans import is_scannable, scan_sql

P = {"a": [0.9, 0.5, 0.2, 0.1], "b": [0.8, 0.6, 0.1, 0.3], "c": [1.0, 0.9, 0.7, 0.5]}
CORRECT = {"a": [1, 0, 0, 0], "b": [1, 1, 0, 0], "c": [1, 1, 1, 0]}
FLOPS = {"a": 1e20, "b": 1e21, "c": 1e22}


def _frame(rows, columns=("model", "question", "correct", "p_correct", "flops")):
    return pd.DataFrame(rows, columns=list(columns))


def _noisy(n_models=14, n_questions=60, seed=3, ragged=False, ties=False):
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_models):
        for j in range(n_questions):
            if ragged and rng.random() < 0.1:
                continue
            p = round(rng.random(), 1 if ties else 6)
            rows.append((f"m{i:02d}", f"q{j:03d}", int(rng.random() < p), p, 10 ** (19 + i / 3)))
    return _frame(rows)


def _same(frame: pd.DataFrame, tmp_path, options: SliceOptions, dump_options: DumpOptions = DumpOptions()):
    path = tmp_path / "dump.parquet"
    frame.to_parquet(path, index=False)
    numpy_stage = slice_stage(path, options, dump_options, engine="numpy")
    duck_stage = slice_stage(path, options, dump_options)
    assert duck_stage.dump is None and numpy_stage.dump is not None  # the scans kept no dump in memory
    a, b = numpy_stage.result, duck_stage.result
    pd.testing.assert_frame_equal(a.slices, b.slices, check_exact=False, rtol=1e-12, atol=1e-12)
    pd.testing.assert_frame_equal(a.questions, b.questions, check_exact=False, rtol=1e-12, atol=1e-12)
    assert a.facts == b.facts
    assert [w.message for w in a.warnings] == [w.message for w in b.warnings]
    assert numpy_stage.source == duck_stage.source
    return b


def test_tiny_dump_by_hand(tmp_path):
    rows = [(m, f"q{j + 1}", CORRECT[m][j], P[m][j], FLOPS[m]) for m in P for j in range(4)]
    result = _same(_frame(rows), tmp_path, SliceOptions(cut=5e21, groups=2))
    slices = result.slices.set_index("model")
    assert slices.loc["a", "group_1"] == pytest.approx(-0.13, abs=1e-12)
    assert result.questions["question"].tolist() == ["q1", "q2", "q4", "q3"]


@pytest.mark.parametrize("cut", [None, 1e21, 3e22])
@pytest.mark.parametrize("kind", ["plain", "ragged", "ties"])
def test_noisy_dumps(tmp_path, cut, kind):
    frame = _noisy(ragged=kind == "ragged", ties=kind == "ties")
    _same(frame, tmp_path, SliceOptions(cut=cut, groups=4))


def test_only_correct_and_only_p_correct(tmp_path):
    frame = _noisy(ties=True)
    _same(frame.drop(columns="p_correct"), tmp_path, SliceOptions(cut=1e21, groups=3))
    result = _same(frame.drop(columns="correct"), tmp_path, SliceOptions(cut=1e21, groups=3))
    assert result.slices["accuracy"].isna().all()


def test_accuracy_from_p_correct(tmp_path):
    frame = _noisy()
    frame.loc[frame.index % 5 == 0, "p_correct"] = np.nan  # these rows count their 0/1 correctness
    result = _same(frame, tmp_path, SliceOptions(cut=1e21, groups=3, accuracy_from="p_correct"))
    by_hand = frame.assign(p=frame["p_correct"].fillna(frame["correct"])).groupby("model")["p"].mean()
    np.testing.assert_allclose(result.slices.set_index("model")["accuracy"], by_hand.loc[result.slices["model"]],
                               rtol=1e-12)
    _same(_noisy().drop(columns="correct"), tmp_path, SliceOptions(cut=1e21, groups=3, accuracy_from="p_correct"))


def test_missing_probabilities_fall_back_to_correct_and_say_so(tmp_path):
    frame = _noisy()
    frame.loc[frame.index % 7 == 0, "p_correct"] = np.nan
    frame.loc[frame.index % 7 == 3, "correct"] = np.nan
    result = _same(frame, tmp_path, SliceOptions(cut=1e21, groups=3))
    notes = [w.message for w in result.warnings if w.code == "input-note"]
    assert notes == [f"answers without p_correct: {(frame.index % 7 == 0).sum()}, scored from their 0/1 correct "
                     "instead (TC Brier 0 or -1)",
                     f"answers without a correct value: {(frame.index % 7 == 3).sum()}; accuracy counts only the "
                     "others"]


def test_ties_break_by_id_as_text_even_for_integer_ids(tmp_path):
    rows = [(m, q, 1, 0.5, f) for m, f in (("a", 1e20), ("b", 1e21)) for q in (10, 9, 100, 2)]
    result = _same(_frame(rows), tmp_path, SliceOptions(groups=2))
    assert result.questions["question"].tolist() == ["10", "100", "2", "9"]


def test_unranked_questions_unscaled_models_and_a_models_table(tmp_path):
    frame = _noisy(ragged=True)
    frame = pd.concat([frame, _frame([("m13", "q999", 1, 0.9, 10 ** (19 + 13 / 3)),
                                      ("ghost", "q000", 1, 0.5, np.nan)])], ignore_index=True)
    _same(frame, tmp_path, SliceOptions(cut=1e21, groups=3))
    models = tmp_path / "models.csv"
    models.write_text("model,flops\n" + "".join(f"m{i:02d},{10 ** (20 + i / 4)}\n" for i in range(14)))
    _same(frame.drop(columns="flops"), tmp_path, SliceOptions(cut=1e22, groups=3),
          DumpOptions(models_path=str(models)))


def test_one_task_of_several(tmp_path):
    a, b = _noisy(seed=1), _noisy(seed=2)
    frame = pd.concat([a.assign(task="alpha"), b.assign(task="beta")], ignore_index=True)
    _same(frame, tmp_path, SliceOptions(cut=1e21, groups=3), DumpOptions(task="beta"))


def test_group_boundaries_are_numpy_linspace_exactly(tmp_path):
    # 606 questions in 18 groups: floor(15 * (606 / 18)) is 504 in floating point, not 505.
    assert group_boundaries(606, 18)[15] == 504
    rng = np.random.default_rng(0)
    rows = [(m, f"q{j:04d}", 1, rng.random(), f) for m, f in (("a", 1e20), ("b", 1e21)) for j in range(606)]
    result = _same(_frame(rows), tmp_path, SliceOptions(groups=18))
    assert result.facts["group_sizes"] == np.diff(group_boundaries(606, 18)).tolist()


def test_folder_glob_and_hive_partitions_are_one_dump(tmp_path):
    frame = _noisy()
    single = tmp_path / "one.parquet"
    frame.to_parquet(single, index=False)
    expected = slice_stage(single, SliceOptions(cut=1e21, groups=3)).result
    folder = tmp_path / "parts"
    folder.mkdir()
    shuffled = frame.sample(frac=1, random_state=0)
    for k in range(3):
        shuffled.iloc[k::3].to_parquet(folder / f"part-{k}.parquet", index=False)
    hive = tmp_path / "hive"
    pq.write_to_dataset(pa.Table.from_pandas(frame.assign(shard=frame.index % 2), preserve_index=False),
                        hive, partition_cols=["shard"])
    for path in (folder, str(folder / "*.parquet"), hive):
        assert is_scannable(path)
        stage = slice_stage(path, SliceOptions(cut=1e21, groups=3))
        assert stage.dump is None
        pd.testing.assert_frame_equal(stage.result.slices, expected.slices, check_exact=False, rtol=1e-12)
        pd.testing.assert_frame_equal(stage.result.questions, expected.questions, check_exact=False, rtol=1e-12)


def test_bad_input_names_file_column_and_row(tmp_path):
    frame = _noisy()
    bad = frame.copy()
    bad.loc[5, "p_correct"] = 1.5
    path = tmp_path / "bad.parquet"
    bad.to_parquet(path, index=False)
    with pytest.raises(InputDataError) as error:
        slice_stage(path, SliceOptions(groups=3))
    assert "p_correct" in str(error.value) and "row 6" in str(error.value) and "bad.parquet" in str(error.value)
    duplicated = pd.concat([frame, frame.iloc[[17]]], ignore_index=True)
    duplicated.to_parquet(path, index=False)
    with pytest.raises(InputDataError, match="duplicate row for model 'm00' and question 'q017'"):
        slice_stage(path, SliceOptions(groups=3))
    # A duplicate that keeps the row count of a complete model (one question twice, another missing).
    swapped = frame.copy()
    swapped.loc[(swapped.model == "m03") & (swapped.question == "q001"), "question"] = "q002"
    swapped.to_parquet(path, index=False)
    with pytest.raises(InputDataError, match="duplicate row for model 'm03' and question 'q002'"):
        slice_stage(path, SliceOptions(groups=3))


def test_a_missing_column_is_named_alike_by_both_engines(tmp_path):
    path = tmp_path / "no_model.parquet"
    _noisy().drop(columns=["model"]).to_parquet(path, index=False)
    messages = []
    for engine in ("auto", "numpy"):  # out of core (DuckDB), then the in-memory reader
        with pytest.raises(InputDataError) as error:
            slice_stage(path, SliceOptions(groups=3), engine=engine)
        messages.append(str(error.value))
    assert messages[0] == messages[1] and "missing column 'model'; found 'question'" in messages[0], messages

def test_a_repeated_column_or_a_nested_name_column_is_refused_by_both_engines(tmp_path):
    """DuckDB renames a repeated column and went on, and a list or binary model column crashed the
    scans (exit 1); pyarrow could not pick one of two columns (found by review). The in-memory reader
    took a binary model column as text, and said a list one 'cannot be read as string'."""
    n = 40
    names = pa.array([f"m{i % 4}" for i in range(n)])
    questions, ones = pa.array([f"q{i // 4}" for i in range(n)]), pa.array(np.ones(n))
    cases = {
        "repeated": (pa.table([names, questions, ones, ones], names=["model", "question", "correct", "correct"]),
                     "column 'correct': appears more than once", ("auto", "numpy")),
        "list": (pa.table([pa.array([[f"m{i % 4}"] for i in range(n)]), questions, ones],
                          names=["model", "question", "correct"]), "column 'model': holds list values", ("auto", "numpy")),
        "binary": (pa.table([pa.array([f"m{i % 4}".encode() for i in range(n)], pa.binary()), questions, ones],
                            names=["model", "question", "correct"]), "column 'model': holds binary values",
                   ("auto", "numpy")),
        "struct": (pa.table([names, pa.array([{"id": i // 4} for i in range(n)]), ones],
                            names=["model", "question", "correct"]), "column 'question': holds struct values",
                   ("auto", "numpy")),
        "binary task": (pa.table([names, questions, ones, pa.array([b"t"] * n, pa.binary())],
                                 names=["model", "question", "correct", "task"]), "column 'task': holds binary values",
                        ("auto", "numpy")),
    }
    for case, (table, message, engines) in cases.items():
        path = tmp_path / f"{case}.parquet"
        pq.write_table(table, path)
        said = set()
        for engine in engines:
            with pytest.raises(InputDataError, match=re.escape(message)) as error:
                slice_stage(path, SliceOptions(groups=2), engine=engine)
            said.add(str(error.value))
        assert len(said) == 1, said  # word for word the same line from both engines

def test_the_difficulty_out_of_core_is_the_mean_of_exact_fixed_point_sums(tmp_path):
    """DuckDB adds up a question's scores on its threads in any order, so a float sum changed the last
    digit of questions.csv from run to run at 8M rows (found by review); the difficulty comes from the
    ranking's exact sums of multiples of 2^-40 instead, the same bits on every run."""
    frame = _noisy(n_models=12, n_questions=30)
    path = tmp_path / "dump.parquet"
    frame.to_parquet(path, index=False)
    cut = 10 ** (19 + 7 / 3)
    questions = slice_stage(path, SliceOptions(groups=3, cut=cut)).result.questions.set_index("question")
    reference = frame[frame["flops"] < cut]
    score = -(1.0 - reference["p_correct"]) ** 2
    key = np.floor(score * 2.0 ** 40).astype(np.int64).groupby(reference["question"]).sum()
    expected = key.astype(float) / 2.0 ** 40 / reference.groupby("question").size()
    assert np.array_equal(questions["difficulty"].to_numpy(), expected.reindex(questions.index).to_numpy())

@pytest.mark.parametrize("accuracy_from", ["correct", "p_correct"])
def test_the_slices_out_of_core_are_the_same_bits_on_every_run(tmp_path, accuracy_from):
    """DuckDB's threads add up a model's scores in a group in any order: as doubles, the same Parquet
    file sliced six times gave six different slices tables (in the last bits). The group sums are exact
    sums of multiples of 2^-52 now, whatever the order."""
    frame = _noisy(n_models=12, n_questions=2000).sample(frac=1.0, random_state=0)  # rows in no order
    path = tmp_path / "dump.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=1000)  # many scan tasks
    options = SliceOptions(groups=3, cut=10 ** (19 + 7 / 3), accuracy_from=accuracy_from)
    tables = {slice_stage(path, options).result.slices.to_csv() for _ in range(6)}
    assert len(tables) == 1


def test_emitted_sql_is_plain_and_names_the_schema():
    sql = scan_sql(groups=3, cut=1e22, has_task=True, text_ids=False, dialect="bigquery").script()
    assert "CAST(question AS STRING)" in sql and "FLOAT64" in sql and "m.flops < 1e+22" in sql
    assert "hash(" not in sql and "FILTER" not in sql and "//" not in sql  # portable: no engine-only syntax
    assert "FLOOR(2 * (n_ranked * 1e0 / 3))" in sql
    assert "AS BIGNUMERIC)) AS FLOAT64) / 4503599627370496e0 AS score_sum" in sql  # exact sums, in its types


@pytest.mark.parametrize("dialect, quoted", [("spark", "d.`p correct`"), ("bigquery", "d.`p correct`"),
                                             ("trino", 'd."p correct"'), ("duckdb", 'd."p correct"')])
def test_emitted_sql_quotes_names_as_each_engine_reads_them(dialect, quoted):
    """Spark SQL and BigQuery read "name" as a string: every row was 'p correct', not a probability.
    And BigQuery groups by no constant: a dump without a task column grouped by ''."""
    from slicesand.ingest.dump import DumpColumns

    sql = scan_sql(groups=3, cut=1e22, columns=DumpColumns(p_correct="p correct"), dialect=dialect).script()
    assert f"CAST({quoted} AS " in sql
    assert "GROUP BY ''" not in sql and "GROUP BY d." in sql
    if dialect in ("spark", "bigquery"):
        assert '"' not in sql.split("CREATE TABLE", 1)[1]  # no double quote past the comments


def test_emitted_script_runs_and_gives_the_slices(tmp_path):
    import subprocess
    import sys

    import duckdb

    frame = _noisy(ragged=True)
    path = tmp_path / "dump.parquet"
    frame.to_parquet(path, index=False)
    script = subprocess.run([sys.executable, "-m", "slicesand", "slice", str(path), "--cut", "1e21", "--groups", "3",
                             "--emit-sql"], capture_output=True, text=True, check=True).stdout
    connection = duckdb.connect()
    connection.execute(f"CREATE VIEW dump AS SELECT * FROM read_parquet('{path}')")
    questions_sql, models_sql = [part.strip() for part in script.split(";") if "SELECT" in part]
    connection.execute(questions_sql)
    rows = connection.execute(models_sql).df()
    rows = rows[rows["difficulty_group"] == 1].set_index("model")
    expected = slice_stage(path, SliceOptions(cut=1e21, groups=3), engine="numpy").result.slices.set_index("model")
    np.testing.assert_allclose((rows["score_sum"] / rows["answered"]).loc[expected.index], expected["group_1"],
                               rtol=1e-12)


@pytest.mark.parametrize("cut", [None, 3e22])
def test_a_row_without_flops_counts_in_both_engines(tmp_path, cut):
    """A model whose FLOPs are on some rows only keeps every answer, in the scans as in memory."""
    frame = _noisy()
    frame.loc[5, "flops"] = np.nan
    result = _same(frame, tmp_path, SliceOptions(cut=cut, groups=3))
    assert result.slices.set_index("model").loc["m00", "n_answered"] == 60


@pytest.mark.parametrize("column", ["model", "question"])
def test_an_empty_name_is_an_empty_value_in_both_engines(tmp_path, column):
    frame = _noisy()
    frame.loc[7, column] = ""
    path = tmp_path / "blank.parquet"
    frame.to_parquet(path, index=False)
    for engine in ("numpy", "auto"):
        with pytest.raises(InputDataError, match=f"column '{column}', row 8: empty value"):
            slice_stage(path, SliceOptions(groups=3), engine=engine)


def test_a_task_asked_of_a_dump_without_a_task_column_is_named_alike_by_both_engines(tmp_path):
    """'no task 'a' in the dump; found ''' named nothing: the dump has no task column at all."""
    from slicesand.errors import UsageError

    path = tmp_path / "d.parquet"
    _noisy().to_parquet(path, index=False)
    messages = []
    for engine in ("numpy", "auto"):
        with pytest.raises(UsageError) as caught:
            slice_stage(path, SliceOptions(groups=3), DumpOptions(task="a"), engine=engine)
        messages.append(str(caught.value).split(": ", 1)[1])  # the file: its name in memory, its path scanned
    assert messages[0] == messages[1]
    assert "the dump names no task (no task column, or an empty one), so it holds no task 'a'" in messages[0]


def test_a_model_name_with_a_line_break_is_refused_alike_by_both_engines(tmp_path):
    """In a CSV, a stray quote at a model's name and another rows later took the rows between into one
    name, and slicing went on without them; a Parquet dump's name is refused the same way, by both."""
    frame = _noisy()
    frame.loc[frame["model"] == "m03", "model"] = "m03\nm04,q001,1,0.5,1e20"
    path = tmp_path / "broken.parquet"
    frame.to_parquet(path, index=False)
    first = int(np.flatnonzero(frame["model"].str.contains("\n"))[0]) + 1
    for engine in ("numpy", "auto"):
        with pytest.raises(InputDataError, match=f"column 'model', row {first}: a model name holds a line break; "
                                                 r"found 'm03\\nm04,q001,1,0.5,1e20'"):
            slice_stage(path, SliceOptions(groups=3), engine=engine)
    csv = tmp_path / "broken.csv"
    csv.write_text('model,question,correct,flops\nm1,q1,1,1e21\n"m1,q2,1,1e21\nm2",q3,0,1e22\nm2,q4,1,1e22\n')
    with pytest.raises(InputDataError, match="column 'model', row 2: a model name holds a line break"):
        slice_stage(csv, SliceOptions(groups=3))


def _recorded_statements(scanner) -> list[str]:
    """The SQL statements ``scanner`` executes from now on, as they are executed."""
    statements, execute = [], scanner.connection.execute
    scanner.connection.execute = lambda sql, *args: statements.append(sql) or execute(sql, *args)
    return statements


@pytest.mark.parametrize("accuracy_from, columns", [("correct", ("model", "question", "correct", "p_correct", "flops")),
                                                    ("p_correct", ("model", "question", "correct", "p_correct", "flops")),
                                                    ("correct", ("model", "question", "p_correct", "flops"))])
def test_the_spectrum_cut_in_the_same_pass_is_its_own_scans_bits(tmp_path, accuracy_from, columns):
    """run's spectrum (10 groups) is summed in the pass over the dump that sums its 3 groups: the same
    bits as slicing the dump into 10 groups alone, and the second call reads no row of the dump."""
    from slicesand.pipeline.stages import open_scanned
    from slicesand.slicing.scans import scan_dump

    frame = _noisy(n_models=12, n_questions=400, ragged=True, ties=True).sample(frac=1.0, random_state=1)
    frame = frame[list(columns)]
    path = tmp_path / "dump.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=500)
    cut = 10 ** (19 + 7 / 3)

    def sliced(groups: int, scanned, spectrum_groups=None):
        options = SliceOptions(groups=groups, cut=cut, accuracy_from=accuracy_from)
        return scan_dump(scanned.scanner, scanned.model_names, scanned.flops, options,
                         dump_flops=scanned.dump_flops, spectrum_groups=spectrum_groups)

    together = open_scanned(path, DumpOptions())
    three = sliced(3, together, spectrum_groups=10)
    statements = _recorded_statements(together.scanner)
    ten = sliced(10, together)
    assert not [sql for sql in statements if "FROM dump" in sql or "read_parquet(" in sql]  # no row read again

    alone = open_scanned(path, DumpOptions())
    for result, groups in ((three, 3), (ten, 10)):
        own = sliced(groups, alone)
        pd.testing.assert_frame_equal(result.slices, own.slices, check_exact=True)
        pd.testing.assert_frame_equal(result.questions, own.questions, check_exact=True)
        assert result.facts == own.facts
        alone = open_scanned(path, DumpOptions())  # a fresh scanner: no ranking to re-cut


@pytest.mark.parametrize("second", [{"task": "beta"}, {"accuracy_from": "p_correct"}, {"cut": 1e21}])
def test_a_kept_spectrum_cut_is_not_taken_for_another_task_accuracy_or_cut(tmp_path, second):
    """The sums kept from the first pass are that ranking's (task, cut, scales) and that accuracy's: a
    second call for another reads the dump again, and equals a fresh scanner's slicing of it."""
    from slicesand.pipeline.stages import open_scanned
    from slicesand.slicing.scans import scan_dump

    a, b = _noisy(seed=1, ragged=True), _noisy(seed=2, ragged=True)
    frame = pd.concat([a.assign(task="alpha"), b.assign(task="beta")], ignore_index=True)
    path = tmp_path / "dump.parquet"
    frame.to_parquet(path, index=False)
    first = {"task": "alpha", "accuracy_from": "correct", "cut": 10 ** (19 + 7 / 3)}
    call = {**first, **second}

    def sliced(scanned, groups, task, accuracy_from, cut, spectrum_groups=None):
        options = SliceOptions(groups=groups, cut=cut, accuracy_from=accuracy_from)
        return scan_dump(scanned.scanner, scanned.model_names, scanned.flops, options, task=task,
                         dump_flops=scanned.dump_flops, spectrum_groups=spectrum_groups)

    shared = open_scanned(path, DumpOptions())
    sliced(shared, 3, spectrum_groups=10, **first)
    statements = _recorded_statements(shared.scanner)
    again = sliced(shared, 10, **call)
    assert [sql for sql in statements if "FROM dump" in sql]  # read again
    own = sliced(open_scanned(path, DumpOptions()), 10, **call)
    pd.testing.assert_frame_equal(again.slices, own.slices, check_exact=True)
    assert again.facts == own.facts


def test_the_one_pass_spectrum_sql_is_duckdbs_own():
    with pytest.raises(ValueError, match="DuckDB"):
        scan_sql(groups=3, cut=1e22, dialect="trino", spectrum_groups=10)
