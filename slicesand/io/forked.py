"""Run a function in a forked child on the other core while this process goes on, and read its result back.

Made for work that is pure Python (matplotlib drawing the report's figures holds the GIL, so threads
would not help): the child is a copy of this process, so it sees the very objects the parent holds
(no pickling of the inputs) and computes exactly what the parent would. Only the result travels back,
pickled, through a pipe.

:func:`fork_usable` says when this is safe and pays: Linux (macOS frameworks are not fork-safe), no
other Python thread running (a lock held by another thread at the fork would stay locked in the
child) and at least two usable cores. Otherwise, or when the child fails, the caller computes in its
own process: :meth:`Forked.result` returns ``None`` for a failed child, it never raises for it.
The child leaves with ``os._exit``: no ``atexit`` handler runs twice and no buffered output of the
parent is written twice.

>>> with Forked(lambda: sum(range(10))) as child:
...     mine = sum(range(5))
...     theirs = child.result()
>>> mine, theirs
(10, 45)

With ``inbox=True`` the child can also wait for what the parent learns later: ``function`` is called
with a ``receive`` function, which returns each object the parent :meth:`Forked.send` s, in order
(pickled through a second pipe; ``EOFError`` when the parent stopped sending):

>>> with Forked(lambda receive: receive() * 2, inbox=True) as child:
...     child.send(21)
...     child.result()
42

With ``inbox=2`` every message goes through two pipes, and the child is also handed the second one's
reading end (a file descriptor): for a grandchild it may fork in its turn (a second worker that sees
the same messages as soon as they are sent), or to close (:func:`receiver`):

>>> def child_side(receive, spare):
...     with Forked(lambda: receiver(spare)() + 1) as grandchild:
...         os.close(spare)
...         return receive(), grandchild.result()
>>> with Forked(child_side, inbox=2) as child:
...     child.send(41)
...     child.result()
(41, 42)
"""

from __future__ import annotations

import gc
import os
import pickle
import signal
import sys
import threading
from collections.abc import Callable

from slicesand.io.atomic import HeldSignals


def fork_usable() -> bool:
    """Whether :class:`Forked` may run a function in a child: Linux, one Python thread, two or more cores."""
    if not (sys.platform.startswith("linux") and hasattr(os, "fork")) or threading.active_count() != 1:
        return False
    return len(os.sched_getaffinity(0)) > 1


def fork_or_none(function: Callable[..., object], *, inbox: bool | int = False) -> Forked | None:
    """A :class:`Forked` child computing ``function``, or ``None`` where forking is not usable
    (:func:`fork_usable`) or no process could be forked (a process limit): the caller then computes the
    result itself. The one place the callers' fallback is decided."""
    if not fork_usable():
        return None
    try:
        return Forked(function, inbox=inbox)
    except OSError:  # EAGAIN: Forked left this process as it was
        return None


