"""``slicesand import``: any supported source -> the long table `slice` reads."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from slicesand.cli.options import (
    OUTPUT_PANEL, STDIO, CorrectMetric, FilterName, From, GroupSubtasks, NoKnownScales, Metric, Orientation, Quiet, TaskName,
    check_output, import_options,
)
from slicesand.errors import UsageError


def import_command(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(metavar="SOURCE", help="lm-eval output folder, HELM run folder(s), 0/1 matrix CSV, "
                                               "py-irt JSONL, or a long CSV/Parquet.")],
    output: Annotated[str, typer.Option("--output", "-o", metavar="FILE", rich_help_panel=OUTPUT_PANEL, help="Long dump to write: .parquet, .csv, or - for "
                                                               "CSV on stdout.")] = STDIO,
    source_kind: From = None,
    metric: Metric = "acc",
    filter_name: FilterName = None,
    group_subtasks: GroupSubtasks = False,
    correct_metric: CorrectMetric = None,
    orientation: Orientation = "auto",
    task_name: TaskName = None,
    no_known_scales: NoKnownScales = False,
    quiet: Quiet = False,
) -> None:
    """Convert an eval dump into the long table `slice` reads, with a flops column where the scale is known.

    Beside a file output it writes `<file>.models.csv`, e.g. dump.parquet.models.csv, with columns model,
    params, tokens, flops and scale_source: fill in what is missing and pass it to `slice --models`.
    """

    from slicesand.cli.ui import Ui
    from slicesand.ingest.importers import flops_per_row, read_source
    from slicesand.io.tables import write_arrow_table, write_table

    ui = Ui(quiet)
    check_output(output, (".csv", ".parquet", ".pq"), inputs=(source,))
    if source == STDIO:
        raise UsageError(None, "import reads files and folders, not stdin", hint="`slice -` reads a long CSV on stdin")
    with ui.status("importing"):
        result = read_source(source, source_kind, options=import_options(ctx.params))
    models = result.models
    flops = models.set_index("model")["flops"]
    dump = result.dump
    per_row = flops_per_row(result)
    if per_row is not None:
        dump = dump.append_column("flops", per_row)
    ui.warn_all(result.notes)
    write_arrow_table(dump, output)
    if output != STDIO:
        models_path = Path(output).with_name(Path(output).name + ".models.csv")  # unique per output file
        write_table(models, models_path)
        ui.info(f"read {result.kind}: {dump.num_rows} answers by {len(models)} models "
                f"({int(flops.notna().sum())} with a known scale) -> {output}, {models_path.name}")
