"""Compressed or binary data where plain CSV is read is told by its magic bytes (exit 3, one line, what it
is and what to do); no message ever quotes undecodable bytes raw."""

from __future__ import annotations

import bz2
import gzip
import lzma
import zipfile

import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

from slicesand.errors import InputDataError
from slicesand.io.binary import MAGIC, binary_format
from slicesand.printable import escaped
from tests.cli.shell_helpers import slicesand, small_dump


def _parquet(dump, path):
    pq.write_table(pa_csv.read_csv(dump), path)
    return path.read_bytes()


def _zip(dump, path):
    with zipfile.ZipFile(path, "w") as archive:
        archive.write(dump, "d.csv")
    return path.read_bytes()


PACKERS = {
    "gzip": lambda dump, path: gzip.compress(dump.read_bytes()),
    "bzip2": lambda dump, path: bz2.compress(dump.read_bytes()),
    "xz": lambda dump, path: lzma.compress(dump.read_bytes()),
    "Parquet": _parquet,
    "zip": _zip,
}


@pytest.mark.parametrize("kind", ["gzip", "Parquet", "zip"])
def test_binary_data_on_stdin_is_named_not_quoted(tmp_path, kind):
    dump = small_dump(tmp_path / "d.csv")
    data = PACKERS[kind](dump, tmp_path / "packed")
    result = slicesand("slice", "-", "--cut", "1e22", "-q", "-o", tmp_path / "s.csv", input=data)
    assert result.returncode == 3
    assert result.stderr.decode("utf-8") == (f"error: <stdin>: looks like {kind} data; stdin takes plain CSV "
                                             "(hint: pass the file's name instead of -"
                                             + (", or decompress it into the pipe" if kind == "gzip" else "")
                                             + ")\n")
    assert not (tmp_path / "s.csv").exists()


@pytest.mark.parametrize("kind, expected", [
    ("gzip", "looks like gzip data, but its name has no .gz suffix (hint: rename it to d.csv.gz, or decompress it)"),
    ("bzip2", "looks like bzip2 data, but its name has no .bz2 suffix"),
    ("xz", "looks like xz data, which slicesand does not read (hint: decompress it)"),
    ("zip", "looks like zip data, which slicesand does not read (hint: extract it)"),
])
def test_a_compressed_file_named_csv_is_named_not_parsed(tmp_path, kind, expected):
    dump = small_dump(tmp_path / "plain.csv")
    packed = tmp_path / "d.csv"
    packed.write_bytes(PACKERS[kind](dump, tmp_path / "packed"))
    result = slicesand("slice", packed, "-q", "-o", tmp_path / "s.csv")
    assert result.returncode == 3
    assert result.stderr.decode("utf-8").startswith(f"error: {packed}: {expected}")
    # named for what it is, the same bytes read fine
    if kind in ("gzip", "bzip2"):
        suffix = {"gzip": ".gz", "bzip2": ".bz2"}[kind]
        renamed = packed.rename(tmp_path / f"d.csv{suffix}")
        assert slicesand("slice", renamed, "-q", "-o", tmp_path / "s.csv").returncode == 0


def test_parquet_named_csv_is_still_read_as_parquet(tmp_path):
    dump = small_dump(tmp_path / "plain.csv")
    _parquet(dump, tmp_path / "d.csv")
    assert slicesand("slice", tmp_path / "d.csv", "-q", "-o", tmp_path / "s.csv").returncode == 0


def test_undecodable_bytes_in_a_parse_error_are_escaped(tmp_path):
    data = b"model,question,correct,flops\nm1,q1,1,1e20\nm1,q2,1,1e20,\x1b[31mx\xff\xfe\n"
    result = slicesand("slice", "-", "-q", "-o", tmp_path / "s.csv", input=data)
    assert result.returncode == 3
    stderr = result.stderr.decode("utf-8")
    assert stderr.count("\n") == 1 and "\x1b" not in stderr and "\ufffd" not in stderr
    assert "\\x1b[31mx\\ufffd" in stderr


@given(st.sampled_from([magic for magic, _ in MAGIC]), st.binary(max_size=20))
def test_every_magic_is_told(magic, rest):
    assert binary_format(magic + rest) is not None


@given(st.text())
def test_printable_leaves_nothing_unprintable(text):
    whole = escaped(text, limit=None)
    assert whole.isprintable() and "\ufffd" not in whole
    assert escaped(text) == whole or len(escaped(text)) == 120


def test_error_messages_escape_what_they_quote():
    message = str(InputDataError("d.csv", "bad cell", found="a\udcff\x07b"))
    assert message == "d.csv: bad cell; found 'a\\udcff\\x07b'"
