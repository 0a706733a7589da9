"""Read response matrices: a wide 0/1 CSV, or py-irt's JSON lines, into the long table.

Wide CSV (plain, ``.gz`` or ``.zst``): the first column holds ids, the header row the other ids, each
cell 0 or 1 (``1.0``/``0.0`` too; an empty cell, ``NA`` or ``nan`` means not evaluated, kept as a null
``correct``). The header row and the id column are optional, as IRT repositories often commit bare
0/1 grids: a first line of 0/1 cells is data, and so is a first column of 0/1 cells; the missing ids
are then numbered (``model-1``, ``question-1``, in file order) and a note says so. Models may be the
rows or the columns; ``matrix_orientation="auto"`` decides from the first header cell (``model``/``subject`` vs
``question``/``item``), then from which side holds known model names, then from the shape (far
fewer models than questions), and otherwise asks for the option.

py-irt: one JSON object per line, ``{"subject_id": "<model>", "responses": {"<item>": 0 or 1}}``.

Neither carries probabilities, so ``p_correct`` is null; the task is ``task_name`` or the file's name.

>>> from pathlib import Path
>>> read_matrix_csv(Path("tests/fixtures/importers/matrix/models_as_rows.csv"), ImportOptions())  # doctest: +SKIP
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from slicesand.errors import InputDataError
from slicesand.ingest.importers._common import ImportOptions, Notes, ReaderOutput, make_dump, read_bytes
from slicesand.ingest.known_models import lookup_scales
from slicesand.io.tables import (QUOTE_HINT, QUOTE_LEFT_OPEN, compression_of, csv_header, csv_parse_options,
                                 quote_left_open, quoted_line, read_file_bytes)

MISSING_CELLS = ("", "NA", "N/A", "NaN", "nan", "null", "None")
MODEL_HEADERS = ("model", "models", "model_id", "model_name", "subject", "subject_id", "llm")
QUESTION_HEADERS = ("question", "questions", "question_id", "item", "item_id", "items", "doc_id", "instance_id")
NUMBER_PATTERN = r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$"
MATRIX_HINT = "a response matrix has 0/1 cells, ids in the first column and the header row (both optional)"
_SHAPE_RATIO = 2
_NARROW = 512  # up to this many cells a line, pyarrow's CSV reader is the fastest way in  # one side must be at least this many times longer to guess models from the shape


def task_label(path: Path, options: ImportOptions) -> str:
    """``task_name`` if given, else the file name without its extensions (``arc.csv.gz`` -> ``arc``)."""
    return options.task_name or (Path(path.stem).stem if compression_of(path) else path.stem)


def read_matrix_csv(path: Path, options: ImportOptions) -> ReaderOutput:
    """Read a wide 0/1 CSV (plain or compressed; with or without a header row and an id column)."""
    notes = Notes()
    grid = _Grid.read(path)
    models_on = _orientation(path, grid.corner, grid.row_ids, grid.column_ids, options.matrix_orientation, notes)
    values, model_ids, question_ids = grid.values, grid.row_ids, grid.column_ids
    if models_on == "columns":
        values, model_ids, question_ids = values.T, question_ids, model_ids
    if grid.generated:
        _name_generated(grid, models_on, model_ids, question_ids, path, notes)
    n_models, n_questions = values.shape
    n_missing = int(np.isnan(values).sum())
    if n_missing:
        notes.add(f"{path.name}: {n_missing} empty cells read as unknown correctness")
    model_index = np.repeat(np.arange(n_models), n_questions)
    question_index = np.tile(np.arange(n_questions), n_models)
    dump = make_dump(
        pc.take(pa.array(model_ids, pa.string()), pa.array(model_index)),
        pc.take(pa.array(question_ids, pa.string()), pa.array(question_index)),
        task_label(path, options),
        values.ravel(),
        np.full(n_models * n_questions, np.nan),
    )
    return ReaderOutput(dump=dump, notes=notes.render())


class _Grid:
    """A matrix file as ids and values: ``row_ids`` (first column), ``column_ids`` (header row), and
    ``values`` (rows x columns, float, NaN when missing). Without a header row or an id column, that
    side's ids are generated (``generated`` says which: ``"rows"``, ``"columns"``)."""

    def __init__(self, corner: str, row_ids: np.ndarray, column_ids: np.ndarray, values: np.ndarray,
                 generated: tuple[str, ...]) -> None:
        self.corner, self.row_ids, self.column_ids = corner, row_ids, column_ids
        self.values, self.generated = values, generated

    @classmethod
    def read(cls, path: Path) -> "_Grid":
        cells = _read_cells(path)
        first_line, first_column = cells.line(0), cells.column(0)
        has_header = not _all_zero_one(first_line.slice(1))
        has_ids = not _all_zero_one(first_column.slice(1 if has_header else 0))
        n_rows, n_columns = cells.n_lines - int(has_header), cells.width - int(has_ids)
        if n_rows == 0 or n_columns == 0:
            raise InputDataError(str(path), "a response matrix needs at least one 0/1 cell besides its ids",
                                 found=f"{cells.n_lines} line(s) of {cells.width} cell(s)", hint=MATRIX_HINT)
        row_ids = (_ids(first_column.slice(1 if has_header else 0), path, "first column") if has_ids
                   else np.arange(1, n_rows + 1).astype(str).astype(object))
        column_ids = (_ids(first_line.slice(1 if has_ids else 0), path, "header row") if has_header
                      else np.arange(1, n_columns + 1).astype(str).astype(object))
        values, missing = cells.block(int(has_header), int(has_ids))
        _check_zero_one(path, values, missing, row_ids, column_ids,
                        lambda r, c: cells.token(r + int(has_header), c + int(has_ids)))
        corner = str(first_line[0]).strip() if has_header and has_ids else ""
        generated = tuple(side for side, has in (("rows", has_ids), ("columns", has_header)) if not has)
        return cls(corner, row_ids, column_ids, np.where(missing, np.nan, values), generated)


