"""The report's figures, drawn from the report model (:class:`~slicesand.reporting.facts.FigureInputs`).

Four figures, each a pure function of :class:`FigureInputs` returning a :class:`~matplotlib.figure.Figure`
on its own Agg canvas. There is no pyplot and no ``matplotlib.use``: no global figure state, no display
needed, and a notebook user's backend is left as it was.

* ``spectrum`` - mean TC Brier of each of the (default 10) difficulty groups against FLOPs;
* ``fits`` - the easy and hard groups' points and fitted polynomials, the cut and the threshold;
* ``forecast`` - observed accuracy, the forecast with its interval band, and the sigmoid baseline;
* ``tc_accuracy`` - TC Brier against accuracy on the training models, with the fitted line.

They are made for print: 200 dpi PNG and SVG with real (editable, searchable) text; the task in every
title; legends that name the fit really used and the interval's level; curves dashed where they
extrapolate beyond the training models; axes limited to what the quantity can take (accuracy in
[0, 1], TC Brier in [-1, 0]); and a palette whose lines keep a 3:1 contrast on white and differ in
lightness, so they read in greyscale too (:data:`PALETTE`). :func:`figure_bytes` serialises without
dates or software versions and with a fixed SVG hash salt: the same inputs give the same bytes.
:mod:`slicesand.reporting.backtest_figures` and :mod:`slicesand.reporting.overview` draw the backtest
pictures and the multi-task overview in the same style.

>>> import numpy as np, pandas as pd
>>> x = np.linspace(19, 23, 9)
>>> frame = pd.DataFrame({"model": [f"m{i}" for i in range(9)], "flops": 10 ** x,
...                       **{f"group_{k}": -0.1 * k + 0.01 * x for k in range(1, 4)}})
>>> png = figure_bytes(spectrum_figure(frame, cut=1e22), "png")
>>> png[:8] == b"\\x89PNG\\r\\n\\x1a\\n", png_size(png)
(True, (1400, 1000))
"""

from __future__ import annotations

import io
import math
import struct
import textwrap

from slicesand.reporting.matplotlib_setup import matplotlib  # a writable config folder first
import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.cm import ScalarMappable
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.lines import Line2D
from matplotlib.markers import TICKDOWN
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter, NullLocator

from slicesand.fitting.model import Fit, group_columns_in, training_mask
from slicesand.reporting.facts import FigureInputs, figure_curves, format_flops
from slicesand.reporting.figure_names import FIGURE_TITLES, figure_file_name, figure_keys, write_figures  # noqa: F401

FIGURE_SIZE = (7.0, 5.0)  # inches: a two-column figure in a paper, legend below the axes
DPI = 200  # so every PNG is 1400 x 1000 pixels
# Dark blue, burnt orange, purple and grey: every line has >= 3:1 contrast on white (WCAG non-text),
# and blue / orange differ in lightness (relative luminance 0.04 vs 0.19), so they part in greyscale;
# line styles and filled / hollow markers carry the rest.
PALETTE = {"forecast": "#1b2f6e", "easy": "#1b2f6e", "hard": "#c55a11", "test": "#c55a11",
           "threshold": "#6a3d9a", "baseline": "#595959", "cut": "#404040", "band": "#1b2f6e"}
# The spectrum's groups: viridis from teal (easiest, still 3:1 on white) to dark purple (hardest).
SPECTRUM_COLOURS = (0.6, 0.0)
SPECTRUM_BIN = 0.2  # decades of FLOPs: models this close are one point of the spectrum
STYLE = {"font.size": 9.0, "axes.titlesize": 10.0, "axes.labelsize": 9.0, "legend.fontsize": 7.5,
         "xtick.labelsize": 8.0, "ytick.labelsize": 8.0, "axes.spines.top": False, "axes.spines.right": False,
         "font.family": "DejaVu Sans", "svg.fonttype": "none", "svg.hashsalt": "slicesand",
         "path.simplify": False}
TC_RANGE = (-1.0, 0.0)  # TC Brier is minus a squared probability gap: it lives in [-1, 0]


def text_of(value: object) -> str:
    """A data string for matplotlib text: ``$`` would start mathtext (and a bad formula raises).

    >>> text_of("cost $5")
    'cost \\\\$5'
    """
    return str(value).replace("\\", "\\\\").replace("$", r"\$")


def titled(title: str, task: str | None) -> str:
    """A figure title naming its task."""
    return f"{title} - {text_of(task)}" if task else title


