"""One exception hierarchy for the whole core; the CLI maps it to exit codes in one place.

Messages follow scikit-learn's manner: name the object, say what was expected and what was found,
and end with a hint when there is an obvious fix.

>>> err = InputDataError("dump.csv", "p_correct must be in [0, 1]", column="p_correct", row=7, found=1.5)
>>> str(err)
"dump.csv: column 'p_correct', row 7: p_correct must be in [0, 1]; found 1.5"
"""

from __future__ import annotations

from typing import Any


class SlicesandError(Exception):
    """Base class: every error the core raises on purpose. ``exit_code`` is what the CLI returns."""

    exit_code = 1

    def __init__(
        self,
        source: str | None,
        problem: str,
        *,
        column: str | None = None,
        row: int | None = None,
        found: Any = None,
        hint: str | None = None,
    ) -> None:
        self.source = source
        self.problem = problem
        self.column = column
        self.row = row
        self.found = found
        self.hint = hint
        super().__init__(self._message())

    def _message(self) -> str:
        where = []
        if self.column is not None:
            where.append(f"column '{self.column}'")
        if self.row is not None:
            where.append(f"row {self.row}")
        parts = [str(self.source)] if self.source else []
        if where:
            parts.append(", ".join(where))
        parts.append(self.problem)
        text = ": ".join(parts)
        if self.found is not None:
            text += f"; found {self.found!r}" if not isinstance(self.found, (int, float)) else f"; found {self.found}"
        if self.hint:
            text += f" (hint: {self.hint})"
        from slicesand.printable import escaped  # one line, whatever bytes a file or stream held

        return escaped(text, limit=None)


class UsageError(SlicesandError):
    """Options that contradict each other or the data they are applied to (exit 2)."""

    exit_code = 2


class InputDataError(SlicesandError):
    """An input file is missing, unreadable, or holds values the method cannot use (exit 3)."""

    exit_code = 3


class ArtifactError(SlicesandError):
    """An artifact of an unknown schema, an incompatible shape, or one that is stale (exit 4)."""

    exit_code = 4


class OutputError(SlicesandError):
    """An output or stream the system would not let us write or read: a full disk, no permission, a
    closed stdout or stdin (exit 5)."""

    exit_code = 5


class StrictError(SlicesandError):
    """``--strict``: the command did its work (artifacts written) but a trust warning fired (exit 6)."""

    exit_code = 6


class Terminated(KeyboardInterrupt):
    """The process was sent SIGTERM (``kill``, ``timeout``, a CI job's time limit, ``docker stop``).

    A :class:`KeyboardInterrupt`, so what cleans up after a Ctrl-C (a run folder being built is
    removed, forked helpers are stopped) does after it too; the command line then says "terminated"
    and ends by SIGTERM (143 in a shell).
    """

    #: Whether a SIGTERM arrived (set by the command line's handler): a native library that runs the
    #: handler inside its own call (DuckDB) swallows the exception, and reports only an interruption.
    received = False


def interruption() -> KeyboardInterrupt:
    """What to raise for a native library's report that a signal interrupted it: :class:`Terminated`
    after a SIGTERM, else a :class:`KeyboardInterrupt` (a Ctrl-C).

    >>> type(interruption()).__name__
    'KeyboardInterrupt'
    """
    return Terminated() if Terminated.received else KeyboardInterrupt()
