"""When not to trust a forecast: prediction intervals on the predictions table, and warnings.

:func:`add_intervals` adds ``pred_accuracy_lo`` / ``pred_accuracy_hi`` after ``pred_accuracy`` (empty
without an interval, so the table's columns never depend on ``--bootstrap``): a 90%
*prediction* interval calibrated on other tasks by extrapolation distance and joined with the in-task
bootstrap (:mod:`slicesand.uncertainty.calibration`, which says how often it covered, task by task). It
stores the interval summary (method, calibration, the threshold's bootstrap interval) on the forecast,
and drops the threshold when too few bootstrap draws have one (no emergence signal).
:func:`trust_warnings` lists the reasons for caution, with or without an interval (``--bootstrap 0``,
``predict`` without a slices table: the extrapolation distance needs only the fit):

* a forecast more than one decade of compute beyond the training models;
* fewer than 10 training models;
* a 90% prediction interval wider than 0.3 accuracy;
* with the legacy sigmoid floor, a forecast lifted more than 0.1 above the group curves' forecast.
(An easy curve without a supported turning point is warned about by :func:`slicesand.forecast.predict.predict`.)

>>> import numpy as np, pandas as pd
>>> from slicesand.fitting.model import FitOptions, fit_slices
>>> from slicesand.forecast.predict import predict
>>> x = np.linspace(20, 22, 8)
>>> frame = pd.DataFrame({"model": list("abcdefgh"), "flops": 10 ** x, "accuracy": np.linspace(.3, .5, 8),
...                       "tc_brier": np.linspace(-.6, -.4, 8), "group_1": -0.2 + 0.01 * (x - 21) ** 2,
...                       "group_2": -0.5 + 0.1 * x})
>>> fit = fit_slices(frame, FitOptions(easy_degree=2, hard_degree=1))
>>> forecast = add_intervals(predict(fit, frame, at=[1e24]), fit, frame, draws=100, seed=0)
>>> "pred_accuracy_lo" in forecast.table.columns
True
>>> [w.message.split(":")[0] for w in trust_warnings(fit, forecast)]  # doctest: +NORMALIZE_WHITESPACE
['forecast 2 decades beyond the largest training model', 'only 8 training models',
 'the 90% prediction interval of predicted accuracy is up to 0.43 wide (more than 0.3)']
>>> [w.category for w in trust_warnings(fit, add_intervals(predict(fit, frame, at=[1e24]), fit, frame, draws=0))]
['extrapolation', 'few-models']
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from slicesand.diagnostics import Diagnostic, diagnostic
from slicesand.uncertainty.bootstrap import BootstrapDraws
from slicesand.uncertainty.calibration import prediction_interval
from slicesand.uncertainty.resampling import budget_warning
from slicesand.fitting.model import Fit
from slicesand.forecast.predict import Forecast, no_signal, threshold_support

MAX_DECADES = 1.0
MIN_TRAINING = 10
MAX_WIDTH = 0.3
MAX_LIFT = 0.1


def add_intervals(forecast: Forecast, fit: Fit, frame: pd.DataFrame | None, *, draws: int = 1000,
                  seed: int = 0, questions=None, questions_note: str | None = None,
                  drawn: BootstrapDraws | None = None) -> Forecast:
    """The forecast with 90% prediction interval columns and summary, and the trust warnings.

    With ``draws`` 0 (or a fit without accuracy) the interval columns are added empty (NaN), and the
    warnings that need no interval are still given; without ``frame`` (the slices table) the interval has no bootstrap part. ``questions`` (:class:`slicesand.uncertainty.resampling.QuestionMatrix`)
    makes the bootstrap resample questions too; ``questions_note`` records why it could not. ``drawn``
    (:func:`slicesand.uncertainty.bootstrap.draw_bootstrap`) is the bootstrap already drawn for ``fit``
    and ``frame`` with these ``draws``, ``seed`` and ``questions``: it is used instead of drawing again."""
    table = forecast.table.drop(columns=["pred_accuracy_lo", "pred_accuracy_hi"], errors="ignore")
    # The columns are there with or without an interval: the table's schema does not depend on
    # --bootstrap. Without one they are empty (NaN; an empty cell in CSV, null in JSON), never 0.
    lo = hi = np.full(len(table), np.nan)
    if draws > 0 and fit.has_accuracy:
        result = prediction_interval(fit, frame, np.log10(table["flops"].to_numpy(dtype=float)),
                                     draws=draws if frame is not None else 0, seed=seed, questions=questions,
                                     drawn=drawn if frame is not None else None)
        lo, hi = result.lo, result.hi
    at = table.columns.get_loc("pred_accuracy") + 1
    table.insert(at, "pred_accuracy_hi", hi)
    table.insert(at, "pred_accuracy_lo", lo)
    forecast.table = table
    if draws > 0 and fit.has_accuracy:
        forecast.intervals = {**result.summary(), **({"questions_note": str(questions_note)} if questions_note else {})}
        # The memory budget left the bootstrap a subset of the questions (or none): a warning, not only prose.
        if (subset := budget_warning(questions_note)) is not None and subset not in forecast.warnings:
            forecast.warnings.append(subset)
        if result.bootstrap is not None and forecast.threshold_log10_flops is not None:
            reason = threshold_support(fit, forecast.threshold_log10_flops, result.bootstrap.threshold_share)
            if reason is not None:
                no_signal(forecast, fit, reason)
    forecast.warnings.extend(w for w in trust_warnings(fit, forecast) if w not in forecast.warnings)
    return forecast


def has_interval(table: pd.DataFrame) -> bool:
    """True when a predictions table holds an interval: its interval columns are there and not empty
    (with ``--bootstrap 0`` they are there, empty).

    >>> has_interval(pd.DataFrame({"pred_accuracy_lo": [np.nan], "pred_accuracy_hi": [np.nan]}))
    False
    """
    return "pred_accuracy_lo" in table.columns and bool(table["pred_accuracy_lo"].notna().any())


def valid_interval(fit: Fit, point: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The interval holds its point forecast and, with clipping (everything but ``--paper``), lies in
    [accuracy floor, 1] (:func:`slicesand.uncertainty.calibration.prediction_interval` already returns
    such intervals; this keeps a band computed elsewhere to the same rule)."""
    lo, hi = np.minimum(lo, point), np.maximum(hi, point)
    if fit.options.clip:
        floor = fit.accuracy_floor if fit.accuracy_floor is not None else fit.options.chance
        lo, hi = np.clip(lo, floor, 1.0), np.clip(hi, floor, 1.0)
    return lo, hi


