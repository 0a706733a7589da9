"""The output contract through real processes: stdout is data, stderr is messages, pipes and signals."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest

from slicesand import __version__
from tests.cli.shell_helpers import COMMAND, RUN_OPTIONS, environment, popen, slicesand, small_dump

SHELL_COMMAND = " ".join(f"'{c}'" for c in COMMAND)


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("streams")
    dump = small_dump(root / "dump.csv", [f"lumen/lumen-{i}b-instruct-v2" for i in range(12)])
    result = slicesand("run", dump, *RUN_OPTIONS, "-o", root / "out", "-f", "json")
    assert result.returncode == 0, result.stderr
    return root / "out"


def test_version_is_fast_path_and_exact():
    result = slicesand("--version")
    assert result.returncode == 0 and result.stdout == f"slicesand {__version__}\n".encode() and not result.stderr


@pytest.mark.parametrize("args", [["report", "{out}", "-f", "table"], ["report", "{out}", "-f", "json"],
                                  ["predict", "{out}/fit.json", "--grid", "1e20:1e25:2000", "-f", "csv", "-q"]])
def test_a_closed_pipe_is_exit_0_with_nothing_on_stderr(run_folder, args):
    """`slicesand ... | head -1`: the reader leaves early; the write fails with EPIPE (rich's Console
    would exit 1). Closing our end before the child writes makes the broken pipe certain."""
    process = popen(*[a.format(out=run_folder) for a in args], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.close()
    _, err = process.communicate(timeout=120)
    # Warnings may still reach stderr (they are messages); an error or a traceback may not.
    assert process.returncode == 0 and b"error" not in err and b"Traceback" not in err, err.decode()


def test_head_through_a_shell_pipe(run_folder):
    script = f"set -o pipefail; {SHELL_COMMAND} report {run_folder} -f table | head -1"
    result = subprocess.run(["bash", "-c", script], capture_output=True, env=environment())
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode().startswith("slicesand forecast")


def test_quiet_run_keeps_stderr_empty_and_stdout_data(tmp_path):
    dump = small_dump(tmp_path / "d.csv")
    loud = slicesand("run", dump, *RUN_OPTIONS, "-o", tmp_path / "a", "-f", "json")
    assert loud.returncode == 0
    json.loads(loud.stdout)  # only data on stdout
    assert b"artifacts in" in loud.stderr and b"artifacts in" not in loud.stdout
    quiet = slicesand("run", dump, *RUN_OPTIONS, "-o", tmp_path / "b", "-f", "json", "-q")
    assert quiet.returncode == 0 and quiet.stderr == b""
    quiet_facts, loud_facts = json.loads(quiet.stdout), json.loads(loud.stdout)
    assert quiet_facts == loud_facts  # --quiet changes what is said on stderr, not one byte of the record


def test_usage_errors_are_one_line():
    result = slicesand("run", "dump.csv", "--no-such-option")
    lines = result.stderr.decode().strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1 and lines[0].startswith("error: ")
    assert "--no-such-option" in lines[0] and "slicesand run --help" in lines[0] and not result.stdout


def test_closed_stdout_and_a_full_disk_are_exit_5(run_folder):
    closed = subprocess.run(["bash", "-c", SHELL_COMMAND + f" report {run_folder} -f json >&-"],
                            capture_output=True, env=environment())
    assert closed.returncode == 5 and b"<stdout>" in closed.stderr and b"Traceback" not in closed.stderr
    version = subprocess.run(["bash", "-c", SHELL_COMMAND + " --version >&-"], capture_output=True, env=environment())
    assert version.returncode == 5 and b"<stdout>" in version.stderr
    if os.path.exists("/dev/full"):
        with open("/dev/full", "wb") as full:
            result = subprocess.run([*COMMAND, "report", str(run_folder), "-f", "json"], stdout=full,
                                    stderr=subprocess.PIPE, env=environment())
        line = result.stderr.decode().strip()
        assert result.returncode == 5 and "<stdout>" in line and "No space left" in line, line
        assert len(line.splitlines()) == 1


def test_closed_stdin_when_reading_dash_is_exit_3(run_folder):
    result = subprocess.run(["bash", "-c", SHELL_COMMAND + f" predict {run_folder}/fit.json - <&-"],
                            capture_output=True, env=environment())
    assert result.returncode == 3 and b"<stdin>" in result.stderr and b"Traceback" not in result.stderr


@pytest.mark.skipif(not os.path.exists("/proc/self/maps"), reason="needs Linux /proc to see the imports start")
@pytest.mark.parametrize(("sig", "said"), [(signal.SIGINT, "interrupted"), (signal.SIGTERM, "terminated")])
def test_ctrl_c_while_starting_is_exit_130_without_traceback(sig, said):
    process = popen("slice", "sample_data/eval_dump.csv", "--models", "sample_data/models.csv",
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # Inside slicesand's imports, not the interpreter's own start-up (which a loaded machine can stretch
    # past any fixed sleep): wait until numpy's compiled core is mapped, then interrupt pandas and pyarrow's.
    _wait_for(lambda: _has_loaded(process.pid, "numpy"), process, timeout=60)
    process.send_signal(sig)
    _, err = process.communicate(timeout=120)
    # ended by the signal after saying so (a shell shows 130 or 143); a Ctrl-C may also have ended it
    # silently (a KeyboardInterrupt inside some extension modules' import). SIGTERM's default action
    # ends it silently too, so for SIGTERM the word is required: it is the handler's.
    assert process.returncode == -sig, err.decode()
    assert b"Traceback" not in err and err.decode().strip() in ((said, "") if sig == signal.SIGINT else (said,))


def test_ctrl_c_during_a_command_is_exit_130_without_traceback(tmp_path):
    process = popen("run", "sample_data/eval_dump.csv", "--models", "sample_data/models.csv", "--cut", "3e22",
                    "--bootstrap", "200", "-o", tmp_path / "out", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _wait_for(lambda: any(p.name.startswith(".out.slicesand-") for p in tmp_path.iterdir()), process)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == -signal.SIGINT and err.decode().strip().endswith("interrupted"), err.decode()
    assert b"Traceback" not in err
    assert list(tmp_path.iterdir()) == []  # the staging folder went with it; no half-made out/


def _has_loaded(pid: int, package: str) -> bool:
    """Whether process ``pid`` has mapped a compiled library of ``package`` (Linux ``/proc/PID/maps``)."""
    try:
        with open(f"/proc/{pid}/maps", encoding="utf-8", errors="replace") as maps:
            return f"/{package}/" in maps.read()
    except OSError:
        return False


def _wait_for(condition, process, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert process.poll() is None, "the command ended before the signal"
        assert time.monotonic() < deadline
        time.sleep(0.02)


def test_a_memory_budget_subset_is_a_warning_on_stderr_and_in_the_sidecars(tmp_path):
    """10 kB holds 13 of the 30 questions' bootstrap matrices and 7 of their stability checks: both say so
    as a questions-subset warning (stderr, sidecars), not only in the report's prose."""
    import io

    import pandas as pd

    dump = small_dump(tmp_path / "dump.csv")
    options = ["--cut", "1e22", "--easy-degree", "3", "--bootstrap", "50", "--no-figures"]
    result = slicesand("run", dump, *options, "--memory-budget", "0.00001", "-o", tmp_path / "out", "-f", "csv")
    assert result.returncode == 0, result.stderr
    stderr = result.stderr.decode()
    assert "warning: questions resampled on a seeded subset of 13 of the 30 questions" in stderr, stderr
    assert "warning: questions checked for stability on a seeded subset of 7 of the 30 questions" in stderr, stderr
    stdout = result.stdout.decode()
    assert "subset" not in stdout and len(pd.read_csv(io.StringIO(stdout))) == 12  # data only
    predictions = json.loads((tmp_path / "out" / "predictions.csv.meta.json").read_text())
    slices = json.loads((tmp_path / "out" / "slices.csv.meta.json").read_text())
    for document, what in ((predictions, "resampled"), (slices, "checked for stability")):
        subset = [w for w in document["warnings"] if w["code"] == "questions-subset"]
        assert len(subset) == 1 and subset[0]["category"] == "memory-budget", document["warnings"]
        assert subset[0]["message"].startswith(f"questions {what} on a seeded subset of")
    assert predictions["intervals"]["questions_note"] == predictions["warnings"][
        [w["code"] for w in predictions["warnings"]].index("questions-subset")]["message"]
    # Under the default budget every question fits: no such warning.
    plain = slicesand("run", dump, *options, "-o", tmp_path / "plain", "-q")
    assert plain.returncode == 0 and "questions-subset" not in (tmp_path / "plain" / "predictions.csv.meta.json").read_text()


