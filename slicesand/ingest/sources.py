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

import hashlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import pandas as pd

from slicesand.ingest.dump import Dump, DumpColumns, dump_from_table, load_dump
from slicesand.ingest.importers import ImportOptions, read_source, sniff_source
from slicesand.io.tables import STDIO, Source, display_name, is_parquet

_HASH_CHUNK = 1 << 20


@dataclass(frozen=True)
class SourceOptions:
    """How to read a source: its kind (``None`` sniffs), the long-table layout and column names, and
    the importers' options."""

    kind: str | None = None
    layout: str = "long"
    columns: DumpColumns = DumpColumns()
    import_options: ImportOptions = ImportOptions()


def tree_sha256(path: Path) -> str:
    """sha256 of a file, or of a folder's files (relative path and bytes, in sorted order)."""
    digest = hashlib.sha256()
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for file in files:
        if file is not path:
            digest.update(str(file.relative_to(path)).encode() + b"\0")
        with open(file, "rb") as handle:
            for chunk in iter(lambda: handle.read(_HASH_CHUNK), b""):
                digest.update(chunk)
    return digest.hexdigest()


def is_native(path: str | Path, options: SourceOptions) -> bool:
    """Whether slicesand's own reader takes this source (stdin, a wide layout, or a long table)."""
    if str(path) == STDIO or options.layout == "wide" or options.kind == "long":
        return True
    if options.kind is not None:
        return False
    path = Path(path)
    if not path.is_file():
        return not path.exists()  # a missing path gets the native reader's clear message
    if is_parquet(path) or path.stat().st_size == 0:
        return True
    if path.suffix.lower() in (".csv", ".tsv", ".txt", ".gz"):
        # A CSV naming the model column is a long table, even a broken one: the native reader then
        # says exactly which column is missing, instead of guessing it is a response matrix.
        with open(path, "rb") as handle:
            header = handle.readline().decode("utf-8", "replace").strip().split(",")
        if options.columns.model in [cell.strip().strip('"') for cell in header]:
            return True
    return sniff_source(path) == "long"


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
