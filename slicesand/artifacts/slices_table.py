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
from slicesand.fitting.model import group_columns_in, group_count
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
