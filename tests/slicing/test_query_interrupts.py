"""A Ctrl-C or SIGTERM during a DuckDB query stops it at once and raises that interruption."""

from __future__ import annotations

import os
import signal
import threading
import time

import duckdb
import numpy as np
import pandas as pd
import pytest

from slicesand.errors import Terminated
from slicesand.slicing.query_interrupts import InterruptibleConnection
from slicesand.slicing.scans import DumpScanner

#: Hours of work for DuckDB, in constant memory, unless interrupted.
ENDLESS_QUERY = "SELECT SUM(hash(i)) FROM range(100000000000) t(i)"


class SignalWhileRunning:
    """Sends a signal to this process half a second after ``running()`` is called, that is inside the
    query: a timer started before the call could fire before the query began on a loaded machine, and a
    KeyboardInterrupt outside ``pytest.raises`` would end the whole session. If the query has not
    stopped 30 s later, the signal was lost: it is stopped by hand and ``lost`` says so (the query would
    otherwise run its hours, and the late handler would still make the test pass)."""

    def __init__(self, name: str, connection) -> None:
        self._running, self._stopped, self.lost = threading.Event(), threading.Event(), False
        self._thread = threading.Thread(target=self._send, args=(getattr(signal, name), connection), daemon=True)
        self._thread.start()

    def _send(self, signum: int, connection) -> None:
        if self._running.wait(60):
            time.sleep(0.5)
            os.kill(os.getpid(), signum)
            if not self._stopped.wait(30):
                self.lost = True
                connection.interrupt()

    def running(self) -> None:
        self._running.set()

    def stopped(self) -> None:
        self._stopped.set()
        self._thread.join()


@pytest.fixture(params=["SIGINT", "SIGTERM"])
def signal_name(request):
    """The command line's own SIGTERM handler, installed for the test."""
    from slicesand.__main__ import _restore_sigterm, _terminate_as_interrupt

    previous = _terminate_as_interrupt()
    yield request.param
    _restore_sigterm(previous)
    Terminated.received = False  # as in a process that never had one


@pytest.mark.parametrize("attempt", range(3))  # a lost signal was 1 run in 4
def test_a_signal_during_a_query_stops_it_and_raises_that_interruption(signal_name, attempt):
    """DuckDB raised 'RuntimeError: Query interrupted' in place of the handler's exception (exit 1), and
    now and then did not see the signal at all: the query ran to its end (442 s for this one)."""
    duckdb_connection = duckdb.connect(config={"threads": 2})
    connection = InterruptibleConnection(duckdb_connection)
    sender = SignalWhileRunning(signal_name, duckdb_connection)
    try:
        with pytest.raises(KeyboardInterrupt) as caught:
            sender.running()
            connection.execute(ENDLESS_QUERY).fetchall()
    finally:
        sender.stopped()
    assert not sender.lost, "the signal went unseen: the query was stopped by hand after 30 s"
    assert isinstance(caught.value, Terminated) == (signal_name == "SIGTERM")
    assert connection.execute("SELECT 1").fetchall() == [(1,)]  # the connection still works


