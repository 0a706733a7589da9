"""The *fit* stage: the easy and hard polynomials, the TC Brier to accuracy line, and the baseline.

All fits use the training models only: those with ``flops < cut`` (every model when there is no cut).
``x`` is ``log10(flops)`` throughout. Polynomials are fitted with :meth:`numpy.polynomial.Polynomial.fit`,
which maps the data's x range onto [-1, 1] first, so a degree-5 fit stays well conditioned.

>>> import numpy as np, pandas as pd
>>> x = np.linspace(20, 22, 8)
>>> frame = pd.DataFrame({"model": list("abcdefgh"), "flops": 10 ** x, "accuracy": np.linspace(.3, .5, 8),
...                       "tc_brier": np.linspace(-.6, -.4, 8), "group_1": -0.2 + 0.01 * (x - 21) ** 2,
...                       "group_2": -0.5 + 0 * x, "group_3": -0.8 + 0.1 * x})
>>> fit = fit_slices(frame, FitOptions(easy_degree=2, hard_degree=1))
>>> round(float(fit.easy(21.0)), 6), round(fit.tc_to_accuracy.slope, 6)
(-0.2, 1.0)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from numpy.polynomial import Polynomial

from slicesand.diagnostics import Diagnostic, diagnostic
from slicesand.errors import InputDataError, UsageError
from slicesand.fitting.baselines import PaperSigmoid, fit_baselines, paper_logit, trend_parts
from slicesand.fitting.guards import accuracy_floor as floor_of

if TYPE_CHECKING:  # imported where a fit needs it: `slice` builds FitOptions but never imports pandas
    import pandas as pd

VARIANTS = ("sandwich", "hard-lift")
BLENDS = ("sandwich", "trend", "mean", "envelope")
EXTRAPOLATIONS = ("polynomial", "linear", "clamp")
# The paper reports coefficients in x' = log10(flops / 1e21); we convert for comparison only.
PAPER_X_OFFSET = 21.0
_GROUP = re.compile(r"^group_(\d+)$")


@dataclass(frozen=True)
class OptionBound:
    """What one :class:`FitOptions` field may hold. :data:`FIT_OPTION_BOUNDS` is the one place the ranges
    are written: ``FitOptions`` checks them naming the parameter (the command line shows its flag, exit 2)
    and :func:`slicesand.artifacts.documents.fit_options_from` naming the artifact's field (exit 4).

    ``kind`` is ``number``, ``integer``, ``choice``, ``boolean`` (a JSON type only: ``FitOptions`` takes
    what Python passes) or ``trend`` (baseline names joined by "+"). ``flag``: the parameter has a
    command-line flag, so its message quotes it for :func:`slicesand.cli.options.cli_message`.
    ``wording`` replaces the range in the option's message.

    >>> FIT_OPTION_BOUNDS["chance"].problem("chance", 1.0)
    '`chance` must be in [0, 1)'
    >>> FIT_OPTION_BOUNDS["easy_degree"].problem("easy_degree", 5) is None
    True
    """

    kind: str
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    optional: bool = False
    choices: tuple[str, ...] = ()
    flag: bool = True
    wording: str | None = None

    def holds(self, value) -> bool:
        if value is None:
            return self.optional
        if self.kind == "choice":
            return value in self.choices
        if self.kind in ("number", "integer"):
            ok = bool(np.isfinite(value))
            ok = ok and (self.low is None or (value > self.low if self.low_open else value >= self.low))
            return ok and (self.high is None or (value < self.high if self.high_open else value <= self.high))
        return True  # booleans and the trend (checked by trend_parts) are not ranges

    def problem(self, name: str, value) -> str | None:
        """The option's message when ``value`` is out of bounds (``None`` when it holds)."""
        shown = f"`{name}`" if self.flag else name
        if self.kind == "trend":
            try:
                trend_parts(value)
            except ValueError as exc:
                return f"{shown} must name baselines joined by '+': {exc}"
            return None
        if self.holds(value):
            return None
        if self.wording is not None:
            return f"{shown} must be {self.wording}"
        if self.kind == "choice":
            return f"{shown} must be one of {', '.join(self.choices)}"
        if self.kind == "integer":
            return f"{shown} must be between {self.low:g} and {self.high:g}"
        return f"{shown} must be in {'(' if self.low_open else '['}{self.low:g}, {self.high:g}{')' if self.high_open else ']'}"


