"""The report's figures, drawn from the report model (:class:`~slicesand.reporting.facts.FigureInputs`).

Four figures, each a pure function of :class:`FigureInputs` returning a :class:`~matplotlib.figure.Figure`
on its own Agg canvas. There is no pyplot and no ``matplotlib.use``: no global figure state, no display
needed, and a notebook user's backend is left as it was.

* ``spectrum`` - mean TC Brier of each of the (default 10) difficulty groups against FLOPs;
* ``fits`` - the easy and hard groups' points and fitted polynomials, the cut and the threshold;
* ``forecast`` - observed accuracy, the sandwich forecast, the sigmoid baseline and test errors;
* ``tc_accuracy`` - TC Brier against accuracy on the training models, with the fitted line.

:func:`figure_bytes` serialises without dates or software versions and with a fixed SVG hash salt, so
the same inputs give byte-identical PNG and SVG files.

>>> import numpy as np, pandas as pd
>>> x = np.linspace(19, 23, 9)
>>> frame = pd.DataFrame({"model": [f"m{i}" for i in range(9)], "flops": 10 ** x,
...                       **{f"group_{k}": -0.1 * k + 0.01 * x for k in range(1, 4)}})
>>> png = figure_bytes(spectrum_figure(frame, cut=1e22), "png")
>>> png[:8] == b"\\x89PNG\\r\\n\\x1a\\n", png_size(png)
(True, (800, 500))
"""

from __future__ import annotations

import io
import math
import re
import struct
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import BoundaryNorm
from matplotlib.cm import ScalarMappable
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from slicesand.fitting.model import training_mask
from slicesand.forecast.predict import curves
from slicesand.reporting.facts import FigureInputs, format_flops

FIGURE_SIZE = (8.0, 5.0)  # inches
DPI = 100  # so every PNG is 800 x 500 pixels
FIGURE_TITLES = {
    "spectrum": "Difficulty spectrum",
    "fits": "Easy and hard groups: fitted curves",
    "forecast": "Forecast of accuracy",
    "tc_accuracy": "TC Brier score vs accuracy",
}
_GROUP = re.compile(r"^group_(\d+)$")
_TRAIN, _TEST = "#1f4e79", "#c0392b"
_EASY, _HARD = "#2e86c1", "#cb4335"


def figure_file_name(key: str, fmt: str = "png") -> str:
    """File name of a figure beside the report: ``report-forecast.png``.

    >>> figure_file_name("tc_accuracy", "svg")
    'report-tc-accuracy.svg'
    """
    return f"report-{key.replace('_', '-')}.{fmt}"


def _flops_label(value: float, _position=None) -> str:
    # 1e21-style labels: the unit people quote training compute in.
    return f"1e{int(round(math.log10(value)))}" if value > 0 else ""


def _log_flops_axis(ax) -> None:
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(LogLocator(base=10.0, numticks=30))
    ax.xaxis.set_major_formatter(FuncFormatter(_flops_label))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("training compute (FLOPs)")
    ax.grid(True, which="major", alpha=0.3)


def _new_figure() -> tuple[Figure, object]:
    # Fixed margins rather than constrained layout: the same look at a third of the drawing time.
    figure = Figure(figsize=FIGURE_SIZE, dpi=DPI)
    figure.subplots_adjust(left=0.11, right=0.97, bottom=0.1, top=0.93)
    FigureCanvasAgg(figure)
    return figure, figure.add_subplot()


def _cut_line(ax, cut: float | None) -> None:
    if cut:
        ax.axvline(cut, color="0.35", linestyle="--", linewidth=1.2, label=f"cut {format_flops(cut)} FLOPs")


def _threshold_line(ax, threshold: float | None) -> None:
    if threshold:
        ax.axvline(threshold, color="#7d3c98", linestyle=":", linewidth=1.8,
                   label=f"predicted emergence threshold {format_flops(threshold)}")