def _flops_label(value: float, _position=None) -> str:
    # 1e21-style labels: the unit people quote training compute in.
    return f"1e{int(round(math.log10(value)))}" if value > 0 else ""


def _log_flops_axis(ax) -> None:
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(LogLocator(base=10.0, numticks=30))
    ax.xaxis.set_major_formatter(FuncFormatter(_flops_label))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("training compute (FLOPs)")
    ax.grid(True, which="major", alpha=0.25, linewidth=0.6)


def new_figure(size: tuple[float, float] = FIGURE_SIZE, **subplots) -> tuple[Figure, object]:
    """A figure on its own Agg canvas (no pyplot), in :data:`STYLE`, with one axes or a grid of them."""
    with matplotlib.rc_context(STYLE):
        figure = Figure(figsize=size, dpi=DPI, layout="constrained")
        FigureCanvasAgg(figure)
        axes = figure.subplots(**subplots) if subplots else figure.add_subplot()
    return figure, axes


def small_multiples(panels: int, columns: int, panel_height: float) -> tuple[Figure, np.ndarray]:
    """A grid of small accuracy-against-FLOPs panels sharing their axes (labels on the outer ones only);
    the unused cells of the last row are hidden."""
    columns = min(columns, panels)
    rows = math.ceil(panels / columns)
    figure, axes = new_figure(size=(7.0, panel_height * rows + 1.1), nrows=rows, ncols=columns, sharex=True,
                              sharey=True, squeeze=False)
    for ax in axes.ravel()[panels:]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel("training compute (FLOPs)", fontsize=8)
    for ax in axes[:, 0]:
        ax.set_ylabel("accuracy", fontsize=8)
    return figure, axes


def _cut_line(ax, cut: float | None) -> None:
    if cut:
        ax.axvline(cut, color=PALETTE["cut"], linestyle="--", linewidth=1.0,
                   label=f"cut {format_flops(cut)} FLOPs (training below, test above)")


def _threshold_line(ax, threshold: float | None) -> None:
    if threshold:
        ax.axvline(threshold, color=PALETTE["threshold"], linestyle=":", linewidth=1.6,
                   label=f"predicted emergence threshold {format_flops(threshold)} FLOPs")


def _tc_limits(values: np.ndarray, pad: float = 0.2) -> tuple[float, float]:
    """Y limits around the observed TC Brier points, never outside [-1, 0]."""
    finite = values[np.isfinite(values)]
    if not finite.size:
        return TC_RANGE
    low, high = float(finite.min()), float(finite.max())
    span = high - low if high > low else 0.1
    return max(low - pad * span, TC_RANGE[0]), min(high + pad * span, TC_RANGE[1])


group_columns_of = group_columns_in  # the group_k columns, easiest first (slicesand.fitting.model)


def extrapolated(x: np.ndarray, training_x_range: tuple[float, float]) -> np.ndarray:
    """Where a curve on ``x`` (log10 FLOPs) lies outside the training models' range."""
    return (x < training_x_range[0]) | (x > training_x_range[1])


def plot_curve(ax, x: np.ndarray, y: np.ndarray, training_x_range, *, label: str, **style) -> None:
    """A curve in log10 FLOPs: solid over the training models, dashed where it extrapolates."""
    outside = extrapolated(x, training_x_range)
    ax.plot(10.0 ** x, np.where(_grown(~outside), y, np.nan), linestyle="-", label=label, **style)
    ax.plot(10.0 ** x, np.where(_grown(outside), y, np.nan), linestyle=(0, (4, 2)), **style)


def _grown(mask: np.ndarray) -> np.ndarray:
    """``mask`` and its neighbours, so the solid and the dashed piece of a curve meet."""
    grown = mask.copy()
    grown[1:] |= mask[:-1]
    grown[:-1] |= mask[1:]
    return grown


def _extrapolation_key(handles: list, labels: list) -> None:
    handles.append(Line2D([], [], color="0.35", linestyle=(0, (4, 2)), linewidth=1.4))
    labels.append("dashed: extrapolated beyond the training models")


def _legend(ax, extra: bool = True) -> None:
    """The legend below the axes, in two columns, so it never hides a point."""
    handles, labels = ax.get_legend_handles_labels()
    if extra:
        _extrapolation_key(handles, labels)
    ax.figure.legend(handles, [textwrap.fill(label, 58) for label in labels], loc="outside lower center",
                     ncols=2, frameon=False)


