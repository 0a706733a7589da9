"""Backtesting: pretend each cut is today, forecast the models above it, and score against baselines.

For each cut: fit on the models below it (automatic settings unless fixed options are given), forecast
the models at or above it, and score accuracy MSE and MAE of the forecast and of three baselines:

* ``sigmoid``: the paper's baseline (logit of accuracy above chance, linear in log10 FLOPs);
* ``linear``: accuracy linear in log10 FLOPs (OLS on the training models);
* ``flat``: the mean accuracy of the three largest training models.

A slices table's difficulty groups were ranked once, on one set of reference models, so backtesting it
at other cuts lets models above the cut influence the groups: the note in the result says so.

>>> import numpy as np, pandas as pd
>>> x = np.linspace(20, 23, 30)
>>> acc = 0.25 + 0.5 / (1 + np.exp(-(x - 22.5) * 3))
>>> frame = pd.DataFrame({"model": [f"m{i}" for i in range(30)], "flops": 10 ** x, "accuracy": acc,
...                       "tc_brier": acc - 1, "group_1": acc - 0.8, "group_2": acc - 1.1})
>>> result = backtest(frame, [10 ** 22.2], chance=0.25)
>>> list(result.table["cut"].astype(str))[-1], int(result.table["n_test"].iloc[0])
('overall', 8)
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from slicesand.errors import UsageError
from slicesand.fitting import FitOptions, fit_slices
from slicesand.forecast import curves
from slicesand.selection import fit_auto

METHODS = ("forecast", "sigmoid", "linear", "flat")
STEP_DECADES = 0.25
MIN_TEST = 5
MIN_TRAIN = 10
NOTE_TABLE = ("backtested a slices table: its difficulty groups were ranked once, so at cuts other than the "
              "one it was sliced with, models above the cut took part in the ranking (optimistic)")


@dataclass
class Backtest:
    """One row per cut plus an ``overall`` row (mean over cuts), and notes."""

    table: pd.DataFrame
    notes: list[str]


def automatic_cuts(flops: np.ndarray, *, step: float = STEP_DECADES, min_test: int = MIN_TEST,
                   min_train: int = MIN_TRAIN) -> list[float]:
    """Cuts every ``step`` decades that leave >= ``min_train`` models below and >= ``min_test`` above."""
    x = np.sort(np.log10(np.asarray(flops, dtype=float)))
    start, stop = np.ceil(x.min() / step) * step, np.floor(x.max() / step) * step
    grid = np.arange(start, stop + step / 2, step)
    below = np.searchsorted(x, grid, side="left")
    ok = (below >= min_train) & (len(x) - below >= min_test)
    return [float(10.0 ** g) for g in grid[ok]]


def _scores(observed: np.ndarray, predictions: dict[str, np.ndarray]) -> dict[str, float]:
    out = {}
    for name, predicted in predictions.items():
        error = observed - predicted
        out[f"mse_{name}"] = float(np.mean(np.square(error)))
        out[f"mae_{name}"] = float(np.mean(np.abs(error)))
    return out


def backtest(frame: pd.DataFrame, cuts: list[float] | None = None, *, chance: float = 0.25,
             options: FitOptions | None = None) -> Backtest:
    """Backtest at each cut (automatic cuts when ``None``); ``options`` fixed, or automatic when ``None``."""
    data = frame[np.isfinite(pd.to_numeric(frame["accuracy"], errors="coerce"))].reset_index(drop=True)
    flops = data["flops"].to_numpy(dtype=float)
    x, observed = np.log10(flops), data["accuracy"].to_numpy(dtype=float)
    cuts = automatic_cuts(flops) if cuts is None else list(cuts)
    if not cuts:
        raise UsageError(None, f"no cut leaves at least {MIN_TRAIN} training and {MIN_TEST} test models",
                         hint="give --cuts")
    rows = []
    for cut in cuts:  # one fit per cut: a handful of cuts, each a small least-squares problem
        base = FitOptions(cut=cut, chance=chance)
        fit = fit_auto(data, base) if options is None else fit_slices(data, replace(options, cut=cut, chance=chance))
        train, test = flops < cut, flops >= cut
        forecast = curves(fit, x[test])
        line = np.polyfit(x[train], observed[train], 1)
        last3 = observed[train][np.argsort(flops[train], kind="stable")[-3:]].mean()
        rows.append({"cut": cut, "log10_cut": float(np.log10(cut)), "n_train": int(train.sum()),
                     "n_test": int(test.sum()),
                     "settings": f"{fit.options.variant} easy {fit.options.easy_degree} hard {fit.options.hard_degree}",
                     **_scores(observed[test], {"forecast": forecast["pred_accuracy"],
                                                "sigmoid": forecast["baseline_accuracy"],
                                                "linear": np.polyval(line, x[test]),
                                                "flat": np.full(int(test.sum()), last3)})})
    table = pd.DataFrame(rows)
    metric_columns = [c for c in table.columns if c.startswith(("mse_", "mae_"))]
    overall = {"cut": "overall", "log10_cut": np.nan, "n_train": np.nan, "n_test": int(table["n_test"].sum()),
               "settings": "", **table[metric_columns].mean().to_dict()}
    table = pd.concat([table.astype({"cut": object}), pd.DataFrame([overall])], ignore_index=True)
    return Backtest(table, [])
