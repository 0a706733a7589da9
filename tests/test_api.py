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


# What records the command line (the library has none) differs; every other file is the same bytes.
COMMAND_FILES = {"run.json", "report.md", "manifest.json"}
TASK_OPTIONS = {"cut": 1e22, "easy_degree": 3, "bootstrap": 50}


@pytest.fixture(scope="module")
def two_tasks(tmp_path_factory):
    """A two-task dump, and the folder `slicesand run` (a subprocess) writes of it."""
    from tests.cli.shell_helpers import small_dump

    root = tmp_path_factory.mktemp("tasks")
    dump = small_dump(root / "multi.csv", tasks=["alpha", "beta/x"])
    subprocess.run([sys.executable, "-m", "slicesand", "run", str(dump), "--cut", "1e22", "--easy-degree", "3",
                    "--bootstrap", "50", "-o", str(root / "cli"), "-q", "-f", "json"],
                   cwd=ROOT, check=True, capture_output=True)
    return dump, root


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_multitask_dump_gives_the_cli_s_folder_from_the_library(two_tasks):
    from slicesand.pipeline.tasks import task_folder_names

    dump, root = two_tasks
    result = slicesand.run(dump, output=root / "lib", **TASK_OPTIONS)
    cli, lib = _files(root / "cli"), _files(root / "lib")
    assert sorted(cli) == sorted(lib) and "tasks.json" in cli and len(cli) > 30
    differ = sorted(name for name in cli if cli[name] != lib[name])
    assert {name.rsplit("/", 1)[-1] for name in differ} <= COMMAND_FILES, differ
    for name in (n for n in differ if n.endswith("run.json")):  # the command recorded, nothing else
        cli_run, lib_run = json.loads(cli[name]), json.loads(lib[name])
        assert cli_run.pop("command").startswith("slicesand run") and lib_run.pop("command") is None
        assert cli_run == lib_run
    for name in (n for n in differ if n.endswith("manifest.json")):  # the same files; only those differ
        cli_files, lib_files = json.loads(cli[name])["files"], json.loads(lib[name])["files"]
        prefix = name[: -len("manifest.json")]
        assert sorted(cli_files) == sorted(lib_files)
        assert [f for f in cli_files if cli_files[f] != lib_files[f]] == [f for f in cli_files if prefix + f in differ]
    # the result object: one Run per task, and the summary that tasks.csv holds
    assert list(result.tasks) == ["alpha", "beta/x"] and result.outdir == root / "lib"
    beta = task_folder_names(["beta/x"])[0]
    assert result.tasks["beta/x"].outdir == root / "lib" / beta
    assert result.tasks["beta/x"].report("md") == lib[f"{beta}/report.md"].decode("utf-8")
    assert result.summary["task"].tolist() == ["alpha", "beta/x"]
    assert result.report("md") == lib["report.md"].decode("utf-8")
    assert {w.task for w in result.warnings} == {"alpha", "beta/x"}
    with pytest.raises(slicesand.UsageError, match=r"holds 2 tasks.*\.tasks\[NAME\]"):
        result.fit  # noqa: B018 - which task's?


def test_a_multitask_dataframe_writes_the_cli_s_tables(two_tasks):
    dump, root = two_tasks
    result = slicesand.run(pd.read_csv(dump), output=root / "frame", **TASK_OPTIONS)
    cli, frame = _files(root / "cli"), _files(root / "frame")
    assert list(result.tasks) == ["alpha", "beta/x"] and sorted(frame) == sorted(cli)
    tables = [name for name in frame if name.endswith(".csv")]
    assert len(tables) == 1 + 2 * 5, tables  # tasks.csv; per task slices, questions, predictions, band, spectrum
    assert all(frame[name] == cli[name] for name in tables)  # the sidecars name the source: <DataFrame>


def test_a_task_that_cannot_be_forecast_fails_the_library_run_after_its_folder_is_written(two_tasks, tmp_path):
    dump, _ = two_tasks
    frame = pd.read_csv(dump)
    few = frame[(frame["task"] == "alpha") & frame["model"].isin(["m00", "m01", "m02"])].assign(task="few")
    with pytest.raises(slicesand.SlicesandError, match="1 of 3 tasks could not be forecast") as failed:
        slicesand.run(pd.concat([frame, few]), output=tmp_path / "out", cut=1e22, easy_degree=3, bootstrap=0,
                      figures=False)
    assert failed.value.exit_code in (2, 3)  # the failed task's own code, as the command line exits
    tasks = pd.read_csv(tmp_path / "out" / "tasks.csv")
    assert tasks["error"].notna().tolist() == [False, False, True]  # the folder is written, and says why
