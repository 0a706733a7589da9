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
from slicesand.reporting.figures import DPI, FIGURE_SIZE, figure_bytes, make_figures, png_size
from slicesand.reporting.output import read_report

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
EXPECTED_PNG = (int(FIGURE_SIZE[0] * DPI), int(FIGURE_SIZE[1] * DPI))
FIGURE_FILES = ["report-spectrum.png", "report-fits.png", "report-forecast.png", "report-tc-accuracy.png"]


@pytest.fixture
def outdir(tmp_path, monkeypatch) -> Path:
    return run_synthetic(tmp_path, monkeypatch)


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


def test_run_writes_every_figure_as_png_of_expected_size(outdir):
    for name in FIGURE_FILES:
        data = (outdir / name).read_bytes()
        assert len(data) > 1000, name
        assert png_size(data) == EXPECTED_PNG, name


def test_run_writes_every_figure_as_svg_too(outdir):
    import xml.etree.ElementTree as ElementTree

    for name in FIGURE_FILES:
        svg = (outdir / name).with_suffix(".svg")
        root = ElementTree.fromstring(svg.read_bytes())  # well-formed XML
        assert root.tag.endswith("svg"), svg.name
        assert root.attrib["width"].startswith("576") and root.attrib["height"].startswith("360"), svg.name


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
    result = CliRunner().invoke(app, ["report", "out", "--format", "json"])
    assert result.exit_code == 0, result.output
    facts = json.loads(result.stdout)
    facts["tool"]["version"] = "<version>"
    facts["run"]["versions"] = "<versions>"
    assert "png" not in result.stdout.lower()  # json carries facts, never images
    _check_golden("report.json", json.dumps(_round(facts), indent=2, sort_keys=True) + "\n")


def test_report_command_redraws_identical_markdown_and_figures(outdir, tmp_path):
    result = CliRunner().invoke(app, ["report", "out", "--format", "md", "-o", "again/report.md"])
    assert result.exit_code == 0, result.output
    again = tmp_path / "again"
    assert (again / "report.md").read_bytes() == (outdir / "report.md").read_bytes()
    for name in FIGURE_FILES:
        assert (again / name).read_bytes() == (outdir / name).read_bytes(), name


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


def test_forecast_figure_draws_prediction_interval_when_present(outdir):
    inputs = read_report(outdir).figures
    predictions = inputs.predictions.assign(pred_accuracy_lo=inputs.predictions["pred_accuracy"] - 0.05,
                                            pred_accuracy_hi=inputs.predictions["pred_accuracy"] + 0.05)
    figure = make_figures(type(inputs)(**{**inputs.__dict__, "predictions": predictions}))["forecast"]
    labels = figure.axes[0].get_legend_handles_labels()[1]
    assert "prediction interval" in labels


def test_no_spectrum_groups_option_skips_the_spectrum(tmp_path, monkeypatch):
    out = run_synthetic(tmp_path, monkeypatch, extra=["--spectrum-groups", "0"])
    assert not (out / "spectrum.csv").exists() and not (out / "report-spectrum.png").exists()
    assert (out / "report-forecast.png").exists()