class Forked:
    """``function()`` computed in a forked child from now on; :meth:`result` waits for it.

    Use it as a context manager: leaving the block (an error or Ctrl-C in the parent included) stops a
    child whose result was not read, so no process outlives its parent's need for it. When no process
    can be forked, the ``OSError`` is raised with this process left as it was (its pipes closed, its
    SIGINT and SIGTERM handlers and garbage collector back), for the caller to compute the result itself.
    """

    def __init__(self, function: Callable[..., object], *, inbox: bool | int = False) -> None:
        read, write = os.pipe()
        inbox_read, inbox_write = os.pipe() if inbox else (None, None)
        spare_read, spare_write = os.pipe() if inbox == 2 else (None, None)
        for end in (inbox_write, spare_write):
            if end is not None:
                _widen(end)  # what the parent sends fits the pipe: send() does not wait for the child
        # Ctrl-C during the fork would raise KeyboardInterrupt inside an at-fork handler (logging's),
        # which Python prints and swallows: the run would go on. So SIGINT (and SIGTERM, which the
        # command line raises as a KeyboardInterrupt too) is only noted over the fork
        # (by whichever thread, DuckDB's included, receives it) and handled once the child is known.
        held = HeldSignals()
        # The child's garbage collections would walk every object inherited from this process, and
        # touching their headers copies the pages they live on: frozen, the collector leaves them be.
        gc.freeze()
        parent = os.getpid()
        try:
            pid = os.fork()
        except BaseException:  # no child (a process limit: EAGAIN): this process as it was, nothing open
            gc.unfreeze()
            for fd in (read, write, inbox_read, inbox_write, spare_read, spare_write):
                if fd is not None:
                    os.close(fd)
            held.release()
            raise
        if pid == 0:  # the child: compute, send, leave at once
            code = 1
            try:
                _die_with(parent)
                held.release(raise_now=False)
                os.close(read)
                try:
                    for end in (inbox_write, spare_write):  # the parent's ends: only it writes
                        if end is not None:
                            os.close(end)
                    if spare_read is not None:
                        value = function(receiver(inbox_read), spare_read)
                    elif inbox_read is not None:
                        value = function(receiver(inbox_read))
                    else:
                        value = function()
                    payload = pickle.dumps((True, value), protocol=pickle.HIGHEST_PROTOCOL)
                except BaseException as exc:  # noqa: BLE001 - every failure is reported, none raised here
                    payload = pickle.dumps((False, f"{type(exc).__name__}: {exc}"))
                with os.fdopen(write, "wb") as stream:
                    stream.write(payload)
                code = 0
            finally:
                os._exit(code)
        gc.unfreeze()  # this process collects as before
        os.close(write)
        self._pid: int | None = pid
        self._read = read
        self._inboxes = []
        for end, other in ((inbox_read, inbox_write), (spare_read, spare_write)):
            if end is not None:
                os.close(end)
                self._inboxes.append(os.fdopen(other, "wb"))
        self.error: str | None = None  # why the child gave no result, when it gave none
        try:
            held.release()  # a Ctrl-C held back is handled here
        except BaseException:
            self.stop()
            raise

    def send(self, message: object) -> None:
        """Pickle ``message`` to the child (``inbox=True``), which reads it with its ``receive``. A child
        that is gone already is not an error here: :meth:`result` says what became of it."""
        if not self._inboxes:
            raise RuntimeError("Forked.send: the child has no inbox (Forked(..., inbox=True))")
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        for stream in self._inboxes:
            try:
                stream.write(data)
                stream.flush()
            except OSError:  # a broken pipe: its reader has gone
                pass

    def _close_inbox(self) -> None:
        for stream in self._inboxes:
            try:
                stream.close()
            except OSError:  # a child gone before reading leaves a broken pipe
                pass
        self._inboxes = []

    def result(self, timeout: float = 300.0) -> object | None:
        """The child's result; ``None`` when it failed (``error`` says why), or when it sent nothing within
        ``timeout`` seconds: a child stuck on a lock some native thread held at the fork is killed, and
        the caller computes the result itself."""
        import select

        if self._pid is None:
            raise RuntimeError("Forked.result: the result was already read")
        self._close_inbox()  # nothing more will come: a child still waiting for a message sees the end
        if not select.select([self._read], [], [], timeout)[0]:
            self.stop()
            self.error = f"the child sent nothing within {timeout:g} s"
            return None
        with os.fdopen(self._read, "rb") as stream:
            payload = stream.read()
        _, status = os.waitpid(self._pid, 0)
        self._pid = None
        try:
            ok, value = pickle.loads(payload)
        except Exception:  # noqa: BLE001 - a child killed half-way leaves a truncated payload
            ok, value = False, f"the child ended without a result (wait status {status})"
        if not ok:
            self.error = value
            return None
        return value

    def stop(self) -> None:
        """Kill and reap the child if its result was not read."""
        self._close_inbox()
        if self._pid is None:
            return
        try:
            os.kill(self._pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(self._pid, 0)
        os.close(self._read)
        self._pid = None

    def __enter__(self) -> Forked:
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()


def _die_with(parent: int) -> None:
    """Have the kernel kill this (forked) process when its parent ends (Linux ``PR_SET_PDEATHSIG``): a
    parent killed outright (``kill -9``, the out-of-memory killer) cannot stop its children itself, and
    a drawing child forked by another child must not outlive it either. Where prctl is not at hand the
    child still ends at the end of its inbox or at its next write to a closed pipe."""
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # 1: PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # pragma: no cover - not Linux's libc
        return
    if os.getppid() != parent:  # the parent ended before the request was made
        os._exit(1)


def receiver(fd: int) -> Callable[[], object]:
    """A function that returns each object pickled into the pipe ``fd`` reads from, in order
    (``EOFError`` once every writer has closed it)."""
    messages = os.fdopen(fd, "rb")
    return lambda: pickle.load(messages)


def _widen(fd: int, size: int = 1 << 20) -> None:
    """Grow a pipe's buffer to ``size`` bytes where Linux allows it (``F_SETPIPE_SZ``); else leave it."""
    try:
        import fcntl

        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), size)
    except (ImportError, OSError):
        pass
