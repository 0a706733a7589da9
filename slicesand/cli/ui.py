"""Terminal manners shared by every command: stderr messages, stdout data, formats, tables, exit codes.

Only data goes to stdout. Messages, warnings and progress go to stderr through :class:`Ui`, with
control characters stripped (a model name cannot move the cursor or recolour the terminal) and never
read as rich markup. :func:`exit_status` maps every exception to an exit code and a one-line message,
in one place; :class:`SlicesandGroup` and :func:`main` use it.

======  ======================================================================
code    meaning
======  ======================================================================
0       success (also when a reader such as ``head`` closes the pipe early)
1       an unexpected internal error
2       usage error: bad or contradictory options
3       bad input data
4       incompatible, unknown or stale artifact
5       an output or stream could not be written or read (disk full, a closed stdout)
6       ``--strict``: the forecast was made but a trust warning fired
130     interrupted (Ctrl-C); the process ends by SIGINT after cleaning up (a shell shows 130)
143     terminated (SIGTERM); cleaned up as after a Ctrl-C, then ended by SIGTERM (a shell shows 143)
======  ======================================================================

>>> clean_text("nimbus\\x1b[31m-70b\\r")
'nimbus[31m-70b'
>>> from slicesand.errors import Terminated
>>> exit_status(BrokenPipeError())[0], exit_status(KeyboardInterrupt())[0], exit_status(Terminated())
(0, 130, (143, 'terminated'))
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import shutil
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING


from slicesand.cli.help import COMMAND_PARAMETERS, HelpGroup
from slicesand.errors import OutputError, SlicesandError, StrictError, Terminated

if TYPE_CHECKING:  # pandas is imported only by the commands that print a table
    import pandas as pd

FORMATS = ("table", "csv", "json")
EXIT_OK, EXIT_INTERNAL, EXIT_USAGE, EXIT_OUTPUT, EXIT_STRICT, EXIT_INTERRUPTED = 0, 1, 2, 5, 6, 130
EXIT_TERMINATED = 143
DEBUG_VARIABLE = "SLICESAND_DEBUG"

def clean_text(text: object) -> str:
    """``text`` as a string that is safe to print on a terminal, on one line: control characters removed,
    newlines and tabs made spaces (:func:`slicesand.printable.printable`)."""
    from slicesand.printable import printable

    return printable(text)


# ---- messages on stderr -----------------------------------------------------------------------------

@dataclass
class Ui:
    """Where messages go. ``quiet`` silences information and warnings, never errors."""

    quiet: bool = False

    def info(self, message: str) -> None:
        if not self.quiet:
            _stderr_line(message)

    def warn(self, message: str) -> None:
        if not self.quiet:
            from slicesand.cli.options import cli_message  # the core names parameters; show the flags

            _stderr_line(f"warning: {cli_message(message)}", style="yellow")

    def warn_all(self, messages) -> None:
        for message in dict.fromkeys(str(m) for m in messages):
            self.warn(message)

    def status(self, message: str):
        """A transient status line on a terminal, cleared when the block ends; nothing otherwise (a log
        should not fill with it). It is static, not a spinner: a spinner's thread would keep ``run`` from
        forking its figure process (:func:`slicesand.io.forked.fork_usable` needs one thread)."""
        if self.quiet or not _isatty(sys.stderr):
            return _NullContext()
        return _StatusLine(clean_text(message))


def error_line(message: str) -> None:
    """An error on stderr: always shown, even with ``--quiet``."""
    _stderr_line(f"error: {message}", style="red")


def _stderr_line(message: str, style: str | None = None) -> None:
    text = clean_text(message)
    _StatusLine.erase()
    try:
        if style and _isatty(sys.stderr):
            from rich.text import Text

            _stderr_console().print(Text(text, style=style))
        else:
            sys.stderr.write(text + "\n")
            sys.stderr.flush()
    except (OSError, ValueError, AttributeError):
        pass  # a closed or broken stderr: there is nowhere left to say anything


_CONSOLES: dict[str, object] = {}


def _stderr_console():
    if "err" not in _CONSOLES:
        from rich.console import Console

        _CONSOLES["err"] = Console(file=sys.stderr, highlight=False, soft_wrap=True, markup=False)
    return _CONSOLES["err"]


def _isatty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


class _StatusLine:
    """``message...`` on stderr without a newline; erased (carriage return, erase line) at the end, or
    before any other message is written."""

    shown = False

    def __init__(self, message: str) -> None:
        self.message = message

    def __enter__(self):
        _write_stderr(f"{self.message}...")
        _StatusLine.shown = True
        return self

    def __exit__(self, *exc) -> None:
        _StatusLine.erase()

    @staticmethod
    def erase() -> None:
        if _StatusLine.shown:
            _StatusLine.shown = False
            _write_stderr("\r\x1b[K")


def _write_stderr(text: str) -> None:
    try:
        sys.stderr.write(text)
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):
        pass


class _NullContext:
    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None


# ---- data on stdout ---------------------------------------------------------------------------------

def stdout_format(requested: str | None, allowed: tuple[str, ...] = FORMATS) -> str:
    """``table`` on a terminal and ``csv`` when piped, unless the user chose."""
    if requested is not None:
        if requested not in allowed:
            from slicesand.errors import UsageError

            raise UsageError(None, f"--format must be one of {', '.join(allowed)}", found=requested)
        return requested
    return "table" if _isatty(sys.stdout) else "csv"


def write_stdout(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def terminal_width() -> int:
    """The terminal's width (``COLUMNS`` wins), 80 when stdout is not a terminal."""
    return max(20, shutil.get_terminal_size((80, 24)).columns)