# Every FitOptions field's bounds, in the order both checks go through them.
FIT_OPTION_BOUNDS: dict[str, OptionBound] = {
    "extrapolation": OptionBound("choice", choices=EXTRAPOLATIONS, flag=False),
    "variant": OptionBound("choice", choices=VARIANTS),
    "easy_degree": OptionBound("integer", 0, 12),
    "hard_degree": OptionBound("integer", 0, 12),
    "blend": OptionBound("choice", choices=BLENDS, flag=False),
    "trend": OptionBound("trend", flag=False),
    "trend_weight": OptionBound("number", 0.0, 1.0, flag=False),
    "chance": OptionBound("number", 0.0, 1.0, high_open=True),
    "cut": OptionBound("number", 0.0, low_open=True, optional=True, wording="a positive number of FLOPs"),
    "clip": OptionBound("boolean"),
    "hard_average": OptionBound("boolean"),
    "baseline_floor": OptionBound("boolean"),
    "auto": OptionBound("boolean"),
}


@dataclass(frozen=True)
class FitOptions:
    """Parameters of the fit stage. ``chance`` is the random-guess accuracy used by the baseline."""

    cut: float | None = None
    chance: float = 0.25
    easy_degree: int = 5
    hard_degree: int = 2
    variant: str = "sandwich"
    # Guards: ``clip`` (on unless ``--paper``, see PAPER_OPTIONS) bounds group curves / TC Brier to [-1, 0]
    # and every accuracy forecast to [floor, 1];
    # ``extrapolation`` says how group curves continue beyond the training x range
    # (see :mod:`slicesand.fitting.guards`).
    clip: bool = True
    extrapolation: str = "polynomial"
    # Model averaging over hard degrees: the hard curve is the mean of the least-squares polynomials of
    # degree 1 .. hard_degree (one polynomial of degree hard_degree), instead of the degree-hard_degree
    # fit alone. Used by the automatic settings (slicesand.fitting.selection explains why).
    hard_average: bool = False
    # Never forecast accuracy below the paper's sigmoid baseline (the upper envelope of the two).
    baseline_floor: bool = False
    # How the accuracy forecast combines the Slice-and-Sandwich curve with a trend baseline
    # (slicesand.fitting.baselines): "sandwich" (the curve alone), "trend" (the baseline alone), "mean"
    # (``(1 - trend_weight) * sandwich + trend_weight * trend``) or "envelope" (the larger of the two).
    blend: str = "sandwich"
    trend: str = "bounded_sigmoid+linear+flat"  # one baseline, or several joined by "+" (their mean)
    trend_weight: float = 0.5
    # Asks the pipeline for the default rule (slicesand.fitting.selection.fit_default), which then picks
    # the degrees, variant and blend; fit_slices itself never reads it.
    auto: bool = False

    def __post_init__(self) -> None:
        for name, bound in FIT_OPTION_BOUNDS.items():  # a dozen fields
            value = getattr(self, name)
            problem = bound.problem(name, value)
            if problem is not None:
                raise UsageError(None, problem, found=value)


PAPER_OPTIONS = dict(easy_degree=5, hard_degree=2, variant="sandwich", clip=False, extrapolation="polynomial",
                     blend="sandwich")


@dataclass(frozen=True)
class PolynomialFit:
    """A least-squares polynomial in x = log10(flops), stored as numpy stores it.

    ``coef`` are coefficients of the power series in the *window* variable
    ``t = off + scl * x`` that maps ``domain`` onto ``window``; ``Polynomial(coef, domain, window)``
    rebuilds it exactly.
    """

    coef: tuple[float, ...]
    domain: tuple[float, float]
    window: tuple[float, float]
    degree: int
    n: int
    r2: float
    residual_std: float

    @property
    def polynomial(self) -> Polynomial:
        return Polynomial(self.coef, domain=self.domain, window=self.window)

    def __call__(self, x):
        return self.polynomial(x)

    def paper_coef(self) -> list[float]:
        """Power-basis coefficients in x' = log10(flops / 1e21), increasing powers (the paper's basis)."""
        shifted = self.polynomial(Polynomial([PAPER_X_OFFSET, 1.0]))
        return [float(c) for c in np.pad(shifted.coef, (0, self.degree + 1 - len(shifted.coef)))]


