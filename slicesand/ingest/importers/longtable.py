"""Read a long table already in slicesand's format, from CSV or Parquet.

Columns ``model, question, task`` (text) and ``correct`` (0/1) and/or ``p_correct`` (in [0, 1]);
empty cells in ``correct``/``p_correct`` mean unknown. A missing ``task`` column may be supplied with
``task_name``. Other columns are dropped with a note.

>>> from pathlib import Path
>>> read_long(Path("tests/fixtures/importers/long/dump.csv"), ImportOptions())  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from slicesand.errors import InputDataError
from slicesand.ingest.importers._common import DUMP_SCHEMA, ImportOptions, Notes, ReaderOutput, make_dump

ID_COLUMNS = ("model", "question", "task")
VALUE_COLUMNS = ("correct", "p_correct")


def is_parquet(path: Path) -> bool:
    return path.suffix.lower() in (".parquet", ".pq")


def read_header(path: Path) -> list[str]:
    """Column names of a CSV or Parquet file, without reading its rows."""
    if is_parquet(path):
        return list(pq.read_schema(path).names)
    with path.open("r", encoding="utf-8", errors="replace") as handle:
        first_line = handle.readline()
    return [name.strip().strip('"') for name in first_line.rstrip("\r\n").split(",")]


def looks_like_long(path: Path) -> bool:
    """A header with ``model`` and ``question`` and one of ``correct``/``p_correct``."""
    columns = set(read_header(path))
    return {"model", "question"} <= columns and bool(columns & set(VALUE_COLUMNS))


def read_long(path: Path, options: ImportOptions) -> ReaderOutput:
    """Read and check a long CSV/Parquet table."""
    notes = Notes()
    try:
        if is_parquet(path):
            frame = pq.read_table(path).to_pandas()
        else:
            frame = pd.read_csv(path, dtype={name: str for name in ID_COLUMNS}, keep_default_na=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError) as error:
        raise InputDataError(str(path), f"cannot read the table ({error})") from None
    if "task" not in frame.columns and options.task_name:
        frame["task"] = options.task_name
    missing = [name for name in ID_COLUMNS if name not in frame.columns]
    if missing:
        raise InputDataError(
            str(path),
            f"a long table needs the columns {', '.join(ID_COLUMNS)}",
            column=missing[0],
            found=list(frame.columns),
            hint="give the task with --task-name if the file has a single task" if missing == ["task"] else None,
        )
    if not any(name in frame.columns for name in VALUE_COLUMNS):
        raise InputDataError(
            str(path), "a long table needs a correct or a p_correct column", found=list(frame.columns)
        )
    extra = [name for name in frame.columns if name not in DUMP_SCHEMA.names]
    if extra:
        notes.add(f"{path.name}: ignored columns {', '.join(map(str, extra))}")

    # Rows are reported as the CSV's line numbers (the header is line 1), or 1-based Parquet rows.
    first_row = 1 if is_parquet(path) else 2

    def _line(mask: np.ndarray) -> int:
        return int(np.flatnonzero(mask)[0]) + first_row

    for name in ID_COLUMNS:
        empty = frame[name].isna().to_numpy()
        if empty.any():
            raise InputDataError(str(path), "ids must not be empty", column=name, row=_line(empty))
    correct = _numeric(frame, "correct", path, first_row)
    p_correct = _numeric(frame, "p_correct", path, first_row)
    bad_correct = ~np.isnan(correct) & (correct != 0) & (correct != 1)
    if bad_correct.any():
        raise InputDataError(
            str(path), "correct must be 0 or 1 (or empty when unknown)", column="correct",
            row=_line(bad_correct), found=float(correct[bad_correct][0]),
        )
    bad_p = ~np.isnan(p_correct) & ((p_correct < 0) | (p_correct > 1))
    if bad_p.any():
        raise InputDataError(
            str(path), "p_correct must be in [0, 1]", column="p_correct",
            row=_line(bad_p), found=float(p_correct[bad_p][0]),
        )
    duplicated = frame.duplicated(list(ID_COLUMNS)).to_numpy()
    if duplicated.any():
        raise InputDataError(
            str(path), "the same (model, task, question) appears twice", row=_line(duplicated),
            hint="keep one row per model and question",
        )
    dump = make_dump(
        frame["model"].astype(str).to_numpy(object),
        frame["question"].astype(str).to_numpy(object),
        frame["task"].astype(str).to_numpy(object),
        correct,
        p_correct,
    )
    return ReaderOutput(dump=dump, notes=notes.render())


def _numeric(frame: pd.DataFrame, name: str, path: Path, first_row: int) -> np.ndarray:
    if name not in frame.columns:
        return np.full(len(frame), np.nan)
    values = pd.to_numeric(frame[name], errors="coerce")
    not_numbers = values.isna().to_numpy() & frame[name].notna().to_numpy()
    if not_numbers.any():
        raise InputDataError(
            str(path), "expected a number", column=name, row=int(np.flatnonzero(not_numbers)[0]) + first_row,
            found=frame[name].to_numpy()[not_numbers][0],
        )
    return values.to_numpy(dtype=np.float64, na_value=np.nan)

