"""``slicesand slice``: score every answer, rank the questions by difficulty, average per group."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from slicesand.cli.options import (
    AccuracyFrom, STDIO, CorrectColumn, CorrectMetric, Cut, DumpArgument, FilterName, FlopsColumn, From, Groups,
    GroupSubtasks, IgnoreUnknown, KnownScales, Layout, Metric, ModelColumn, Models, Orientation, PColumn,
    QuestionColumn, Quiet, Task, TaskColumn, TaskName, check_output, dump_options,
)
from slicesand.errors import UsageError


def slice_command(
    ctx: typer.Context,
    dump: DumpArgument,
    output: Annotated[str, typer.Option("--output", "-o", help="Slices table: .csv, .parquet, or - for CSV on stdout.")] = STDIO,
    questions: Annotated[Optional[str], typer.Option("--questions", help="Also write the questions table here.")] = None,
    models: Models = None,
    cut: Cut = None,
    groups: Groups = 3,
    accuracy_from: AccuracyFrom = "correct",
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
    quiet: Quiet = False,
    emit_sql: Annotated[bool, typer.Option("--emit-sql", help="Print the two slicing scans as plain SQL for "
                                           "this dump's schema (tables dump, models) instead of slicing.")] = False,
    sql_dialect: Annotated[str, typer.Option("--sql-dialect", help="Types for --emit-sql: duckdb, trino, "
                                             "spark or bigquery.")] = "duckdb",
) -> None:
    """Score every answer, rank questions by difficulty, and average each model's score per group."""
    from slicesand.cli.ui import Ui
    from slicesand.pipeline.stages import slice_stage, write_slice_stage
    from slicesand.slicing.difficulty import SliceOptions

    ui = Ui(quiet)
    check_output(output, (".csv", ".parquet", ".pq"))
    if questions is not None:
        check_output(questions, (".csv", ".parquet", ".pq"), "--questions")
        if questions == STDIO and output == STDIO:
            raise UsageError(None, "only one of --output and --questions can be stdout")
    options = dump_options(ctx.params)
    if emit_sql:
        from slicesand.slicing.scans import emit_sql as emitted

        typer.echo(emitted(dump, options.columns, SliceOptions(cut=cut, groups=groups), sql_dialect,
                           scales_in_dump=models is None), nl=False)
        return
    with ui.status("slicing"):
        stage = slice_stage(dump, SliceOptions(cut=cut, groups=groups, accuracy_from=accuracy_from), options)
    ui.warn_all(stage.result.warnings)
    write_slice_stage(stage, output, questions)
    facts = stage.result.facts
    ui.info(f"sliced {facts['n_ranked_questions']} questions into {groups} groups on "
            f"{facts['n_reference_models']} reference models; {facts['n_models']} models"
            + ("" if output == STDIO else f" -> {output}"))