@pytest.mark.parametrize("tasks, fmt, line", [(None, "csv", "artifacts in "), (None, "md", "artifacts in "),
                                              (["a", "b"], "csv", "one folder per task in ")])
def test_a_closed_pipe_still_gets_the_run_summary_on_stderr(tmp_path, tasks, fmt, line):
    """`slicesand run ... -o DIR -f csv | true`: the reader is gone before anything is printed, but the
    folder is written, so the line saying where it is still reaches stderr (it is not stdout's data)."""
    dump = small_dump(tmp_path / "dump.csv", tasks=tasks)
    process = popen("run", dump, *RUN_OPTIONS, "-o", tmp_path / "out", "-f", fmt,
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.close()  # closed by the reader before the run writes a byte: the broken pipe is certain
    _, err = process.communicate(timeout=120)
    err = err.decode()
    assert process.returncode == 0 and "Traceback" not in err and "error" not in err, err
    assert f"{line}{tmp_path / 'out'}/" in err, err
    assert (tmp_path / "out" / "manifest.json").exists()
    quiet = popen("run", dump, *RUN_OPTIONS, "-o", tmp_path / "out", "-f", fmt, "-q",
                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    quiet.stdout.close()
    _, err = quiet.communicate(timeout=120)
    assert quiet.returncode == 0 and err == b"", err.decode()


def test_a_closed_pipe_does_not_hide_strict(tmp_path):
    """`--strict` fails after the output is written; a reader that left early does not turn that into 0."""
    dump = small_dump(tmp_path / "dump.csv")
    for args, line in ((["run", dump, *RUN_OPTIONS, "-o", tmp_path / "out"], f"artifacts in {tmp_path / 'out'}/"),
                       (["predict", tmp_path / "out" / "fit.json", "--at", "1e24"], "forecast")):
        process = popen(*args, "-f", "csv", "--strict", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        process.stdout.close()
        _, err = process.communicate(timeout=120)
        err = err.decode()
        assert process.returncode == 6 and "--strict" in err and "Traceback" not in err, err
        assert line in err, err  # the messages after the data are said too
        assert "Exception ignored" not in err  # Python's exit flush found stdout pointed away, not broken
