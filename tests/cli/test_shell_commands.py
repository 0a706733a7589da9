"""Command-level shell behaviour through real processes: formats when piped, stdin for the fit,
report to stdout, --strict, --force, multi-task failures, exit codes of damaged artifacts, table widths."""

from __future__ import annotations

import io
import json
import subprocess

import pandas as pd
import pytest

from tests.cli.shell_helpers import COMMAND, RUN_OPTIONS, environment, slicesand, small_dump

LONG_NAMES = [f"nimbus/nimbus-{i}b-instruct-long-name" for i in range(12)]
SHELL = " ".join(f"'{c}'" for c in COMMAND)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("commands")
    dump = small_dump(root / "dump.csv", LONG_NAMES)
    result = slicesand("run", dump, *RUN_OPTIONS, "-o", root / "out", "-q")
    assert result.returncode == 0, result.stderr
    return root


def _pipe(script: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", "set -o pipefail; " + script], capture_output=True, cwd=cwd,
                          env=environment())


def test_run_and_report_print_csv_when_piped(folder):
    run = slicesand("run", folder / "dump.csv", *RUN_OPTIONS, "-o", folder / "again")  # stdout is a pipe
    assert run.returncode == 0, run.stderr
    frame = pd.read_csv(io.StringIO(run.stdout.decode()), dtype={"model": str})
    assert set(LONG_NAMES) <= set(frame["model"])  # whole names, one row per model
    assert b"warning:" in run.stderr and b"warning:" not in run.stdout
    counted = _pipe(f"{SHELL} report out | grep -c nimbus/nimbus-11b-instruct-long-name", folder)
    assert counted.returncode == 0 and counted.stdout.strip() == b"1"
    explicit = slicesand("run", folder / "dump.csv", *RUN_OPTIONS, "-o", folder / "again", "-f", "csv", "-q")
    assert explicit.returncode == 0 and explicit.stdout == run.stdout and explicit.stderr == b""


def test_table_warnings_go_to_stderr_and_quiet_silences_them(folder):
    loud = slicesand("report", folder / "out", "-f", "table", COLUMNS="120")
    assert loud.returncode == 0 and b"warning:" in loud.stderr and b"warning:" not in loud.stdout
    quiet = slicesand("report", folder / "out", "-f", "table", "-q", COLUMNS="120")
    assert quiet.returncode == 0 and quiet.stderr == b"" and quiet.stdout == loud.stdout


def test_fit_piped_into_predict(folder):
    result = _pipe(f"{SHELL} fit out/slices.csv -q | {SHELL} predict - out/slices.csv -f csv --bootstrap 0 -q", folder)
    assert result.returncode == 0, result.stderr
    frame = pd.read_csv(io.StringIO(result.stdout.decode()))
    assert len(frame) == 12 and set(frame["split"]) == {"train", "test"}


def test_report_html_to_stdout(folder):
    result = slicesand("report", folder / "out", "-f", "html", "-o", "-")
    assert result.returncode == 0 and result.stdout.lstrip().lower().startswith(b"<!doctype html")
    assert not (folder / "-").exists() and not (folder / "out" / "-").exists()


def test_strict_exits_6_when_a_trust_warning_fires(folder, tmp_path):
    plain = slicesand("run", folder / "dump.csv", *RUN_OPTIONS, "-o", tmp_path / "a", "-q")
    assert plain.returncode == 0
    strict = slicesand("run", folder / "dump.csv", *RUN_OPTIONS, "-o", tmp_path / "b", "-q", "--strict")
    line = strict.stderr.decode().strip()
    assert strict.returncode == 6 and line.startswith("error: --strict:") and len(line.splitlines()) == 1
    assert (tmp_path / "b" / "manifest.json").exists()  # the run itself was made
    predict = slicesand("predict", tmp_path / "b" / "fit.json", "--at", "1e26", "-q", "--strict", "-f", "json")
    assert predict.returncode == 6 and json.loads(predict.stdout)["predictions"]


def test_multitask_run_with_a_failed_task_exits_non_zero(tmp_path):
    dump = small_dump(tmp_path / "multi.csv", tasks=["alpha"])
    few = small_dump(tmp_path / "few.csv", [f"m{i:02d}" for i in range(3)], tasks=["beta"])
    with open(dump, "a") as handle:
        handle.write(few.read_text().split("\n", 1)[1])
    result = slicesand("run", dump, *RUN_OPTIONS, "-o", tmp_path / "out", "-f", "csv")
    # beta's three models all lie below the cut: the first failed task's code, a usage error (2)
    assert result.returncode == 2 and b"leaves no model at or above it" in result.stderr, result.stderr
    assert b"1 of 2 tasks could not be forecast" in result.stderr
    tasks = pd.read_csv(tmp_path / "out" / "tasks.csv")
    assert tasks["error"].isna().tolist() == [True, False] and "beta" in tasks["task"].tolist()
    assert pd.read_csv(io.StringIO(result.stdout.decode()))["task"].tolist() == ["alpha", "beta"]
    table = slicesand("report", tmp_path / "out", "-f", "table", COLUMNS="200").stdout.decode()
    assert " 12 " in table and "12.0000" not in table  # a count is shown as an integer


