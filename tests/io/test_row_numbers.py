"""One numbering in every input error: ``row N`` is the N-th data row (1 is the first row after the header),
whichever reader and whichever problem (bad bytes, a bad value, a field too many or too few)."""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

import pytest

from slicesand.cli import app
from slicesand.errors import InputDataError
from slicesand.io.tables import read_table
from tests.io.test_tables import long_quoted_dump

HEADER = b"model,question,correct,flops\n"
GOOD = b"m1,q1,1,1e20\n"
# The bad row is always data row 2 (line 3); the row before it is sometimes quoted across two lines.
CASES = {
    "not UTF-8": (b"m1,q\xff2,1,1e20\n", "row 2: the file is not UTF-8 text"),
    "not 0 or 1": (b"m1,q2,7,1e20\n", "column 'correct', row 2: correct must be 0"),
    "not a number": (b"m1,q2,x,1e20\n", "column 'correct', row 2: not a number"),
    "a field too many": (b"m1,q2,1,1e20,x\n", "row 2: 5 fields on this row, but the header has 4; found 'm1,q2,1,1e20,x' "
                                              "(hint: quote a cell that holds a comma"),
    "a field too few": (b"m1,q2,1\n", "row 2: 3 fields on this row, but the header has 4; found 'm1,q2,1' "
                                      "(hint: give every row a field for each column"),
    "an empty name": (b",q2,1,1e20\n", "column 'model', row 2: "),
    "a quote never closed": (b'm1,"q2,1,1e20\n', "row 2: a double quote opens a value that no quote closes, so the "
                             "rest of the file was read into it; found 'm1,\"q2,1,1e20' (hint: close the quote"),
}


def _run(runner, args, stdin=None):
    result = runner.invoke(app, args, input=stdin)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.exit_code == 3 and len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("how", ["slice FILE", "slice -", "import FILE"])
def test_every_reader_names_the_same_data_row(runner, tmp_path, case, how):
    bad, expected = CASES[case]
    data = HEADER + GOOD + bad + b"m2,q1,1,1e21\n"
    path = tmp_path / "d.csv"
    path.write_bytes(data)
    command, source = how.split()
    if source == "-":
        line = _run(runner, [command, "-", "-o", str(tmp_path / "out.csv")], stdin=data)
        assert line.startswith("error: <stdin>: ")
    else:
        line = _run(runner, [command, str(path), "-o", str(tmp_path / "out.csv")])
        assert line.startswith(f"error: {path}: ")
    if how == "import FILE" and case == "not 0 or 1":
        expected = expected.replace("must be 0", "must be 0 or 1")
    assert expected in line, line


def test_a_quoted_line_break_does_not_start_a_row(runner, tmp_path):
    path = tmp_path / "d.csv"
    path.write_bytes(HEADER + b'"m1\nsecond line",q1,1,1e20\n' + b"m1,q2,1,1e20,x\n")
    assert "row 2: 5 fields on this row" in _run(runner, ["slice", str(path), "-o", str(tmp_path / "o.csv")])


def test_parquet_rows_count_the_same_way(runner, tmp_path):
    csv = tmp_path / "d.csv"
    csv.write_bytes(HEADER + GOOD + b"m1,q2,7,1e20\n")
    pq.write_table(pa_csv.read_csv(csv), tmp_path / "d.parquet")
    for command in ("slice", "import"):
        line = _run(runner, [command, str(tmp_path / "d.parquet"), "-o", str(tmp_path / "o.csv")])
        assert "column 'correct', row 2:" in line, line


