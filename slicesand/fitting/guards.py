"""Guards that keep a forecast inside what the data can support.

Two guards, both switched on by :class:`slicesand.fitting.model.FitOptions` (``extrapolation``, ``clip``) and
both off in ``--paper`` mode:

* **Extrapolation beyond the training x range.** A degree-5 polynomial fitted on 2-3 decades of
  compute swings wildly one decade further out; that is what makes the paper's default forecast
  accuracies of -2 or +4 on mmlu. ``"linear"`` continues each group curve along its tangent at the edge
  of the training range (the trend the data last showed, with no curvature the data cannot vouch for);
  ``"clamp"`` holds it at the edge value; ``"polynomial"`` evaluates the polynomial (the paper).
* **Clipping to valid ranges.** A TC Brier score lies in [-1, 0] and an accuracy in [0, 1]; below chance
  is only plausible if the training models already were below it, so the accuracy floor is
  ``min(chance, lowest training accuracy)``.

>>> import numpy as np
>>> from numpy.polynomial import Polynomial
>>> p = Polynomial([0.0, 0.0, 1.0])  # x**2
>>> extend(p, np.array([0.0, 1.0, 3.0]), (0.0, 1.0), "linear").tolist()  # tangent at x = 1: 1 + 2 (x - 1)
[0.0, 1.0, 5.0]
>>> extend(p, np.array([3.0]), (0.0, 1.0), "clamp").tolist()
[1.0]
"""

from __future__ import annotations

import numpy as np

TC_RANGE = (-1.0, 0.0)


def extend(poly, x: np.ndarray, x_range: tuple[float, float], mode: str) -> np.ndarray:
    """Evaluate ``poly`` at ``x``; outside ``x_range`` continue it as ``mode`` says."""
    poly = getattr(poly, "polynomial", poly)  # a PolynomialFit or a numpy Polynomial
    x = np.asarray(x, dtype=float)
    values = np.asarray(poly(x), dtype=float)
    if mode == "polynomial":
        return values
    low, high = x_range
    edge = np.clip(x, low, high)  # the nearest edge of the training range (x itself inside it)
    at_edge = np.asarray(poly(edge), dtype=float)
    if mode == "clamp":
        return at_edge
    slope = np.asarray(poly.deriv(1)(edge), dtype=float) if len(poly.coef) > 1 else np.zeros_like(x)
    return at_edge + slope * (x - edge)


def clip_tc(values: np.ndarray) -> np.ndarray:
    """TC Brier (and every group's mean TC Brier) lies in [-1, 0]."""
    return np.clip(values, *TC_RANGE)


def accuracy_floor(chance: float, lowest_training_accuracy: float | None) -> float:
    """Chance, unless the training models were already below it (then their lowest accuracy)."""
    if lowest_training_accuracy is None or not np.isfinite(lowest_training_accuracy):
        return chance
    return float(min(chance, lowest_training_accuracy))


def clip_accuracy(values: np.ndarray, floor: float) -> np.ndarray:
    return np.clip(values, floor, 1.0)


def blend_accuracy(sandwich: np.ndarray, trend: np.ndarray | None, options) -> np.ndarray:
    """The accuracy forecast from the Slice-and-Sandwich curve and the trend baseline, as
    ``options.blend`` says (``"sandwich"``, ``"trend"``, ``"mean"`` weighted by ``trend_weight``, or
    ``"envelope"``, the larger of the two). Broadcasts, so bootstrap draws work the same way.

    >>> from types import SimpleNamespace as O
    >>> blend_accuracy(np.array([0.2, 0.6]), np.array([0.4, 0.4]), O(blend="mean", trend_weight=0.25)).round(6).tolist()
    [0.25, 0.55]
    """
    if options.blend == "sandwich" or trend is None:
        return sandwich
    if options.blend == "trend":
        return np.broadcast_to(trend, np.broadcast_shapes(np.shape(sandwich), np.shape(trend))).copy()
    if options.blend == "envelope":
        return np.maximum(sandwich, trend)
    return (1.0 - options.trend_weight) * sandwich + options.trend_weight * trend


def guard_accuracy(accuracy: np.ndarray, baseline: np.ndarray | None, options, floor: float | None) -> np.ndarray:
    """The last steps of every accuracy forecast, the point forecast's and each bootstrap draw's alike:
    clip to [floor, 1] (``floor`` defaults to chance) and, with ``baseline_floor``, never below the baseline."""
    if options.clip:
        accuracy = clip_accuracy(accuracy, floor if floor is not None else options.chance)
    if options.baseline_floor:
        accuracy = np.maximum(accuracy, baseline)
    return accuracy