def spectrum_figure(spectrum: pd.DataFrame, cut: float | None = None, task: str | None = None) -> Figure:
    """Mean TC Brier per difficulty group against FLOPs, one line per group, easy (light) to hard (dark).

    Models within :data:`SPECTRUM_BIN` decades of each other (different families at about the same
    FLOPs) are averaged, point by point at the bin's mean FLOPs, so the lines do not zigzag between
    families; the test region beyond the cut is shaded.
    """
    figure, ax = new_figure()
    columns = group_columns_of(spectrum)
    log_flops = np.log10(spectrum["flops"].to_numpy(dtype=float))
    # A bin never mixes training and test models: the test side of the cut is its own bin.
    bins = spectrum.assign(log10_flops=log_flops, bin=np.floor(log_flops / SPECTRUM_BIN),
                           test=~training_mask(spectrum["flops"].to_numpy(dtype=float), cut))
    frame = bins.groupby(["bin", "test"], sort=True)[[*columns, "log10_flops"]].mean()
    flops = 10.0 ** frame.pop("log10_flops").to_numpy(dtype=float)
    colours = colormaps["viridis"](np.linspace(*SPECTRUM_COLOURS, len(columns)))
    for column, colour in zip(columns, colours):  # one line per group: at most a few dozen
        ax.plot(flops, frame[column].to_numpy(dtype=float), "-", color=colour, linewidth=1.4)
    _log_flops_axis(ax)
    if cut:
        ax.axvspan(cut, flops.max() * 1.5, color="0.5", alpha=0.12, linewidth=0,
                   label=f"test models (at or above the cut, {format_flops(cut)} FLOPs)")
        ax.set_xlim(flops.min() / 1.5, flops.max() * 1.5)
        _legend(ax, extra=False)
    ax.set_ylim(*_tc_limits(frame.to_numpy(dtype=float).ravel(), pad=0.1))
    ax.set_ylabel(f"mean TC Brier score (higher is better)\nmodels averaged per {SPECTRUM_BIN:g} decade of FLOPs")
    ax.set_title(titled(f"{FIGURE_TITLES['spectrum']}: {len(columns)} groups of questions", task))
    norm = BoundaryNorm(np.arange(0.5, len(columns) + 1.5), len(columns))
    mappable = ScalarMappable(norm=norm, cmap=ListedColormap(colours))
    bar = figure.colorbar(mappable, ax=ax, ticks=np.arange(1, len(columns) + 1), pad=0.01)
    bar.set_label("difficulty group (1 = easiest)")
    return figure