def print_frame(frame: pd.DataFrame, fmt: str, *, title: str | None = None, digits: int = 4) -> None:
    """Print a DataFrame to stdout as a table, CSV or JSON records."""
    if fmt == "csv":
        write_stdout(frame.to_csv(index=False, lineterminator="\n"))
    elif fmt == "json":  # pandas for the values (NaN as null), json for the text: no escaped slashes
        import json

        records = json.loads(frame.to_json(orient="records", double_precision=15))
        write_stdout(json.dumps(records, indent=2, ensure_ascii=False) + "\n")
    else:
        import pandas as pd

        columns, rows = [], []
        for name in frame.columns:
            values = frame[name]
            numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
            integral = numeric and _integral(values)
            cells = [_cell(v, digits, integral) for v in values.tolist()]  # display only: a screenful
            columns.append((str(name), "right" if numeric else "left"))
            rows.append(cells)
        print_table(columns, [list(r) for r in zip(*rows)] if rows else [], title=title)


def _integral(values: pd.Series) -> bool:
    """True for an integer column, or a float one whose values are all whole numbers (a count read back
    from JSON or padded with nulls): it is shown without decimals."""
    import numpy as np

    finite = values.dropna().to_numpy(dtype=float, na_value=np.nan)
    finite = finite[np.isfinite(finite)]
    return bool(finite.size) and bool(np.all(finite == np.round(finite)))


def _cell(value, digits: int, integral: bool = False) -> str:
    import pandas as pd

    if value is None or value is pd.NA or (isinstance(value, float) and value != value):  # missing: blank
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float)):
        if abs(value) >= 1e6:
            return f"{value:.3g}"
        return f"{int(value)}" if integral else f"{value:.{digits}f}"
    return str(value)


def print_table(columns: list[tuple[str, str]], rows: list[list[str]], *, title: str | None = None,
                width: int | None = None, fold: tuple[str, ...] | None = None) -> None:
    """Print ``rows`` (cells as text) under ``columns`` (name, "left" or "right") on stdout.

    Cells are never cut: text columns (``fold``; default: the left-aligned ones) wrap or fold, every other
    column keeps its full width, and when even that cannot fit, each row is printed as a block of
    ``name  value`` lines instead.
    """
    write_stdout(render_table(columns, rows, title=title, width=width, fold=fold))


