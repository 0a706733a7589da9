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

import csv
import hashlib
import io
import re
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from slicesand.errors import InputDataError
from slicesand.io.atomic import atomic_path
from slicesand.io.binary import COMPRESSIONS, SUFFIXES, binary_format
from slicesand.io.id_text import id_text
from slicesand.printable import escaped
from slicesand.io.stdio import write_stdout

if TYPE_CHECKING:  # pandas loads only where a DataFrame is written (or a bad number is looked for)
    import pandas as pd

STDIO = "-"
PARQUET_SUFFIXES = {".parquet", ".pq"}
# A compressed text file is named by its format's suffix plus one of these (``dump.csv.gz``).
COMPRESSION_SUFFIXES = {".gz": "gzip", ".gzip": "gzip", ".zst": "zstd", ".zstd": "zstd", ".bz2": "bz2"}
LFS_POINTER = b"version https://git-lfs.github.com/spec/v1"
LFS_HINT = "this is a Git LFS pointer, not the data: run `git lfs pull` in the repository that holds it"
_HASH_CHUNK = 1 << 20


@dataclass(frozen=True)
class Source:
    """Where a table came from: a short display name and the sha256 of its bytes."""

    name: str
    sha256: str


def sha256_file(path: Path, digest: "hashlib._Hash | None" = None) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks (fed into ``digest`` when one is given)."""
    digest = digest if digest is not None else hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_HASH_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def tree_sha256(path: Path) -> str:
    """sha256 of a file, or of a folder's files (relative path and bytes, in sorted order)."""
    if path.is_file():
        return sha256_file(path)
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(str(file.relative_to(path)).encode() + b"\0")
        sha256_file(file, digest)
    return digest.hexdigest()


def compression_of(path: str | Path) -> str | None:
    """The codec a file name asks for (``gzip``, ``zstd``, ``bz2``), or None for a plain file.

    >>> compression_of("dump.csv.gz"), compression_of("dump.csv")
    ('gzip', None)
    """
    return COMPRESSION_SUFFIXES.get(Path(path).suffix.lower())


def format_suffix(path: str | Path) -> str:
    """The suffix naming a file's format, under any compression suffix, lower case.

    >>> format_suffix("runs/Samples.JSONL.zst"), format_suffix("matrix"), format_suffix("m.csv")
    ('.jsonl', '', '.csv')
    """
    path = Path(path)
    if compression_of(path) is not None:
        path = Path(path.stem)
    return path.suffix.lower()


def read_head(path: Path, size: int = 8192) -> bytes:
    """The first ``size`` bytes of a file, decompressed when its name says it is compressed."""
    try:
        codec = compression_of(path)
        if codec is None:
            with open(path, "rb") as handle:
                return handle.read(size)
        with pa.input_stream(str(path), compression=codec) as stream:
            return stream.read(size)
    except (OSError, pa.ArrowInvalid) as error:
        raise InputDataError(str(path), f"cannot read the file ({_first_line(error)})") from None


def read_file_bytes(path: Path) -> bytes:
    """A whole file's bytes, decompressed by its name; an InputDataError says why it cannot be read.

    A Git LFS pointer (a small text file standing in for data never fetched) is refused by name.
    """
    try:
        codec = compression_of(path)
        if codec is None:
            data = path.read_bytes()
        else:
            with pa.input_stream(str(path), compression=codec) as stream:
                data = stream.read()
    except (OSError, pa.ArrowInvalid) as error:
        raise InputDataError(str(path), f"cannot read the file ({_first_line(error)})") from None
    reject_lfs_pointer(path, data[: len(LFS_POINTER)])
    return data


def reject_lfs_pointer(path: str | Path, head: bytes) -> None:
    """Raise the Git LFS hint when ``head`` (a file's first bytes) is a Git LFS pointer."""
    if head.startswith(LFS_POINTER):
        raise InputDataError(str(path), "the file holds no data", hint=LFS_HINT)


