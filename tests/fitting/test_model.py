"""slicesand.fitting.model computes what scipy.stats would, without importing scipy.stats at startup.

The line and the curvature F-test once called ``scipy.stats.linregress`` and ``scipy.stats.f.sf``;
importing scipy.stats takes about a second, so the model now does the same arithmetic with numpy and
``scipy.special``. These tests pin the two together bit for bit on random and awkward inputs.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from slicesand.fitting.model import curvature_p_value, fit_line, fit_polynomial

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(finite, finite), min_size=3, max_size=40))
def test_fit_line_is_linregress_to_the_last_bit(points):
    x, y = (np.array(v, dtype=float) for v in zip(*points))
    if np.ptp(x) == 0:
        with pytest.raises(ValueError):
            fit_line(x, y)
        return
    with np.errstate(all="ignore"):
        line, expected = fit_line(x, y), stats.linregress(x, y)
    # assert_equal: the same bits, and NaN where linregress gives NaN (subnormal spreads)
    np.testing.assert_equal((line.slope, line.intercept), (float(expected.slope), float(expected.intercept)))


def test_fit_line_on_the_paper_scale():
    x = np.log10([3e20, 1e21, 4e21, 1e22, 3e22])
    y = np.array([-0.41, -0.40, -0.43, -0.38, -0.30])
    line, expected = fit_line(x, y), stats.linregress(x, y)
    assert (line.intercept, line.slope) == (float(expected.intercept), float(expected.slope))
    assert line.n == 5


@pytest.mark.parametrize("degree", [2, 3, 5])
@pytest.mark.parametrize("seed", range(5))
def test_curvature_p_value_is_the_f_distribution_survival(degree, seed):
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(19, 24, 12))
    y = 0.1 * (x - 21.5) ** 2 + rng.normal(0, 0.05, x.size)
    poly = fit_polynomial(x, y, degree)
    p_value = curvature_p_value(x, y, poly)
    rss_curve = np.sum(np.square(y - poly(x)))
    rss_line = np.sum(np.square(y - np.polyval(np.polyfit(x, y, 1), x)))
    statistic = ((rss_line - rss_curve) / (degree - 1)) / (rss_curve / (x.size - degree - 1))
    assert p_value == float(stats.f.sf(max(statistic, 0.0), degree - 1, x.size - degree - 1))


def test_fitting_does_not_import_scipy_stats():
    """The point of the two replacements: a fit imports neither scipy.stats nor scipy.optimize's bulk
    before it needs them (a fresh process, so this test's own imports do not count)."""
    code = ("import sys, numpy as np\n"
            "from slicesand.fitting.model import fit_line, curvature_p_value, fit_polynomial\n"
            "import slicesand.pipeline.stages\n"
            "assert 'scipy' not in sys.modules, 'importing the stages imports scipy'\n"
            "x = np.arange(6.0); y = (x - 2.5) ** 2\n"
            "fit_line(x, y); curvature_p_value(x, y, fit_polynomial(x, y, 2))\n"
            "print('scipy.stats' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


@pytest.mark.parametrize("with_accuracy, says", [(0, "accuracy is unknown for the training models"),
                                                 (2, "only 2 training model(s) have an accuracy")])
def test_too_few_accuracies_say_why_tc_brier_alone_is_forecast(with_accuracy, says):
    import pandas as pd

    from slicesand.fitting.model import FitOptions, fit_slices

    x = np.linspace(20, 21.5, 6)
    frame = pd.DataFrame({"model": [f"m{i}" for i in range(6)], "flops": 10 ** x,
                          "group_1": -0.2 + 0.01 * x, "group_2": -0.5 + 0.02 * x, "group_3": -0.8 + 0.03 * x,
                          "tc_brier": -0.5 + 0.02 * x, "accuracy": [0.3, 0.4] + [np.nan] * 4})
    if with_accuracy == 0:
        frame["accuracy"] = np.nan
    fit = fit_slices(frame, FitOptions(cut=1e21, easy_degree=1, hard_degree=1))  # 4 training models
    assert not fit.has_accuracy
    assert [w.message for w in fit.warnings if w.code == "accuracy-unknown"][0].startswith(says)
