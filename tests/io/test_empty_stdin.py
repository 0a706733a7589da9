"""An empty stdin is an empty file (exit 3, one line) and starts no pyarrow thread pool.

pyarrow's threaded CSV reader, run on an empty stream and failing, left its worker threads to a teardown
race at interpreter exit: now and then the process died by SIGABRT ("terminate called without an active
exception", no Python frame; apache/arrow#34314), seen on ``slicesand slice - < /dev/null`` and reproduced
with pyarrow alone (2 of 300 runs). The reader is not started on nothing any more; the native threads
alive at the end are counted (``/proc/self/task``), since the race itself is too rare to wait for.

A thread that has just been joined (the hashing thread of a file read, say) is still listed for a moment
while the OS ends it, and under load the count then came out one too high or too low (1 CI run in 5). So
both counts are taken once the list has settled: the same threads, read 10 times 20 ms apart. A pool
thread never ends, so it is still counted.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.cli.shell_helpers import COMMAND, ROOT, environment

SETTLED_THREADS = """
import time
def threads():
    def listing():
        return sorted(os.listdir("/proc/self/task"))
    seen, same = listing(), 0
    for _ in range(500):  # at most 10 s
        time.sleep(0.02)
        now = listing()
        same = same + 1 if now == seen else 0
        seen = now
        if same == 10:
            break
    return seen
"""

COUNT_THREADS = SETTLED_THREADS + """
import os, sys
import slicesand.io.tables  # pyarrow and numpy loaded: their own threads are there before the command
before = threads()
from slicesand.cli.ui import main
code = main(["slice", "-"])
print(code, len(threads()) - len(before), file=sys.__stderr__)
"""


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="counts native threads through Linux /proc")
@pytest.mark.parametrize("shell", ["{python} -c \"$CODE\" < /dev/null", "true | {python} -c \"$CODE\""])
def test_an_empty_stdin_starts_no_native_thread_pool(shell):
    result = subprocess.run(["sh", "-c", shell.format(python=sys.executable)], capture_output=True, cwd=ROOT,
                            env=environment(CODE=COUNT_THREADS))
    lines = result.stderr.decode().strip().splitlines()
    assert lines[0].startswith("error: <stdin>: the file is empty"), lines
    assert lines[1] == "3 0", lines  # exit 3, and not one thread more than the imports themselves started


@pytest.mark.parametrize("shell", ["{command} slice - < /dev/null", "true | {command} slice -",
                                   "{command} run - --cut 1e22 -o out < /dev/null"])
def test_an_empty_stdin_is_exit_3_with_one_line(shell, tmp_path):
    command = " ".join(f"'{c}'" for c in COMMAND)
    result = subprocess.run(["sh", "-c", shell.format(command=command)], capture_output=True, cwd=tmp_path,
                            env=environment())
    lines = result.stderr.decode().strip().splitlines()
    assert result.returncode == 3 and len(lines) == 1 and not result.stdout, lines
    assert lines[0].startswith("error: <stdin>: the file is empty (hint: "), lines
    assert not (tmp_path / "out").exists()


COUNT_SMALL_READS = SETTLED_THREADS + """
import os, sys, pathlib
import pyarrow.csv
import slicesand.artifacts.slices_table, slicesand.io.tables
folder = pathlib.Path(sys.argv[1])
(folder / "slices.csv").write_text("model,flops,tc_brier,group_1,group_2\\n"
                                  + "".join(f"m{i},1e2{i % 10},-0.5,-0.4,-0.6\\n" for i in range(40)))
pyarrow.csv.read_csv(folder / "slices.csv", read_options=pyarrow.csv.ReadOptions(use_threads=False))
before = threads()  # pyarrow's I/O thread, which even a read on the calling thread starts, is there
slicesand.artifacts.slices_table.read_slices(folder / "slices.csv")
slicesand.io.tables.read_table(folder / "slices.csv")
print(len(threads()) - len(before))
"""


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="counts native threads through Linux /proc")
def test_a_small_table_is_read_without_a_native_thread_pool(tmp_path):
    """predict (a slices table), the scale tables and small dumps are one CSV block: read on the calling
    thread, and converted to pandas there, they start none of pyarrow's pool threads, which were left to
    the same teardown race at exit (3 more threads on 2 cores before)."""
    result = subprocess.run([sys.executable, "-c", COUNT_SMALL_READS, str(tmp_path)], capture_output=True,
                            cwd=ROOT, env=environment())
    assert result.stdout.decode().strip() == "0", result.stderr.decode()
