"""A run folder is one unit: killed, interrupted or failed runs leave the previous run whole; stale files
never survive; report refuses a folder whose artifacts changed; names are data in file names too."""

from __future__ import annotations

import json
import signal
import subprocess
import time

import pytest

from slicesand.pipeline.tasks import task_folder_names
from tests.cli.shell_helpers import RUN_OPTIONS, popen, slicesand, small_dump


def _snapshot(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def previous_run(tmp_path):
    dump = small_dump(tmp_path / "dump.csv")
    out = tmp_path / "out"
    result = slicesand("run", dump, *RUN_OPTIONS, "-o", out, "-f", "json", "-q")
    assert result.returncode == 0, result.stderr
    return out, _snapshot(out)


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT, signal.SIGTERM])
def test_a_killed_run_leaves_the_previous_run_whole(tmp_path, previous_run, sig):
    out, before = previous_run
    # A slower second run (figures, bootstrap, another cut) into the same folder, killed half-way.
    process = popen("run", "sample_data/eval_dump.csv", "--models", "sample_data/models.csv", "--cut", "3e22",
                    "--bootstrap", "300", "-o", out, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                    start_new_session=True)  # its process group: the run and the figures' drawing processes
    deadline = time.monotonic() + 120
    while not any(p.name.startswith(".out.slicesand-") for p in tmp_path.iterdir()):
        assert process.poll() is None, process.stderr.read().decode()
        assert time.monotonic() < deadline
        time.sleep(0.02)
    time.sleep(0.3)  # well inside the work: slicing, fitting, the bootstrap
    process.send_signal(sig)
    _, stderr = process.communicate(timeout=120)
    # SIGINT and SIGTERM: cleaned up, then ended by the signal (130 and 143 in a shell).
    assert process.returncode == -sig
    if sig != signal.SIGKILL:
        assert stderr.decode().endswith({signal.SIGINT: "interrupted\n", signal.SIGTERM: "terminated\n"}[sig])
        assert "Traceback" not in stderr.decode()
        assert sorted(p.name for p in tmp_path.iterdir()) == ["dump.csv", "out"]  # no staging folder left
    # No drawing process outlives the run, even one killed outright (the kernel ends them with it).
    deadline = time.monotonic() + 10
    while _group_alive(process.pid):
        assert time.monotonic() < deadline, "a process of the killed run is still running"
        time.sleep(0.05)
    assert _snapshot(out) == before  # not one byte of the previous run changed
    report = slicesand("report", out, "-f", "json")
    assert report.returncode == 0, report.stderr
    assert json.loads(report.stdout)["settings"]["cut_flops"] == 1e22  # the previous run's, not 3e22
    # The next run clears what the killed one abandoned.
    again = slicesand("run", tmp_path / "dump.csv", *RUN_OPTIONS, "-o", out, "-q")
    assert again.returncode == 0 and sorted(p.name for p in tmp_path.iterdir()) == ["dump.csv", "out"]


def _group_alive(group: int) -> bool:
    """Whether a process of the process group ``group`` still runs (not counting zombies)."""
    import os

    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except (FileNotFoundError, ProcessLookupError):
                continue
            if int(fields[2]) == group and fields[0] != "Z":  # fields: state, ppid, pgrp, ...
                return True
    return False


def test_a_failed_run_leaves_the_previous_run_whole(tmp_path, previous_run):
    out, before = previous_run
    bad = tmp_path / "bad.csv"
    bad.write_text("model,question,correct,flops\na,q1,1,1e21\na,q1,0,1e21\n")  # a duplicate row
    result = slicesand("run", bad, *RUN_OPTIONS, "-o", out)
    assert result.returncode == 3 and _snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv", "dump.csv", "out"]


def test_a_single_task_run_after_a_multitask_one_keeps_nothing_stale(tmp_path):
    multi = small_dump(tmp_path / "multi.csv", tasks=["alpha", "beta"])
    out = tmp_path / "out"
    assert slicesand("run", multi, *RUN_OPTIONS, "-o", out, "-q").returncode == 0
    assert (out / "tasks.json").exists() and (out / "tasks.csv").exists()
    single = small_dump(tmp_path / "single.csv")
    assert slicesand("run", single, *RUN_OPTIONS, "-o", out, "-q").returncode == 0
    names = {p.name for p in out.iterdir()}
    assert not names & {"tasks.json", "tasks.csv", *task_folder_names(["alpha", "beta"])}
    report = slicesand("report", out, "-f", "json")
    assert report.returncode == 0 and json.loads(report.stdout)["task"] == "t"


