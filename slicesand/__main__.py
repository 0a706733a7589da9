"""``python -m slicesand`` and the ``slicesand`` command (the console script's entry point).

This module imports nothing beyond the standard library before it must, so ``slicesand --version``
answers before typer, rich or the science stack load, and a Ctrl-C while they load ends quietly
(exit 130) instead of with a traceback. Everything else is :func:`slicesand.cli.ui.main`.

An interrupted command cleans up (a run folder being built is removed), says "interrupted", and then
ends *by SIGINT*, as a well-behaved Unix program does: a shell shows exit status 130, and a shell loop
or ``make`` that called it stops too, instead of going on to the next item. (Python would otherwise
end with status 130 or by the signal depending on where the Ctrl-C landed: a KeyboardInterrupt inside
some extension modules' import marks the process as interrupted even after it was handled.)
"""

import os
import sys


def main() -> None:
    """The ``slicesand`` command."""
    try:
        if sys.argv[1:] == ["--version"]:
            code = _version()
        else:
            from slicesand.cli.ui import main as cli_main

            code = cli_main()
    except KeyboardInterrupt:  # while the command line's own modules load
        _say("interrupted")
        code = 130
    if code == 130:
        _end_by_sigint()
    sys.exit(code)


def _end_by_sigint() -> None:
    """Flush, then end the process by the default action of SIGINT (status 130 in a shell)."""
    import signal

    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError, AttributeError):
            pass
    if os.name == "posix":
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)


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
    main()
