"""Read and write tables in CSV or Parquet, from files or stdin/stdout (``-``).

Readers return a :class:`pyarrow.Table` plus a :class:`Source` (display name and sha256 of the bytes
read), so that every artifact can record exactly what it was made from. All failures become an
:class:`~slicesand.errors.InputDataError` naming the file.

>>> import io, pathlib, tempfile
>>> path = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
>>> _ = path.write_text("model,flops\\na,1e21\\n")
>>> table, source = read_table(path, required=["model"])
>>> table.column_names, source.name
(['model', 'flops'], 't.csv')
"""

from __future__ import annotations

import hashlib
import io
import re
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from slicesand.errors import InputDataError
from slicesand.io.atomic import atomic_path

STDIO = "-"
PARQUET_SUFFIXES = {".parquet", ".pq"}
_HASH_CHUNK = 1 << 20


@dataclass(frozen=True)
class Source:
    """Where a table came from: a short display name and the sha256 of its bytes."""

    name: str
    sha256: str


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_HASH_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def is_parquet(path: Path) -> bool:
    """True for a ``.parquet``/``.pq`` name, or a file starting with Parquet's magic bytes."""
    if path.suffix.lower() in PARQUET_SUFFIXES:
        return True
    try:
        with open(path, "rb") as handle:
            return handle.read(4) == b"PAR1"
    except OSError:
        return False


def display_name(path: str | Path) -> str:
    """How a file is named in messages and artifacts: ``<stdin>`` or the path as given."""
    return "<stdin>" if str(path) == STDIO else str(path)


def read_table(
    path: str | Path,
    *,
    required: list[str] | None = None,
    columns: list[str] | None = None,
    column_types: dict[str, pa.DataType] | None = None,
    stdin: BinaryIO | None = None,
    what: str = "table",
    hint: str | None = None,
) -> tuple[pa.Table, Source]:
    """Read a CSV or Parquet table (``-`` is CSV on stdin) and check its required columns.

    ``columns`` limits what is read from a Parquet file (a CSV is read whole); ``column_types``
    fixes types, and string columns of a Parquet file come dictionary-encoded.
    """
    name = display_name(path)
    column_types = column_types or {}
    if str(path) == STDIO:
        data = (stdin or sys.stdin.buffer).read()
        source = Source(name, hashlib.sha256(data).hexdigest())
        table = _read_csv(io.BytesIO(data), name, column_types, hint)
    else:
        path = Path(path)
        if not path.exists():
            raise InputDataError(name, f"no such {what} file", hint="check the path")
        if path.is_dir():
            raise InputDataError(name, f"is a folder, expected a {what} file (CSV or Parquet)")
        if path.stat().st_size == 0:
            raise InputDataError(name, "the file is empty", hint=hint)
        # Hash while pyarrow parses: hashlib releases the GIL, so a big file costs little extra.
        with ThreadPoolExecutor(max_workers=1) as pool:
            digest = pool.submit(sha256_file, path)
            if is_parquet(path):
                table = _read_parquet(path, name, column_types, columns)
            else:
                table = _read_csv(path, name, column_types, hint)
            source = Source(path.name, digest.result())
    missing = [column for column in (required or []) if column not in table.column_names]
    if missing:
        raise InputDataError(
            name,
            f"missing column{'s' if len(missing) > 1 else ''} {', '.join(repr(c) for c in missing)}",
            found=", ".join(table.column_names) or "no columns",
            hint=hint,
        )
    return table, source


_CSV_ERROR = re.compile(r"In CSV column #(\d+): (?:Row #(\d+): )?(.*)", re.DOTALL)


def _read_csv(
    handle: Path | BinaryIO, name: str, column_types: dict[str, pa.DataType], hint: str | None
) -> pa.Table:
    convert = pa_csv.ConvertOptions(column_types=column_types, strings_can_be_null=False)
    try:
        table = pa_csv.read_csv(handle, convert_options=convert)
    except pa.ArrowInvalid as exc:
        message = str(exc)
        if "Empty CSV file" in message:
            raise InputDataError(name, "the file is empty", hint=hint) from None
        match = _CSV_ERROR.search(message)
        if match:
            column_index, row, detail = match.groups()
            header = _csv_header(handle)
            column = header[int(column_index)] if int(column_index) < len(header) else f"#{column_index}"
            detail = detail.strip().replace("CSV conversion error to double", "not a number")
            if row is None and column in column_types:
                row = _first_bad_number_row(handle, column, column_types)
            raise InputDataError(
                name, detail, column=column, row=int(row) - 1 if row else None
            ) from None
        raise InputDataError(name, f"not a readable CSV file: {message.splitlines()[0]}") from None
    if table.num_columns == 0:
        raise InputDataError(name, "the file has no columns", hint=hint)
    return table


