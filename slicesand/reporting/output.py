"""Write a ``run`` folder's report as Markdown (with PNG figures beside it), self-contained HTML, or JSON.

``run`` records how it was invoked in ``run.json`` (argv as typed and library versions; no timestamps or
absolute paths, so identical input and options give byte-identical reports) and the 10-group slicing
in ``spectrum.csv``; ``report OUTDIR`` reads both back and redraws the figures.

>>> shell_command(["slicesand", "run", "my dump.csv", "--cut", "3e22"])
"slicesand run 'my dump.csv' --cut 3e22"
"""

from __future__ import annotations

import json
import platform
import shlex
from importlib import metadata
from pathlib import Path

import pandas as pd

from slicesand import __version__
from slicesand.artifacts.documents import dumps, read_fit
from slicesand.io.atomic import write_text_atomic
from slicesand.io.tables import read_table, write_table
from slicesand.reporting.facts import load_outdir, render_markdown

RUN_FILE = "run.json"
SPECTRUM_FILE = "spectrum.csv"
FORMATS = ("md", "html", "json")
_LIBRARIES = ("numpy", "scipy", "pandas", "pyarrow", "matplotlib")


def shell_command(argv: list[str]) -> str:
    """argv as a command a person can paste into a shell."""
    return shlex.join(argv)


def portable_argv(argv: list[str]) -> list[str]:
    """argv with ``run``'s output folder written as ``OUTDIR``: where the report lives is not an input,
    so the same dump and options give the same report in any folder.

    >>> portable_argv(["slicesand", "run", "d.csv", "-o", "/tmp/x", "--cut", "1e22"])
    ['slicesand', 'run', 'd.csv', '-o', 'OUTDIR', '--cut', '1e22']
    >>> portable_argv(["slicesand", "run", "d.csv", "--output=/tmp/x"])
    ['slicesand', 'run', 'd.csv', '--output=OUTDIR']
    """
    out: list[str] = []
    for token in argv:  # a command line: a few dozen tokens
        if out and out[-1] in ("-o", "--output") and (len(out) < 2 or out[-2] not in ("-o", "--output")):
            out.append("OUTDIR")
        elif token.startswith("--output="):
            out.append("--output=OUTDIR")
        elif token.startswith("-o") and len(token) > 2 and not token.startswith("--"):
            out.append("-oOUTDIR")
        else:
            out.append(token)
    return out


def versions() -> dict[str, str]:
    """The versions that shape the numbers and figures."""
    found = {"slicesand": __version__, "python": platform.python_version()}
    for name in _LIBRARIES:  # five libraries
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "absent"
    return found


def run_document(argv: list[str] | None, spectrum_groups: int | None) -> dict:
    """``run.json``: the exact command and versions; no timestamps, so reruns are byte-identical."""
    return {"schema": "slicesand.run", "schema_version": 1,
            "command": shell_command(portable_argv(argv)) if argv else None,
            "versions": versions(), "spectrum_groups": spectrum_groups}


def write_run_files(outdir: str | Path, argv: list[str] | None, spectrum: pd.DataFrame | None,
                    spectrum_groups: int | None) -> None:
    """Write ``run.json`` and, when there is one, ``spectrum.csv``."""
    outdir = Path(outdir)
    if spectrum is not None:
        write_table(spectrum, outdir / SPECTRUM_FILE)
    write_text_atomic(outdir / RUN_FILE, dumps(run_document(argv, spectrum_groups)))


def read_run(outdir: str | Path) -> dict | None:
    """``run.json``'s command and versions, or ``None`` for folders made by the single commands."""
    path = Path(outdir) / RUN_FILE
    if not path.exists():
        return None
    document = json.loads(path.read_text(encoding="utf-8"))
    if not document.get("command"):
        return None
    return {"command": document["command"], "versions": document.get("versions", {})}


def load_report(outdir: str | Path) -> dict:
    """The report facts of a ``run`` folder, with how the run was made (``facts["run"]``)."""
    facts = load_outdir(outdir)
    run = read_run(outdir)
    return {**facts, "run": run} if run else facts


def _frame(path: Path) -> pd.DataFrame:
    table, _ = read_table(path)
    frame = table.to_pandas()
    frame["model"] = frame["model"].fillna("").astype(str)
    return frame


def figure_inputs(outdir: str | Path, facts: dict):
    """What the figures need, read from the folder; ``None`` without a slices table to draw from."""
    from slicesand.reporting.figures import FigureInputs

    outdir = Path(outdir)
    if not (outdir / "slices.csv").exists():
        return None
    fit, _ = read_fit(outdir / "fit.json")
    spectrum_path = outdir / SPECTRUM_FILE
    return FigureInputs(fit=fit, slices=_frame(outdir / "slices.csv"),
                        predictions=_frame(outdir / "predictions.csv"),
                        threshold_flops=facts.get("threshold_flops"),
                        spectrum=_frame(spectrum_path) if spectrum_path.exists() else None)


def render_images(outdir: str | Path, facts: dict) -> dict[str, tuple[str, bytes]]:
    """``{key: (title, PNG bytes)}`` for every figure the folder allows."""
    from slicesand.reporting.figures import FIGURE_TITLES, render_figures

    inputs = figure_inputs(outdir, facts)
    if inputs is None:
        return {}
    return {key: (FIGURE_TITLES[key], data) for key, data in render_figures(inputs, "png").items()}


def write_markdown_report(outdir: str | Path, target: str | Path | None = None, *,
                          figures: bool = True, facts: dict | None = None) -> tuple[Path, str]:
    """Write ``report.md`` (default: in the folder) with its figures beside it, as PNG (linked from the
    report) and SVG (for papers and slides); returns (path, text)."""
    from slicesand.reporting.figures import FIGURE_TITLES, render_figure_files, write_figures

    facts = facts if facts is not None else load_report(outdir)
    target = Path(target) if target is not None else Path(outdir) / "report.md"
    inputs = figure_inputs(outdir, facts) if figures else None
    files = render_figure_files(inputs, ("png", "svg")) if inputs is not None else {}
    names = write_figures({key: data["png"] for key, data in files.items()}, target.parent)
    write_figures({key: data["svg"] for key, data in files.items()}, target.parent, "svg")
    text = render_markdown(facts, {key: (FIGURE_TITLES[key], names[key]) for key in files})
    write_text_atomic(target, text)
    return target, text


def write_html_report(outdir: str | Path, target: str | Path | None = None,
                      facts: dict | None = None) -> tuple[Path, str]:
    """Write the self-contained ``report.html`` (default: in the folder); returns (path, text)."""
    from slicesand.reporting.html import render_html

    facts = facts if facts is not None else load_report(outdir)
    target = Path(target) if target is not None else Path(outdir) / "report.html"
    text = render_html(facts, render_images(outdir, facts))
    write_text_atomic(target, text)
    return target, text
