"""Binary formats recognised by their first bytes.

A CSV reader handed gzip or Parquet bytes fails with a parse error that quotes the bytes. Looking at
the magic numbers first gives a message that says what the data is and what to do instead.

>>> binary_format(b"\\x1f\\x8b\\x08\\x00"), binary_format(b"PAR1\\x15\\x04"), binary_format(b"model,question")
('gzip', 'Parquet', None)
"""

from __future__ import annotations

# The first bytes of the binary formats a table is likely to arrive in instead of CSV.
MAGIC = (
    (b"\x1f\x8b", "gzip"),
    (b"PAR1", "Parquet"),
    (b"PK\x03\x04", "zip"),
    (b"PK\x05\x06", "zip"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x04\x22\x4d\x18", "lz4"),
    (b"ARROW1", "Arrow IPC"),
    (b"\x89HDF", "HDF5"),
    (b"SQLite format 3\x00", "SQLite"),
)
# The compressions a file's name can ask for (slicesand.io.tables.COMPRESSION_SUFFIXES: data.csv.gz is
# read as CSV); xz and lz4 data must be decompressed first.
SUFFIXES = {"gzip": ".gz", "zstd": ".zst", "bzip2": ".bz2"}
COMPRESSIONS = ("gzip", "zstd", "bzip2", "xz", "lz4")


def binary_format(head: bytes) -> str | None:
    """The binary format ``head`` (a file's first bytes) starts with, or ``None`` for anything else."""
    for magic, name in MAGIC:
        if head.startswith(magic):
            return name
    return None
