"""A table as named numpy columns, written as CSV or Parquet without pandas.

The ``slice`` command's tables are built, sorted and written here, so that the command never imports
pandas (a third of a second at startup); callers that want a DataFrame get one from
:meth:`ColumnTable.to_frame`, built from the same columns.

The CSV is byte for byte what ``DataFrame.to_csv(index=False, lineterminator="\\n")`` writes, by the
same means: numbers become text with numpy's ``astype(str)`` (the shortest repr that round-trips, as
``repr(float)``), a missing value becomes an empty field, and the standard library's ``csv`` writer
(minimal quoting) joins the fields. ``tests/io/test_columns.py`` pins the bytes to pandas'.

>>> import numpy as np
>>> table = ColumnTable({"model": np.array(["a", "b,c"], dtype=object), "flops": np.array([1e19, np.nan]),
...                      "n": np.array([3, 4])})
>>> print(table.csv_text(), end="")
model,flops,n
a,1e+19,3
"b,c",,4
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, TextIO

import numpy as np

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa


@dataclass(frozen=True)
class ColumnTable:
    """Columns of equal length, in order: numpy arrays of numbers, or object arrays of text (``None`` or
    NaN where missing)."""

    columns: dict[str, np.ndarray]

    @property
    def n_rows(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0

    def to_frame(self) -> pd.DataFrame:
        """The same table as a pandas DataFrame (with a RangeIndex)."""
        import pandas as pd

        return pd.DataFrame(self.columns)

    def to_arrow(self) -> pa.Table:
        """The same table as an Arrow table, as ``pyarrow.Table.from_pandas(self.to_frame())`` makes it
        but without pandas' metadata: text as ``large_string``, numbers in their numpy type, and NaN
        (or ``None``) as null."""
        import pyarrow as pa

        return pa.table({name: pa.array(values, type=pa.large_string() if values.dtype == object else None,
                                        from_pandas=True)
                         for name, values in self.columns.items()})

    def write_csv(self, handle: TextIO) -> None:
        """Write the header and the rows to a text handle (opened with ``newline=""``)."""
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(list(self.columns))
        # zip and writerows run in C: no Python loop over the rows.
        writer.writerows(zip(*(csv_fields(values) for values in self.columns.values())))

    def csv_text(self) -> str:
        sink = io.StringIO(newline="")
        self.write_csv(sink)
        return sink.getvalue()


def csv_fields(values: np.ndarray) -> np.ndarray:
    """One column's CSV fields (before quoting), as pandas' ``to_csv`` makes them: numbers as numpy's
    ``astype(str)``, missing values (NaN, ``None``) as empty text, text as it is.

    >>> csv_fields(np.array([0.25, 100.0, np.nan, -0.0])).tolist()
    ['0.25', '100.0', '', '-0.0']
    """
    values = np.asarray(values)
    if values.dtype.kind in "iub":
        return values.astype(str)
    if values.dtype.kind == "f":
        fields = values.astype(str).astype(object)
        fields[np.isnan(values)] = ""
        return fields
    if values.dtype.kind == "U":
        return values
    fields = values.astype(object, copy=True)
    # Elementwise: None, and NaN (the one value unequal to itself), are missing.
    fields[np.equal(fields, None) | np.not_equal(fields, fields)] = ""
    return fields


def numpy_of(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """An Arrow array (or chunked array) of numbers, booleans or text as a numpy array, as pyarrow's
    ``to_numpy(zero_copy_only=False)`` gives it: numbers in their own type (float64 with NaN for
    integers with nulls, NaN for null floats), booleans as ``bool`` and text as an object array (``None``
    for a null).

    Read straight from the Arrow buffers, because pyarrow's own conversion imports pandas (about 0.4 s)
    whenever pandas is installed, and the ``slice`` command has no other use for it.

    >>> import pyarrow as pa
    >>> numpy_of(pa.chunked_array([[1, 2], [None, 4]])).tolist()
    [1.0, 2.0, nan, 4.0]
    >>> numpy_of(pa.chunked_array([[True, None]], type=pa.bool_())).tolist(), numpy_of(pa.chunked_array([["a", None]])).tolist()
    ([True, None], ['a', None])
    """
    import pyarrow as pa

    if isinstance(values, pa.ChunkedArray):
        parts = [numpy_of(chunk) for chunk in values.chunks]
        if not parts:
            return np.zeros(0, dtype=_numpy_type(values.type) if _numpy_type(values.type) else object)
        if len(parts) == 1:
            return parts[0]
        if len({part.dtype for part in parts}) > 1:  # some chunks had nulls: float64 (or object) for all
            kind = object if any(part.dtype == object for part in parts) else np.float64
            parts = [part.astype(kind) for part in parts]
        return np.concatenate(parts)
    kind, n = values.type, len(values)
    if pa.types.is_dictionary(kind):
        return numpy_of(values.dictionary_decode())
    dtype = _numpy_type(kind)
    if dtype is None:  # text and anything else: Python objects, as pyarrow makes them
        return np.array(values.to_pylist() if n else [], dtype=object)
    validity, data = values.buffers()[:2]
    if pa.types.is_boolean(kind):
        bits = np.unpackbits(np.frombuffer(data, dtype=np.uint8), bitorder="little")
        result = bits[values.offset:values.offset + n].astype(bool)
    else:
        result = np.frombuffer(data, dtype=dtype, count=n, offset=values.offset * dtype.itemsize)
    if values.null_count == 0:
        return result
    valid = np.unpackbits(np.frombuffer(validity, dtype=np.uint8), bitorder="little")[values.offset:values.offset + n]
    if pa.types.is_boolean(kind):
        result = result.astype(object)
        result[valid == 0] = None
        return result
    result = result.astype(np.float64 if dtype.kind in "iu" else dtype)
    result[valid == 0] = np.nan
    return result


def positions_in(values: np.ndarray, universe: np.ndarray) -> np.ndarray:
    """Where each of ``values`` is in ``universe`` (whose values are distinct), -1 where it is not; text
    is compared as text, by a sort and a binary search (no pandas index, no Python loop). ``None`` is
    nowhere.

    >>> positions_in(np.array(["b", "x", None], dtype=object), np.array(["a", "b"], dtype=object)).tolist()
    [1, -1, -1]
    """
    values, universe = np.asarray(values, dtype=object), np.asarray(universe, dtype=object)
    result = np.full(len(values), -1, dtype=np.int64)
    present, known = np.not_equal(values, None), np.flatnonzero(np.not_equal(universe, None))
    if not known.size or not present.any():
        return result
    order = known[np.argsort(universe[known], kind="stable")]
    wanted = values[present]
    at = np.minimum(np.searchsorted(universe[order], wanted), order.size - 1)
    hit = universe[order[at]] == wanted
    result[np.flatnonzero(present)[hit]] = order[at[hit]]
    return result


def _numpy_type(kind) -> np.dtype | None:
    """The numpy type of an Arrow integer, float or boolean type (None for any other)."""
    import pyarrow as pa

    if pa.types.is_boolean(kind):
        return np.dtype(bool)
    if pa.types.is_integer(kind) or pa.types.is_floating(kind):
        letter = "f" if pa.types.is_floating(kind) else ("i" if pa.types.is_signed_integer(kind) else "u")
        return np.dtype(f"{letter}{kind.bit_width // 8}")
    return None


def write_columns(table: ColumnTable, target: str | Path, *, stdout: BinaryIO | None = None) -> None:
    """Write a column table as CSV or Parquet (by extension), atomically; ``-`` writes CSV to stdout."""
    from slicesand.io.atomic import atomic_path
    from slicesand.io.stdio import write_stdout
    from slicesand.io.tables import PARQUET_SUFFIXES, STDIO

    if str(target) == STDIO:
        write_stdout(table.csv_text(), stdout)
        return
    target = Path(target)
    with atomic_path(target) as tmp:
        if target.suffix.lower() in PARQUET_SUFFIXES:
            import pyarrow.parquet as pq

            pq.write_table(table.to_arrow(), tmp)
        else:
            with open(tmp, "w", encoding="utf-8", newline="") as handle:
                table.write_csv(handle)
