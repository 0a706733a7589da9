"""``slicesand predict``: forecast accuracy and TC Brier from a fit."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from slicesand.cli.options import (
    FORECAST, OUTPUT_PANEL, STDIO, UNCERTAINTY, Format, Quiet, Strict, check_output, from_cli, with_options,
)
from slicesand.errors import UsageError

TABLE_VIEW = {"model": "model", "flops": "FLOPs", "split": "split", "pred_accuracy": "forecast",
              "pred_accuracy_lo": "low", "pred_accuracy_hi": "high", "baseline_accuracy": "baseline",
              "observed_accuracy": "observed"}  # low-high: the 90% prediction interval
# Without accuracy (a p_correct-only dump, no --accuracy-from p_correct): the TC Brier columns instead.
TC_VIEW = {"model": "model", "flops": "FLOPs", "split": "split", "pred_tc_brier": "TC Brier",
           "pred_easy": "easy group", "pred_hard": "hard group"}


@with_options(FORECAST, UNCERTAINTY)
def predict_command(
    ctx: typer.Context,
    fit_path: Annotated[str, typer.Argument(metavar="FIT.json", help="fit.json from `slicesand fit`, or - for "
                                                                      "stdin (`fit ... | predict - slices.csv`).")],
    slices: Annotated[Optional[str], typer.Argument(metavar="SLICES",
                                                    help="Slices table whose models to forecast (or -).")] = None,
    output: Annotated[Optional[str], typer.Option("--output", "-o", metavar="FILE", rich_help_panel=OUTPUT_PANEL,
                                                  help="Also write predictions (.csv or .parquet, with a "
                                                       ".meta.json sidecar).")] = None,
    fmt: Format = None,
    quiet: Quiet = False,
    strict: Strict = False,
    **options,
) -> None:
    """Forecast accuracy and TC Brier at each model, at --at scales, and on a --grid."""
    from slicesand.artifacts.documents import dumps, read_fit
    from slicesand.artifacts.slices_table import read_slices
    from slicesand.cli.ui import Ui, check_strict, print_frame, reader_may_leave, stdout_format, write_stdout
    from slicesand.forecast.predict import predict
    from slicesand.pipeline.stages import forecast_summary, write_predictions
    from slicesand.reporting.facts import build_facts, format_flops, headline
    from slicesand.uncertainty.intervals import add_intervals, has_interval

    ui = Ui(quiet)
    fmt = stdout_format(fmt)
    if output is not None:
        check_output(output, (".csv", ".parquet", ".pq"), inputs=(fit_path, slices))
        if output == STDIO:
            raise UsageError(None, "predictions go to stdout already; give -o a file name")
    config = from_cli(ctx.params)
    at, grid, draws = list(config.predict.at), config.predict.grid, config.uncertainty.draws
    if fit_path == STDIO and slices == STDIO:
        raise UsageError(None, "only one of FIT.json and the slices table can be read from stdin")
    fit, fit_source = read_fit(fit_path)
    table = read_slices(slices) if slices is not None else None
    forecast = predict(fit, None if table is None else table.frame, at=at, grid=None if grid is None else list(grid),
                       source=None if table is None else table.name)
    # Intervals and trust warnings need only the fit; the bootstrap part refits, so it needs the slices table.
    forecast = add_intervals(forecast, fit, None if table is None else table.frame, draws=draws,
                             seed=config.uncertainty.seed)
    if table is None and draws and fit.has_accuracy:
        ui.info("intervals without the bootstrap part: give the slices table the fit was made on to add it")
    ui.warn_all(forecast.warnings)
    summary = forecast_summary(forecast)
    if output is not None:
        write_predictions(forecast, output, fit_source, None if table is None else table.source,
                          {"at": at, "grid": ctx.params["grid"], "bootstrap": draws, "seed": config.uncertainty.seed})
    with reader_may_leave():  # the headline and --strict below, also when `| head` left early
        if fmt == "json":
            write_stdout(dumps({**summary, "predictions": forecast.table.to_dict(orient="records")}))
        elif fmt == "table":
            # A terminal is narrow: the headline columns, with short names; csv and json carry every column.
            view = TABLE_VIEW if fit.has_accuracy else TC_VIEW
            empty = [] if has_interval(forecast.table) else ["pred_accuracy_lo", "pred_accuracy_hi"]  # --bootstrap 0
            shown = forecast.table[[c for c in view if c in forecast.table.columns and c not in empty]].copy()
            shown["flops"] = shown["flops"].map(format_flops)
            print_frame(shown.rename(columns=view), fmt, title="Forecast", digits=3)
        else:
            print_frame(forecast.table, fmt)
    facts = build_facts(fit, forecast.table, summary, None)
    ui.info(headline(facts))
    if forecast.mse:
        ui.info(f"test MSE on {forecast.n_test_scored} models: forecast {forecast.mse['forecast']:.4g}, "
                f"sigmoid baseline {forecast.mse['baseline']:.4g}")
    check_strict(strict, [*fit.warnings, *forecast.warnings])