def test_run_refuses_a_folder_that_is_not_a_run(tmp_path):
    dump = small_dump(tmp_path / "dump.csv")
    home = tmp_path / "project"
    home.mkdir()
    (home / "notes.txt").write_text("mine")
    result = slicesand("run", dump, *RUN_OPTIONS, "-o", home)
    assert result.returncode == 2 and b"--force" in result.stderr and (home / "notes.txt").exists()
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    assert slicesand("run", dump, *RUN_OPTIONS, "-o", a_file).returncode == 2


@pytest.mark.parametrize("damage", ["spectrum", "run.json", "sidecar", "truncated run.json"])
def test_report_refuses_a_run_folder_whose_artifacts_changed(tmp_path, damage):
    dump = small_dump(tmp_path / "dump.csv")
    out = tmp_path / "out"
    options = RUN_OPTIONS[:-2] + ["--spectrum-groups", "4"]
    assert slicesand("run", dump, *options, "-o", out, "-q").returncode == 0
    if damage == "spectrum":
        (out / "spectrum.csv").write_text((out / "spectrum.csv").read_text().replace("m00", "m99"))
    elif damage == "run.json":
        document = json.loads((out / "run.json").read_text())
        document["command"] = "slicesand run other.csv"
        (out / "run.json").write_text(json.dumps(document))
    elif damage == "sidecar":  # the sidecar deleted and the slices edited
        (out / "slices.csv.meta.json").unlink()
        (out / "slices.csv").write_text((out / "slices.csv").read_text().replace("m00", "m99"))
    else:
        (out / "run.json").write_text((out / "run.json").read_text()[:20])
    result = slicesand("report", out, "-f", "json")
    line = result.stderr.decode().strip()
    assert result.returncode == 4 and line.startswith("error: ") and len(line.splitlines()) == 1, line
    (out / "manifest.json").unlink()  # a run's folder without its manifest cannot be checked: refused too
    missing = slicesand("report", out, "-f", "json")
    assert missing.returncode == 4 and "manifest.json: missing" in missing.stderr.decode()


def test_numeric_looking_and_hostile_names_stay_as_typed(tmp_path):
    names = ["0039", "1e3", "[red]RED[/red]", "[/x]", "esc\x1b[31mape"] + [f"m{i}" for i in range(7)]
    dump = small_dump(tmp_path / "dump.csv", names)
    out = tmp_path / "out"
    result = slicesand("run", dump, *RUN_OPTIONS, "-o", out, "-f", "table", COLUMNS="200")
    assert result.returncode == 0, result.stderr
    shown = result.stdout.decode()
    assert "[red]RED[/red]" in shown and "[/x]" in shown and "\x1b" not in shown and "esc[31mape" in shown
    facts = json.loads(slicesand("report", out, "-f", "json").stdout)
    models = [row["model"] for row in facts["predictions"]]
    assert {"0039", "1e3", "[red]RED[/red]", "[/x]"} <= set(models)
    table = slicesand("report", out, "-f", "table", COLUMNS="200").stdout.decode()
    assert "0039" in table and "1e3" in table and "39.0" not in table


def test_a_model_left_out_is_not_scored(tmp_path):
    lines = small_dump(tmp_path / "full.csv").read_text().splitlines()
    # m11, the largest model, answers only q00: it has no score in the harder groups.
    kept = [line for line in lines if not line.startswith("m11,") or line.startswith("m11,q00,")]
    dump = tmp_path / "sparse.csv"
    dump.write_text("\n".join(kept) + "\n")
    result = slicesand("run", dump, *RUN_OPTIONS, "-o", tmp_path / "out", "-f", "json")
    assert result.returncode == 0, result.stderr
    facts = json.loads(result.stdout)
    split = {row["model"]: row["split"] for row in facts["predictions"]}
    assert split["m11"] == "excluded" and facts["largest_scale"]["model"] != "m11"
    assert facts["models"]["test"] == sum(s == "test" for s in split.values())
    assert any("left out" in w["message"] and "m11" in w["message"] for w in facts["warnings"])