def reject_binary(name: str, head: bytes, *, stdin: bool = False) -> None:
    """Refuse compressed or binary data (by its magic bytes) where plain CSV is read."""
    kind = binary_format(head)
    if kind is None:
        return
    if stdin:
        raise InputDataError(name, f"looks like {kind} data; stdin takes plain CSV",
                             hint="pass the file's name instead of -" + (", or decompress it into the pipe"
                                                                          if kind in COMPRESSIONS else ""))
    suffix = SUFFIXES.get(kind)
    if suffix:
        raise InputDataError(name, f"looks like {kind} data, but its name has no {suffix} suffix",
                             hint=f"rename it to {Path(name).name}{suffix}, or decompress it")
    raise InputDataError(name, f"looks like {kind} data, which slicesand does not read",
                         hint="extract it" if kind == "zip" else "decompress it" if kind in COMPRESSIONS
                         else "convert it to CSV or Parquet")


def _first_line(error: BaseException) -> str:
    text = getattr(error, "strerror", None) or str(error) or type(error).__name__
    return text.splitlines()[0]


def is_parquet(path: Path) -> bool:
    """True for a ``.parquet``/``.pq`` name, or a file starting with Parquet's magic bytes."""
    if Path(path).suffix.lower() in PARQUET_SUFFIXES:
        return True
    try:
        with open(path, "rb") as handle:
            return handle.read(4) == b"PAR1"
    except OSError:
        return False


def csv_header(path: Path | bytes) -> list[str]:
    """The column names in a CSV's first line (a path, decompressed by its name, or the file's bytes).

    The one header sniffer: quoting and a UTF-8 byte-order mark are handled as the CSV readers do.

    >>> csv_header(b'\\xef\\xbb\\xbfmodel,"question",correct\\r\\nm,q,1\\n')
    ['model', 'question', 'correct']
    """
    head = path if isinstance(path, bytes) else read_head(path, 1 << 20)
    first = head.split(b"\n", 1)[0].rstrip(b"\r")
    if first.startswith(b"\xef\xbb\xbf"):
        first = first[3:]
    row = next(csv.reader([first.decode("utf-8", "replace")]), [])
    return [cell.strip() for cell in row]


def preview(values, limit: int = 5, what: str = "columns") -> str:
    """At most ``limit`` values for a message, and how many there are: messages never quote a whole header.

    >>> preview([f"q{i}" for i in range(41871)])
    "'q0', 'q1', 'q2', 'q3', 'q4' and 41866 more (41871 columns)"
    >>> preview(["model", "flops"])
    "'model', 'flops'"
    """
    values = list(values)
    shown = ", ".join(repr(str(v)[:80]) for v in values[:limit])
    if len(values) <= limit:
        return shown or f"no {what}"
    return f"{shown} and {len(values) - limit} more ({len(values)} {what})"


def display_name(path: str | Path) -> str:
    """How a file is named in messages and artifacts: ``<stdin>`` or the path as given."""
    return "<stdin>" if str(path) == STDIO else str(path)



