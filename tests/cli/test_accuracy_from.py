"""A dump with p_correct only (sampled pass@1), through the real CLI: run and backtest, with and without
``--accuracy-from p_correct``. No internal error anywhere."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def ponly(tmp_path_factory):
    """The sample dump without its correct column, on 20 of its models (fast)."""
    folder = tmp_path_factory.mktemp("ponly")
    dump = pd.read_csv(ROOT / "sample_data" / "eval_dump.csv")
    models = pd.read_csv(ROOT / "sample_data" / "models.csv")
    keep = models["model"].iloc[::2]
    dump = dump[dump["model"].isin(keep) & dump["question"].isin(dump["question"].unique()[:400])]
    dump.drop(columns="correct").to_csv(folder / "ponly.csv", index=False)
    models[models["model"].isin(keep)].to_csv(folder / "models.csv", index=False)
    return folder


def _cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "slicesand", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def test_run_without_accuracy_forecasts_tc_brier(ponly):
    done = _cli("run", "ponly.csv", "--models", "models.csv", "--cut", "3e22", "--at", "1e24", "-o", "tc",
                "--bootstrap", "50", cwd=ponly)
    assert done.returncode == 0, done.stderr
    predictions = pd.read_csv(ponly / "tc" / "predictions.csv")
    assert predictions["pred_tc_brier"].between(-1, 0).all() and predictions["pred_accuracy"].isna().all()
    fit = json.loads((ponly / "tc" / "fit.json").read_text())
    assert fit["selection"]["candidate"] == "sandwich (TC Brier only)"


def test_run_with_accuracy_from_p_correct(ponly):
    done = _cli("run", "ponly.csv", "--models", "models.csv", "--cut", "3e22", "--at", "1e24", "-o", "p",
                "--accuracy-from", "p_correct", "--bootstrap", "50", cwd=ponly)
    assert done.returncode == 0, done.stderr
    slices = pd.read_csv(ponly / "p" / "slices.csv")
    dump = pd.read_csv(ponly / "ponly.csv")
    expected = dump.groupby("model")["p_correct"].mean()
    assert np.allclose(slices.set_index("model")["accuracy"], expected.reindex(slices["model"]), atol=1e-9)
    predictions = pd.read_csv(ponly / "p" / "predictions.csv")
    assert predictions["pred_accuracy"].between(0, 1).all()
    assert (predictions["pred_accuracy_lo"] <= predictions["pred_accuracy"]).all()


def test_backtest_with_and_without_accuracy(ponly):
    done = _cli("backtest", "ponly.csv", "--models", "models.csv", "--accuracy-from", "p_correct",
                "--bootstrap", "0", "--format", "csv", cwd=ponly)
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(pd.io.common.StringIO(done.stdout))
    assert {"mae_forecast", "mae_sandwich", "mae_bounded_sigmoid", "mae_linear", "mae_flat"} <= set(table.columns)
    # Without --accuracy-from a p_correct-only dump is scored on its expected accuracy, and says so.
    plain = _cli("backtest", "ponly.csv", "--models", "models.csv", "--bootstrap", "0", "--format", "csv", cwd=ponly)
    assert plain.returncode == 0, plain.stderr
    assert "accuracy is the mean p_correct" in plain.stderr and plain.stdout == done.stdout
