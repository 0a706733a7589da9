"""Reading CSV tables (slicesand.io.tables): a quoted line break stays in its value, whatever the file's size."""

from __future__ import annotations

import csv
import gzip
import io

import pyarrow.csv as pa_csv
import pytest

from slicesand.io.tables import csv_parse_options, read_table

BLOCK = pa_csv.ReadOptions().block_size  # 1 MiB: the unit pyarrow cuts a file into
EVIL = "../../evil\nx"


def cut_inside_a_quote(header: list[str], rows: list[list[str]], cell: tuple[int, int] = (0, 1),
                       pad: str = "_") -> bytes:
    """The CSV text of ``rows`` (some value holding a quoted line break) whose last line break before
    the first block's end is inside a quoted value, where pyarrow's chunker cut a row in two: ``cell``
    (of a row before that line) is padded with ``pad`` until it is (``rows`` then holds the padded value)."""
    def text(part: list[list[str]]) -> bytes:
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows(part)
        return out.getvalue().encode()

    row, column = cell
    rest, value = text(rows[row + 1:]), rows[row][column]
    for count in range(200):
        rows[row][column] = value + pad * count
        head = text([header, *rows[: row + 1]])
        cut = rest.rfind(b"\n", 0, BLOCK - len(head))
        if rest.count(b'"', 0, cut) % 2:  # an odd number of quotes before it: the cut is inside one
            return head + rest
    raise AssertionError("no padding puts a quoted line break at the end of the first block")


def long_quoted_dump(n_rows: int = 60_000, evil_from: int = 0) -> tuple[bytes, list[list[str]]]:
    """A long dump of more than one block whose every third question from row ``evil_from`` on is named
    ``EVIL`` and its number (a question's text may span lines; a model's name may not)."""
    rows = [[f"m{i % 3}", f"{EVIL}{i}" if i >= evil_from and i % 3 == 0 else f"q{i}", str(i % 2), "1e21"]
            for i in range(n_rows)]
    data = cut_inside_a_quote(["model", "question", "correct", "flops"], rows)
    assert len(data) > BLOCK
    return data, rows


@pytest.mark.parametrize("how", ["file", "stdin", "gzip"])
def test_a_quoted_line_break_past_the_first_block_stays_in_its_value(tmp_path, how):
    """A dump of more than 1 MiB was read on threads and cut at a quoted line break: '3 fields on this
    row, but the header has 4', with no row; the same rows in a small file read fine."""
    data, rows = long_quoted_dump()
    path = tmp_path / ("d.csv.gz" if how == "gzip" else "d.csv")
    path.write_bytes(gzip.compress(data, compresslevel=1) if how == "gzip" else data)
    table, _ = read_table("-" if how == "stdin" else path, stdin=io.BytesIO(data))
    assert table.num_rows == len(rows)
    assert table.column("model").to_pylist() == [row[0] for row in rows]
    assert table.column("question").to_pylist() == [row[1] for row in rows]
    small, _ = read_table("-", stdin=io.BytesIO(data[: data.index(b"\n", 4096) + 1]))
    assert small.column("model").to_pylist() == [row[0] for row in rows[: small.num_rows]]


def test_values_may_hold_line_breaks_only_where_a_quote_is(tmp_path):
    """Telling pyarrow so costs a quarter of the parse: a file without a quote is parsed as before."""
    plain, quoted = tmp_path / "plain.csv", tmp_path / "quoted.csv"
    plain.write_bytes(b"model,correct\n" + b"m,1\n" * 300_000)
    quoted.write_bytes(plain.read_bytes() + b'"m\nx",1\n')
    assert not csv_parse_options(plain).newlines_in_values
    assert csv_parse_options(quoted).newlines_in_values
    assert csv_parse_options(tmp_path / "any.csv.gz").newlines_in_values  # not looked into
    assert read_table(quoted)[0].num_rows == 300_001
