"""Report figures and golden reports on a small fixed synthetic dump.

Regenerate the goldens after an intended change with ``UPDATE_GOLDEN=1 .venv/bin/python -m pytest
tests/reporting/test_figures.py`` and review the diff of ``tests/golden/``.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from tests.reporting.report_fixtures import run_synthetic
from slicesand.cli import app
from slicesand.reporting.figures import DPI, FIGURE_SIZE, PALETTE, figure_bytes, make_figures, png_dpi, png_size
from slicesand.reporting.output import read_report

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
EXPECTED_PNG = (int(FIGURE_SIZE[0] * DPI), int(FIGURE_SIZE[1] * DPI))
FIGURE_FILES = ["report-spectrum.png", "report-fits.png", "report-forecast.png", "report-tc-accuracy.png"]


@pytest.fixture(scope="module")
def outdir(tmp_path_factory) -> Path:
    # One run shared by the tests that only read it: each run draws (and refits) 1000 bootstrap draws.
    with pytest.MonkeyPatch.context() as monkeypatch:
        return run_synthetic(tmp_path_factory.mktemp("figures"), monkeypatch)


def _normalise_text(text: str) -> str:
    """Versions change with every upgrade; the rest of the report must not."""
    text = re.sub(r"(?m)^Versions: .*$", "Versions: <versions>.", text)
    return re.sub(r"slicesand \d+\.\d+\S*", "slicesand <version>", text)


def _round(value):
    """Floats to 6 significant digits, so goldens hold across platforms' last-bit differences."""
    if isinstance(value, float):
        return float(f"{value:.6g}")
    if isinstance(value, dict):
        return {k: _round(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_round(v) for v in value]
    return value


def _check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no golden file {path}; run with UPDATE_GOLDEN=1 to create it"
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from its golden (UPDATE_GOLDEN=1 to accept)"


def test_run_writes_every_figure_as_png_of_expected_size_and_dpi(outdir):
    for name in FIGURE_FILES:
        data = (outdir / name).read_bytes()
        assert len(data) > 1000, name
        assert png_size(data) == EXPECTED_PNG == (1400, 1000), name
        assert round(png_dpi(data)) == DPI == 200, name


def test_run_writes_every_figure_as_svg_with_real_text(outdir):
    import xml.etree.ElementTree as ElementTree

    for name in FIGURE_FILES:
        svg = (outdir / name).with_suffix(".svg")
        root = ElementTree.fromstring(svg.read_bytes())  # well-formed XML
        assert root.tag.endswith("svg"), svg.name
        assert root.attrib["width"] == f"{FIGURE_SIZE[0] * 72:g}pt", svg.name
        assert root.attrib["height"] == f"{FIGURE_SIZE[1] * 72:g}pt", svg.name
        texts = ["".join(node.itertext()) for node in root.iter("{http://www.w3.org/2000/svg}text")]
        # The title and the axis labels are text nodes a reader can select, search and edit.
        assert any(text.endswith(" - synthetic") or "training compute (FLOPs)" in text or "accuracy" in text
                   for text in texts), (svg.name, texts[:5])
        assert "training compute (FLOPs)" in texts or "accuracy" in texts, svg.name
        assert b'id="DejaVuSans-' not in svg.read_bytes(), svg.name  # no glyphs drawn as paths


def test_run_saves_ten_group_spectrum_while_fitting_three(outdir):
    spectrum = pd.read_csv(outdir / "spectrum.csv")
    assert [c for c in spectrum.columns if c.startswith("group_")] == [f"group_{k}" for k in range(1, 11)]
    assert json.loads((outdir / "fit.json").read_text())["n_groups"] == 3


def test_markdown_report_matches_golden(outdir):
    text = (outdir / "report.md").read_text(encoding="utf-8")
    for name in FIGURE_FILES:
        assert f"]({name})" in text
    assert "slicesand run dump.csv -o OUTDIR" in text
    _check_golden("report.md", _normalise_text(text))


def test_json_report_matches_golden(outdir):
    result = CliRunner().invoke(app, ["report", str(outdir), "--format", "json"])
    assert result.exit_code == 0, result.output
    facts = json.loads(result.stdout)
    facts["tool"]["version"] = "<version>"
    facts["run"]["versions"] = "<versions>"
    assert "png" not in result.stdout.lower()  # json carries facts, never images
    _check_golden("report.json", json.dumps(_round(facts), indent=2, sort_keys=True) + "\n")


def test_report_command_redraws_identical_markdown_and_figures(outdir, monkeypatch):
    monkeypatch.chdir(outdir.parent)
    result = CliRunner().invoke(app, ["report", "out", "--format", "md", "-o", "again/report.md"])
    assert result.exit_code == 0, result.output
    again = outdir.parent / "again"
    assert (again / "report.md").read_bytes() == (outdir / "report.md").read_bytes()
    for name in FIGURE_FILES:
        assert (again / name).read_bytes() == (outdir / name).read_bytes(), name


def test_two_reports_in_one_folder_keep_their_own_figures(outdir, monkeypatch):
    monkeypatch.chdir(outdir.parent)
    for stem in ("x", "y"):
        result = CliRunner().invoke(app, ["report", "out", "--format", "md", "-o", f"notes/{stem}.md"])
        assert result.exit_code == 0, result.output
    notes = outdir.parent / "notes"
    assert not list(notes.glob("report-*"))
    run_report = (outdir / "report.md").read_text(encoding="utf-8")
    for stem in ("x", "y"):
        text = (notes / f"{stem}.md").read_text(encoding="utf-8")
        # The run's report but for its figures' names: each link names this report's own file.
        assert text == run_report.replace("](report-", f"]({stem}-")
        for name in FIGURE_FILES:
            own = name.replace("report-", f"{stem}-")
            assert f"]({own})" in text and (notes / own).read_bytes() == (outdir / name).read_bytes(), own
            svg = own.replace(".png", ".svg")
            assert (notes / svg).read_bytes() == (outdir / name.replace(".png", ".svg")).read_bytes(), svg


def test_rerun_is_byte_identical(tmp_path, monkeypatch):
    first = run_synthetic(tmp_path, monkeypatch)
    snapshot = {p.name: p.read_bytes() for p in first.iterdir()}
    second = run_synthetic(tmp_path, monkeypatch)
    assert {p.name: p.read_bytes() for p in second.iterdir()} == snapshot


@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_figures_serialise_deterministically(outdir, fmt):
    first = {k: figure_bytes(f, fmt) for k, f in make_figures(read_report(outdir).figures).items()}
    second = {k: figure_bytes(f, fmt) for k, f in make_figures(read_report(outdir).figures).items()}
    assert first == second and len(first) == 4
    if fmt == "svg":
        assert all(b"<svg" in data and b"<dc:date>" not in data for data in first.values())


def _legend_texts(figure) -> list[str]:
    return [text.get_text() for legend in figure.legends for text in legend.get_texts()]


def test_forecast_band_is_on_the_curve_grid_and_names_its_level(outdir):
    inputs = read_report(outdir).figures
    figure = make_figures(inputs)["forecast"]
    ax = figure.axes[0]
    band = ax.collections[0].get_paths()[0].vertices[:, 0]
    curve = np.concatenate([line.get_xdata() for line in ax.get_lines()[:2]])
    # The band spans the curve's whole grid (not just the models and --at points), point for point.
    assert np.isclose(band.min(), curve.min()) and np.isclose(band.max(), curve.max())
    assert set(np.round(np.log10(curve), 9)) <= set(np.round(np.log10(band), 9))
    labels = _legend_texts(figure)
    assert any(label.startswith("90% prediction interval") for label in labels), labels


def test_curves_are_dashed_exactly_beyond_the_training_range(outdir):
    inputs = read_report(outdir).figures
    high = 10.0 ** inputs.fit.training_x_range[1]
    for key in ("fits", "forecast"):
        lines = make_figures(inputs)[key].axes[0].get_lines()
        dashed = [line for line in lines if line.get_linestyle() == "--" and len(line.get_xdata()) > 2]
        solid = [line for line in lines if line.get_linestyle() == "-" and len(line.get_xdata()) > 2]
        assert dashed and solid, key
        for line in dashed:
            x, y = np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)
            drawn = x[np.isfinite(y)]
            inside = drawn[(drawn > 10.0 ** inputs.fit.training_x_range[0]) & (drawn < high)]
            assert len(inside) <= 2, key  # only the joints where solid meets dashed
        for line in solid:
            x, y = np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)
            assert x[np.isfinite(y)].max() <= high * 1.1, key


