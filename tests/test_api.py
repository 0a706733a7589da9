"""The public API: lazy, the same forecast as the command line, and the README's example runs."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import slicesand

ROOT = Path(__file__).resolve().parents[1]
DUMP, MODELS = "sample_data/eval_dump.csv", "sample_data/models.csv"
SAME_BYTES = ["slices.csv", "slices.csv.meta.json", "questions.csv", "fit.json", "predictions.csv",
              "predictions.csv.meta.json", "spectrum.csv"]


def test_import_is_lazy_and_exports_what_all_names():
    code = ("import sys, slicesand; heavy = [m for m in ('pandas', 'numpy', 'slicesand.api', 'typer') "
            "if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    for name in slicesand.__all__:
        assert getattr(slicesand, name) is not None
    with pytest.raises(AttributeError):
        slicesand.no_such_thing  # noqa: B018


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    """The same input and options through `slicesand run` (a subprocess) and `slicesand.run`."""
    cli_out, lib_out = tmp_path_factory.mktemp("cli"), tmp_path_factory.mktemp("lib")
    subprocess.run([sys.executable, "-m", "slicesand", "run", DUMP, "--models", MODELS, "--cut", "3e22",
                    "--at", "1e24", "--bootstrap", "200", "-o", str(cli_out), "-q", "-f", "json"],
                   cwd=ROOT, check=True, capture_output=True)
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(ROOT)
        result = slicesand.run(DUMP, models=MODELS, cut=3e22, at=[1e24], bootstrap=200, output=lib_out)
    return cli_out, lib_out, result


def test_library_and_cli_give_the_same_artifacts(both):
    cli_out, lib_out, result = both
    for name in SAME_BYTES:
        assert (cli_out / name).read_bytes() == (lib_out / name).read_bytes(), name
    cli_predictions = pd.read_csv(cli_out / "predictions.csv")
    assert result.predictions["pred_accuracy"].to_numpy() == pytest.approx(
        cli_predictions["pred_accuracy"].to_numpy(), rel=1e-15)
    assert result.fit.selection is not None, "the library takes the CLI's automatic default"


def test_result_object(both):
    _, lib_out, result = both
    assert set(result.slices["model"]) <= set(result.predictions["model"])
    assert result.threshold == json.loads(result.report("json"))["threshold_flops"]
    assert [w.code for w in result.warnings] and all(w.category for w in result.warnings)
    assert result.report("md") == (lib_out / "report.md").read_text(encoding="utf-8")
    assert result.report("html").startswith("<!DOCTYPE html>") or "<html" in result.report("html")[:200]
    assert "Settings" in result.report("table")
    with pytest.raises(slicesand.UsageError, match="`format`"):
        result.report("pdf")


def test_a_dataframe_gives_the_same_forecast_as_its_file(both):
    _, _, from_file = both
    frame = pd.read_csv(ROOT / DUMP)
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(ROOT)
        from_frame = slicesand.run(frame, models=MODELS, cut=3e22, at=[1e24], bootstrap=200)
    pd.testing.assert_frame_equal(from_frame.predictions, from_file.predictions)
    assert from_frame.result.slice_stage.source.name == "<DataFrame>"


def test_stage_functions_match_run(both):
    _, _, result = both
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(ROOT)
        sliced = slicesand.slice_dump(DUMP, models=MODELS, cut=3e22)
    pd.testing.assert_frame_equal(sliced.slices, result.slices)
    fit = slicesand.fit_slices(sliced.slices, cut=3e22)
    assert fit.easy.coef == result.fit.easy.coef
    forecast = slicesand.predict(fit, sliced.slices, at=[1e24], bootstrap=0)
    assert forecast.table["pred_accuracy"].to_numpy() == pytest.approx(
        result.predictions["pred_accuracy"].to_numpy(), rel=1e-12)


def test_errors_name_parameters_in_the_library():
    with pytest.raises(slicesand.UsageError, match="`paper` fixes the paper's settings; it conflicts with "
                                                   "`easy_degree` 3"):
        slicesand.run_config(paper=True, easy_degree=3)


def test_readme_from_python_example_runs(monkeypatch, capsys):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### From Python", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    assert len(code.strip().splitlines()) == 5
    monkeypatch.chdir(ROOT)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 - the README's own example
    assert namespace["markdown"].startswith("# slicesand forecast")
    printed = capsys.readouterr().out
    assert "pred_accuracy" in printed and "beyond-training-range" in printed


def test_the_library_writes_a_sealed_run_folder_as_the_cli_does(both, tmp_path):
    _, lib_out, _ = both
    assert (lib_out / "manifest.json").exists()
    report = subprocess.run([sys.executable, "-m", "slicesand", "report", str(lib_out), "-f", "json"],
                            cwd=ROOT, capture_output=True, text=True)
    assert report.returncode == 0, report.stderr  # report reads (and checks) it
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(ROOT)
        with pytest.raises(slicesand.UsageError, match="not a slicesand run folder"):
            slicesand.run(DUMP, models=MODELS, cut=3e22, bootstrap=0, figures=False, output=mine)
        assert sorted(p.name for p in mine.iterdir()) == ["notes.txt"]  # untouched
        slicesand.run(DUMP, models=MODELS, cut=3e22, bootstrap=0, figures=False, output=mine, force=True)
    assert (mine / "manifest.json").exists() and not (mine / "notes.txt").exists()
