"""Text that is safe to show on a terminal, on one line: the one rule for every name we print.

A model or task name is data: it may hold ANSI escapes that recolour the terminal or move the cursor,
bidirectional overrides that make it display as another name ("Trojan source"), or newlines that
would split a one-line message or a table row. :func:`printable` removes the controls and turns
newlines and tabs into spaces.

>>> printable("nimbus\\x1b[31m-70b\\r")
'nimbus[31m-70b'
>>> printable("line1\\nline2\\u202e")
'line1 line2'
"""

from __future__ import annotations

import re

# C0 and C1 controls (newline and tab are made spaces first), and the bidirectional overrides.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(value: object) -> str:
    """``value`` as text a terminal shows as typed, on one line."""
    return _CONTROL.sub("", str(value).replace("\n", " ").replace("\t", " "))
