"""Atomic writes: a temporary file beside the target, then ``os.replace``.

A crash or an error half-way never leaves a half-written artifact, and an earlier artifact at the same
path survives until the new one is complete. When the system refuses (a full disk, no permission), the
error names the target: an :class:`~slicesand.errors.OutputError` (exit 5), not the temporary file.

>>> import tempfile, pathlib
>>> target = pathlib.Path(tempfile.mkdtemp()) / "out.txt"
>>> with atomic_path(target) as tmp:
...     _ = tmp.write_text("done")
>>> target.read_text()
'done'
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

from slicesand.errors import OutputError, UsageError


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; rename it onto ``target`` if the block succeeds.

    A symbolic link is followed (the file it points to is replaced; the link stays). A target that is
    not a regular file (``/dev/stdout``, a device, a named pipe) is written through, as the shell's
    ``>`` would, once the block has succeeded. An existing file we may not write is refused.
    """
    named = Path(target)  # what the user typed: messages name it
    if named.is_dir():
        raise UsageError(str(named), "is a folder; expected a file name to write",
                         hint="give a file name, e.g. out.csv")
    if not is_regular_target(named):
        with _written_through(named) as tmp:
            yield tmp
        return
    target = Path(os.path.realpath(named)) if named.is_symlink() else named
    if target.exists() and not os.access(target, os.W_OK):
        raise OutputError(str(named), "cannot write: the file is read-only",
                          hint="choose another file, or make it writable first")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name[:200]}.", suffix=".tmp", dir=target.parent)
        os.close(fd)
    except FileExistsError:
        raise UsageError(str(target.parent), "is a file; expected a folder to write into") from None
    except OSError as exc:
        raise OutputError(str(named), f"cannot write: {exc.strerror or exc}") from None
    tmp = Path(tmp_name)
    try:
        yield tmp
        # mkstemp makes the file private (0600); give it the permissions a plain open() would have.
        os.chmod(tmp, 0o666 & ~_current_umask())
        os.replace(tmp, target)
    except OSError as exc:
        raise OutputError(str(named), f"cannot write: {exc.strerror or exc}") from None
    finally:
        if tmp.exists():
            tmp.unlink()


@contextlib.contextmanager
def _written_through(target: Path) -> Iterator[Path]:
    """A device or a named pipe cannot be renamed over: build the bytes in a private temporary file,
    then copy them into ``target`` (a full device then fails here, naming it)."""
    folder = Path(tempfile.mkdtemp(prefix="slicesand-"))
    tmp = folder / "out"
    try:
        yield tmp
        with open(tmp, "rb") as source, open(target, "wb") as sink:
            shutil.copyfileobj(source, sink)
    except OSError as exc:
        raise OutputError(str(target), f"cannot write: {exc.strerror or exc}") from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def is_regular_target(target: str | os.PathLike[str]) -> bool:
    """False for a stream of bytes rather than a file to replace: a device, a named pipe, or a name
    under ``/dev`` or ``/proc`` (``/dev/stdout`` may point at a pipe or at the shell's redirect). Nothing
    should be written beside one.

    >>> is_regular_target("/dev/null"), is_regular_target("slices.csv")
    (False, True)
    """
    path = Path(target)
    if path.is_absolute() and path.parts[1:2] in (("dev",), ("proc",)):
        return False
    return not path.exists() or path.is_file()


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_bytes_atomic(target: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``target`` atomically."""
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def write_text_atomic(target: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` (UTF-8) to ``target`` atomically."""
    write_bytes_atomic(target, text.encode("utf-8"))


class HeldSignals:
    """SIGINT and SIGTERM noted, not acted on, until :meth:`release` (main thread only; elsewhere a no-op)."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.received: list[int] = []
        self.previous: dict[int, object] = {}
        if threading.current_thread() is threading.main_thread():
            for number in self.SIGNALS:
                self.previous[number] = signal.signal(number, self._note)

    def _note(self, signum, frame) -> None:
        self.received.append(signum)

    def release(self, raise_now: bool = True) -> None:
        """Put the previous handlers back and, if a signal came meanwhile, act on the first as it would have."""
        for number, handler in self.previous.items():
            signal.signal(number, handler)
        if self.received and raise_now:
            number = self.received[0]
            handler = self.previous[number]
            if callable(handler):
                handler(number, None)  # Python's SIGINT default raises KeyboardInterrupt; the CLI's SIGTERM, Terminated
            elif handler == signal.SIG_DFL:
                os.kill(os.getpid(), number)


@contextlib.contextmanager
def interrupts_held() -> Iterator[None]:
    """Run the block to its end with Ctrl-C and SIGTERM held back, then act on the first that came: for
    a set of files written one by one (each atomically), so an interruption leaves all of them or none.
    Keep the block short (the writes, with everything computed before it).

    >>> previous = signal.signal(signal.SIGTERM, lambda number, frame: print("terminated"))
    >>> with interrupts_held():
    ...     os.kill(os.getpid(), signal.SIGTERM)
    ...     print("every file written")
    every file written
    terminated
    >>> _ = signal.signal(signal.SIGTERM, previous)
    """
    held = HeldSignals()
    try:
        yield
    except BaseException:
        held.release(raise_now=False)
        raise
    held.release()
