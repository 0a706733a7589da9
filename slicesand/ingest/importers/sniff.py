"""The one sniffer: what kind of source a path is, for every command (``import``, ``slice``, ``run``,
``backtest`` all ask :func:`sniff_source`, so a file is never read one way by one command and another
way by the next).

Files are told by their format suffix (under any ``.gz``/``.zst``/``.bz2``) and their first bytes:

- Parquet (by name or magic bytes), and CSV whose header names at least two of slicesand's long-table
  columns (``model``, ``question``, ``task``, ``correct``, ``p_correct``, ``flops``): ``"long"``;
- any other CSV (``.csv``, ``.txt``, no suffix): a response matrix, ``"matrix-csv"``;
- JSON lines (``.jsonl``, ``.jsonlines``, ``.ndjson``) and ``.json``: py-irt (``subject_id`` and
  ``responses``), Every Eval Ever instance records (``schema_version``, ``sample_id``,
  ``evaluation``), or lm-eval samples (``doc_id``);
- HELM's own file names: ``"helm"``.

Folders: HELM run folders, lm-eval output, or Every Eval Ever ``*_samples.jsonl`` sidecars. A folder
holding two kinds is refused with both named, since reading one silently would drop the other.

>>> import pathlib, tempfile
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "m.csv").write_text("model,q1,q2\\ngpt2,1,0\\n")
>>> sniff_source(folder / "m.csv")
'matrix-csv'
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path

from slicesand.errors import InputDataError
from slicesand.ingest.importers.eee import looks_like_eee, looks_like_eee_record
from slicesand.ingest.importers.helm import HELM_FILE_NAMES, looks_like_helm
from slicesand.io.tables import (
    csv_header, format_suffix, is_parquet, read_head, reject_binary, reject_lfs_pointer, reject_unreadable_twice,
)

KINDS = ("lm-eval", "helm", "matrix-csv", "py-irt", "every-eval-ever", "long")
JSON_SUFFIXES = (".json", ".jsonl", ".jsonlines", ".ndjson")
CSV_SUFFIXES = (".csv", ".txt", "")  # comma-separated; a TSV is not sniffed as CSV
LONG_COLUMNS = ("model", "question", "task", "correct", "p_correct", "flops")
FROM_HINT = "pass `source_kind` with one of: " + ", ".join(KINDS)


def sniff_source(path: str | PathLike, long_columns: tuple[str, ...] = LONG_COLUMNS) -> str:
    """The kind of source at ``path``: one of :data:`KINDS`.

    ``long_columns`` are the long table's column names as the user renamed them (``--model-column``
    and friends). Raises :class:`InputDataError` (with a hint to pass ``--from``) when the kind cannot
    be told, and for a Git LFS pointer (with the hint to fetch the data).
    """
    path = Path(path)
    if not path.exists():
        raise InputDataError(str(path), "no such file or directory")
    if path.is_dir():
        return _sniff_folder(path)
    if path.name in HELM_FILE_NAMES:
        return "helm"
    reject_unreadable_twice(path, str(path))
    if is_parquet(path) or path.stat().st_size == 0:
        return "long"  # an empty file gets the long reader's "the file is empty"
    head = read_head(path)
    reject_lfs_pointer(path, head)
    reject_binary(str(path), head)  # a .csv that is gzip or zip inside: say so, do not parse the bytes
    suffix = format_suffix(path)
    if suffix in JSON_SUFFIXES:
        return _sniff_json(path, head)
    if suffix in CSV_SUFFIXES:
        header = csv_header(head)
        if len(set(header) & set(long_columns)) >= 2:
            return "long"
        _refuse_a_long_header_misspelt(path, header, long_columns)
        return "matrix-csv"
    raise InputDataError(str(path), f"unknown file type {suffix!r}", hint=FROM_HINT)


def _refuse_a_long_header_misspelt(path: Path, header: list[str], long_columns: tuple[str, ...]) -> None:
    """A header that names the long table's columns in another letter case, or with another separator,
    would be read as a response matrix and refused in its terms ("the first column repeats an id"):
    say what it is instead."""
    wanted = {name.lower(): name for name in long_columns}
    cased = [name for name in header if name.strip().lower() in wanted and name not in long_columns]
    if len({name.strip().lower() for name in cased}) >= 2:
        raise InputDataError(str(path), "the header names the long table's columns in another letter case",
                             found=", ".join(cased[:4]), hint="column names are lower case: "
                             + ", ".join(long_columns) + " (rename them)")
    if len(header) == 1:
        for separator in (";", "\t", "|"):
            parts = [part.strip().lower() for part in header[0].split(separator)]
            if len(set(parts) & set(wanted)) >= 2:
                shown = "a tab" if separator == "\t" else repr(separator)
                raise InputDataError(str(path), f"the file is separated by {shown}, not by commas",
                                     found=header[0][:60], hint="slicesand reads comma-separated CSV; convert it, "
                                     "e.g. with Python's csv module or pandas (`sep=`)")


def _sniff_json(path: Path, head: bytes) -> str:
    if b'"subject_id"' in head and b'"responses"' in head:
        return "py-irt"
    if looks_like_eee_record(head):
        return "every-eval-ever"
    if b'"doc_id"' in head:
        return "lm-eval"
    raise InputDataError(
        str(path), "a JSON file that is neither lm-eval samples, Every Eval Ever records nor py-irt responses",
        hint=FROM_HINT,
    )


def _sniff_folder(path: Path) -> str:
    from slicesand.ingest.importers.lmeval import looks_like_lmeval  # and pandas: only a folder needs it

    found = [kind for kind, looks in (("helm", looks_like_helm), ("lm-eval", looks_like_lmeval),
                                      ("every-eval-ever", looks_like_eee)) if looks(path)]
    if not found:
        raise InputDataError(
            str(path), "found no lm-eval samples files, HELM run folders or Every Eval Ever samples in this folder",
            hint=FROM_HINT,
        )
    if len(found) > 1:
        raise InputDataError(
            str(path), f"the folder holds {' and '.join(found)} output together; reading one kind would drop the other",
            hint=f"pass `source_kind` {found[0]} or {found[1]} to read one kind, or point at each kind's own folder",
        )
    return found[0]