class _Lines:
    """Cells as one list per line (a wide file split by pyarrow's string kernels, or by the csv module)."""

    def __init__(self, cells: pa.ListArray, path: Path, line_numbers: np.ndarray, quoted: bool = False) -> None:
        widths = pc.list_value_length(cells).to_numpy(zero_copy_only=False)
        if len(cells) == 0 or widths[0] < 1:
            raise InputDataError(str(path), "the file is empty", hint=MATRIX_HINT)
        self.cells, self.line_numbers = cells, line_numbers
        if quoted:  # before the widths: an open quote makes its line short
            _refuse_a_line_break(self, path)
        ragged = np.flatnonzero(widths != widths[0])
        if ragged.size:
            raise InputDataError(str(path), f"line {line_numbers[ragged[0]]} has {widths[ragged[0]]} cells, the "
                                 f"first line {widths[0]}", hint="every line of a response matrix has the same number of cells")
        self.cells, self.n_lines, self.width = cells, len(cells), int(widths[0])

    def line(self, index: int) -> pa.Array:
        return self.cells[index].values

    def column(self, index: int) -> pa.Array:
        return pc.list_element(self.cells, index)

    def token(self, line: int, column: int) -> str:
        return self.cells[line].values[column].as_py()

    def first_line_break(self) -> tuple[int, int] | None:
        """(line, column) of the first cell that holds a line break, by index; ``None`` if none does."""
        broken = np.flatnonzero(pc.match_substring(self.cells.flatten(), "\n").to_numpy(zero_copy_only=False))
        if not broken.size:
            return None
        line = int(pc.list_parent_indices(self.cells)[int(broken[0])].as_py())
        return line, int(broken[0]) - int(self.cells.offsets[line].as_py())

    def block(self, first_line: int, first_column: int) -> tuple[np.ndarray, np.ndarray]:
        body = self.cells.slice(first_line)
        tokens = pc.list_slice(body, first_column).flatten() if first_column else body.flatten()
        values, missing = _numbers(tokens)
        shape = (len(body), self.width - first_column)
        return values.reshape(shape), missing.reshape(shape)


