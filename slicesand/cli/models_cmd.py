"""``slicesand models``: the bundled table of public base models' scale, or a dump's models' scales."""

from __future__ import annotations

from typing import Annotated

import typer

from slicesand.cli.options import COLUMNS, IMPORT, INPUT, Format, Quiet, from_cli, with_options
from slicesand.errors import UsageError


@with_options(INPUT, COLUMNS, IMPORT)
def models_command(
    ctx: typer.Context,
    fmt: Format = None,
    quiet: Quiet = False,
    dump: Annotated[str | None, typer.Option("--for", metavar="DUMP",
                                             help="A dump or source: list its models' FLOPs and where each came "
                                                  "from, as slice and run resolve them with the same input "
                                                  "options (--task NAME: that task's models).")] = None,
    **options,
) -> None:
    """List the bundled table of public base models' scale (parameters, tokens, FLOPs, source), or with
    --for DUMP each of a dump's models with its FLOPs and where they came from."""
    from slicesand.cli.ui import Ui, print_frame, stdout_format
    from slicesand.ingest.known_models import known_models

    if dump is not None:
        from slicesand.io.tables import display_name
        from slicesand.pipeline.stages import scale_listing

        scales, name = scale_listing(dump, from_cli(ctx.params).dump), display_name(dump)
        print_frame(scales, stdout_format(fmt), title=f"Model scales for {name}")
        Ui(quiet).info(dump_scales_summary(scales, name))
        return
    given = dump_options_given(ctx)
    if given:
        raise UsageError(None, f"{given[0]} describes a dump, and only applies with --for DUMP",
                         hint="slicesand models --for DUMP " + given[0] + " ...")
    table = known_models()
    print_frame(table, stdout_format(fmt), title="Known base models (sources: see the source column)")
    Ui(quiet).info(f"{len(table)} models; `--models FILE` always wins over this table")


def dump_options_given(ctx: typer.Context) -> list[str]:
    """The dump options (``--models``, ``--task``, the columns, the importers') given on the command line,
    even at their default values."""
    shared = {p.name for group in (INPUT, COLUMNS, IMPORT) for p in group}

    def given(name: str) -> bool:
        source = ctx.get_parameter_source(name)
        return source is not None and source.name in ("COMMANDLINE", "ENVIRONMENT")

    return [param.opts[0] for param in ctx.command.params if param.name in shared and given(param.name)]


def dump_scales_summary(scales, dump: str) -> str:
    """What ``models --for DUMP`` found: the dump's models, not the bundled table's.

    >>> import pandas as pd
    >>> dump_scales_summary(pd.DataFrame({"scale_source": ["dump", "none", "none"]}), "d.csv")
    'd.csv has 3 models: 1 with a scale, 2 without one (give them one with `--models FILE`)'
    """
    without = int((scales["scale_source"] == "none").sum())
    if without == 0:
        return f"{dump} has {len(scales)} models, each with a scale"
    return (f"{dump} has {len(scales)} models: {len(scales) - without} with a scale, {without} without one "
            "(give them one with `--models FILE`)")
