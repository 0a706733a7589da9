"""The multi-task overview: one small panel per task with its forecast and threshold, for the cross-task
report (``OUTDIR/report.md`` of a multi-task ``run``), in the report figures' style.

Each panel shows the task's observed accuracy (training models filled, test models hollow), its
forecast (dashed beyond the training models), the cut and the predicted emergence threshold.

>>> overview_file_name("svg")
'report-overview.svg'
"""

from __future__ import annotations

from pathlib import Path

from slicesand.reporting.matplotlib_setup import matplotlib  # a writable config folder first
import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from slicesand.forecast.predict import curves
from slicesand.reporting.facts import FigureInputs, figure_grid, format_flops
from slicesand.reporting.figures import PALETTE, STYLE, figure_bytes, plot_curve, small_multiples, text_of
from slicesand.fitting.model import training_mask

OVERVIEW_TITLE = "Forecast per task"


def overview_file_name(fmt: str = "png") -> str:
    return f"report-overview.{fmt}"


def _panel(ax, inputs: FigureInputs) -> None:
    fit = inputs.fit
    flops = inputs.slices["flops"].to_numpy(dtype=float)
    observed = inputs.slices["accuracy"].to_numpy(dtype=float)
    train = training_mask(flops, fit.options.cut)
    if fit.has_accuracy:
        grid = figure_grid(inputs.slices, inputs.predictions)
        plot_curve(ax, grid, curves(fit, grid)["pred_accuracy"], fit.training_x_range, label="forecast",
                   color=PALETTE["forecast"], linewidth=1.4)
        ax.scatter(flops[train], observed[train], s=8, color=PALETTE["forecast"], zorder=3)
        ax.scatter(flops[~train], observed[~train], s=9, facecolors="white", edgecolors=PALETTE["test"],
                   linewidths=0.9, zorder=3)
    if fit.options.cut:
        ax.axvline(fit.options.cut, color=PALETTE["cut"], linestyle="--", linewidth=0.8)
    if inputs.threshold_flops:
        ax.axvline(inputs.threshold_flops, color=PALETTE["threshold"], linestyle=":", linewidth=1.3)
    threshold = format_flops(inputs.threshold_flops) if inputs.threshold_flops else "none in range"
    ax.set_title(f"{text_of(inputs.task)}\nthreshold {threshold}", fontsize=8)
    ax.set_xscale("log")
    ax.set_ylim(0.0, 1.0)
    ax.grid(True, alpha=0.25, linewidth=0.5)
    ax.tick_params(labelsize=7)


def overview_figure(panels: list[FigureInputs]) -> Figure:
    """One small panel per task (``FigureInputs.task`` names it), three to a row, sharing their axes."""
    figure, axes = small_multiples(len(panels), 3, 2.1)
    with matplotlib.rc_context(STYLE):
        for ax, inputs in zip(axes.ravel(), panels):  # one panel per task: a handful
            _panel(ax, inputs)
        figure.suptitle(OVERVIEW_TITLE, fontsize=10)
        key = [Line2D([], [], color=PALETTE["forecast"], linewidth=1.4),
               Line2D([], [], color=PALETTE["forecast"], linewidth=1.4, linestyle=(0, (4, 2))),
               Line2D([], [], marker="o", linestyle="none", color=PALETTE["forecast"], markersize=4),
               Line2D([], [], marker="o", linestyle="none", markerfacecolor="white",
                      markeredgecolor=PALETTE["test"], markersize=4),
               Line2D([], [], color=PALETTE["cut"], linestyle="--", linewidth=0.8),
               Line2D([], [], color=PALETTE["threshold"], linestyle=":", linewidth=1.3)]
        figure.legend(key, ["forecast", "forecast, extrapolated beyond the training models",
                            "observed: training models", "observed: test models (held out)", "cut",
                            "predicted emergence threshold"], loc="outside lower center", ncols=2, frameon=False)
    return figure


def write_overview(panels: list[FigureInputs], folder: str | Path) -> str | None:
    """Write the overview as PNG and SVG into ``folder``; the PNG's file name (``None``: no panel)."""
    from slicesand.io.atomic import write_bytes_atomic

    panels = [p for p in panels if p.fit.has_accuracy and np.isfinite(p.slices["accuracy"].to_numpy(float)).any()]
    if not panels:
        return None
    figure = overview_figure(panels)
    for fmt in ("png", "svg"):
        write_bytes_atomic(Path(folder) / overview_file_name(fmt), figure_bytes(figure, fmt))
    return overview_file_name("png")