class _Columns:
    """Cells as one text column per file column (a narrow file, parsed by pyarrow's CSV reader)."""

    def __init__(self, table: pa.Table, path: Path, line_numbers: np.ndarray, quoted: bool = False) -> None:
        if table.num_rows == 0 or table.num_columns == 0:
            raise InputDataError(str(path), "the file is empty", hint=MATRIX_HINT)
        self.line_numbers = line_numbers
        self.columns = [column.combine_chunks() for column in table.columns]  # a few hundred at most
        if quoted:
            _refuse_a_line_break(self, path)
        self.n_lines, self.width = table.num_rows, table.num_columns

    def line(self, index: int) -> pa.Array:
        return pa.array([column[index].as_py() for column in self.columns], pa.string())

    def column(self, index: int) -> pa.Array:
        return self.columns[index]

    def token(self, line: int, column: int) -> str:
        return self.columns[column][line].as_py()

    def first_line_break(self) -> tuple[int, int] | None:
        """(line, column) of the first cell that holds a line break, by index; ``None`` if none does."""
        found = [(int(broken[0]), column) for column, broken in enumerate(
            np.flatnonzero(pc.match_substring(cells, "\n").to_numpy(zero_copy_only=False)) for cells in self.columns)
            if broken.size]
        return min(found) if found else None

    def block(self, first_line: int, first_column: int) -> tuple[np.ndarray, np.ndarray]:
        parsed = [_numbers(column.slice(first_line)) for column in self.columns[first_column:]]
        return np.column_stack([p[0] for p in parsed]), np.column_stack([p[1] for p in parsed])


def _read_cells(path: Path) -> _Lines | _Columns:
    """The file's cells, trimmed. pyarrow's CSV reader is fast on a tall file (many lines, few columns)
    but slow on a wide one (a 12 x 40,000 matrix takes it seconds), so a wide file without quotes is
    split by pyarrow's string kernels instead, and a wide file with quotes goes through Python's csv
    module, which knows quoting."""
    data = read_file_bytes(path)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    # Empty lines are skipped on every path, as pyarrow's reader skips them; messages name a line by its
    # number in the file. The cells' lines are the file's until a cell spans lines, which is refused there.
    lines, filled = _non_empty(data)
    line_numbers = np.flatnonzero(filled.to_numpy(zero_copy_only=False)) + 1
    try:
        if len(csv_header(data[:1 << 16])) <= _NARROW:
            return _Columns(_csv_reader_table(data, path), path, line_numbers, quoted=b'"' in data)
        if b'"' in data:
            rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
            # trimmed of spaces only: a line break at a cell's end is a quote never closed (see _Lines)
            return _Lines(pa.array([[cell.strip(" \t") for cell in row] for row in rows if row], pa.list_(pa.string())),
                          path, line_numbers, quoted=True)
        lines = lines.filter(filled).cast(pa.string())
    except (UnicodeDecodeError, pa.ArrowInvalid) as error:
        if "UTF8" not in str(error) and not isinstance(error, UnicodeDecodeError):
            raise InputDataError(str(path), f"not a readable CSV file ({str(error).splitlines()[0]})",
                                 hint=MATRIX_HINT) from None
        # Before the header is known, the physical line is all there is to name: say "line", not "row".
        raise InputDataError(str(path), f"line {_first_non_utf8_line(data)} is not UTF-8 text (Latin-1 or another "
                             "legacy encoding?)",
                             hint="convert it, e.g. `iconv -f latin1 -t utf-8 in.csv > out.csv`") from None
    return _Lines(pc.split_pattern(lines, ","), path, line_numbers)