def reject_unreadable_twice(path: Path, name: str) -> None:
    """Refuse a pipe or device given as a path (``<(cmd)``, ``/dev/stdin``): its format is sniffed and
    its bytes hashed and parsed, so it is read more than once, and a pipe can be read only once."""
    import stat

    if not stat.S_ISREG(path.stat().st_mode):
        raise InputDataError(name, "is a pipe or device, not a regular file, and slicesand reads an input "
                             "more than once", hint="pipe the dump into - instead, or save it to a file first")

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
        data = read_stdin(stdin)
        if not data:  # said here, as of an empty file: pyarrow's threaded CSV reader, started on nothing
            # and failing, left its thread pool to a teardown race at exit (a rare SIGABRT, "terminate
            # called without an active exception"; apache/arrow#34314)
            raise InputDataError(name, "the file is empty", hint=hint)
        source = Source(name, hashlib.sha256(data).hexdigest())
        reject_lfs_pointer(name, data[: len(LFS_POINTER)])
        reject_binary(name, data[:32], stdin=True)
        table = _read_csv(io.BytesIO(data), name, column_types, hint)
    else:
        path = Path(path)
        if not path.exists():
            raise InputDataError(name, f"no such {what} file", hint="check the path")
        if path.is_dir():
            raise InputDataError(name, f"is a folder, expected a {what} file (CSV or Parquet)")
        reject_unreadable_twice(path, name)
        if path.stat().st_size == 0:
            raise InputDataError(name, "the file is empty", hint=hint)
        head = read_head(path, max(len(LFS_POINTER), 32))
        reject_lfs_pointer(name, head)
        if not is_parquet(path):
            reject_binary(name, head)
        # Hash while pyarrow parses: hashlib releases the GIL, so a big file costs little extra.
        with ThreadPoolExecutor(max_workers=1) as pool:
            digest = pool.submit(sha256_file, path)
            if is_parquet(path):
                table = _read_parquet(path, name, column_types, columns)
            else:
                table = _read_csv(path, name, column_types, hint)
            source = Source(path.name, digest.result())
    reject_repeated_columns(table.column_names, name)
    missing = [column for column in (required or []) if column not in table.column_names]
    if missing:
        raise InputDataError(
            name,
            f"missing column{'s' if len(missing) > 1 else ''} {', '.join(repr(c) for c in missing)}; "
            f"found {preview(table.column_names)}",
            hint=hint,
        )
    return table, source


def read_stdin(stdin: BinaryIO | None = None) -> bytes:
    """All of standard input; a closed or unreadable stdin is bad input (exit 3), not a crash."""
    stream = stdin if stdin is not None else getattr(sys.stdin, "buffer", None)
    try:
        if stream is None:
            raise ValueError("no stdin")
        return stream.read()
    except (OSError, ValueError) as error:
        raise InputDataError("<stdin>", f"standard input cannot be read ({_first_line(error)})",
                             hint="pipe a table into the command, or name a file instead of -") from None


def reject_repeated_columns(names: list[str], name: str) -> None:
    seen: set[str] = set()
    repeated = [column for column in names if column in seen or seen.add(column)]
    if repeated:
        raise InputDataError(name, "appears more than once in the header",
                             column=repeated[0], hint="give every column a distinct name")


_CSV_ERROR = re.compile(r"In CSV column #(\d+): (?:Row #(\d+): )?(.*)", re.DOTALL)
_RECORD = re.compile(r"Row #(\d+)")
FIELD_COUNT = re.compile(r"Expected (\d+) columns, got (\d+): (.*)", re.DOTALL)


def _read_csv(
    handle: Path | BinaryIO, name: str, column_types: dict[str, pa.DataType], hint: str | None
) -> pa.Table:
    convert = pa_csv.ConvertOptions(column_types=column_types, strings_can_be_null=False)
    parse = csv_parse_options(handle)
    read_options = _csv_read_options(handle)
    try:
        table = pa_csv.read_csv(_arrow_source(handle), read_options=read_options, parse_options=parse,
                                convert_options=convert)
    except pa.ArrowInvalid as exc:
        if _STRADDLES not in str(exc):
            _raise_csv_error(str(exc), handle, name, parse, convert, hint)
        # A row longer than a block (1 MiB), or a quote never closed: read the file as one block.
        if _whole_block(handle) is None:  # compressed: its size is known once it is decompressed
            handle = io.BytesIO(read_file_bytes(handle))
        if not isinstance(handle, Path):
            handle.seek(0)
        try:
            table = pa_csv.read_csv(_arrow_source(handle), read_options=pa_csv.ReadOptions(use_threads=False,
                                                                            block_size=_whole_block(handle)),
                                    parse_options=parse, convert_options=convert)
        except pa.ArrowInvalid as again:
            _raise_csv_error(str(again), handle, name, parse, convert, hint)
    if table.num_columns == 0:
        raise InputDataError(name, "the file has no columns", hint=hint)
    if parse.newlines_in_values:
        _refuse_a_quote_left_open(table, handle, name)
    return table