def _split_masks(inputs: FigureInputs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    flops = inputs.slices["flops"].to_numpy(dtype=float)
    train = training_mask(flops, inputs.fit.options.cut)
    return flops, train, ~train


def hard_fit_label(fit: Fit) -> str:
    """What the hard curve really is: one polynomial, or the mean of several (the automatic rule)."""
    if fit.options.hard_average and fit.hard.degree > 1:
        return f"mean of degree-1 .. degree-{fit.hard.degree} fits"
    return f"degree-{fit.hard.degree} fit"


def forecast_label(fit: Fit) -> str:
    """What the accuracy curve really is: the variant, degrees, blend with a trend, and floor."""
    o = fit.options
    sandwich = f"Slice-and-Sandwich ({o.variant} variant; easy: degree-{fit.easy.degree} fit; hard: {hard_fit_label(fit)})"
    trend = f"the {o.trend.replace('_', ' ')} trend"
    label = {"trend": trend, "envelope": f"larger of {sandwich} and {trend}",
             "mean": f"{1 - o.trend_weight:.0%} {sandwich} + {o.trend_weight:.0%} {trend}"}.get(o.blend, sandwich)
    floor = ", never below the sigmoid baseline" if o.baseline_floor else ""
    return f"forecast: {label}{floor}"


def interval_label(intervals: dict | None) -> str:
    """``90% prediction interval (...)``: the band's level and kind; the report's Forecast section says
    how it was made (the method is a sentence, too long for a legend).

    >>> interval_label({"level": 0.9, "interval": "bootstrap"})
    '90% bootstrap interval (fit noise only)'
    """
    intervals = intervals or {}
    kind = intervals.get("interval", "bootstrap")
    how = "fit noise only" if kind == "bootstrap" else "how it is made: the report's Forecast section"
    return f"{round(100 * intervals.get('level', 0.9))}% {kind} interval ({how})"


def fits_figure(inputs: FigureInputs) -> Figure:
    """The easy and hard groups' points (training filled, test hollow) with their fitted curves."""
    figure, ax = new_figure()
    fit = inputs.fit
    flops, train, test = _split_masks(inputs)
    grid, fitted = figure_curves(inputs)
    points = []
    for column, key, colour, name, what in (
            (fit.easy_column, "pred_easy", PALETTE["easy"], "easy group", f"degree-{fit.easy.degree} fit"),
            (fit.hard_column, "pred_hard", PALETTE["hard"], "hard group", hard_fit_label(fit))):
        y = inputs.slices[column].to_numpy(dtype=float)
        points.append(y)
        ax.scatter(flops[train], y[train], color=colour, s=20, zorder=3,
                   label=f"{name}: training (filled) and test (hollow) models")
        if test.any():
            ax.scatter(flops[test], y[test], facecolors="white", edgecolors=colour, s=22, linewidths=1.2, zorder=3)
        plot_curve(ax, grid, fitted[key], fit.training_x_range, label=f"{name}: {what}", color=colour,
                   linewidth=1.6)
    _log_flops_axis(ax)
    _cut_line(ax, fit.options.cut)
    if inputs.threshold_flops:
        _threshold_line(ax, inputs.threshold_flops)
        ax.plot([inputs.threshold_flops], fit.easy(np.log10([inputs.threshold_flops])), marker="D",
                color=PALETTE["threshold"], markersize=6, linestyle="none", zorder=4)
    ax.set_ylim(*_tc_limits(np.concatenate(points)))
    ax.set_ylabel("mean TC Brier score (higher is better)")
    ax.set_title(titled(FIGURE_TITLES["fits"], inputs.task))
    _legend(ax)
    return figure


def _band(inputs: FigureInputs, grid: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """The interval band on the curve's grid: the run's band (band.csv) when it was drawn on this grid."""
    band = inputs.band
    if band is None or len(band) != len(grid) or not np.allclose(band["log10_flops"].to_numpy(dtype=float), grid):
        return None
    return band["pred_accuracy_lo"].to_numpy(dtype=float), band["pred_accuracy_hi"].to_numpy(dtype=float)


def forecast_figure(inputs: FigureInputs) -> Figure:
    """Observed accuracy per model, the forecast with its interval band, and the sigmoid baseline."""
    figure, ax = new_figure()
    fit = inputs.fit
    flops, train, test = _split_masks(inputs)
    grid, fitted = figure_curves(inputs)
    observed = inputs.slices["accuracy"].to_numpy(dtype=float)
    band = _band(inputs, grid)
    if band is not None:
        ax.fill_between(10.0 ** grid, band[0], band[1], color=PALETTE["band"], alpha=0.14, linewidth=0,
                        label=interval_label(inputs.intervals))
    plot_curve(ax, grid, fitted["pred_accuracy"], fit.training_x_range, label=forecast_label(fit),
               color=PALETTE["forecast"], linewidth=1.9)
    ax.plot(10.0 ** grid, fitted["baseline_accuracy"], color=PALETTE["baseline"], linewidth=1.2,
            linestyle="-.", label="sigmoid baseline (paper)")
    ax.axhline(fit.options.chance, color="0.6", linewidth=0.8, linestyle=(0, (1, 2)))
    ax.annotate(f"chance {fit.options.chance:g}", (0.995, fit.options.chance), xycoords=("axes fraction", "data"),
                ha="right", va="bottom", fontsize=7, color="0.35")
    ax.scatter(flops[train], observed[train], color=PALETTE["forecast"], s=20, zorder=3,
               label="observed: training models")
    if test.any():
        ax.scatter(flops[test], observed[test], facecolors="white", edgecolors=PALETTE["test"], s=24,
                   linewidths=1.3, zorder=3, label="observed: test models (held out)")
    predictions = inputs.predictions
    forecast_at = predictions["pred_accuracy"].to_numpy(dtype=float)
    requested = (predictions["split"] == "none").to_numpy() & np.isfinite(forecast_at)
    if requested.any():
        ax.scatter(predictions.loc[requested, "flops"].to_numpy(dtype=float), forecast_at[requested],
                   marker="X", color=PALETTE["forecast"], s=42, zorder=4, label="forecast at requested scales")
    _log_flops_axis(ax)
    _cut_line(ax, fit.options.cut)
    _threshold_line(ax, inputs.threshold_flops)
    ax.set_ylim(0.0, 1.0)  # accuracy lives in [0, 1]
    ax.set_ylabel("accuracy")
    ax.set_title(titled(FIGURE_TITLES["forecast"], inputs.task))
    _legend(ax)
    return figure


def tc_accuracy_figure(inputs: FigureInputs) -> Figure:
    """TC Brier against accuracy: training models, test models, and the line fitted on training models."""
    figure, ax = new_figure()
    fit = inputs.fit
    _, train, test = _split_masks(inputs)
    accuracy = inputs.slices["accuracy"].to_numpy(dtype=float)
    tc = inputs.slices["tc_brier"].to_numpy(dtype=float)
    ax.scatter(accuracy[train], tc[train], color=PALETTE["forecast"], s=20, label="training models", zorder=3)
    if test.any():
        ax.scatter(accuracy[test], tc[test], facecolors="white", edgecolors=PALETTE["test"], s=24, linewidths=1.3,
                   label="test models (not fitted)", zorder=3)
    line = fit.tc_to_accuracy
    finite = accuracy[np.isfinite(accuracy)]
    xs = np.linspace(finite.min(), finite.max(), 50)
    ax.plot(xs, line(xs), color=PALETTE["forecast"], linewidth=1.6,
            label=f"fit on training models: TC Brier = {line.intercept:.3f} + {line.slope:.3f} x accuracy "
                  f"(R\u00b2 {line.r2:.3f})")
    span = max(finite.max() - finite.min(), 0.05)
    ax.set_xlim(max(finite.min() - 0.1 * span, 0.0), min(finite.max() + 0.1 * span, 1.0))
    ax.set_ylim(*_tc_limits(tc))
    ax.set_xlabel("accuracy")
    ax.set_ylabel("TC Brier score (higher is better)")
    ax.set_title(titled(FIGURE_TITLES["tc_accuracy"], inputs.task))
    ax.grid(True, alpha=0.25, linewidth=0.6)
    _legend(ax, extra=False)
    return figure


def draw_figure(key: str, inputs: FigureInputs) -> Figure:
    """One of the report's figures (a key of :data:`FIGURE_TITLES`)."""
    with matplotlib.rc_context(STYLE):
        if key == "spectrum":
            figure = spectrum_figure(inputs.spectrum, inputs.fit.options.cut, inputs.task)
        else:
            figure = {"fits": fits_figure, "forecast": forecast_figure, "tc_accuracy": tc_accuracy_figure}[key](inputs)
        minor_ticks_as_one_line(figure)
        return figure


def minor_ticks_as_one_line(figure: Figure) -> None:
    """Draw each FLOPs axis's minor ticks (:func:`_log_flops_axis`: a log locator, no labels) as one
    line of tick marks instead of matplotlib's one Tick object each: the same pixels (a test compares
    them), at a fifth less of a figure's drawing time, as a seven-decade axis has 56 minor ticks and
    matplotlib lays each out and draws it on its own. The axis's limits are fixed first, at the values
    autoscaling gave them, so the marks match the view they are drawn in.

    >>> import numpy as np
    >>> figure, ax = new_figure()
    >>> with matplotlib.rc_context(STYLE):
    ...     _log_flops_axis(ax)
    ...     _ = ax.plot([1e19, 1e24], [0, 1])
    ...     minor_ticks_as_one_line(figure)
    >>> marks = [line for line in ax.lines if line.get_label() == "_minor ticks"][0]
    >>> len(ax.xaxis.get_minorticklocs()), marks.get_xdata().size > 30
    (0, True)
    """
    for ax in figure.axes:
        axis = ax.xaxis
        if (ax.get_xscale() != "log" or not isinstance(axis.get_minor_locator(), LogLocator)
                or not isinstance(axis.get_minor_formatter(), NullFormatter)):
            continue
        low, high = ax.get_xlim()
        locations = np.asarray(axis.get_minor_locator().tick_values(min(low, high), max(low, high)))
        locations = locations[(locations >= min(low, high)) & (locations <= max(low, high))]
        if not locations.size:  # a span of many decades has no minor ticks: an empty line would still
            continue  # take a place in the layout (at the figure's corner)
        ax.set_xlim(low, high)
        axis.set_minor_locator(NullLocator())
        # As matplotlib draws an outward bottom tick: a TICKDOWN marker on the axis line, in the rc's size.
        ax.add_line(Line2D(locations, np.zeros(locations.size), transform=ax.get_xaxis_transform(),
                           linestyle="none", marker=TICKDOWN, markersize=matplotlib.rcParams["xtick.minor.size"],
                           markeredgewidth=matplotlib.rcParams["xtick.minor.width"],
                           color=matplotlib.rcParams["xtick.color"], clip_on=False, zorder=axis.get_zorder(),
                           label="_minor ticks"))


def make_figures(inputs: FigureInputs) -> dict[str, Figure]:
    """Every figure the inputs allow, in report order."""
    return {key: draw_figure(key, inputs) for key in figure_keys(inputs)}


def fix_layout(figure: Figure) -> None:
    """Lay the figure out once (its constrained layout, at :data:`DPI` on its Agg canvas) and keep that
    layout: matplotlib would otherwise lay it out again at every save (most of a save's cost), and the
    SVG (saved at 72 dpi) would get a layout of its own. So each format, in any order, shows one layout.

    The figure is then left with no layout engine at all, not matplotlib's placeholder (``"none"``):
    ``savefig`` draws a figure that has any engine once more before saving it (to let the engine lay
    it out), and that extra pass was 30% of saving the run's figures, for the same bytes."""
    engine = figure.get_layout_engine()
    if isinstance(engine, ConstrainedLayoutEngine):
        engine.execute(figure)
        # None means "the rc's engine" to matplotlib: the rc says no engine here.
        with matplotlib.rc_context({"figure.autolayout": False, "figure.constrained_layout.use": False}):
            figure.set_layout_engine(None)


def figure_bytes(figure: Figure, fmt: str = "png") -> bytes:
    """The figure as PNG or SVG bytes, identical for identical figures (no dates, versions or random ids);
    SVG text stays text (``svg.fonttype: none``)."""
    metadata = {"Software": None} if fmt == "png" else {"Date": None, "Creator": None}
    buffer = io.BytesIO()
    with matplotlib.rc_context(STYLE):
        fix_layout(figure)
        figure.savefig(buffer, format=fmt, dpi=DPI, metadata=metadata)
    return buffer.getvalue()


def render_figures(inputs: FigureInputs, fmt: str = "png") -> dict[str, bytes]:
    """``{key: bytes}`` for every figure, in report order."""
    return {key: files[fmt] for key, files in render_figure_files(inputs, (fmt,)).items()}


def render_figure_files(inputs: FigureInputs, formats: tuple[str, ...] = ("png", "svg")) -> dict[str, dict[str, bytes]]:
    """``{key: {format: bytes}}``: every figure drawn once and saved in each format."""
    return figure_files(make_figures(inputs), formats)


def figure_files(figures: dict[str, Figure], formats: tuple[str, ...] = ("png", "svg"),
                 parallel: bool = True) -> dict[str, dict[str, bytes]]:
    """``{key: {format: bytes}}`` of every figure in each format, in the order given.

    Saving is matplotlib's pure-Python drawing (half of it the constrained layout, run again for each
    format), so with ``parallel`` and :func:`slicesand.io.forked.fork_usable` a forked child saves part of
    the figures on the other core (:func:`share_of_child`) while this process saves the rest. Each figure
    is saved whole in one process, in the same order of formats, from the same figure objects: the bytes
    are those of saving them all here (a test pins it). A child that fails is redone here.
    """
    def save(keys) -> dict[str, dict[str, bytes]]:
        return {key: {fmt: figure_bytes(figures[key], fmt) for fmt in formats} for key in keys}

    from slicesand.io.forked import fork_or_none

    theirs = share_of_child(list(figures)) if parallel and len(figures) > 1 else []
    child = fork_or_none(lambda: save(theirs)) if theirs else None
    if child is None:  # one figure, or no child: every figure is saved here
        return save(figures)
    with child:
        files = save([key for key in figures if key not in theirs])
        files.update(child.result() or save(theirs))
    return {key: files[key] for key in figures}


def share_of_child(keys: list[str]) -> list[str]:
    """The figures a second process saves: the split :class:`slicesand.reporting.drawing.Shares` makes
    of them (whole figures, each to the process that would end it first, by the measured costs).

    >>> share_of_child(["spectrum", "fits", "forecast", "tc_accuracy"])
    ['spectrum', 'forecast']
    """
    from slicesand.reporting.drawing import Shares

    theirs = {key for key, worker in Shares(workers=2).early(keys, at=0.0) if worker == 1}
    return [key for key in keys if key in theirs]


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR header (no image library needed)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise ValueError("not a PNG")
    return struct.unpack(">II", data[16:24])


def png_dpi(data: bytes) -> float | None:
    """Dots per inch from a PNG's pHYs chunk (``None`` without one)."""
    at = data.find(b"pHYs")
    if at < 0:
        return None
    x_per_metre, _, unit = struct.unpack(">IIB", data[at + 4:at + 13])
    return x_per_metre * 0.0254 if unit == 1 else None
