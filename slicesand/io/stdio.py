"""The one way data reaches stdout (``-`` as an output): bytes or text, flushed at once.

>>> import io
>>> sink = io.BytesIO()
>>> write_stdout("model,flops\\n", sink)
>>> sink.getvalue()
b'model,flops\\n'
"""

from __future__ import annotations

import sys
from typing import BinaryIO


def write_stdout(data: bytes | str, stdout: BinaryIO | None = None) -> None:
    """Write ``data`` (text as UTF-8) to ``stdout`` (default: the process's binary stdout) and flush."""
    out = stdout or sys.stdout.buffer
    out.write(data.encode("utf-8") if isinstance(data, str) else data)
    out.flush()
