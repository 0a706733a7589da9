"""Edges a reviewer found by hand, each through a real process: files that would overwrite each other,
pipes given as paths, empty names, multi-task reports, stdout that must not write files, and records
that must not depend on how the command line was typed."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.cli.shell_helpers import ROOT, RUN_OPTIONS, environment, slicesand, small_dump


def test_slice_refuses_one_file_for_both_tables(tmp_path):
    out = tmp_path / "s.csv"
    result = slicesand("slice", small_dump(tmp_path / "d.csv"), "-o", out, "--questions", tmp_path / "." / "s.csv")
    assert result.returncode == 2 and "name the same file" in result.stderr.decode()
    assert not out.exists()


def test_a_pipe_given_as_a_path_is_refused_with_a_hint(tmp_path):
    dump = small_dump(tmp_path / "d.csv")
    done = subprocess.run(["bash", "-c", f'"$0" -m slicesand slice <(cat "{dump}") -o -', sys.executable],
                          capture_output=True, cwd=ROOT, env=environment())
    assert done.returncode == 3, done.stderr
    assert b"is a pipe or device" in done.stderr and b"pipe the dump into -" in done.stderr
    # the same bytes through stdin work
    assert slicesand("slice", "-", "-o", "-", input=dump.read_bytes()).returncode == 0


def test_an_empty_model_cell_is_an_empty_value_not_a_model(tmp_path):
    dump = tmp_path / "d.csv"
    dump.write_text("model,question,correct,flops\na,q1,1,1e21\n,q2,0,1e21\nb,q1,1,2e21\n")
    result = slicesand("slice", dump, "-o", "-")
    assert result.returncode == 3
    assert "column 'model', row 2: empty value" in result.stderr.decode()


def test_report_of_a_multitask_folder_writes_md_and_json_and_explains_html(tmp_path):
    out = tmp_path / "out"
    assert slicesand("run", small_dump(tmp_path / "d.csv", tasks=["t1", "t2"]), *RUN_OPTIONS, "-o", out,
                     "-q").returncode == 0
    html = slicesand("report", out, "-f", "html")
    assert html.returncode == 2 and "each task folder has its own report.html" in html.stderr.decode()
    for fmt in ("md", "json"):
        target = tmp_path / f"summary.{fmt}"
        assert slicesand("report", out, "-f", fmt, "-o", target).returncode == 0
        assert "t1" in target.read_text() and "t2" in target.read_text()
    assert json.loads((tmp_path / "summary.json").read_text())["schema"] == "slicesand.tasks"


@pytest.mark.parametrize("how", [("-f", "md"), ("-f", "md", "-o", "-"), ("-f", "html"), ("-f", "json"),
                                 ("-f", "csv"), ("-f", "html", "-o", "-")])
def test_report_without_a_file_prints_and_writes_nothing_into_the_folder(tmp_path, how):
    out = tmp_path / "out"
    assert slicesand("run", small_dump(tmp_path / "d.csv"), *RUN_OPTIONS, "-o", out, "-q").returncode == 0
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    result = slicesand("report", out, *how)
    first_line = result.stdout.decode().splitlines()[0].lower()
    assert result.returncode == 0
    assert {"md": "# slicesand forecast", "html": "<!doctype html>", "json": "{", "csv": "model"}[how[1]] in first_line
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before
    assert result.stderr == b""


def test_report_csv_goes_to_a_file_too(tmp_path):
    out = tmp_path / "out"
    assert slicesand("run", small_dump(tmp_path / "d.csv"), *RUN_OPTIONS, "-o", out, "-q").returncode == 0
    assert slicesand("report", out, "-o", tmp_path / "p.csv", "-q").returncode == 0
    assert (tmp_path / "p.csv").read_bytes() == (out / "predictions.csv").read_bytes()
    table = slicesand("report", out, "-f", "table", "-o", tmp_path / "t.txt")
    assert table.returncode == 2 and "the table is for the terminal" in table.stderr.decode()


def test_the_record_does_not_depend_on_how_options_were_typed(tmp_path):
    dump = small_dump(tmp_path / "d.csv")
    records = []
    for folder, typed in (("a", ["-qo", tmp_path / "a"]), ("b", ["-o", tmp_path / "b", "--quiet"]),
                          ("c", [f"-o{tmp_path / 'c'}"])):
        assert slicesand("run", dump, *RUN_OPTIONS, *typed).returncode == 0
        records.append((tmp_path / folder / "run.json").read_bytes())
    assert records[0] == records[1] == records[2]
    assert str(tmp_path).encode() not in records[0]


def test_multitask_warnings_name_their_task(tmp_path):
    result = slicesand("run", small_dump(tmp_path / "d.csv", tasks=["t1", "t2"]), *RUN_OPTIONS, "-o", tmp_path / "o")
    assert result.returncode == 0
    warnings = [line for line in result.stderr.decode().splitlines() if line.startswith("warning: ")]
    few = [line for line in warnings if "training models" in line]
    assert sorted(line.split(": ")[1] for line in few) == ["t1", "t2"]  # one per task, each named


def test_report_into_a_named_pipe_writes_the_text_and_nothing_beside_it(tmp_path):
    out = tmp_path / "out"
    assert slicesand("run", small_dump(tmp_path / "d.csv"), *RUN_OPTIONS, "-o", out, "-q").returncode == 0
    streams = tmp_path / "streams"
    streams.mkdir()
    fifo = streams / "report.md"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE)
    result = slicesand("report", out, "-f", "md", "-o", fifo, "-q")
    text = reader.communicate(timeout=60)[0].decode()
    assert result.returncode == 0 and text.startswith("# slicesand forecast")
    assert [p.name for p in streams.iterdir()] == ["report.md"]  # no figures, no temporary file


def test_an_output_that_is_the_input_is_refused(tmp_path):
    dump = small_dump(tmp_path / "d.csv")
    before = dump.read_bytes()
    result = slicesand("slice", dump, "--cut", "1e22", "-o", dump)
    assert result.returncode == 2 and "names the input" in result.stderr.decode()
    assert dump.read_bytes() == before


def test_a_newline_in_a_name_keeps_every_message_on_one_line(tmp_path):
    dump = tmp_path / "d.csv"
    dump.write_text('model,question,correct,flops\n"line1\nline2",q1,1,1e20\n"line1\nline2",q1,0,1e20\n'
                    "m2,q1,1,1e21\n")
    result = slicesand("slice", dump)
    lines = result.stderr.decode().splitlines()
    assert result.returncode == 3 and len(lines) == 1 and "line1" in lines[0] and "line2" in lines[0], lines
