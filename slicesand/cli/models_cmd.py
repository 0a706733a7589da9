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
        print_frame(scale_sources(dump), stdout_format(fmt), title=f"Model scales for {dump}")
        return
    table = known_models()
    print_frame(table, stdout_format(fmt), title="Known base models (sources: see the source column)")
    Ui(quiet).info(f"{len(table)} models; `--models FILE` always wins over this table")