def render_table(columns: list[tuple[str, str]], rows: list[list[str]], *, title: str | None = None,
                 width: int | None = None, fold: tuple[str, ...] | None = None) -> str:
    """The text :func:`print_table` prints.

    Too narrow for a boxed table (a name needs 12 columns, a number its width): one block per row.

    >>> render_table([("model", "left"), ("FLOPs", "right")], [["lumen/lumen-120b", "1e24"]], width=20).splitlines()
    ['model  lumen/lumen-1', '       20b', 'FLOPs  1e24', '']
    """
    width = width or terminal_width()
    rows = [[clean_text(c) for c in row] for row in rows]
    names = [clean_text(name) for name, _ in columns]
    fold = tuple(n for n, justify in columns if justify == "left") if fold is None else fold
    need = _needed_widths(names, rows, fold)
    if not table_fits(names, rows, width, fold):
        return render_vertical(names, rows, title, width)
    return _horizontal(names, [j for _, j in columns], rows, title, width, fold, need)


def _needed_widths(names: list[str], rows: list[list[str]], fold) -> list[int]:
    """Each column's width in a table: a folding column needs at least 12 characters, every other column
    its longest cell; a header may wrap between its words."""
    from rich.cells import cell_len  # terminal columns: a CJK character takes two

    word = [max(map(cell_len, n.split() or [""])) for n in names]
    full = [max([word[i]] + [cell_len(r[i]) for r in rows]) for i in range(len(names))]
    return [min(w, max(12, word[i])) if names[i] in fold else w for i, w in enumerate(full)]


def table_fits(names: list[str], rows: list[list[str]], width: int, fold=("model",)) -> bool:
    """Whether a boxed table of these cells fits ``width`` without cutting or folding a number."""
    return 1 + sum(w + 3 for w in _needed_widths(names, rows, fold)) <= width


def _horizontal(names, justify, rows, title, width, fold, need) -> str:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title, header_style="bold")
    for name, side, minimum in zip(names, justify, need):  # numbers keep their width; names may fold
        folds = name in fold
        table.add_column(Text(name), justify=side, overflow="fold", min_width=None if folds else minimum)
    for row in rows:
        table.add_row(*[Text(cell) for cell in row])
    buffer = io.StringIO()
    tty = _isatty(sys.stdout)
    Console(file=buffer, width=width, force_terminal=tty, color_system="standard" if tty else None,
            highlight=False, markup=False).print(table)
    return buffer.getvalue()


def render_vertical(names: list[str], rows: list[list[str]], title: str | None, width: int) -> str:
    """One block per row, ``name  value`` per line (a long value folds onto indented lines): for a
    terminal too narrow for the table."""
    from rich.cells import cell_len, chop_cells  # terminal columns, not characters: a CJK character takes two

    pad = max(map(cell_len, names)) + 2
    room = max(8, width - pad)
    lines = [title, ""] if title else []
    for row in rows:
        for name, cell in zip(names, row):
            chunks = chop_cells(cell, room) or [""]
            if "".join(chunks) != cell:  # rich drops a text of zero-width characters alone (a lone emoji modifier)
                chunks = [cell]
            lines += [(name + " " * (pad - cell_len(name)) + chunks[0]).rstrip(), *(" " * pad + chunk for chunk in chunks[1:])]
        lines.append("")
    return "\n".join(lines) + "\n"


# ---- --strict ----------------------------------------------------------------------------------------

# The diagnostics' categories (slicesand.diagnostics.CODES) that say a forecast should not be trusted as
# it stands; notes about the input, the report or missing accuracy are not among them.
TRUST_CATEGORIES = frozenset({"extrapolation", "few-models", "wide-interval", "unstable-groups", "floor",
                              "no-threshold", "range", "stale", "cut-mismatch", "no-cut"})


