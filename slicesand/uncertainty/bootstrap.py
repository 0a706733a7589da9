"""Bootstrap intervals: resample the training models (and, with a per-question dump, the questions),
refit everything, forecast again.

These percentile intervals measure *fit noise* only: how much the forecast moves when the training data
are drawn again. They say nothing about how wrong the curves are beyond the training range, so on their
own they are not prediction intervals (on the paper's tables they covered 58% of test models).
:mod:`slicesand.uncertainty.calibration` widens them into calibrated 90% prediction intervals.

A draw that resamples models with replacement is the same as a weighted least-squares fit whose
weights are how often each model was drawn. So every draw's easy and hard polynomials, TC Brier line and
accuracy shift come from weighted normal equations solved for all draws at once (one ``einsum`` and one
batched ``solve``): no Python loop over draws. 1000 draws on ~40 models take a few milliseconds.

With ``questions`` (a :class:`slicesand.uncertainty.resampling.QuestionMatrix`), each draw also resamples
the questions: the easy/hard group means, TC Brier and accuracy of every training model are recomputed
for that draw's question multiplicities (re-ranking and regrouping the questions;
:func:`slicesand.uncertainty.resampling.question_draws`), so the responses of the weighted fits differ per
draw too. The algebra is the same, with a (draws, models) response matrix instead of one vector.

:func:`draw_bootstrap` draws and refits once; :meth:`BootstrapDraws.at` evaluates the draws at any
scales (a run evaluates one set of draws at its predictions and on its figure's grid, so the question
resampling, the costly part, runs once); :func:`bootstrap` is the two in one.

The guards of the fit (extrapolation, clipping) are applied per draw, with each draw's own training
range. The threshold of each draw is the last local minimum of its easy curve, found on a fine grid.

>>> import numpy as np, pandas as pd
>>> from slicesand.fitting.model import FitOptions, fit_slices
>>> x = np.linspace(20, 23, 20)
>>> frame = pd.DataFrame({"model": [f"m{i}" for i in range(20)], "flops": 10 ** x,
...                       "accuracy": 0.3 + 0.05 * (x - 20), "tc_brier": -0.7 + 0.05 * (x - 20),
...                       "group_1": (x - 21.5) ** 2 / 10 - 0.5, "group_2": -0.8 + 0.01 * x})
>>> fit = fit_slices(frame, FitOptions(easy_degree=2, hard_degree=1))
>>> a = bootstrap(fit, frame, np.array([22.0, 24.0]), draws=200, seed=0)
>>> b = bootstrap(fit, frame, np.array([22.0, 24.0]), draws=200, seed=0)
>>> bool(np.array_equal(a.accuracy_lo, b.accuracy_lo)), a.accuracy_lo.shape
(True, (2,))
>>> drawn = draw_bootstrap(fit, frame, draws=200, seed=0)  # the same draws, evaluated anywhere
>>> c = drawn.at(np.array([22.0, 24.0]))
>>> bool(np.array_equal(a.accuracy_hi, c.accuracy_hi)), a.summary() == c.summary()
(True, True)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from slicesand.fitting.model import Fit, combine_tc, training_mask
from slicesand.fitting.guards import clip_tc, guard_accuracy

LEVEL = 0.90
THRESHOLD_GRID = 400


@dataclass(frozen=True)
class BootstrapResult:
    """Percentile intervals (``level``, e.g. 90%) at the requested points and for the threshold."""

    draws: int
    seed: int
    level: float
    accuracy_lo: np.ndarray
    accuracy_hi: np.ndarray
    threshold_lo: float | None  # log10 FLOPs
    threshold_hi: float | None
    threshold_share: float  # share of draws whose easy curve has a turning point in range
    resampled: str = "models"  # what each draw resamples: "models" or "models and questions"

    def summary(self) -> dict:
        return {"draws": self.draws, "seed": self.seed, "level": self.level, "resampled": self.resampled,
                "threshold_log10_flops_interval": [self.threshold_lo, self.threshold_hi],
                "threshold_flops_interval": [None if v is None else 10.0 ** v
                                             for v in (self.threshold_lo, self.threshold_hi)],
                "share_of_draws_with_threshold": self.threshold_share}


def _weighted_polyfit(t: np.ndarray, y: np.ndarray, w: np.ndarray, degree: int) -> np.ndarray:
    """Coefficients (draws, degree + 1) of the weighted least-squares polynomial in ``t`` for each row
    of weights ``w`` (draws, n) and responses ``y`` (draws, n). A tiny ridge keeps draws with few distinct
    models solvable."""
    vander = np.vander(t, degree + 1, increasing=True)  # (n, d + 1)
    gram = np.einsum("bn,ni,nj->bij", w, vander, vander)
    rhs = np.einsum("bn,ni,bn->bi", w, vander, y)
    ridge = 1e-10 * np.trace(gram, axis1=1, axis2=2)[:, None, None] * np.eye(degree + 1)
    return np.linalg.solve(gram + ridge, rhs[..., None])[..., 0]


def _evaluate(coef: np.ndarray, t: np.ndarray, powers: np.ndarray | None = None) -> np.ndarray:
    """Polynomials (draws, d + 1) at points ``t`` (draws, m) or (m,) -> (draws, m); ``powers`` are those
    of ``t`` already computed (:func:`_edge_powers`; at least d + 1 of them)."""
    powers = np.asarray(t)[..., None] ** np.arange(coef.shape[1]) if powers is None else powers[..., :coef.shape[1]]
    return np.einsum("...mi,bi->bm", powers, coef) if powers.ndim == 2 else np.einsum("bmi,bi->bm", powers, coef)


def _edge_powers(edge: np.ndarray, t: np.ndarray, low: np.ndarray, high: np.ndarray, k: int) -> np.ndarray:
    """``edge[..., None] ** arange(k)`` for ``edge = clip(t, low, high)`` per draw, raising only the
    m + 2 x draws values it takes (``pow`` is most of the cost on (draws, m, k) elements): the same numbers."""
    exponents = np.arange(k)
    inside, below, above = t[:, None] ** exponents, low[:, None] ** exponents, high[:, None] ** exponents
    return np.where((edge == low[:, None])[..., None], below[:, None, :],
                    np.where((edge == high[:, None])[..., None], above[:, None, :], inside[None, :, :]))


def _derivative(coef: np.ndarray) -> np.ndarray:
    return coef[:, 1:] * np.arange(1, coef.shape[1]) if coef.shape[1] > 1 else np.zeros_like(coef)


def extend_per_draw(coef: np.ndarray, t: np.ndarray, low: np.ndarray, high: np.ndarray, mode: str) -> np.ndarray:
    """Per-draw curves at ``t`` (m,), continued beyond each draw's [low, high] as ``mode`` says.

    The batched twin of :func:`slicesand.fitting.guards.extend` (one polynomial per draw): pinned to it
    by ``tests/uncertainty/test_twins.py``."""
    if mode == "polynomial":
        return _evaluate(coef, t)
    t = np.asarray(t, dtype=float)
    edge = np.clip(t[None, :], low[:, None], high[:, None])
    powers = _edge_powers(edge, t, np.asarray(low, dtype=float), np.asarray(high, dtype=float), coef.shape[1])
    values = _evaluate(coef, edge, powers)
    if mode == "linear":
        values = values + _evaluate(_derivative(coef), edge, powers) * (t[None, :] - edge)
    return values


def fit_polynomial_average_per_draw(t: np.ndarray, y: np.ndarray, w: np.ndarray, degree: int, average: bool) -> np.ndarray:
    """Per-draw hard polynomial (draws, degree + 1); with ``average``, the mean of degrees 1 .. degree.

    The batched twin of :func:`slicesand.fitting.model.fit_polynomial_average` (in the centred variable
    ``t``): with unit weights the two agree, which ``tests/uncertainty/test_twins.py`` pins."""
    if not average or degree <= 1:
        return _weighted_polyfit(t, y, w, degree)
    fits = [np.pad(_weighted_polyfit(t, y, w, d), ((0, 0), (0, degree - d))) for d in range(1, degree + 1)]
    return np.mean(fits, axis=0)


def resample_weights(n: int, draws: int, seed: int) -> np.ndarray:
    """How often each of ``n`` models is drawn, per draw: (draws, n) multinomial counts."""
    rng = np.random.default_rng(seed)
    return rng.multinomial(n, np.full(n, 1.0 / n), size=draws).astype(float)


def bootstrap(fit: Fit, frame: pd.DataFrame, log10_flops: np.ndarray, *, draws: int = 1000, seed: int = 0,
              level: float = LEVEL, questions=None) -> BootstrapResult:
    """Percentile intervals for predicted accuracy at ``log10_flops`` and for the emergence threshold.

    ``questions`` (:class:`slicesand.uncertainty.resampling.QuestionMatrix`, optional) makes every draw
    resample the questions as well as the models; the model draws are the same with or without it.
    The same as ``draw_bootstrap(...).at(log10_flops)``.
    """
    return draw_bootstrap(fit, frame, draws=draws, seed=seed, level=level, questions=questions).at(log10_flops)


@dataclass(frozen=True, eq=False)
class BootstrapDraws:
    """Every draw's refit (its weights, responses, easy and hard polynomials, TC Brier line, shift and
    baseline line), made once by :func:`draw_bootstrap` and evaluated at any scales by :meth:`at`: a run's
    predictions and its figure's interval band come from the same draws, drawn (and their questions
    resampled) once. Nothing in it depends on where it is evaluated."""

    fit: Fit
    draws: int
    seed: int
    level: float
    resampled: str
    centre: float  # the fits' variable is t = (log10 FLOPs - centre) / half
    half: float
    t: np.ndarray  # (n,) training models
    easy: np.ndarray  # (draws, easy degree + 1)
    accuracy_line: "_AccuracyLine"
    baseline_line: tuple[np.ndarray, np.ndarray, np.ndarray] | None  # per-draw (mean x, mean logit, slope)

    def at(self, log10_flops: np.ndarray) -> BootstrapResult:
        """Percentile intervals for predicted accuracy at ``log10_flops`` and for the emergence threshold
        (searched up to the largest of them with polynomial extrapolation, as the point forecast does)."""
        fit, options, t = self.fit, self.fit.options, self.t
        log10_flops = np.asarray(log10_flops, dtype=float)
        points = (log10_flops - self.centre) / self.half
        accuracy = _accuracy_at(fit, self.easy, self.accuracy_line, points)
        baseline = _baseline_at(self.baseline_line, options.chance, log10_flops) if options.baseline_floor else None
        accuracy = guard_accuracy(accuracy, baseline, options, fit.accuracy_floor)
        tail = (1.0 - self.level) / 2.0
        lo, hi = np.nanquantile(accuracy, [tail, 1.0 - tail], axis=0)

        thresholds = _thresholds(self.easy, t.min(), max(t.max(), float(points.max()) if points.size else t.max())
                                 if options.extrapolation == "polynomial" else t.max())
        found = np.isfinite(thresholds)
        t_lo = t_hi = None
        if found.mean() > 0:
            t_lo, t_hi = (float(v * self.half + self.centre) for v in np.quantile(thresholds[found], [tail, 1.0 - tail]))
        return BootstrapResult(self.draws, self.seed, self.level, lo, hi, t_lo, t_hi, float(found.mean()),
                               self.resampled)


def draw_bootstrap(fit: Fit, frame: pd.DataFrame, *, draws: int = 1000, seed: int = 0, level: float = LEVEL,
                   questions=None, threads: int | None = None) -> BootstrapDraws:
    """Draw and refit: ``draws`` resamples of the training models of ``frame`` (and, with ``questions``,
    of the questions), each refitted; evaluate them with :meth:`BootstrapDraws.at` (the module's example
    shows that this is :func:`bootstrap`). BLAS runs on one thread meanwhile
    (:func:`slicesand.blas.one_blas_thread`): the same bits on any machine."""
    from slicesand.blas import one_blas_thread

    with one_blas_thread():
        return _draw_bootstrap(fit, frame, draws, seed, level, questions, threads)


def _draw_bootstrap(fit: Fit, frame: pd.DataFrame, draws: int, seed: int, level: float, questions,
                    threads: int | None) -> BootstrapDraws:
    options = fit.options
    flops = frame["flops"].to_numpy(dtype=float)
    needed = frame[[fit.easy_column, fit.hard_column, "tc_brier", "accuracy"]].to_numpy(dtype=float)
    train = training_mask(flops, options.cut) & np.isfinite(needed).all(axis=1)
    x = np.log10(flops[train])
    # Fit in a centred, scaled variable (as numpy's Polynomial.fit does) so degree 5 stays well conditioned.
    centre, half = (x.max() + x.min()) / 2.0, max((x.max() - x.min()) / 2.0, 1e-12)
    t = (x - centre) / half
    w = resample_weights(len(x), draws, seed)
    responses = np.broadcast_to(needed[train].T[:, None, :], (4, len(w), len(x)))  # (4, draws, n), no copy
    resampled = "models"
    if questions is not None:
        models = frame["model"].astype(str).to_numpy()[train]
        responses, resampled = _with_question_draws(responses, questions, models, w, seed, threads), "models and questions"

    easy = _weighted_polyfit(t, responses[0], w, options.easy_degree)
    line = _accuracy_line(fit, easy, t, w, responses)
    baseline = _baseline_line(x, responses[3], w, options.chance) if options.baseline_floor else None
    return BootstrapDraws(fit, draws, seed, level, resampled, centre, half, t, easy, line, baseline)


def _with_question_draws(responses: np.ndarray, questions, models: np.ndarray, w: np.ndarray, seed: int,
                         threads: int | None = None) -> np.ndarray:
    """The (4, draws, n) responses recomputed on each draw's resampled questions."""
    from slicesand.uncertainty.resampling import question_draws

    drawn = question_draws(questions, models, w, seed=seed, threads=threads)
    # A value a draw leaves undefined (a model with no answer among that draw's questions of a group)
    # carries no information from the draw: keep the full-data value there.
    return np.where(np.isfinite(drawn), drawn, responses)


