"""The CLI as a user meets it: data on stdout, messages on stderr, pipes, formats, determinism."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pandas as pd
import pytest

from tests.conftest import write_dump
from slicesand import __version__
from slicesand.cli import app


@pytest.fixture
def dump(tmp_path):
    rows = [(f"m{i}", f"q{j:02d}", c, round(0.2 + 0.5 * c + 0.005 * j, 4), 10 ** (20 + i / 3))
            for i in range(12) for j in range(30) for c in [int((7 * j + i * i) % 12 < i)]]
    return write_dump(tmp_path / "dump.csv", rows)


def test_version(runner):
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout.strip() == f"slicesand {__version__}"


def test_slice_to_stdout_is_csv_only(runner, dump):
    result = runner.invoke(app, ["slice", str(dump), "--cut", "1e22"])
    assert result.exit_code == 0, result.stderr
    frame = pd.read_csv(io.StringIO(result.stdout))
    assert list(frame.columns[:7]) == ["model", "flops", "accuracy", "tc_brier", "group_1", "group_2", "group_3"]
    assert len(frame) == 12
    assert "sliced 30 questions" in result.stderr


def test_quiet_silences_stderr(runner, dump, tmp_path):
    result = runner.invoke(app, ["slice", str(dump), "-o", str(tmp_path / "s.csv"), "--quiet"])
    assert result.exit_code == 0 and result.stderr == "" and result.stdout == ""


def test_slice_fit_predict_chain_through_files_and_stdin(runner, dump, tmp_path):
    slices = tmp_path / "slices.parquet"
    assert runner.invoke(app, ["slice", str(dump), "--cut", "1e22", "-o", str(slices),
                               "--questions", str(tmp_path / "q.csv")]).exit_code == 0
    assert (tmp_path / "slices.parquet.meta.json").exists()
    meta = json.loads((tmp_path / "slices.parquet.meta.json").read_text())
    assert meta["schema"] == "slicesand.slices" and meta["parameters"]["cut"] == 1e22
    assert meta["input"]["name"] == "dump.csv" and len(meta["input"]["sha256"]) == 64
    fit = runner.invoke(app, ["fit", str(slices), "--easy-degree", "3", "-o", str(tmp_path / "fit.json")])
    assert fit.exit_code == 0, fit.stderr
    assert "using the cut the slices were ranked with" in fit.stderr
    document = json.loads((tmp_path / "fit.json").read_text())
    assert document["parameters"]["cut"] == 1e22 and document["easy"]["degree"] == 3
    assert document["tool"]["version"] == __version__ and document["schema_version"] == 1
    # A slices table on stdin
    csv_text = runner.invoke(app, ["slice", str(dump), "--cut", "1e22"]).stdout
    predicted = runner.invoke(app, ["predict", str(tmp_path / "fit.json"), "-", "--at", "1e24,1e25",
                                    "--format", "csv"], input=csv_text)
    assert predicted.exit_code == 0, predicted.stderr
    frame = pd.read_csv(io.StringIO(predicted.stdout))
    assert frame.columns.tolist() == ["model", "flops", "split", "pred_easy", "pred_hard", "pred_tc_brier",
                                      "pred_accuracy", "pred_accuracy_lo", "pred_accuracy_hi",
                                      "baseline_accuracy", "observed_accuracy", "sandwich_accuracy",
                                      "bounded_sigmoid_accuracy", "linear_accuracy",
                                      "flat_accuracy"]  # intervals: --bootstrap 1000
    assert len(frame) == 14 and set(frame["split"]) == {"train", "test", "none"}
    assert "test MSE" in predicted.stderr


def test_predict_formats(runner, dump, tmp_path):
    runner.invoke(app, ["run", str(dump), "--cut", "1e22", "--easy-degree", "3", "-o", str(tmp_path / "out")])
    fit = str(tmp_path / "out" / "fit.json")
    as_json = json.loads(runner.invoke(app, ["predict", fit, "--grid", "1e20:1e24:5", "-f", "json"]).stdout)
    assert len(as_json["predictions"]) == 5 and "threshold_flops" in as_json
    table = runner.invoke(app, ["predict", fit, "--at", "1e24", "-f", "table"])
    assert table.exit_code == 0 and "Forecast" in table.stdout and "┃" in table.stdout


def test_run_writes_every_artifact_and_is_deterministic(runner, dump, tmp_path):
    outputs = []
    for name in ("a", "b"):
        result = runner.invoke(app, ["run", str(dump), "--cut", "1e22", "--easy-degree", "3", "--at", "1e24",
                                     "-o", str(tmp_path / name), "-f", "json"])
        assert result.exit_code == 0, result.stderr
        outputs.append({p.name: p.read_bytes() for p in (tmp_path / name).iterdir()})
    assert {"slices.csv", "slices.csv.meta.json", "questions.csv", "fit.json", "predictions.csv",
            "predictions.csv.meta.json", "report.md"} <= set(outputs[0])
    assert outputs[0] == outputs[1]
    facts = json.loads(result.stdout)
    assert facts["models"]["training"] + facts["models"]["test"] == 12


def test_report_refuses_a_stale_folder(runner, dump, tmp_path):
    out = tmp_path / "out"
    runner.invoke(app, ["run", str(dump), "--cut", "1e22", "--easy-degree", "3", "-o", str(out)])
    ok = runner.invoke(app, ["report", str(out), "-f", "md"])
    assert ok.exit_code == 0 and ok.stdout.startswith("# slicesand forecast")
    # Refit with other settings but keep the old predictions: the folder is now inconsistent.
    runner.invoke(app, ["fit", str(out / "slices.csv"), "--easy-degree", "2", "-o", str(out / "fit.json")])
    stale = runner.invoke(app, ["report", str(out)])
    assert stale.exit_code == 4 and "stale" in stale.stderr


def test_paper_conflicts_with_other_degrees(runner, dump):
    result = runner.invoke(app, ["fit", str(dump), "--paper", "--easy-degree", "3"])
    assert result.exit_code == 2 and "--paper" in result.stderr


def test_no_traceback_when_piped_into_head(tmp_path, dump):
    """A real pipe: `slicesand predict ... | head -1` must end quietly."""
    out = tmp_path / "out"
    subprocess.run([sys.executable, "-m", "slicesand", "run", str(dump), "--cut", "1e22", "--easy-degree", "3",
                    "-o", str(out), "-q"], check=True)
    command = (f"{sys.executable} -m slicesand predict {out / 'fit.json'} --grid 1e19:1e26:10000 "
               f"-f csv | head -n 1")
    result = subprocess.run(["bash", "-c", f"set -o pipefail; {command}"], capture_output=True, text=True)
    assert result.stdout.startswith("model,flops")
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr
    assert result.returncode == 0