def check_strict(strict: bool, warnings) -> None:
    """With ``--strict``, fail (exit 6) when any trust warning fired; the command's output is written.

    >>> from slicesand.diagnostics import diagnostic
    >>> check_strict(True, [diagnostic("input-note", "read 3 files")])
    >>> check_strict(True, [diagnostic("no-turning-point", "no threshold in range")])
    Traceback (most recent call last):
    ...
    slicesand.errors.StrictError: --strict: 1 trust warning fired (no-turning-point): no threshold in range
    """
    if not strict:
        return
    fired = [w for w in dict.fromkeys(warnings) if getattr(w, "category", None) in TRUST_CATEGORIES]
    if fired:
        codes = ", ".join(dict.fromkeys(w.code for w in fired))
        raise StrictError(None, f"--strict: {len(fired)} trust warning{'s' if len(fired) > 1 else ''} fired "
                          f"({codes}): {fired[0]}")


# ---- exceptions to exit codes: the one place --------------------------------------------------------

def exit_status(exc: BaseException, params: dict | None = None) -> tuple[int, str | None]:
    """(exit code, one-line message or None) for an exception that reached the command line; ``params``
    are the command's parsed parameters, when it got that far (an out-of-memory hint names its input)."""
    if isinstance(exc, SlicesandError):
        from slicesand.cli.options import cli_message  # the core names parameters; show the flags

        return exc.exit_code, cli_message(str(exc))
    if isinstance(exc, BrokenPipeError):
        return EXIT_OK, None  # `slicesand ... | head` closed the pipe: the reader has what it wanted
    if isinstance(exc, Terminated):
        return EXIT_TERMINATED, "terminated"
    if isinstance(exc, KeyboardInterrupt):
        return EXIT_INTERRUPTED, "interrupted"
    if isinstance(exc, OSError):
        # Not a bug: the system refused (disk full, no permission, read-only, a vanished stream).
        where = exc.filename if exc.filename is not None else "<stdout>"
        return EXIT_OUTPUT, f"{where}: {exc.strerror or exc}"
    if isinstance(exc, MemoryError):
        return EXIT_INTERNAL, f"out of memory (hint: {memory_hint(params or {})})"
    return EXIT_INTERNAL, (f"internal error: {type(exc).__name__}: {exc} "
                           f"(set {DEBUG_VARIABLE}=1 for the traceback, and please report it)")


# The parameters naming a command's table input: run, slice and backtest read a dump, predict and fit a slices table.
_INPUT_PARAMETERS = ("dump", "source", "slices")


def input_kind(path: str | None) -> str | None:
    """``Parquet`` or ``CSV`` for a table input (by its name, else its first bytes), ``None`` otherwise.

    >>> input_kind("dump.parquet"), input_kind("dump.csv.gz"), input_kind("-"), input_kind("runs/")
    ('Parquet', 'CSV', 'CSV', None)
    """
    from pathlib import Path

    from slicesand.io.tables import PARQUET_SUFFIXES, format_suffix

    if path is None:
        return None
    if str(path) == "-":
        return "CSV"  # stdin is read as CSV
    suffix = format_suffix(path)
    if suffix in PARQUET_SUFFIXES:
        return "Parquet"
    if suffix in (".csv", ".tsv", ".txt"):
        return "CSV"
    try:
        with open(Path(path), "rb") as file:
            return "Parquet" if file.read(4) == b"PAR1" else None
    except OSError:  # a folder, a glob, gone
        return None


