"""The *predict* stage (the sandwich): evaluate a fit at any scale and find the emergence threshold.

Predicted TC Brier is the mean of the easy and hard curves (or the lifted hard curve for the
``hard-lift`` variant); it is mapped back to accuracy through the fitted line and shifted so that its
mean over the training models matches theirs. The predicted emergence threshold is the last local
minimum of the easy curve: where easy questions turn from inverse to standard scaling.

>>> import numpy as np, pandas as pd
>>> from slicesand.fitting.model import FitOptions, fit_slices
>>> x = np.linspace(20, 23, 12)
>>> frame = pd.DataFrame({"model": [f"m{i}" for i in range(12)], "flops": 10 ** x,
...                       "accuracy": 0.3 + 0.01 * x, "tc_brier": -0.9 + 0.02 * x,
...                       "group_1": (x - 21.5) ** 2 / 10 - 0.5, "group_2": -0.8 + 0 * x})
>>> fit = fit_slices(frame, FitOptions(easy_degree=2, hard_degree=1))
>>> round(emergence_threshold(fit, 20, 23), 6)
21.5
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from slicesand.diagnostics import Diagnostic, diagnostic
from slicesand.errors import ArtifactError, UsageError
from slicesand.fitting.baselines import expit, trend_forecast
from slicesand.fitting.model import Fit, accuracy_from_tc, combine_tc, group_columns_in, incomplete_mask, training_mask
from slicesand.fitting.guards import blend_accuracy, clip_accuracy, clip_tc, extend, guard_accuracy

PREDICTION_COLUMNS = ["model", "flops", "split", "pred_easy", "pred_hard", "pred_tc_brier",
                      "pred_accuracy", "baseline_accuracy", "observed_accuracy"]
# Beside the default forecast: the Slice-and-Sandwich forecast alone (always shown, even when the
# default leans on a trend) and every baseline of slicesand.fitting.baselines.
EXTRA_COLUMNS = ["sandwich_accuracy", "bounded_sigmoid_accuracy", "linear_accuracy", "flat_accuracy"]


@dataclass
class Forecast:
    """A predictions table plus the threshold and, when test models have accuracy, the test MSEs."""

    table: pd.DataFrame
    threshold_log10_flops: float | None
    threshold_range: tuple[float, float]
    mse: dict[str, float] | None
    n_test_scored: int
    warnings: list[Diagnostic] = field(default_factory=list)
    # Bootstrap summary (slicesand.uncertainty.intervals.add_intervals); None when no bootstrap was run.
    intervals: dict | None = None
    # The easy curve's last turning point, whether or not it is supported as an emergence threshold
    # (``threshold_log10_flops`` is None when it is not; see threshold_support).
    turning_point_log10_flops: float | None = None
    emergence_signal: bool = False
    # ``threshold_range`` in FLOPs, as the summary states it: an end that is a model's (or an --at) scale
    # is that scale exactly, not 10 ** log10 of it with float noise (see search_range_flops).
    threshold_range_flops: tuple[float, float] | None = None

    @property
    def threshold_flops(self) -> float | None:
        return None if self.threshold_log10_flops is None else float(10.0 ** self.threshold_log10_flops)


def curves(fit: Fit, log10_flops: np.ndarray) -> dict[str, np.ndarray]:
    """All forecast curves at ``log10_flops``: easy, hard, TC Brier, the accuracy forecast, the paper's
    sigmoid baseline (``baseline_accuracy``), the Slice-and-Sandwich accuracy alone and every other
    baseline (:data:`EXTRA_COLUMNS`). With ``options.clip`` (everything but ``--paper``) every accuracy
    lies in [floor, 1]."""
    x = np.asarray(log10_flops, dtype=float)
    options = fit.options
    # Guards (slicesand.fitting.guards): continue group curves beyond the training range as asked, and clip.
    easy = extend(fit.easy, x, fit.training_x_range, options.extrapolation)
    hard = extend(fit.hard, x, fit.training_x_range, options.extrapolation)
    if options.clip:
        easy, hard = clip_tc(easy), clip_tc(hard)
    tc = combine_tc(easy, hard, fit.tc_lift, options.variant)
    nan = np.full(x.shape, np.nan)
    if not fit.has_accuracy:
        tc = clip_tc(tc) if options.clip else tc
        return {"pred_easy": easy, "pred_hard": hard, "pred_tc_brier": tc, "pred_accuracy": nan,
                "baseline_accuracy": nan, **{c: nan for c in EXTRA_COLUMNS}}
    floor = fit.accuracy_floor if fit.accuracy_floor is not None else options.chance
    baseline = expit(fit.baseline(x)) + options.chance
    raw = accuracy_from_tc(fit.tc_to_accuracy, tc) + fit.accuracy_shift
    sandwich = clip_accuracy(raw, floor) if options.clip else raw
    # Clipping, and the legacy paper-sigmoid floor (guards.guard_accuracy), before the blend.
    floored = guard_accuracy(raw, baseline, options, fit.accuracy_floor)
    trends = {name: fit.baselines[name].predict(x) if name in fit.baselines else nan
              for name in ("bounded_sigmoid", "linear", "flat")}
    trend = trend_forecast(fit.baselines, options.trend, x)
    accuracy = blend_accuracy(floored, trend, options)
    if options.clip:
        accuracy, baseline = clip_accuracy(accuracy, floor), clip_accuracy(baseline, floor)
    if options.clip:  # the hard-lift's lift can push the combined curve past 0
        tc = clip_tc(tc)
    return {"pred_easy": easy, "pred_hard": hard, "pred_tc_brier": tc, "pred_accuracy": accuracy,
            "baseline_accuracy": baseline, "sandwich_accuracy": sandwich,
            **{f"{name}_accuracy": values for name, values in trends.items()}}


MAX_CURVATURE_P = 0.5
MIN_THRESHOLD_SHARE = 0.5


def threshold_support(fit: Fit, threshold: float | None, share: float | None = None) -> str | None:
    """Why the easy curve's turning point is *not* an emergence signal, or ``None`` when it is one.

    It is a signal only when it exists, lies inside the training range at least one mean model step
    from either edge, the easy curve's bends are more than noise (the F-test of the easy polynomial
    against a line, :attr:`Fit.easy_curvature_p`, below :data:`MAX_CURVATURE_P`: on the paper's six
    tasks at their cuts it is at most 0.36, on pure-noise dumps 0.5-0.8), and, when bootstrap draws
    were made, at least :data:`MIN_THRESHOLD_SHARE` of them have a turning point too.
    """
    if threshold is None:
        return "the easy curve has no turning point in range"
    low, high = fit.training_x_range
    step = (high - low) / max(len(fit.training_models) - 1, 1)
    if not low + step <= threshold <= high - step:
        return (f"the easy curve's turning point (10^{threshold:.2f} FLOPs) sits at the edge of the training models "
                f"(10^{low:.2f} to 10^{high:.2f})")
    if fit.easy_curvature_p is not None and fit.easy_curvature_p >= MAX_CURVATURE_P:
        return (f"the easy curve bends no more than noise would (F-test against a line: p = {fit.easy_curvature_p:.2f})")
    if share is not None and share < MIN_THRESHOLD_SHARE:
        return f"only {share:.0%} of bootstrap draws have a turning point"
    return None


def no_signal(forecast: "Forecast", fit: Fit, reason: str) -> None:
    """Record that the turning point is no emergence signal: outside ``--paper`` no threshold is reported."""
    forecast.emergence_signal = False
    if fit.options.clip:
        forecast.threshold_log10_flops = None
    code = "no-turning-point" if forecast.turning_point_log10_flops is None else "no-emergence-signal"
    message = f"no emergence signal: {reason}" + ("" if fit.options.clip else " (--paper reports it anyway)")
    if fit.options.blend == "envelope":
        # Say so rather than hide it: the default rule's gate is the turning point alone (gating on this
        # test too scored worse leave-one-task-out), so the forecast may still rest on the curves.
        message += ("; the forecast is still the larger of Slice-and-Sandwich and the trend, "
                    "as the default rule does whenever the easy curve turns inside the training range")
    forecast.warnings = [w for w in forecast.warnings if w.code not in ("no-turning-point", "no-emergence-signal")]
    forecast.warnings.append(diagnostic(code, message))


def threshold_search_range(fit: Fit, low: float, high: float) -> tuple[float, float]:
    """Where :func:`emergence_threshold` looks for the turning point within [low, high] (log10 FLOPs):
    beyond the training range the guarded curve is a line (or flat), so there is no turning point there."""
    if fit.options.extrapolation != "polynomial":
        high = min(high, fit.training_x_range[1])
    return low, high


def search_range_flops(ends: tuple[float, float], flops: np.ndarray) -> tuple[float, float]:
    """Each end of a search range (log10 FLOPs) in FLOPs: the scale in ``flops`` it is the log10 of,
    exactly; an end that is no such scale (a training model not in the table) to 12 significant digits,
    so its shortest repr holds no float noise.

    >>> search_range_flops((float(np.log10(1.008e19)), 24.3), np.array([1.008e19, 5e23]))
    (1.008e+19, 1.99526231497e+24)
    >>> 10.0 ** float(np.log10(1.008e19))  # what the summary showed before
    1.0080000000000014e+19
    """
    flops = np.asarray(flops, dtype=float)
    x = np.log10(flops)
    out = []
    for end in ends:  # two ends
        hit = flops[x == end]
        out.append(float(hit[0]) if hit.size else float(f"{10.0 ** end:.12g}"))
    return out[0], out[1]


def emergence_threshold(fit: Fit, low: float, high: float) -> float | None:
    """The last local minimum of the easy curve in [low, high] (log10 FLOPs), or ``None``."""
    poly = fit.easy.polynomial
    low, high = threshold_search_range(fit, low, high)
    if poly.degree() < 2:
        return None
    slope, curvature = poly.deriv(1), poly.deriv(2)
    roots = slope.roots()
    scale = max(1.0, float(np.max(np.abs(roots)))) if roots.size else 1.0
    real = np.real(roots[np.abs(np.imag(roots)) <= 1e-9 * scale])
    minima = real[(curvature(real) > 0) & (real >= low) & (real <= high)]
    return float(minima.max()) if minima.size else None


def out_of_range_warnings(fit: Fit, table: pd.DataFrame) -> list[Diagnostic]:
    """Without clipping (``--paper``), say where a forecast leaves its valid range: TC Brier outside
    [-1, 0], accuracy outside [0, 1]. The paper's numbers are reproduced as they are; this says so."""
    if fit.options.clip:
        return []
    warnings = []
    for column, (low, high), what in (("pred_tc_brier", (-1.0, 0.0), "TC Brier"),
                                      ("pred_accuracy", (0.0, 1.0), "accuracy"),
                                      ("baseline_accuracy", (0.0, 1.0), "the sigmoid baseline's accuracy")):
        values = table[column].to_numpy(dtype=float)
        outside = np.isfinite(values) & ((values < low) | (values > high))
        if outside.any():
            warnings.append(diagnostic(
                "out-of-range", f"unclipped (--paper): {what} is outside [{low:g}, {high:g}] at "
                f"{int(outside.sum())} scale(s), from {np.nanmin(values):.3g} to {np.nanmax(values):.3g}; "
                "without --paper forecasts are clipped to their valid range"))
    return warnings