@dataclass(frozen=True)
class LineFit:
    """``y = intercept + slope * x`` by ordinary least squares."""

    intercept: float
    slope: float
    n: int
    r2: float
    residual_std: float

    def __call__(self, x):
        return self.intercept + self.slope * np.asarray(x, dtype=float)


@dataclass(frozen=True)
class Fit:
    """Everything the forecast needs, plus the facts that explain it."""

    options: FitOptions
    n_groups: int
    easy_column: str
    hard_column: str
    easy: PolynomialFit
    hard: PolynomialFit
    tc_to_accuracy: LineFit | None  # tc_brier = intercept + slope * accuracy, on training models
    baseline: LineFit | None  # the paper's sigmoid: logit(clip(acc - chance)) = intercept + slope * log10(flops)
    tc_lift: float  # hard-lift only: added to the hard curve; 0 for the sandwich
    accuracy_shift: float | None  # added to the mapped-back accuracy so training means agree
    training_models: list[str]
    test_models: list[str]
    training_x_range: tuple[float, float]
    warnings: list[Diagnostic] = field(default_factory=list)
    # How the options were chosen (slicesand.fitting.selection), recorded in fit.json; None for fixed options.
    selection: dict | None = None
    # Lowest accuracy a clipped forecast may give: min(chance, lowest training accuracy).
    accuracy_floor: float | None = None
    # The task the slices came from, when the dump named one; predictions then carry a task column.
    task: str | None = None
    # Every baseline (slicesand.fitting.baselines) fitted on the same training models, by name.
    baselines: dict = field(default_factory=dict)
    # p-value of the F-test of the easy polynomial against a straight line on the training models: a
    # turning point of the easy curve is an emergence signal only if its curvature is not noise.
    easy_curvature_p: float | None = None

    @property
    def has_accuracy(self) -> bool:
        return self.tc_to_accuracy is not None


def group_columns_in(frame: pd.DataFrame) -> list[str]:
    """The ``group_k`` columns a table has, easiest (k = 1) first: the one parser of group column names.

    >>> import pandas as pd
    >>> group_columns_in(pd.DataFrame(columns=["model", "group_10", "group_2", "group_1", "groups"]))
    ['group_1', 'group_2', 'group_10']
    """
    found = sorted((int(m.group(1)), str(c)) for c in frame.columns if (m := _GROUP.match(str(c))))
    return [column for _, column in found]


def group_count(frame: pd.DataFrame, source: str | None = None) -> int:
    """Number of groups G in a slices table, checking that ``group_1 .. group_G`` are all there."""
    numbers = [int(c.split("_")[1]) for c in group_columns_in(frame)]
    if len(numbers) < 2:
        raise InputDataError(source, "a slices table needs columns group_1 .. group_G with G >= 2",
                             found=", ".join(map(str, frame.columns)))
    if numbers != list(range(1, len(numbers) + 1)):
        raise InputDataError(source, "group columns must be group_1 .. group_G without gaps",
                             found=", ".join(f"group_{n}" for n in numbers))
    return len(numbers)


logit_accuracy = paper_logit  # the paper's sigmoid target (slicesand.fitting.baselines)


def training_mask(flops: np.ndarray, cut: float | None) -> np.ndarray:
    """True for training models: below the cut, or every model when there is no cut."""
    flops = np.asarray(flops, dtype=float)
    return np.ones(flops.shape, dtype=bool) if cut is None else flops < cut


def incomplete_mask(frame: pd.DataFrame, easy_column: str, hard_column: str) -> np.ndarray:
    """True for models with a missing easy, hard or TC Brier score: the fit leaves them out, and the
    forecast does not score them (their split is ``excluded``)."""
    columns = [c for c in (easy_column, hard_column, "tc_brier") if c in frame.columns]
    return frame[columns].isna().any(axis=1).to_numpy()


