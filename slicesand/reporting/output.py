"""Read a ``run`` folder's report once, and write it as Markdown (figures beside it), HTML or JSON.

``run`` records how it was invoked in ``run.json`` (argv as typed and library versions; no timestamps or
absolute paths, so identical input and options give byte-identical reports) and the 10-group slicing
in ``spectrum.csv``. ``run`` writes its report from the results in memory; :func:`read_report` builds
the same :class:`~slicesand.reporting.facts.Report` from the folder, reading each artifact once.

>>> shell_command(["slicesand", "run", "my dump.csv", "--cut", "3e22"])
"slicesand run 'my dump.csv' --cut 3e22"
"""

from __future__ import annotations

import hashlib
import json
import platform
import shlex
from importlib import metadata
from pathlib import Path

import pandas as pd

from slicesand import __version__
from slicesand.artifacts.documents import (check_predictions_meta, check_run_document, check_slices_meta, dumps,
                                          fit_from_document, parse_json_artifact, sidecar_path)
from slicesand.artifacts.run_folder import check_manifest
from slicesand.errors import ArtifactError, InputDataError
from slicesand.io.atomic import write_text_atomic
from slicesand.io.tables import Source, read_table, write_table
from slicesand.reporting.facts import BAND_FILE, TEXT_COLUMNS, Report, build_report
from slicesand.reporting.markdown import render_markdown

RUN_FILE = "run.json"
SPECTRUM_FILE = "spectrum.csv"
FORMATS = ("md", "html", "json")
_LIBRARIES = ("numpy", "scipy", "pandas", "pyarrow", "matplotlib")


def shell_command(argv: list[str]) -> str:
    """argv as a command a person can paste into a shell."""
    return shlex.join(argv)


# Short options, as click reads a cluster such as ``-qo DIR``: these take a value, the rest are flags.
_SHORT_WITH_VALUE = frozenset("ofg")
# What does not change an artifact's bytes, so is not recorded in it: run quietly or not, the same run.
_NOT_RECORDED = frozenset({"-q", "--quiet"})


def portable_argv(argv: list[str]) -> list[str]:
    """argv as ``run`` records it: the output folder written as ``OUTDIR`` (where the report lives is not
    an input), short-option clusters one option a token, and ``--quiet`` left out; so the same dump and
    options give the same record in any folder, however the options were typed.

    >>> portable_argv(["slicesand", "run", "d.csv", "-o", "/tmp/x", "--cut", "1e22"])
    ['slicesand', 'run', 'd.csv', '-o', 'OUTDIR', '--cut', '1e22']
    >>> portable_argv(["slicesand", "run", "d.csv", "--output=/tmp/x"])
    ['slicesand', 'run', 'd.csv', '--output=OUTDIR']
    >>> portable_argv(["slicesand", "run", "d.csv", "-qo", "/tmp/x", "-g4", "--cut", "-1", "-o/tmp/y"])
    ['slicesand', 'run', 'd.csv', '-o', 'OUTDIR', '-g', '4', '--cut', '-1', '-o', 'OUTDIR']
    """
    out: list[str] = []
    for token in _one_option_a_token(argv):  # a command line: a few dozen tokens
        if out and out[-1] in ("-o", "--output") and (len(out) < 2 or out[-2] not in ("-o", "--output")):
            out.append("OUTDIR")
        elif token.startswith("--output="):
            out.append("--output=OUTDIR")
        elif token not in _NOT_RECORDED:
            out.append(token)
    return out


def _one_option_a_token(argv: list[str]) -> list[str]:
    """``-qo DIR`` as ``-q -o DIR`` and ``-g4`` as ``-g 4``, as click reads them."""
    out: list[str] = []
    value_next = False
    for token in argv:
        if value_next or not token.startswith("-") or token.startswith("--") or len(token) <= 2 \
                or not token[1].isalpha():
            value_next = False if value_next else token in ("-o", "-f", "-g")
            out.append(token)
            continue
        for i, letter in enumerate(token[1:], start=1):
            out.append(f"-{letter}")
            if letter in _SHORT_WITH_VALUE:
                rest = token[i + 1:]
                if rest:
                    out.append(rest)
                else:
                    value_next = True
                break
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
                    spectrum_groups: int | None) -> dict:
    """Write ``run.json`` and, when there is one, ``spectrum.csv``; returns ``run.json``'s document."""
    outdir = Path(outdir)
    if spectrum is not None:
        write_table(spectrum, outdir / SPECTRUM_FILE)
    document = run_document(argv, spectrum_groups)
    write_text_atomic(outdir / RUN_FILE, dumps(document))
    return document


