"""slicesand.artifacts.run_folder: a run folder is replaced whole, and a symbolic link to it survives."""

from __future__ import annotations

import json

import pytest

from slicesand.artifacts.run_folder import add_to_manifest, check_manifest, is_run_folder, staged_run_folder, write_manifest
from slicesand.errors import ArtifactError


def _run_into(outdir, text):
    with staged_run_folder(outdir) as staging:
        (staging / "run.json").write_text(text)


def test_a_link_to_a_run_folder_is_followed_not_replaced(tmp_path):
    real = tmp_path / "real"
    _run_into(real, "first")
    (tmp_path / "links").mkdir()
    link = tmp_path / "links" / "out"
    link.symlink_to("../real")
    _run_into(link, "second")
    assert link.is_symlink() and (real / "run.json").read_text() == "second"
    assert is_run_folder(real)
    # nothing left behind: no staging folder, no stray link, beside either path
    assert sorted(p.name for p in tmp_path.iterdir()) == ["links", "real"]
    assert [p.name for p in (tmp_path / "links").iterdir()] == ["out"]


def test_a_failed_run_leaves_the_previous_one(tmp_path):
    out = tmp_path / "out"
    _run_into(out, "first")
    try:
        with staged_run_folder(out) as staging:
            (staging / "run.json").write_text("half")
            raise RuntimeError("killed half-way")
    except RuntimeError:
        pass
    assert (out / "run.json").read_text() == "first"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_files_added_to_a_task_folder_reach_both_manifests(tmp_path):
    out = tmp_path / "out"
    (out / "task").mkdir(parents=True)
    (out / "task" / "fit.json").write_text("{}")
    write_manifest(out / "task")
    (out / "tasks.json").write_text("{}")
    write_manifest(out)
    (out / "task" / "backtest.csv").write_text("cut\n1e22\n")
    add_to_manifest(out / "task", ["backtest.csv"])
    assert "backtest.csv" in json.loads((out / "task" / "manifest.json").read_text())["files"]
    assert "task/backtest.csv" in json.loads((out / "manifest.json").read_text())["files"]
    check_manifest(out), check_manifest(out / "task")  # the task manifest's new sha256 is listed above it
    (out / "task" / "backtest.csv").write_text("cut\n3e22\n")
    for folder in (out, out / "task"):
        with pytest.raises(ArtifactError, match="backtest.csv: changed after the run wrote it"):
            check_manifest(folder)


def test_adding_a_file_keeps_an_earlier_edit_detectable(tmp_path):
    _run_into(tmp_path / "out", "first")
    (tmp_path / "out" / "run.json").write_text("edited")
    (tmp_path / "out" / "backtest.csv").write_text("cut\n")
    add_to_manifest(tmp_path / "out", ["backtest.csv"])
    with pytest.raises(ArtifactError, match="run.json: changed"):
        check_manifest(tmp_path / "out")


def test_a_folder_without_a_manifest_gets_none(tmp_path):
    (tmp_path / "backtest.csv").write_text("cut\n")
    add_to_manifest(tmp_path, ["backtest.csv"])
    assert not is_run_folder(tmp_path)