def _non_empty(data: bytes) -> tuple[pa.Array, pa.Array]:
    """The file's lines (binary), broken where pyarrow's CSV reader and the csv module break them (at an
    LF, a CRLF or a CR alone), and whether each holds something."""
    lines = pa.array(re.split(rb"\r\n|\r|\n", data), pa.binary())
    return lines, pc.greater(pc.binary_length(lines), 0)


def non_empty_lines(data: bytes) -> np.ndarray:
    """The numbers (from 1) of the lines of ``data`` that hold something (:func:`_non_empty`), as pyarrow's
    CSV reader counts them: an empty line is a line break right after the previous one.

    >>> non_empty_lines(b"a,b\\n\\n1,0\\r\\n\\r\\n0,1\\r\\r1,1").tolist()
    [1, 3, 5, 7]
    """
    return np.flatnonzero(_non_empty(data)[1].to_numpy(zero_copy_only=False)) + 1


def _refuse_a_line_break(cells: _Lines | _Columns, path: Path) -> None:
    """No cell of a response matrix (an id or a 0/1) holds a line break: one that does is a quote never
    closed, which took the lines after it into one cell (found only as a bad 0/1 cell before, quoting
    the rest of the file in the message), or two stray quotes that paired up across lines. Looked for
    only in a file with a quote: without one, no cell can span lines."""
    broken = cells.first_line_break()
    if broken is not None:
        line, column = broken
        raise InputDataError(str(path), f"line {cells.line_numbers[line]}, cell {column + 1}: {QUOTE_LEFT_OPEN}",
                             found=quoted_line(cells.token(line, column)), hint=QUOTE_HINT)


