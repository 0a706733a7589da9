"""Pictures of a backtest (:func:`slicesand.evaluation.backtest.backtest`): should a reader trust the
forecast on their task?

Drawn only from what the backtest returns (``Backtest.models``: one row per test model and cut, with
the observed accuracy, each method's forecast and the 90% interval), in the report figures' style:

* ``backtest_error`` - absolute forecast error against extrapolation distance (decades of FLOPs beyond
  the cut), for the default forecast and every baseline: the median per quarter decade, points behind;
* ``backtest_calibration`` - the interval's nominal level against the coverage observed on the test
  models, by horizon band (how far beyond the cut);
* ``backtest_cuts`` - small multiples, one panel per cut: observed accuracy of the test models, the
  forecast with its interval, and the paper's sigmoid baseline.

``slicesand backtest --plot DIR`` writes them (PNG and SVG) with ``backtest.csv`` and
``backtest-models.csv``; a ``run`` folder holding those files shows them in its report, and lists the
two tables in its manifest.

>>> import pandas as pd
>>> models = pd.DataFrame({"cut": 1e22, "model": ["a", "b"], "log10_flops": [22.1, 22.6],
...                        "distance_decades": [0.1, 0.6], "observed": [0.4, 0.6], "forecast": [0.42, 0.5],
...                        "sigmoid": [0.35, 0.4], "lo_90": [0.3, 0.35], "hi_90": [0.5, 0.7]})
>>> sorted(make_backtest_figures(models))
['backtest_calibration', 'backtest_cuts', 'backtest_error']
"""

from __future__ import annotations

import math
from pathlib import Path

from slicesand.reporting.matplotlib_setup import matplotlib  # a writable config folder first
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from slicesand.reporting.facts import format_flops
from slicesand.reporting.figure_names import BACKTEST_TITLES, MODELS_FILE, TABLE_FILE, read_backtest  # noqa: F401
from slicesand.reporting.figures import (
    PALETTE, STYLE, figure_bytes, figure_file_name, new_figure, small_multiples, titled,
)

# Each method's label and style; lightness and line style part them in greyscale.
METHOD_STYLES = {
    "forecast": ("slicesand forecast", {"color": PALETTE["forecast"], "linestyle": "-", "marker": "o"}),
    "sandwich": ("Slice-and-Sandwich curve alone", {"color": "#2c7fb8", "linestyle": (0, (1, 1)), "marker": "^"}),
    "sigmoid": ("sigmoid baseline (paper)", {"color": PALETTE["baseline"], "linestyle": "-.", "marker": "s"}),
    "bounded_sigmoid": ("bounded sigmoid", {"color": PALETTE["hard"], "linestyle": "--", "marker": "D"}),
    "linear": ("linear trend", {"color": PALETTE["threshold"], "linestyle": (0, (5, 1, 1, 1, 1, 1)), "marker": "v"}),
    "flat": ("flat (last 3 training models)", {"color": "#000000", "linestyle": ":", "marker": "x"}),
}
DISTANCE_BIN = 0.25  # decades of FLOPs beyond the cut
HORIZONS = ((0.0, 0.5), (0.5, 1.0), (1.0, 2.0), (2.0, math.inf))  # decades beyond the cut


def _methods(models: pd.DataFrame) -> list[str]:
    return [name for name in METHOD_STYLES if name in models.columns and models[name].notna().any()]


