"""Each baseline against a hand computation, and the valid-range property of every forecast."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from slicesand.artifacts.documents import fit_document, fit_from_document
from slicesand.fitting.baselines import (BoundedSigmoid, FlatTrend, LinearTrend, PaperSigmoid, baseline_from_dict,
                                         paper_logit)
from slicesand.fitting.model import FitOptions, fit_slices
from slicesand.fitting.selection import fit_default
from slicesand.forecast.predict import EXTRA_COLUMNS, predict

X = np.array([20.0, 21.0, 22.0, 23.0])


def test_linear_is_ols_then_clipped():
    # By hand: accuracy 0.3, 0.35, 0.45, 0.5 -> slope = sum(dx dy)/sum(dx^2) = (0.3+0.05+0.05+0.3)/5 = 0.07.
    fitted = LinearTrend(chance=0.25, floor=0.2).fit(X, np.array([0.3, 0.35, 0.45, 0.5]))
    assert fitted.slope == pytest.approx(0.07)
    assert fitted.intercept == pytest.approx(0.4 - 0.07 * 21.5)
    assert fitted.predict(np.array([24.0, 40.0, 0.0])).tolist() == pytest.approx([0.4 + 0.07 * 2.5, 1.0, 0.2])


def test_flat_is_the_mean_of_the_three_largest():
    fitted = FlatTrend(chance=0.25).fit(np.array([23.0, 20.0, 22.0, 21.0]), np.array([0.9, 0.1, 0.5, 0.4]))
    assert fitted.predict(np.array([25.0, 30.0])).tolist() == pytest.approx([0.6, 0.6])


def test_paper_sigmoid_is_ols_on_the_clipped_logit():
    accuracy = np.array([0.25, 0.3, 0.45, 0.7])
    y = np.clip(accuracy - 0.25, 0, 1)
    target = np.log((y + 1e-6) / (1 - y + 1e-6))
    slope = np.sum((X - X.mean()) * (target - target.mean())) / np.sum((X - X.mean()) ** 2)
    fitted = PaperSigmoid(chance=0.25).fit(X, accuracy)
    assert fitted.slope == pytest.approx(slope)
    assert np.allclose(paper_logit(accuracy, 0.25), target)
    # Its ceiling is chance + 1: far out it forecasts above 1, which is why it is not the default.
    assert fitted.predict(np.array([40.0]))[0] > 1.0


def test_bounded_sigmoid_recovers_a_known_curve_and_stays_in_range():
    x = np.linspace(19, 24, 21)
    truth = 0.25 + 0.75 / (1 + np.exp(-(1.5 * (x - 22.0))))
    fitted = BoundedSigmoid(chance=0.25).fit(x, truth)
    assert fitted.slope == pytest.approx(1.5, abs=1e-4)
    assert fitted.intercept == pytest.approx(-33.0, abs=1e-3)
    far = fitted.predict(np.array([0.0, 100.0]))
    assert far[0] == pytest.approx(0.25) and far[1] == pytest.approx(1.0)
    # One model at chance is one ordinary point, not a logit of -13.8: the fit barely moves.
    spoiled = truth.copy()
    spoiled[0] = 0.25
    assert BoundedSigmoid(chance=0.25).fit(x, spoiled).slope == pytest.approx(1.5, abs=0.05)


def test_bounded_sigmoid_slope_is_bounded():
    step = np.where(X < 23, 0.25, 0.95)
    assert abs(BoundedSigmoid(chance=0.25).fit(X, step).slope) <= 4.0 + 1e-12


@pytest.mark.parametrize("cls", [PaperSigmoid, BoundedSigmoid, LinearTrend, FlatTrend])
def test_round_trip_through_a_dict(cls):
    fitted = cls(chance=0.2, floor=0.1).fit(X, np.array([0.2, 0.3, 0.35, 0.5]))
    again = baseline_from_dict(fitted.to_dict())
    points = np.array([19.0, 22.5, 26.0])
    assert np.array_equal(fitted.predict(points), again.predict(points))


def _frame(seed, n, slope, curvature, noise):
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(19, 23, n))
    acc = np.clip(0.25 + slope * (x - 19) + curvature * (x - 21) ** 2 + rng.normal(0, noise, n), 0, 1)
    tc = acc - 1 + rng.normal(0, noise, n)
    return pd.DataFrame({"model": [f"m{i}" for i in range(n)], "flops": 10 ** x, "accuracy": acc,
                         "tc_brier": np.clip(tc, -1, 0), "group_1": np.clip(tc + 0.3 + curvature * x, -1, 0),
                         "group_2": np.clip(tc - 0.1, -1, 0), "group_3": np.clip(tc - 0.3 - slope * x, -1, 0)})


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(12, 30), slope=st.floats(-0.1, 0.3),
       curvature=st.floats(-0.1, 0.1), noise=st.floats(0.005, 0.1), easy=st.integers(1, 5), hard=st.integers(1, 3))
def test_no_forecast_leaves_the_valid_range(seed, n, slope, curvature, noise, easy, hard):
    frame = _frame(seed, n, slope, curvature, noise)
    cut = float(np.sort(frame["flops"])[n - 4])
    fits = [fit_slices(frame, FitOptions(cut=cut, easy_degree=easy, hard_degree=hard)),
            fit_default(frame, FitOptions(cut=cut))]
    for fit in fits:
        table = predict(fit, frame, at=[1e10, 1e25, 1e30]).table
        floor = fit.accuracy_floor
        for column in ["pred_accuracy", "baseline_accuracy", *EXTRA_COLUMNS]:
            values = table[column].to_numpy(dtype=float)
            assert ((values >= floor - 1e-12) & (values <= 1 + 1e-12)).all(), (column, values)
        assert ((table["pred_tc_brier"] >= -1) & (table["pred_tc_brier"] <= 0)).all()


def test_paper_mode_warns_when_out_of_range():
    from tests.conftest import PAPER_TASKS, paper_cut, paper_table
    from slicesand.fitting.model import PAPER_OPTIONS

    threshold, chance = PAPER_TASKS["mmlu"]
    frame = pd.read_csv(paper_table("mmlu"))
    fit = fit_slices(frame, FitOptions(cut=paper_cut(threshold), chance=chance, **PAPER_OPTIONS))
    forecast = predict(fit, frame, at=[1e26])
    assert any(w.code == "out-of-range" and w.message.startswith("unclipped (--paper)") for w in forecast.warnings)


def test_fit_json_keeps_every_baseline():
    frame = _frame(0, 20, 0.05, 0.0, 0.01)
    fit = fit_default(frame, FitOptions(cut=float(np.sort(frame["flops"])[15])))
    again = fit_from_document(fit_document(fit, None), "fit.json")
    assert set(again.baselines) == {"sigmoid", "bounded_sigmoid", "linear", "flat"}
    points = [1e22, 1e24]
    assert predict(again, at=points).table.equals(predict(fit, at=points).table)
