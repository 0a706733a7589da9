"""``slicesand fit``: fit the easy and hard curves, the TC Brier-to-accuracy line and the baseline."""

from __future__ import annotations

from typing import Annotated

import typer

from slicesand.cli.options import (
    STDIO, Chance, Cut, EasyDegree, HardDegree, Paper, Quiet, Variant, check_output, fit_options,
)


def fit_command(
    slices: Annotated[str, typer.Argument(help="Slices table from `slicesand slice` (or - for stdin).")],
    output: Annotated[str, typer.Option("--output", "-o", help="fit.json to write, or - for stdout.")] = STDIO,
    cut: Cut = None,
    chance: Chance = 0.25,
    easy_degree: EasyDegree = None,
    hard_degree: HardDegree = None,
    variant: Variant = None,
    paper: Paper = False,
    quiet: Quiet = False,
) -> None:
    """Fit the easy and hard curves, the TC Brier-to-accuracy line, and the sigmoid baseline."""
    import dataclasses

    from slicesand.artifacts.slices_table import read_slices
    from slicesand.cli.ui import Ui
    from slicesand.pipeline.stages import fit_stage, write_fit

    ui = Ui(quiet)
    check_output(output, (".json",))
    options = fit_options(cut, chance, easy_degree, hard_degree, variant, paper)
    table = read_slices(slices)
    if cut is None and table.cut is not None:
        options = dataclasses.replace(options, cut=table.cut)
        ui.info(f"using the cut the slices were ranked with: {table.cut:g} FLOPs")
    elif cut is None and table.meta is None:
        # A piped or hand-made table carries no record of its cut; say what happens instead of guessing.
        ui.warn(f"{table.name} records no cut (no .meta.json beside it), so every model trains and none is "
                "held out; pass --cut to hold models out")
    fit = fit_stage(table, options)
    ui.warn_all(fit.warnings)
    write_fit(fit, output, table.source)
    ui.info(f"fitted on {len(fit.training_models)} training models ({len(fit.test_models)} held out)"
            + ("" if output == STDIO else f" -> {output}"))
