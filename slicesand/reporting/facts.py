"""The report model: every fact of a forecast, gathered once per run, for four renderers.

:func:`build_report` makes a :class:`Report` from the in-memory results of a run (or, through
:func:`slicesand.reporting.output.read_report`, from a run folder read once). ``Report.facts`` is one
plain JSON-ready dictionary (the JSON renderer prints it as it is); ``Report.figures`` is what the
figures are drawn from. :mod:`slicesand.reporting.sections` lays the facts out as the sections every
renderer shows: Markdown (:mod:`~slicesand.reporting.markdown`), HTML (:mod:`~slicesand.reporting.html`)
and the terminal (:mod:`~slicesand.reporting.terminal`).

>>> format_flops(3.2e22)
'3.2e22'
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from slicesand import __version__
from slicesand.diagnostics import as_diagnostics
from slicesand.fitting.model import Fit


GRID_POINTS = 200  # the figures' curves and interval band share this grid (see figure_grid)
BAND_FILE = "band.csv"  # the interval band on that grid, so `report` redraws the run's figures exactly


@dataclass(frozen=True)
class FigureInputs:
    """What the figures draw: the fit, its slices table, predictions, the optional spectrum, the task,
    the intervals' summary (level and kind) and the interval band on :func:`figure_grid`
    (``log10_flops``, ``pred_accuracy_lo``, ``pred_accuracy_hi``)."""

    fit: Fit
    slices: pd.DataFrame
    predictions: pd.DataFrame
    threshold_flops: float | None = None
    spectrum: pd.DataFrame | None = None
    task: str | None = None
    intervals: dict | None = None
    band: pd.DataFrame | None = None
    #: The fit's curves on :func:`figure_grid` (``log10_flops`` and :func:`slicesand.forecast.predict.curves`),
    #: when they were evaluated where these inputs were made (:func:`with_figure_curves`): a drawing process
    #: then needs no scipy (about 0.2 s of imports for the logistic function).
    curves: dict[str, np.ndarray] | None = None


def with_figure_curves(inputs: FigureInputs) -> FigureInputs:
    """``inputs`` with the curves of the fits and forecast figures evaluated here (:func:`figure_curves`).

    >>> frame = pd.DataFrame({"flops": [1e20, 1e22]})
    >>> with_figure_curves(FigureInputs(fit=None, slices=frame, predictions=frame)).curves is None  # no fit
    True
    """
    if inputs.fit is None:
        return inputs
    from dataclasses import replace

    grid, fitted = figure_curves(inputs)
    return replace(inputs, curves={"log10_flops": grid, **fitted})


def figure_curves(inputs: FigureInputs) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The figures' grid (:func:`figure_grid`) and the fit's curves on it: those the inputs carry when
    they were evaluated on this grid, else evaluated now."""
    grid = figure_grid(inputs.slices, inputs.predictions)
    carried = inputs.curves
    if carried is not None and np.array_equal(carried["log10_flops"], grid):
        return grid, {key: values for key, values in carried.items() if key != "log10_flops"}
    from slicesand.forecast.predict import curves

    return grid, curves(inputs.fit, grid)


def figure_grid(slices: pd.DataFrame, predictions: pd.DataFrame, n: int = GRID_POINTS) -> np.ndarray:
    """log10 FLOPs from just below the smallest model to just past the largest requested scale: the
    grid of every curve in the figures, and of the interval band.

    >>> frame = pd.DataFrame({"flops": [1e20, 1e22]})
    >>> figure_grid(frame, frame, n=3).tolist()
    [19.85, 21.0, 22.15]
    """
    flops = np.concatenate([slices["flops"].to_numpy(dtype=float), predictions["flops"].to_numpy(dtype=float)])
    x = np.log10(flops[np.isfinite(flops) & (flops > 0)])
    return np.linspace(x.min() - 0.15, x.max() + 0.15, n)


def interval_band(fit: Fit, slices: pd.DataFrame, predictions: pd.DataFrame, *, draws: int, seed: int,
                  questions=None, drawn=None) -> pd.DataFrame | None:
    """The prediction interval on :func:`figure_grid` (the grid of the forecast figure's curve), made
    as the predictions' intervals are (same draws, seed and question resampling); ``None`` without
    draws or accuracy. ``drawn`` (:func:`slicesand.uncertainty.bootstrap.draw_bootstrap`), the
    predictions' own draws, is evaluated on the grid instead of drawing again."""
    if draws <= 0 or not fit.has_accuracy:
        return None
    from slicesand.uncertainty.calibration import prediction_interval

    x = figure_grid(slices, predictions)
    result = prediction_interval(fit, slices, x, draws=draws, seed=seed, questions=questions, drawn=drawn)
    return pd.DataFrame({"log10_flops": x, "pred_accuracy_lo": result.lo, "pred_accuracy_hi": result.hi})


