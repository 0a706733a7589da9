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
        """The same table as an Arrow table: text as ``large_string``, numbers in their numpy type."""
        import pyarrow as pa

        return pa.table({name: pa.array(values, type=pa.large_string()) if values.dtype == object
                         else pa.array(values) for name, values in self.columns.items()})

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
