"""Read a slices table: the output of ``slice``, or one written by hand in the same format.

Required columns: ``model``, ``flops``, ``tc_brier`` and ``group_1 .. group_G``; ``accuracy`` is
optional. A ``<name>.meta.json`` sidecar, when present and not stale, tells the cut the difficulty
ranking used.

>>> import pathlib, tempfile
>>> path = pathlib.Path(tempfile.mkdtemp()) / "slices.csv"
>>> _ = path.write_text("model,flops,accuracy,tc_brier,group_1,group_2\\na,1e21,0.3,-0.5,-0.2,-0.8\\n")
>>> table = read_slices(path)
>>> table.n_groups, table.meta is None
(2, True)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import pandas as pd
import pyarrow as pa

from slicesand.artifacts.documents import check_slices_meta, read_json_artifact, sidecar_path
from slicesand.errors import ArtifactError, InputDataError
from slicesand.fitting.model import checked_flops, group_columns_in, group_count
from slicesand.io.tables import STDIO, Source, display_name, read_table

SLICES_HINT = "a slices table has model, flops, tc_brier and group_1 .. group_G (see `slicesand slice`)"


@dataclass
class SlicesTable:
    """A slices table with its groups counted and its sidecar (if any) read."""

    frame: pd.DataFrame
    n_groups: int
    source: Source
    name: str
    meta: dict | None
    stale_meta: bool = False

    @property
    def cut(self) -> float | None:
        """The cut the difficulty ranking used, from the sidecar."""
        if not self.meta:
            return None
        return self.meta.get("parameters", {}).get("cut")


def read_slices(path: str | Path, *, stdin: BinaryIO | None = None) -> SlicesTable:
    """Read and check a slices table (CSV, Parquet or ``-``) and its sidecar."""
    name = display_name(path)
    table, source = read_table(path, required=["model", "flops", "tc_brier"], stdin=stdin,
                               column_types={"model": pa.string()}, what="slices", hint=SLICES_HINT)
    frame = table.to_pandas(use_threads=False)  # one row a model: a thread pool would only be started
    if frame.empty:
        raise InputDataError(name, "the slices table has no rows", hint=SLICES_HINT)
    n_groups = group_count(frame, name)  # group_1 .. group_G, no gaps
    for column in ["flops", "tc_brier", "accuracy", *group_columns_in(frame)]:
        if column in frame and not pd.api.types.is_numeric_dtype(frame[column]):
            values = pd.to_numeric(frame[column], errors="coerce")
            bad = values.isna() & frame[column].notna() & (frame[column].astype(str).str.strip() != "")
            if bad.any():
                row = int(bad.to_numpy().nonzero()[0][0])
                raise InputDataError(name, "not a number", column=column, row=row + 1,
                                     found=frame[column].iloc[row])
            frame[column] = values
    check_slices_values(frame, name)
    meta, stale = None, False
    if str(path) != STDIO and sidecar_path(path).exists():
        meta = check_slices_meta(read_json_artifact(sidecar_path(path), "slicesand.slices"), str(sidecar_path(path)))
        recorded = (meta.get("table") or {}).get("sha256")
        if recorded != source.sha256:
            meta, stale = None, True
        elif meta.get("n_groups") not in (None, n_groups):
            raise ArtifactError(str(sidecar_path(path)), "the sidecar describes a different number of groups",
                                found=meta.get("n_groups"))
    return SlicesTable(frame, n_groups, source, name, meta, stale)


#: The range each column of a slices table holds: TC Brier scores and their group means lie in [-1, 0]
#: (minus a squared probability gap), accuracies in [0, 1]; an empty cell (a model a group's questions
#: left out) is allowed. The slack covers a mean's last-bit rounding.
VALUE_RANGES = {"tc_brier": (-1.0, 0.0), "accuracy": (0.0, 1.0)}
RANGE_SLACK = 1e-9


def check_slices_values(frame: pd.DataFrame, name: str) -> None:
    """Refuse what no slicing makes, before it reaches a fit or a forecast (a wrong number, not an error,
    would come out): a model listed twice, or with no name; FLOPs that are not a positive, finite number;
    a score or an accuracy outside its range (:data:`VALUE_RANGES`), or infinite. Rows are data rows (1 is
    the first after the header).

    >>> frame = pd.DataFrame({"model": ["a", "b", "a"], "flops": [1e20, 1e21, 1e22], "tc_brier": [-0.5] * 3,
    ...                       "group_1": [-0.2] * 3})
    >>> check_slices_values(frame, "slices.csv")
    Traceback (most recent call last):
    ...
    slicesand.errors.InputDataError: slices.csv: column 'model', row 3: model 'a' is listed twice (first at row 1); found 'a' (hint: a slices table has one row a model)
    """
    import numpy as np

    models = frame["model"]
    unnamed = models.isna() | (models.astype(str) == "")  # as both slicing engines say: spaces are a name
    if unnamed.any():
        row = int(np.flatnonzero(unnamed.to_numpy())[0])
        raise InputDataError(name, "a model needs a name", column="model", row=row + 1, found=models.iloc[row],
                             hint=SLICES_HINT)
    repeated = models.duplicated(keep="first").to_numpy()
    if repeated.any():
        row = int(np.flatnonzero(repeated)[0])
        first = int(np.flatnonzero((models == models.iloc[row]).to_numpy())[0])
        raise InputDataError(name, f"model {str(models.iloc[row])!r} is listed twice (first at row {first + 1})",
                             column="model", row=row + 1, found=models.iloc[row],
                             hint="a slices table has one row a model")
    checked_flops(frame, name)
    for column in ["tc_brier", "accuracy", *group_columns_in(frame)]:
        if column not in frame:
            continue
        low, high = VALUE_RANGES.get(column, VALUE_RANGES["tc_brier"])
        values = frame[column].to_numpy(dtype=float)
        outside = ~np.isnan(values) & ~((values >= low - RANGE_SLACK) & (values <= high + RANGE_SLACK))
        if outside.any():
            row = int(np.flatnonzero(outside)[0])
            what = "an accuracy" if column == "accuracy" else "a TC Brier score"
            raise InputDataError(name, f"{what} lies in [{low:g}, {high:g}] (or is empty when unknown)", column=column,
                                 row=row + 1, found=frame[column].iloc[row], hint=SLICES_HINT)
