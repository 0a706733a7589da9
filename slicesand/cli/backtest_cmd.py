"""``slicesand backtest``: score the forecast at past cuts against simple baselines.

Takes a slices table or a per-question dump (told apart by columns: a dump has a ``question`` column;
a folder or a non-table source is a dump). A dump is re-sliced at every cut, so nothing above the cut is
seen.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from slicesand.cli.options import (
    OUTPUT_PANEL,
    FIT, SLICING_PANEL, STDIO, UNCERTAINTY, AccuracyFrom, Format, Groups, Models, Quiet, Task, from_cli, with_options,
)
from slicesand.errors import UsageError


def table_columns(path: str, stdin: bytes | None = None) -> list[str] | None:
    """Column names of a CSV or Parquet file (or of CSV bytes read from stdin); ``None`` for anything else.

    >>> table_columns("-", b"model,question,correct\\nm,q,1\\n")
    ['model', 'question', 'correct']
    """
    from slicesand.io.tables import csv_header, format_suffix

    if path == STDIO:
        return csv_header(stdin or b"")
    import pyarrow.parquet as pq

    file = Path(path)
    if not file.is_file():
        return None
    try:
        return list(pq.read_schema(file).names)
    except Exception:  # noqa: BLE001 - not Parquet: read the CSV header line
        pass
    if format_suffix(file) not in (".csv", ".tsv", ".txt"):
        return None
    return csv_header(file)  # the one header reader: quotes, a byte-order mark, .gz/.zst


def is_dump(path: str, stdin: bytes | None = None) -> bool:
    """A dump has a ``question`` column; a folder or a non-table file (lm-eval, HELM, py-irt) is one too."""
    columns = table_columns(path, stdin)
    if columns is None:
        return Path(path).exists()
    return "question" in [c.strip().strip('"') for c in columns]


@with_options(FIT, UNCERTAINTY)
def backtest_command(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(metavar="SLICES_OR_DUMP",
                                          help="Slices table (or a paper group table), or a per-question dump "
                                               "(re-sliced at every cut); CSV/Parquet, a folder, or -.")],
    cuts: Annotated[Optional[str], typer.Option("--cuts", metavar="FLOPS,...", rich_help_panel=SLICING_PANEL,
                                                help="Cuts to test. Default: every 0.25 decade leaving >= 10 "
                                                     "training and >= 5 test models.")] = None,
    groups: Groups = 3,
    accuracy_from: AccuracyFrom = "correct",
    models: Models = None,
    task: Task = None,
    fmt: Format = None,
    # A string, as typed: a Path would read ./- as -, the folder a user asked for as stdout.
    plot_folder: Annotated[Optional[str], typer.Option("--plot", metavar="DIR", rich_help_panel=OUTPUT_PANEL, help="Also draw the backtest's "
                                                       "pictures (PNG and SVG) into DIR; a run folder's report shows them.")] = None,
    quiet: Quiet = False,
    **options,
) -> None:
    """Forecast the models above each cut from those below it; score against the baselines (the paper's
    and a bounded sigmoid, linear, flat), with the 90% interval's coverage and the threshold's error."""
    import io
    import sys

    from slicesand.artifacts.documents import dumps
    from slicesand.artifacts.slices_table import read_slices
    from slicesand.cli.ui import Ui, print_frame, stdout_format, write_stdout
    from slicesand.evaluation.backtest import backtest, backtest_dump

    if plot_folder == STDIO:  # pictures have no stream form: refuse rather than make a folder named -
        raise UsageError(None, "--plot takes a folder for the backtest's pictures, not - (stdout)",
                         hint="--plot backtest_plots/")
    plot = None if plot_folder is None else Path(plot_folder)
    if plot is not None and plot.exists() and not plot.is_dir():  # refused before the backtest, not after it
        raise UsageError(str(plot), "is a file; --plot writes the backtest's pictures into a folder",
                         hint="give --plot a folder name")
    ui = Ui(quiet)
    fmt = stdout_format(fmt)
    try:
        cut_list = None if cuts is None else [float(c) for c in cuts.split(",") if c.strip()]
    except ValueError:
        raise UsageError(None, "--cuts takes comma-separated numbers of FLOPs", found=cuts) from None
    config = from_cli(ctx.params)
    fixed = None if config.fit.auto else config.fit
    chance, draws, seed = config.fit.chance, config.uncertainty.draws, config.uncertainty.seed
    stdin = sys.stdin.buffer.read() if source == STDIO else None  # read once: sniffed, then parsed
    if is_dump(source, stdin):
        result = backtest_dump(source, cut_list, groups=groups, chance=chance, options=fixed,
                               dump_options=config.dump, draws=draws, seed=seed,
                               stdin=None if stdin is None else io.BytesIO(stdin),
                               accuracy_from=config.slicing.accuracy_from)
    else:
        table = read_slices(source, stdin=None if stdin is None else io.BytesIO(stdin))
        result = backtest(table.frame, cut_list, chance=chance, options=fixed, draws=draws, seed=seed)
    for note in dict.fromkeys(str(note) for note in result.notes):  # how to read the table, not warnings
        ui.info(f"note: {note}")
    if plot is not None:
        from slicesand.reporting.backtest_figures import write_backtest_plots

        names = write_backtest_plots(result.table, result.models, plot, task)
        ui.info(f"backtest pictures -> {plot}/: {', '.join(n for n in names if n.endswith('.png'))}")
    if fmt == "json":
        write_stdout(dumps({"notes": [str(note) for note in result.notes], "rows": result.table.to_dict(orient="records")}))
    else:
        print_frame(result.table, fmt, title="Backtest: accuracy error on the models above each cut")
