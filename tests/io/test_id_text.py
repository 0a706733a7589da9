"""Ids stored as numbers, dates, times, timestamps, decimals or UUIDs become the same text in memory
(pyarrow, :func:`id_text`) as in the scans (DuckDB, :func:`duckdb_text`), value for value."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from slicesand.errors import InputDataError
from slicesand.io.id_text import SCAN_TIME_ZONE, duckdb_text, id_text, refused_arrow_kind, refused_duckdb_kind

_RNG = np.random.default_rng(1)
_DECIMALS = ["0.01", "-0.05", "0", "0.0000001", "123.456", "-0.000000000000000001"]


def _decimals(precision: int, scale: int) -> pa.Array:
    quantum = decimal.Decimal(1).scaleb(-scale)
    context = decimal.Context(prec=80, rounding=decimal.ROUND_DOWN)
    values = [decimal.Decimal(v).quantize(quantum, context=context) for v in _DECIMALS]
    return pa.array([v for v in values if len(v.as_tuple().digits) <= precision], pa.decimal128(precision, scale))


COLUMNS = {
    "timestamp_us": pa.array([dt.datetime(2024, 1, 1, 12), dt.datetime(2024, 1, 1, 12, 0, 7, 500000),
                              dt.datetime(1969, 12, 31, 23, 59, 59, 123456), dt.datetime(1, 1, 1),
                              dt.datetime(2024, 1, 1, 0, 0, 10)], pa.timestamp("us")),
    "timestamp_ns": pa.array([0, 1_500_000_000, 1_700_000_000_123_456_789, -1, 10_000_000_000], pa.timestamp("ns")),
    "timestamp_ms": pa.array([0, 1500, 1_700_000_000_123, -1, 10], pa.timestamp("ms")),
    "timestamp_s": pa.array([0, 15, 1_700_000_000, -1, 10], pa.timestamp("s")),
    "timestamp_zone": pa.array([0, 1_500_000, 1_700_000_000_123_456, -1, 5], pa.timestamp("us", tz="America/New_York")),
    "timestamp_utc": pa.array([0, 1500, 1_700_000_000_123, -1, 5], pa.timestamp("ms", tz="UTC")),
    "time_us": pa.array([dt.time(1, 2, 3), dt.time(1, 2, 3, 500000), dt.time(23, 59, 59, 999999), dt.time(0, 0, 10),
                         dt.time(0)], pa.time64("us")),
    "time_ns": pa.array([0, 1, 10**9, 5 * 10**8, 86_399_999_999_999], pa.time64("ns")),
    "time_ms": pa.array([0, 1500, 86_399_999, 10, 100], pa.time32("ms")),
    "date": pa.array([dt.date(2024, 1, 1), dt.date(1, 1, 1), dt.date(9999, 12, 31), dt.date(1969, 1, 1)], pa.date32()),
    "date64": pa.array([dt.date(2024, 1, 1), dt.date(1970, 1, 1), dt.date(2000, 2, 29)], pa.date64()),
    "bool": pa.array([True, False, True]),
    "duration": pa.array([1, 2, -4, 0], pa.duration("s")),
    "uuid": pa.array([uuid.UUID(int=i * 0x123456789ABCDEF0123).bytes for i in range(5)], pa.uuid()),
    "float16": pa.array([1.5, 2.0, 0.1, 65504, -0.0], pa.float32()).cast(pa.float16()),
    "float32": pa.array(_RNG.standard_normal(300).astype(np.float32) * np.float32(10.0) ** _RNG.integers(-12, 12, 300)),
    "float64": pa.array(np.r_[_RNG.standard_normal(300) * 10.0 ** _RNG.integers(-30, 30, 300),
                              2.0, 0.1, 1e20, 1e15, 1e16, -0.0, np.inf, np.nan]),
    "int8": pa.array([1, -2, 127, 0], pa.int8()),
    "uint64": pa.array([0, 1, 2**64 - 1], pa.uint64()),
    **{f"decimal_{p}_{s}": _decimals(p, s) for p, s in ((2, 2), (5, 2), (18, 18), (19, 19), (38, 10), (38, 38), (20, 0))},
}


@pytest.mark.parametrize("name", list(COLUMNS))
def test_in_memory_text_is_the_scans_text(tmp_path, name):
    path = tmp_path / "ids.parquet"
    pq.write_table(pa.table({name: COLUMNS[name]}), path)
    stored = pq.read_table(path).column(name)  # as the in-memory reader has it
    connection = duckdb.connect()
    connection.execute(f"SET TimeZone = '{SCAN_TIME_ZONE}'")
    kind = connection.execute(f"DESCRIBE SELECT * FROM read_parquet('{path}')").fetchall()[0][1]
    sql = duckdb_text(f'"{name}"', kind) or f'CAST("{name}" AS VARCHAR)'
    scanned = [row[0] for row in connection.execute(f"SELECT {sql} FROM read_parquet('{path}')").fetchall()]
    assert id_text(stored, name, "ids.parquet").to_pylist() == scanned


def test_the_text_is_the_clear_one():
    """No zero fraction, UTC for a zoned timestamp, every digit of a decimal's scale with its 0."""
    def text(values):
        return id_text(pa.chunked_array([values]), "question", "d").to_pylist()

    assert text(COLUMNS["timestamp_us"])[:2] == ["2024-01-01 12:00:00", "2024-01-01 12:00:07.5"]
    assert text(COLUMNS["timestamp_zone"])[1] == "1970-01-01 00:00:01.5+00"
    assert text(_decimals(2, 2)) == ["0.01", "-0.05", "0.00", "0.00", "0.00"]
    assert text(pa.array([2.0, 0.1, 1e20])) == ["2.0", "0.1", "1e+20"]
    assert text(COLUMNS["uuid"])[1] == str(uuid.UUID(int=0x123456789ABCDEF0123))
    assert text(pa.array([dt.date(2024, 1, 31)])) == ["2024-01-31"]


def test_values_that_share_a_text_are_one_id():
    """Only the distinct values are formatted, and values whose text is the same are one dictionary entry."""
    chunked = pa.chunked_array([pa.array([1.5, 2.5]), pa.array([2.5, 1.5, 3.0])])
    text = id_text(chunked, "question", "d")
    assert pa.types.is_dictionary(text.type) and text.to_pylist() == ["1.5", "2.5", "2.5", "1.5", "3.0"]
    assert len(text.chunks[-1].dictionary) == 3


@pytest.mark.parametrize("values, kind", [
    (pa.array([b"m1"], pa.binary()), "binary"), (pa.array([b"m1"], pa.large_binary()), "binary"),
    (pa.array([b"m1"], pa.binary(2)), "binary"), (pa.array([["m1"]]), "list"),
    (pa.array([{"a": 1}]), "struct"), (pa.array([[("a", 1)]], pa.map_(pa.string(), pa.int64())), "map"),
])
def test_names_that_are_not_values_are_refused_alike(tmp_path, values, kind):
    assert refused_arrow_kind(values.type) == kind
    with pytest.raises(InputDataError, match=f"column 'model': holds {kind} values; expected text"):
        id_text(pa.chunked_array([values]), "model", "d.parquet")
    path = tmp_path / "refused.parquet"
    pq.write_table(pa.table({"model": values}), path)
    described = duckdb.connect().execute(f"DESCRIBE SELECT * FROM read_parquet('{path}')").fetchall()[0][1]
    assert refused_duckdb_kind(described) == kind
