"""``python -m slicesand`` and the ``slicesand`` command (the console script's entry point).

This module imports nothing beyond the standard library before it must, so ``slicesand --version``
answers before typer, rich or the science stack load, and a Ctrl-C while they load ends quietly
(exit 130) instead of with a traceback. Everything else is :func:`slicesand.cli.ui.main`.

An interrupted command cleans up (a run folder being built is removed), says "interrupted", and then
ends *by SIGINT*, as a well-behaved Unix program does: a shell shows exit status 130, and a shell loop
or ``make`` that called it stops too, instead of going on to the next item. (Python would otherwise
end with status 130 or by the signal depending on where the Ctrl-C landed: a KeyboardInterrupt inside
some extension modules' import marks the process as interrupted even after it was handled.)

OpenBLAS runs on one thread in the command's process (:func:`slicesand.blas.one_blas_thread_from_the_start`).

A finished command ends without the interpreter's teardown (:func:`_end`): its output flushed and the
exit handlers run, as Python would, but without freeing every module and object one by one.

SIGTERM (``kill``, ``timeout``, a CI job's time limit) is handled as a Ctrl-C that says "terminated":
the same cleanup, then the process ends by SIGTERM (143 in a shell). A SIGTERM its caller set to be
ignored stays ignored.
"""

import os
import sys


def main() -> None:
    """The ``slicesand`` command, ending in :func:`sys.exit` (so it can be called in a process that goes on)."""
    sys.exit(_command())


def console() -> None:
    """The ``slicesand`` command as a process: the console script's and ``python -m slicesand``'s entry
    point, ending in :func:`_end`."""
    from slicesand.blas import one_blas_thread_from_the_start  # the standard library only

    one_blas_thread_from_the_start()
    _end(_command())


#: Exit codes that end the process by the signal that caused them, after cleaning up.
_BY_SIGNAL = {130: "SIGINT", 143: "SIGTERM"}


def _command() -> int:
    """Run the command; its exit code (a Ctrl-C or SIGTERM ends the process here, by that signal)."""
    previous = _terminate_as_interrupt()
    try:
        if sys.argv[1:] == ["--version"]:
            code = _version()
        else:
            from slicesand.cli.ui import main as cli_main

            code = cli_main()
    except KeyboardInterrupt as exc:  # while the command line's own modules load
        code = 143 if _is_terminated(exc) else 130
        _say("terminated" if code == 143 else "interrupted")
    finally:
        _restore_sigterm(previous)
    if code in _BY_SIGNAL:
        _end_by_signal(_BY_SIGNAL[code])
    return code


def _terminate_as_interrupt():
    """Have SIGTERM raise :class:`slicesand.errors.Terminated` (a KeyboardInterrupt), unless SIGTERM
    is not at its default (ignored by the caller, or handled by a host process); the previous handler."""
    import signal

    from slicesand.errors import Terminated  # the standard library only

    def terminate(signum, frame):
        Terminated.received = True  # for a library that swallows the exception (slicesand.errors.interruption)
        raise Terminated

    terminate.raises_interruption = True  # a DuckDB query stops on it (slicing.query_interrupts)
    Terminated.received = False
    try:
        if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
            return signal.signal(signal.SIGTERM, terminate)
    except (ValueError, AttributeError):  # not the main thread, or no SIGTERM here
        pass
    return None


def _restore_sigterm(previous) -> None:
    if previous is not None:
        import signal

        signal.signal(signal.SIGTERM, previous)


def _is_terminated(exc: BaseException) -> bool:
    from slicesand.errors import Terminated

    return isinstance(exc, Terminated)


def _end(code: int) -> None:
    """End the process with ``code`` once its streams are flushed and its exit handlers have run.

    Python's own exit would then free every module and object one by one: 0.15 to 0.2 s of a default
    ``run`` (pandas, scipy and pyarrow are loaded), for nothing, since the process is ending. It also
    tears down pyarrow's thread pool, which can abort the process (SIGABRT, apache/arrow#34314). So the
    process leaves with :func:`os._exit`, as its forked children do. When a stream cannot be flushed
    (a closed pipe, a full disk) or a thread that Python would wait for is still running, Python's
    normal exit takes over, with its usual handling of both.
    """
    import threading

    waited_for = [thread for thread in threading.enumerate()
                  if thread is not threading.main_thread() and not thread.daemon and thread.is_alive()]
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
    except (OSError, ValueError):
        sys.exit(code)
    if waited_for:
        sys.exit(code)
    import atexit

    atexit._run_exitfuncs()  # what Python runs at exit (e.g. removing a private matplotlib folder)
    try:
        for stream in (sys.stdout, sys.stderr):  # a handler may have written
            if stream is not None:
                stream.flush()
    except (OSError, ValueError):
        sys.exit(code)
    os._exit(code)


def _end_by_signal(name: str) -> None:
    """Flush, then end the process by the default action of the signal ``name`` (status 128 + its
    number in a shell: 130 for SIGINT, 143 for SIGTERM)."""
    import signal

    number = getattr(signal, name)

    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError, AttributeError):
            pass
    if os.name == "posix":
        signal.signal(number, signal.SIG_DFL)
        os.kill(os.getpid(), number)


def _version() -> int:
    from slicesand import __version__

    try:
        os.write(1, f"slicesand {__version__}\n".encode())
    except BrokenPipeError:
        return 0
    except OSError as exc:
        _say(f"error: <stdout>: cannot write: {exc.strerror}")
        return 5
    return 0


def _say(message: str) -> None:
    try:
        os.write(2, (message + "\n").encode())
    except OSError:
        pass


if __name__ == "__main__":
    console()
