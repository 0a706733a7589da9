"""``python -m slicesand`` and the ``slicesand`` command (the console script's entry point).

This module imports nothing beyond the standard library before it must, so ``slicesand --version``
answers before typer, rich or the science stack load, and a Ctrl-C while they load ends quietly
(exit 130) instead of with a traceback. Everything else is :func:`slicesand.cli.ui.main`.
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
    sys.exit(code)


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