def memory_hint(params: dict) -> str:
    """What to try after running out of memory, for the command's input as it is: a CSV dump is read
    whole (Parquet is sliced out of core), and only commands with ``--memory-budget`` are told to lower it.

    >>> memory_hint({"dump": "d.parquet", "memory_budget": 2.0})
    'the input d.parquet is Parquet: lower --memory-budget (a Parquet file over the budget is read out of core)'
    >>> memory_hint({"fit_path": "fit.json", "slices": "s.parquet"})
    'the input s.parquet is Parquet, already read column by column: give it fewer rows, or run on a machine with more memory'
    """
    from slicesand.printable import printable

    path = next((params[name] for name in _INPUT_PARAMETERS if params.get(name) is not None), None)
    kind, budget = input_kind(path), "memory_budget" in params
    shown = "stdin" if str(path) == "-" else printable(str(path))
    if kind == "Parquet":
        rest = ": lower --memory-budget (a Parquet file over the budget is read out of core)" if budget else (
            ", already read column by column: give it fewer rows, or run on a machine with more memory")
        return f"the input {shown} is Parquet{rest}"
    if kind == "CSV":
        return (f"the input {shown} is CSV, which is read whole: convert it to Parquet, which is sliced out of core"
                + (", and lower --memory-budget" if budget else ""))
    return ("a Parquet file, folder or glob is sliced out of core: convert a big CSV dump to Parquet"
            + (", and lower --memory-budget" if budget else ""))


def _handle(exc: BaseException, params: dict | None = None) -> int:
    """Say what happened (one line on stderr) and return the exit code."""
    code, message = exit_status(exc, params)
    if isinstance(exc, (BrokenPipeError, OSError)) and not isinstance(exc, SlicesandError):
        silence_stdout()  # Python's own flush at exit must not fail a second time
    if message is not None:
        if code in (EXIT_INTERRUPTED, EXIT_TERMINATED):
            _stderr_line(message)
        else:
            error_line(message)
    return code


@contextlib.contextmanager
def reader_may_leave():
    """Around what a command prints on stdout: a reader that left early (``| head``, ``| true``) ends the
    printing, not the command, so what comes after (its messages on stderr, ``--strict``, a failed task's
    exit code) still happens; with nothing else to say, the command exits 0."""
    try:
        yield
    except BrokenPipeError:
        silence_stdout()


def silence_stdout() -> None:
    """After a broken pipe, point stdout at /dev/null so Python's exit flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        pass


def _is_framework_exit(exc: BaseException) -> bool:
    """Typer's (click's) own exits and usage errors: theirs to raise, :func:`main` renders them."""
    return type(exc).__module__.startswith(("typer", "click"))


class SlicesandGroup(HelpGroup):
    """The command group: exceptions become messages and exit codes through :func:`exit_status`; plain,
    sectioned ``--help`` (:mod:`slicesand.cli.help`)."""

    def make_context(self, info_name, args, parent=None, **extra):
        # Keep the command line as typed (before parsing consumes it) so `run` can record it.
        argv = ["slicesand", *args]
        ctx = super().make_context(info_name, args, parent=parent, **extra)
        ctx.meta["slicesand.argv"] = argv
        return ctx

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - the last stop before a traceback
            if _is_framework_exit(exc) or (os.environ.get(DEBUG_VARIABLE) and _is_internal(exc)):
                raise
            ctx.exit(_handle(exc, ctx.meta.get(COMMAND_PARAMETERS)))


def _is_internal(exc: BaseException) -> bool:
    return exit_status(exc)[0] == EXIT_INTERNAL


# ---- the process ------------------------------------------------------------------------------------

class _ClosedStream(io.TextIOBase):
    """Stands in for a standard stream that was closed when the process started: using it is an error
    naming the stream (exit 5), not an AttributeError on ``None``."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.stream_name = name

    @property
    def buffer(self):
        return self

    def _fail(self, *_args, **_kwargs):
        # An OS error, as the real stream would raise: reading it is bad input (exit 3, the readers say
        # so), writing it is a refused output (exit 5).
        raise OSError(errno.EBADF, f"{self.stream_name} is closed", f"<{self.stream_name}>")

    read = readline = write = _fail

    def isatty(self) -> bool:
        return False

    def flush(self) -> None:
        return None