def fit_polynomial(x: np.ndarray, y: np.ndarray, degree: int) -> PolynomialFit:
    """Least-squares polynomial of ``degree`` with its R^2 and residual standard deviation."""
    poly = Polynomial.fit(x, y, degree)
    residual = y - poly(x)
    return PolynomialFit(
        coef=tuple(float(c) for c in np.pad(poly.coef, (0, degree + 1 - len(poly.coef)))),
        domain=(float(poly.domain[0]), float(poly.domain[1])),
        window=(float(poly.window[0]), float(poly.window[1])),
        degree=degree,
        n=int(len(x)),
        r2=_r2(y, residual),
        residual_std=_residual_std(residual, len(x), degree + 1),
    )


def fit_polynomial_average(x: np.ndarray, y: np.ndarray, degree: int) -> PolynomialFit:
    """The mean of the least-squares polynomials of degree 1 .. ``degree`` (one polynomial of ``degree``).

    Every fit maps the same x range onto [-1, 1], so averaging their window coefficients averages the curves.

    >>> x = np.linspace(0.0, 2.0, 9)
    >>> avg = fit_polynomial_average(x, x ** 2, 2)
    >>> round(float(avg(1.0)), 6) == round((float(fit_polynomial(x, x ** 2, 1)(1.0)) + 1.0) / 2, 6)
    True
    """
    if degree <= 1:
        return fit_polynomial(x, y, degree)
    fits = [fit_polynomial(x, y, d) for d in range(1, degree + 1)]
    coef = np.mean([np.pad(f.coef, (0, degree + 1 - len(f.coef))) for f in fits], axis=0)
    poly = Polynomial(coef, domain=fits[-1].domain, window=fits[-1].window)
    residual = y - poly(x)
    return PolynomialFit(coef=tuple(float(c) for c in coef), domain=fits[-1].domain, window=fits[-1].window,
                         degree=degree, n=int(len(x)), r2=_r2(y, residual),
                         residual_std=_residual_std(residual, len(x), degree + 1))


