"""Read a long table already in slicesand's format, from CSV (plain or compressed) or Parquet.

Columns ``model`` and ``question`` (text), ``correct`` (0/1) and/or ``p_correct`` (in [0, 1]), an
optional ``task`` and an optional ``flops`` (one value a model, kept as the models' scale); empty cells
in ``correct``/``p_correct`` mean unknown. Without a ``task`` column the
task is ``task_name`` when given, else empty (one unnamed task, as ``slice`` reads it). Other columns
are dropped with a note. The file is read by the same reader as ``slice``'s
(:func:`slicesand.io.tables.read_table`), so both commands accept and refuse the same files.

>>> import pathlib, tempfile
>>> path = pathlib.Path(tempfile.mkdtemp()) / "dump.csv"
>>> _ = path.write_text("model,question,correct\\nm1,q1,1\\n")
>>> read_long(path, ImportOptions()).dump.to_pylist()
[{'model': 'm1', 'question': 'q1', 'task': '', 'correct': 1, 'p_correct': None}]
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from slicesand.errors import InputDataError
from slicesand.ingest.importers._common import DUMP_SCHEMA, ImportOptions, Notes, ReaderOutput
from slicesand.io.tables import read_table

ID_COLUMNS = ("model", "question", "task")
VALUE_COLUMNS = ("correct", "p_correct")
_HINT = "a long table has columns model, question, correct and/or p_correct, and optionally task"


def read_long(path: Path, options: ImportOptions) -> ReaderOutput:
    """Read and check a long CSV/Parquet table."""
    notes = Notes()
    types = {"model": pa.string(), "question": pa.string(), "task": pa.string(),
             "correct": pa.float64(), "p_correct": pa.float64()}
    table, _ = read_table(path, required=["model", "question"], column_types=types, what="long table", hint=_HINT)
    if not any(name in table.column_names for name in VALUE_COLUMNS):
        raise InputDataError(str(path), "a long table needs a correct or a p_correct column", hint=_HINT)
    extra = [name for name in table.column_names if name not in (*DUMP_SCHEMA.names, "flops")]
    if extra:
        notes.add(f"{path.name}: ignored columns {', '.join(map(str, extra[:5]))}"
                  + (f" and {len(extra) - 5} more" if len(extra) > 5 else ""))
    # Rows are data rows, as in every message: 1 is the first row after a CSV's header, or Parquet's first.
    first_row = 1
    columns = {name: _ids(table, name, path, first_row) for name in ("model", "question")}
    columns["task"] = (_ids(table, "task", path, first_row) if "task" in table.column_names
                       else pa.array([options.task_name or ""] * table.num_rows, pa.string()))
    columns["correct"] = _checked(table, "correct", path, first_row, "correct must be 0 or 1 (or empty when unknown)",
                                  lambda v: pc.and_(pc.not_equal(v, 0), pc.not_equal(v, 1)))
    columns["p_correct"] = _checked(table, "p_correct", path, first_row, "p_correct must be in [0, 1]",
                                    lambda v: pc.or_(pc.less(v, 0), pc.greater(v, 1)))
    dump = pa.Table.from_pydict({name: columns[name] for name in DUMP_SCHEMA.names}, schema=DUMP_SCHEMA)
    _reject_repeated_rows(dump, path, first_row)
    # The table's own FLOPs are kept, checked as `slice` checks them: the same file gives the same
    # scales whether it is sliced as it is or imported first.
    model_flops = {}
    if "flops" in table.column_names:
        from slicesand.ingest.dump import flops_of_models

        model_flops = flops_of_models(table, "flops", str(path))
    return ReaderOutput(dump=dump, model_flops=model_flops, notes=notes.render())


def _first(mask: pa.ChunkedArray | pa.Array) -> int | None:
    """Index of the first true value of a boolean column (nulls count as false), or None."""
    mask = pc.fill_null(mask, False)
    return int(pc.index(mask, True).as_py()) if pc.any(mask).as_py() else None


def _ids(table: pa.Table, name: str, path: Path, first_row: int) -> pa.ChunkedArray:
    values = table.column(name)
    if not pa.types.is_string(values.type):
        values = values.cast(pa.string())
    empty = _first(pc.or_(pc.is_null(values), pc.equal(pc.utf8_length(values), 0)))
    if empty is not None:
        raise InputDataError(str(path), "ids must not be empty", column=name, row=empty + first_row)
    return values


def _checked(table: pa.Table, name: str, path: Path, first_row: int, problem: str, is_bad) -> pa.ChunkedArray:
    """A 0/1 or probability column as the dump's type, refusing the first value out of range."""
    kind = DUMP_SCHEMA.field(name).type
    if name not in table.column_names:
        return pa.chunked_array([pa.nulls(table.num_rows, kind)])
    values = table.column(name).cast(pa.float64())
    bad = _first(pc.or_(is_bad(values), pc.is_nan(values)))
    if bad is not None:
        raise InputDataError(str(path), problem, column=name, row=bad + first_row, found=values[bad].as_py())
    return values.cast(kind)


def _reject_repeated_rows(dump: pa.Table, path: Path, first_row: int) -> None:
    keys = pc.binary_join_element_wise(dump.column("model"), dump.column("task"), dump.column("question"), "\x1f")
    if pc.count_distinct(keys).as_py() == dump.num_rows:
        return
    encoded = pc.dictionary_encode(keys).combine_chunks().indices.to_numpy(zero_copy_only=False)
    seen_before = np.ones(len(encoded), dtype=bool)
    seen_before[np.unique(encoded, return_index=True)[1]] = False
    raise InputDataError(str(path), "the same (model, task, question) appears twice",
                         row=int(np.flatnonzero(seen_before)[0]) + first_row,
                         hint="keep one row per model and question")