def guard_standard_streams() -> None:
    """Make closed standard streams safe: park /dev/null on the closed descriptor, so that no file the
    command opens can land on fd 0, 1 or 2, and make stdin/stdout fail clearly when used."""
    for fd, name in ((0, "stdin"), (1, "stdout"), (2, "stderr")):
        try:
            os.fstat(fd)
            continue
        except OSError:
            pass
        try:
            devnull = os.open(os.devnull, os.O_RDWR)
            if devnull != fd:
                os.dup2(devnull, fd)
                os.close(devnull)
        except OSError:
            pass
        if name == "stderr":
            sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - lives as long as the process
        else:
            setattr(sys, name, _ClosedStream(name))


def _guard_stdout_errors() -> None:
    """Turn a failing stdout (disk full, /dev/full) into an :class:`OutputError` naming ``<stdout>``."""
    if isinstance(sys.stdout, _ClosedStream) or not hasattr(sys.stdout, "buffer"):
        return
    sys.stdout = _NamedStream(sys.stdout)


class _NamedStream:
    """A wrapper of stdout (text or binary) whose OS errors, other than a broken pipe, name the stream."""

    def __init__(self, stream) -> None:
        self._stream = stream

    def __getattr__(self, name):
        return getattr(self._stream, name)

    @property
    def buffer(self):
        return _NamedStream(self._stream.buffer)

    def write(self, data):
        return self._call(self._stream.write, data)

    def flush(self):
        return self._call(self._stream.flush)

    @staticmethod
    def _call(function, *args):
        try:
            return function(*args)
        except BrokenPipeError:
            raise
        except OSError as exc:
            if exc.errno == errno.EPIPE:
                raise BrokenPipeError(*exc.args) from None
            raise OutputError("<stdout>", f"cannot write: {exc.strerror or exc}") from None


def main(argv: list[str] | None = None) -> int:
    """Run the command line and return its exit code; errors and usage mistakes are one line."""
    guard_standard_streams()
    _guard_stdout_errors()
    stdout_was_devnull = _stdout_is_devnull()
    try:
        code = _run_app(argv)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else EXIT_INTERNAL
        # rich's Console.on_broken_pipe parks /dev/null on stdout and exits 1; a closed pipe is not an error.
        if code == EXIT_INTERNAL and not stdout_was_devnull and _stdout_is_devnull():
            code = EXIT_OK
    except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - raised outside a command (parsing, imports)
        if os.environ.get(DEBUG_VARIABLE) and _is_internal(exc):
            raise
        code = _handle(exc)
    try:
        sys.stdout.flush()
    except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - the last write: a full disk, a closed pipe
        code = _handle(exc) if code == EXIT_OK else code
    return code


def _stdout_is_devnull() -> bool:
    try:
        return os.path.samestat(os.fstat(1), os.stat(os.devnull))
    except OSError:
        return False


def _run_app(argv: list[str] | None) -> int:
    import typer
    from typer.main import get_command

    try:  # typer >= 0.22 carries its own copy of click
        from typer._click import exceptions as click_exceptions
    except ImportError:  # pragma: no cover - older typer on click
        from click import exceptions as click_exceptions

    from slicesand.cli import app

    no_args = getattr(click_exceptions, "NoArgsIsHelpError", ())
    try:
        result = get_command(app).main(args=argv, prog_name="slicesand", standalone_mode=False)
    except no_args as exc:  # `slicesand` alone: the help, then usage's exit code
        text = exc.format_message()
        if text:
            write_stdout(text + "\n")
        return EXIT_USAGE
    except click_exceptions.ClickException as exc:
        error_line(_usage_message(exc))
        return exc.exit_code
    except typer.Abort as exc:  # click's form of a KeyboardInterrupt (a Terminated one included)
        cause = exc.__cause__ if isinstance(exc.__cause__, KeyboardInterrupt) else KeyboardInterrupt()
        return _handle(cause)
    return result if isinstance(result, int) else EXIT_OK


def _usage_message(exc) -> str:
    """A usage error in one line, with where to read more."""
    message = " ".join(str(exc.format_message()).split())
    ctx = getattr(exc, "ctx", None)
    if ctx is not None and getattr(exc, "exit_code", 2) == EXIT_USAGE:
        message += f" (see '{ctx.command_path} --help')"
    return message