def trust_warnings(fit: Fit, forecast: Forecast) -> list[Diagnostic]:
    """Reasons not to trust this forecast (see the module docstring)."""
    warnings = []
    x = np.log10(forecast.table["flops"].to_numpy(dtype=float))
    beyond = float(x.max() - fit.training_x_range[1]) if x.size else 0.0
    if beyond > MAX_DECADES:
        warnings.append(diagnostic("beyond-training-range",
                                   f"forecast {beyond:.2g} decades beyond the largest training model: "
                                   f"more than {MAX_DECADES:g} decade of extrapolation is unreliable"))
    if len(fit.training_models) < MIN_TRAINING:
        warnings.append(diagnostic("few-training-models",
                                   f"only {len(fit.training_models)} training models: fewer than {MIN_TRAINING} "
                                   "make every fitted curve fragile"))
    if fit.options.baseline_floor and fit.has_accuracy and x.size:
        from dataclasses import replace

        from slicesand.forecast.predict import curves

        plain = curves(replace(fit, options=replace(fit.options, baseline_floor=False)), x)["pred_accuracy"]
        lift = forecast.table["pred_accuracy"].to_numpy(dtype=float) - plain
        if np.nanmax(lift, initial=0.0) > MAX_LIFT:
            warnings.append(diagnostic(
                "floor-lift", f"the sigmoid floor lifts the forecast by up to {np.nanmax(lift):.2f} above the group "
                f"curves' forecast at {int((lift > MAX_LIFT).sum())} scale(s): it follows the sigmoid "
                "baseline there, whose logit fit is unstable when training accuracy sits near chance"))
    if has_interval(forecast.table):
        calibrated = (forecast.intervals or {}).get("interval", "prediction") == "prediction"
        width = (forecast.table["pred_accuracy_hi"] - forecast.table["pred_accuracy_lo"]).to_numpy(dtype=float)
        name = "90% prediction interval" if calibrated else "90% bootstrap interval"
        if np.nanmax(width, initial=0.0) > MAX_WIDTH:
            warnings.append(diagnostic("wide-interval", f"the {name} of predicted accuracy is up to {np.nanmax(width):.2f} "
                                       f"wide (more than {MAX_WIDTH:g}): the data do not pin the forecast down"))
    return warnings
