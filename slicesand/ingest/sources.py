"""Load any supported source into a :class:`~slicesand.ingest.dump.Dump`: slicesand's own long table (fast
path), or anything :mod:`slicesand.ingest.importers` reads (lm-evaluation-harness logs, HELM runs, response
matrices, py-irt files), sniffed or named with ``--from``.

>>> import pathlib, tempfile
>>> path = pathlib.Path(tempfile.mkdtemp()) / "dump.csv"
>>> _ = path.write_text("model,question,correct\\nm1,q1,1\\nm2,q1,0\\n")
>>> dump, imported = load_source(path, SourceOptions())
>>> dump.n_models, imported is None
(2, True)
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import numpy as np

from slicesand.ingest.dump import Dump, DumpColumns, dump_from_table, load_dump, select_task
from slicesand.ingest.importers import ImportOptions, read_source, sniff_source
from slicesand.io.tables import STDIO, Source, display_name, tree_sha256

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class SourceOptions:
    """How to read a source: its kind (``None`` sniffs), the long-table layout and column names, and
    the importers' options."""

    kind: str | None = None
    layout: str = "long"
    columns: DumpColumns = DumpColumns()
    import_options: ImportOptions = ImportOptions()


def is_native(path: str | Path, options: SourceOptions) -> bool:
    """Whether slicesand's own reader takes this source (stdin, a wide layout, or a long table).

    Every command asks the same sniffer (:func:`slicesand.ingest.importers.sniff_source`), so ``run``
    and ``slice`` read a file exactly as ``import`` does.
    """
    if str(path) == STDIO or options.layout == "wide" or options.kind == "long":
        return True
    if options.kind is not None:
        return False
    if not Path(path).exists():
        return True  # the native reader's clear "no such file"
    columns = options.columns
    long_columns = (columns.model, columns.question, columns.task, columns.correct, columns.p_correct,
                    columns.flops)
    return sniff_source(path, long_columns) == "long"


def load_source(
    path: str | Path, options: SourceOptions, *, stdin: BinaryIO | None = None
) -> tuple[Dump, pd.DataFrame | None]:
    """The dump, and the importer's model table (scales it found) when an importer read it."""
    if is_native(path, options):
        return load_dump(path, columns=options.columns, layout=options.layout, stdin=stdin), None
    path = Path(path)
    with ThreadPoolExecutor(max_workers=1) as pool:
        digest = pool.submit(tree_sha256, path)
        result = read_source(path, options.kind, options=options.import_options)
        source = Source(path.name, digest.result())
    dump = dump_from_table(result.dump, source, name=display_name(path))
    dump.notes.extend(result.notes)
    return dump, result.models


def restrict_to_task(dump: Dump, task: str, flops_by_model: np.ndarray) -> tuple[Dump, np.ndarray]:
    """The part of a dump that belongs to one task, keeping only the models that answered in it, and
    their FLOPs: every message about the task (its smallest model, the models without a scale) then
    describes the task, not the whole dump.
    """
    part = select_task(dump, task)
    answered = np.zeros(part.n_models, dtype=bool)
    answered[part.model_code] = True
    if answered.all():
        return part, flops_by_model
    remap = np.cumsum(answered) - 1
    flops = np.asarray(flops_by_model, dtype=float)[answered]
    return replace(part, model_names=part.model_names[answered], model_code=remap[part.model_code],
                   flops_by_model=None if part.flops_by_model is None else part.flops_by_model[answered],
                   dense=False), flops
