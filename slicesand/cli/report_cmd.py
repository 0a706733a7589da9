"""``slicesand report``: explain a run folder's forecast (terminal, Markdown, HTML or JSON).

:func:`render_report` is also what ``run`` prints its summary with.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from slicesand.cli.options import OUTPUT_PANEL, STDIO, Quiet
from slicesand.errors import UsageError


def report_command(
    outdir: Annotated[Path, typer.Argument(metavar="OUTDIR", help="A folder made by `slicesand run`.")],
    fmt: Annotated[Optional[str], typer.Option(
        "--format", "-f", metavar="table|csv|md|html|json", rich_help_panel=OUTPUT_PANEL, help="table (terminal summary), csv (the forecast per model), md (Markdown; with -o, "
                               "PNG and SVG figures beside it), html (one self-contained page) or json (facts, "
                               "no images). Default: table on a terminal, csv when piped, or what -o ends in.")] = None,
    output: Annotated[Optional[Path], typer.Option(
        "--output", "-o", metavar="FILE", rich_help_panel=OUTPUT_PANEL, help="Write the report to this file instead of stdout (csv, md, html, json). "
                               "Nothing is written unless -o is given.")] = None,
    quiet: Quiet = False,
) -> None:
    """Explain a forecast: summary, settings, fitted curves, figures, forecast table, and how it was made."""
    from slicesand.cli.ui import Ui, stdout_format

    if output is not None and str(output) == STDIO:
        output = None  # stdout is where every format goes without -o
    if fmt is None and output is not None:
        fmt = {".csv": "csv", ".md": "md", ".html": "html", ".htm": "html", ".json": "json"}.get(output.suffix.lower())
        if fmt is None:
            raise UsageError(None, "-o must end in .csv, .md, .html or .json (or give --format)", found=str(output))
    fmt = stdout_format(fmt, ("table", "csv", "md", "html", "json"))
    if fmt == "table" and output is not None:
        raise UsageError(None, "the table is for the terminal; -o takes --format csv, md, html or json",
                         found=str(output))
    render_report(outdir, fmt, Ui(quiet), output)


def render_tasks_report(outdir: Path, fmt: str, ui=None, output: Path | None = None) -> None:
    """The cross-task summary of a multi-task run folder: printed, or written to ``output`` (csv, md, json)."""
    from slicesand.artifacts.documents import dumps
    from slicesand.cli.ui import print_frame
    from slicesand.pipeline.tasks import read_tasks_index
    from slicesand.reporting.markdown import render_tasks_markdown

    if fmt == "html":
        raise UsageError(str(outdir), "holds one run per task, and each task folder has its own report.html; "
                         "the summary across tasks is Markdown", hint="give -f md, or report OUTDIR/<task folder>")
    index = read_tasks_index(outdir)
    if fmt == "json":
        _deliver(dumps(index), output, ui)
    elif fmt == "md":
        _deliver(render_tasks_markdown(index), output, ui)
    elif fmt == "csv":  # the artifact itself, checked against the manifest by read_tasks_index
        _deliver((Path(outdir) / "tasks.csv").read_text(encoding="utf-8"), output, ui)
    else:
        import pandas as pd
        frame = pd.DataFrame(index["tasks"]).drop(columns=["folder"]).fillna({"error": ""})
        frame = frame.astype({c: float for c in frame.columns if c not in ("task", "error", "models")})
        frame["models"] = frame["models"].astype("Int64")  # a count
        print_frame(frame, "table", title="Forecast per task")


def _deliver(text: str, output: Path | None, ui) -> None:
    """``text`` to stdout, or written atomically to ``output``."""
    from slicesand.cli.ui import write_stdout
    from slicesand.io.atomic import write_text_atomic

    if output is None:
        write_stdout(text)
        return
    write_text_atomic(output, text)
    if ui is not None:
        ui.info(f"report -> {output}")


def render_report(outdir: Path, fmt: str, ui, output: Path | None = None, *, warn: bool = True) -> None:
    """A folder's report in ``fmt``: printed on stdout, or written to ``output`` (md with its figures
    beside it). Nothing is written without ``output``.

    The table view sends the report's warnings to stderr through ``ui`` (unless ``warn`` is off: ``run``
    has printed them already).
    """
    from slicesand.artifacts.documents import dumps
    from slicesand.cli.ui import write_stdout
    from slicesand.io.atomic import is_regular_target
    from slicesand.pipeline.tasks import is_multitask_folder
    from slicesand.reporting.output import read_report, write_html_report, write_markdown_report

    if is_multitask_folder(outdir):
        render_tasks_report(outdir, fmt, ui, output)
        return
    report = read_report(outdir)  # the folder is read once; every format renders this report
    facts = report.facts
    if fmt == "csv":  # the forecast per model: the predictions artifact, which read_report checked
        _deliver((Path(outdir) / "predictions.csv").read_text(encoding="utf-8"), output, ui)
    elif fmt == "json":
        _deliver(dumps(facts), output, ui)
    elif fmt == "md" and (output is None or not is_regular_target(output)):
        # the text alone: the figures stay where the run drew them (nothing is written beside a device)
        from slicesand.reporting.markdown import render_markdown

        _deliver(render_markdown(facts), output, ui)
    elif fmt == "md":
        path, _ = write_markdown_report(outdir, output, report=report)
        ui.info(f"report -> {path} (figures beside it)")
    elif fmt == "html":
        path, text = write_html_report(outdir, STDIO if output is None else output, report=report)
        if output is None:
            write_stdout(text)
        else:
            ui.info(f"report -> {path}")
    else:
        import dataclasses

        from slicesand.reporting.output import print_terminal_report

        # Warnings are messages: stderr (silenced by --quiet), not the summary on stdout.
        if warn:
            ui.warn_all(facts.get("warnings") or [])
        print_terminal_report(dataclasses.replace(report, facts={**facts, "warnings": []}))
