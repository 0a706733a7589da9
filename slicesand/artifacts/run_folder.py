"""A ``run`` folder is one unit: built beside its target, sealed with a manifest, swapped in whole.

``slicesand run -o OUT`` writes every artifact into a fresh sibling folder (``.OUT.slicesand-<pid>-*``),
writes ``manifest.json`` last (every file's sha256), and only then swaps the new folder into place: on
Linux in one atomic exchange (``renameat2``), elsewhere by two renames. A run that is killed, interrupted
or fails (a full disk) leaves the previous ``OUT`` exactly as it was; a finished run never holds a stale
file of an earlier one, single-task or multi-task. ``report`` checks the manifest (:func:`check_manifest`),
so an artifact edited afterwards is refused (exit 4).

A folder that is not a slicesand run is refused (exit 2) unless ``force``: a run replaces what its
folder holds.

>>> import pathlib, tempfile
>>> out = pathlib.Path(tempfile.mkdtemp()) / "out"
>>> with staged_run_folder(out) as staging:
...     _ = (staging / "fit.json").write_text("{}")
>>> sorted(p.name for p in out.iterdir())
['fit.json', 'manifest.json']
>>> check_manifest(out)
>>> _ = (out / "fit.json").write_text("{ }")
>>> check_manifest(out)
Traceback (most recent call last):
...
slicesand.errors.ArtifactError: ...fit.json: changed after the run wrote it (its sha256 is not the one in manifest.json) (hint: run `slicesand run` again)
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from slicesand import __version__
from slicesand.errors import ArtifactError, OutputError, UsageError

MANIFEST = "manifest.json"
MANIFEST_SCHEMA = "slicesand.manifest"
# Files a folder made by an older slicesand run holds; such a folder is still a run folder.
_RUN_MARKERS = (MANIFEST, "run.json", "tasks.json")
# What `report` writes into a run folder: outputs of the report, not artifacts it is made from.
_REPORT_OUTPUTS = ("report.md", "report.html")
_STAGING = ".slicesand-"


def is_run_folder(path: str | Path) -> bool:
    """True when ``path`` holds a slicesand run (a manifest, or an older run's ``run.json``/``tasks.json``)."""
    path = Path(path)
    return any((path / marker).is_file() for marker in _RUN_MARKERS)


def check_run_target(outdir: str | Path, *, force: bool = False) -> None:
    """Refuse an output folder a run must not replace: a file, or a folder of something else."""
    outdir = Path(outdir)
    if outdir.exists() and not outdir.is_dir():
        raise UsageError(str(outdir), "is a file; `run` writes a folder", hint="give -o a folder name")
    if outdir.is_dir() and not force and any(outdir.iterdir()) and not is_run_folder(outdir):
        raise UsageError(str(outdir), "is not a slicesand run folder (no manifest.json), and a run replaces "
                         "everything its folder holds", hint="choose another `outdir`, or pass `force` to replace it")


@contextlib.contextmanager
def staged_run_folder(outdir: str | Path, *, force: bool = False) -> Iterator[Path]:
    """Yield an empty staging folder beside ``outdir``; on success seal it and swap it into place.

    On any exception (or Ctrl-C) the staging folder is removed and ``outdir`` is untouched. A symbolic
    link is followed: the run replaces the folder it points to, and the link stays.
    """
    outdir = Path(outdir)
    if outdir.is_symlink():
        outdir = Path(os.path.realpath(outdir))  # swap the folder itself, not the link beside it
    check_run_target(outdir, force=force)
    parent = outdir.resolve().parent
    name = outdir.resolve().name
    try:
        parent.mkdir(parents=True, exist_ok=True)
        _remove_abandoned_staging(parent, name)
        staging = Path(tempfile.mkdtemp(prefix=f".{name[:200]}{_STAGING}{os.getpid()}-", dir=parent))
        os.chmod(staging, 0o777 & ~_umask())  # mkdtemp makes it private; a run folder is an ordinary one
    except OSError as exc:
        raise OutputError(str(outdir), f"cannot create the run folder: {exc.strerror or exc}") from None
    try:
        yield staging
        try:
            write_manifest(staging)
            _swap_into_place(staging, outdir)
        except OSError as exc:
            raise OutputError(str(outdir), f"cannot write the run folder: {exc.strerror or exc}; the previous "
                              "run is left as it was") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # after a swap it holds the previous run


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _remove_abandoned_staging(parent: Path, name: str) -> None:
    """Staging folders of runs that were killed (their process is gone) are removed."""
    for path in parent.glob(f".{name[:200]}{_STAGING}*"):  # a handful at most
        pid = path.name[len(name[:200]) + 1 + len(_STAGING):].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, but not ours
    return True


def _swap_into_place(staging: Path, outdir: Path) -> None:
    """Put ``staging`` at ``outdir``; afterwards ``staging`` holds the previous run (if any)."""
    if not outdir.exists():
        try:
            os.rename(staging, outdir)
            return
        except OSError:
            if not outdir.exists():
                raise
    if _exchange(staging, outdir):
        return
    # No atomic exchange here: two renames; only between them is OUT briefly absent.
    old = Path(tempfile.mkdtemp(prefix=f".{outdir.resolve().name[:200]}{_STAGING}{os.getpid()}-old-",
                                dir=outdir.resolve().parent))
    old.rmdir()
    os.rename(outdir, old)
    os.rename(staging, outdir)
    os.rename(old, staging)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically exchange two paths (Linux ``renameat2(RENAME_EXCHANGE)``); False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    result = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    if result == 0:
        return True
    error = ctypes.get_errno()
    if error in (22, 38, 95):  # EINVAL, ENOSYS, EOPNOTSUPP: the file system or kernel cannot
        return False
    raise OSError(error, os.strerror(error), str(b))


# ---- the manifest -----------------------------------------------------------------------------------

def _files(folder: Path) -> list[Path]:
    """Every file under ``folder`` but its own manifest (a task folder's manifest is listed)."""
    return sorted(p for p in folder.rglob("*") if p.is_file() and p != folder / MANIFEST)


def write_manifest(folder: str | Path) -> Path:
    """Write ``manifest.json``: every file under ``folder`` (task folders' manifests too) with its sha256."""
    from slicesand.io.tables import sha256_file

    folder = Path(folder)
    files = {p.relative_to(folder).as_posix(): sha256_file(p) for p in _files(folder)}
    document = {"schema": MANIFEST_SCHEMA, "schema_version": 1,
                "tool": {"name": "slicesand", "version": __version__}, "files": files}
    return _write_document(folder, document)


def _write_document(folder: Path, document: dict) -> Path:
    from slicesand.io.atomic import write_text_atomic

    path = folder / MANIFEST
    write_text_atomic(path, json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    return path


def add_to_manifest(folder: str | Path, names: list[str]) -> None:
    """List files written into a sealed run folder afterwards (``backtest --plot``) in its manifest.

    Only the named files' entries are written; every other entry is kept as it was, so an artifact
    edited earlier is still caught. A task folder's new files reach its multi-task folder's manifest
    too, with the task manifest's new sha256. A folder without a manifest is not a sealed run: left as is.

    >>> import pathlib, tempfile
    >>> out = pathlib.Path(tempfile.mkdtemp())
    >>> _ = write_manifest(out)
    >>> _ = (out / "backtest.csv").write_text("cut\\n1e22\\n")
    >>> add_to_manifest(out, ["backtest.csv"])
    >>> sorted(json.loads((out / MANIFEST).read_text())["files"])
    ['backtest.csv']
    """
    from slicesand.io.tables import sha256_file

    folder = Path(folder).resolve()
    added = {name: sha256_file(folder / name) for name in names}
    while (document := _read_document(folder)) is not None:  # the folder, then a multi-task folder holding it
        document["files"] = dict(sorted({**document["files"], **added}.items()))
        path = _write_document(folder, document)
        parent = folder.parent
        if f"{folder.name}/{MANIFEST}" not in ((_read_document(parent) or {}).get("files") or {}):
            return
        added = {f"{folder.name}/{name}": digest for name, digest in added.items()}
        added[f"{folder.name}/{MANIFEST}"] = sha256_file(path)
        folder = parent


def _read_document(folder: Path) -> dict | None:
    """The folder's manifest, or ``None`` when it has none or one that cannot be read (check_manifest
    refuses that one, with the reason)."""
    try:
        document = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return document if isinstance(document, dict) and isinstance(document.get("files"), dict) else None


def check_manifest(folder: str | Path) -> None:
    """Refuse (exit 4) a run folder whose artifacts are not the ones its manifest lists.

    Folders without a manifest (made by the single commands) are left to the artifacts' own checks; a
    folder that ``run`` made (it holds ``run.json`` or ``tasks.json``) without its manifest is refused.
    ``report.md``, ``report.html`` and the figures are the report's own outputs and may be rewritten.
    """
    from slicesand.io.tables import sha256_file

    folder = Path(folder)
    path = folder / MANIFEST
    if not path.is_file():
        if (folder / "run.json").is_file() or (folder / "tasks.json").is_file():
            raise ArtifactError(str(path), "missing: `slicesand run` seals its folder with it, so the "
                                "artifacts cannot be checked", hint="run `slicesand run` again")
        return
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        files = document["files"]
        if document.get("schema") != MANIFEST_SCHEMA or not isinstance(files, dict):
            raise ValueError("not a slicesand manifest")
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise ArtifactError(str(path), f"not a readable manifest: {exc}", hint="run `slicesand run` again") from None
    for name, digest in files.items():  # a few dozen files
        if _is_report_output(name):
            continue
        file = folder / name
        if not file.is_file():
            raise ArtifactError(str(file), "missing: the run's manifest lists it", hint="run `slicesand run` again")
        if sha256_file(file) != digest:
            raise ArtifactError(str(file), "changed after the run wrote it (its sha256 is not the one in "
                                f"{MANIFEST})", hint="run `slicesand run` again")


def _is_report_output(name: str) -> bool:
    leaf = name.rsplit("/", 1)[-1]
    return leaf in _REPORT_OUTPUTS or (leaf.startswith("report-") and leaf.endswith((".png", ".svg")))
