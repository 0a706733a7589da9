"""``slicesand models``: the bundled table of public base models' scale."""

from __future__ import annotations

from slicesand.cli.options import Format, Quiet


def models_command(
    fmt: Format = None,
    quiet: Quiet = False,
) -> None:
    """List the bundled table of public base models' scale (parameters, tokens, FLOPs)."""
    from slicesand.cli.ui import Ui, print_frame, stdout_format
    from slicesand.ingest.known_models import known_models

    table = known_models()
    print_frame(table, stdout_format(fmt), title="Known base models (ObsScaling, Apache-2.0)")
    Ui(quiet).info(f"{len(table)} models; `--models FILE` always wins over this table")
