"""``slicesand slice``: score every answer, rank the questions by difficulty, average per group."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from slicesand.cli.options import (
    COLUMNS, IMPORT, INPUT, NO_METAVAR, OUTPUT_PANEL, SLICING, STDIO, DumpArgument, Quiet, check_output, from_cli, with_options,
)
from slicesand.errors import UsageError


@with_options(INPUT, SLICING, COLUMNS, IMPORT)
def slice_command(
    ctx: typer.Context,
    dump: DumpArgument,
    output: Annotated[str, typer.Option("--output", "-o", metavar="FILE", rich_help_panel=OUTPUT_PANEL,
                                        help="Slices table: .csv, .parquet, or - (CSV on stdout).")] = STDIO,
    questions: Annotated[Optional[str], typer.Option("--questions", metavar="FILE", rich_help_panel=OUTPUT_PANEL,
                                                     help="Also write the questions table here.")] = None,
    quiet: Quiet = False,
    emit_sql: Annotated[bool, typer.Option("--emit-sql", metavar=NO_METAVAR, rich_help_panel=OUTPUT_PANEL,
                                           help="Print the two slicing scans as plain SQL for this dump's "
                                                "schema (tables dump, models) instead of slicing.")] = False,
    sql_dialect: Annotated[str, typer.Option("--sql-dialect", metavar="duckdb|trino|spark|bigquery",
                                             rich_help_panel=OUTPUT_PANEL, show_default=False,
                                             help="Types for --emit-sql (default: duckdb).")] = "duckdb",
    **options,
) -> None:
    """Score every answer, rank questions by difficulty, and average each model's score per group."""
    from slicesand.cli.ui import Ui
    from slicesand.pipeline.stages import slice_stage, write_slice_stage

    ui = Ui(quiet)
    inputs = (dump, options.get("models"))
    check_output(output, (".csv", ".parquet", ".pq"), inputs=inputs)
    if questions is not None:
        check_output(questions, (".csv", ".parquet", ".pq"), "--questions", inputs=inputs)
        if questions == STDIO and output == STDIO:
            raise UsageError(None, "only one of --output and --questions can be stdout")
        if questions != STDIO and output != STDIO and Path(questions).resolve() == Path(output).resolve():
            raise UsageError(None, "--output and --questions name the same file; one would overwrite the other",
                             found=questions)
    config = from_cli(ctx.params)
    if emit_sql:
        from slicesand.slicing.scans import emit_sql as emitted

        typer.echo(emitted(dump, config.dump.columns, config.slicing, sql_dialect,
                           scales_in_dump=config.dump.models_path is None), nl=False)
        return
    with ui.status("slicing"):
        stage = slice_stage(dump, config.slicing, config.dump)
    ui.warn_all(stage.result.warnings)
    write_slice_stage(stage, output, questions)
    facts = stage.result.facts
    ui.info(f"sliced {facts['n_ranked_questions']} questions into {config.slicing.groups} groups on "
            f"{facts['n_reference_models']} reference models; {facts['n_models']} models"
            + ("" if output == STDIO else f" -> {output}"))
