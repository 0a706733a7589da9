"""Read Every Eval Ever instance-level records (``<uuid>_samples.jsonl``) into the long table.

Every Eval Ever (github.com/evaleval/every_eval_ever) stores one JSON object per line and per scored
sample, next to an aggregate ``.json``; this reader follows its schema ``instance_level_eval_0.2.1``
(file ``instance_level_eval.schema.json``). The fields used:

- ``model_id`` (a Hugging Face ``developer/model`` id) -> ``model``;
- ``evaluation_name`` (e.g. ``GSM8K``, ``mmlu_physics``) -> ``task``;
- ``sample_hash``, else ``sample_id`` -> ``question``. The hash (sha256 of the prompt and its
  references) names the same sample whatever a run numbered it, so when every record of a task has
  one, questions are joined by hash: two runs that number the questions differently still line up.
  A task where some record lacks a hash falls back to ``sample_id``, with a note.
- ``evaluation.is_correct`` (boolean) -> ``correct``. The schema's ``evaluation.score`` is an
  unconstrained per-sample number, not a probability, and there is no per-choice score, so
  ``p_correct`` stays empty.

The path may be one samples file or a folder holding them (searched recursively); ``.gz`` and
``.zst`` files are read too. Parsing is done by ``pyarrow.json`` on every core, reading only these
fields.

>>> import pathlib, tempfile
>>> path = pathlib.Path(tempfile.mkdtemp()) / "0_samples.jsonl"
>>> _ = path.write_text('{"schema_version": "instance_level_eval_0.2.1", "model_id": "EleutherAI/pythia-1b", '
...                     '"evaluation_name": "arc", "sample_id": "arc_1", "sample_hash": "ab12", '
...                     '"evaluation": {"score": 1.0, "is_correct": true}}\\n')
>>> read_eee(path, ImportOptions()).dump.to_pylist()[0]["question"]
'ab12'
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json

from slicesand.errors import InputDataError
from slicesand.ingest.importers._common import DUMP_SCHEMA, ImportOptions, Notes, ReaderOutput
from slicesand.io.tables import LFS_POINTER, compression_of, read_file_bytes, read_head, reject_lfs_pointer

SCHEMA_VERSION = "instance_level_eval_0.2.1"
SAMPLES_FILE = re.compile(r"_samples\.(jsonl|jsonlines|ndjson)(\.gz|\.zst|\.zstd|\.bz2)?$", re.IGNORECASE)

_FIELDS = pa.schema([
    ("model_id", pa.string()),
    ("evaluation_name", pa.string()),
    ("sample_id", pa.string()),
    ("sample_hash", pa.string()),
    ("evaluation", pa.struct([("is_correct", pa.bool_())])),
])
_REQUIRED = ("model_id", "evaluation_name", "sample_id")


def looks_like_eee_record(head: bytes) -> bool:
    """Whether a file's first bytes are an Every Eval Ever instance record."""
    return all(key in head for key in (b'"schema_version"', b'"sample_id"', b'"evaluation"'))


def looks_like_eee(path: Path) -> bool:
    """Whether ``path`` is, or holds, Every Eval Ever samples files."""
    files = [path] if path.is_file() else _samples_files(path)
    return any(looks_like_eee_record(read_head(file, 4096)) for file in files[:3])


def _samples_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*_samples.*") if p.is_file() and SAMPLES_FILE.search(p.name))


def read_eee(path: Path, options: ImportOptions) -> ReaderOutput:
    """Read one samples file, or every samples file under a folder, into a long table."""
    notes = Notes()
    files = [path] if path.is_file() else [f for f in _samples_files(path) if looks_like_eee_record(read_head(f, 4096))]
    if not files:
        raise InputDataError(str(path), "no Every Eval Ever samples files (*_samples.jsonl) found",
                             hint="point at a samples file or a folder of them")
    table = pa.concat_tables([_read_records(file) for file in files])
    question = _question_keys(table, notes)
    is_correct = table.column("evaluation").combine_chunks().field("is_correct")
    dump = pa.Table.from_arrays(
        [table.column("model_id"), question, table.column("evaluation_name"),
         pc.cast(is_correct, pa.int8()), pa.nulls(table.num_rows, pa.float64())],
        schema=DUMP_SCHEMA,
    )
    _reject_repeats(dump, str(path))
    return ReaderOutput(dump=dump, notes=notes.render())


def _read_records(file: Path) -> pa.Table:
    """The fields slicesand uses, for every line of one samples file; a missing one is an error."""
    options = pa_json.ParseOptions(explicit_schema=_FIELDS, unexpected_field_behavior="ignore")
    try:
        if compression_of(file) is None:
            reject_lfs_pointer(file, read_head(file, len(LFS_POINTER)))
            table = pa_json.read_json(file, parse_options=options)
        else:
            table = pa_json.read_json(pa.BufferReader(read_file_bytes(file)), parse_options=options)
    except pa.ArrowInvalid as error:
        raise InputDataError(str(file), f"not valid Every Eval Ever JSON lines ({str(error).splitlines()[0]})",
                             hint=f"each line must be one instance record of schema {SCHEMA_VERSION}") from None
    table = table.select([name for name in _FIELDS.names])
    for name in _REQUIRED:
        _require(table.column(name), file, name)
    _require(table.column("evaluation").combine_chunks().field("is_correct"), file, "evaluation.is_correct")
    return table


def _require(values: pa.ChunkedArray | pa.Array, file: Path, name: str) -> None:
    if values.null_count:
        line = int(pc.index(pc.is_null(values), True).as_py()) + 1
        raise InputDataError(str(file), f"line {line}: the record has no {name}",
                             hint=f"the schema {SCHEMA_VERSION} requires it on every line")


def _question_keys(table: pa.Table, notes: Notes) -> pa.ChunkedArray:
    """``sample_hash`` for tasks whose every record has one, else ``sample_id``."""
    hashes, ids, tasks = table.column("sample_hash"), table.column("sample_id"), table.column("evaluation_name")
    if hashes.null_count == 0:
        return hashes
    task_code = pc.dictionary_encode(tasks).combine_chunks()
    missing = pc.is_null(hashes).combine_chunks().to_numpy(zero_copy_only=False)
    codes = task_code.indices.to_numpy(zero_copy_only=False)
    task_lacks_hash = np.bincount(codes[missing], minlength=len(task_code.dictionary)) > 0
    use_id = pa.array(task_lacks_hash[codes])
    for task in task_code.dictionary.to_numpy(zero_copy_only=False)[task_lacks_hash]:
        notes.add("some records have no sample_hash, so questions are matched by sample_id",
                  group="no-hash", subject=str(task))
    return pc.if_else(use_id, ids.combine_chunks(), hashes.combine_chunks())


def _reject_repeats(dump: pa.Table, name: str) -> None:
    keys = pc.binary_join_element_wise(dump.column("model"), dump.column("task"), dump.column("question"), "\x1f")
    if pc.count_distinct(keys).as_py() == dump.num_rows:
        return
    counts = pc.value_counts(keys)
    repeated = counts.filter(pc.greater(counts.field("counts"), 1))[0]["values"].as_py().split("\x1f")
    raise InputDataError(
        name, f"model {repeated[0]!r} has two records for sample {repeated[2]!r} of {repeated[1]!r}",
        hint="keep one record per model and sample (a sample scored by several metrics needs one "
             "evaluation_name per metric)",
    )