def fit_line(x: np.ndarray, y: np.ndarray) -> LineFit:
    """OLS line ``y = intercept + slope * x``, computed as :func:`scipy.stats.linregress` computes it
    (``np.cov`` with ``bias=1``), to the last bit, without importing ``scipy.stats`` (a second of
    startup). ``tests/fitting/test_model.py`` pins the two together.

    >>> line = fit_line(np.array([0.0, 1.0, 2.0]), np.array([1.0, 3.0, 5.0]))
    >>> line.intercept, line.slope
    (1.0, 2.0)
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(x) > 1 and np.amax(x) == np.amin(x):
        raise ValueError("Cannot calculate a linear regression if all x values are identical")
    ssxm, ssxym, _, _ = np.cov(x, y, bias=1).flat
    slope = ssxym / ssxm
    intercept = np.mean(y, None) - slope * np.mean(x, None)
    residual = y - (intercept + slope * x)
    return LineFit(float(intercept), float(slope), int(len(x)), _r2(y, residual),
                   _residual_std(residual, len(x), 2))


def _r2(y: np.ndarray, residual: np.ndarray) -> float:
    total = float(np.sum(np.square(y - np.mean(y))))
    return float(1.0 - np.sum(np.square(residual)) / total) if total > 0 else float("nan")


def _residual_std(residual: np.ndarray, n: int, n_params: int) -> float:
    dof = n - n_params
    return float(np.sqrt(np.sum(np.square(residual)) / dof)) if dof > 0 else float("nan")


def fit_slices(frame: pd.DataFrame, options: FitOptions, *, source: str | None = None) -> Fit:
    """Fit the Slice-and-Sandwich model and the baselines on a slices table's training models, with
    ``options`` as given (the default rule that chooses them is :mod:`slicesand.fitting.selection`)."""
    n_groups, flops = _checked_table(frame, source)
    easy_column, hard_column = "group_1", f"group_{n_groups}"
    warnings: list[Diagnostic] = []
    train, test = _split(frame, flops, options, easy_column, hard_column, warnings, source)
    x = np.log10(flops)
    x_train = x[train]
    easy_train = frame[easy_column].to_numpy(dtype=float)[train]
    easy = fit_polynomial(x_train, easy_train, options.easy_degree)
    hard = (fit_polynomial_average if options.hard_average else fit_polynomial)(
        x_train, frame[hard_column].to_numpy(dtype=float)[train], options.hard_degree)
    tc_train = frame["tc_brier"].to_numpy(dtype=float)[train]
    tc_lift = float(np.mean(tc_train) - np.mean(hard(x_train))) if options.variant == "hard-lift" else 0.0
    accuracy_parts = _fit_accuracy(frame, x, train, options, easy, hard, tc_lift, warnings, source)
    models = frame["model"].astype(str).to_numpy()
    return Fit(
        options=options,
        n_groups=n_groups,
        easy_column=easy_column,
        hard_column=hard_column,
        easy=easy,
        hard=hard,
        tc_lift=tc_lift,
        training_models=models[train].tolist(),
        test_models=models[test].tolist(),
        training_x_range=(float(x_train.min()), float(x_train.max())),
        warnings=warnings,
        easy_curvature_p=curvature_p_value(x_train, easy_train, easy),
        **accuracy_parts,
    )


def _checked_table(frame: pd.DataFrame, source: str | None) -> tuple[int, np.ndarray]:
    """The number of groups and the FLOPs, after checking the columns a fit needs."""
    n_groups = group_count(frame, source)
    needed = ["model", "flops", "tc_brier", "group_1", f"group_{n_groups}"]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise InputDataError(source, f"missing column(s) {', '.join(missing)} in the slices table",
                             found=", ".join(map(str, frame.columns)))
    return n_groups, checked_flops(frame, source)


def checked_flops(frame: pd.DataFrame, source: str | None) -> np.ndarray:
    """A slices table's ``flops`` as float64, each a positive, finite number: else an InputDataError
    naming the first row that is not (rows from 1, the first after the header).

    >>> import pandas as pd
    >>> checked_flops(pd.DataFrame({"flops": [1e20, 2e21]}), "slices.csv").tolist()
    [1e+20, 2e+21]
    """
    import pandas as pd

    flops = pd.to_numeric(frame["flops"], errors="coerce").to_numpy(dtype=float)
    bad = ~(np.isfinite(flops) & (flops > 0))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InputDataError(source, "FLOPs must be a positive, finite number", column="flops",
                             row=row + 1, found=frame["flops"].iloc[row])
    return flops


def _split(frame: pd.DataFrame, flops: np.ndarray, options: FitOptions, easy_column: str, hard_column: str,
           warnings: list, source: str | None) -> tuple[np.ndarray, np.ndarray]:
    """Training and test masks (models with every score), checked against the cut and the degrees."""
    incomplete = incomplete_mask(frame, easy_column, hard_column)
    if incomplete.any():
        warnings.append(diagnostic("missing-scores", f"left out {int(incomplete.sum())} model(s) with missing scores: "
                                   f"{', '.join(frame.loc[incomplete, 'model'].astype(str).head(5))}"))
    train = training_mask(flops, options.cut) & ~incomplete
    test = ~training_mask(flops, options.cut) & ~incomplete
    if options.cut is not None:
        if not train.any():
            raise UsageError(source, f"`cut` {options.cut:g} leaves no training model below it",
                             hint="raise `cut`")
        if not test.any():
            raise UsageError(source, f"`cut` {options.cut:g} leaves no test model at or above it",
                             hint="lower `cut`, or omit it to train on every model")
    needed_models = max(options.easy_degree, options.hard_degree) + 1
    if train.sum() < needed_models:
        raise InputDataError(
            source, f"the training split has {int(train.sum())} model(s); a degree-"
            f"{max(options.easy_degree, options.hard_degree)} polynomial needs at least {needed_models}",
            hint="lower `easy_degree`/`hard_degree`" + (" or raise `cut`" if options.cut is not None else ""))
    return train, test


def _fit_accuracy(frame: pd.DataFrame, x: np.ndarray, train: np.ndarray, options: FitOptions, easy, hard,
                  tc_lift: float, warnings: list, source: str | None) -> dict:
    """The TC Brier -> accuracy line, the accuracy shift and floor, and the baselines (all ``None`` /
    empty when fewer than 3 training models have an accuracy: then TC Brier alone is forecast)."""
    import pandas as pd

    accuracy = (pd.to_numeric(frame["accuracy"], errors="coerce").to_numpy(dtype=float)
                if "accuracy" in frame.columns else np.full(len(frame), np.nan))
    with_accuracy = train & np.isfinite(accuracy)
    if with_accuracy.sum() < 3:
        n = int(with_accuracy.sum())
        warnings.append(diagnostic("accuracy-unknown", "accuracy is unknown for the training models: forecasting TC Brier only"
                                   if n == 0 else f"only {n} training model(s) have an accuracy, and mapping TC Brier "
                                   "back to accuracy needs 3: forecasting TC Brier only (raise `cut` to train on more "
                                   "models)"))
        return {"tc_to_accuracy": None, "baseline": None, "accuracy_shift": None, "accuracy_floor": None,
                "baselines": {}}
    if with_accuracy.sum() < train.sum():
        warnings.append(diagnostic("training-without-accuracy",
                                   f"{int(train.sum() - with_accuracy.sum())} training model(s) have no accuracy"))
    acc_train = accuracy[with_accuracy]
    if np.ptp(acc_train) == 0:
        raise InputDataError(source, "accuracy is the same for every training model, so TC Brier "
                             "cannot be mapped back to accuracy", column="accuracy", found=float(acc_train[0]),
                             hint="raise `cut` to train on more varied models" if options.cut is not None
                             else "add models of more varied accuracy")
    tc_to_accuracy = fit_line(acc_train, frame["tc_brier"].to_numpy(dtype=float)[with_accuracy])
    if tc_to_accuracy.slope == 0:
        raise InputDataError(source, "TC Brier does not vary with accuracy on the training models, "
                             "so it cannot be mapped back", column="accuracy")
    baseline = fit_line(x[with_accuracy], logit_accuracy(acc_train, options.chance))
    raw = accuracy_from_tc(tc_to_accuracy, _predicted_tc(easy, hard, tc_lift, options.variant, x[with_accuracy]))
    floor = floor_of(options.chance, float(np.min(acc_train)))
    baselines = fit_baselines(x[with_accuracy], acc_train, options.chance, floor)
    # The paper's sigmoid is the line above (linregress's arithmetic, as the reproduction was checked with).
    baselines["sigmoid"] = PaperSigmoid(options.chance, floor, baseline.intercept, baseline.slope)
    return {"tc_to_accuracy": tc_to_accuracy, "baseline": baseline,
            "accuracy_shift": float(np.mean(acc_train) - np.mean(raw)), "accuracy_floor": floor,
            "baselines": baselines}


def curvature_p_value(x: np.ndarray, y: np.ndarray, poly: PolynomialFit) -> float | None:
    """p-value of the F-test of ``poly`` (degree d >= 2) against the least-squares line on the same
    points: small when the curve's bends are more than noise; ``None`` when it cannot be tested.

    >>> x = np.linspace(0, 1, 20)
    >>> curvature_p_value(x, (x - 0.5) ** 2, fit_polynomial(x, (x - 0.5) ** 2, 2)) < 1e-6
    True
    """
    n, d = len(x), poly.degree
    if d < 2 or n - d - 1 <= 0:
        return None
    rss_curve = float(np.sum(np.square(y - poly(x))))
    rss_line = float(np.sum(np.square(y - np.polyval(np.polyfit(x, y, 1), x))))
    if rss_curve <= 1e-300:
        return 0.0 if rss_line > 1e-300 else 1.0
    statistic = ((rss_line - rss_curve) / (d - 1)) / (rss_curve / (n - d - 1))
    # scipy.stats.f.sf is scipy.special.fdtrc for valid degrees of freedom; scipy.stats costs a second to import.
    from scipy.special import fdtrc

    return float(fdtrc(d - 1, n - d - 1, max(statistic, 0.0)))


def combine_tc(easy_values, hard_values, tc_lift, variant: str):
    """Predicted TC Brier from the two curves' values: their mean (the sandwich) or the lifted hard curve
    (hard-lift). Broadcasts, so one bootstrap draw per row works the same way."""
    return hard_values + tc_lift if variant == "hard-lift" else (easy_values + hard_values) / 2.0


def _predicted_tc(easy: PolynomialFit, hard: PolynomialFit, tc_lift: float, variant: str, x: np.ndarray):
    return combine_tc(easy(x), hard(x), tc_lift, variant)


def accuracy_from_tc(line: LineFit, tc: np.ndarray) -> np.ndarray:
    """Accuracy from TC Brier through the fitted line ``tc = intercept + slope * accuracy``."""
    return (np.asarray(tc, dtype=float) - line.intercept) / line.slope
