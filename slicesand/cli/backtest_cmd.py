"""``slicesand backtest``: score the forecast at past cuts against simple baselines.

Registered on :data:`slicesand.cli.app` by importing this module (last line of ``slicesand/cli/__init__.py``).
"""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from slicesand.artifacts import dumps
from slicesand.backtest import NOTE_TABLE, backtest
from slicesand.cli import Chance, EasyDegree, HardDegree, Paper, Quiet, Variant, _fit_options, app
from slicesand.cli.ui import Ui, print_frame, stdout_format, write_stdout
from slicesand.errors import UsageError
from slicesand.slices_table import read_slices


@app.command("backtest")
def backtest_command(
    slices: Annotated[str, typer.Argument(metavar="SLICES_OR_TABLE",
                                          help="Slices table (or a paper group table), CSV/Parquet or -.")],
    cuts: Annotated[Optional[str], typer.Option("--cuts", help="Comma-separated cuts in FLOPs. Default: every "
                                                               "0.25 decade leaving >= 10 training and >= 5 test models.")] = None,
    chance: Chance = 0.25,
    easy_degree: EasyDegree = None,
    hard_degree: HardDegree = None,
    variant: Variant = None,
    paper: Paper = False,
    fmt: Annotated[Optional[str], typer.Option("--format", "-f", help="table, csv or json.")] = None,
    quiet: Quiet = False,
) -> None:
    """Forecast the models above each cut from those below it; score against sigmoid, linear and flat."""
    ui = Ui(quiet)
    fmt = stdout_format(fmt)
    try:
        cut_list = None if cuts is None else [float(c) for c in cuts.split(",") if c.strip()]
    except ValueError:
        raise UsageError(None, "--cuts takes comma-separated numbers of FLOPs", found=cuts) from None
    options = _fit_options(None, chance, easy_degree, hard_degree, variant, paper)
    table = read_slices(slices)
    result = backtest(table.frame, cut_list, chance=chance, options=None if options.auto else options)
    notes = [NOTE_TABLE] + result.notes
    ui.warn_all(notes)
    if fmt == "json":
        write_stdout(dumps({"notes": notes, "rows": result.table.to_dict(orient="records")}))
    else:
        print_frame(result.table, fmt, title="Backtest: accuracy error on the models above each cut")