def error_figure(models: pd.DataFrame, task: str | None = None) -> Figure:
    """|observed - forecast| per test model against its distance beyond the cut, one median line per method."""
    figure, ax = new_figure()
    distance = models["distance_decades"].to_numpy(dtype=float)
    bins = np.floor(distance / DISTANCE_BIN)
    for name in _methods(models):  # a handful of methods
        label, style = METHOD_STYLES[name]
        error = np.abs(models["observed"].to_numpy(dtype=float) - models[name].to_numpy(dtype=float))
        median = pd.DataFrame({"bin": bins, "error": error}).groupby("bin")["error"].median()
        centres = (median.index.to_numpy(dtype=float) + 0.5) * DISTANCE_BIN
        ax.scatter(distance, error, s=6, color=style["color"], alpha=0.18, linewidths=0)
        ax.plot(centres, median.to_numpy(), label=f"{label}: median per {DISTANCE_BIN:g} decade",
                markersize=4, linewidth=1.5, **style)
    ax.set_xlim(0.0, max(float(distance.max()) * 1.05, DISTANCE_BIN))
    ax.set_ylim(0.0, min(1.0, max(0.05, float(ax.get_ylim()[1]))))  # an accuracy error lies in [0, 1]
    ax.set_xlabel("extrapolation distance: decades of FLOPs beyond the cut")
    ax.set_ylabel("absolute error of forecast accuracy")
    ax.grid(True, alpha=0.25, linewidth=0.6)
    ax.set_title(titled(BACKTEST_TITLES["backtest_error"], task))
    figure.legend(loc="outside lower center", ncols=2, frameon=False)
    return figure


def horizon_label(low: float, high: float) -> str:
    """``0.5-1 decades beyond the cut``; ``> 2 decades ...`` for the last band."""
    return f"> {low:g} decades beyond the cut" if math.isinf(high) else f"{low:g}-{high:g} decades beyond the cut"


def calibration_figure(models: pd.DataFrame, task: str | None = None, level: float = 0.9) -> Figure:
    """Nominal level against observed coverage of the interval, one point per horizon band (with its
    number of test models), on the diagonal of perfect calibration."""
    figure, ax = new_figure(size=(5.0, 5.0))
    ax.plot([0.0, 1.0], [0.0, 1.0], color="0.6", linewidth=1.0, linestyle="--", label="perfect calibration")
    distance = models["distance_decades"].to_numpy(dtype=float)
    observed = models["observed"].to_numpy(dtype=float)
    inside = (observed >= models["lo_90"].to_numpy(dtype=float)) & (observed <= models["hi_90"].to_numpy(dtype=float))
    markers = ("o", "s", "D", "^")
    shades = (0.55, 0.4, 0.22, 0.0)  # nearer horizons lighter, further ones darker
    for (low, high), marker, shade in zip(HORIZONS, markers, shades):
        band = (distance >= low) & (distance < high) & models["lo_90"].notna().to_numpy()
        if not band.any():
            continue
        coverage = float(inside[band].mean())
        ax.scatter([level], [coverage], marker=marker, s=46, zorder=3, color=matplotlib.colormaps["viridis"](shade),
                   edgecolors="black", linewidths=0.5,
                   label=f"{horizon_label(low, high)}: {coverage:.0%} of {int(band.sum())} test models inside")
    ax.set_xlim(0.0, 1.0)
    ax.set_ylim(0.0, 1.02)
    ax.set_aspect("equal")
    ax.set_xlabel("nominal level of the prediction interval")
    ax.set_ylabel("observed coverage on the test models")
    ax.grid(True, alpha=0.25, linewidth=0.6)
    ax.set_title(titled(f"Backtest: calibration of the {level:.0%} interval", task))
    figure.legend(loc="outside lower center", ncols=1, frameon=False)
    return figure


