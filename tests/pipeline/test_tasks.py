"""Multi-task dumps forecast per task; `import` and `models`; sources read directly by `run`."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from slicesand.cli import app
from slicesand.pipeline.tasks import task_folder_names
from tests.conftest import write_dump

FIXTURES = __import__("pathlib").Path(__file__).resolve().parents[1] / "fixtures" / "importers"


@pytest.fixture
def two_task_dump(tmp_path):
    rng = np.random.default_rng(7)
    rows = []
    for task, weak in (("alpha", 0), ("beta/x", 3)):
        for i in range(14):
            for j in range(40):
                c = int(rng.random() < 0.2 + 0.04 * max(i - weak, 0) * (j % 5) / 4)
                rows.append((f"m{i}", f"q{j}", task, c, round(0.15 + 0.5 * c + 0.008 * j * rng.random(), 4),
                             10 ** (20 + i / 4)))
    path = tmp_path / "multi.csv"
    pd.DataFrame(rows, columns=["model", "question", "task", "correct", "p_correct", "flops"]).to_csv(path, index=False)
    return path


def test_run_forecasts_each_task_separately(runner, tmp_path, two_task_dump):
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", str(two_task_dump), "--cut", "3e22", "--easy-degree", "3", "-o", str(out),
                                 "-f", "json", "--no-figures"])
    assert result.exit_code == 0, result.stderr
    index = json.loads(result.stdout)
    assert index["schema"] == "slicesand.tasks"
    assert [row["task"] for row in index["tasks"]] == ["alpha", "beta/x"]
    assert all(row["error"] is None and row["models"] == 14 for row in index["tasks"])
    alpha, beta = task_folder_names(["alpha", "beta/x"])
    for folder in (alpha, beta):
        assert (out / folder / "fit.json").exists() and (out / folder / "report.md").exists()
        slices = pd.read_csv(out / folder / "slices.csv")
        assert len(slices) == 14
    # Each task has its own difficulty ranking: the questions tables differ.
    assert (pd.read_csv(out / alpha / "questions.csv")["question"].tolist()
            != pd.read_csv(out / beta / "questions.csv")["question"].tolist())
    report = runner.invoke(app, ["report", str(out), "-f", "md"])
    assert report.exit_code == 0 and f"({beta}/report.md)" in report.stdout
    # predict gains a task column from the fit
    predicted = runner.invoke(app, ["predict", str(out / alpha / "fit.json"), "--at", "1e24", "-f", "csv",
                                    "--bootstrap", "0"])
    assert predicted.exit_code == 0, predicted.stderr
    frame = pd.read_csv(io.StringIO(predicted.stdout))
    assert frame.columns[0] == "task" and frame["task"].tolist() == ["alpha"]


def test_slice_asks_for_a_task_in_a_multitask_dump(runner, two_task_dump):
    result = runner.invoke(app, ["slice", str(two_task_dump)])
    assert result.exit_code == 2 and "--task" in result.stderr
    result = runner.invoke(app, ["slice", str(two_task_dump), "--task", "beta/x"])
    assert result.exit_code == 0 and len(pd.read_csv(io.StringIO(result.stdout))) == 14


def test_task_folder_names_are_safe_and_unique():
    names = task_folder_names(["a b", "a/b", "a_b", "a_b-2", "../x", "", "MMLU", "mmlu", "tasks.csv", "t" * 300])
    assert [n.rsplit("-", 1)[0] for n in names] == ["a_b", "a_b", "a_b", "a_b-2", "x", "task", "MMLU", "mmlu",
                                                    "tasks.csv", "t" * 60]
    assert len({n.lower() for n in names}) == len(names)  # unique, also on a case-insensitive disk
    assert all(len(n.encode()) <= 255 and "/" not in n and not n.startswith(".") for n in names)
    assert "tasks.csv" not in names and "report.md" not in names


def test_import_writes_long_dump_with_scales(runner, tmp_path):
    out = tmp_path / "dump.parquet"
    result = runner.invoke(app, ["import", str(FIXTURES / "lmeval_v043_nested"), "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    table = pd.read_parquet(out)
    assert {"model", "question", "task", "correct", "p_correct", "flops"} <= set(table.columns)
    models = pd.read_csv(tmp_path / "dump.parquet.models.csv")
    assert set(models.columns) == {"model", "params", "tokens", "flops", "scale_source"}
    assert "newest" in result.stderr  # the two-runs note reaches the user


def test_truncated_lmeval_line_is_a_clear_error(runner, tmp_path):
    result = runner.invoke(app, ["import", str(FIXTURES / "lmeval_truncated"), "-o", str(tmp_path / "d.parquet")])
    assert result.exit_code == 3
    assert "line 3" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "d.parquet").exists()


def test_slice_reads_an_lmeval_tree_directly(runner):
    result = runner.invoke(app, ["slice", str(FIXTURES / "lmeval_v043_nested"), "--task", "arc_easy",
                                 "--groups", "2"])
    assert result.exit_code == 0, result.stderr
    slices = pd.read_csv(io.StringIO(result.stdout))
    assert slices["flops"].notna().all()
    assert "bundled table" in result.stderr  # says where the scales came from


def test_models_lists_the_bundled_table(runner):
    result = runner.invoke(app, ["models", "-f", "csv"])
    assert result.exit_code == 0
    table = pd.read_csv(io.StringIO(result.stdout))
    assert len(table) > 100 and {"model", "params", "tokens", "flops"} <= set(table.columns)
    assert "EleutherAI/pythia-1b" in set(table["model"]) or table["model"].str.contains("pythia").any()


def test_models_table_wins_over_the_bundled_one(runner, tmp_path):
    dump = write_dump(tmp_path / "d.csv", [(m, f"q{j}", j % 2, 0.3 + 0.1 * j)
                                            for m in ("EleutherAI/pythia-70m-deduped", "facebook/opt-125m")
                                            for j in range(4)], header="model,question,correct,p_correct")
    models = tmp_path / "models.csv"
    models.write_text("model,flops\nfacebook/opt-125m,5e20\n")
    result = runner.invoke(app, ["slice", str(dump), "--models", str(models), "--groups", "2"])
    assert result.exit_code == 0, result.stderr
    flops = pd.read_csv(io.StringIO(result.stdout)).set_index("model")["flops"]
    assert flops["facebook/opt-125m"] == 5e20
    assert flops["EleutherAI/pythia-70m-deduped"] == pytest.approx(1.26e20, rel=0.05)


@pytest.mark.parametrize("multitask", [False, True])
def test_each_manifest_is_written_once_after_every_file_it_hashes(tmp_path, two_task_dump, monkeypatch, multitask):
    """The staged folder seals a run once; a single-task run's manifest was written twice (by run_all
    into the staging folder, then again by the staging folder's seal)."""
    import slicesand.io.atomic as atomic
    from slicesand.artifacts.run_folder import MANIFEST, check_manifest
    from slicesand.config import run_config
    from slicesand.io.tables import sha256_file
    from slicesand.pipeline.tasks import run_tasks

    written, write = [], atomic.write_bytes_atomic

    def counting(target, data):
        if Path(target).name == MANIFEST:
            written.append(Path(target).parent.name)  # the staging folder, or a task folder in it
        return write(target, data)

    monkeypatch.setattr(atomic, "write_bytes_atomic", counting)
    config = run_config(cut=3e22, easy_degree=3, bootstrap=0, task=None if multitask else "alpha")
    out = tmp_path / "out"
    runs = run_tasks(two_task_dump, out, config)
    assert runs.multitask is multitask
    assert len(written) == len(set(written)) == (3 if multitask else 1), written  # each folder sealed once
    for folder in [out, *(out / name for name in task_folder_names(["alpha", "beta/x"]) if multitask)]:
        files = json.loads((folder / MANIFEST).read_text())["files"]
        every = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()} - {MANIFEST}
        assert set(files) == every and every, folder  # every file, figures and task manifests too
        assert all(sha256_file(folder / name) == digest for name, digest in files.items())
        check_manifest(folder)