def _padded_limits(values: np.ndarray, pad: float = 0.2) -> tuple[float, float] | None:
    """Y limits around the observed points, so a wild extrapolated curve cannot flatten them."""
    finite = values[np.isfinite(values)]
    if not finite.size:
        return None
    low, high = float(finite.min()), float(finite.max())
    span = high - low if high > low else max(abs(high), 1.0) * 0.1
    return low - pad * span, high + pad * span


def _log_grid(inputs: FigureInputs, n: int = 400) -> np.ndarray:
    """log10 FLOPs from just below the smallest model to just past the largest requested scale."""
    flops = np.concatenate([inputs.slices["flops"].to_numpy(dtype=float),
                            inputs.predictions["flops"].to_numpy(dtype=float)])
    x = np.log10(flops[np.isfinite(flops) & (flops > 0)])
    return np.linspace(x.min() - 0.15, x.max() + 0.15, n)


def group_columns_of(frame: pd.DataFrame) -> list[str]:
    """The ``group_k`` columns of a slices table, easiest (k = 1) first."""
    return sorted((c for c in frame.columns if _GROUP.match(str(c))), key=lambda c: int(c.split("_")[1]))


def spectrum_figure(spectrum: pd.DataFrame, cut: float | None = None) -> Figure:
    """Mean TC Brier per difficulty group against FLOPs, one line per group, easy (light) to hard (dark)."""
    figure, ax = _new_figure()
    columns = group_columns_of(spectrum)
    frame = spectrum.sort_values("flops", kind="stable")
    flops = frame["flops"].to_numpy(dtype=float)
    colormap = colormaps["viridis_r"]
    colours = colormap(np.linspace(0.05, 0.95, len(columns)))
    for column, colour in zip(columns, colours):  # one line per group: at most a few dozen
        ax.plot(flops, frame[column].to_numpy(dtype=float), "-o", color=colour, markersize=3, linewidth=1.4)
    _log_flops_axis(ax)
    _cut_line(ax, cut)
    if cut:
        ax.legend(loc="lower right", fontsize=9)
    ax.set_ylabel("mean TC Brier score (higher is better)")
    ax.set_title(f"{FIGURE_TITLES['spectrum']}: {len(columns)} groups of questions, easiest to hardest")
    norm = BoundaryNorm(np.arange(0.5, len(columns) + 1.5), colormap.N)
    mappable = ScalarMappable(norm=norm, cmap=colormap)
    bar = figure.colorbar(mappable, ax=ax, ticks=np.arange(1, len(columns) + 1), pad=0.01)
    bar.set_label("difficulty group (1 = easiest)")
    return figure


