"""When not to trust a forecast: prediction intervals on the predictions table, and warnings.

:func:`add_intervals` adds ``pred_accuracy_lo`` / ``pred_accuracy_hi`` after ``pred_accuracy``: a 90%
*prediction* interval, the bootstrap percentile interval (:mod:`slicesand.uncertainty.bootstrap`; models, and
questions when the per-question data are given) widened by leave-future-out conformal calibration on
the training models (:mod:`slicesand.uncertainty.calibration`, which also says how often it covered on the
paper's tables). It stores the interval summary (method, calibration, the threshold's bootstrap
interval) on the forecast. :func:`trust_warnings` lists the reasons for caution:

* a forecast more than one decade of compute beyond the training models;
* fewer than 10 training models;
* a 90% prediction interval wider than 0.3 accuracy;
* an interval that could not be calibrated (too few training models): it is then fit noise only;
* with the sigmoid floor (the automatic rule), a forecast lifted more than 0.1 above the group curves'
  forecast by the sigmoid baseline: the baseline's logit fit is unstable when training accuracy sits at
  chance, and then the forecast inherits it.
(The easy curve without a turning point is warned about by :func:`slicesand.forecast.predict.predict`.)

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
 'the 90% prediction interval of predicted accuracy is up to 0.75 wide (more than 0.3)',
 'the 90% prediction interval rests on only 3 leave-future-out errors of the training models']
>>> [w.category for w in trust_warnings(fit, forecast)]
['extrapolation', 'few-models', 'wide-interval', 'wide-interval']
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from slicesand.diagnostics import Diagnostic, diagnostic
from slicesand.uncertainty.calibration import prediction_interval
from slicesand.fitting.model import Fit
from slicesand.forecast.predict import Forecast

MAX_DECADES = 1.0
MIN_TRAINING = 10
MAX_WIDTH = 0.3
MAX_LIFT = 0.1


def add_intervals(forecast: Forecast, fit: Fit, frame: pd.DataFrame, *, draws: int = 1000,
                  seed: int = 0, questions=None, questions_note: str | None = None) -> Forecast:
    """The forecast with 90% prediction interval columns and summary (unchanged when ``draws`` is 0).

    ``questions`` (:class:`slicesand.uncertainty.resampling.QuestionMatrix`) makes the bootstrap resample
    questions too; ``questions_note`` records why it could not (stored in the summary)."""
    if draws <= 0 or not fit.has_accuracy:
        return forecast
    table = forecast.table.copy()
    result = prediction_interval(fit, frame, np.log10(table["flops"].to_numpy(dtype=float)), draws=draws,
                                 seed=seed, questions=questions)
    lo, hi = valid_interval(fit, table["pred_accuracy"].to_numpy(dtype=float), result.lo, result.hi)
    at = table.columns.get_loc("pred_accuracy") + 1
    table.insert(at, "pred_accuracy_hi", hi)
    table.insert(at, "pred_accuracy_lo", lo)
    forecast.table = table
    forecast.intervals = {**result.summary(), **({"questions_note": questions_note} if questions_note else {})}
    forecast.warnings.extend(w for w in trust_warnings(fit, forecast) if w not in forecast.warnings)
    return forecast


def valid_interval(fit: Fit, point: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The interval holds its point forecast and, with clipping (everything but ``--paper``), lies in
    [accuracy floor, 1]."""
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
    if "pred_accuracy_lo" in forecast.table.columns:
        calibrated = (forecast.intervals or {}).get("interval", "prediction") == "prediction"
        width = (forecast.table["pred_accuracy_hi"] - forecast.table["pred_accuracy_lo"]).to_numpy(dtype=float)
        name = "90% prediction interval" if calibrated else "90% bootstrap interval"
        if np.nanmax(width, initial=0.0) > MAX_WIDTH:
            warnings.append(diagnostic("wide-interval", f"the {name} of predicted accuracy is up to {np.nanmax(width):.2f} "
                                       f"wide (more than {MAX_WIDTH:g}): the data do not pin the forecast down"))
        calibration = (forecast.intervals or {}).get("calibration") or {}
        if calibrated and not calibration.get("finite_sample_guarantee", True):
            warnings.append(diagnostic(
                "few-calibration-errors",
                f"the 90% prediction interval rests on only {calibration['n_scores']} leave-future-out "
                "errors of the training models: too few for a 90% guarantee, so it may be too narrow"))
        if not calibrated:
            warnings.append(diagnostic(
                "uncalibrated-interval",
                "the 90% bootstrap interval could not be calibrated (too few training models for "
                "leave-future-out folds): it shows fit noise only and covers far less than 90% "
                "of models beyond the training range"))
    return warnings
