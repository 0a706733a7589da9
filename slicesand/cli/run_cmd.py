"""``slicesand run``: slice, fit, predict and report in one go, into one folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from slicesand.cli.options import (
    AccuracyFrom, At, Bootstrap, Chance, CorrectColumn, CorrectMetric, Cut, DumpArgument, EasyDegree, FilterName,
    FlopsColumn, From, Grid, Groups, GroupSubtasks, HardDegree, IgnoreUnknown, KnownScales, Layout, Metric,
    ModelColumn, Models, Orientation, Paper, PColumn, QuestionColumn, Quiet, Seed, Task, TaskColumn,
    TaskName, Variant, dump_options, fit_options, flops_list,
)
from slicesand.errors import UsageError


def run_command(
    ctx: typer.Context,
    dump: DumpArgument,
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for every artifact.")] = Path("slicesand_out"),
    models: Models = None,
    cut: Cut = None,
    groups: Groups = 3,
    accuracy_from: AccuracyFrom = "correct",
    chance: Chance = 0.25,
    easy_degree: EasyDegree = None,
    hard_degree: HardDegree = None,
    variant: Variant = None,
    paper: Paper = False,
    at: At = None,
    grid: Grid = None,
    layout: Layout = "long",
    task: Task = None,
    ignore_unknown_models: IgnoreUnknown = False,
    model_column: ModelColumn = "model",
    question_column: QuestionColumn = "question",
    correct_column: CorrectColumn = "correct",
    p_correct_column: PColumn = "p_correct",
    task_column: TaskColumn = "task",
    flops_column: FlopsColumn = "flops",
    source_kind: From = None,
    metric: Metric = "acc",
    filter_name: FilterName = None,
    group_subtasks: GroupSubtasks = False,
    correct_metric: CorrectMetric = None,
    orientation: Orientation = "auto",
    task_name: TaskName = None,
    known_scales: KnownScales = True,
    fmt: Annotated[str, typer.Option("--format", "-f", help="How to print the summary: table, md or json.")] = "table",
    spectrum_groups: Annotated[int, typer.Option("--spectrum-groups", help="Difficulty groups in the spectrum "
                                                                            "figure (0: no spectrum).")] = 10,
    figures: Annotated[bool, typer.Option("--figures/--no-figures", help="Draw the report's PNG figures.")] = True,
    bootstrap: Bootstrap = 1000,
    seed: Seed = 0,
    quiet: Quiet = False,
) -> None:
    """Run slice, fit, predict and report in one go, leaving every artifact in the output folder."""
    from slicesand.cli.report_cmd import render_report, render_tasks_report
    from slicesand.cli.ui import Ui, write_stdout
    from slicesand.forecast.predict import parse_grid
    from slicesand.pipeline.tasks import run_tasks
    from slicesand.slicing.difficulty import SliceOptions

    ui = Ui(quiet)
    if fmt not in ("table", "md", "json"):
        raise UsageError(None, "--format must be table, md or json", found=fmt)
    options = dump_options(ctx.params)
    fit = fit_options(cut, chance, easy_degree, hard_degree, variant, paper)
    with ui.status("slicing, fitting and forecasting"):
        runs = run_tasks(dump, output, SliceOptions(cut=cut, groups=groups, accuracy_from=accuracy_from), fit, options,
                         at=flops_list(at), grid=None if grid is None else parse_grid(grid),
                         spectrum_groups=spectrum_groups or None, figures=figures, bootstrap=bootstrap, seed=seed,
                         argv=ctx.meta.get("slicesand.argv"))
    if runs.multitask:
        ui.warn_all(runs.notes)
        render_tasks_report(runs.outdir, fmt)
        ui.info(f"one folder per task in {runs.outdir}/, with tasks.csv and report.md across tasks")
        return
    result = next(iter(runs.runs.values()))
    ui.warn_all(result.notes)
    # The report itself lists the warnings, so they are not printed twice.
    if fmt == "md":
        write_stdout((result.outdir / "report.md").read_text(encoding="utf-8"))
    else:
        render_report(result.outdir, fmt, ui)
    ui.info(f"artifacts in {result.outdir}/: slices.csv, questions.csv, fit.json, predictions.csv, report.md"
            + (" and figures" if figures else ""))