def _arrow_source(handle: Path | BinaryIO) -> Path | BinaryIO | pa.BufferReader:
    """What pyarrow reads a CSV from: a path, or a reader of its own over the bytes. A threaded read
    that failed could still be reading ahead from a shared Python file object while the next read
    began at its start, which then began mid-file (1 in 3 runs: "the header has 1" column)."""
    return pa.BufferReader(handle.getbuffer()) if isinstance(handle, io.BytesIO) else handle


def _raise_csv_error(message: str, handle: Path | BinaryIO, name: str, parse: pa_csv.ParseOptions,
                     convert: pa_csv.ConvertOptions, hint: str | None) -> None:
    """Raise pyarrow's CSV read error as one line naming the row, the column and the problem."""
    if "Empty CSV file" in message:
        raise InputDataError(name, "the file is empty", hint=hint) from None
    message, row = _numbered_error(message, handle, parse, convert)
    match = _CSV_ERROR.search(message)
    if match and "invalid UTF8" in message:
        raise InputDataError(name, "the file is not UTF-8 text (Latin-1 or another legacy encoding?)", row=row,
                             hint="convert it, e.g. `iconv -f latin1 -t utf-8 in.csv > out.csv`") from None
    if match:
        column_index, _, detail = match.groups()
        header = _csv_header(handle)
        column = header[int(column_index)] if int(column_index) < len(header) else f"#{column_index}"
        value = _INVALID_VALUE.search(detail)
        if value and "\n" in value[1] and parse.newlines_in_values:  # a value quoted across the rest of the file
            raise InputDataError(name, QUOTE_LEFT_OPEN, column=column, row=row, found=quoted_line(value[1]),
                                 hint=QUOTE_HINT) from None
        if value:
            detail = detail[: value.start(1)] + quoted_line(value[1]) + detail[value.end(1):]
        detail = detail.strip().replace("CSV conversion error to double", "not a number")
        raise InputDataError(name, detail, column=column, row=row) from None
    left_open = quote_left_open(message, name, row)
    if left_open is not None:
        raise left_open from None
    fields = FIELD_COUNT.search(message)
    if fields:
        expected, got, text = int(fields[1]), int(fields[2]), quoted_line(fields[3].strip())
        raise InputDataError(
            name, f"{got} field{'s' if got != 1 else ''} on this row, but the header has {expected}", row=row,
            found=text, hint='quote a cell that holds a comma ("a,b"), or remove the extra field' if got > expected
            else "give every row a field for each column of the header (an empty field is ,,)") from None
    raise InputDataError(name, f"not a readable CSV file: {escaped(message.splitlines()[0])}") from None


QUOTE_LEFT_OPEN = "a double quote opens a value that no quote closes, so the rest of the file was read into it"
QUOTE_HINT = 'close the quote, or write a quote inside a value as two ("")'
_INVALID_VALUE = re.compile(r"invalid value '(.*)'$", re.DOTALL)


def quoted_line(text: str, width: int = 80) -> str:
    r"""A value as an error quotes it: its first line (without a CR), at most ``width`` characters.

    >>> quoted_line('m1,"q5,1\r\nm2,q6,1')
    'm1,"q5,1'
    """
    return re.split("\r\n|\r|\n", text, maxsplit=1)[0][:width]


def quote_left_open(message: str, name: str, row: int | None = None) -> InputDataError | None:
    """The error for pyarrow's field-count ``message`` when its row opens a quote it never closes (the
    quote took the line breaks after it, so the row came out short), else ``None``.

    >>> str(quote_left_open('Expected 3 columns, got 2: m2,"q1,0', "d.csv"))[:40]
    'd.csv: a double quote opens a value that'
    """
    fields = FIELD_COUNT.search(message)
    if fields is None or not opens_a_quote(fields[3].strip()):
        return None
    return InputDataError(name, QUOTE_LEFT_OPEN, row=row, found=quoted_line(fields[3].strip()), hint=QUOTE_HINT)