def _first_bad_number_row(handle: Path | BinaryIO, column: str, column_types: dict) -> int | None:
    """pyarrow does not always say which row failed to parse: find it (1-based, counting the header)."""
    if not isinstance(handle, Path):
        handle.seek(0)
    types = {**column_types, column: pa.string()}
    text = pa_csv.read_csv(handle, convert_options=pa_csv.ConvertOptions(
        column_types=types, include_columns=[column])).column(column).to_pandas()
    bad = pd.to_numeric(text, errors="coerce").isna() & text.notna() & (text.str.strip() != "")
    return int(bad.to_numpy().nonzero()[0][0]) + 2 if bad.any() else None


def _csv_header(handle: Path | BinaryIO) -> list[str]:
    if isinstance(handle, Path):
        with open(handle, "rb") as fh:
            first = fh.readline()
    else:
        handle.seek(0)
        first = handle.readline()
    return [cell.strip().strip('"') for cell in first.decode("utf-8", "replace").rstrip("\r\n").split(",")]


def _read_parquet(path: Path, name: str, column_types: dict[str, pa.DataType],
                  columns: list[str] | None = None) -> pa.Table:
    try:
        present = pq.read_schema(path).names
        selected = None if columns is None else [c for c in present if c in columns]
        # Text columns arrive dictionary-encoded: decoding millions of repeated model names is the
        # slowest part of a read, and the slicer only needs integer codes anyway.
        text = [c for c, kind in column_types.items()
                if kind == pa.string() and c in present and (selected is None or c in selected)]
        table = pq.read_table(path, columns=selected, read_dictionary=text)
    except (pa.ArrowInvalid, pa.ArrowIOError, OSError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputDataError(name, f"not a readable Parquet file: {first}", hint="is the file complete?") from None
    for column, wanted in column_types.items():
        if column not in table.column_names:
            continue
        kind = table.schema.field(column).type
        if pa.types.is_dictionary(kind) and kind.value_type in (pa.string(), pa.large_string()):
            continue
        numeric = (pa.types.is_integer, pa.types.is_floating)
        if any(f(kind) for f in numeric) and any(f(wanted) for f in numeric):
            continue  # e.g. float32 probabilities: the reader converts (or not) as it needs
        if kind != wanted:
            try:
                index = table.column_names.index(column)
                table = table.set_column(index, column, table.column(column).cast(wanted))
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                raise InputDataError(
                    name, f"cannot be read as {wanted}: {str(exc).splitlines()[0]}", column=column
                ) from None
    return table


def write_table(frame: pd.DataFrame, target: str | Path, *, stdout: BinaryIO | None = None) -> None:
    """Write a DataFrame as CSV or Parquet (by extension), atomically; ``-`` writes CSV to stdout."""
    if str(target) == STDIO:
        text = frame.to_csv(index=False, lineterminator="\n")
        out = stdout or sys.stdout.buffer
        out.write(text.encode("utf-8"))
        out.flush()
        return
    target = Path(target)
    with atomic_path(target) as tmp:
        if target.suffix.lower() in PARQUET_SUFFIXES:
            pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp)
        else:
            frame.to_csv(tmp, index=False, lineterminator="\n")


def write_arrow_table(table: pa.Table, target: str | Path, *, stdout: BinaryIO | None = None) -> None:
    """Write an Arrow table as CSV or Parquet (by extension), atomically; ``-`` writes CSV to stdout."""
    if str(target) == STDIO:
        sink = io.BytesIO()
        pa_csv.write_csv(table, sink)
        out = stdout or sys.stdout.buffer
        out.write(sink.getvalue())
        out.flush()
        return
    target = Path(target)
    with atomic_path(target) as tmp:
        if target.suffix.lower() in PARQUET_SUFFIXES:
            pq.write_table(table, tmp)
        else:
            pa_csv.write_csv(table, tmp)
