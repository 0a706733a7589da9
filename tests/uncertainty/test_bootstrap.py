"""Bootstrap intervals: seeded and reproducible, consistent with the fit, fast."""

import time
from pathlib import Path

import numpy as np
import pandas as pd

import slicesand.uncertainty.bootstrap as bs
from slicesand.fitting.selection import fit_default
from slicesand.fitting.model import PAPER_OPTIONS, FitOptions, fit_slices
from slicesand.forecast.predict import curves, predict
from slicesand.uncertainty.intervals import add_intervals

DATA = Path(__file__).resolve().parents[1] / "data" / "paper"
FRAME = pd.read_csv(DATA / "mmlu_g3_t1.5.csv")
CUT = 10 ** 22.5


def _fits():
    return [fit_default(FRAME, FitOptions(cut=CUT)),
            fit_slices(FRAME, FitOptions(cut=CUT, **PAPER_OPTIONS))]


def test_same_seed_same_intervals_other_seed_other_intervals():
    x = np.log10(FRAME["flops"].to_numpy())
    fit = _fits()[0]
    a, b = bs.bootstrap(fit, FRAME, x, draws=300, seed=7), bs.bootstrap(fit, FRAME, x, draws=300, seed=7)
    c = bs.bootstrap(fit, FRAME, x, draws=300, seed=8)
    assert np.array_equal(a.accuracy_lo, b.accuracy_lo) and np.array_equal(a.accuracy_hi, b.accuracy_hi)
    assert a.summary() == b.summary()
    assert not np.array_equal(a.accuracy_lo, c.accuracy_lo)
    assert np.all(a.accuracy_lo <= a.accuracy_hi)


def test_unit_weights_reproduce_the_fit(monkeypatch):
    # A "draw" that takes every model once is the fit itself: the batched algebra matches fit_slices.
    x = np.log10(FRAME["flops"].to_numpy())
    monkeypatch.setattr(bs, "resample_weights", lambda n, draws, seed: np.ones((1, n)))
    for fit in _fits():
        result = bs.bootstrap(fit, FRAME, x, draws=1)
        # the bootstrap resamples the Slice-and-Sandwich curves (the default then blends them with the trend)
        assert np.allclose(result.accuracy_lo, curves(fit, x)["sandwich_accuracy"], atol=1e-5)


def test_thousand_draws_are_fast():
    x = np.log10(FRAME["flops"].to_numpy())
    fit = _fits()[1]
    start = time.perf_counter()
    bs.bootstrap(fit, FRAME, x, draws=1000, seed=0)
    assert time.perf_counter() - start < 5.0  # measured ~0.03 s


def test_intervals_and_warnings_on_the_forecast():
    fit = _fits()[0]
    forecast = add_intervals(predict(fit, FRAME, at=[1e26]), fit, FRAME, draws=200, seed=0)
    columns = list(forecast.table.columns)
    assert columns[columns.index("pred_accuracy") + 1: columns.index("pred_accuracy") + 3] == [
        "pred_accuracy_lo", "pred_accuracy_hi"]
    assert forecast.intervals["draws"] == 200
    assert any("decades beyond" in w.message and w.category == "extrapolation" for w in forecast.warnings)


def test_cli_run_intervals_are_seeded_and_byte_identical(tmp_path, monkeypatch):
    from tests.reporting.report_fixtures import run_synthetic

    files = ["predictions.csv", "predictions.csv.meta.json", "fit.json", "report.md"]
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir(), (tmp_path / "c").mkdir(), (tmp_path / "d").mkdir()
    a = run_synthetic(tmp_path / "a", monkeypatch, extra=["--seed", "3", "--no-figures"])
    b = run_synthetic(tmp_path / "b", monkeypatch, extra=["--seed", "3", "--no-figures"])
    c = run_synthetic(tmp_path / "c", monkeypatch, extra=["--seed", "4", "--no-figures"])
    off = run_synthetic(tmp_path / "d", monkeypatch, extra=["--bootstrap", "0", "--no-figures"])
    for name in files:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert (a / "predictions.csv").read_bytes() != (c / "predictions.csv").read_bytes()
    table = pd.read_csv(a / "predictions.csv")
    assert {"pred_accuracy_lo", "pred_accuracy_hi"} <= set(table.columns)
    assert (table["pred_accuracy_lo"] <= table["pred_accuracy_hi"]).all()
    import json
    meta = json.loads((a / "predictions.csv.meta.json").read_text())
    assert meta["intervals"]["draws"] == 1000 and meta["intervals"]["seed"] == 3
    assert meta["parameters"]["bootstrap"] == 1000
    assert "90% prediction interval" in (a / "report.md").read_text()
    no_interval = pd.read_csv(off / "predictions.csv")  # the same columns, the interval's empty
    assert list(no_interval.columns) == list(table.columns)
    assert no_interval[["pred_accuracy_lo", "pred_accuracy_hi"]].isna().all().all()
    assert json.loads((off / "predictions.csv.meta.json").read_text())["intervals"] is None


def test_group_instability_is_recorded_and_warned(tmp_path, monkeypatch):
    import json

    from slicesand.uncertainty.stability import group_instability
    from tests.reporting.report_fixtures import run_synthetic

    out = run_synthetic(tmp_path, monkeypatch, extra=["--bootstrap", "0", "--no-figures"])
    facts = json.loads((out / "slices.csv.meta.json").read_text())["facts"]["group_instability"]
    assert 0.0 <= facts["share_changed"] <= 1.0 and facts["draws"] == 40
    # Same seed, same answer; agreeing models give stable groups, three noisy ones do not.
    noisy = np.random.default_rng(1).normal(-0.5, 0.3, (3, 60))
    assert group_instability(noisy, 3, seed=5) == group_instability(noisy, 3, seed=5)
    assert group_instability(noisy, 3).warning() is not None
    assert group_instability(np.tile(np.linspace(-1, 0, 60), (10, 1)), 3).warning() is None


def test_warns_when_the_sigmoid_floor_lifts_the_forecast():
    from slicesand.uncertainty.intervals import trust_warnings

    x = np.linspace(20, 22, 12)
    acc = np.r_[np.full(8, 0.25), [0.27, 0.28, 0.3, 0.32]]  # at chance, then a little above: a steep logit fit
    frame = pd.DataFrame({"model": [f"m{i}" for i in range(12)], "flops": 10 ** x, "accuracy": acc,
                          "tc_brier": acc - 1, "group_1": acc - 0.8 + 0.001 * np.sin(7 * x),
                          "group_2": -0.9 + 0.001 * np.cos(5 * x), "group_3": acc - 1.05})
    # the legacy paper-sigmoid floor (no longer the default)
    fit = fit_slices(frame, FitOptions(variant="hard-lift", easy_degree=3, hard_average=True, baseline_floor=True,
                                       extrapolation="linear"))
    forecast = predict(fit, frame, at=[1e23])
    assert any("sigmoid floor lifts" in w.message and w.code == "floor-lift" for w in trust_warnings(fit, forecast))