def opens_a_quote(row_text: str) -> bool:
    r"""Whether a row's text has a field that opens a quote the row never closes (an odd count of quotes,
    one of them at a field's start: a quote inside an unquoted value, ``q"5``, is only a character).

    >>> opens_a_quote('m2,"q1,0'), opens_a_quote('m1,q"5,1'), opens_a_quote('"a\nb",1')
    (True, False, False)
    """
    return row_text.count('"') % 2 == 1 and re.search(r'(^|,)"', row_text) is not None


def _refuse_a_quote_left_open(table: pa.Table, handle: Path | BinaryIO, name: str) -> None:
    """A quote opened in the last column of a row and never closed takes the rest of the file into that
    value, and every row after it is gone without an error. pyarrow reads such a value to the end of the
    file and says nothing, so look at the text: a last value that holds a line break was quoted, and if
    its quote was closed, the file ends (but for line breaks) with exactly that quoted value (and the
    spaces after its quote, which pyarrow keeps in the value)."""
    if table.num_rows and pa.types.is_string(table.schema.field(table.num_columns - 1).type):
        last = table.column(table.num_columns - 1)[-1].as_py()
        if last and ("\n" in last or "\r" in last):  # a line ends in LF, CRLF or CR
            quoted = last.rstrip(" \t")  # spaces inside the closing quote, or after it (pyarrow keeps both)
            closed = [('"' + text.replace('"', '""') + '"' + last[len(text):]).encode() for text in (last, quoted)]
            end = _text_end(handle, max(map(len, closed)))
            if not any(end.endswith(form) for form in closed):
                raise InputDataError(name, QUOTE_LEFT_OPEN, column=table.column_names[-1], row=table.num_rows,
                                     found=quoted_line(last), hint=QUOTE_HINT)
    _refuse_rows_read_into_a_value(table, name)


QUOTES_PAIRED = ("a value spans lines that read as rows of this file (a stray double quote opened it, "
                 "and another, rows later, closed it)")
_NUMBER_TEXT = r"^\s*[-+]?((\d+\.?\d*|\.\d+)([eE][-+]?\d+)?|nan|NaN|inf|Inf|infinity|Infinity)\s*$"


def _refuse_rows_read_into_a_value(table: pa.Table, name: str) -> None:
    """Two stray quotes, one opening a value and one rows later closing it, take the rows between into
    that value, and the field counts still add up: refuse a value holding a line that reads as a row of
    this file (:func:`_rowlike_lines`). Only values with a line break are looked into."""
    numeric = [i for i, field in enumerate(table.schema)
               if pa.types.is_integer(field.type) or pa.types.is_floating(field.type) or pa.types.is_boolean(field.type)]
    firsts = None
    for index, column in enumerate(table.columns):
        if not pa.types.is_string(column.type):
            continue
        spanning = pc.match_substring_regex(column, "[\r\n]")
        if not pc.any(spanning).as_py():
            continue
        rows = np.flatnonzero(spanning.to_numpy(zero_copy_only=False))
        lines = pc.list_slice(pc.split_pattern_regex(pc.filter(column, spanning).combine_chunks(), "\r\n|\r|\n"), 1)
        if firsts is None:
            firsts = pc.unique(table.column(0)) if pa.types.is_string(table.schema.field(0).type) else None
        found = _rowlike_lines(pc.list_flatten(lines), table, numeric, firsts)
        if found is not None:
            owner = pc.list_parent_indices(lines).to_numpy(zero_copy_only=False)
            row = int(rows[owner[found]])
            raise InputDataError(name, QUOTES_PAIRED, column=table.column_names[index], row=row + 1,
                                 found=quoted_line(column[row].as_py()), hint=QUOTE_HINT)