def test_axes_are_limited_to_what_the_quantity_can_take(outdir):
    figures = make_figures(read_report(outdir).figures)
    assert figures["forecast"].axes[0].get_ylim() == (0.0, 1.0)
    for key in ("fits", "spectrum", "tc_accuracy"):
        low, high = figures[key].axes[0].get_ylim()
        assert -1.0 <= low < high <= 0.0, key  # TC Brier lives in [-1, 0]
    low, high = figures["tc_accuracy"].axes[0].get_xlim()
    assert 0.0 <= low < high <= 1.0


def _luminance(colour) -> float:
    from matplotlib.colors import to_rgb

    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in to_rgb(colour)]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def test_palette_reads_on_white_and_in_greyscale():
    from matplotlib import colormaps

    from slicesand.reporting.figures import SPECTRUM_COLOURS

    spectrum = colormaps["viridis"](np.linspace(*SPECTRUM_COLOURS, 10))
    for colour in [*PALETTE.values(), *spectrum]:
        assert 1.05 / (_luminance(colour) + 0.05) >= 3.0, colour  # WCAG non-text contrast on white
    # Easy and hard (and training and test) differ in lightness, not in hue alone.
    assert abs(_luminance(PALETTE["easy"]) - _luminance(PALETTE["hard"])) >= 0.1
    assert np.all(np.diff([_luminance(c) for c in spectrum]) < 0)  # easy light, hard dark, in order