@dataclass(frozen=True)
class Report:
    """One run's report: the facts every renderer shows, and what its figures are drawn from.

    ``figures`` is ``None`` when there is no slices table to draw from (a folder made by the single
    commands, or ``--no-figures``).
    """

    facts: dict
    figures: FigureInputs | None = None
    # One row per test model and cut of a backtest run into the folder (``backtest --plot``); else None.
    backtest: pd.DataFrame | None = None


def build_report(fit: Fit, predictions: pd.DataFrame, summary: dict, slices_meta: dict | None, *,
                 run: dict | None = None, slices: pd.DataFrame | None = None,
                 spectrum: pd.DataFrame | None = None, band: pd.DataFrame | None = None,
                 backtest: tuple[pd.DataFrame, pd.DataFrame] | None = None) -> Report:
    """The report of a run from its results: the fit, the predictions table, the forecast summary
    (:func:`slicesand.pipeline.stages.forecast_summary`), the slicing metadata (the slices sidecar),
    how the run was made (``run``: command and versions) and, for the figures, the slices tables and
    the interval band on the figures' grid; ``backtest`` is a backtest's (table, models) when one ran."""
    predictions = predictions.assign(model=predictions["model"].fillna("").astype(str))
    facts = build_facts(fit, predictions, summary, slices_meta)
    if run:
        facts["run"] = run
    if backtest is not None:
        from slicesand.reporting.backtest_figures import backtest_facts

        facts["backtest"] = backtest_facts(backtest[0])
    figures = None
    if slices is not None:
        figures = FigureInputs(fit=fit, slices=slices, predictions=predictions,
                               threshold_flops=facts.get("threshold_flops"), spectrum=spectrum,
                               task=facts.get("task"), intervals=facts.get("intervals"), band=band)
    return Report(facts, figures, None if backtest is None else backtest[1])

# Names are text, however they look: a model called 0039 or 1e3 stays 0039 or 1e3.
TEXT_COLUMNS = {"model": pa.string(), "task": pa.string()}


def format_flops(value: float | None) -> str:
    """FLOPs in compact scientific notation (``3.2e22``); ``-`` when unknown."""
    if value is None or not math.isfinite(value):
        return "-"
    mantissa, exponent = f"{value:.2g}".split("e") if "e" in f"{value:.2g}" else (f"{value:.2g}", "0")
    return f"{mantissa}e{int(exponent)}"


def _number(value) -> float | None:
    return None if value is None or (isinstance(value, float) and not math.isfinite(value)) else float(value)


def report_task(slices_meta: dict | None) -> str | None:
    """The task(s) a report names, from the slicing's facts (``None`` for a dump without task names).

    >>> report_task({"facts": {"tasks": ["mmlu"]}}), report_task(None)
    ('mmlu', None)
    """
    return ", ".join(t for t in ((slices_meta or {}).get("facts", {}).get("tasks") or []) if t) or None


def build_facts(fit: Fit, predictions: pd.DataFrame, summary: dict, slices_meta: dict | None) -> dict:
    """Every fact a report shows, as plain JSON-ready values."""
    rows = predictions.replace({np.nan: None}).to_dict(orient="records")
    split = predictions["split"].to_numpy()
    shown = predictions[predictions["split"] != "excluded"]  # a model the fit left out is no headline
    largest = shown.loc[shown["flops"].idxmax()] if len(shown) else None
    # Diagnostic objects (slicesand.diagnostics); the sidecars hold them as dicts.
    warnings = as_diagnostics([*(slices_meta or {}).get("warnings", []), *fit.warnings, *summary.get("warnings", [])])
    return {
        "tool": {"name": "slicesand", "version": __version__},
        "input": (slices_meta or {}).get("input"),
        "task": report_task(slices_meta),
        "settings": {
            "cut_flops": fit.options.cut,
            "chance": fit.options.chance,
            "easy_degree": fit.options.easy_degree,
            "hard_degree": fit.options.hard_degree,
            "variant": fit.options.variant,
            "n_groups": fit.n_groups,
            # The automatic rule's extras (slicesand.fitting.selection): hard degrees averaged, sigmoid floor.
            "hard_average": fit.options.hard_average,
            "baseline_floor": fit.options.baseline_floor,
            "automatic": fit.selection is not None,
            # How the forecast combines Slice-and-Sandwich with the trend, and why (slicesand.fitting.selection).
            "blend": fit.options.blend,
            "trend": fit.options.trend,
            "candidate": (fit.selection or {}).get("candidate"),
            "why": (fit.selection or {}).get("why"),
        },
        "models": {
            "training": len(fit.training_models),
            "test": int((split == "test").sum()),
            "training_flops_range": [10.0 ** fit.training_x_range[0], 10.0 ** fit.training_x_range[1]],
        },
        "slicing": (slices_meta or {}).get("facts"),
        "curves": {
            "easy": {"degree": fit.easy.degree, "r2": _number(fit.easy.r2), "n": fit.easy.n},
            "hard": {"degree": fit.hard.degree, "r2": _number(fit.hard.r2), "n": fit.hard.n},
            "tc_to_accuracy": None if fit.tc_to_accuracy is None else {
                "intercept": fit.tc_to_accuracy.intercept, "slope": fit.tc_to_accuracy.slope,
                "r2": _number(fit.tc_to_accuracy.r2)},
            "accuracy_shift": fit.accuracy_shift,
        },
        "threshold_flops": summary.get("threshold_flops"),
        # Bootstrap summary (draws, seed, level, threshold interval); None when no bootstrap was run.
        "intervals": summary.get("intervals"),
        "threshold_search_range_flops": summary.get("threshold_search_range_flops"),
        "turning_point_log10_flops": summary.get("turning_point_log10_flops"),
        "test_mse": summary.get("test_mse"),
        "largest_scale": None if largest is None else {
            "flops": float(largest["flops"]), "model": largest["model"] or None,
            "pred_accuracy": _number(largest["pred_accuracy"]),
            "pred_tc_brier": _number(largest["pred_tc_brier"]),
        },
        "predictions": rows,
        "warnings": warnings,
    }