def cuts_figure(models: pd.DataFrame, task: str | None = None) -> Figure:
    """One small panel per cut: the test models' observed accuracy, the forecast and its 90% interval,
    and the sigmoid baseline, against FLOPs."""
    cuts = sorted(models["cut"].unique())
    figure, axes = small_multiples(len(cuts), 4, 1.9)
    for ax, cut in zip(axes.ravel(), cuts):  # a dozen cuts at most, in practice
        part = models[models["cut"] == cut].sort_values("log10_flops", kind="stable")
        flops = 10.0 ** part["log10_flops"].to_numpy(dtype=float)
        if part["lo_90"].notna().any():
            ax.fill_between(flops, part["lo_90"], part["hi_90"], color=PALETTE["band"], alpha=0.14, linewidth=0,
                            label="90% prediction interval")
        ax.plot(flops, part["forecast"], color=PALETTE["forecast"], linewidth=1.4, label=METHOD_STYLES["forecast"][0])
        if "sigmoid" in part:
            ax.plot(flops, part["sigmoid"], color=PALETTE["baseline"], linewidth=1.0, linestyle="-.",
                    label=METHOD_STYLES["sigmoid"][0])
        ax.scatter(flops, part["observed"], s=12, facecolors="white", edgecolors=PALETTE["test"], linewidths=1.0,
                   zorder=3, label="observed: test models")
        ax.set_xscale("log")
        ax.set_title(f"cut {format_flops(cut)}", fontsize=8)
        ax.set_ylim(0.0, 1.0)
        ax.grid(True, alpha=0.25, linewidth=0.5)
        ax.tick_params(labelsize=7)
    figure.suptitle(titled(BACKTEST_TITLES["backtest_cuts"], task), fontsize=10)
    handles, labels = axes.ravel()[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside lower center", ncols=2, frameon=False)
    return figure


def backtest_facts(table: pd.DataFrame) -> dict:
    """What a report says of a backtest: its cuts, and each method's error and the interval's coverage
    averaged over them (the table's ``overall`` row)."""
    # A backtest.csv of slicesand before the scope column marked its overall row in the cut column.
    scope = table["scope"] if "scope" in table else table["cut"].astype(str).where(table["cut"].astype(str) == "overall", "cut")
    overall = table[scope == "overall"].iloc[0]
    cuts = table[scope == "cut"]
    methods = [name for name in METHOD_STYLES if f"mse_{name}" in table.columns]
    return {"cuts": [float(c) for c in cuts["cut"]], "n_test": int(overall["n_test"]),
            "methods": {name: {"label": METHOD_STYLES[name][0], "mse": float(overall[f"mse_{name}"]),
                               "mae": float(overall[f"mae_{name}"])} for name in methods},
            "coverage_90": None if pd.isna(overall["coverage_90"]) else float(overall["coverage_90"]),
            "width_90": None if pd.isna(overall["width_90"]) else float(overall["width_90"])}


def make_backtest_figures(models: pd.DataFrame, task: str | None = None) -> dict[str, Figure]:
    """Every backtest picture, in report order."""
    with matplotlib.rc_context(STYLE):
        return {"backtest_error": error_figure(models, task), "backtest_calibration": calibration_figure(models, task),
                "backtest_cuts": cuts_figure(models, task)}


def write_backtest_plots(table: pd.DataFrame, models: pd.DataFrame, folder: str | Path,
                         task: str | None = None) -> list[str]:
    """Write the pictures (PNG and SVG) and the backtest's tables into ``folder``; the file names.

    Every picture is drawn before the first file is written, and the files are written with Ctrl-C and
    SIGTERM held back (:func:`slicesand.io.atomic.interrupts_held`): an interrupted backtest leaves the
    folder with all of them or as it was."""
    from slicesand.artifacts.run_folder import add_to_manifest
    from slicesand.io.atomic import interrupts_held, write_bytes_atomic
    from slicesand.io.tables import write_table

    folder = Path(folder)
    images = {figure_file_name(key, fmt): figure_bytes(figure, fmt)
              for key, figure in make_backtest_figures(models, task).items() for fmt in ("png", "svg")}
    with interrupts_held():
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in images.items():
            write_bytes_atomic(folder / name, data)
        write_table(table, folder / TABLE_FILE)
        write_table(models, folder / MODELS_FILE)
        # A run folder's report reads the two tables: its manifest lists them, so an edit is refused (exit 4).
        add_to_manifest(folder, [TABLE_FILE, MODELS_FILE])
    return [*images, TABLE_FILE, MODELS_FILE]

