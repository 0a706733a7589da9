"""``slicesand models``: the bundled table of public base models' scale."""

from __future__ import annotations

from typing import Annotated

import typer

from slicesand.cli.options import Format, Quiet


def models_command(
    fmt: Format = None,
    quiet: Quiet = False,
    dump: Annotated[str | None, typer.Option("--for", metavar="DUMP", help="A dump or source: list its models' FLOPs and where "
                                                          "each came from.")] = None,
) -> None:
    """List the bundled table of public base models' scale (parameters, tokens, FLOPs, source)."""
    from slicesand.cli.ui import Ui, print_frame, stdout_format
    from slicesand.ingest.known_models import known_models

    if dump is not None:
        from slicesand.ingest.sources import scale_sources
        scales = scale_sources(dump)
        print_frame(scales, stdout_format(fmt), title=f"Model scales for {dump}")
        Ui(quiet).info(dump_scales_summary(scales, dump))
        return
    table = known_models()
    print_frame(table, stdout_format(fmt), title="Known base models (sources: see the source column)")
    Ui(quiet).info(f"{len(table)} models; `--models FILE` always wins over this table")


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
