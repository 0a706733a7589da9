"""The forked child: its result comes back, its failures are reported (never raised), and it never
outlives the block that started it."""

from __future__ import annotations

import os
import time

import pytest

from slicesand.io.forked import Forked, fork_usable

pytestmark = pytest.mark.skipif(not fork_usable(), reason="fork not usable here (not Linux, threads or one core)")


def test_the_child_computes_in_another_process_on_the_parents_objects():
    parent, data = os.getpid(), {"rows": list(range(1000))}  # seen by the child without pickling
    with Forked(lambda: (os.getpid(), sum(data["rows"]))) as child:
        pid, total = child.result()
    assert pid != parent and total == sum(range(1000))


def test_a_failing_child_gives_none_and_says_why():
    with Forked(lambda: 1 / 0) as child:
        assert child.result() is None
    assert child.error == "ZeroDivisionError: division by zero"
    with Forked(lambda: lambda: None) as child:  # a result that cannot be pickled is a failure too
        assert child.result() is None and "pickle" in child.error.lower()


def test_leaving_the_block_stops_an_unread_child():
    with pytest.raises(KeyError):
        with Forked(lambda: time.sleep(60)) as child:
            pid = child._pid
            raise KeyError("the parent fails before reading the result")
    with pytest.raises(ChildProcessError):  # killed and reaped: no such child any more
        os.waitpid(pid, os.WNOHANG)


def test_a_result_is_read_once():
    with Forked(lambda: 3) as child:
        assert child.result() == 3
        with pytest.raises(RuntimeError, match="already read"):
            child.result()


def test_a_stuck_child_is_killed_and_gives_none():
    started = time.monotonic()
    with Forked(lambda: time.sleep(60)) as child:
        assert child.result(timeout=0.5) is None
    assert "nothing within 0.5 s" in child.error and time.monotonic() - started < 30


def test_the_child_receives_what_the_parent_sends_later_in_order():
    def child_side(receive):
        first = receive()
        return os.getpid(), first, receive()

    with Forked(child_side, inbox=True) as child:
        child.send({"early": [1, 2]})
        child.send("late" * 100_000)  # bigger than a default pipe buffer
        pid, first, second = child.result()
    assert pid != os.getpid() and first == {"early": [1, 2]} and second == "late" * 100_000


def test_a_child_waiting_for_a_message_that_never_comes_ends_with_eof():
    with Forked(lambda receive: receive(), inbox=True) as child:
        assert child.result(timeout=30) is None
    assert child.error.startswith("EOFError")
    with Forked(lambda: 1) as child, pytest.raises(RuntimeError, match="no inbox"):
        child.send(1)


@pytest.mark.parametrize("name", ["SIGINT", "SIGTERM"])
def test_ctrl_c_during_the_fork_reaches_the_parent_and_stops_the_child(monkeypatch, name):
    """SIGTERM as the command line handles it: raising Terminated, a KeyboardInterrupt."""
    import signal

    import slicesand.io.forked as forked
    from slicesand.errors import Terminated

    def terminate(signum, frame):
        raise Terminated

    number = getattr(signal, name)
    previous = signal.signal(signal.SIGTERM, terminate)
    real_fork, children = os.fork, []

    def fork_interrupted():  # the signal arrives while the fork is under way
        os.kill(os.getpid(), number)
        pid = real_fork()
        if pid:
            children.append(pid)
        return pid

    monkeypatch.setattr(forked.os, "fork", fork_interrupted)
    try:
        with pytest.raises(Terminated if name == "SIGTERM" else KeyboardInterrupt):
            Forked(lambda: time.sleep(60))
    finally:
        signal.signal(signal.SIGTERM, previous)
    with pytest.raises(ChildProcessError):  # killed and reaped
        os.waitpid(children[0], os.WNOHANG)


def test_a_child_and_its_own_child_end_with_their_parent():
    """A parent killed outright cannot stop its children: the kernel does (PR_SET_PDEATHSIG), down a chain
    of forks, so no drawing process outlives the run."""
    import signal
    import subprocess
    import sys
    import time

    script = ("import os, time; from slicesand.io.forked import Forked\n"
              "def child():\n"
              "    with Forked(lambda: time.sleep(60)) as grandchild:\n"
              "        print(os.getpid(), grandchild._pid, flush=True); time.sleep(60)\n"
              "with Forked(child) as first:\n"
              "    time.sleep(60)\n")
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    pids = [int(p) for p in process.stdout.readline().split()]
    assert len(pids) == 2
    process.send_signal(signal.SIGKILL)
    process.wait()
    deadline = time.monotonic() + 10
    alive = list(pids)
    while alive and time.monotonic() < deadline:
        alive = [pid for pid in alive if _alive(pid)]
        time.sleep(0.05)
    assert not alive


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"  # a zombie has ended
    except FileNotFoundError:
        return False


def test_a_fork_that_fails_leaves_this_process_as_it_was(monkeypatch):
    import gc
    import signal

    import slicesand.io.forked as forked

    def no_fork():
        raise BlockingIOError(11, "Resource temporarily unavailable")

    handler, frozen, fds = signal.getsignal(signal.SIGINT), gc.get_freeze_count(), len(os.listdir("/proc/self/fd"))
    terminate = signal.getsignal(signal.SIGTERM)
    monkeypatch.setattr(forked.os, "fork", no_fork)
    with pytest.raises(OSError):
        Forked(lambda receive, spare: 1, inbox=2)
    assert signal.getsignal(signal.SIGINT) is handler  # Ctrl-C still works
    assert signal.getsignal(signal.SIGTERM) is terminate
    assert gc.get_freeze_count() == frozen and len(os.listdir("/proc/self/fd")) == fds
