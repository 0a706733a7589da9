"""The bootstrap's batched curves are twins of the fit's scalar ones: pinned together here."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.polynomial import Polynomial

from slicesand.fitting.guards import extend
from slicesand.fitting.model import fit_polynomial_average
from slicesand.uncertainty.bootstrap import extend_per_draw, fit_polynomial_average_per_draw


@pytest.mark.parametrize("mode", ["polynomial", "linear", "clamp"])
def test_extend_per_draw_is_extend_row_by_row(mode):
    rng = np.random.default_rng(0)
    coef = rng.normal(size=(5, 4))
    t = np.linspace(-2.0, 3.0, 23)
    low, high = rng.uniform(-1, -0.5, 5), rng.uniform(0.5, 1, 5)
    batched = extend_per_draw(coef, t, low, high, mode)
    for row in range(5):
        single = extend(Polynomial(coef[row]), t, (low[row], high[row]), mode)
        np.testing.assert_allclose(batched[row], single, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("degree", [1, 2, 3])
def test_average_per_draw_with_unit_weights_is_fit_polynomial_average(degree):
    rng = np.random.default_rng(1)
    t = np.sort(rng.uniform(-1, 1, 30))
    t[0], t[-1] = -1.0, 1.0  # the fit's window maps [min, max] onto [-1, 1]: the same variable
    y = np.sin(2 * t) + rng.normal(0, 0.05, 30)
    batched = fit_polynomial_average_per_draw(t, np.tile(y, (2, 1)), np.ones((2, 30)), degree, average=True)
    expected = fit_polynomial_average(t, y, degree)
    np.testing.assert_allclose(batched[0], expected.coef, atol=1e-8)
    np.testing.assert_allclose(batched[1], expected.coef, atol=1e-8)
