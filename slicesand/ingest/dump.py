"""Load a per-question eval dump into compact, integer-coded numpy arrays.

A dump is a long table, one row per (model, question): ``model``, ``question``, an optional ``task``,
and at least one of ``correct`` (0/1 or bool) and ``p_correct`` (a float in [0, 1]); optionally a
``flops`` column that is constant per model. A wide response matrix (one row per question, one column
per model) is accepted too, with ``layout="wide"``.

Everything below is vectorised: models and questions are dictionary-encoded once by pyarrow, and all
later stages work on integer codes with ``numpy.bincount``.

>>> import pathlib, tempfile
>>> path = pathlib.Path(tempfile.mkdtemp()) / "dump.csv"
>>> _ = path.write_text("model,question,correct\\nm1,q1,1\\nm1,q2,0\\nm2,q1,1\\n")
>>> dump = load_dump(path)
>>> dump.model_names.tolist(), dump.question_ids.tolist(), dump.score.tolist()
(['m1', 'm2'], ['q1', 'q2'], [0.0, -1.0, 0.0])
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from slicesand.errors import InputDataError, UsageError
from slicesand.io.columns import numpy_of
from slicesand.io.id_text import id_text
from slicesand.io.tables import Source, display_name, preview, read_table
from slicesand.ingest.scoring import tc_brier

DUMP_HINT = "a dump needs columns model, question and correct and/or p_correct (see `slicesand slice --help`)"


@dataclass(frozen=True)
class DumpColumns:
    """Column names in the input; every one can be overridden from the command line."""

    model: str = "model"
    question: str = "question"
    correct: str = "correct"
    p_correct: str = "p_correct"
    task: str = "task"
    flops: str = "flops"


@dataclass(frozen=True)
class Dump:
    """A validated dump: ``n`` answers by ``M`` models to ``Q`` questions, as integer codes.

    ``question_ids`` and ``question_tasks`` describe the Q distinct questions; a question is identified
    by (task, question) when the dump holds several tasks. ``correct`` is NaN where unknown, and is
    ``None`` when the dump has no ``correct`` column at all; a column with no empty cell keeps its own
    type (e.g. int8 0/1), which saves a conversion of every row. ``flops_by_model`` is NaN for a model the
    dump gives no scale for, and ``None`` when the dump has no scale column.
    """

    source: Source
    model_names: np.ndarray
    question_ids: np.ndarray
    question_tasks: np.ndarray
    model_code: np.ndarray
    question_code: np.ndarray
    score: np.ndarray
    correct: np.ndarray | None
    flops_by_model: np.ndarray | None
    has_p_correct: bool
    notes: list[str] = field(default_factory=list)
    # Every (model, question) once, rows ordered by model then question: scores form an M x Q matrix.
    dense: bool = False

    @property
    def n_models(self) -> int:
        return len(self.model_names)

    @property
    def n_questions(self) -> int:
        return len(self.question_ids)

    @property
    def tasks(self) -> list[str]:
        return sorted(set(self.question_tasks.tolist()))


def load_dump(
    path: str | Path,
    *,
    columns: DumpColumns = DumpColumns(),
    layout: str = "long",
    stdin: BinaryIO | None = None,
) -> Dump:
    """Read and validate a dump (CSV, Parquet, or ``-`` for CSV on stdin)."""
    if layout not in ("long", "wide"):
        raise UsageError(None, "`layout` must be 'long' or 'wide'", found=layout)
    name = display_name(path)
    text_types = {columns.model: pa.string(), columns.question: pa.string(), columns.task: pa.string(),
                  columns.p_correct: pa.float64(), columns.flops: pa.float64()}
    if layout == "wide":
        table, source = read_table(path, required=[columns.question], stdin=stdin, what="dump",
                                   column_types={columns.question: pa.string(), columns.task: pa.string()},
                                   hint="a wide dump has a question column and one 0/1 column per model")
        table = _wide_to_long(table, name, columns)
    else:
        table, source = read_table(path, required=[columns.model, columns.question], stdin=stdin,
                                   what="dump", column_types=text_types, hint=DUMP_HINT,
                                   columns=list(asdict(columns).values()))
    return dump_from_table(table, source, columns=columns, name=name)


def dump_from_table(table: pa.Table, source: Source, *, columns: DumpColumns = DumpColumns(),
                    name: str | None = None) -> Dump:
    """Validate and encode a long table already in memory (e.g. one an importer made).

    ``name`` is how messages name the input (default: the source's name).
    """
    name = name or source.name
    if table.num_rows == 0:
        raise InputDataError(name, "the dump has a header but no rows", hint=DUMP_HINT)
    has_correct = columns.correct in table.column_names
    has_p = columns.p_correct in table.column_names
    if not (has_correct or has_p):
        raise InputDataError(
            name, f"needs a '{columns.correct}' or a '{columns.p_correct}' column",
            found=preview(table.column_names), hint=DUMP_HINT,
        )

    model_code, model_names, models_complete = _encode(table, columns.model, name, allow_blank=False)
    _reject_line_breaks(model_code, model_names, columns.model, name)
    raw_question_code, raw_question_ids, questions_complete = _encode(table, columns.question, name,
                                                                      allow_blank=False)
    if columns.task in table.column_names:
        task_code, task_names, _ = _encode(table, columns.task, name)
        task_code, task_names = _drop_unused(task_code, task_names)
    else:
        task_code, task_names = np.zeros(table.num_rows, dtype=np.int64), np.array([""], dtype=object)
    question_code, question_ids, question_tasks = _question_keys(
        raw_question_code, raw_question_ids, task_code, task_names
    )

    correct, score, score_notes = _scores(table, columns, name, has_correct, has_p)
    dense = is_dense_layout(model_code, question_code, len(model_names), len(question_ids))
    if not dense and not (models_complete and questions_complete):
        model_code, model_names = _drop_unused(model_code, model_names)
        question_code, question_ids, question_tasks = _drop_unused(question_code, question_ids, question_tasks)
        dense = is_dense_layout(model_code, question_code, len(model_names), len(question_ids))
    if not dense:  # a dense layout has each pair exactly once by construction
        _reject_duplicates(model_code, question_code, len(model_names), len(question_ids),
                           model_names, question_ids, name)
    flops_by_model = None
    if columns.flops in table.column_names:
        flops_by_model = _flops_per_model(table, columns.flops, model_code, model_names, name, dense)

    return Dump(
        source=source,
        model_names=model_names,
        question_ids=question_ids,
        question_tasks=question_tasks,
        model_code=model_code,
        question_code=question_code,
        score=score,
        correct=correct,
        flops_by_model=flops_by_model,
        has_p_correct=has_p,
        notes=score_notes,
        dense=dense,
    )


def partial_score_notes(without_p: int, without_correct: int) -> list[str]:
    """What a dump with both score columns says about rows that fill only one (both engines' words).

    >>> partial_score_notes(3, 0)
    ['answers without p_correct: 3, scored from their 0/1 correct instead (TC Brier 0 or -1)']
    """
    notes = []
    if without_p:
        notes.append(f"answers without p_correct: {without_p:,}, scored from their 0/1 correct instead "
                     "(TC Brier 0 or -1)")
    if without_correct:
        notes.append(f"answers without a correct value: {without_correct:,}; accuracy counts only the others")
    return notes


# What each number column must hold, as both engines say it.
CORRECT_EXPECTED, P_EXPECTED, FLOPS_EXPECTED = "0/1 or true/false", "a probability in [0, 1]", "a positive number of FLOPs"
DUPLICATE_HINT = "each (model, question) pair may appear once; deduplicate the dump first"
FLOPS_HINT = "give a model the same FLOPs on every row, or leave the column out and pass --models FILE"


def no_score_problem(score_columns: list[str]) -> str:
    """Both engines' problem for a row with no score, naming the score columns the dump has.

    >>> no_score_problem(["correct", "p_correct"]), no_score_problem(["p"])
    ('no score on this row: both correct and p_correct are empty', 'no score on this row: p is empty')
    """
    if len(score_columns) == 2:
        return f"no score on this row: both {score_columns[0]} and {score_columns[1]} are empty"
    return f"no score on this row: {score_columns[0]} is empty"


def _first_place(first_row: int, first_file: str | None) -> str:
    return f"row {first_row}" + (f" of {first_file}" if first_file else "")


def duplicate_row(name: str, row: int, model: str, question: str, first_row: int,
                  first_file: str | None = None) -> InputDataError:
    """Both engines' error for a (model, question) pair met again at ``row`` (1-based), first met at
    ``first_row`` (of ``first_file`` when that is another file of a folder).

    >>> print(duplicate_row("d.parquet", 41, "m2", "q1", 18))
    d.parquet: row 41: duplicate row for model 'm2' and question 'q1', first on row 18 (hint: each (model, question) pair may appear once; deduplicate the dump first)
    """
    first = _first_place(first_row, first_file)
    return InputDataError(name, f"duplicate row for model '{model}' and question '{question}', first on {first}",
                          row=row, hint=DUPLICATE_HINT)


def flops_conflict(name: str, column: str, row: int, model: str, flops: float, first_row: int,
                   first_flops: float, first_file: str | None = None) -> InputDataError:
    """Both engines' error for a model whose FLOPs at ``row`` differ from its first row with FLOPs.

    >>> print(flops_conflict("d.parquet", "flops", 11, "m1", 5e25, 9, 2e19))
    d.parquet: column 'flops', row 11: FLOPs must be constant per model, but model 'm1' has 2e+19 on row 9; found 5e+25 (hint: give a model the same FLOPs on every row, or leave the column out and pass --models FILE)
    """
    first = _first_place(first_row, first_file)
    return InputDataError(name, f"FLOPs must be constant per model, but model '{model}' has {first_flops!r} on {first}",
                          column=column, row=row, found=flops, hint=FLOPS_HINT)


def _scores(table: pa.Table, columns: DumpColumns, name: str, has_correct: bool, has_p: bool
            ) -> tuple[np.ndarray | None, np.ndarray, list[str]]:
    """(correct or None, TC Brier per row, notes): ``p_correct`` where given, else the row's 0/1
    correctness; the notes count the rows that fill only one of the two columns."""
    correct = _read_correct(table, columns.correct, name) if has_correct else None
    without_p = 0
    without_correct = (int(np.isnan(correct).sum()) if has_p and correct is not None and correct.dtype.kind == "f"
                       else 0)
    # Fast path: every row has a valid probability, so score the column directly.
    score = _score_complete_probabilities(table.column(columns.p_correct)) if has_p else None
    if score is not None:
        return correct, score, partial_score_notes(0, without_correct)
    p_correct = _read_p_correct(table, columns.p_correct, name) if has_p else None
    if p_correct is None:
        p_effective = correct
    elif correct is None:
        p_effective = p_correct
    else:
        # Rows without a probability (e.g. a generative task) fall back to their 0/1 correctness.
        no_p = np.isnan(p_correct)
        p_effective = np.where(no_p, correct, p_correct) if no_p.any() else p_correct
        without_p = int((no_p & ~np.isnan(p_effective)).sum())
        without_correct -= int((no_p & np.isnan(p_effective)).sum())  # rows with neither are refused below
    if _may_hold_nan(table, columns):
        missing = np.flatnonzero(np.isnan(p_effective))
        if missing.size:
            column = columns.p_correct if has_p else columns.correct
            present = [c for c, there in ((columns.correct, correct is not None), (columns.p_correct, has_p)) if there]
            raise InputDataError(name, no_score_problem(present), column=column, row=int(missing[0]) + 1)
    notes = partial_score_notes(without_p, without_correct) if has_p and correct is not None else []
    return correct, tc_brier(p_effective), notes


def _encode(table: pa.Table, column: str, name: str, *, allow_blank: bool = True
            ) -> tuple[np.ndarray, np.ndarray, bool]:
    """Dictionary-encode a text column: (integer codes per row, the values, whether every value occurs).

    A dictionary stored in the file may hold values no row uses; :func:`_drop_unused` removes them,
    but only when needed (a dense layout proves every value is used). Without ``allow_blank`` an empty
    string is an empty value, as a null is (a CSV reads an empty model cell as "", not as null).
    """
    chunked = table.column(column)
    if chunked.null_count:
        first = int(pc.index(pc.is_null(chunked), True).as_py())
        raise InputDataError(name, "empty value", column=column, row=first + 1)
    was_dictionary = pa.types.is_dictionary(chunked.type)
    chunked = id_text(chunked, column, name)  # numbers, dates, ...: the text the out-of-core scans give them
    if not pa.types.is_dictionary(chunked.type):
        chunked = pc.dictionary_encode(chunked)
    else:
        chunked = pa.table({column: chunked}).unify_dictionaries().column(column)
    chunks = chunked.chunks
    if not chunks:
        return np.zeros(0, dtype=np.intp), np.array([], dtype=object), True
    dictionary = chunks[-1].dictionary.cast(pa.string())
    values = np.asarray(dictionary.to_pylist(), dtype=object)
    if len(dictionary) == 1:  # e.g. a task column with one task: no need to materialise codes
        if not allow_blank and values[0] == "":
            raise InputDataError(name, "empty value", column=column, row=1)
        return np.zeros(table.num_rows, dtype=np.intp), values, True
    codes = np.concatenate([numpy_of(chunk.indices) for chunk in chunks])
    if not allow_blank:
        _reject_blank(codes, values, column, name)
    return codes, values, not was_dictionary


#: A model name that spans lines is no name: in a CSV, a stray quote opened in an earlier field and
#: another closing it rows later take every line between into one value, and those rows are gone.
NAME_LINE_BREAK = "a model name holds a line break"
# Both a CSV's and a Parquet file's words: only in a CSV can a stray quote be the cause.
NAME_LINE_BREAK_HINT = ('rename the model; in a CSV, a stray double quote in an earlier field takes the rows up to '
                        'the next one into one value: close the quote, or write a quote inside a value as two ("")')


def _reject_line_breaks(codes: np.ndarray, values: np.ndarray, column: str, name: str) -> None:
    """Refuse a model name with a line break (both engines say it alike), at its first row."""
    text = values.astype(str)
    broken = np.flatnonzero((np.char.find(text, "\n") >= 0) | (np.char.find(text, "\r") >= 0))  # one a model
    if broken.size:
        rows = np.flatnonzero(np.isin(codes, broken))
        raise InputDataError(name, NAME_LINE_BREAK, column=column, row=int(rows[0]) + 1 if rows.size else None,
                             found=str(values[broken[0]]), hint=NAME_LINE_BREAK_HINT)


def _reject_blank(codes: np.ndarray, values: np.ndarray, column: str, name: str) -> None:
    """An empty model or question name is a missing value, not a name: name its first row."""
    blank = np.flatnonzero(values == "")
    if blank.size:
        rows = np.flatnonzero(np.isin(codes, blank))  # the dictionary is small; the scan is vectorised
        if rows.size:
            raise InputDataError(name, "empty value", column=column, row=int(rows[0]) + 1)


def _drop_unused(codes: np.ndarray, *values: np.ndarray) -> tuple[np.ndarray, ...]:
    """Codes renumbered and value arrays filtered to the values some row uses (no phantom models)."""
    used = np.zeros(len(values[0]), dtype=bool)
    used[codes] = True  # a scatter into a small array: no full-size temporary
    if used.all():
        return (codes, *values)
    remap = np.cumsum(used) - 1
    return (remap[codes], *(v[used] for v in values))


def _question_keys(
    raw_code: np.ndarray, raw_ids: np.ndarray, task_code: np.ndarray, task_names: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Identify a question by (task, question id) so equal ids in two tasks stay distinct."""
    if len(task_names) == 1:
        return raw_code, raw_ids, np.full(len(raw_ids), task_names[0], dtype=object)
    combined = task_code.astype(np.int64) * len(raw_ids) + raw_code
    unique, inverse = np.unique(combined, return_inverse=True)
    return inverse.astype(np.int64), raw_ids[unique % len(raw_ids)], task_names[unique // len(raw_ids)]


def _numeric(table: pa.Table, column: str, name: str, expected: str, *, native: bool = False) -> np.ndarray:
    """A numeric column as float64 with NaN for empty cells; with ``native``, a column without empty
    cells keeps its own type (int8 0/1, float32 probabilities): no full-size conversion pass."""
    chunked = table.column(column)
    kind = chunked.type
    if native and chunked.null_count == 0 and (pa.types.is_integer(kind) or pa.types.is_floating(kind)
                                              or pa.types.is_boolean(kind)):
        values = np.concatenate([numpy_of(c) for c in chunked.chunks] or [np.zeros(0)])
        return values.view(np.int8) if values.dtype == np.bool_ else values
    if pa.types.is_boolean(kind) or pa.types.is_integer(kind) or pa.types.is_floating(kind):
        return numpy_of(chunked.cast(pa.float64()))
    if pa.types.is_null(kind):
        return np.full(table.num_rows, np.nan)
    # A text column: name the first value that is not a number, and its row.
    values, bad = text_as_numbers(chunked)
    if bad is None:
        return values
    raise InputDataError(name, f"not a number; expected {expected}", column=column, row=bad + 1,
                         found=chunked[bad].as_py())


def text_as_numbers(chunked: pa.ChunkedArray) -> tuple[np.ndarray, int | None]:
    """A text column read as numbers the way ``pandas.to_numeric`` reads them (float64, NaN for a
    null), and the index of the first cell that is text but not a number (``None`` when there is none;
    an empty cell is such text).

    >>> values, bad = text_as_numbers(pa.chunked_array([["1e3", " 2", "x"]]))
    >>> values.tolist()[:2], bad
    ([1000.0, 2.0], 2)
    """
    import pandas as pd  # a column pyarrow could not read as numbers: rare, and then worth the import

    text = pd.Series(chunked.to_pylist(), dtype=object)
    values = pd.to_numeric(text, errors="coerce")
    bad = np.flatnonzero(values.isna().to_numpy() & text.notna().to_numpy())
    return values.to_numpy(dtype=float), (int(bad[0]) if bad.size else None)


def _score_complete_probabilities(chunked: pa.ChunkedArray) -> np.ndarray | None:
    """TC Brier straight from a probability column with no empty cell, chunk by chunk on two threads.

    The common big dump (float32 or float64 probabilities, all present and in range) skips building a
    float64 copy of the column: each chunk is scored into its slice of the output, in parallel (numpy
    releases the GIL). Returns ``None`` when the column needs the general, row-checking path.
    """
    if chunked.null_count or not pa.types.is_floating(chunked.type) or not _in_range(chunked, 0.0, 1.0):
        return None
    out = np.empty(len(chunked))
    bounds = np.cumsum([0] + [len(c) for c in chunked.chunks])

    def score_chunk(index: int) -> bool:
        target = out[bounds[index]:bounds[index + 1]]
        tc_brier(numpy_of(chunked.chunks[index]), out=target)
        return bool(np.isnan(target).any())

    with ThreadPoolExecutor(max_workers=2) as pool:
        if any(pool.map(score_chunk, range(chunked.num_chunks))):
            return None  # NaN probabilities: rows that fall back to `correct`
    return out


def _may_hold_nan(table: pa.Table, columns: DumpColumns) -> bool:
    """Whether a score column could be empty somewhere; cheap, so the usual clean dump skips a pass."""
    for column in (columns.correct, columns.p_correct):
        if column in table.column_names:
            chunked = table.column(column)
            if chunked.null_count or pa.types.is_floating(chunked.type):
                return True
    return False


def _in_range(chunked: pa.ChunkedArray, low: float, high: float) -> bool:
    """A fast C++ range check, so that only a bad column pays for locating its bad row."""
    if not (pa.types.is_integer(chunked.type) or pa.types.is_floating(chunked.type)
            or pa.types.is_boolean(chunked.type)):
        return False
    extremes = pc.min_max(chunked.cast(pa.float64()) if pa.types.is_boolean(chunked.type) else chunked)
    smallest, largest = extremes["min"].as_py(), extremes["max"].as_py()
    return smallest is None or (low <= smallest and largest <= high)


def _read_correct(table: pa.Table, column: str, name: str) -> np.ndarray:
    values = _numeric(table, column, name, CORRECT_EXPECTED, native=True)
    chunked = table.column(column)
    if (pa.types.is_integer(chunked.type) or pa.types.is_boolean(chunked.type)) and _in_range(chunked, 0, 1):
        return values
    bad = np.flatnonzero(~np.isnan(values) & (values != 0.0) & (values != 1.0))
    if bad.size:
        raise InputDataError(name, "correct must be 0/1 or true/false", column=column,
                             row=int(bad[0]) + 1, found=float(values[bad[0]]))
    return values


def _read_p_correct(table: pa.Table, column: str, name: str) -> np.ndarray:
    values = _numeric(table, column, name, P_EXPECTED, native=True)
    if _in_range(table.column(column), 0.0, 1.0):
        return values
    bad = np.flatnonzero((values < 0.0) | (values > 1.0))
    if bad.size:
        raise InputDataError(name, "p_correct must be a probability in [0, 1]", column=column,
                             row=int(bad[0]) + 1, found=float(values[bad[0]]),
                             hint="pass probabilities, not log-probabilities or percentages")
    return values


def is_dense_layout(model_code: np.ndarray, question_code: np.ndarray, n_models: int, n_questions: int) -> bool:
    """Whether row ``i`` is model ``i // Q`` and question ``i % Q``: a complete dump in the order big
    dumps are usually written. Two sequential comparisons; then slicing can use matrix products.

    >>> is_dense_layout(np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1]), 2, 2)
    True
    """
    if len(model_code) != n_models * n_questions or n_models == 0:
        return False
    models = model_code.reshape(n_models, n_questions)
    questions = question_code.reshape(n_models, n_questions)
    return bool((models == np.arange(n_models)[:, None]).all() and (questions == np.arange(n_questions)).all())


def _reject_duplicates(
    model_code: np.ndarray, question_code: np.ndarray, n_models: int, n_questions: int,
    model_names: np.ndarray, question_ids: np.ndarray, name: str,
) -> None:
    key = model_code.astype(np.int64) * n_questions + question_code
    if np.all(key[1:] > key[:-1]):
        return  # a dump sorted by model then question: one sequential pass proves uniqueness
    if n_models * n_questions <= 200_000_000:
        # A dense bitmap is O(rows) and much faster than sorting tens of millions of keys.
        seen = np.zeros(n_models * n_questions, dtype=bool)
        seen[key] = True
        if np.count_nonzero(seen) == len(key):
            return
    # A duplicate (or, past the bitmap's size, maybe one): sort the keys, stably, to name the first row
    # that repeats an earlier one, and that earlier row.
    order = np.argsort(key, kind="stable")
    ordered = key[order]
    repeats = np.flatnonzero(ordered[1:] == ordered[:-1]) + 1
    if not repeats.size:
        return
    row = int(order[repeats].min())
    first = int(order[np.searchsorted(ordered, key[row])])
    raise duplicate_row(name, row + 1, str(model_names[model_code[row]]), str(question_ids[question_code[row]]),
                        first + 1)


def flops_of_models(table: pa.Table, column: str, name: str) -> dict[str, float]:
    """Each model's FLOPs from a table's ``column``, checked as a dump's are (positive, finite, one value
    a model: an InputDataError names the row otherwise); a model whose rows all leave it empty is left out.

    >>> flops_of_models(pa.table({"model": ["a", "a", "b"], "flops": [1e20, 1e20, None]}), "flops", "t.csv")
    {'a': 1e+20}
    """
    encoded = pc.dictionary_encode(table.column("model")).combine_chunks()
    names = encoded.dictionary.to_numpy(zero_copy_only=False)
    by_model = _flops_per_model(table, column, encoded.indices.to_numpy(zero_copy_only=False), names, name)
    known = np.isfinite(by_model)
    return dict(zip(names[known].tolist(), by_model[known].tolist()))


def _flops_per_model(
    table: pa.Table, column: str, model_code: np.ndarray, model_names: np.ndarray, name: str,
    dense: bool = False,
) -> np.ndarray:
    by_runs = _flops_by_runs(table.column(column), model_code, len(model_names), dense)
    if by_runs is not None:
        return by_runs
    # Something is off (or the column is unusual): the row-by-row path finds and names the bad row.
    flops = _numeric(table, column, name, FLOPS_EXPECTED)
    bad = np.flatnonzero(~np.isnan(flops) & ~(flops > 0) | np.isinf(flops))
    if bad.size:
        raise InputDataError(name, "FLOPs must be a positive, finite number", column=column,
                             row=int(bad[0]) + 1, found=float(flops[bad[0]]))
    by_model = np.full(len(model_names), np.nan)
    known = ~np.isnan(flops)
    if known.all():
        # Dumps usually list a model's rows together: compare within runs of one model (sequential
        # passes), then across runs, instead of scattering and gathering every row.
        starts = np.flatnonzero(np.r_[True, model_code[1:] != model_code[:-1]])
        run_min, run_max = np.minimum.reduceat(flops, starts), np.maximum.reduceat(flops, starts)
        by_model[model_code[starts]] = run_min
        mixed = (run_min != run_max) | (run_min != by_model[model_code[starts]])
        disagree = (np.flatnonzero(flops != by_model[model_code]) if mixed.any() else np.zeros(0, dtype=int))
    else:
        by_model[model_code[known]] = flops[known]
        disagree = np.flatnonzero(known & (flops != by_model[model_code]))
    if disagree.size:  # name the first row that differs from its model's first row with FLOPs
        rows = np.flatnonzero(known)
        first = np.full(len(model_names), len(flops))
        np.minimum.at(first, model_code[rows], rows)
        row = int(rows[flops[rows] != flops[first[model_code[rows]]]][0])
        first_row = int(first[model_code[row]])
        raise flops_conflict(name, column, row + 1, str(model_names[model_code[row]]), float(flops[row]),
                             first_row + 1, float(flops[first_row]))
    return by_model


def _flops_by_runs(chunked: pa.ChunkedArray, model_code: np.ndarray, n_models: int, dense: bool) -> np.ndarray | None:
    """FLOPs per model from the column's own chunks, without building a float64 copy of every row.

    Dumps list a model's rows together, so the column splits into runs of one model; the minimum and
    maximum of every run (``reduceat`` on each chunk's zero-copy view) prove it constant per model.
    ``None`` when a value is missing, not positive or not constant: the caller then finds the row.
    """
    if chunked.null_count or not (pa.types.is_floating(chunked.type) or pa.types.is_integer(chunked.type)):
        return None
    lengths = np.array([len(c) for c in chunked.chunks], dtype=np.int64)
    bounds = np.concatenate([[0], np.cumsum(lengths)])
    if dense:
        runs = np.arange(n_models, dtype=np.int64) * (len(model_code) // n_models)
    else:
        runs = np.flatnonzero(np.r_[True, model_code[1:] != model_code[:-1]])
    starts = np.union1d(runs, bounds[:-1][lengths > 0])  # a run split by a chunk edge becomes two
    lows, highs = [], []
    for index, chunk in enumerate(chunked.chunks):  # a few dozen chunks, each a whole-array reduceat
        if lengths[index] == 0:
            continue
        values = numpy_of(chunk)
        local = starts[(starts >= bounds[index]) & (starts < bounds[index + 1])] - bounds[index]
        lows.append(np.minimum.reduceat(values, local).astype(np.float64))
        highs.append(np.maximum.reduceat(values, local).astype(np.float64))
    low, high = np.concatenate(lows), np.concatenate(highs)
    if not (np.isfinite(low).all() and np.isfinite(high).all() and (low > 0).all()):
        return None
    owner = model_code[starts]
    by_model = np.full(n_models, np.nan)
    by_model[owner] = low
    if ((low != high) | (low != by_model[owner])).any():
        return None
    return by_model


def _wide_to_long(table: pa.Table, name: str, columns: DumpColumns) -> pa.Table:
    """Melt a response matrix (one row per question, one column per model) into the long layout."""
    id_columns = [c for c in (columns.question, columns.task) if c in table.column_names]
    model_columns = [c for c in table.column_names if c not in id_columns]
    if not model_columns:
        raise InputDataError(name, "a wide dump needs one column per model", found=preview(table.column_names))
    values = np.column_stack([_numeric(table, c, name, "0/1 or a probability") for c in model_columns])
    answered = ~np.isnan(values)
    q_index, m_index = np.nonzero(answered)
    long = {
        columns.model: pa.array(np.asarray(model_columns, dtype=object)[m_index], pa.string()),
        columns.question: table.column(columns.question).take(pa.array(q_index)),
    }
    if columns.task in table.column_names:
        long[columns.task] = table.column(columns.task).take(pa.array(q_index))
    flat = values[q_index, m_index]
    if np.isin(flat, (0.0, 1.0)).all():
        long[columns.correct] = pa.array(flat)
    else:
        long[columns.p_correct] = pa.array(flat)
    return pa.table(long)


def model_question_sums(dump: Dump, models: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """The scores of the ``models`` (a boolean mask over the dump's models) as a models x questions matrix:
    (sums, answer counts). A dense dump is that matrix already (counts ``None``: one answer per cell);
    any other is gathered with one ``bincount`` (zero where a model did not answer).

    >>> dump = Dump(Source("toy", ""), np.array(["a", "b"], dtype=object), np.array(["q1", "q2"], dtype=object),
    ...             np.array(["", ""], dtype=object), np.array([1, 0, 0]), np.array([0, 0, 1]),
    ...             np.array([-0.5, -0.1, -0.9]), None, None, True)
    >>> sums, counts = model_question_sums(dump, np.array([True, True]))
    >>> sums.tolist(), counts.tolist()
    ([[-0.1, -0.9], [-0.5, 0.0]], [[1.0, 1.0], [1.0, 0.0]])
    """
    if dump.dense:
        return dump.score.reshape(dump.n_models, dump.n_questions)[models], None
    row = np.full(dump.n_models, -1)
    row[models] = np.arange(int(models.sum()))
    keep = models[dump.model_code]
    cells = int(models.sum()) * dump.n_questions
    key = row[dump.model_code[keep]] * dump.n_questions + dump.question_code[keep]
    sums = np.bincount(key, weights=dump.score[keep], minlength=cells).reshape(-1, dump.n_questions)
    counts = np.bincount(key, minlength=cells).reshape(-1, dump.n_questions).astype(np.float64)
    return sums, counts


def select_task(dump: Dump, task: str) -> Dump:
    """The part of a dump that belongs to one task, with questions re-coded densely."""
    if task not in dump.tasks:
        raise no_such_task(dump.source.name, task, list(dump.tasks))
    return select_questions(dump, dump.question_tasks == task)


def no_such_task(source: str, task: str, tasks: list[str]) -> UsageError:
    """The error for a ``task`` the dump does not hold (both engines say it alike).

    >>> str(no_such_task("d.csv", "a", [""]))
    "d.csv: the dump names no task (no task column, or an empty one), so it holds no task 'a' (hint: leave out `task`, or name the column with `task_column`)"
    >>> str(no_such_task("d.csv", "a", ["b", "c"]))
    "d.csv: no task 'a' in the dump; found 'b, c'"
    """
    if tasks == [""]:
        return UsageError(source, f"the dump names no task (no task column, or an empty one), so it holds no "
                          f"task '{task}'", hint="leave out `task`, or name the column with `task_column`")
    return UsageError(source, f"no task '{task}' in the dump", found=", ".join(tasks))


def select_questions(dump: Dump, keep: np.ndarray, *, dense: bool = False) -> Dump:
    """The rows of the questions ``keep`` (a boolean mask over the dump's questions), re-coded densely.
    ``dense`` keeps the dense layout flag (a subset of a dense dump's questions is dense too)."""
    rows = keep[dump.question_code]
    new_code = np.cumsum(keep) - 1
    return Dump(
        source=dump.source,
        model_names=dump.model_names,
        question_ids=dump.question_ids[keep],
        question_tasks=dump.question_tasks[keep],
        model_code=dump.model_code[rows],
        question_code=new_code[dump.question_code[rows]],
        score=dump.score[rows],
        correct=None if dump.correct is None else dump.correct[rows],
        flops_by_model=dump.flops_by_model,
        has_p_correct=dump.has_p_correct,
        notes=list(dump.notes),
        dense=dense and dump.dense,
    )
