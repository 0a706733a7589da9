"""Bad input gets one clear line on stderr, a documented exit code, and no half-written output."""

from __future__ import annotations

import json

import pytest

from tests.conftest import PAPER_TASKS, paper_cut, paper_table, write_dump
from slicesand.cli import app

GOOD_ROWS = [(f"m{i}", f"q{j}", c, 0.25 + 0.5 * c + 0.01 * j, 10 ** (20 + i / 3))
             for i in range(10) for j in range(9) for c in [int((7 * j + i * i) % 10 < i)]]


def _error_line(result) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.stderr
    return lines[0]


def _slice(runner, tmp_path, path, *extra):
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["slice", str(path), "-o", str(out), *extra])
    return result, out


@pytest.fixture
def good_dump(tmp_path):
    return write_dump(tmp_path / "good.csv", GOOD_ROWS)


def test_empty_file(runner, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    result, out = _slice(runner, tmp_path, path)
    assert result.exit_code == 3
    assert "empty.csv" in _error_line(result) and "empty" in result.stderr
    assert not out.exists()


def test_missing_column(runner, tmp_path):
    path = write_dump(tmp_path / "nq.csv", [("a", 1)], header="model,correct")
    result, out = _slice(runner, tmp_path, path)
    assert result.exit_code == 3
    line = _error_line(result)
    assert "nq.csv" in line and "'question'" in line and "hint" in line
    assert not out.exists()


@pytest.mark.parametrize("value, problem", [("abc", "not a number"), ("-5", "positive")])
def test_bad_scale_in_dump(runner, tmp_path, value, problem):
    rows = list(GOOD_ROWS)
    rows[4] = rows[4][:4] + (value,)
    result, out = _slice(runner, tmp_path, write_dump(tmp_path / "s.csv", rows))
    assert result.exit_code == 3
    line = _error_line(result)
    assert "column 'flops'" in line and problem in line
    assert not out.exists()


@pytest.mark.parametrize("value, problem", [("lots", "not a number"), ("-1e9", "positive"), ("0", "positive")])
def test_bad_scale_in_models_table(runner, tmp_path, good_dump, value, problem):
    models = tmp_path / "models.csv"
    models.write_text("model,params,tokens\n" + "".join(
        f"m{i},{value if i == 3 else 1e9},{1e10}\n" for i in range(10)))
    result, _ = _slice(runner, tmp_path, good_dump, "--models", str(models))
    assert result.exit_code == 3
    line = _error_line(result)
    assert "models.csv" in line and "column 'params'" in line and "row 4" in line and problem in line


def test_p_correct_outside_unit_interval(runner, tmp_path):
    rows = list(GOOD_ROWS)
    rows[10] = rows[10][:3] + (1.5,) + rows[10][4:]
    result, out = _slice(runner, tmp_path, write_dump(tmp_path / "p.csv", rows))
    assert result.exit_code == 3
    line = _error_line(result)
    assert "column 'p_correct'" in line and "row 11" in line and "1.5" in line
    assert not out.exists()


def test_duplicate_row(runner, tmp_path):
    rows = GOOD_ROWS + [GOOD_ROWS[5]]
    result, out = _slice(runner, tmp_path, write_dump(tmp_path / "d.csv", rows))
    assert result.exit_code == 3
    line = _error_line(result)
    assert "duplicate" in line and "'m0'" in line and "'q5'" in line
    assert not out.exists()


def test_unknown_model_in_models_table(runner, tmp_path, good_dump):
    models = tmp_path / "models.csv"
    models.write_text("model,flops\n" + "".join(f"m{i},{10 ** (20 + i)}\n" for i in range(10)) + "ghost,1e25\n")
    result, _ = _slice(runner, tmp_path, good_dump, "--models", str(models))
    assert result.exit_code == 3
    assert "'ghost'" in _error_line(result)
    result, out = _slice(runner, tmp_path, good_dump, "--models", str(models), "--ignore-unknown-models")
    assert result.exit_code == 0 and out.exists()


def test_corrupt_parquet(runner, tmp_path):
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"PAR1 this is not really parquet")
    result, _ = _slice(runner, tmp_path, path)
    assert result.exit_code == 3
    assert "broken.parquet" in _error_line(result) and "Parquet" in result.stderr


@pytest.mark.parametrize("cut, words", [("1e30", "no model at or above"), ("1e10", "no reference model")])
def test_cut_leaving_no_test_or_no_training_models(runner, tmp_path, good_dump, cut, words):
    result, out = _slice(runner, tmp_path, good_dump, "--cut", cut)
    assert result.exit_code == 2
    assert words in _error_line(result)
    assert not out.exists()


def test_cut_leaving_no_test_models_in_fit(runner, tmp_path):
    result = runner.invoke(app, ["fit", str(paper_table("mmlu")), "--cut", "1e30", "--paper", "-o",
                                 str(tmp_path / "fit.json")])
    assert result.exit_code == 2
    assert "no test model" in _error_line(result)
    assert not (tmp_path / "fit.json").exists()