def headline(facts: dict) -> str:
    """One plain sentence on the forecast."""
    parts = []
    largest = facts.get("largest_scale")
    if largest and largest.get("pred_accuracy") is not None:
        parts.append(f"accuracy is forecast to reach {largest['pred_accuracy']:.2f} at "
                     f"{format_flops(largest['flops'])} FLOPs")
    elif largest:
        parts.append(f"TC Brier is forecast to reach {largest['pred_tc_brier']:.3f} at "
                     f"{format_flops(largest['flops'])} FLOPs (accuracy is unknown)")
    if facts.get("threshold_flops") is not None:
        parts.append(f"the emergence threshold is predicted near {format_flops(facts['threshold_flops'])} FLOPs")
    elif facts.get("turning_point_log10_flops") is not None:
        parts.append(f"no emergence signal: the easy questions' curve turns near "
                     f"{format_flops(10.0 ** facts['turning_point_log10_flops'])} FLOPs, but the turn is not "
                     "supported (see the warnings), so no emergence threshold is predicted")
    else:
        low, high = facts.get("threshold_search_range_flops") or (None, None)
        parts.append(f"no emergence signal: the easy questions' curve has no turning point between "
                     f"{format_flops(low)} and {format_flops(high)} FLOPs, so no emergence threshold is predicted")
    sentence = "; ".join(parts)
    return sentence[0].upper() + sentence[1:] + "."


def _fmt(value, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def _level(intervals: dict | None) -> str:
    return f"{round(100 * (intervals or {}).get('level', 0.9))}%"


def _kind(intervals: dict | None) -> str:
    """``prediction`` for a calibrated interval (slicesand.uncertainty.calibration), ``bootstrap`` for fit noise only."""
    return (intervals or {}).get("interval", "bootstrap")


def interval_text(row: dict) -> str:
    """``0.312-0.458`` for a predictions row with an interval, ``""`` without one.

    >>> interval_text({"pred_accuracy_lo": 0.3124, "pred_accuracy_hi": 0.4581})
    '0.312-0.458'
    """
    lo, hi = row.get("pred_accuracy_lo"), row.get("pred_accuracy_hi")
    return "" if lo is None or hi is None else f"{_fmt(float(lo))}-{_fmt(float(hi))}"


def interval_sentence(intervals: dict) -> str:
    """How the intervals were made, and the threshold's interval.

    >>> interval_sentence({"draws": 1000, "seed": 0, "level": 0.9, "share_of_draws_with_threshold": 0.5,
    ...                    "threshold_flops_interval": [1e22, 3e23]})
    '90% bootstrap intervals from 1000 resamples of the training models (seed 0). Emergence threshold (bootstrap, fit noise only): 1e22 to 3e23 FLOPs (50% of draws have one).'
    """
    resampled = intervals.get("resampled", "models").replace("models", "the training models")
    if _kind(intervals) == "prediction":
        draws = (f"; bootstrap: {intervals['draws']} resamples of {resampled}, seed {intervals['seed']}"
                 if intervals.get("draws") else "")
        text = (f"{_level(intervals)} prediction intervals: the {intervals.get('method', 'calibrated interval')}"
                f"{draws}; {intervals.get('measured_coverage') or ''}.")
    else:
        text = (f"{_level(intervals)} bootstrap intervals from {intervals['draws']} resamples of {resampled} "
                f"(seed {intervals['seed']}).")
    if intervals.get("questions_note"):
        text += f" ({intervals['questions_note']}.)"
    low, high = intervals.get("threshold_flops_interval") or (None, None)
    if low is not None and high is not None:
        text += (f" Emergence threshold (bootstrap, fit noise only): {format_flops(low)} to {format_flops(high)} FLOPs "
                 f"({intervals['share_of_draws_with_threshold']:.0%} of draws have one).")
    return text