MAX_GRID_POINTS = 10_000


def parse_grid(text: str) -> np.ndarray:
    """``START:STOP:N`` in FLOPs, spaced evenly in log10; e.g. ``1e21:1e25:5``."""
    try:
        start, stop, count = text.split(":")
        start_f, stop_f, n = float(start), float(stop), int(count)
    except ValueError:
        raise UsageError(None, "`grid` must be START:STOP:N in FLOPs", found=text,
                         hint="for example `grid` 1e21:1e25:9") from None
    if not (start_f > 0 and stop_f > start_f and n >= 2):
        raise UsageError(None, "`grid` needs 0 < START < STOP and N >= 2", found=text)
    if n > MAX_GRID_POINTS:  # every point is a row of predictions.csv and of each bootstrap draw
        raise UsageError(None, f"`grid` asks for {n} points; at most {MAX_GRID_POINTS:,} are forecast", found=text,
                         hint="a curve needs a few hundred points at most")
    return np.logspace(np.log10(start_f), np.log10(stop_f), n)


def check_compatible(fit: Fit, slices: pd.DataFrame, source: str | None) -> None:
    """A fit applies to a slices table only if both have the same number of difficulty groups."""
    groups = group_columns_in(slices)
    if len(groups) != fit.n_groups:
        raise ArtifactError(source, f"the fit was made on {fit.n_groups} difficulty groups but this "
                            f"slices table has {len(groups)}",
                            hint=f"slice again with `groups` {fit.n_groups}, or refit on this table")