def test_run_force_replaces_a_folder_that_is_not_a_run(folder, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "notes.txt").write_text("mine")
    assert slicesand("run", folder / "dump.csv", *RUN_OPTIONS, "-o", home, "-q").returncode == 2
    forced = slicesand("run", folder / "dump.csv", *RUN_OPTIONS, "-o", home, "-q", "--force")
    assert forced.returncode == 0 and not (home / "notes.txt").exists() and (home / "manifest.json").exists()


@pytest.mark.parametrize("field, value", [("easy.coef", ["1", "2", "3", "4"]), ("training_x_range", None),
                                          ("hard_column", "group_9"), ("n_groups", "three")])
def test_malformed_fit_fields_are_exit_4(folder, tmp_path, field, value):
    document = json.loads((folder / "out" / "fit.json").read_text())
    key, _, sub = field.partition(".")
    (document[key].__setitem__(sub, value) if sub else document.__setitem__(key, value))
    path = tmp_path / "fit.json"
    path.write_text(json.dumps(document))
    result = slicesand("predict", path, folder / "out" / "slices.csv", "--bootstrap", "0")
    line = result.stderr.decode().strip()
    assert result.returncode == 4 and line.startswith("error: ") and len(line.splitlines()) == 1, line
    assert key in line


def test_exit_codes_of_paths_and_data(folder, tmp_path):
    (tmp_path / "taken.csv").mkdir()
    as_dir = slicesand("slice", folder / "dump.csv", "-o", tmp_path / "taken.csv")
    assert as_dir.returncode == 2 and b"is a folder" in as_dir.stderr
    no_scale = tmp_path / "noscale.csv"
    no_scale.write_text("model,question,correct\nzzz-unknown-a,q1,1\nzzz-unknown-b,q1,0\n")
    result = slicesand("slice", no_scale, "--no-known-scales")
    assert result.returncode == 3 and b"no model has a scale" in result.stderr
    odd = small_dump(tmp_path / "odd.csv", tasks=["tasks.csv", "t" * 300, "MMLU", "mmlu"])
    run = slicesand("run", odd, *RUN_OPTIONS, "-o", tmp_path / "odd", "-q", "-f", "json")
    assert run.returncode == 0, run.stderr
    assert len(json.loads(run.stdout)["tasks"]) == 4 and len(list((tmp_path / "odd").glob("*/manifest.json"))) == 4


@pytest.mark.parametrize("columns", ["200", "80", "40"])
def test_terminal_tables_never_cut_names(folder, columns):
    for args in (["predict", folder / "out" / "fit.json", folder / "out" / "slices.csv", "-f", "table",
                  "--bootstrap", "0", "-q"], ["report", folder / "out", "-f", "table", "-q"]):
        shown = slicesand(*args, COLUMNS=columns).stdout.decode()
        assert "…" not in shown and max(map(len, shown.splitlines())) <= int(columns), shown
        # Folded or not, the model column holds every name whole, in order.
        assert _model_column(shown) == "".join(LONG_NAMES), shown
    if columns == "200":
        assert all(name in shown for name in LONG_NAMES)  # wide enough: one line per name


def _model_column(shown: str) -> str:
    """The text of a table's first column (rich table), or of its ``model`` lines (vertical layout)."""
    lines = shown.splitlines()
    vertical, in_model = [], False
    for line in lines:  # `model  value` and its indented continuation lines
        if line.startswith("model "):
            vertical.append(line.split(None, 1)[1])
            in_model = True
        elif in_model and line.startswith(" "):
            vertical.append(line.strip())
        else:
            in_model = False
    if vertical:
        return "".join(vertical)
    cells, inside = [], False
    for line in lines:  # the table whose header starts with "model"
        if line.startswith("┃") and line.split("┃")[1].strip():
            inside = line.split("┃")[1].strip() == "model"
        elif line.startswith("└"):
            inside = False
        elif inside and line.startswith("│"):
            cells.append(line.split("│")[1].strip())
    return "".join(cells)
