"""Read a plain JSON Lines samples file column by column, with pyarrow's JSON reader.

Parsing every record of a samples file into Python dicts and lists (orjson) costs about three
times as much as pyarrow's C++ reader parsing the same lines and keeping only the fields scoring
needs (``doc_id``, ``filter``, ``target``, ``filtered_resps`` and the logged 0/1 metrics); the
question text, prompts and hashes are skipped without becoming Python objects. No Python loop runs
over the records here.

The record reader in :mod:`slicesand.ingest.importers.lmeval` stays the reference. :func:`read_columns`
returns None, and the record reader reads the file, whenever the file is not of the shape read here
(a JSON array, blank lines or leading white space, a record that lacks a field or has a field of another type, choices
without a log-likelihood pair, targets given as text, ``acc_norm``), whenever pyarrow accepts
something JSON does not (``NaN``, a byte order mark, invalid UTF-8, two records on a line), and
whenever there is anything to report as an error, so results, notes and error messages (with their
line numbers) are always the record reader's.

>>> from slicesand.ingest.importers.lmeval import SamplesFile
>>> read_columns(SamplesFile(Path("samples_x.json"), "x", None, "m", None), ImportOptions()) is None  # not JSON Lines
True
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from slicesand.errors import InputDataError
from slicesand.ingest.importers._common import ImportOptions, Notes, make_dump, read_bytes
from slicesand.ingest.importers.lmeval import (
    _LINES_SUFFIXES,
    DEFAULT_CORRECT_METRICS,
    SamplesFile,
    check_unique_questions,
    chosen_filter,
    correct_metric_name,
    is_multiple_choice,
    is_zero_one,
    score_multiple_choice,
)
from slicesand.io.tables import format_suffix

# pyarrow's parser takes NaN, Inf and Infinity as numbers; JSON (and so the record reader) rejects them.
_NON_JSON_NUMBERS = (b"NaN", b"Inf")
_JSON_SPACE = b" \t\r\n"
_NEWLINE = ord("\n")
_LONGEST_WORD = max(len(word) for word in _NON_JSON_NUMBERS)
_SCAN_BYTES = 1 << 18
# One block per 16 MB of lines: a whole samples file of a common task in one go.
_BLOCK_BYTES = 16 << 20
_KEPT_FIELDS = ("doc_id", "filter", "target", "filtered_resps")


class _NeedsRecords(Exception):
    """This file is for the record reader."""


def read_columns(samples: SamplesFile, options: ImportOptions) -> tuple[pa.Table, Notes] | None:
    """The long table of one samples file and the notes it gave, or None when the record reader must
    read it (see the module's docstring)."""
    if format_suffix(samples.path) not in _LINES_SUFFIXES:
        return None
    try:
        raw = read_bytes(samples.path)
    except InputDataError:
        return None
    notes = Notes()
    try:
        return _read(raw, samples, options, notes), notes
    except (_NeedsRecords, InputDataError):
        return None


def _read(text: bytes, samples: SamplesFile, options: ImportOptions, notes: Notes) -> pa.Table:
    data = np.frombuffer(text, dtype=np.uint8)  # the bytes, for whole-file scans in numpy
    n_lines = _check_plain_json_lines(text, data)
    first = _record_at_line(text, data, 0)
    multiple_choice = is_multiple_choice(first)
    table = _parse(text, _schema(first, multiple_choice, options))
    if table.num_rows != n_lines:  # a blank line, or two records on a line
        raise _NeedsRecords
    if table.column("doc_id").null_count:
        raise _NeedsRecords
    table, first_kept = _select_filter(table, text, samples, options, notes)
    first = first if first_kept == 0 else _record_at_line(text, data, first_kept)
    if is_multiple_choice(first) != multiple_choice:
        raise _NeedsRecords
    question = pc.cast(table.column("doc_id"), pa.string()).combine_chunks()
    question_text = question.to_numpy(zero_copy_only=False)
    check_unique_questions(question_text, samples)
    if multiple_choice:
        correct, p_correct = _score_choices(table, question_text, samples, options, notes)
    else:
        correct = _float_column(table, correct_metric_name(first, samples, options))
        if not is_zero_one(correct).all():
            raise _NeedsRecords
        p_correct = np.full(len(correct), np.nan)
    return make_dump(samples.model, question, samples.task, correct, p_correct)


def _check_plain_json_lines(text: bytes, data: np.ndarray) -> int:
    """Turn away what the record reader reads differently or rejects while pyarrow would not; returns
    the number of lines, white space at the end aside."""
    if text[:1] != b"{":  # an empty file, a JSON array, a byte order mark, a leading blank line
        raise _NeedsRecords
    if not text.isascii():
        try:
            text.decode("utf-8")
        except UnicodeDecodeError:
            raise _NeedsRecords from None
    line_breaks, non_json_number = _scan(text, data)
    if non_json_number:
        raise _NeedsRecords
    end = len(text)
    while end and text[end - 1 : end] in (b"\n", b"\r", b" ", b"\t"):  # trailing white space, not lines
        end -= 1
    return line_breaks - text.count(b"\n", end) + 1


def _scan(text: bytes, data: np.ndarray) -> tuple[int, bool]:
    """The number of line breaks, and whether ``NaN`` or ``Inf`` stands where a JSON value starts.

    Occurrences inside strings that look like values count too (``"x: NaN"``), which only costs speed.
    numpy compares the bytes piece by piece, each piece small enough to stay in the processor's cache
    for the three comparisons, and faster than ``bytes.find`` looking for a short word.

    >>> text = b'{"a": "Information", "b": "NaN"}\\n{"a": -Infinity}'
    >>> _scan(text, np.frombuffer(text, np.uint8)), _scan(text[:33], np.frombuffer(text[:33], np.uint8))
    ((1, True), (1, False))
    """
    line_breaks = 0
    for offset in range(0, len(data), _SCAN_BYTES):
        piece = data[offset : offset + _SCAN_BYTES + _LONGEST_WORD - 1]  # a word across two pieces is seen
        line_breaks += int(np.count_nonzero(piece[:_SCAN_BYTES] == _NEWLINE))
        for word in _NON_JSON_NUMBERS:
            starts = np.flatnonzero(piece[: max(0, min(_SCAN_BYTES, len(piece) - len(word) + 1))] == word[0])
            for position in range(1, len(word)):
                starts = starts[piece[starts + position] == word[position]]
            if any(_starts_a_value(text, offset + start) for start in starts.tolist()):  # rare words
                return line_breaks, True
    return line_breaks, False


def _starts_a_value(text: bytes, start: int) -> bool:
    """Whether position ``start`` follows ``:``, ``,`` or ``[`` (and maybe a minus sign), white space aside."""
    before = text[max(0, start - 64) : start].rstrip(_JSON_SPACE)
    if before.endswith(b"-"):
        before = before[:-1].rstrip(_JSON_SPACE)
    return not before or before[-1:] in (b":", b",", b"[")


def _record_at_line(text: bytes, data: np.ndarray, index: int) -> dict:
    """The record on line ``index`` (0-based) of text with no blank lines, parsed as the record reader
    parses it: the reference for which fields a file's first record logs."""
    if index == 0:
        end = text.find(b"\n")
        line = text if end < 0 else text[:end]
    else:
        line_ends = np.flatnonzero(data == _NEWLINE)
        stop = int(line_ends[index]) if index < len(line_ends) else len(text)
        line = text[int(line_ends[index - 1]) + 1 : stop]
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError:
        raise _NeedsRecords from None
    if not isinstance(record, dict) or type(record.get("doc_id")) is not int:
        raise _NeedsRecords
    return record


def _schema(first: dict, multiple_choice: bool, options: ImportOptions) -> pa.Schema:
    """The fields to keep, typed as the first record has them (a record that differs fails to parse)."""
    fields = [pa.field("doc_id", pa.int64()), pa.field("filter", pa.string())]
    if multiple_choice:
        target = first.get("target")
        if isinstance(target, str) or target is None:
            fields.append(pa.field("target", pa.string()))
        elif type(target) is int:
            fields.append(pa.field("target", pa.int64()))
        else:
            raise _NeedsRecords
        pairs = first.get("filtered_resps")
        if not isinstance(pairs, list) or not all(isinstance(v, str) for pair in pairs for v in pair):
            raise _NeedsRecords  # log-likelihoods as numbers, or only ``resps``: the record reader
        fields.append(pa.field("filtered_resps", pa.list_(pa.list_(pa.string()))))
        metrics = [options.metric]
    else:
        metrics = [*DEFAULT_CORRECT_METRICS, *([options.correct_metric] if options.correct_metric else [])]
    metrics = list(dict.fromkeys(metrics))
    if any(name in _KEPT_FIELDS for name in metrics):
        raise _NeedsRecords
    return pa.schema(fields + [pa.field(name, pa.float64()) for name in metrics])


def _parse(text: bytes, schema: pa.Schema) -> pa.Table:
    import pyarrow.json as pa_json  # only the lm-eval import needs it

    try:
        return pa_json.read_json(
            pa.BufferReader(text),
            read_options=pa_json.ReadOptions(use_threads=False, block_size=_BLOCK_BYTES),
            parse_options=pa_json.ParseOptions(
                explicit_schema=schema, unexpected_field_behavior="ignore", newlines_in_values=False
            ),
        )
    except (pa.ArrowException, ValueError):
        raise _NeedsRecords from None


def _select_filter(
    table: pa.Table, text: bytes, samples: SamplesFile, options: ImportOptions, notes: Notes
) -> tuple[pa.Table, int]:
    """The records of the chosen filter, and the line of the first of them."""
    filters = table.column("filter")
    if filters.null_count:
        if b'"filter"' in text:  # a null filter is not a missing one to the record reader
            raise _NeedsRecords
        filters = pc.fill_null(filters, "none")
    chosen = chosen_filter(pc.unique(filters).to_pylist(), samples, options, notes)
    if chosen is None:
        return table, 0
    keep = pc.equal(filters, chosen)
    first_kept = int(np.argmax(keep.to_numpy(zero_copy_only=False)))
    return table.filter(keep), first_kept


def _score_choices(
    table: pa.Table, question: np.ndarray, samples: SamplesFile, options: ImportOptions, notes: Notes
) -> tuple[np.ndarray, np.ndarray]:
    responses = table.column("filtered_resps").combine_chunks()
    pairs = responses.flatten()
    if responses.null_count or pairs.null_count or pairs.flatten().null_count:
        raise _NeedsRecords
    if len(pairs) and not pc.all(pc.equal(pc.list_value_length(pairs), 2)).as_py():
        raise _NeedsRecords
    log_likelihoods = _parse_floats(pairs.flatten().take(pa.array(np.arange(0, 2 * len(pairs), 2))))
    n_choices = pc.list_value_length(responses).to_numpy().astype(np.int64)
    targets = table.column("target").to_pylist()

    def choice_texts() -> list[str] | None:
        raise _NeedsRecords  # acc_norm and text targets need the logged arguments

    return score_multiple_choice(
        log_likelihoods, n_choices, question, targets, _float_column(table, options.metric), choice_texts,
        samples, options, notes,
    )


def _parse_floats(strings: pa.Array) -> np.ndarray:
    """Strings as Python's ``float`` reads them (as the record reader's numpy does).

    Arrow's cast reads a subset of that syntax (no ``1_0``, no white space, no non-ASCII digits),
    rounding correctly as Python does, so where it succeeds the numbers are the same; the rest goes
    through numpy on Python strings.
    """
    try:
        return pc.cast(strings, pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, ValueError):
        pass
    try:
        return np.array(strings.to_numpy(zero_copy_only=False), dtype=np.float64)
    except (TypeError, ValueError):
        raise _NeedsRecords from None


def _float_column(table: pa.Table, name: str) -> np.ndarray:
    """A float64 column as numpy, NaN where it is null (missing), as the record reader has it."""
    return table.column(name).to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
