"""ColumnTable: the CSV it writes is pandas' ``to_csv`` byte for byte; its frame and Parquet hold the same
table."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from slicesand.io.columns import ColumnTable, numpy_of, positions_in, write_columns

FLOATS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.integers(-10**17, 10**17).map(float),  # integral floats: 100.0, 1e+16
    st.sampled_from([0.0, -0.0, 0.25, 1e-300, 5e-324, 1.7976931348623157e308, 1.0439065019353754e+19,
                     1e16, 1e-5, 0.0001, 123456789012345680.0, float("nan")]),
)
# Hostile text: separators, quotes, line breaks, spreadsheet formulas, spaces, non-ASCII, the empty string.
TEXT = st.one_of(
    st.text(st.characters(exclude_categories=["Cs"]), max_size=12),
    st.sampled_from(["", ",", '"', '""', "a,b", 'say "hi"', "line\nbreak", "cr\rlf\r\n", "=1+1", "+SUM(A1)",
                     "-2", "@x", " lead", "trail ", "\t", "naïve 模型", "nan", "None", "1e3"]),
)


def _table(n: int, floats: list[float], ints: list[int], texts: list[str | None]) -> ColumnTable:
    return ColumnTable({
        "model": np.array(texts, dtype=object),
        "flops": np.array(floats, dtype=np.float64),
        "n_answered": np.array(ints, dtype=np.int64),
        "group_1": np.array(floats[::-1], dtype=np.float64),
    })


@st.composite
def tables(draw) -> ColumnTable:
    n = draw(st.integers(1, 12))
    return _table(n, draw(st.lists(FLOATS, min_size=n, max_size=n)),
                  draw(st.lists(st.integers(-2**63, 2**63 - 1), min_size=n, max_size=n)),
                  draw(st.lists(st.one_of(TEXT, st.none()), min_size=n, max_size=n)))


@settings(max_examples=300, deadline=None)
@given(tables())
def test_csv_is_what_pandas_writes(table):
    assert table.csv_text() == table.to_frame().to_csv(index=False, lineterminator="\n")


@settings(max_examples=100, deadline=None)
@given(hnp.arrays(np.float32, st.integers(1, 8)), hnp.arrays(np.int32, st.integers(1, 8)))
def test_other_number_types_are_written_as_pandas_writes_them(small_floats, small_ints):
    n = min(len(small_floats), len(small_ints))
    table = ColumnTable({"x": small_floats[:n], "k": small_ints[:n], "b": small_ints[:n] > 0,
                         "u": np.array([str(v) for v in small_ints[:n]])})
    assert table.csv_text() == table.to_frame().to_csv(index=False, lineterminator="\n")


def test_written_file_is_the_same_bytes_as_pandas(tmp_path):
    table = _table(3, [1.0439065019353754e+19, 0.25, float("nan")], [1, -2, 3], ["a,b", 'q"', None])
    write_columns(table, tmp_path / "t.csv")
    table.to_frame().to_csv(tmp_path / "p.csv", index=False, lineterminator="\n")
    assert (tmp_path / "t.csv").read_bytes() == (tmp_path / "p.csv").read_bytes()
    assert (tmp_path / "t.csv").read_text(encoding="utf-8").splitlines()[1] == '"a,b",1.0439065019353754e+19,1,'
    sink = io.BytesIO()
    write_columns(table, "-", stdout=sink)
    assert sink.getvalue() == (tmp_path / "t.csv").read_bytes()


@pytest.mark.parametrize("suffix", [".parquet", ".pq"])
def test_parquet_holds_what_pandas_wrote_without_its_metadata(tmp_path, suffix):
    table = _table(3, [1e20, -0.0, float("nan")], [1, 2, 3], ["a", "b", None])
    write_columns(table, tmp_path / f"t{suffix}")
    read = pq.read_table(tmp_path / f"t{suffix}")
    assert read.schema.metadata is None  # no pandas version in the bytes
    from_pandas = pa.Table.from_pandas(table.to_frame(), preserve_index=False).replace_schema_metadata(None)
    assert read.equals(from_pandas)  # NaN written as null, as pandas had it
    assert read.column("flops").null_count == 1 and read.column("model").null_count == 1
    pd.testing.assert_frame_equal(read.to_pandas(), table.to_frame(), check_exact=True)


def test_frame_keeps_the_column_types():
    frame = _table(2, [1.0, 2.0], [3, 4], ["a", "b"]).to_frame()
    assert [str(t) for t in frame.dtypes][1:] == ["float64", "int64", "float64"]
    assert isinstance(frame.index, pd.RangeIndex)


ARROW_TYPES = [pa.int8(), pa.int32(), pa.int64(), pa.uint16(), pa.float32(), pa.float64(), pa.bool_(), pa.string()]


@st.composite
def arrow_chunks(draw):
    kind = draw(st.sampled_from(ARROW_TYPES))
    cell = (st.booleans() if kind == pa.bool_() else st.text(max_size=4) if kind == pa.string()
            else st.floats(width=32, allow_nan=False) if pa.types.is_floating(kind)
            else st.integers(0, 2**15 - 1) if kind == pa.uint16() else st.integers(-100, 100))
    chunks = draw(st.lists(st.lists(st.one_of(st.none(), cell), max_size=20), min_size=1, max_size=3))
    arrays = [pa.array(chunk, type=kind) for chunk in chunks]
    offset = draw(st.integers(0, 3))  # slices start inside a byte of the validity bitmap
    return pa.chunked_array([a.slice(min(offset, len(a))) for a in arrays], type=kind)


@settings(max_examples=300, deadline=None)
@given(arrow_chunks())
def test_numpy_of_is_pyarrows_to_numpy(chunked):
    ours, theirs = numpy_of(chunked), chunked.to_numpy()
    assert ours.dtype == theirs.dtype
    assert ours.tolist() == theirs.tolist() or np.array_equal(ours, theirs, equal_nan=True)
    for chunk in chunked.chunks:
        assert np.array_equal(numpy_of(chunk), chunk.to_numpy(zero_copy_only=False),
                              equal_nan=chunk.type not in (pa.string(), pa.bool_()))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=3)), max_size=12),
       st.lists(st.text(max_size=3), max_size=12, unique=True))
def test_positions_in_finds_each_value(values, universe):
    found = positions_in(np.array(values, dtype=object), np.array(universe, dtype=object))
    assert found.tolist() == [universe.index(v) if v in universe else -1 for v in values]