def _split_masks(inputs: FigureInputs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    flops = inputs.slices["flops"].to_numpy(dtype=float)
    train = training_mask(flops, inputs.fit.options.cut)
    return flops, train, ~train


def fits_figure(inputs: FigureInputs) -> Figure:
    """The easy and hard groups' points (training filled, test hollow) with their fitted polynomials."""
    figure, ax = _new_figure()
    fit = inputs.fit
    flops, train, test = _split_masks(inputs)
    grid = _log_grid(inputs)
    fitted = curves(fit, grid)
    points = []
    for column, key, colour, name in ((fit.easy_column, "pred_easy", _EASY, "easy group"),
                                      (fit.hard_column, "pred_hard", _HARD, "hard group")):
        y = inputs.slices[column].to_numpy(dtype=float)
        points.append(y)
        ax.scatter(flops[train], y[train], color=colour, s=28, label=f"{name}: training models", zorder=3)
        if test.any():
            ax.scatter(flops[test], y[test], facecolors="white", edgecolors=colour, s=32, linewidths=1.4,
                       label=f"{name}: test models", zorder=3)
        degree = fit.easy.degree if key == "pred_easy" else fit.hard.degree
        ax.plot(10.0 ** grid, fitted[key], color=colour, linewidth=1.8, label=f"{name}: degree-{degree} fit")
    _log_flops_axis(ax)
    _cut_line(ax, fit.options.cut)
    if inputs.threshold_flops:
        _threshold_line(ax, inputs.threshold_flops)
        ax.plot([inputs.threshold_flops], fit.easy(np.log10([inputs.threshold_flops])), marker="D",
                color="#7d3c98", markersize=8, linestyle="none", zorder=4)
    limits = _padded_limits(np.concatenate(points))
    if limits:
        ax.set_ylim(*limits)
    ax.set_ylabel("mean TC Brier score (higher is better)")
    ax.set_title(FIGURE_TITLES["fits"])
    ax.legend(loc="best", fontsize=8, ncol=2)
    return figure


def forecast_figure(inputs: FigureInputs) -> Figure:
    """Observed accuracy per model, the sandwich forecast, the sigmoid baseline and the test errors."""
    figure, ax = _new_figure()
    fit = inputs.fit
    flops, train, test = _split_masks(inputs)
    grid = _log_grid(inputs)
    fitted = curves(fit, grid)
    observed = inputs.slices["accuracy"].to_numpy(dtype=float)
    band = inputs.predictions
    if {"pred_accuracy_lo", "pred_accuracy_hi"} <= set(band.columns):
        band = band.sort_values("flops", kind="stable")
        lo, hi = band["pred_accuracy_lo"].to_numpy(dtype=float), band["pred_accuracy_hi"].to_numpy(dtype=float)
        ok = np.isfinite(lo) & np.isfinite(hi)
        if ok.any():
            ax.fill_between(band["flops"].to_numpy(dtype=float)[ok], lo[ok], hi[ok], color=_EASY, alpha=0.15,
                            linewidth=0, label="prediction interval")
    ax.plot(10.0 ** grid, fitted["pred_accuracy"], color=_EASY, linewidth=2.0, label="Slice-and-Sandwich forecast")
    ax.plot(10.0 ** grid, fitted["baseline_accuracy"], color="0.45", linewidth=1.5, linestyle="-.",
            label="sigmoid baseline")
    ax.axhline(fit.options.chance, color="0.7", linewidth=1.0, linestyle=(0, (1, 3)),
               label=f"chance ({fit.options.chance:g})")
    ax.scatter(flops[train], observed[train], color=_TRAIN, s=28, label="observed: training models", zorder=3)
    predictions = inputs.predictions
    if test.any():
        ax.scatter(flops[test], observed[test], facecolors="white", edgecolors=_TEST, s=34, linewidths=1.5,
                   label="observed: test models", zorder=3)
        is_test = (predictions["split"] == "test").to_numpy()
        ax.vlines(predictions.loc[is_test, "flops"].to_numpy(dtype=float),
                  predictions.loc[is_test, "observed_accuracy"].to_numpy(dtype=float),
                  predictions.loc[is_test, "pred_accuracy"].to_numpy(dtype=float),
                  color=_TEST, linewidth=1.2, alpha=0.8, label="test error (observed to forecast)")
    # Forecasts at requested scales; one outside [0, 1] would sit misleadingly on the axis edge.
    forecast_at = predictions["pred_accuracy"].to_numpy(dtype=float)
    requested = (predictions["split"] == "none").to_numpy() & (forecast_at >= 0) & (forecast_at <= 1)
    if requested.any():
        ax.scatter(predictions.loc[requested, "flops"].to_numpy(dtype=float), forecast_at[requested],
                   marker="X", color=_EASY, s=60, label="forecast at requested scales", zorder=4)
    _log_flops_axis(ax)
    _cut_line(ax, fit.options.cut)
    _threshold_line(ax, inputs.threshold_flops)
    ax.set_ylim(0.0, 1.0)  # accuracy lives in [0, 1]; an extrapolated curve leaving it is visibly clipped
    ax.set_ylabel("accuracy")
    ax.set_title(FIGURE_TITLES["forecast"])
    ax.legend(loc="upper left", fontsize=8)
    return figure


def tc_accuracy_figure(inputs: FigureInputs) -> Figure:
    """TC Brier against accuracy: training models, test models, and the line fitted on training models."""
    figure, ax = _new_figure()
    fit = inputs.fit
    _, train, test = _split_masks(inputs)
    accuracy = inputs.slices["accuracy"].to_numpy(dtype=float)
    tc = inputs.slices["tc_brier"].to_numpy(dtype=float)
    ax.scatter(accuracy[train], tc[train], color=_TRAIN, s=28, label="training models", zorder=3)
    if test.any():
        ax.scatter(accuracy[test], tc[test], facecolors="white", edgecolors=_TEST, s=32, linewidths=1.4,
                   label="test models (not fitted)", zorder=3)
    line = fit.tc_to_accuracy
    finite = accuracy[np.isfinite(accuracy)]
    xs = np.linspace(finite.min(), finite.max(), 50)
    ax.plot(xs, line(xs), color=_EASY, linewidth=1.8,
            label=f"fit: TC Brier = {line.intercept:.3f} + {line.slope:.3f} x accuracy (R\u00b2 {line.r2:.3f})")
    ax.set_xlabel("accuracy")
    ax.set_ylabel("TC Brier score (higher is better)")
    ax.set_title(FIGURE_TITLES["tc_accuracy"])
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper left", fontsize=9)
    return figure


def figure_keys(inputs: FigureInputs) -> list[str]:
    """The figures the inputs allow, in report order (accuracy figures need accuracy)."""
    spectrum = inputs.spectrum is not None and len(group_columns_of(inputs.spectrum)) >= 2
    return (["spectrum"] if spectrum else []) + ["fits"] + (["forecast", "tc_accuracy"] if inputs.fit.has_accuracy else [])


def make_figures(inputs: FigureInputs) -> dict[str, Figure]:
    """Every figure the inputs allow, in report order."""
    draw = {"spectrum": lambda: spectrum_figure(inputs.spectrum, inputs.fit.options.cut),
            "fits": lambda: fits_figure(inputs), "forecast": lambda: forecast_figure(inputs),
            "tc_accuracy": lambda: tc_accuracy_figure(inputs)}
    return {key: draw[key]() for key in figure_keys(inputs)}


def figure_bytes(figure: Figure, fmt: str = "png") -> bytes:
    """The figure as PNG or SVG bytes, identical for identical figures (no dates, versions or random ids)."""
    metadata = {"Software": None} if fmt == "png" else {"Date": None, "Creator": None}
    buffer = io.BytesIO()
    with matplotlib.rc_context({"svg.hashsalt": "slicesand", "svg.fonttype": "path"}):
        figure.savefig(buffer, format=fmt, dpi=DPI, metadata=metadata)
    return buffer.getvalue()


def render_figures(inputs: FigureInputs, fmt: str = "png") -> dict[str, bytes]:
    """``{key: bytes}`` for every figure, in report order."""
    return {key: files[fmt] for key, files in render_figure_files(inputs, (fmt,)).items()}


def render_figure_files(inputs: FigureInputs, formats: tuple[str, ...] = ("png", "svg")) -> dict[str, dict[str, bytes]]:
    """``{key: {format: bytes}}``: every figure drawn once and saved in each format."""
    return {key: {fmt: figure_bytes(figure, fmt) for fmt in formats}
            for key, figure in make_figures(inputs).items()}


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR header (no image library needed)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise ValueError("not a PNG")
    return struct.unpack(">II", data[16:24])


def write_figures(images: dict[str, bytes], folder: str | Path, fmt: str = "png") -> dict[str, str]:
    """Write each image atomically into ``folder``; ``{key: file name}``."""
    from slicesand.io.atomic import write_bytes_atomic

    names = {}
    for key, data in images.items():
        names[key] = figure_file_name(key, fmt)
        write_bytes_atomic(Path(folder) / names[key], data)
    return names
