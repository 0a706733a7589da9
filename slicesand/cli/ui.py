"""Terminal manners shared by every command: stderr logging, stdout data, formats, exit codes.

Only data goes to stdout. Messages, warnings and progress go to stderr through :class:`Ui`.
:class:`SlicesandGroup` maps the core's exceptions to exit codes in one place:

======  ===============================================
code    meaning
======  ===============================================
0       success
1       an unexpected internal error
2       usage error: bad or contradictory options
3       bad input data
4       incompatible, unknown or stale artifact
======  ===============================================
"""

from __future__ import annotations

import io
import os
import sys
from dataclasses import dataclass

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table
from typer.core import TyperGroup

from slicesand.errors import SlicesandError

FORMATS = ("table", "csv", "json")


@dataclass
class Ui:
    """Where messages go. ``quiet`` silences information and warnings, never errors."""

    quiet: bool = False

    def __post_init__(self) -> None:
        self.err = Console(stderr=True, highlight=False, soft_wrap=True)

    def info(self, message: str) -> None:
        if not self.quiet:
            self.err.print(message, markup=False)

    def warn(self, message: str) -> None:
        if not self.quiet:
            self.err.print(f"warning: {message}", style="yellow", markup=False)

    def warn_all(self, messages: list[str]) -> None:
        for message in dict.fromkeys(messages):
            self.warn(message)

    def status(self, message: str):
        """A transient spinner on a terminal; a plain line otherwise."""
        if self.quiet:
            return _NullContext()
        if self.err.is_terminal:
            return self.err.status(message)
        return _NullContext()


class _NullContext:
    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None


def stdout_format(requested: str | None) -> str:
    """``table`` on a terminal and ``csv`` when piped, unless the user chose."""
    if requested is not None:
        if requested not in FORMATS:
            raise typer.BadParameter(f"must be one of {', '.join(FORMATS)}", param_hint="--format")
        return requested
    return "table" if sys.stdout.isatty() else "csv"


def write_stdout(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def print_frame(frame: pd.DataFrame, fmt: str, *, title: str | None = None, digits: int = 4) -> None:
    """Print a DataFrame to stdout as a rich table, CSV or JSON records."""
    if fmt == "csv":
        write_stdout(frame.to_csv(index=False, lineterminator="\n"))
    elif fmt == "json":
        write_stdout(frame.to_json(orient="records", indent=2, double_precision=15) + "\n")
    else:
        table = Table(title=title, show_lines=False, header_style="bold")
        for column in frame.columns:
            numeric = pd.api.types.is_numeric_dtype(frame[column])
            table.add_column(str(column), justify="right" if numeric else "left")
        for row in frame.itertuples(index=False):  # display only: a screenful of rows
            table.add_row(*[_cell(value, digits) for value in row])
        Console(file=sys.stdout, soft_wrap=False).print(table)


def _cell(value, digits: int) -> str:
    if isinstance(value, float):
        if value != value:
            return ""
        return f"{value:.3g}" if abs(value) >= 1e6 else f"{value:.{digits}f}"
    return str(value)


def _silence_stdout() -> None:
    """After a broken pipe, point stdout at /dev/null so Python's exit flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        pass


class SlicesandGroup(TyperGroup):
    """The command group: the one place where exceptions become messages and exit codes."""

    def make_context(self, info_name, args, parent=None, **extra):
        # Keep the command line as typed (before parsing consumes it) so `run` can record it.
        argv = ["slicesand", *args]
        ctx = super().make_context(info_name, args, parent=parent, **extra)
        ctx.meta["slicesand.argv"] = argv
        return ctx

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except SlicesandError as exc:
            from slicesand.cli.options import cli_message  # the core names parameters; show the flags

            typer.echo(f"error: {cli_message(str(exc))}", err=True)
            ctx.exit(exc.exit_code)
        except BrokenPipeError:
            # `slicesand ... | head` closed the pipe: the reader has what it wanted; not an error.
            _silence_stdout()
            ctx.exit(0)
        except KeyboardInterrupt:
            typer.echo("interrupted", err=True)
            ctx.exit(130)
        except Exception as exc:  # noqa: BLE001 - the last resort before a traceback reaches a user
            # Typer's (or click's) own exits and usage errors are theirs to render (exit 2 for usage).
            if type(exc).__module__.startswith(("typer", "click")) or os.environ.get("SLICESAND_DEBUG"):
                raise
            typer.echo(f"error: internal error: {type(exc).__name__}: {exc} "
                       "(set SLICESAND_DEBUG=1 for the traceback, and please report it)", err=True)
            ctx.exit(1)