def predict(
    fit: Fit,
    slices: pd.DataFrame | None = None,
    *,
    at: list[float] | np.ndarray | None = None,
    grid: np.ndarray | None = None,
    source: str | None = None,
) -> Forecast:
    """Evaluate the fit at every model of ``slices``, at ``at`` (FLOPs) and on ``grid`` (FLOPs)."""
    parts = []
    if slices is not None:
        check_compatible(fit, slices, source)
        flops = slices["flops"].to_numpy(dtype=float)
        observed = (slices["accuracy"].to_numpy(dtype=float) if "accuracy" in slices.columns
                    else np.full(len(slices), np.nan))
        parts.append(pd.DataFrame({
            "model": slices["model"].astype(str).to_numpy(),
            "flops": flops,
            # A model the fit left out (a missing group score) is forecast but never scored.
            "split": np.where(incomplete_mask(slices, fit.easy_column, fit.hard_column), "excluded",
                              np.where(training_mask(flops, fit.options.cut), "train", "test")),
            "observed_accuracy": observed,
        }))
    extra = np.concatenate([np.asarray(at if at is not None else [], dtype=float),
                            np.asarray(grid if grid is not None else [], dtype=float)])
    if extra.size:
        if not (np.isfinite(extra) & (extra > 0)).all():
            raise UsageError(None, "`at` values must be positive numbers of FLOPs",
                             found=extra[~(np.isfinite(extra) & (extra > 0))][0])
        parts.append(pd.DataFrame({"model": "", "flops": extra, "split": "none",
                                   "observed_accuracy": np.nan}))
    if not parts:
        raise UsageError(None, "nothing to predict", hint="give a slices table, `at` FLOPS or `grid` START:STOP:N")
    table = pd.concat(parts, ignore_index=True)
    for column, values in curves(fit, np.log10(table["flops"].to_numpy(dtype=float))).items():
        table[column] = values
    table = table[PREDICTION_COLUMNS + EXTRA_COLUMNS]
    if fit.task:
        table.insert(0, "task", fit.task)

    x_all = np.log10(table["flops"].to_numpy(dtype=float))
    # The range searched, as the threshold search itself bounds it (what the report and JSON then state).
    low, high = threshold_search_range(fit, fit.training_x_range[0], max(float(x_all.max()), fit.training_x_range[1]))
    threshold = emergence_threshold(fit, low, high)

    scored = (table["split"] == "test").to_numpy() & np.isfinite(table["observed_accuracy"].to_numpy())
    mse = None
    if scored.any() and fit.has_accuracy:
        observed = table.loc[scored, "observed_accuracy"].to_numpy()
        mse = {
            "forecast": float(np.mean(np.square(observed - table.loc[scored, "pred_accuracy"].to_numpy()))),
            "baseline": float(np.mean(np.square(observed - table.loc[scored, "baseline_accuracy"].to_numpy()))),
        }
    forecast = Forecast(table, threshold, (low, high), mse, int(scored.sum()), out_of_range_warnings(fit, table),
                        turning_point_log10_flops=threshold, emergence_signal=True,
                        threshold_range_flops=search_range_flops((low, high), table["flops"].to_numpy(dtype=float)))
    reason = threshold_support(fit, threshold)
    if threshold is None:
        reason = (f"the easy curve has no turning point (local minimum) between {10 ** low:.3g} and "
                  f"{10 ** high:.3g} FLOPs")
    if reason is not None:
        no_signal(forecast, fit, reason)
    return forecast
