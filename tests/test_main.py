"""The ``slicesand`` process's end (``slicesand/__main__.py``): exit handlers run and output is flushed,
but the interpreter's teardown is skipped, unless a stream or a running thread needs Python's own exit."""

from __future__ import annotations

import os
import subprocess
import sys

from slicesand import __version__

# A command run through the process entry point, with an exit handler and an object that reports being
# freed: the teardown frees it, os._exit does not.
SCRIPT = """
import atexit, sys, threading
sys.argv = ["slicesand", "--version"]
class Freed:
    def __del__(self):
        sys.stdout.write("freed\\n")
kept = Freed()
atexit.register(lambda: sys.stdout.write("handler ran\\n"))
if {thread}:
    threading.Thread(target=__import__("time").sleep, args=(0.2,)).start()
sys.stdout.write("buffered, ")  # still in the buffer when the command ends (--version writes to fd 1)
from slicesand.__main__ import console
console()
"""


def run_script(*, thread: bool) -> subprocess.CompletedProcess:
    buffered = {name: value for name, value in os.environ.items() if name != "PYTHONUNBUFFERED"}
    return subprocess.run([sys.executable, "-c", SCRIPT.format(thread=thread)], capture_output=True, text=True,
                          timeout=60, env=buffered)


def test_a_finished_command_flushes_runs_exit_handlers_and_skips_the_teardown():
    done = run_script(thread=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"slicesand {__version__}\nbuffered, handler ran\n"
    assert done.stderr == ""


def test_a_running_thread_gets_pythons_own_exit():
    done = run_script(thread=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"slicesand {__version__}\nbuffered, ")
    assert "handler ran\n" in done.stdout and done.stdout.endswith("freed\n")  # the teardown ran


def test_the_exit_code_survives_the_fast_end(tmp_path):
    done = subprocess.run([sys.executable, "-m", "slicesand", "slice", str(tmp_path / "missing.csv")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 3 and done.stderr.count("\n") == 1, (done.returncode, done.stderr)


def test_main_still_ends_in_system_exit_for_callers_that_go_on(monkeypatch, capsys):
    from slicesand.__main__ import main

    monkeypatch.setattr(sys, "argv", ["slicesand", "--version"])
    try:
        main()
    except SystemExit as exit_:
        assert exit_.code == 0
    else:  # pragma: no cover - the assertion's message
        raise AssertionError("main() returned instead of raising SystemExit")


# The command's process, with its command replaced by one that loads numpy and says what OpenBLAS was
# told and how many threads its pools have: the entry point must set them before numpy is imported.
BLAS_SCRIPT = """
import os
import slicesand.__main__ as entry
def command():
    import numpy  # noqa: F401 - loads OpenBLAS
    from threadpoolctl import threadpool_info
    pools = sorted({pool["num_threads"] for pool in threadpool_info() if pool["internal_api"] == "openblas"})
    print(os.environ.get("OPENBLAS_NUM_THREADS"), pools)
    return 0
entry._command = command
entry.console()
"""


def blas_of_the_command(**variables: str) -> tuple[str, list[int]]:
    """(OPENBLAS_NUM_THREADS, OpenBLAS pool sizes) in the command's process, with only ``variables``
    of the thread-count variables set."""
    import ast

    from slicesand.blas import BLAS_THREAD_VARIABLES

    environment = {k: v for k, v in os.environ.items() if k not in BLAS_THREAD_VARIABLES}
    done = subprocess.run([sys.executable, "-c", BLAS_SCRIPT], capture_output=True, text=True, timeout=60,
                          env={**environment, **variables})
    assert done.returncode == 0, done.stderr
    told, pools = done.stdout.strip().split(" ", 1)
    return told, ast.literal_eval(pools)


def test_the_command_starts_openblas_with_one_thread():
    told, pools = blas_of_the_command()
    assert told == "1"
    assert set(pools) <= {1}  # no pool where numpy's BLAS is not OpenBLAS (Accelerate on macOS)


def test_a_thread_count_the_caller_set_is_kept():
    told, pools = blas_of_the_command(OPENBLAS_NUM_THREADS="2")
    assert told == "2"
    if len(os.sched_getaffinity(0)) >= 2 and pools:  # OpenBLAS runs no more threads than cores
        assert pools == [2]
    assert blas_of_the_command(OMP_NUM_THREADS="2")[0] == "None"  # OpenBLAS reads that one too: kept


def test_main_called_in_a_process_that_goes_on_leaves_its_environment(monkeypatch):
    """``main`` (for a caller that goes on) leaves the thread count to the caller; the ``--version`` fast
    path it takes here imports nothing else, so this pins only ``main`` itself."""
    import slicesand.__main__ as entry

    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    monkeypatch.setattr(sys, "argv", ["slicesand", "--version"])
    try:
        entry.main()
    except SystemExit:
        pass
    assert "OPENBLAS_NUM_THREADS" not in os.environ
