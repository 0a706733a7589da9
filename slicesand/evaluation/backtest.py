"""Backtesting: pretend each cut is today, forecast the models above it, and score against baselines.

For each cut: fit on the models below it (the default rule unless fixed options are given), forecast
the models at or above it, and score accuracy MSE and MAE of the forecast, of the Slice-and-Sandwich
forecast alone (``sandwich``) and of every baseline (:mod:`slicesand.fitting.baselines`):

* ``sigmoid``: the paper's baseline (logit of accuracy above chance, linear in log10 FLOPs);
* ``bounded_sigmoid``: ``chance + (1 - chance) * sigmoid(a + b x)`` fitted in accuracy space;
* ``linear``: accuracy linear in log10 FLOPs (OLS on the training models), clipped;
* ``flat``: the mean accuracy of the three largest training models.

Each cut also reports the **coverage** of the forecast's 90% prediction interval (the share of test
models whose observed accuracy lies inside it; :mod:`slicesand.uncertainty.calibration`), its mean width over the
test models, and, where the observed
accuracy shows an emergence, the **threshold error** in decades of FLOPs (predicted minus observed; see
:func:`observed_threshold` for how the observed one is found).

A slices table's difficulty groups were ranked once, on one set of reference models, so backtesting it
at other cuts lets models above the cut influence the groups: the notes say so. A per-question dump
(:func:`backtest_dump`) is sliced again at every cut, ranking questions on that cut's training models
only, so nothing above the cut is seen.

>>> import numpy as np, pandas as pd
>>> x = np.linspace(20, 23, 30)
>>> acc = 0.25 + 0.5 / (1 + np.exp(-(x - 22.5) * 3))
>>> frame = pd.DataFrame({"model": [f"m{i}" for i in range(30)], "flops": 10 ** x, "accuracy": acc,
...                       "tc_brier": acc - 1, "group_1": acc - 0.8, "group_2": acc - 1.1})
>>> result = backtest(frame, [10 ** 22.2], chance=0.25, draws=100)
>>> list(result.table["scope"]), int(result.table["n_test"].iloc[0])
(['cut', 'overall'], 8)
>>> result.table["cut"].dtype, bool(result.table["cut"].isna().iloc[-1])
(dtype('float64'), True)
>>> round(float(result.table["threshold_observed_log10"].iloc[0]), 2)
22.38
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd

from slicesand.uncertainty.calibration import prediction_interval
from slicesand.errors import InputDataError, UsageError
from slicesand.fitting.model import FitOptions, fit_slices
from slicesand.forecast.predict import curves, emergence_threshold
from slicesand.fitting.selection import fit_default

# What each cut scores: the default (or fixed) forecast, the Slice-and-Sandwich forecast alone, and every
# baseline of slicesand.fitting.baselines (the paper's sigmoid clipped to [floor, 1] outside --paper).
METHODS = {"forecast": "pred_accuracy", "sandwich": "sandwich_accuracy", "sigmoid": "baseline_accuracy",
           "bounded_sigmoid": "bounded_sigmoid_accuracy", "linear": "linear_accuracy", "flat": "flat_accuracy"}
STEP_DECADES = 0.25
MIN_TEST = 5
MIN_TRAIN = 10
SMALL_TRAIN, SMALL_TEST = 6, 3
# An observed emergence needs the monotone accuracy curve to rise at least this much above its start.
MIN_RISE = 0.1
NOTE_TABLE = ("backtested a slices table: its difficulty groups were ranked once, so at cuts other than the "
              "one it was sliced with, models above the cut took part in the ranking (optimistic)")
NOTE_P_CORRECT = ("the dump has no 'correct' column: accuracy is the mean p_correct (as --accuracy-from "
                  "p_correct), the expected accuracy of one sampled answer")
NOTE_DUMP = "backtested a per-question dump: re-sliced at every cut on that cut's training models only"
NOTE_THRESHOLD = ("observed threshold: where the monotone (isotonic) fit of observed accuracy on log10 FLOPs "
                  f"first reaches half its rise (rise of at least {MIN_RISE}); error = predicted - observed, "
                  "in decades (the predicted threshold is the easy curve's turning point, which the paper "
                  "places before the rise, so negative errors are expected)")


@dataclass
class Backtest:
    """One row per cut (``scope`` ``cut``) plus an ``overall`` row (``scope`` ``overall``: the mean over
    cuts, ``cut`` blank), and notes; ``models`` has one row per test model and cut (observed accuracy,
    every method's forecast, the interval), for the pictures."""

    table: pd.DataFrame
    notes: list[str]
    models: pd.DataFrame | None = None


def automatic_cuts(flops: np.ndarray, *, step: float = STEP_DECADES, min_test: int = MIN_TEST,
                   min_train: int = MIN_TRAIN) -> list[float]:
    """Cuts every ``step`` decades that leave >= ``min_train`` models below and >= ``min_test`` above;
    with too few models for any such cut, the same with the small-zoo minimums (:data:`SMALL_TRAIN`,
    :data:`SMALL_TEST`), so a dump of a dozen models is still scored.

    >>> len(automatic_cuts(10.0 ** np.arange(20, 32, 1.0)))  # 12 models: only small-zoo cuts
    4
    """
    cuts = _cuts(flops, step, min_test, min_train)
    return cuts if cuts else _cuts(flops, step, min(min_test, SMALL_TEST), min(min_train, SMALL_TRAIN))


def _cuts(flops: np.ndarray, step: float, min_test: int, min_train: int) -> list[float]:
    x = np.sort(np.log10(np.asarray(flops, dtype=float)))
    start, stop = np.ceil(x.min() / step) * step, np.floor(x.max() / step) * step
    grid = np.arange(start, stop + step / 2, step)
    below = np.searchsorted(x, grid, side="left")
    ok = (below >= min_train) & (len(x) - below >= min_test)
    # Two cuts with no model between them split the models the same way: keep the first of each split.
    new_split = np.r_[True, below[1:] != below[:-1]]
    return [float(10.0 ** g) for g in grid[ok & new_split]]


def observed_threshold(log10_flops: np.ndarray, accuracy: np.ndarray, *, min_rise: float = MIN_RISE) -> float | None:
    """Where observed accuracy emerges: the smallest log10 FLOPs at which the isotonic (non-decreasing)
    fit of accuracy reaches its start plus half its rise; ``None`` when it rises less than ``min_rise``.

    The isotonic fit pools noisy neighbours instead of trusting the first lucky model; its first and last
    values are the start and the eventual level.

    >>> x = np.arange(10.0)
    >>> observed_threshold(x, np.array([.25, .26, .24, .25, .3, .5, .6, .7, .7, .72]))
    5.0
    >>> observed_threshold(x, np.full(10, 0.25)) is None
    True
    """
    order = np.argsort(log10_flops, kind="stable")
    x = np.asarray(log10_flops, dtype=float)[order]
    from scipy.optimize import isotonic_regression

    fitted = isotonic_regression(np.asarray(accuracy, dtype=float)[order], increasing=True).x
    rise = fitted[-1] - fitted[0]
    if not rise >= min_rise:
        return None
    return float(x[np.argmax(fitted >= fitted[0] + rise / 2.0)])


def _scores(observed: np.ndarray, predictions: dict[str, np.ndarray]) -> dict[str, float]:
    out = {}
    for name, predicted in predictions.items():
        error = observed - predicted
        out[f"mse_{name}"] = float(np.mean(np.square(error)))
        out[f"mae_{name}"] = float(np.mean(np.abs(error)))
    return out


def backtest_cut(frame: pd.DataFrame, cut: float, *, chance: float, options: FitOptions | None,
                 draws: int, seed: int, observed_log10: float | None) -> dict:
    """One cut's row: fit below it, forecast and score at or above it, interval coverage, threshold error."""
    data = frame[np.isfinite(pd.to_numeric(frame["accuracy"], errors="coerce"))].reset_index(drop=True)
    flops = data["flops"].to_numpy(dtype=float)
    x, observed = np.log10(flops), data["accuracy"].to_numpy(dtype=float)
    base = FitOptions(cut=cut, chance=chance)
    fit = fit_default(data, base) if options is None else fit_slices(data, replace(options, cut=cut, chance=chance))
    train, test = flops < cut, flops >= cut
    forecast = curves(fit, x[test])
    coverage = width = np.nan
    if draws > 0:
        band = prediction_interval(fit, data, x[test], draws=draws, seed=seed)
        coverage = float(np.mean((observed[test] >= band.lo) & (observed[test] <= band.hi)))
        width = float(np.mean(band.hi - band.lo))
    predicted = emergence_threshold(fit, fit.training_x_range[0], float(x.max()))
    blend = "" if fit.options.blend == "sandwich" else f" {fit.options.blend} {fit.options.trend}"
    models = pd.DataFrame({"cut": cut, "model": data["model"].to_numpy()[test], "log10_flops": x[test],
                           "distance_decades": x[test] - np.log10(cut), "observed": observed[test],
                           **{name: forecast[column] for name, column in METHODS.items()},
                           "lo_90": band.lo if draws > 0 else np.nan, "hi_90": band.hi if draws > 0 else np.nan})
    return {"models": models, "cut": cut, "log10_cut": float(np.log10(cut)), "n_train": int(train.sum()), "n_test": int(test.sum()),
            "settings": f"{fit.options.variant} easy {fit.options.easy_degree} hard {fit.options.hard_degree}{blend}",
            **_scores(observed[test], {name: forecast[column] for name, column in METHODS.items()}),
            "coverage_90": coverage, "width_90": width,
            "threshold_predicted_log10": np.nan if predicted is None else predicted,
            "threshold_observed_log10": np.nan if observed_log10 is None else observed_log10,
            "threshold_error_decades": (np.nan if predicted is None or observed_log10 is None
                                        else predicted - observed_log10)}


def _finish(rows: list[dict], notes: list[str]) -> Backtest:
    models = pd.concat([row.pop("models") for row in rows], ignore_index=True)
    table = pd.DataFrame(rows)
    metric_columns = [c for c in table.columns if c.startswith(("mse_", "mae_")) or c in ("coverage_90", "width_90")]
    # The overall row is told by its scope, not by a word in the numeric cut column: cut stays a number
    # (blank there) for every reader of the CSV, JSON and the table.
    overall = {"scope": "overall", "cut": np.nan, "log10_cut": np.nan, "n_train": np.nan, "n_test": int(table["n_test"].sum()),
               "settings": "", **table[metric_columns].mean().to_dict(),
               # The mean absolute error over the cuts that have both thresholds.
               "threshold_error_decades": float(np.abs(table["threshold_error_decades"]).mean())
               if table["threshold_error_decades"].notna().any() else np.nan}
    table.insert(0, "scope", "cut")
    table = pd.concat([table, pd.DataFrame([overall])], ignore_index=True)
    table["n_train"] = table["n_train"].astype("Int64")  # a count, blank on the overall row
    return Backtest(table, notes + [NOTE_THRESHOLD], models)


def _usable(frame: pd.DataFrame) -> pd.DataFrame:
    usable = frame[np.isfinite(pd.to_numeric(frame.get("accuracy", pd.Series(np.nan, index=frame.index)),
                                             errors="coerce"))].reset_index(drop=True)
    if usable.empty:
        raise InputDataError(None, "no model has an accuracy to score the forecasts against",
                             column="accuracy",
                             hint="for a dump with p_correct only, pass `accuracy_from` p_correct "
                                  "(accuracy = mean p_correct)")
    return usable


def backtest(frame: pd.DataFrame, cuts: list[float] | None = None, *, chance: float = 0.25,
             options: FitOptions | None = None, draws: int = 1000, seed: int = 0) -> Backtest:
    """Backtest a slices table at each cut (automatic cuts when ``None``); ``options`` fixed, or automatic
    when ``None``; ``draws`` bootstrap draws per cut for the coverage (0: none)."""
    data = _usable(frame)
    flops = data["flops"].to_numpy(dtype=float)
    cuts = automatic_cuts(flops) if cuts is None else list(cuts)
    if not cuts:
        raise UsageError(None, f"no cut leaves at least {MIN_TRAIN} training and {MIN_TEST} test models",
                         hint="give `cuts`")
    threshold = observed_threshold(np.log10(flops), data["accuracy"].to_numpy(dtype=float))
    rows = [backtest_cut(data, cut, chance=chance, options=options, draws=draws, seed=seed, observed_log10=threshold)
            for cut in cuts]  # one fit per cut: a handful of cuts, each a small least-squares problem
    return _finish(rows, [NOTE_TABLE])


def backtest_dump(dump_path: str | Path, cuts: list[float] | None = None, *, groups: int = 3,
                  chance: float = 0.25, options: FitOptions | None = None, dump_options=None,
                  draws: int = 1000, seed: int = 0, stdin: BinaryIO | None = None,
                  accuracy_from: str = "correct") -> Backtest:
    """Backtest a per-question dump: at each cut, rank the questions on the models below it, slice, fit
    and forecast (:func:`slicesand.pipeline.stages.slice_stage` with ``SliceOptions(cut=cut)``), so the
    difficulty groups never see a test model. The dump is read once."""
    from slicesand.pipeline.stages import DumpOptions, load_stage_dump, slice_stage  # pipeline builds on fitting
    from slicesand.slicing.difficulty import SliceOptions

    dump_options = dump_options or DumpOptions()
    loaded = load_stage_dump(dump_path, dump_options, stdin=stdin)
    notes: list[str] = []
    dump = loaded[0]
    if accuracy_from == "correct" and dump.correct is None and dump.has_p_correct:
        # Nothing to score against otherwise: a p_correct-only dump (sampled pass@1) is scored on its
        # expected accuracy, and the notes say so.
        accuracy_from = "p_correct"
        notes.append(NOTE_P_CORRECT)
    if cuts is None:  # cuts from the models' scales and accuracies: slice once without a cut to learn them
        whole = _usable(slice_stage(dump_path, SliceOptions(cut=None, groups=groups, accuracy_from=accuracy_from), dump_options,
                                    loaded=loaded).result.slices)
        cuts = automatic_cuts(whole["flops"].to_numpy(dtype=float))
        if not cuts:
            raise UsageError(None, f"no cut leaves at least {MIN_TRAIN} training and {MIN_TEST} test models",
                             hint="give `cuts`")
    rows = []
    for cut in cuts:  # one slicing and one fit per cut
        stage = slice_stage(dump_path, SliceOptions(cut=cut, groups=groups, accuracy_from=accuracy_from), dump_options,
                            loaded=loaded)
        data = _usable(stage.result.slices)
        threshold = observed_threshold(np.log10(data["flops"].to_numpy(dtype=float)),
                                       data["accuracy"].to_numpy(dtype=float))
        rows.append(backtest_cut(data, cut, chance=chance, options=options, draws=draws, seed=seed,
                                 observed_log10=threshold))
        notes.extend(w for w in stage.result.warnings if w not in notes)
    return _finish(rows, [NOTE_DUMP] + notes)
