"""matplotlib, imported with a configuration folder it can write to, and no folder left behind.

matplotlib keeps its font cache in its configuration and cache folders (``MPLCONFIGDIR``, else
``~/.config/matplotlib`` and ``~/.cache/matplotlib`` on Linux). When it cannot write there (a read-only
home in a container, a CI runner, a broken ``MPLCONFIGDIR``), it makes a temporary folder, prints a
notice on stderr, even under ``--quiet``, and removes the folder when the process exits. A run draws its
figures in forked processes that end without Python's exit handlers, so that folder stayed behind in
``/tmp`` after every run. So slicesand checks the folders first, as matplotlib does; when one is not
writable it makes the temporary folder itself (``slicesand-matplotlib-*``), points ``MPLCONFIGDIR`` at
it, and removes it: at exit in this process, or by :func:`remove_private_folder` in a drawing process
that ends without exit handlers. matplotlib then has nothing to say.

Every slicesand module that draws imports matplotlib from here: ``from slicesand.reporting.matplotlib_setup
import matplotlib``.

>>> usable_folder("/dev/null/matplotlib")  # below a file: matplotlib could not write there either
False
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

_private: tuple[str, int] | None = None  # the folder made, and the process that made it (and removes it)


def usable_folder(path: str | os.PathLike) -> bool:
    """Whether matplotlib could keep its files in ``path``: it makes the folder, then needs to write."""
    try:
        Path(path).mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return os.path.isdir(path) and os.access(path, os.W_OK)


def matplotlib_folders() -> list[Path] | None:
    """The configuration and cache folders matplotlib would use (its own rules); ``None`` without a home."""
    configured = os.environ.get("MPLCONFIGDIR")
    if configured:
        return [Path(configured)]
    try:
        home = Path.home()
    except (RuntimeError, KeyError):
        return None
    if not sys.platform.startswith(("linux", "freebsd")):
        return [home / ".matplotlib"]
    return [Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config", "matplotlib"),
            Path(os.environ.get("XDG_CACHE_HOME") or home / ".cache", "matplotlib")]


def ensure_writable_folder() -> str | None:
    """Before matplotlib's import: when its folders are not writable, a private one in ``MPLCONFIGDIR``
    (removed at exit). Returns that folder, or ``None`` when matplotlib's own will do."""
    global _private
    if "matplotlib" in sys.modules:  # too late to choose (imported by someone else first)
        return None
    folders = matplotlib_folders()
    if folders is not None and all(usable_folder(folder) for folder in folders):
        return None
    folder = tempfile.mkdtemp(prefix="slicesand-matplotlib-")
    _private = (folder, os.getpid())
    os.environ["MPLCONFIGDIR"] = folder
    atexit.register(remove_private_folder)
    return folder


def remove_private_folder() -> None:
    """Remove the folder :func:`ensure_writable_folder` made, in the process that made it (a drawing
    process calls it before it ends; a process forked from that one leaves the folder to it)."""
    global _private
    if _private is not None and _private[1] == os.getpid():
        shutil.rmtree(_private[0], ignore_errors=True)
        _private = None


ensure_writable_folder()

import matplotlib  # noqa: E402 - after the folder is settled

__all__ = ["matplotlib", "ensure_writable_folder", "remove_private_folder", "usable_folder"]