def run_facts(document: dict | None) -> dict | None:
    """What the report shows of ``run.json``: the command and the versions (``None`` without a command)."""
    if not document or not document.get("command"):
        return None
    return {"command": document["command"], "versions": document.get("versions", {})}


def read_run(outdir: str | Path) -> dict | None:
    """``run.json``'s command and versions, or ``None`` for folders made by the single commands."""
    path = Path(outdir) / RUN_FILE
    if not path.exists():
        return None
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(document, dict) or document.get("schema") != "slicesand.run":
            raise ValueError("not a slicesand.run document")
    except (ValueError, UnicodeDecodeError) as exc:  # truncated or edited: a damaged artifact (exit 4)
        raise ArtifactError(str(path), f"not a readable run record: {exc}", hint="run `slicesand run` again") from None
    return run_facts(check_run_document(document, str(path)))


def _read_json(path: Path, schema: str) -> tuple[dict, str]:
    """A JSON artifact read once: (document, sha256 of its bytes); its schema checked (exit 4)."""
    if not path.exists():
        raise ArtifactError(str(path), "no such artifact", hint="run the stage that makes it first")
    data = path.read_bytes()
    return parse_json_artifact(data, schema, str(path)), hashlib.sha256(data).hexdigest()


def _read_frame(path: Path, what: str) -> tuple[pd.DataFrame, Source]:
    try:  # names are text however they look (0039, 1e3)
        table, source = read_table(path, what=what, required=["model"], column_types=TEXT_COLUMNS)
    except InputDataError as exc:  # an artifact slicesand wrote, now unreadable: damaged (exit 4)
        raise ArtifactError(exc.source, f"damaged artifact: {exc.problem}", hint="run `slicesand run` again") from None
    frame = table.to_pandas()
    frame["model"] = frame["model"].fillna("").astype(str)
    return frame, source


def read_report(outdir: str | Path) -> Report:
    """The report of a ``run`` folder, each artifact read once; refuse a stale mix (exit 4).

    The figures are drawn from the folder's slices table (and ``spectrum.csv``); a folder without a
    slices table gets a report without figures.
    """
    outdir = Path(outdir)
    fit_path, predictions_path, slices_path = outdir / "fit.json", outdir / "predictions.csv", outdir / "slices.csv"
    check_manifest(outdir)  # a run folder is one unit: refuse one whose artifacts were changed or lost
    if not fit_path.exists():
        raise ArtifactError(str(outdir), "no fit.json here: not a folder made by `slicesand run`",
                            hint="run `slicesand run DUMP -o FOLDER` first, then `slicesand report FOLDER`")
    fit_document, fit_sha256 = _read_json(fit_path, "slicesand.fit")
    fit = fit_from_document(fit_document, str(fit_path))
    predictions_meta, _ = _read_json(sidecar_path(predictions_path), "slicesand.predictions")
    check_predictions_meta(predictions_meta, str(sidecar_path(predictions_path)))
    if predictions_meta["fit"]["sha256"] != fit_sha256:
        raise ArtifactError(str(predictions_path), "stale: made from another fit.json than the one in the folder",
                            hint="run `slicesand predict` again, or `slicesand run`")
    if not predictions_path.exists():
        raise ArtifactError(str(predictions_path), "missing, or changed after it was written",
                            hint="run `slicesand predict` again")
    predictions, predictions_source = _read_frame(predictions_path, "predictions")
    if predictions_meta["table"]["sha256"] != predictions_source.sha256:
        raise ArtifactError(str(predictions_path), "missing, or changed after it was written",
                            hint="run `slicesand predict` again")
    slices_meta, slices = None, None
    if slices_path.exists():
        slices, slices_source = _read_frame(slices_path, "slices")
        # The fit records the slices it was made from: check them even when the sidecar is gone.
        if (fit_document.get("input") or {}).get("sha256") != slices_source.sha256:
            raise ArtifactError(str(fit_path), "stale: fitted on another slices table than the one in the folder",
                                hint="run `slicesand fit` again, or `slicesand run`")
        if sidecar_path(slices_path).exists():
            slices_meta, _ = _read_json(sidecar_path(slices_path), "slicesand.slices")
            check_slices_meta(slices_meta, str(sidecar_path(slices_path)))
    spectrum_path = outdir / SPECTRUM_FILE
    spectrum = _read_frame(spectrum_path, "spectrum")[0] if slices is not None and spectrum_path.exists() else None
    band_path = outdir / BAND_FILE
    band = read_table(band_path, what="interval band")[0].to_pandas() if band_path.exists() else None
    from slicesand.reporting.figure_names import read_backtest

    return build_report(fit, predictions, predictions_meta, slices_meta, run=read_run(outdir), slices=slices,
                        spectrum=spectrum, band=band, backtest=read_backtest(outdir))


