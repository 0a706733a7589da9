"""``slicesand fit``: fit the easy and hard curves, the TC Brier-to-accuracy line and the baseline."""

from __future__ import annotations

from typing import Annotated

import typer

from slicesand.cli.options import FIT, OUTPUT_PANEL, STDIO, Cut, Quiet, Strict, check_output, from_cli, with_options


@with_options(FIT)
def fit_command(
    ctx: typer.Context,
    slices: Annotated[str, typer.Argument(metavar="SLICES", help="Slices table from `slicesand slice` (or -).")],
    output: Annotated[str, typer.Option("--output", "-o", metavar="FILE", rich_help_panel=OUTPUT_PANEL,
                                        help="fit.json to write, or - for stdout.")] = STDIO,
    cut: Cut = None,
    quiet: Quiet = False,
    strict: Strict = False,
    **options,
) -> None:
    """Fit the easy and hard curves, the TC Brier-to-accuracy line, and the baselines (sigmoids, line, flat)."""
    import dataclasses

    from slicesand.artifacts.slices_table import read_slices
    from slicesand.cli.ui import Ui, check_strict
    from slicesand.pipeline.stages import fit_stage, write_fit

    ui = Ui(quiet)
    check_output(output, (".json",), inputs=(slices,))
    fit_options = from_cli(ctx.params).fit
    table = read_slices(slices)
    if cut is None and table.cut is not None:
        fit_options = dataclasses.replace(fit_options, cut=table.cut)
        ui.info(f"using the cut the slices were ranked with: {table.cut:g} FLOPs")
    elif cut is None and table.meta is None:
        # A piped or hand-made table carries no record of its cut; say what happens instead of guessing.
        ui.warn(f"{table.name} records no cut (no .meta.json beside it), so every model trains and none is "
                "held out; pass --cut to hold models out")
    fit = fit_stage(table, fit_options)
    ui.warn_all(fit.warnings)
    write_fit(fit, output, table.source)
    ui.info(f"fitted on {len(fit.training_models)} training models ({len(fit.test_models)} held out)"
            + ("" if output == STDIO else f" -> {output}"))
    check_strict(strict, fit.warnings)
