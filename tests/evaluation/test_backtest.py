"""Backtesting at several cuts against the sigmoid, linear and flat baselines."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from slicesand.evaluation.backtest import MIN_TEST, MIN_TRAIN, automatic_cuts, backtest
from slicesand.cli import app
from slicesand.fitting.model import PAPER_OPTIONS, FitOptions

DATA = Path(__file__).resolve().parents[1] / "data" / "paper"
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
    assert list(table["scope"]) == ["cut", "cut", "overall"]
    assert table["cut"].dtype == float and list(table["cut"].iloc[:-1]) == [1e22, 1e23] and np.isnan(table["cut"].iloc[-1])
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
    assert [(row["scope"], row["cut"]) for row in document["rows"]] == [("cut", 1e22), ("cut", 3e22), ("overall", None)]


def test_backtest_cut_column_is_numeric_in_csv_and_table():
    args = ["backtest", str(TABLE), "--cuts", "1e22,3e22", "--bootstrap", "0", "-q"]
    csv = CliRunner().invoke(app, [*args, "-f", "csv"])
    assert csv.exit_code == 0, csv.output
    import io

    table = pd.read_csv(io.StringIO(csv.stdout))
    assert list(table.columns[:2]) == ["scope", "cut"] and table["cut"].dtype == float
    assert list(table["scope"]) == ["cut", "cut", "overall"] and np.isnan(table["cut"].iloc[-1])
    shown = CliRunner().invoke(app, [*args, "-f", "table"], env={"COLUMNS": "80"})
    assert shown.exit_code == 0, shown.output
    overall = shown.stdout[shown.stdout.index("overall"):]
    # The overall row: no cut, no training count (blank, not "overall" or "<NA>" in a numeric column).
    lines = {line.split()[0]: line.split()[1:] for line in overall.splitlines()[:5] if line.strip()}
    assert lines["cut"] == [] and lines["n_train"] == [] and lines["n_test"] == ["64"], overall


def _dump(tmp_path):
    from tests.conftest import write_dump

    rng = np.random.default_rng(0)
    x = np.linspace(20, 24, 24)
    skill = 1 / (1 + np.exp(-(x - 22.8) * 2))  # emerges near 10^22.8
    difficulty = rng.uniform(0, 1, 60)
    p = 0.25 + 0.75 * (skill[:, None] > difficulty[None, :]) * 0.9 + rng.uniform(0, 0.05, (24, 60))
    p = np.clip(p, 0, 1)
    rows = [(f"m{i:02d}", f"q{j:02d}", int(p[i, j] > 0.5), round(float(p[i, j]), 4), 10 ** x[i])
            for i in range(24) for j in range(60)]
    return write_dump(tmp_path / "dump.csv", rows)


def test_backtest_reports_coverage_and_threshold_error():
    result = backtest(pd.read_csv(TABLE), [1e22, 1e23], chance=0.25, draws=200, seed=0)
    rows = result.table.iloc[:-1]
    assert rows["coverage_90"].between(0, 1).all()
    assert rows["threshold_observed_log10"].notna().all()  # hindu knowledge does emerge
    assert any("isotonic" in note for note in result.notes)
    again = backtest(pd.read_csv(TABLE), [1e22, 1e23], chance=0.25, draws=200, seed=0)
    assert again.table.equals(result.table)  # seeded


def test_observed_threshold_needs_a_rise():
    from slicesand.evaluation.backtest import observed_threshold

    x = np.linspace(20, 24, 9)
    assert observed_threshold(x, np.full(9, 0.25) + 0.01 * np.sin(x)) is None
    assert observed_threshold(x, np.where(x >= 22.5, 0.8, 0.25)) == 22.5


def test_backtest_cli_dump_is_resliced_per_cut(tmp_path):
    dump = _dump(tmp_path)
    result = CliRunner().invoke(app, ["backtest", str(dump), "--cuts", "1e22,1e23", "--bootstrap", "100",
                                      "-f", "json", "-q"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert "re-sliced" in document["notes"][0] and not any("ranked once" in n for n in document["notes"])
    rows = document["rows"][:-1]
    assert [r["n_train"] for r in rows] == [int((np.linspace(20, 24, 24) < c).sum()) for c in (22, 23)]
    assert all(0 <= r["coverage_90"] <= 1 for r in rows)
    # The same dump on stdin is told apart from a slices table by its question column.
    piped = CliRunner().invoke(app, ["backtest", "-", "--cuts", "1e22", "--bootstrap", "0", "-f", "json", "-q"],
                               input=dump.read_text())
    assert piped.exit_code == 0, piped.output
    assert json.loads(piped.stdout)["rows"][0]["n_train"] == rows[0]["n_train"]
