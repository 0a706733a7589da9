"""slicesand reproduces the paper's reference code (fit_cluster.py) on all six tasks, to 1e-6."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from tests.conftest import PAPER_TASKS, paper_cut, paper_table
from slicesand.cli import app
from slicesand.fitting.model import PAPER_OPTIONS, FitOptions, fit_slices
from slicesand.forecast.predict import predict


def _fit(task: str, variant: str = "sandwich"):
    threshold, chance = PAPER_TASKS[task]
    frame = pd.read_csv(paper_table(task))
    options = FitOptions(cut=paper_cut(threshold), chance=chance, **{**PAPER_OPTIONS, "variant": variant})
    fit = fit_slices(frame, options)
    return fit, predict(fit, frame)


@pytest.mark.parametrize("task", PAPER_TASKS)
def test_sandwich_matches_reference(task, reference):
    expected = reference[task]
    fit, forecast = _fit(task)
    table = forecast.table.set_index("model")
    assert len(fit.training_models) == expected["n_train"]
    assert forecast.n_test_scored == expected["n_test"]
    for model in expected["test_models"]:
        row = table.loc[model["model"]]
        assert row["split"] == "test"
        assert row["pred_tc_brier"] == pytest.approx(model["brier_pred"], abs=1e-6)
        assert row["pred_accuracy"] == pytest.approx(model["ours"], abs=1e-6)
        assert row["baseline_accuracy"] == pytest.approx(model["baseline"], abs=1e-6)
    assert forecast.mse["forecast"] == pytest.approx(expected["mse_ours"], rel=1e-6)
    assert forecast.mse["baseline"] == pytest.approx(expected["mse_baseline"], rel=1e-6)


@pytest.mark.parametrize("task", PAPER_TASKS)
def test_coefficients_match_reference(task, reference):
    expected = reference[task]
    fit, _ = _fit(task)
    # The reference reports polynomials in x' = log10(flops / 1e21); fits agree, so coefficients do too.
    np.testing.assert_allclose(fit.easy.paper_coef(), expected["easy_coefs"], rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(fit.hard.paper_coef(), expected["hard_coefs"], rtol=1e-6, atol=1e-8)
    assert fit.tc_to_accuracy.intercept == pytest.approx(expected["ols_intercept"], rel=1e-9)
    assert fit.tc_to_accuracy.slope == pytest.approx(expected["ols_slope"], rel=1e-9)
    assert fit.accuracy_shift == pytest.approx(expected["acc_mean_shift"], abs=1e-9)
    assert fit.baseline.slope == pytest.approx(expected["baseline_slope"], rel=1e-9)
    # Our baseline is linear in log10(flops); the paper's in log10(flops) - 21.
    paper_intercept = fit.baseline.intercept + 21 * fit.baseline.slope
    assert paper_intercept == pytest.approx(expected["baseline_intercept"], rel=1e-9)


@pytest.mark.parametrize("task", PAPER_TASKS)
def test_hard_lift_matches_reference(task, reference):
    expected = reference[task]["hard_lift"]
    _, forecast = _fit(task, "hard-lift")
    table = forecast.table.set_index("model")
    for model in expected["test_models"]:
        assert table.loc[model["model"], "pred_tc_brier"] == pytest.approx(model["brier_pred"], abs=1e-6)
        assert table.loc[model["model"], "pred_accuracy"] == pytest.approx(model["ours"], abs=1e-6)
    assert forecast.mse["forecast"] == pytest.approx(expected["mse_ours"], rel=1e-6)


@pytest.mark.parametrize("variant", ["sandwich", "hard-lift"])
def test_paper_preset_through_the_cli(tmp_path, runner, reference, variant):
    """The same numbers through `fit --paper` and `predict --format json`, via the written fit.json."""
    task = "mmlu"
    threshold, chance = PAPER_TASKS[task]
    fit_path = tmp_path / "fit.json"
    args = ["fit", str(paper_table(task)), "--cut", repr(paper_cut(threshold)), "--chance", str(chance),
            "--paper", "-o", str(fit_path)]
    if variant == "hard-lift":
        args[args.index("--paper")] = "--easy-degree"
        args.insert(args.index("--easy-degree") + 1, "5")
        args += ["--hard-degree", "2", "--variant", "hard-lift"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    result = runner.invoke(app, ["predict", str(fit_path), str(paper_table(task)), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    expected = reference[task] if variant == "sandwich" else reference[task]["hard_lift"]
    assert document["test_mse"]["forecast"] == pytest.approx(expected["mse_ours"], rel=1e-6)
    predicted = {row["model"]: row["pred_accuracy"] for row in document["predictions"]}
    for model in expected["test_models"]:
        assert predicted[model["model"]] == pytest.approx(model["ours"], abs=1e-6)
