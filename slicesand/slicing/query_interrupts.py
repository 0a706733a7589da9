"""Ctrl-C and SIGTERM during a DuckDB query: the query stops at once, and the interruption is raised.

DuckDB runs Python's signal handlers while a query runs, and on the exception they raise it stops the
query and raises ``RuntimeError: Query interrupted`` in its place: the command reported an internal
error (exit 1), and a multi-task run went on to the next task. And DuckDB does not always look: now and
then a signal went unseen until the query ended by itself (a test's query of hours ran 442 s to its end,
1 run in 4 here; users report the same from notebooks, duckdb/duckdb#10216 and #3742).

So while a query runs, a thread waits on Python's signal wake-up descriptor, which the interpreter's
C-level handler writes at once, whatever the main thread is doing, and on SIGINT or SIGTERM it calls
``connection.interrupt()``, which DuckDB honours from any thread. Meanwhile the Python-level handlers
of those signals only note the signal; when the query has ended and the watch is put away, the noted
signal's own handler is called, and raises. An exception never lands inside the clean-up, then. Only
handlers that raise an interruption are stood in for (Python's ``KeyboardInterrupt`` and the command
line's SIGTERM handler); a signal with any other handler leaves the query alone. A wake-up descriptor
set before (an event loop's) is put back after, and still hears of every signal.
"""

from __future__ import annotations

import os
import signal
import threading
from types import FrameType
from typing import Any, Callable

from slicesand.errors import Terminated, interruption

#: DuckDB's words for a query it stopped because a signal handler raised (its own exception is lost).
QUERY_INTERRUPTED = "Query interrupted"

_STOP = 0  # no signal has the number 0: the byte that ends a watch
_NOTED = 255  # nor 255: the byte with which a handler that noted a signal wakes the watch


class interruptions_raised:  # noqa: N801 (a context manager, named as contextlib's are)
    """Raise the interruption (a ``KeyboardInterrupt``, or :class:`Terminated` after a SIGTERM) that
    stopped a DuckDB query inside this block; with ``connection``, also stop its query on such a signal.

    >>> try:  # a doctest cannot expect a KeyboardInterrupt: it stops the whole test session
    ...     with interruptions_raised():
    ...         raise RuntimeError(QUERY_INTERRUPTED)
    ... except KeyboardInterrupt as raised:
    ...     print(type(raised).__name__)
    KeyboardInterrupt
    """

    def __init__(self, connection=None) -> None:
        self._connection = connection
        self._watch: _SignalWatch | None = None

    def __enter__(self) -> interruptions_raised:
        if self._connection is not None:
            self._watch = _SignalWatch(self._connection)
        return self

    def __exit__(self, kind, exc, traceback) -> bool:
        watch, self._watch = self._watch, None
        noted = watch.stop() if watch is not None else None
        if noted is not None:
            handler, signum, frame = noted
            try:
                handler(signum, frame)  # raises (only such handlers are stood in for)
            except BaseException as raised:
                raise raised from None
        if isinstance(exc, Exception) and _is_interruption(exc):
            signum = watch.signum if watch is not None else None
            raise (Terminated() if signum == signal.SIGTERM else KeyboardInterrupt() if signum == signal.SIGINT
                   else interruption()) from None
        return False


def _is_interruption(exc: Exception) -> bool:
    """DuckDB's error for a query stopped by a signal handler, or by ``interrupt()``."""
    return (isinstance(exc, RuntimeError) and str(exc) == QUERY_INTERRUPTED
            or type(exc).__name__ == "InterruptException")


def _raising_handlers() -> dict[int, Callable[[int, FrameType | None], Any]]:
    """The SIGINT and SIGTERM handlers that raise an interruption, by signal."""
    handlers = {}
    for signum in (signal.SIGINT, signal.SIGTERM):
        handler = signal.getsignal(signum)
        if handler is signal.default_int_handler or getattr(handler, "raises_interruption", False):
            handlers[signum] = handler
    return handlers