def load_report(outdir: str | Path) -> dict:
    """The report facts of a ``run`` folder, with how the run was made (``facts["run"]``)."""
    return read_report(outdir).facts


def _report_of(outdir: str | Path, report: Report | None, facts: dict | None) -> Report:
    if report is not None:
        return report
    read = read_report(outdir)
    return read if facts is None else Report(facts, read.figures)


def render_images(report: Report, formats: tuple[str, ...] = ("png",)) -> dict[str, dict[str, bytes]]:
    """``{key: {format: bytes}}`` for every figure the report can draw (the backtest's last), in report order."""
    from slicesand.reporting.figures import figure_files, make_figures

    figures = make_figures(report.figures) if report.figures is not None else {}
    if report.backtest is not None:
        from slicesand.reporting.backtest_figures import make_backtest_figures

        figures.update(make_backtest_figures(report.backtest, report.facts.get("task")))
    return figure_files(figures, formats)  # saved in two processes when it pays


def figure_titles() -> dict[str, str]:
    """Every figure's title, the backtest's included."""
    from slicesand.reporting.figure_names import BACKTEST_TITLES, FIGURE_TITLES

    return {**FIGURE_TITLES, **BACKTEST_TITLES}


def write_markdown_report(outdir: str | Path, target: str | Path | None = None, *,
                          figures: bool = True, facts: dict | None = None,
                          report: Report | None = None,
                          images: dict[str, dict[str, bytes]] | None = None) -> tuple[Path, str]:
    """Write ``report.md`` (default: in the folder) with its figures beside it, as PNG (linked from the
    report) and SVG (for papers and slides), named after it (``x.md``: ``x-forecast.png``); returns
    (path, text).

    ``report`` is the run's report already built (``run`` passes the one made in memory); without it
    the folder is read once. ``images`` are its figures already drawn (``{key: {"png": ..., "svg": ...}}``,
    :mod:`slicesand.reporting.drawing`); without them they are drawn here.
    """
    from slicesand.reporting.figure_names import write_figures

    report = _report_of(outdir, report, facts)
    target = Path(target) if target is not None else Path(outdir) / "report.md"
    files = (images if images is not None else render_images(report, ("png", "svg"))) if figures else {}
    # Named after the report (x.md: x-forecast.png, x-forecast.svg): another report in the folder keeps its own.
    names = write_figures({key: data["png"] for key, data in files.items()}, target.parent, stem=target.stem)
    write_figures({key: data["svg"] for key, data in files.items()}, target.parent, "svg", stem=target.stem)
    titles = figure_titles()
    text = render_markdown(report.facts, {key: (titles[key], names[key]) for key in files})
    write_text_atomic(target, text)
    return target, text


def write_html_report(outdir: str | Path, target: str | Path | None = None,
                      facts: dict | None = None, *, report: Report | None = None) -> tuple[Path, str]:
    """Write the self-contained ``report.html`` (default: in the folder); returns (path, text)."""
    from slicesand.reporting.html import render_html

    report = _report_of(outdir, report, facts)
    target = Path(target) if target is not None else Path(outdir) / "report.html"
    titles = figure_titles()
    images = {key: (titles[key], data["png"]) for key, data in render_images(report).items()}
    text = render_html(report.facts, images)
    if str(target) != "-":  # `report -f html -o -`: the caller prints it
        write_text_atomic(target, text)
    return target, text


def print_terminal_report(report: Report) -> None:
    """The terminal summary of a report, naming the figure files that sit beside ``report.md``."""
    from slicesand.reporting.figure_names import BACKTEST_TITLES, figure_file_name, figure_keys
    from slicesand.reporting.terminal import print_report

    keys = figure_keys(report.figures) if report.figures is not None else []
    keys += list(BACKTEST_TITLES) if report.backtest is not None else []
    titles = figure_titles()
    print_report(report.facts, {key: (titles[key], figure_file_name(key)) for key in keys})