@dataclass(frozen=True, eq=False)
class _AccuracyLine:
    """Per draw: the hard curve, the draw's own training range (where extrapolation starts), the
    hard-lift, and the TC Brier -> accuracy line with its mean shift."""

    hard: np.ndarray
    low: np.ndarray
    high: np.ndarray
    lift: np.ndarray | float
    intercept: np.ndarray
    slope: np.ndarray
    shift: np.ndarray


def _tc_at(fit: Fit, easy: np.ndarray, hard: np.ndarray, low: np.ndarray, high: np.ndarray, lift,
           where: np.ndarray, guarded: bool) -> np.ndarray:
    """Each draw's combined TC Brier at ``where``: guarded (extended beyond each draw's [low, high] and
    clipped as the fit says) or the plain polynomials."""
    options = fit.options
    mode = options.extrapolation if guarded else "polynomial"
    e, h = extend_per_draw(easy, where, low, high, mode), extend_per_draw(hard, where, low, high, mode)
    if guarded and options.clip:
        e, h = clip_tc(e), clip_tc(h)
    return combine_tc(e, h, lift, options.variant)


def _accuracy_line(fit: Fit, easy: np.ndarray, t: np.ndarray, w: np.ndarray, responses: np.ndarray) -> _AccuracyLine:
    """Each draw's hard curve, combined TC Brier and its own TC Brier -> accuracy line and mean shift."""
    options = fit.options
    _, hard_y, tc_y, acc_y = responses
    hard = fit_polynomial_average_per_draw(t, hard_y, w, options.hard_degree, options.hard_average)
    # Each draw's own training range (models drawn at least once) decides where extrapolation starts.
    low = np.where(w > 0, t, np.inf).min(axis=1)
    high = np.where(w > 0, t, -np.inf).max(axis=1)
    total = w.sum(axis=1)

    def mean(values: np.ndarray) -> np.ndarray:  # weighted mean per draw of (draws, n) values
        return np.einsum("bn,bn->b", w, values) / total

    lift = (mean(tc_y) - mean(_evaluate(hard, t)))[:, None] if options.variant == "hard-lift" else 0.0
    # Weighted OLS tc_brier = a + b * accuracy, and the mean-shift, per draw (closed forms). A draw whose
    # drawn models share one accuracy (possible with few models) has no line: it gives NaN, which the
    # percentiles (nanquantile) leave out.
    mean_acc, mean_tc = mean(acc_y), mean(tc_y)
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = (mean(acc_y * tc_y) - mean_acc * mean_tc) / (mean(np.square(acc_y)) - mean_acc ** 2)
        intercept = mean_tc - slope * mean_acc
        raw_train = (_tc_at(fit, easy, hard, low, high, lift, t, guarded=False) - intercept[:, None]) / slope[:, None]
        shift = mean_acc - mean(raw_train)
    return _AccuracyLine(hard, low, high, lift, intercept, slope, shift)


