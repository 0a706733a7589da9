"""Read response matrices: a wide 0/1 CSV, or py-irt's JSON lines, into the long table.

Wide CSV: the first column holds ids, the header row the other ids, each cell 0 or 1 (an empty cell,
``NA`` or ``nan`` means not evaluated, kept as a null ``correct``). Models may be the rows or the
columns; ``matrix_orientation="auto"`` decides from the first header cell (``model``/``subject`` vs
``question``/``item``), then from which side holds known model names, then from the shape (far
fewer models than questions), and otherwise asks for the option.

py-irt: one JSON object per line, ``{"subject_id": "<model>", "responses": {"<item>": 0 or 1}}``.

Neither carries probabilities, so ``p_correct`` is null; the task is ``task_name`` or the file's name.

>>> from pathlib import Path
>>> read_matrix_csv(Path("tests/fixtures/importers/matrix/models_as_rows.csv"), ImportOptions())  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import orjson
import pandas as pd

from slicesand.errors import InputDataError
from slicesand.ingest.importers._common import ImportOptions, Notes, ReaderOutput, make_dump, read_bytes
from slicesand.ingest.known_models import lookup_scales

MISSING_CELLS = ("", "NA", "N/A", "NaN", "nan", "null", "None")
MODEL_HEADERS = ("model", "models", "model_id", "model_name", "subject", "subject_id", "llm")
QUESTION_HEADERS = ("question", "questions", "question_id", "item", "item_id", "items", "doc_id", "instance_id")
_SHAPE_RATIO = 2  # one side must be at least this many times longer to guess models from the shape


def task_label(path: Path, options: ImportOptions) -> str:
    """``task_name`` if given, else the file name without extension."""
    return options.task_name or path.stem


def read_matrix_csv(path: Path, options: ImportOptions) -> ReaderOutput:
    """Read a wide 0/1 CSV (ids in the first column) into a long table."""
    notes = Notes()
    try:
        grid = pd.read_csv(path, header=None, dtype=str, keep_default_na=False, na_filter=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError) as error:
        raise InputDataError(str(path), f"cannot read as CSV ({error})") from None
    if grid.shape[0] < 2 or grid.shape[1] < 2:
        raise InputDataError(
            str(path), "a response matrix needs a header row, an id column, and at least one 0/1 cell", found=grid.shape
        )
    corner = grid.iat[0, 0].strip()
    column_ids = grid.iloc[0, 1:].str.strip().to_numpy(dtype=object)
    row_ids = grid.iloc[1:, 0].str.strip().to_numpy(dtype=object)
    _require_unique_ids(path, row_ids, "first column")
    _require_unique_ids(path, column_ids, "header row")
    cells = grid.iloc[1:, 1:].to_numpy(dtype=object)
    values = _zero_one_cells(path, cells, row_ids, column_ids)

    models_on = _orientation(path, corner, row_ids, column_ids, options.matrix_orientation, notes)
    if models_on == "columns":
        values, row_ids, column_ids = values.T, column_ids, row_ids
    n_models, n_questions = values.shape
    n_missing = int(np.isnan(values).sum())
    if n_missing:
        notes.add(f"{path.name}: {n_missing} empty cells read as unknown correctness")
    dump = make_dump(
        np.repeat(row_ids, n_questions),
        np.tile(column_ids, n_models),
        task_label(path, options),
        values.ravel(),
        np.full(n_models * n_questions, np.nan),
    )
    return ReaderOutput(dump=dump, notes=notes.render())


def _require_unique_ids(path: Path, ids: np.ndarray, where: str) -> None:
    blank = ids == ""
    if blank.any():
        raise InputDataError(str(path), f"the {where} has an empty id", hint="every model and question needs an id")
    duplicated = pd.Index(ids).duplicated()
    if duplicated.any():
        raise InputDataError(str(path), f"the {where} repeats an id", found=str(ids[duplicated][0]))


def _zero_one_cells(path: Path, cells: np.ndarray, row_ids: np.ndarray, column_ids: np.ndarray) -> np.ndarray:
    """Cells as float: 0.0, 1.0, or NaN for a missing cell; anything else is an error."""
    flat = pd.Series(cells.ravel(), dtype=object).str.strip()
    missing = flat.isin(MISSING_CELLS).to_numpy()
    numbers = pd.to_numeric(flat.where(~missing, None), errors="coerce").to_numpy(dtype=np.float64)
    bad = ~missing & ~np.isin(numbers, (0.0, 1.0))
    if bad.any():
        row, column = divmod(int(np.flatnonzero(bad)[0]), cells.shape[1])
        raise InputDataError(
            str(path),
            f"cell at question/model '{row_ids[row]}' x '{column_ids[column]}' must be 0 or 1 (or empty when unknown)",
            row=row + 2,  # the file's line number: the header is line 1
            found=cells[row, column],
        )
    return np.where(missing, np.nan, numbers).reshape(cells.shape)


def _orientation(
    path: Path, corner: str, row_ids: np.ndarray, column_ids: np.ndarray, option: str, notes: Notes
) -> str:
    """Where the models are: ``"rows"`` or ``"columns"``."""
    if option != "auto":
        return option
    header = corner.casefold()
    if header in MODEL_HEADERS:
        return "rows"
    if header in QUESTION_HEADERS:
        return "columns"
    known_rows = int(lookup_scales(list(row_ids))["scale_source"].notna().sum())
    known_columns = int(lookup_scales(list(column_ids))["scale_source"].notna().sum())
    if known_rows and not known_columns:
        return "rows"
    if known_columns and not known_rows:
        return "columns"
    n_rows, n_columns = len(row_ids), len(column_ids)
    if n_rows * _SHAPE_RATIO <= n_columns:
        notes.add(
            f"{path.name}: took the {n_rows} rows as models and the {n_columns} columns as questions (from the shape); "
            "use --orientation to choose"
        )
        return "rows"
    if n_columns * _SHAPE_RATIO <= n_rows:
        notes.add(
            f"{path.name}: took the {n_columns} columns as models and the {n_rows} rows as questions (from the shape); "
            "use --orientation to choose"
        )
        return "columns"
    raise InputDataError(
        str(path),
        f"cannot tell whether the models are the rows or the columns ({n_rows} x {n_columns}, first header cell "
        f"{corner!r})",
        hint="pass --orientation rows or --orientation columns, or name the first header cell 'model' or 'question'",
    )


def read_pyirt(path: Path, options: ImportOptions) -> ReaderOutput:
    """Read py-irt JSON lines (``{"subject_id": ..., "responses": {item: 0/1}}``) into a long table."""
    notes = Notes()
    subjects: list[str] = []
    items: list[list[str]] = []
    responses: list[list] = []
    for line_number, line in enumerate(read_bytes(path).split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError as error:
            raise InputDataError(
                str(path), f"line {line_number} is not valid JSON ({error.msg}); the file looks truncated or damaged"
            ) from None
        if not isinstance(record, dict) or "subject_id" not in record or not isinstance(record.get("responses"), dict):
            raise InputDataError(
                str(path),
                f"line {line_number}: expected {{\"subject_id\": ..., \"responses\": {{item: 0 or 1}}}}",
                found=line[:60].decode("utf-8", "replace"),
            )
        subjects.append(str(record["subject_id"]))
        items.append([str(item) for item in record["responses"]])
        responses.append(list(record["responses"].values()))
    if not subjects:
        raise InputDataError(str(path), "no py-irt records in the file")
    _require_unique_ids(path, np.array(subjects, dtype=object), "subject_id list")
    counts = np.fromiter((len(r) for r in responses), dtype=np.int64, count=len(responses))
    flat = [value for per_subject in responses for value in per_subject]
    try:
        values = np.array([np.nan if value is None else value for value in flat], dtype=np.float64)
    except (TypeError, ValueError):
        values = np.full(len(flat), 2.0)  # forces the 0/1 check below to name the first bad value
    bad = ~np.isnan(values) & (values != 0) & (values != 1)
    if bad.any():
        index = int(np.flatnonzero(bad)[0])
        subject = int(np.searchsorted(np.cumsum(counts), index, side="right"))
        raise InputDataError(
            str(path),
            f"subject {subjects[subject]}: responses must be 0 or 1",
            found=flat[index],
        )
    dump = make_dump(
        np.repeat(np.array(subjects, dtype=object), counts),
        np.array([item for per_subject in items for item in per_subject], dtype=object),
        task_label(path, options),
        values,
        np.full(len(values), np.nan),
    )
    if len(set(counts.tolist())) > 1:
        notes.add(f"{path.name}: subjects answered different numbers of items ({counts.min()} to {counts.max()})")
    return ReaderOutput(dump=dump, notes=notes.render())
