"""Simple trend forecasters of accuracy from scale alone: the yardsticks every forecast is judged by.

Each baseline is a small object in the scikit-learn manner: ``Baseline(chance=..., floor=...)``, then
``.fit(x, accuracy)`` on the training models (``x = log10(FLOPs)``) returns the fitted object, and
``.predict(x)`` forecasts accuracy anywhere. ``.to_dict()`` / :func:`baseline_from_dict` store and
rebuild a fitted baseline (``fit.json``).

* :class:`PaperSigmoid`: the paper's baseline, kept to reproduce its tables: OLS of
  ``log((y + 1e-6) / (1 - y + 1e-6))``, ``y = clip(accuracy - chance, 0, 1)``, on x; accuracy is
  ``sigmoid(.) + chance``, so its ceiling is ``chance + 1`` (above 1), and one model at chance
  (``y = 0``, logit -13.8) pulls the slope hard.
* :class:`BoundedSigmoid`: ``chance + (1 - chance) * sigmoid(a + b x)``, fitted in accuracy space by
  least squares (:func:`scipy.optimize.least_squares`), so it lives in [chance, 1] and a model at
  chance is one ordinary point. The slope is bounded (:data:`MAX_SLOPE` per decade) so a few models
  cannot make it a step.
* :class:`LinearTrend`: OLS of accuracy on x, clipped to [floor, 1].
* :class:`FlatTrend`: the mean accuracy of the :data:`FLAT_LAST` largest training models.

``floor`` is the lowest valid accuracy (:func:`slicesand.fitting.guards.accuracy_floor`); every
baseline but the paper's sigmoid forecasts inside [floor, 1].

>>> import numpy as np
>>> x = np.array([20.0, 21.0, 22.0, 23.0])
>>> LinearTrend(chance=0.25).fit(x, np.array([0.3, 0.4, 0.5, 0.6])).predict(np.array([24.0, 40.0])).round(6).tolist()
[0.7, 1.0]
>>> FlatTrend(chance=0.25).fit(x, np.array([0.3, 0.4, 0.5, 0.6])).predict(np.array([30.0])).round(6).tolist()
[0.5]
>>> s = BoundedSigmoid(chance=0.25).fit(np.linspace(20, 24, 9), 0.25 + 0.75 / (1 + np.exp(-(np.linspace(20, 24, 9) - 22))))
>>> round(float(s.predict(np.array([22.0]))[0]), 4), round(s.slope, 3)
(0.625, 1.0)
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np

LOGIT_EPS = 1e-6
# Steepest bounded sigmoid: 4 per decade rises from 12% to 88% of its range within one decade.
MAX_SLOPE = 4.0
FLAT_LAST = 3


def prefetch_least_squares() -> Callable[[], None]:
    """Import :mod:`scipy.optimize` (for the bounded sigmoid's ``least_squares``: about 0.3 s, the run's
    costliest import) in a background thread from now on; returns the function that waits for it.

    ``run`` starts it before slicing, whose DuckDB scans and numpy work release the GIL, and waits for
    it before fitting, so no scipy module is ever imported by two threads at once. A failed import is
    left to the fit, which imports it again and reports what is wrong.

    >>> wait = prefetch_least_squares()
    >>> wait(); "scipy.optimize" in sys.modules
    True
    """
    if "scipy.optimize" in sys.modules:
        return lambda: None
    thread = threading.Thread(target=_import_scipy_optimize, name="slicesand-import-scipy.optimize", daemon=True)
    thread.start()
    return thread.join


def _import_scipy_optimize() -> None:
    try:
        import scipy.optimize  # noqa: F401
    except Exception:  # noqa: BLE001 - the fit's own import says what is wrong
        pass


def expit(z):
    """The logistic function, :func:`scipy.special.expit`; scipy is imported on first use, not at startup.

    >>> float(expit(0.0))
    0.5
    """
    from scipy.special import expit as logistic

    return logistic(z)


def paper_logit(accuracy: np.ndarray, chance: float) -> np.ndarray:
    """The paper's sigmoid target: ``log((y + eps) / (1 - y + eps))`` with ``y = clip(accuracy - chance, 0, 1)``."""
    y = np.clip(np.asarray(accuracy, dtype=float) - chance, 0.0, 1.0)
    return np.log((y + LOGIT_EPS) / (1.0 - y + LOGIT_EPS))


def _floor(chance: float, floor: float | None) -> float:
    return chance if floor is None else float(floor)


@dataclass
class PaperSigmoid:
    """The paper's sigmoid baseline (unbounded above: ``chance + 1``). ``accuracy = sigmoid(intercept +
    slope * x) + chance``."""

    chance: float = 0.25
    floor: float | None = None
    intercept: float = float("nan")
    slope: float = float("nan")
    name: str = field(default="sigmoid", init=False)

    def fit(self, x: np.ndarray, accuracy: np.ndarray) -> "PaperSigmoid":
        x = np.asarray(x, dtype=float)
        self.slope, self.intercept = (float(v) for v in np.polyfit(x, paper_logit(accuracy, self.chance), 1))
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        return expit(self.intercept + self.slope * np.asarray(x, dtype=float)) + self.chance

    def to_dict(self) -> dict:
        return {**asdict(self), "formula": "accuracy = sigmoid(intercept + slope * log10(flops)) + chance; "
                "fitted by OLS on logit(clip(accuracy - chance, 0, 1), eps=1e-6) (the paper's baseline)"}