def test_too_few_training_models_for_the_degree(runner, tmp_path):
    result = runner.invoke(app, ["fit", str(paper_table("mmlu")), "--cut", "3e20", "--paper",
                                 "-o", str(tmp_path / "fit.json")])
    assert result.exit_code == 3
    line = _error_line(result)
    assert "training split has 4 model(s)" in line and "at least 6" in line


def _paper_fit(runner, tmp_path):
    threshold, chance = PAPER_TASKS["mmlu"]
    fit_path = tmp_path / "fit.json"
    result = runner.invoke(app, ["fit", str(paper_table("mmlu")), "--cut", repr(paper_cut(threshold)),
                                 "--paper", "-o", str(fit_path)])
    assert result.exit_code == 0, result.stderr
    return fit_path


def test_unknown_schema_version(runner, tmp_path):
    fit_path = _paper_fit(runner, tmp_path)
    document = json.loads(fit_path.read_text())
    document["schema_version"] = 99
    fit_path.write_text(json.dumps(document))
    result = runner.invoke(app, ["predict", str(fit_path), "--at", "1e24"])
    assert result.exit_code == 4
    assert "schema version" in _error_line(result)


def test_three_group_fit_on_ten_group_table(runner, tmp_path):
    fit_path = _paper_fit(runner, tmp_path)
    result = runner.invoke(app, ["predict", str(fit_path), str(paper_table("mmlu", groups=10))])
    assert result.exit_code == 4
    assert "3 difficulty groups" in _error_line(result)


def test_not_a_fit_artifact(runner, tmp_path):
    path = tmp_path / "other.json"
    path.write_text('{"schema": "something.else", "schema_version": 1}')
    result = runner.invoke(app, ["predict", str(path), "--at", "1e24"])
    assert result.exit_code == 4
    assert "slicesand.fit" in _error_line(result)


def test_failed_run_leaves_earlier_artifacts_intact(runner, tmp_path, good_dump):
    outdir = tmp_path / "out"
    ok = runner.invoke(app, ["run", str(good_dump), "--easy-degree", "2", "-o", str(outdir)])
    assert ok.exit_code == 0, ok.stderr
    before = {p.name: p.read_bytes() for p in outdir.iterdir()}
    bad = write_dump(tmp_path / "bad.csv", GOOD_ROWS + [GOOD_ROWS[0]])
    failed = runner.invoke(app, ["run", str(bad), "--easy-degree", "2", "-o", str(outdir)])
    assert failed.exit_code == 3
    assert {p.name: p.read_bytes() for p in outdir.iterdir()} == before


@pytest.mark.parametrize("command", [["run", "--easy-degree", "2", "-o", "-"], ["backtest", "--plot", "-"]])
def test_a_folder_of_artifacts_is_never_stdout(runner, tmp_path, good_dump, monkeypatch, command):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, [command[0], str(good_dump), *command[1:]])
    assert result.exit_code == 2
    assert f"{command[-2]} takes a folder" in _error_line(result)
    assert not (tmp_path / "-").exists() and result.stdout == ""


@pytest.mark.parametrize("command", [["run", "--easy-degree", "2", "--bootstrap", "0", "--no-figures", "-o", "./-"],
                                     ["backtest", "--plot", "./-"]])
def test_a_folder_named_dash_is_a_folder_when_written_as_a_path(runner, tmp_path, good_dump, monkeypatch, command):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, [command[0], str(good_dump), *command[1:]])
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "-").is_dir() and any((tmp_path / "-").iterdir())


def test_usage_error_exit_code(runner):
    result = runner.invoke(app, ["fit"])
    assert result.exit_code == 2
    result = runner.invoke(app, ["slice", "x.csv", "--groups", "1"])
    assert result.exit_code == 2
    assert "at least 2" in result.stderr


@pytest.mark.parametrize("slices, kind", [("slices.parquet", "Parquet"), ("slices.csv", "CSV")])
def test_out_of_memory_hint_names_the_input_kind(tmp_path, slices, kind):
    import subprocess
    import sys

    # Running out of memory for real is slow and flaky: the fit reader raises MemoryError instead.
    code = ("import sys, slicesand.artifacts.documents as documents\n"
            "def out_of_memory(*args, **kwargs):\n    raise MemoryError\n"
            "documents.read_fit = out_of_memory\n"
            "from slicesand.cli.ui import main\n"
            f"sys.exit(main(['predict', 'fit.json', {slices!r}]))\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    line = result.stderr.strip()
    assert result.returncode == 1 and result.stdout == "" and len(line.splitlines()) == 1, result.stderr
    assert line.startswith("error: out of memory") and f"the input {slices} is {kind}" in line, line
    assert ("CSV" in line) == (kind == "CSV") and "--memory-budget" not in line  # predict has no such flag