def _rowlike_lines(lines: pa.Array, table: pa.Table, numeric: list[int], firsts: pa.Array | None) -> int | None:
    """The index of the first line that reads as a row of ``table``, or ``None``. A line does when it
    starts with a value of the first column (a model's name) and a comma, or when it has a field for
    each column with a number, within the range its column holds, in at least two numeric columns and
    nothing else there (an empty field or a null marker). A question's second line, "A) w, B) x", or
    "1,2,3,4" where FLOPs and a probability should be, or a table's row with those fields empty, is text.
    """
    commas = pc.count_substring(lines, ",")
    candidates = np.flatnonzero(pc.greater(commas, 0).to_numpy(zero_copy_only=False))
    if not candidates.size:
        return None
    picked = pa.array(candidates)
    texts = lines.take(picked)
    rowlike = np.zeros(candidates.size, dtype=bool)
    if firsts is not None:
        starts = pc.list_element(pc.split_pattern(texts, ",", max_splits=1), 0)
        rowlike |= pc.is_in(starts, value_set=firsts).to_numpy(zero_copy_only=False)
    full = np.flatnonzero(pc.equal(commas.take(picked), table.num_columns - 1)
                          .to_numpy(zero_copy_only=False))
    if full.size and len(numeric) >= 2:
        fields = pc.split_pattern(texts.take(pa.array(full)), ",")
        numbers, fits = np.zeros(full.size, dtype=int), np.ones(full.size, dtype=bool)
        for position in numeric:
            present, inside = _in_column_range(pc.list_element(fields, position), table.column(position))
            numbers += present & inside
            fits &= inside | ~present
        rowlike[full[fits & (numbers >= 2)]] = True
    hits = np.flatnonzero(rowlike)
    return int(candidates[hits[0]]) if hits.size else None


