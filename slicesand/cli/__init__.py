"""The ``slicesand`` command line: parse options, call the core, render the result.

Nothing here computes: every command calls :mod:`slicesand.pipeline.stages` (and ``run`` calls the same
functions as the single commands, in one process). One module per command (``slice_cmd``, ``fit_cmd``,
``predict_cmd``, ``report_cmd``, ``run_cmd``, ``backtest_cmd``, ``import_cmd``, ``models_cmd``); the
options they share are in :mod:`slicesand.cli.options`; this module only registers them on :data:`app`.
"""

from __future__ import annotations

from typing import Annotated

import typer

from slicesand import __version__
from slicesand.cli import (
    backtest_cmd, fit_cmd, import_cmd, models_cmd, predict_cmd, report_cmd, run_cmd, slice_cmd,
)
from slicesand.cli.help import SlicesandCommand
from slicesand.cli.ui import SlicesandGroup

app = typer.Typer(
    cls=SlicesandGroup,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain, sectioned --help (slicesand.cli.help): rich's costs 0.15 s to import
    context_settings={"help_option_names": ["-h", "--help"]},
    help="Forecast emergent abilities of language models from per-question eval dumps "
         "(Slice-and-Sandwich, Wu & Lo, ICLR 2025).\n\n"
         "Exit codes: 0 success, 1 internal error, 2 usage error, 3 bad input data, "
         "4 incompatible or stale artifact, 5 output refused (disk full, closed stdout), "
         "6 a trust warning under --strict, 130 interrupted, 143 terminated (SIGTERM).",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"slicesand {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """Forecast emergent abilities of language models (Slice-and-Sandwich)."""


# The order of `slicesand --help`.
app.command("slice", cls=SlicesandCommand)(slice_cmd.slice_command)
app.command("fit", cls=SlicesandCommand)(fit_cmd.fit_command)
app.command("predict", cls=SlicesandCommand)(predict_cmd.predict_command)
app.command("report", cls=SlicesandCommand)(report_cmd.report_command)
app.command("run", cls=SlicesandCommand)(run_cmd.run_command)
app.command("backtest", cls=SlicesandCommand)(backtest_cmd.backtest_command)
app.command("import", cls=SlicesandCommand)(import_cmd.import_command)
app.command("models", cls=SlicesandCommand)(models_cmd.models_command)