def test_titles_name_the_task_and_legends_match_golden(outdir):
    import dataclasses

    inputs = dataclasses.replace(read_report(outdir).figures, task="mmlu $x$")
    lines = []
    for key, figure in make_figures(inputs).items():
        title = figure.axes[0].get_title()
        assert title.endswith(" - mmlu \\$x\\$"), title  # $ is text, not mathtext
        lines += [f"[{key}] {title}", *(f"  {' '.join(label.split())}" for label in _legend_texts(figure))]
    _check_golden("figure-legends.txt", "\n".join(lines) + "\n")


def test_no_spectrum_groups_option_skips_the_spectrum(tmp_path, monkeypatch):
    out = run_synthetic(tmp_path, monkeypatch, extra=["--spectrum-groups", "0"])
    assert not (out / "spectrum.csv").exists() and not (out / "report-spectrum.png").exists()
    assert (out / "report-forecast.png").exists()


def test_figures_saved_in_two_processes_are_the_bytes_of_saving_them_here(outdir, monkeypatch):
    import slicesand.io.forked as forked
    from slicesand.reporting import figures as module

    if not forked.fork_usable():
        pytest.skip("fork not usable here (not Linux, threads or one core)")
    inputs = read_report(outdir).figures
    serial = module.figure_files(make_figures(inputs), ("png", "svg"), parallel=False)
    started = []
    monkeypatch.setattr(forked, "Forked", lambda function, _real=forked.Forked, **kw: started.append(1) or _real(function, **kw))
    parallel = module.figure_files(make_figures(inputs), ("png", "svg"))
    assert started == [1] and list(parallel) == list(serial) and parallel == serial
    # A child that fails is redone here: the same bytes still.
    parent, real_bytes = os.getpid(), module.figure_bytes

    def fails_in_the_child(figure, fmt="png"):
        if os.getpid() != parent:
            raise RuntimeError("the child fails")
        return real_bytes(figure, fmt)

    monkeypatch.setattr(module, "figure_bytes", fails_in_the_child)
    assert module.figure_files(make_figures(inputs), ("png", "svg")) == serial and len(started) == 2


def test_minor_ticks_drawn_as_one_line_give_matplotlibs_own_pixels(outdir, monkeypatch):
    import slicesand.reporting.figures as figures

    inputs = read_report(outdir).figures
    ours = {k: figure_bytes(f, "png") for k, f in make_figures(inputs).items()}
    lines = [line for f in make_figures(inputs).values() for ax in f.axes for line in ax.lines
             if line.get_label() == "_minor ticks"]
    assert len(lines) == 3 and all(line.get_xdata().size > 20 for line in lines)  # spectrum, fits, forecast
    monkeypatch.setattr(figures, "minor_ticks_as_one_line", lambda figure: None)
    theirs = {k: figure_bytes(f, "png") for k, f in make_figures(inputs).items()}
    assert ours == theirs


@pytest.mark.parametrize("decades", [(19, 24), (17, 26), (15, 27), (20, 20.5)])
def test_minor_ticks_as_one_line_keep_matplotlibs_pixels_on_any_span(decades, monkeypatch):
    """Nine or more decades have no minor ticks, half a decade only minor ones between two majors."""
    import slicesand.reporting.figures as figures

    def drawn(replace: bool) -> bytes:
        figure, ax = figures.new_figure()
        with figures.matplotlib.rc_context(figures.STYLE):
            figures._log_flops_axis(ax)
            ax.plot(10 ** np.asarray(decades, dtype=float), [0.2, 0.8], marker="o", label="a curve")
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15))
            if replace:
                figures.minor_ticks_as_one_line(figure)
        return figure_bytes(figure, "png")

    assert drawn(True) == drawn(False)


@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_a_laid_out_figure_is_drawn_once_per_save_with_the_layout_of_the_first(outdir, fmt, monkeypatch):
    from matplotlib.figure import Figure

    figures = make_figures(read_report(outdir).figures)
    first = {key: figure_bytes(figure, fmt) for key, figure in figures.items()}  # lays each figure out
    draws = []
    original = Figure.draw
    monkeypatch.setattr(Figure, "draw", lambda self, renderer: draws.append(self) or original(self, renderer))
    again = {key: figure_bytes(figure, fmt) for key, figure in figures.items()}
    assert again == first
    # savefig draws a figure with any layout engine (even matplotlib's placeholder) once more before saving.
    assert len(draws) == len(figures) and all(figure.get_layout_engine() is None for figure in figures.values())