def test_a_matrix_counts_rows_after_its_header(runner, tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("model,q1,q2\nm1,0,1\nm2,1,7\n")
    assert "row 2: cell at row/column 'm2' x 'q2'" in _run(runner, ["import", str(path), "-o", str(tmp_path / "o.csv")])


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("source", ["FILE", "-"])
def test_quoted_line_breaks_past_the_first_block_do_not_start_rows(runner, tmp_path, case, source):
    """A file of more than one block is read on threads, then again on one to number the bad row: the
    second read too must keep a quoted line break in its value."""
    data, rows = long_quoted_dump()
    bad, expected = CASES[case]
    data += bad + b"m2,q1,1,1e21\n"
    path = tmp_path / "d.csv"
    path.write_bytes(data)
    line = _run(runner, ["slice", str(path) if source == "FILE" else "-", "-o", str(tmp_path / "o.csv")],
                stdin=data)
    assert expected.replace("row 2:", f"row {len(rows) + 1}:") in line, line


def test_the_row_named_is_the_problem_named(tmp_path):
    """Two bad rows in different blocks: the threaded read met the bad bytes of one, the numbering read
    the missing field of the other, and the message put the one's problem on the other's row (in about
    half of the reads)."""
    rows = [b"m%d,q%d,1,1e20\n" % (i % 5, i) for i in range(200_000)]
    rows[19_999], rows[149_999] = b"m1,q\xff,1,1e20\n", b"m1,qy,1\n"
    path = tmp_path / "d.csv"
    path.write_bytes(HEADER + b"".join(rows))
    for _ in range(8):
        with pytest.raises(InputDataError) as error:
            read_table(path, column_types={"question": pa.string()})
        line = str(error.value)
        assert ("row 20000: the file is not UTF-8 text" in line
                or "row 150000: 3 fields on this row, but the header has 4; found 'm1,qy,1'" in line), line


@pytest.mark.parametrize("how", ["file", "stdin", "gzip"])
def test_a_quote_never_closed_early_in_a_long_file_names_its_row(runner, tmp_path, how):
    """Read as values that may hold line breaks, the open quote swallowed blocks: pyarrow said only that
    'straddling object straddles two block boundaries'. Read again as one block (a compressed file
    decompressed first), the row is found."""
    import gzip

    rows = [b"m%d,q%d,1,1e2%d\n" % (i % 5, i, i % 5) for i in range(200_000)]
    rows[4_999] = b'm1,"q5,1,1e21\n'
    data = HEADER + b"".join(rows)
    path = tmp_path / ("d.csv.gz" if how == "gzip" else "d.csv")
    path.write_bytes(gzip.compress(data, compresslevel=1) if how == "gzip" else data)
    line = _run(runner, ["slice", "-" if how == "stdin" else str(path), "-o", str(tmp_path / "o.csv")], stdin=data)
    assert "row 5000: a double quote opens a value that no quote closes" in line, line
    assert "straddl" not in line


QUOTED_LAST = b"model,flops,correct,question\n"


def _rows(n: int) -> list[bytes]:
    return [b"m%d,1e2%d,%d,q%d\n" % (i % 6, i % 6, i % 2, i // 6) for i in range(n)]


@pytest.mark.parametrize("n_rows", [180, 120_000])
@pytest.mark.parametrize("how", ["file", "gzip"])
@pytest.mark.parametrize("where", ["a text value last", "a number last", "the last row", "the last line"])
def test_a_quote_never_closed_is_never_read_silently(runner, tmp_path, n_rows, how, where):
    """Opened in the last column, the quote took every later row into one question's name and the slice
    went on without them (exit 0); in a number it quoted the rest of the file in the message; in the last
    row it was called a missing field; on the file's last line it was read as the value 'q9\\n' (exit 0)."""
    import gzip

    if where == "a number last":
        header, rows = b"model,question,correct,p_correct\n", [b"m%d,q%d,1,0.%d\n" % (i % 6, i // 6, i % 9 + 1)
                                                                for i in range(n_rows)]
        rows[20], column = b'm2,q3,0,"0.31\n', "column 'p_correct', "
    else:
        header, rows, column = QUOTED_LAST, _rows(n_rows), "column 'question', "
        rows[20] = b'm2,1e22,0,"q9\n'
    if where == "the last row":
        rows, column = rows[:21], ""
        rows[20] = b'm2,"q9,0,1e22\n'
    if where == "the last line":
        rows = rows[:21]
    data = header + b"".join(rows)
    path = tmp_path / ("d.csv.gz" if how == "gzip" else "d.csv")
    path.write_bytes(gzip.compress(data, compresslevel=1) if how == "gzip" else data)
    line = _run(runner, ["slice", str(path), "-o", str(tmp_path / "o.csv"), "--models", _scales(tmp_path)])
    assert f"{column}row 21: a double quote opens a value that no quote closes" in line, line
    assert len(line) < 300 and "(hint: close the quote" in line


@pytest.mark.parametrize("how", ["file", "gzip", "stdin"])
@pytest.mark.parametrize("last, value", [
    (b'"two\nlines, quoted"\n', "two\nlines, quoted"),
    (b'"Which one?\nA) w, B) x, C) y, D) z"\r\n\n', "Which one?\nA) w, B) x, C) y, D) z"),  # a line of a row's commas
    (b'"say ""a""\nthen, b"', 'say "a"\nthen, b'),  # doubled quotes, no closing line break
    (b'"a\nb"  \n', "a\nb  "),  # spaces after the closing quote, which pyarrow keeps
    (b'"Continue:\n1,2,3,4"\n', "Continue:\n1,2,3,4"),  # a line of a row's fields, but no FLOPs where they are
    (b'"Table:\n2001,,,champions"\n', "Table:\n2001,,,champions"),  # a row's fields, its numbers empty
    (b'"Q: 2+2?\nAnswer: "\n', "Q: 2+2?\nAnswer: "),  # spaces inside the closing quote
])
def test_a_last_value_on_two_lines_is_still_a_value(tmp_path, how, last, value):
    """A closed quote in the last column of the last row was refused when a later line of it had as many
    commas as a row (a guess at an open quote); now the text's end is compared with the quoted value."""
    import gzip

    data = QUOTED_LAST + b"".join(_rows(30)) + b"m1,1e21,1," + last
    path = tmp_path / ("d.csv.gz" if how == "gzip" else "d.csv")
    path.write_bytes(gzip.compress(data) if how == "gzip" else data)
    table, _ = read_table("-", stdin=io.BytesIO(data)) if how == "stdin" else read_table(path)
    assert table.column("question")[-1].as_py() == value


def _scales(tmp_path) -> str:
    path = tmp_path / "models.csv"
    path.write_text("model,flops\n" + "".join(f"m{i},1e2{i}\n" for i in range(6)))
    return str(path)


@pytest.mark.parametrize("where", ["the last column", "a column before it", "the next row", "a null marker"])
@pytest.mark.parametrize("how", ["file", "gzip"])
def test_two_stray_quotes_that_pair_up_never_swallow_rows_silently(runner, tmp_path, where, how):
    """A quote opening a value and another closing it rows later took the rows between into that value,
    and the field counts still added up: the slice went on without them (exit 0, found by review). So
    too when the second quote was on the next row (only part of a row between, starting with a model's
    name), and when the rows between wrote a missing probability as NA."""
    import gzip

    if where == "the last column":
        header, rows = QUOTED_LAST, _rows(180)
        rows[20], rows[90] = b'm2,1e22,0,"q3\n', b'm0,1e20,0,q15"\n'
    else:
        header = b"model,question,correct,p_correct,flops\n"
        rows = [b"m%d,q%d,%d,%s,1e2%d\n" % (i % 6, i // 6, i % 2, b"NA" if where == "a null marker" else b"0.5",
                                           i % 6) for i in range(180)]
        rows[20] = b'm2,"q3,0,0.5,1e22\n'
        rows[21 if where == "the next row" else 90] = b'm%d,q15",0,0.5,1e2%d\n' % ((3, 3) if where == "the next row"
                                                                                  else (0, 0))
    data = header + b"".join(rows)
    path = tmp_path / ("d.csv.gz" if how == "gzip" else "d.csv")
    path.write_bytes(gzip.compress(data) if how == "gzip" else data)
    line = _run(runner, ["slice", str(path), "-o", str(tmp_path / "o.csv"), "--models", _scales(tmp_path)])
    assert "column 'question', row 21: a value spans lines that read as rows of this file" in line, line


@pytest.mark.parametrize("ending", [b"\r", b"\r\n"])
def test_a_quote_never_closed_is_found_whatever_ends_the_lines(tmp_path, ending):
    """Lines ended by CR alone (old Mac files) hid an open quote: the check looked for LF only."""
    path = tmp_path / "d.csv"
    path.write_bytes(ending.join([b"model,question,correct,note", b'm1,q1,1,"x', b"m2,q2,0,y", b"m3,q3,1,z", b""]))
    with pytest.raises(InputDataError, match="column 'note', row 1: a double quote opens a value that no quote"):
        read_table(path)
