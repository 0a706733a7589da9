"""Text that is safe to show on a terminal, on one line: the two rules for everything we print.

:func:`printable` is how a name is *shown* (in messages, tables and the terminal report);
:func:`escaped` is how an error message *quotes* what a file or stream held, so nothing is lost.

A model or task name is data: it may hold ANSI escapes that recolour the terminal or move the cursor,
bidirectional overrides that make it display as another name ("Trojan source"), or newlines that
would split a one-line message or a table row. :func:`printable` removes the controls and turns
newlines and tabs into spaces.

>>> printable("nimbus\\x1b[31m-70b\\r")
'nimbus[31m-70b'
>>> printable("line1\\nline2\\u202e")
'line1 line2'
>>> escaped("Expected 1 columns, got 2: \\x1f\\ufffd\\udc8b ok")
'Expected 1 columns, got 2: \\\\x1f\\\\ufffd\\\\udc8b ok'
"""

from __future__ import annotations

import re

# C0 and C1 controls but tab and newline, and the bidirectional overrides: a regex character class's
# contents, so the Markdown and HTML renderers match the same characters.
CONTROL_CHARACTERS = "\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069"
_CONTROL = re.compile(f"[{CONTROL_CHARACTERS}]")  # newline and tab are made spaces first


def printable(value: object) -> str:
    """``value`` as text a terminal shows as typed, on one line."""
    return _CONTROL.sub("", str(value).replace("\n", " ").replace("\t", " "))


def escaped(text: str, limit: int | None = 120) -> str:
    """``text`` with every character that is not printable (control characters, the replacement
    character of an undecodable byte, lone surrogates) as a backslash escape, cut to ``limit``."""
    if text.isprintable() and "\ufffd" not in text:  # the common case: nothing to escape
        escaped = text
    else:
        escaped = "".join(c if c.isprintable() and c != "\ufffd" else c.encode("unicode_escape").decode("ascii")
                          for c in text)
    return escaped if limit is None or len(escaped) <= limit else escaped[: limit - 3] + "..."