def _csv_reader_table(data: bytes, path: Path) -> pa.Table:
    """A narrow file parsed by pyarrow's CSV reader, every cell as text (trimmed later, where read)."""
    try:
        return pa_csv.read_csv(
            pa.BufferReader(data),
            read_options=pa_csv.ReadOptions(autogenerate_column_names=True),
            parse_options=csv_parse_options(data),
            convert_options=pa_csv.ConvertOptions(column_types={f"f{i}": pa.string() for i in range(_NARROW + 1)},
                                                  strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
    except pa.ArrowInvalid as error:
        left_open = quote_left_open(str(error), str(path))
        if left_open is not None:
            raise left_open from None
        ragged = _first_short_or_long_record(data)
        if ragged is not None:  # in the wide path's words, with the line's number in the file
            line, cells, first = ragged
            raise InputDataError(str(path), f"line {line} has {cells} cells, the first line {first}",
                                 hint="every line of a response matrix has the same number of cells") from None
        raise


def _first_short_or_long_record(data: bytes) -> tuple[int, int, int] | None:
    """(line number in the file, its cells, the first line's cells) of the first record whose cells are
    not as many as the header's, from pyarrow's own count on one thread (its records are the non-empty
    lines until a value spans lines); ``None`` if it finds none.

    >>> _first_short_or_long_record(b'm,q1,q2\\n\\n"a",1,0\\nb,1\\n')
    (4, 2, 3)
    """
    found = []

    def first(row) -> str:
        found.append(row)
        return "error"

    try:
        pa_csv.read_csv(pa.BufferReader(data), read_options=pa_csv.ReadOptions(use_threads=False),
                        parse_options=pa_csv.ParseOptions(newlines_in_values=True, invalid_row_handler=first))
    except pa.ArrowInvalid:
        pass
    if not found or found[0].number is None:
        return None
    numbers = non_empty_lines(data)
    record = min(int(found[0].number), len(numbers))
    return int(numbers[record - 1]), int(found[0].actual_columns), int(found[0].expected_columns)


def _first_non_utf8_line(data: bytes) -> int | None:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        return data.count(b"\n", 0, error.start) + 1
    return None


def _numbers(tokens: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(values as float with NaN for missing or non-numbers, whether each token is a missing marker).

    A 0/1 matrix holds a handful of distinct tokens (``0``, ``1``, ``""``), so only the distinct ones
    are parsed, and every cell then takes its token's value.
    """
    encoded = pc.dictionary_encode(tokens)
    distinct = pc.utf8_trim_whitespace(encoded.dictionary)  # trimming the distinct tokens trims them all
    missing = pc.is_in(distinct, value_set=pa.array(MISSING_CELLS)).to_numpy(zero_copy_only=False)
    numeric = pc.match_substring_regex(distinct, NUMBER_PATTERN)
    cleaned = pc.if_else(numeric, distinct, pa.scalar(None, pa.string()))
    values = pc.cast(cleaned, pa.float64()).to_numpy(zero_copy_only=False)
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    return values[codes], missing[codes]


def _all_zero_one(tokens: pa.Array) -> bool:
    """Whether every token is 0, 1 or a missing marker (a header row or id column is not)."""
    if len(tokens) == 0:
        return False
    values, missing = _numbers(tokens)
    return bool((missing | (values == 0) | (values == 1)).all())


def _ids(tokens: pa.Array, path: Path, where: str) -> np.ndarray:
    ids = pc.utf8_trim_whitespace(tokens).to_numpy(zero_copy_only=False).astype(object)
    _require_unique_ids(path, ids, where)
    return ids


def _require_unique_ids(path: Path, ids: np.ndarray, where: str) -> None:
    blank = ids == ""
    if blank.any():
        raise InputDataError(str(path), f"the {where} has an empty id", hint="every model and question needs an id")
    duplicated = pd.Index(ids).duplicated()
    if duplicated.any():
        raise InputDataError(str(path), f"the {where} repeats an id", found=str(ids[duplicated][0]),
                             hint="ids must be unique; a file with no id column or header needs none " +
                                  "(see the README's matrix layouts)")


# Most cells are not 0/1, and each lies strictly between: probabilities, which a wide dump may hold.
WIDE_HINT = ("the cells look like probabilities: a table of one row per question and one column per model is a "
             "wide dump; read it with `slicesand slice --layout wide`, its question ids in a column named question "
             "or named by --question-column")


def _check_zero_one(path: Path, values: np.ndarray, missing: np.ndarray, row_ids: np.ndarray,
                    column_ids: np.ndarray, token) -> None:
    """Every cell is 0, 1 or missing; the first other one is an error naming its ids and data row."""
    bad = ~missing & ~np.isin(values, (0.0, 1.0))
    if bad.any():
        row, column = divmod(int(np.flatnonzero(bad)[0]), values.shape[1])
        others = values[bad]
        raise InputDataError(
            str(path),
            f"cell at row/column '{row_ids[row]}' x '{column_ids[column]}' must be 0 or 1 (or empty when unknown)",
            row=row + 1,  # the data row: 1 is the first line after the header (if any)
            found=token(row, column),
            hint=WIDE_HINT if 2 * others.size >= (~missing).sum() and np.all((others > 0) & (others < 1)) else None,
        )


def _name_generated(grid: _Grid, models_on: str, model_ids: np.ndarray, question_ids: np.ndarray, path: Path,
                    notes: Notes) -> None:
    """Generated ids get a prefix saying what they number, and the user is told how to name them."""
    model_side = "rows" if models_on == "rows" else "columns"
    if model_side in grid.generated:
        model_ids[:] = "model-" + model_ids.astype(str)
        notes.add(f"{path.name}: no model names in the file, so the models are model-1 to model-{len(model_ids)} "
                  f"in file order; give their scale in a models table with these names, or add the names")
    question_side = "columns" if model_side == "rows" else "rows"
    if question_side in grid.generated:
        question_ids[:] = "question-" + question_ids.astype(str)


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
        hint="pass `matrix_orientation` rows or columns, or name the first header cell 'model' or 'question'",
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
