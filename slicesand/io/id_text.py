"""Model names, question ids and tasks of any stored type as text, the same text in both engines.

A Parquet dump may store its ids as numbers, dates, times, timestamps or UUIDs. The in-memory reader
(pyarrow) and the out-of-core scans (DuckDB) must name them alike, in questions.csv, slices.csv, messages
and the joins between the scans and the matrices. The text is DuckDB's ``CAST(x AS VARCHAR)``, with the
session's time zone fixed to UTC (:data:`SCAN_TIME_ZONE`): integers as written, decimals with every digit of their scale (``0.50``), floats as
Python's ``repr`` (a float32 by its exact value, as a double), booleans ``true``/``false``, dates
``2024-01-31``, times and timestamps without a zero fraction (``2024-01-31 12:00:00``,
``12:00:07.5``), a timestamp with a time zone in UTC with ``+00``, a UUID in its hyphenated form; the
scans take that text from DuckDB itself, (:func:`duckdb_text`), and :func:`id_text` makes it from Arrow.
``tests/io/test_id_text.py`` pins the two together.

Binary, list, struct, map and union columns name nothing: both engines refuse them with
:func:`refuse_id_type`'s one line (exit 3).

>>> import pyarrow as pa, datetime as dt
>>> id_text(pa.chunked_array([[dt.datetime(2024, 1, 1, 12), dt.datetime(2024, 1, 1, 12, 0, 7, 500000)]]),
...         "question", "d.parquet").to_pylist()
['2024-01-01 12:00:00', '2024-01-01 12:00:07.5']
>>> id_text(pa.chunked_array([[2.0, 0.1, 1e20]]), "model", "d.parquet").to_pylist()
['2.0', '0.1', '1e+20']
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from slicesand.errors import InputDataError
from slicesand.io.columns import numpy_of

#: The DuckDB session time zone under which the scans turn a timestamp with a time zone into text.
SCAN_TIME_ZONE = "UTC"
ID_TYPES_HINT = "store names and ids as strings"
_DUCKDB_INTEGERS = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
                    "UBIGINT", "UHUGEINT"}


def refuse_id_type(name: str, column: str, kind: str) -> None:
    """The one line both engines give for a column of ``kind`` values (binary, list, ...) that should
    name models, questions or tasks.

    >>> refuse_id_type("d.parquet", "model", "binary")
    Traceback (most recent call last):
    ...
    slicesand.errors.InputDataError: d.parquet: column 'model': holds binary values; expected text, numbers, dates or times (hint: store names and ids as strings)
    """
    raise InputDataError(name, f"holds {kind} values; expected text, numbers, dates or times", column=column,
                         hint=ID_TYPES_HINT)


def refused_duckdb_kind(kind: str) -> str | None:
    """The kind of values (as :func:`refused_arrow_kind` names it) of a DuckDB type that cannot be an
    id, or ``None`` for one that can.

    >>> refused_duckdb_kind("BLOB"), refused_duckdb_kind("VARCHAR[]"), refused_duckdb_kind("TIMESTAMP")
    ('binary', 'list', None)
    """
    kind = kind.upper()
    if kind == "BLOB":
        return "binary"
    if kind.endswith("]"):
        return "list"
    for prefix in ("STRUCT", "MAP", "UNION"):
        if kind.startswith(prefix):
            return prefix.lower()
    return None


def duckdb_text(expression: str, kind: str) -> str | None:
    """The SQL turning a DuckDB id column of type ``kind`` into :func:`id_text`'s text, or ``None``
    for text and integers (whose DuckDB text is already theirs, and whose native grouping is faster).

    A float32 goes through DOUBLE: DuckDB prints a FLOAT by neither its shortest digits nor its exact
    value (3728151.25 but 0.1), a rule pyarrow cannot follow; its exact value, as a double's ``repr``, is
    the same in both engines.

    >>> duckdb_text('"question"', "TIMESTAMP"), duckdb_text('"question"', "FLOAT"), duckdb_text('"q"', "BIGINT")
    ('CAST("question" AS VARCHAR)', 'CAST(CAST("question" AS DOUBLE) AS VARCHAR)', None)
    """
    kind = kind.upper()
    if kind == "VARCHAR" or kind in _DUCKDB_INTEGERS:
        return None
    if kind == "FLOAT":
        return f"CAST(CAST({expression} AS DOUBLE) AS VARCHAR)"
    if kind.startswith("DECIMAL"):  # DuckDB writes DECIMAL(2,2)'s 0.05 as .05
        return f"regexp_replace(CAST({expression} AS VARCHAR), '^(-?)\\.', '\\10.')"
    return f"CAST({expression} AS VARCHAR)"


def refused_arrow_kind(kind: pa.DataType) -> str | None:
    """The kind of values of an Arrow type that cannot be an id (the name the scans give it), or None."""
    if pa.types.is_dictionary(kind):
        return refused_arrow_kind(kind.value_type)
    if isinstance(kind, pa.BaseExtensionType):
        return None if _is_uuid(kind) else str(kind.extension_name)
    checks = (("map", pa.types.is_map), ("binary", _is_binary), ("list", _is_list), ("struct", pa.types.is_struct),
              ("union", pa.types.is_union))
    return next((label for label, check in checks if check(kind)), None)


def id_text(chunked: pa.ChunkedArray, column: str, name: str) -> pa.ChunkedArray:
    """An id column as text (string, or dictionary-encoded string for a column that was not text),
    formatted as the scans format it; a binary, list, struct, map or union column is refused.

    Only the distinct values are formatted: the column is dictionary-encoded first, so a dump of
    millions of rows formats its few thousand ids once.
    """
    kind = chunked.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_null(kind):
        return chunked
    refused = refused_arrow_kind(kind)
    if refused is not None:
        refuse_id_type(name, column, refused)
    if isinstance(kind, pa.BaseExtensionType):  # a UUID: its 16 bytes, formatted below
        chunked = pa.chunked_array([chunk.storage for chunk in chunked.chunks], kind.storage_type)
    elif pa.types.is_float16(kind):  # numpy and pyarrow's kernels lack it (DuckDB reads it as FLOAT)
        chunked = chunked.cast(pa.float32())
    elif pa.types.is_dictionary(kind):
        if pa.types.is_string(kind.value_type) or pa.types.is_large_string(kind.value_type):
            return chunked
        encoded = pa.table({column: chunked}).unify_dictionaries().column(column)
    if not pa.types.is_dictionary(chunked.type):
        encoded = pc.dictionary_encode(chunked)
    if not encoded.num_chunks:
        return pa.chunked_array([], pa.string())
    dictionary = encoded.chunks[-1].dictionary  # every chunk's dictionary is a prefix of the last one's
    text = _uuid_text(dictionary) if isinstance(kind, pa.BaseExtensionType) else _values_text(dictionary)
    # Two stored values may share a text (NaNs with different payloads): code by the text, not the value.
    unique = pc.dictionary_encode(text)
    recode = unique.indices
    chunks = [pa.DictionaryArray.from_arrays(pc.take(recode, chunk.indices), unique.dictionary)
              for chunk in encoded.chunks]
    return pa.chunked_array(chunks, pa.dictionary(pa.int32(), pa.string()))


def _values_text(values: pa.Array) -> pa.Array:
    """Distinct non-text values as DuckDB's text (see the module's docstring)."""
    kind = values.type
    if pa.types.is_floating(kind):  # a dictionary holds no null
        numbers = numpy_of(values).astype(np.float64)  # float32: its exact value (see duckdb_text)
        return pa.array(numbers.astype(str).astype(object), pa.string())
    if pa.types.is_decimal(kind):
        return _decimal_text(values)
    if pa.types.is_duration(kind):  # DuckDB reads a stored duration as its integer count
        return values.cast(pa.int64()).cast(pa.string())
    zone = pa.types.is_timestamp(kind) and kind.tz is not None
    if zone:
        values = values.cast(pa.timestamp(kind.unit))  # the same instants, in UTC, without the zone
    text = values.cast(pa.string())
    if pa.types.is_timestamp(kind) or pa.types.is_time(kind):
        text = pc.replace_substring_regex(text, r"(\.\d*[1-9])0+$", r"\1")
        text = pc.replace_substring_regex(text, r"\.0+$", "")
    if zone:
        text = pc.binary_join_element_wise(text, "+00", "")
    return text


def _decimal_text(values: pa.Array) -> pa.Array:
    """Decimals in fixed notation with all their scale's digits and a 0 before the point (``0.05``), as
    DuckDB writes them (but for the 0, which the SQL puts back); pyarrow would write a small one with an
    exponent (``0E-18``). The unscaled integers are read from the buffer, whole, as Python integers in
    an object array (the distinct values only).

    >>> _decimal_text(pa.array([__import__("decimal").Decimal("-0.05"), 0], pa.decimal128(20, 19))).to_pylist()
    ['-0.0500000000000000000', '0.0000000000000000000']
    """
    scale, width = values.type.scale, values.type.byte_width // 8
    words = np.frombuffer(values.buffers()[1], dtype="<u8")[values.offset * width:(values.offset + len(values)) * width]
    words = words.reshape(-1, width).astype(object)
    unscaled = sum(words[:, i] << (64 * i) for i in range(width))  # two's complement of 128 or 256 bits
    unscaled = np.where(unscaled >= 1 << (64 * width - 1), unscaled - (1 << (64 * width)), unscaled)
    sign = np.where(unscaled < 0, "-", "")
    magnitude = np.abs(unscaled) * 10 ** max(-scale, 0)
    text = (magnitude // 10 ** max(scale, 0)).astype(str)
    if scale > 0:
        fraction = np.char.zfill((magnitude % 10 ** scale).astype(str), scale)
        text = np.char.add(np.char.add(text, "."), fraction)
    return pa.array(np.char.add(sign, text).astype(object), pa.string())


def _uuid_text(storage: pa.Array) -> pa.Array:
    """16-byte UUIDs as 8-4-4-4-12 lower-case hex, as DuckDB prints them (one hex pass over the bytes,
    then the five groups of digits copied between the hyphens)."""
    raw = np.frombuffer(storage.buffers()[1], dtype=np.uint8)[storage.offset * 16:(storage.offset + len(storage)) * 16]
    digits = np.frombuffer(raw.tobytes().hex().encode(), dtype=np.uint8).reshape(-1, 32)
    text = np.full((len(digits), 36), ord("-"), dtype=np.uint8)
    for hyphens, (start, stop) in enumerate(((0, 8), (8, 12), (12, 16), (16, 20), (20, 32))):
        text[:, start + hyphens:stop + hyphens] = digits[:, start:stop]
    return pa.array(np.char.decode(text.view("S36").ravel(), "ascii").astype(object), pa.string())


def _is_uuid(kind: pa.DataType) -> bool:
    return getattr(kind, "extension_name", "") == "arrow.uuid"


def _is_binary(kind: pa.DataType) -> bool:
    return (pa.types.is_binary(kind) or pa.types.is_large_binary(kind) or pa.types.is_fixed_size_binary(kind)
            or getattr(pa.types, "is_binary_view", lambda _: False)(kind))


def _is_list(kind: pa.DataType) -> bool:
    return (pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind)
            or getattr(pa.types, "is_list_view", lambda _: False)(kind)
            or getattr(pa.types, "is_large_list_view", lambda _: False)(kind))