def _in_column_range(texts: pa.Array, column: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """(whether each text holds a value, and whether that value is one ``column`` could hold: a number
    within its smallest and largest, or true or false for a boolean column)."""
    texts = pc.utf8_trim_whitespace(texts)
    # What pyarrow reads as a null in a CSV (its defaults), in a swallowed row a missing number. Made
    # here, not on import: pyarrow's array of a list imports pandas, which `slice` otherwise never does.
    nulls = pa.array(sorted(set(pa_csv.ConvertOptions().null_values)), pa.string())
    present = pc.invert(pc.is_in(texts, value_set=nulls)).to_numpy(zero_copy_only=False)
    if pa.types.is_boolean(column.type):
        inside = pc.is_in(pc.utf8_lower(texts), value_set=pa.array(["true", "false", "0", "1"]))
        return present, inside.to_numpy(zero_copy_only=False)
    number = pc.match_substring_regex(texts, _NUMBER_TEXT)
    values = pc.cast(pc.if_else(number, texts, pa.scalar(None, pa.string())), pa.float64())
    bounds = pc.min_max(column)
    low, high = bounds["min"].as_py(), bounds["max"].as_py()
    if low is None:
        return present, np.zeros(len(texts), dtype=bool)
    inside = pc.fill_null(pc.and_(pc.greater_equal(values, low), pc.less_equal(values, high)), False)
    return present, inside.to_numpy(zero_copy_only=False)


def _text_end(handle: Path | BinaryIO, size: int) -> bytes:
    r"""The last ``size`` bytes of a CSV's text before its closing line breaks (fewer if the text is shorter).

    >>> _text_end(io.BytesIO(b'a\n"b\nc"\r\n\n'), 5)
    b'"b\nc"'
    """
    if isinstance(handle, Path) and compression_of(handle) is not None:
        handle = io.BytesIO(read_file_bytes(handle))  # rare: only when the last value spans lines
    if isinstance(handle, Path):
        import mmap

        with open(handle, "rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as view:
            return _end_of(memoryview(view), size)
    return _end_of(handle.getbuffer(), size)


def _end_of(text: memoryview, size: int) -> bytes:
    end = len(text)
    while end and text[end - 1] in b"\r\n":  # a loop over the closing line breaks only
        end -= 1
    with text:
        return bytes(text[max(0, end - size):end])


def _csv_read_options(handle: Path | BinaryIO) -> pa_csv.ReadOptions:
    """Threads only for a CSV of more than one block (1 MiB), the unit pyarrow parses on each thread:
    a smaller one (a slices table, a scale table, a small dump) is one block anyway, and read on the
    calling thread it starts no pool of native threads, whose teardown at exit can race and abort the
    process (SIGABRT, apache/arrow#34314).

    >>> _csv_read_options(io.BytesIO(b"model\\na\\n")).use_threads
    False
    """
    options = pa_csv.ReadOptions()
    size = _csv_size(handle)
    options.use_threads = size is None or size > options.block_size
    return options


def _csv_size(handle: Path | BinaryIO) -> int | None:
    """A CSV's size in bytes as read; ``None`` when not known without reading it (compressed)."""
    if isinstance(handle, Path):
        return handle.stat().st_size if compression_of(handle) is None else None
    return len(handle.getbuffer()) if isinstance(handle, io.BytesIO) else None


def csv_parse_options(source: Path | BinaryIO | bytes) -> pa_csv.ParseOptions:
    """How pyarrow must parse a CSV so that a quoted line break (``"a\\nb"``, RFC 4180) stays in its value.

    pyarrow cuts a file of more than one block (1 MiB) into blocks at a line break, quoted or not,
    unless told that values may hold line breaks: a cut inside a quoted value split its row ("4 fields
    on this row, but the header has 5" on threads, "parser got out of sync with chunker" on one).
    Telling it costs about a quarter of the parse (17 ms of 62 on a 30 MB dump), so it is told only
    when the text holds a double quote, without which no value holds a line break; finding none costs
    2 to 6 ms there, and a quoted header or name ends the search at once. A compressed file is not
    looked into.

    >>> csv_parse_options(b'model\\n"a\\nb"\\n').newlines_in_values
    True
    >>> csv_parse_options(b"model\\na\\n").newlines_in_values
    False
    """
    return pa_csv.ParseOptions(newlines_in_values=_may_quote(source))


def _may_quote(source: Path | BinaryIO | bytes) -> bool:
    """Whether a CSV's text holds a double quote; True when that is not cheap to know (compressed)."""
    if isinstance(source, bytes):
        return b'"' in source
    if isinstance(source, io.BytesIO):
        return b'"' in source.getvalue()  # no copy: the buffer of the bytes it was made from
    if isinstance(source, Path) and compression_of(source) is None:
        import mmap

        try:  # stops at the first quote: a file that quotes its header or names costs nothing
            with open(source, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as view:
                return view.find(b'"') >= 0
        except (OSError, ValueError):  # not mappable (an empty file, an odd file system): assume quotes
            return True
    return True


def _numbered_error(message: str, handle: Path | BinaryIO, parse: pa_csv.ParseOptions,
                    convert: pa_csv.ConvertOptions) -> tuple[str, int | None]:
    """A CSV read error's message and its data row (1 is the first row after the header, as in every message).

    pyarrow numbers records (the header is record 1, and a quoted newline does not start a new one), but
    only when it reads on one thread: on the error path, read again that way, and take that read's error
    whole, so that the problem and the row are one row's (the threaded read may have met another bad
    row first, and a wrong row number is worse than none).

    >>> bad = io.BytesIO(b'model,correct\\n"a\\nb",1\\na,x,y\\n')
    >>> _numbered_error("Expected 2 columns, got 3", bad, pa_csv.ParseOptions(), pa_csv.ConvertOptions())[1]
    2
    """
    if _RECORD.search(message) is None:
        if not isinstance(handle, Path):
            handle.seek(0)
        options = pa_csv.ReadOptions(use_threads=False, block_size=_whole_block(handle) or 1 << 20)
        try:
            pa_csv.read_csv(_arrow_source(handle), read_options=options, parse_options=parse, convert_options=convert)
        except pa.ArrowInvalid as again:
            if _RECORD.search(str(again)):
                message = str(again)
    record = _RECORD.search(message)
    return message, int(record[1]) - 1 if record else None


#: pyarrow's words for a value that runs past the end of a block (with ``newlines_in_values``: an open quote).
_STRADDLES = "straddles two block boundaries"


def _whole_block(handle: Path | BinaryIO) -> int | None:
    """A block size that holds the whole (uncompressed) CSV, within pyarrow's limit; ``None`` if unknown."""
    size = _csv_size(handle)
    return None if size is None else min(size + 1, 2**31 - 1)


def _csv_header(handle: Path | BinaryIO) -> list[str]:
    if isinstance(handle, Path):
        return csv_header(handle)
    handle.seek(0)
    return csv_header(handle.readline())


def _read_parquet(path: Path, name: str, column_types: dict[str, pa.DataType],
                  columns: list[str] | None = None) -> pa.Table:
    import pyarrow.parquet as pq  # with pyarrow's file systems and ssl: 25 ms a CSV does not need

    try:
        present = pq.read_schema(path).names
        reject_repeated_columns(present, name)  # before the read, which cannot pick one of two
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
        table = _widen_numbers(table, column, wanted)
        kind = table.schema.field(column).type
        if pa.types.is_dictionary(kind) and kind.value_type in (pa.string(), pa.large_string()):
            continue
        if wanted == pa.string() and kind not in (pa.string(), pa.large_string()):
            # names and ids stored as numbers, dates, ...: as the out-of-core scans write them
            index = table.column_names.index(column)
            table = table.set_column(index, column, id_text(table.column(column), column, name))
            continue
        numeric = (pa.types.is_integer, pa.types.is_floating)
        if any(f(kind) for f in numeric) and any(f(wanted) for f in numeric):
            continue  # e.g. float32 probabilities: the reader converts (or not) as it needs
        if kind != wanted:
            try:
                index = table.column_names.index(column)
                table = table.set_column(index, column, table.column(column).cast(wanted))
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                if pa.types.is_string(kind) or pa.types.is_large_string(kind):
                    continue  # numbers stored as text with a bad cell: the reader of the column names its row
                raise InputDataError(
                    name, f"cannot be read as {wanted}: {str(exc).splitlines()[0]}", column=column
                ) from None
    return table


def _widen_numbers(table: pa.Table, column: str, wanted: pa.DataType) -> pa.Table:
    """Numbers the readers cannot take as stored, widened: float16 (numpy and pyarrow's kernels lack
    it) to float32, and, for a float column, integers beyond 2^53 to float64 (a safe cast refuses them,
    and FLOPs need no more than float64's 16 digits)."""
    kind = table.schema.field(column).type
    index = table.column_names.index(column)
    if pa.types.is_float16(kind):
        return table.set_column(index, column, table.column(column).cast(pa.float32()))
    if pa.types.is_integer(kind) and pa.types.is_floating(wanted) and kind.bit_width == 64:
        extremes = pc.min_max(table.column(column))
        largest = max(abs(extremes["min"].as_py() or 0), abs(extremes["max"].as_py() or 0))
        if largest > 2**53:
            return table.set_column(index, column, table.column(column).cast(pa.float64(), safe=False))
    return table


def write_table(frame: pd.DataFrame, target: str | Path, *, stdout: BinaryIO | None = None) -> None:
    """Write a DataFrame as CSV or Parquet (by extension), atomically; ``-`` writes CSV to stdout
    (:func:`slicesand.io.columns.write_columns` writes the same bytes from numpy columns)."""
    if str(target) == STDIO:
        write_stdout(frame.to_csv(index=False, lineterminator="\n"), stdout)
        return
    target = Path(target)
    with atomic_path(target) as tmp:
        if target.suffix.lower() in PARQUET_SUFFIXES:
            import pyarrow.parquet as pq

            pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp)
        else:
            frame.to_csv(tmp, index=False, lineterminator="\n")


def write_arrow_table(table: pa.Table, target: str | Path, *, stdout: BinaryIO | None = None) -> None:
    """Write an Arrow table as CSV or Parquet (by extension), atomically; ``-`` writes CSV to stdout."""
    if str(target) == STDIO:
        sink = io.BytesIO()
        pa_csv.write_csv(table, sink)
        write_stdout(sink.getvalue(), stdout)
        return
    target = Path(target)
    with atomic_path(target) as tmp:
        if target.suffix.lower() in PARQUET_SUFFIXES:
            import pyarrow.parquet as pq

            pq.write_table(table, tmp)
        else:
            pa_csv.write_csv(table, tmp)