@dataclass
class BoundedSigmoid:
    """``chance + (1 - chance) * sigmoid(intercept + slope * x)``, least squares in accuracy space."""

    chance: float = 0.25
    floor: float | None = None
    intercept: float = float("nan")
    slope: float = float("nan")
    name: str = field(default="bounded_sigmoid", init=False)

    def fit(self, x: np.ndarray, accuracy: np.ndarray) -> "BoundedSigmoid":
        x, accuracy = np.asarray(x, dtype=float), np.asarray(accuracy, dtype=float)
        centre = float(np.mean(x))
        span = 1.0 - self.chance
        # Start from the line through the logits of the clipped rescaled accuracy.
        y = np.clip((accuracy - self.chance) / span, 0.02, 0.98)
        b0, a0 = np.polyfit(x - centre, np.log(y / (1 - y)), 1) if np.ptp(x) > 0 else (0.0, float(np.mean(np.log(y / (1 - y)))))
        b0 = float(np.clip(b0, -MAX_SLOPE * 0.99, MAX_SLOPE * 0.99))

        def residual(p):
            return self.chance + span * expit(p[0] + p[1] * (x - centre)) - accuracy

        from scipy.optimize import least_squares

        result = least_squares(residual, [float(a0), b0], bounds=([-30.0, -MAX_SLOPE], [30.0, MAX_SLOPE]))
        a, self.slope = float(result.x[0]), float(result.x[1])
        self.intercept = a - self.slope * centre
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.chance + (1.0 - self.chance) * expit(self.intercept + self.slope * np.asarray(x, dtype=float))

    def to_dict(self) -> dict:
        return {**asdict(self), "formula": "accuracy = chance + (1 - chance) * sigmoid(intercept + slope * "
                f"log10(flops)); least squares in accuracy space, |slope| <= {MAX_SLOPE:g}"}


@dataclass
class LinearTrend:
    """``intercept + slope * x`` by OLS, clipped to [floor, 1]."""

    chance: float = 0.25
    floor: float | None = None
    intercept: float = float("nan")
    slope: float = float("nan")
    name: str = field(default="linear", init=False)

    def fit(self, x: np.ndarray, accuracy: np.ndarray) -> "LinearTrend":
        x = np.asarray(x, dtype=float)
        if np.ptp(x) > 0:
            self.slope, self.intercept = (float(v) for v in np.polyfit(x, np.asarray(accuracy, dtype=float), 1))
        else:
            self.slope, self.intercept = 0.0, float(np.mean(accuracy))
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        return np.clip(self.intercept + self.slope * np.asarray(x, dtype=float), _floor(self.chance, self.floor), 1.0)

    def to_dict(self) -> dict:
        return {**asdict(self), "formula": "accuracy = clip(intercept + slope * log10(flops), floor, 1); OLS"}


@dataclass
class FlatTrend:
    """The mean accuracy of the largest training models (today's level, carried forward)."""

    chance: float = 0.25
    floor: float | None = None
    level: float = float("nan")
    name: str = field(default="flat", init=False)

    def fit(self, x: np.ndarray, accuracy: np.ndarray) -> "FlatTrend":
        order = np.argsort(np.asarray(x, dtype=float), kind="stable")
        self.level = float(np.mean(np.asarray(accuracy, dtype=float)[order][-FLAT_LAST:]))
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        return np.full(np.shape(x), float(np.clip(self.level, _floor(self.chance, self.floor), 1.0)))

    def to_dict(self) -> dict:
        return {**asdict(self), "formula": f"accuracy = mean accuracy of the {FLAT_LAST} largest training models"}


BASELINES = {cls.__dataclass_fields__["name"].default: cls for cls in (PaperSigmoid, BoundedSigmoid, LinearTrend, FlatTrend)}


def fit_baselines(x: np.ndarray, accuracy: np.ndarray, chance: float, floor: float | None) -> dict:
    """Every baseline fitted on the same training models, by name."""
    return {name: cls(chance=chance, floor=floor).fit(x, accuracy) for name, cls in BASELINES.items()}


def trend_parts(name: str) -> tuple[str, ...]:
    """The baselines a trend name averages: ``"linear"`` or ``"bounded_sigmoid+linear+flat"``.

    >>> trend_parts("bounded_sigmoid+linear+flat")
    ('bounded_sigmoid', 'linear', 'flat')
    """
    parts = tuple(name.split("+"))
    unknown = [p for p in parts if p not in BASELINES]
    if unknown:
        raise ValueError(f"unknown baseline(s) {', '.join(unknown)} (known: {', '.join(BASELINES)})")
    return parts


def trend_forecast(baselines: dict, name: str, x: np.ndarray) -> np.ndarray | None:
    """The mean forecast of the baselines ``name`` lists (:func:`trend_parts`); ``None`` when a fit
    has none of them (a fit without accuracy, or an artifact from before baselines)."""
    parts = trend_parts(name)
    if not all(p in baselines for p in parts):
        return None
    return np.mean([baselines[p].predict(x) for p in parts], axis=0)


def baseline_from_dict(document: dict):
    """Rebuild a fitted baseline from :meth:`to_dict` output."""
    values = {k: v for k, v in document.items() if k not in ("name", "formula")}
    values = {k: (float("nan") if v is None and k != "floor" else v) for k, v in values.items()}
    return BASELINES[document["name"]](**values)
