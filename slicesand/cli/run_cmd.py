"""``slicesand run``: slice, fit, predict and report in one go, into one folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from slicesand.cli.options import (
    COLUMNS, FIT, FORECAST, IMPORT, INPUT, NO_METAVAR, OUTPUT_PANEL, SLICING, UNCERTAINTY, DumpArgument, Quiet, Strict,
    cli_message, from_cli, with_options,
)

FORMATS = ("table", "csv", "md", "json")


@with_options(INPUT, SLICING, FIT, FORECAST, UNCERTAINTY, COLUMNS, IMPORT)
def run_command(
    ctx: typer.Context,
    dump: DumpArgument,
    # A string, as typed: a Path would read ./- as -, the folder a user asked for as stdout.
    output: Annotated[str, typer.Option("--output", "-o", metavar="DIR", rich_help_panel=OUTPUT_PANEL,
                                        help="Folder for every artifact.")] = "slicesand_out",
    fmt: Annotated[Optional[str], typer.Option("--format", "-f", metavar="|".join(FORMATS), rich_help_panel=OUTPUT_PANEL,
                                               help="What to print: table (terminal), csv (piped), md or json (the report).")] = None,
    force: Annotated[bool, typer.Option("--force", metavar=NO_METAVAR, rich_help_panel=OUTPUT_PANEL,
                                        help="Replace a non-run -o folder.")] = False,
    spectrum_groups: Annotated[int, typer.Option("--spectrum-groups", metavar="N", rich_help_panel=OUTPUT_PANEL,
                                                 help="Groups in the spectrum figure (0: none).")] = 10,
    no_figures: Annotated[bool, typer.Option("--no-figures", metavar=NO_METAVAR, rich_help_panel=OUTPUT_PANEL,
                                             help="Draw no figures.")] = False,
    quiet: Quiet = False,
    memory_budget: Annotated[float, typer.Option("--memory-budget", metavar="GB", rich_help_panel=OUTPUT_PANEL,
                                                 help="Memory for the dump and matrices (over: out of core, question subset).")] = 2.0,
    strict: Strict = False,
    **options,
) -> None:
    """Run slice, fit, predict and report in one go, leaving every artifact in the output folder."""
    from slicesand.cli.ui import Ui, check_strict, reader_may_leave, stdout_format
    from slicesand.errors import UsageError
    from slicesand.pipeline.tasks import run_tasks

    if output == "-":  # a folder of artifacts has no stream form: refuse rather than make a folder named -
        raise UsageError(None, "run writes a folder of artifacts; -o takes a folder, not - (stdout)",
                         hint="the forecast is printed to stdout already: --format csv, json or md")
    ui = Ui(quiet)
    fmt = stdout_format(fmt, FORMATS)
    config = from_cli(ctx.params, ctx.meta.get("slicesand.argv"))
    with ui.status("slicing, fitting and forecasting"):
        runs = run_tasks(dump, Path(output), config, force=force)
    with reader_may_leave():  # `| head` left early: exit 0, unless a task failed or --strict fails below
        print_run(runs, fmt, ui)
    if runs.multitask and runs.failed is not None:  # tasks.csv is written and says why; CI must see it
        raise runs.failed
    check_strict(strict, [w for run in runs.runs.values() for w in run.warnings])


def print_run(runs, fmt: str, ui) -> None:
    """Print what a run made. Warnings and the closing line are messages: stderr (silenced by --quiet),
    whatever the format and whatever becomes of stdout (a reader that closed the pipe)."""
    from slicesand.cli.report_cmd import render_report, render_tasks_report
    from slicesand.cli.ui import write_stdout

    if runs.multitask:
        from slicesand.diagnostics import with_task

        # each warning says which task it is about: the same words from two tasks are two warnings
        ui.warn_all([*(f"{w.task}: {w.render()}" for task, run in runs.runs.items()
                       for w in with_task(run.warnings, task)),
                     *(cli_message(str(note)) for note in runs.notes)])  # a failed task's error names parameters
        try:
            render_tasks_report(runs.outdir, fmt)
        finally:
            ui.info(f"one folder per task in {runs.outdir}/, with tasks.csv and report.md across tasks")
        return
    result = next(iter(runs.runs.values()))
    ui.warn_all([*result.warnings, *result.notes])
    try:
        if fmt == "md":
            write_stdout((result.outdir / "report.md").read_text(encoding="utf-8"))
        else:
            render_report(result.outdir, fmt, ui, warn=False)
    finally:
        ui.info(artifact_summary(result.outdir))


def artifact_summary(outdir: Path) -> str:
    """What the folder holds, in one line: every artifact by name, the figures counted."""
    files = sorted(path.name for path in Path(outdir).iterdir() if path.is_file())
    figures = [name for name in files if name.endswith((".png", ".svg"))]
    named = ", ".join(name for name in files if name not in figures)
    return f"artifacts in {outdir}/: {named}" + (f" and {len(figures)} figure files" if figures else "")
