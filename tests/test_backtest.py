"""Backtesting at several cuts against the sigmoid, linear and flat baselines."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from slicesand.backtest import MIN_TEST, MIN_TRAIN, automatic_cuts, backtest
from slicesand.cli import app
from slicesand.fitting import PAPER_OPTIONS, FitOptions

DATA = Path(__file__).parent / "data" / "paper"
TABLE = DATA / "hindu_knowledge_g3_t1.csv"


def test_automatic_cuts_leave_enough_models():
    flops = pd.read_csv(TABLE)["flops"].to_numpy()
    cuts = automatic_cuts(flops)
    assert cuts and np.allclose(np.diff(np.log10(cuts)), 0.25)
    for cut in cuts:
        assert (flops < cut).sum() >= MIN_TRAIN and (flops >= cut).sum() >= MIN_TEST


def test_backtest_rows_and_overall():
    frame = pd.read_csv(TABLE)
    result = backtest(frame, [1e22, 1e23], chance=0.25)
    table = result.table
    assert list(table["cut"].astype(str))[-1] == "overall"
    assert {"mse_forecast", "mse_sigmoid", "mse_linear", "mse_flat", "mae_flat"} <= set(table.columns)
    assert table["mse_forecast"].iloc[-1] == np.mean(table["mse_forecast"].iloc[:-1])


def test_backtest_paper_options_match_the_reference_at_the_paper_cut():
    frame = pd.read_csv(TABLE)
    reference = json.loads((DATA / "reference_results.json").read_text())["hindu_knowledge"]
    row = backtest(frame, [10 ** 1.0 * 1e21], chance=0.25, options=FitOptions(**PAPER_OPTIONS)).table.iloc[0]
    assert abs(row["mse_forecast"] - reference["mse_ours"]) < 1e-6
    assert abs(row["mse_sigmoid"] - reference["mse_baseline"]) < 1e-6


def test_backtest_cli_json():
    result = CliRunner().invoke(app, ["backtest", str(TABLE), "--cuts", "1e22,3e22", "-f", "json", "-q"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert len(document["rows"]) == 3 and "ranked once" in document["notes"][0]