class _SignalWatch:
    """From when it is made until :meth:`stop`: a thread that interrupts ``connection``'s query on
    SIGINT or SIGTERM, and handlers that note the signal. Only the main thread can set handlers and
    the wake-up descriptor; elsewhere it watches nothing (signal handlers run on the main thread).

    A signal can come at any moment, its handler raising between two steps of setting up or putting
    away: every step there runs even if one before it raised (:func:`_each`), and the handlers that
    note are put in first and taken out last, so that in between nothing raises."""

    #: How often a noted signal's interruption is repeated: ``interrupt()`` before the query has begun
    #: (the statement still being bound) does nothing, and the query would then run to its end.
    REPEAT_SECONDS = 0.02

    def __init__(self, connection) -> None:
        self.signum: int | None = None  # the signal the thread stopped the query for
        self._noted: tuple[Callable, int, FrameType | None] | None = None
        self._thread: threading.Thread | None = None
        if threading.current_thread() is not threading.main_thread():
            return
        self._handlers = _raising_handlers()
        if not self._handlers:
            return
        self._read, self._write = os.pipe()
        self._open = True  # whether the pipe may be written (its descriptors are not closed)
        self._previous: int | None = None
        try:
            for signum in self._handlers:
                signal.signal(signum, self._note)
            os.set_blocking(self._write, False)  # as Python requires of a wake-up descriptor
            self._previous = signal.set_wakeup_fd(self._write, warn_on_full_buffer=False)
            self._thread = threading.Thread(target=self._watch, args=(connection,),
                                            name="slicesand-query-signals", daemon=True)
            self._thread.start()
        except BaseException:  # the handler of a signal between two of the steps above
            self._thread = None
            _each([self._put_back_wakeup_fd, self._close, self._put_back_handlers])
            raise

    def _note(self, signum: int, frame: FrameType | None) -> None:
        if self._noted is None:
            self._noted = (self._handlers[signum], signum, frame)
            if self._open:  # wake the watch: the signal may have come before the descriptor was its own
                try:
                    os.write(self._write, bytes([_NOTED]))
                except OSError:
                    pass

    def _watch(self, connection) -> None:
        import select

        while True:
            ready, _, _ = select.select([self._read], [], [], None if self.signum is None else self.REPEAT_SECONDS)
            if not ready:  # a signal came: interrupt again, in case the query had not begun
                connection.interrupt()
                continue
            for byte in os.read(self._read, 64):
                if byte == _STOP:
                    return
                if byte == _NOTED:  # written only once a signal is noted
                    signum = self._noted[1]
                else:
                    signum = byte
                    if self._previous is not None and self._previous >= 0:  # the event loop that set it hears too
                        try:
                            os.write(self._previous, bytes([signum]))
                        except OSError:
                            pass
                if signum in self._handlers and self.signum is None:
                    self.signum = signum
                    connection.interrupt()

    def stop(self) -> tuple[Callable, int, FrameType | None] | None:
        """Put the wake-up descriptor and the handlers back and end the thread; the handler, signal and
        frame of a signal noted meanwhile, for the caller to raise."""
        if self._thread is None:
            return None
        _each([self._put_back_wakeup_fd, lambda: os.write(self._write, bytes([_STOP])), self._thread.join,
               self._close, self._put_back_handlers])
        return self._noted

    def _put_back_wakeup_fd(self) -> None:
        if self._previous is not None:
            signal.set_wakeup_fd(self._previous)

    def _close(self) -> None:
        if self._thread is None or not self._thread.is_alive():  # never a descriptor a thread still reads
            self._open = False  # first: a note-taker still in place must not write a closed descriptor
            os.close(self._read)
            os.close(self._write)

    def _put_back_handlers(self) -> None:  # last: till here a signal is noted, not raised
        _each([lambda signum=signum, handler=handler: signal.signal(signum, handler)
               for signum, handler in self._handlers.items()])


def _each(steps: list[Callable[[], object]]) -> None:
    """Run every step, in order, each even if one before it raised (which is raised once all have run)."""
    if steps:
        try:
            steps[0]()
        finally:
            _each(steps[1:])


class InterruptibleConnection:
    """A DuckDB connection whose queries stop on Ctrl-C or SIGTERM and raise that interruption.

    ``execute`` runs a query to its end; a lazy relation (``sql``) runs as it is read, so read it in a
    ``with connection.interruptible():`` block.
    """

    def __init__(self, connection) -> None:
        self._connection = connection

    def execute(self, *args, **kwargs):
        with interruptions_raised(self._connection):
            return self._connection.execute(*args, **kwargs)

    def interruptible(self) -> interruptions_raised:
        """A block in which the queries of this connection stop and raise as in ``execute``."""
        return interruptions_raised(self._connection)

    def __getattr__(self, name: str):
        return getattr(self._connection, name)