def _accuracy_at(fit: Fit, easy: np.ndarray, line: _AccuracyLine, points: np.ndarray) -> np.ndarray:
    """Unguarded accuracy forecast (draws, m) at ``points`` (in the fits' variable)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        tc = _tc_at(fit, easy, line.hard, line.low, line.high, line.lift, points, guarded=True)
        return (tc - line.intercept[:, None]) / line.slope[:, None] + line.shift[:, None]


def _baseline_line(x: np.ndarray, accuracy: np.ndarray, w: np.ndarray, chance: float
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-draw sigmoid baseline line (mean x, mean logit target, slope): weighted OLS of the logit
    target on x. ``accuracy`` is (draws, n): with question resampling every draw has its own training
    accuracies."""
    from slicesand.fitting.model import logit_accuracy

    target = logit_accuracy(accuracy, chance)
    total = w.sum(axis=1)
    mean_x, mean_y = w @ x / total, np.einsum("bn,bn->b", w, target) / total
    var_x = w @ np.square(x) / total - mean_x ** 2
    cross = np.einsum("bn,bn->b", w, x * target) / total
    # A draw of a single distinct scale has no slope: keep it flat rather than divide by zero.
    slope = np.where(var_x > 1e-12, (cross - mean_x * mean_y) / np.where(var_x > 1e-12, var_x, 1.0), 0.0)
    return mean_x, mean_y, slope


def _baseline_at(line: tuple[np.ndarray, np.ndarray, np.ndarray], chance: float, points: np.ndarray) -> np.ndarray:
    """Per-draw sigmoid baseline (draws, m) at ``points`` (log10 FLOPs): the line, back to accuracy."""
    from scipy.special import expit

    mean_x, mean_y, slope = line
    return expit(mean_y[:, None] + slope[:, None] * (points[None, :] - mean_x[:, None])) + chance


def _thresholds(easy: np.ndarray, low: float, high: float) -> np.ndarray:
    """Last local minimum of each draw's easy curve on a fine grid over [low, high]; NaN when none."""
    grid = np.linspace(low, high, THRESHOLD_GRID)
    values = _evaluate(easy, grid)
    step = np.diff(values, axis=1)
    is_min = (step[:, :-1] < 0) & (step[:, 1:] >= 0)  # falling, then rising: a minimum at grid[1:-1]
    last = np.where(is_min.any(axis=1), is_min.shape[1] - 1 - np.argmax(is_min[:, ::-1], axis=1), -1)
    return np.where(last >= 0, grid[1:-1][np.maximum(last, 0)], np.nan)
