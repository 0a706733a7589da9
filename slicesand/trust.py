"""When not to trust a forecast: bootstrap intervals on the predictions table, and warnings.

:func:`add_intervals` adds ``pred_accuracy_lo`` / ``pred_accuracy_hi`` (a 90% bootstrap percentile
interval, :mod:`slicesand.bootstrap`) after ``pred_accuracy`` and stores the interval summary (with the
threshold's interval) on the forecast. :func:`trust_warnings` lists the reasons for caution:

* a forecast more than one decade of compute beyond the training models;
* fewer than 10 training models;
* a 90% interval wider than 0.3 accuracy;
* with the sigmoid floor (the automatic rule), a forecast lifted more than 0.1 above the group curves'
  forecast by the sigmoid baseline: the baseline's logit fit is unstable when training accuracy sits at
  chance, and then the forecast inherits it.
(The easy curve without a turning point is warned about by :func:`slicesand.forecast.predict`.)

>>> import numpy as np, pandas as pd
>>> from slicesand.fitting import FitOptions, fit_slices
>>> from slicesand.forecast import predict
>>> x = np.linspace(20, 22, 8)
>>> frame = pd.DataFrame({"model": list("abcdefgh"), "flops": 10 ** x, "accuracy": np.linspace(.3, .5, 8),
...                       "tc_brier": np.linspace(-.6, -.4, 8), "group_1": -0.2 + 0.01 * (x - 21) ** 2,
...                       "group_2": -0.5 + 0.1 * x})
>>> fit = fit_slices(frame, FitOptions(easy_degree=2, hard_degree=1))
>>> forecast = add_intervals(predict(fit, frame, at=[1e24]), fit, frame, draws=100, seed=0)
>>> "pred_accuracy_lo" in forecast.table.columns
True
>>> [w.split(":")[0] for w in trust_warnings(fit, forecast)]
['forecast 2 decades beyond the largest training model', 'only 8 training models']
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from slicesand.bootstrap import bootstrap
from slicesand.fitting import Fit
from slicesand.forecast import Forecast

MAX_DECADES = 1.0
MIN_TRAINING = 10
MAX_WIDTH = 0.3
MAX_LIFT = 0.1


def add_intervals(forecast: Forecast, fit: Fit, frame: pd.DataFrame, *, draws: int = 1000,
                  seed: int = 0) -> Forecast:
    """The forecast with bootstrap interval columns and summary (unchanged when ``draws`` is 0)."""
    if draws <= 0 or not fit.has_accuracy:
        return forecast
    table = forecast.table.copy()
    result = bootstrap(fit, frame, np.log10(table["flops"].to_numpy(dtype=float)), draws=draws, seed=seed)
    at = table.columns.get_loc("pred_accuracy") + 1
    table.insert(at, "pred_accuracy_hi", result.accuracy_hi)
    table.insert(at, "pred_accuracy_lo", result.accuracy_lo)
    forecast.table = table
    forecast.intervals = result.summary()
    forecast.warnings.extend(w for w in trust_warnings(fit, forecast) if w not in forecast.warnings)
    return forecast


def trust_warnings(fit: Fit, forecast: Forecast) -> list[str]:
    """Reasons not to trust this forecast (see the module docstring)."""
    warnings = []
    x = np.log10(forecast.table["flops"].to_numpy(dtype=float))
    beyond = float(x.max() - fit.training_x_range[1]) if x.size else 0.0
    if beyond > MAX_DECADES:
        warnings.append(f"forecast {beyond:.2g} decades beyond the largest training model: "
                        f"more than {MAX_DECADES:g} decade of extrapolation is unreliable")
    if len(fit.training_models) < MIN_TRAINING:
        warnings.append(f"only {len(fit.training_models)} training models: fewer than {MIN_TRAINING} "
                        "make every fitted curve fragile")
    if fit.options.baseline_floor and fit.has_accuracy and x.size:
        from dataclasses import replace

        from slicesand.forecast import curves

        plain = curves(replace(fit, options=replace(fit.options, baseline_floor=False)), x)["pred_accuracy"]
        lift = forecast.table["pred_accuracy"].to_numpy(dtype=float) - plain
        if np.nanmax(lift, initial=0.0) > MAX_LIFT:
            warnings.append(f"the sigmoid floor lifts the forecast by up to {np.nanmax(lift):.2f} above the group "
                            f"curves' forecast at {int((lift > MAX_LIFT).sum())} scale(s): it follows the sigmoid "
                            "baseline there, whose logit fit is unstable when training accuracy sits near chance")
    if "pred_accuracy_lo" in forecast.table.columns:
        width = (forecast.table["pred_accuracy_hi"] - forecast.table["pred_accuracy_lo"]).to_numpy(dtype=float)
        if np.nanmax(width, initial=0.0) > MAX_WIDTH:
            warnings.append(f"the 90% bootstrap interval of predicted accuracy is up to {np.nanmax(width):.2f} "
                            f"wide (more than {MAX_WIDTH:g}): the data do not pin the forecast down")
    return warnings
