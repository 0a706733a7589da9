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
        "--format", "-f", metavar="table|csv|md|html|json", rich_help_panel=OUTPUT_PANEL, help="table (terminal summary), csv (the forecast per model), md (report.md with "
                               "PNG figures beside it), html (one self-contained report.html) or json (facts, "
                               "no images). Default: table on a terminal, csv when piped, or what -o ends in.")] = None,
    output: Annotated[Optional[Path], typer.Option(
        "--output", "-o", metavar="FILE", rich_help_panel=OUTPUT_PANEL, help="Write the report here (md, html, json), - for stdout. Default: OUTDIR/report.md "
                               "or OUTDIR/report.html; json goes to stdout.")] = None,
    quiet: Quiet = False,
) -> None:
    """Explain a forecast: summary, settings, fitted curves, figures, forecast table, and how it was made."""
    from slicesand.cli.ui import Ui, stdout_format

    if fmt is None and output is not None and str(output) != STDIO:
        fmt = {".md": "md", ".html": "html", ".htm": "html", ".json": "json"}.get(output.suffix.lower())
        if fmt is None:
            raise UsageError(None, "-o must end in .md, .html or .json (or give --format)", found=str(output))
    fmt = stdout_format(fmt, ("table", "csv", "md", "html", "json"))
    if fmt in ("table", "csv") and output is not None:
        raise UsageError(None, "--output needs --format md, html or json", found=str(output))
    render_report(outdir, fmt, Ui(quiet), output)


def render_tasks_report(outdir: Path, fmt: str, ui=None, output: Path | None = None) -> None:
    """The cross-task summary of a multi-task run folder: printed, or written to ``output`` (md, json)."""
    from slicesand.artifacts.documents import dumps
    from slicesand.cli.ui import print_frame, write_stdout
    from slicesand.pipeline.tasks import read_tasks_index
    from slicesand.reporting.markdown import render_tasks_markdown

    if fmt == "html":
        raise UsageError(str(outdir), "holds one run per task, and each task folder has its own report.html; "
                         "the summary across tasks is Markdown", hint="give -f md, or report OUTDIR/<task folder>")
    index = read_tasks_index(outdir)
    if fmt in ("json", "md"):
        text = dumps(index) if fmt == "json" else render_tasks_markdown(index)
        if output is None or str(output) == STDIO:
            write_stdout(text)
        else:
            from slicesand.io.atomic import write_text_atomic

            write_text_atomic(output, text)
            if ui is not None:
                ui.info(f"report -> {output}")
    elif fmt == "csv":  # the artifact itself, checked against the manifest by read_tasks_index
        write_stdout((Path(outdir) / "tasks.csv").read_text(encoding="utf-8"))
    else:
        import pandas as pd
        frame = pd.DataFrame(index["tasks"]).drop(columns=["folder"]).fillna({"error": ""})
        frame = frame.astype({c: float for c in frame.columns if c not in ("task", "error", "models")})
        frame["models"] = frame["models"].astype("Int64")  # a count
        print_frame(frame, "table", title="Forecast per task")


def render_report(outdir: Path, fmt: str, ui, output: Path | None = None, *, printed: bool = True,
                  warn: bool = True) -> None:
    """Write (md, html; json with -o) and print (table, csv; md and json without -o) a folder's report.

    The table view sends the report's warnings to stderr through ``ui`` (unless ``warn`` is off: ``run``
    has printed them already).
    """
    from slicesand.artifacts.documents import dumps
    from slicesand.cli.ui import write_stdout
    from slicesand.io.atomic import write_text_atomic
    from slicesand.pipeline.tasks import is_multitask_folder
    from slicesand.reporting.output import read_report, write_html_report, write_markdown_report

    if is_multitask_folder(outdir):
        render_tasks_report(outdir, fmt, ui, output)
        return
    report = read_report(outdir)  # the folder is read once; every format renders this report
    facts = report.facts
    to_stdout = output is not None and str(output) == STDIO
    if to_stdout and fmt != "html":
        output = None  # printed below; nothing is written into the folder
    if fmt == "csv":  # the forecast per model: the predictions artifact, which read_report checked
        write_stdout((Path(outdir) / "predictions.csv").read_text(encoding="utf-8"))
    elif fmt == "json":
        if output is None:
            write_stdout(dumps(facts))
        else:
            write_text_atomic(output, dumps(facts))
            ui.info(f"report -> {output}")
    elif fmt == "md" and to_stdout:  # the text alone: the figures stay where the run drew them
        from slicesand.reporting.markdown import render_markdown

        write_stdout(render_markdown(facts))
    elif fmt == "md":
        path, text = write_markdown_report(outdir, output, report=report)
        if output is None and printed:
            write_stdout(text)
        ui.info(f"report -> {path} (figures beside it)")
    elif fmt == "html":
        path, text = write_html_report(outdir, output, report=report)
        if str(path) == STDIO:
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