def test_a_signal_while_the_cells_are_read_stops_them_and_raises_that_interruption(tmp_path, signal_name):
    """The stability pass and the bootstrap read the dump's cells through a lazy relation, which ran past
    the connection's ``execute``: interrupted there, ``run`` still ended as an internal error (1 in 12
    timings). Here the cells' query is swapped for an endless one that yields no row."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"model": np.repeat([f"m{i}" for i in range(6)], 20),
                          "question": np.tile([f"q{j}" for j in range(20)], 6),
                          "p_correct": rng.random(120), "flops": np.repeat(10.0 ** np.arange(20, 26), 20)})
    frame.to_parquet(tmp_path / "d.parquet", index=False)
    scanner = DumpScanner(tmp_path / "d.parquet")
    models = frame.drop_duplicates("model")
    scanner.scan(models["flops"].to_numpy(), models["model"].to_numpy(), 3, None)
    duckdb_connection = scanner.connection._connection

    class EndlessCells:
        def sql(self, query):
            return duckdb_connection.sql("SELECT 0 AS row, 0 AS code, 0.5 AS p FROM range(100000000000) t(i) "
                                         "WHERE hash(i) = 0")

        def __getattr__(self, name):
            return getattr(duckdb_connection, name)

    scanner.connection._connection = EndlessCells()
    sender = SignalWhileRunning(signal_name, duckdb_connection)
    try:
        with pytest.raises(KeyboardInterrupt) as caught:
            sender.running()
            scanner.cells(models["model"].to_numpy(), frame["question"].unique())
    finally:
        sender.stopped()
    assert not sender.lost, "the signal went unseen: the query was stopped by hand after 30 s"
    assert isinstance(caught.value, Terminated) == (signal_name == "SIGTERM")


def test_a_query_leaves_the_wakeup_descriptor_and_threads_as_they_were():
    """An event loop's wake-up descriptor is put back after each query, and still hears of a signal that
    came during one; the watching thread is gone."""
    read, write = os.pipe()
    os.set_blocking(write, False)
    os.set_blocking(read, False)
    previous = signal.set_wakeup_fd(write)
    handler = signal.signal(signal.SIGUSR1, lambda *_: None)
    try:
        connection = InterruptibleConnection(duckdb.connect())
        threads = threading.active_count()
        os.kill(os.getpid(), signal.SIGUSR1)  # before the query: straight to the loop's descriptor
        connection.execute("SELECT SUM(hash(i)) FROM range(1000) t(i)").fetchall()
        assert threading.active_count() == threads
        assert signal.set_wakeup_fd(write) == write
        running = threading.Event()

        def signal_then_stop():
            running.wait(60)
            time.sleep(0.5)
            os.kill(os.getpid(), signal.SIGUSR1)  # during the query: through the watch to the loop's
            time.sleep(0.5)
            connection.interrupt()

        helper = threading.Thread(target=signal_then_stop)
        helper.start()
        with pytest.raises(KeyboardInterrupt):  # what a stopped query raises
            running.set()
            connection.execute(ENDLESS_QUERY).fetchall()
        helper.join()
        assert os.read(read, 16) == bytes([signal.SIGUSR1]) * 2  # and that signal stopped no query
        assert signal.set_wakeup_fd(write) == write and threading.active_count() == threads
    finally:
        signal.signal(signal.SIGUSR1, handler)
        signal.set_wakeup_fd(previous)
        os.close(read)
        os.close(write)


def test_a_query_off_the_main_thread_runs_without_a_watch():
    """Only the main thread can set the wake-up descriptor (and only it runs signal handlers)."""
    found = []
    thread = threading.Thread(target=lambda: found.append(
        InterruptibleConnection(duckdb.connect()).execute("SELECT 41 + 1").fetchall()))
    thread.start()
    thread.join()
    assert found == [[(42,)]]


def test_a_signal_whose_handler_does_not_raise_leaves_the_query_alone():
    """Only handlers that raise an interruption are stood in for: a host's own SIGINT handler is called
    as usual, and the query goes on to its result."""
    heard = []
    handler = signal.signal(signal.SIGINT, lambda signum, frame: heard.append(signum))
    try:
        connection = InterruptibleConnection(duckdb.connect(config={"threads": 2}))
        running = threading.Event()

        def interrupt_soon():
            running.wait(60)
            time.sleep(0.3)
            os.kill(os.getpid(), signal.SIGINT)

        helper = threading.Thread(target=interrupt_soon)
        helper.start()
        running.set()
        total = connection.execute("SELECT COUNT(*) FROM range(400000000) t(i) WHERE hash(i) % 7 = 0").fetchall()
        helper.join()
    finally:
        signal.signal(signal.SIGINT, handler)
    assert total[0][0] > 0 and heard == [signal.SIGINT]


def test_a_signal_before_the_query_begins_still_stops_it(signal_name):
    """``interrupt()`` before DuckDB has begun the query (while it binds the statement) does nothing: the
    query then ran to its end (found by review). The watch repeats it until the block ends."""
    duckdb_connection = duckdb.connect(config={"threads": 2})
    fired = []
    lost = threading.Timer(30, lambda: (fired.append(True), duckdb_connection.interrupt()))
    with pytest.raises(KeyboardInterrupt) as caught:
        with InterruptibleConnection(duckdb_connection).interruptible():
            os.kill(os.getpid(), getattr(signal, signal_name))  # noted here, not raised
            time.sleep(0.2)  # the watch's first interrupt() finds no query
            lost.start()
            duckdb_connection.execute(ENDLESS_QUERY)
    lost.cancel()
    assert not fired, "the signal went unseen: the query was stopped by hand after 30 s"
    assert isinstance(caught.value, Terminated) == (signal_name == "SIGTERM")


@pytest.mark.parametrize("raising_call", [1, 2, 3, 4])  # the two handlers put in, then the two put back
def test_a_handler_raising_while_the_watch_is_set_up_or_put_away_leaves_nothing_behind(
        signal_name, monkeypatch, raising_call):
    """A signal's handler can raise between any two steps: a SIGINT between putting back the two handlers
    left SIGTERM noted for good (a later SIGTERM did nothing), and one while setting up left Ctrl-C
    swallowed, two descriptors open and the wake-up descriptor on a dead pipe (found by review)."""
    real, calls = signal.signal, []

    def raising_after(signum, handler):
        calls.append(signum)
        previous = real(signum, handler)
        if len(calls) == raising_call:
            raise KeyboardInterrupt  # as the handler of a signal that came just then would
        return previous

    handlers = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    descriptors = len(os.listdir("/proc/self/fd"))
    connection = InterruptibleConnection(duckdb.connect())
    monkeypatch.setattr(signal, "signal", raising_after)
    with pytest.raises(KeyboardInterrupt):
        connection.execute("SELECT 42").fetchall()
    monkeypatch.undo()
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == handlers
    assert signal.set_wakeup_fd(-1) == -1  # none was set before, and none is left
    assert len(os.listdir("/proc/self/fd")) == descriptors
    assert connection.execute("SELECT 42").fetchall() == [(42,)]


def test_a_signal_while_the_watch_is_set_up_still_stops_the_query(signal_name, monkeypatch):
    """Noted between putting the handlers in and the watch's thread starting, a signal never reached
    the thread, and the query ran to its end (found by review)."""
    real = os.set_blocking  # called in that window

    def signal_then(fd, blocking):
        real(fd, blocking)
        os.kill(os.getpid(), getattr(signal, signal_name))

    duckdb_connection = duckdb.connect(config={"threads": 2})
    fired = []
    lost = threading.Timer(30, lambda: (fired.append(True), duckdb_connection.interrupt()))
    lost.start()
    monkeypatch.setattr(os, "set_blocking", signal_then)
    try:
        with pytest.raises(KeyboardInterrupt) as caught:
            InterruptibleConnection(duckdb_connection).execute(ENDLESS_QUERY)
    finally:
        monkeypatch.undo()
        lost.cancel()
    assert not fired, "the signal went unseen: the query was stopped by hand after 30 s"
    assert isinstance(caught.value, Terminated) == (signal_name == "SIGTERM")
