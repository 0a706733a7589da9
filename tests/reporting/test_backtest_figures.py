"""Backtest pictures (`backtest --plot DIR`), their place in the report, and the multi-task overview."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from slicesand.reporting.backtest_figures import MODELS_FILE, TABLE_FILE, make_backtest_figures, read_backtest
from slicesand.reporting.figures import DPI, png_dpi, png_size
from slicesand.reporting.output import read_report
from tests.reporting.report_fixtures import run_synthetic
from tests.reporting.test_figures import _check_golden, _legend_texts
from tests.reporting.test_html import _chromium

PICTURES = ["backtest-error", "backtest-calibration", "backtest-cuts"]


def _slicesand(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "slicesand", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600, env={**os.environ, "COLUMNS": "200"})


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """A run folder into which a backtest drew its pictures."""
    base = tmp_path_factory.mktemp("backtest")
    with pytest.MonkeyPatch.context() as monkeypatch:
        out = run_synthetic(base, monkeypatch, extra=["--bootstrap", "0"])
    result = _slicesand("backtest", "out/slices.csv", "--cuts", "3e21,1e22,3e22", "--bootstrap", "100",
                        "--plot", "out", "-f", "csv", cwd=base)
    assert result.returncode == 0, result.stderr
    assert "backtest pictures -> out/" in result.stderr
    return out


def test_backtest_plot_writes_every_picture_as_png_and_svg(folder):
    for name in PICTURES:
        png = (folder / f"{name}.png").read_bytes()
        assert round(png_dpi(png)) == DPI and png_size(png)[0] >= 1000, name
        root = ElementTree.fromstring((folder / f"{name}.svg").read_bytes())
        texts = ["".join(node.itertext()) for node in root.iter("{http://www.w3.org/2000/svg}text")]
        assert any(text.startswith("Backtest") for text in texts), (name, texts[:4])
    assert (folder / TABLE_FILE).exists() and (folder / MODELS_FILE).exists()


def test_a_backtest_interrupted_while_drawing_leaves_no_picture(folder, tmp_path, monkeypatch):
    import slicesand.reporting.backtest_figures as bf

    table, models = read_backtest(folder)
    saved = []

    def interrupted(figure, fmt):  # Ctrl-C once two pictures are drawn
        if len(saved) == 2:
            raise KeyboardInterrupt
        saved.append(fmt)
        return b"picture"

    monkeypatch.setattr(bf, "figure_bytes", interrupted)
    with pytest.raises(KeyboardInterrupt):
        bf.write_backtest_plots(table, models, tmp_path / "plots")
    assert not (tmp_path / "plots").exists()


def test_a_signal_while_the_backtest_writes_waits_for_its_last_file(folder, tmp_path, monkeypatch):
    import signal

    import slicesand.io.atomic as atomic
    import slicesand.reporting.backtest_figures as bf

    table, models = read_backtest(folder)
    monkeypatch.setattr(bf, "figure_bytes", lambda figure, fmt: b"picture")
    write, written = atomic.write_bytes_atomic, []

    def write_then_interrupt(target, data):
        write(target, data)
        written.append(Path(target).name)
        if len(written) == 1:
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C after the first file

    monkeypatch.setattr(atomic, "write_bytes_atomic", write_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        bf.write_backtest_plots(table, models, tmp_path / "plots")
    names = sorted(path.name for path in (tmp_path / "plots").iterdir())
    assert len(written) == 6 and names == sorted([*written, TABLE_FILE, MODELS_FILE]), names


def test_backtest_plot_into_a_file_is_refused_before_the_backtest(folder, tmp_path):
    (tmp_path / "afile").write_text("hi")
    result = _slicesand("backtest", str(folder / "slices.csv"), "--plot", "afile", "-q", cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == "", result.stderr
    assert result.stderr == ("error: afile: is a file; --plot writes the backtest's pictures into a folder "
                             "(hint: give --plot a folder name)\n")


def test_backtest_tables_are_in_the_run_manifest_and_an_edit_is_refused(folder, tmp_path):
    from slicesand.io.tables import sha256_file

    listed = json.loads((folder / "manifest.json").read_text())["files"]
    for name in (TABLE_FILE, MODELS_FILE):
        assert listed[name] == sha256_file(folder / name), name
    copy = tmp_path / "out"
    shutil.copytree(folder, copy)
    assert _slicesand("report", "out", "-f", "json", cwd=tmp_path).returncode == 0  # sealed as written
    table = copy / TABLE_FILE
    table.write_text(table.read_text().replace("0.", "0.9", 1))
    result = _slicesand("report", "out", "-f", "json", cwd=tmp_path)
    assert result.returncode == 4 and f"{TABLE_FILE}: changed after the run wrote it" in result.stderr, result.stderr


def test_backtest_models_hold_one_row_per_test_model_and_cut(folder):
    table, models = read_backtest(folder)
    slices = pd.read_csv(folder / "slices.csv")
    for cut in (3e21, 1e22, 3e22):
        part = models[np.isclose(models["cut"], cut)]
        assert len(part) == int((slices["flops"] >= cut).sum())
        assert np.allclose(part["distance_decades"], part["log10_flops"] - np.log10(cut))
        # The per-cut MSE of the table is the mean of the squared per-model errors: the pictures and the
        # table tell the same story.
        row = table[table["scope"] == "cut"].iloc[[3e21, 1e22, 3e22].index(cut)]
        assert np.isclose(row["mse_forecast"], np.mean((part["observed"] - part["forecast"]) ** 2))
        inside = (part["observed"] >= part["lo_90"]) & (part["observed"] <= part["hi_90"])
        assert np.isclose(row["coverage_90"], inside.mean())


def test_report_shows_the_backtest_when_one_ran(folder, monkeypatch):
    monkeypatch.chdir(folder.parent)
    result = _slicesand("report", "out", "-f", "md", "-o", "out/report.md", cwd=folder.parent)
    assert result.returncode == 0, result.stderr
    text = (folder / "report.md").read_text(encoding="utf-8")
    assert "## Backtest" in text and "| slicesand forecast |" in text
    for name in PICTURES:  # named after the report: backtest --plot's own pictures stay as it drew them
        assert f"](report-{name}.png)" in text and (folder / f"report-{name}.svg").exists()
    report = read_report(folder)
    assert report.facts["backtest"]["cuts"] == [3e21, 1e22, 3e22]


def test_backtest_pictures_are_deterministic_and_their_legends_match_golden(folder):
    _, models = read_backtest(folder)
    first, second = make_backtest_figures(models, "mmlu"), make_backtest_figures(models, "mmlu")
    from slicesand.reporting.figures import figure_bytes

    for key in first:
        assert figure_bytes(first[key], "png") == figure_bytes(second[key], "png"), key
        assert figure_bytes(first[key], "svg") == figure_bytes(second[key], "svg"), key
    lines = []
    for key, figure in first.items():
        title = figure.axes[0].get_title() if key != "backtest_cuts" else figure.get_suptitle()
        assert title.endswith(" - mmlu"), title
        lines += [f"[{key}] {title}", *(f"  {' '.join(label.split())}" for label in _legend_texts(figure))]
    _check_golden("backtest-legends.txt", "\n".join(lines) + "\n")


def test_backtest_facts_read_the_overall_row_by_scope_and_from_an_older_table(folder):
    from slicesand.reporting.backtest_figures import backtest_facts

    table, _ = read_backtest(folder)
    assert table["cut"].dtype == float and list(table["scope"]) == ["cut"] * 3 + ["overall"]
    facts = backtest_facts(table)
    assert facts["cuts"] == [3e21, 1e22, 3e22] and facts["n_test"] == int(table["n_test"].iloc[-1])
    # backtest.csv as slicesand wrote it before the scope column: "overall" in the cut column.
    older = table.drop(columns="scope").astype({"cut": object})
    older.loc[older.index[-1], "cut"] = "overall"
    older["cut"] = older["cut"].astype(str)
    assert backtest_facts(older) == facts


def test_calibration_points_sit_at_the_nominal_level(folder):
    _, models = read_backtest(folder)
    ax = make_backtest_figures(models)["backtest_calibration"].axes[0]
    points = np.concatenate([c.get_offsets() for c in ax.collections])
    assert np.allclose(points[:, 0], 0.9) and ((points[:, 1] >= 0) & (points[:, 1] <= 1)).all()


def test_multitask_run_draws_one_overview_panel_per_task(tmp_path):
    rng = np.random.default_rng(3)
    rows = [(f"m{i}", f"q{j}", task, int(rng.random() < 0.2 + 0.03 * i * (j % 4) / 3), 10 ** (20 + i / 4))
            for task in ("alpha", "beta|x") for i in range(14) for j in range(30)]
    pd.DataFrame(rows, columns=["model", "question", "task", "correct", "flops"]).to_csv(tmp_path / "d.csv",
                                                                                        index=False)
    result = _slicesand("run", "d.csv", "--cut", "3e22", "--easy-degree", "2", "--hard-degree", "1",
                        "--bootstrap", "0", "--spectrum-groups", "0", "-o", "out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    png = (tmp_path / "out" / "report-overview.png").read_bytes()
    assert round(png_dpi(png)) == DPI
    assert "![Forecast per task](report-overview.png)" in (tmp_path / "out" / "report.md").read_text()
    root = ElementTree.fromstring((tmp_path / "out" / "report-overview.svg").read_bytes())
    texts = ["".join(node.itertext()) for node in root.iter("{http://www.w3.org/2000/svg}text")]
    assert any(t.startswith("alpha") for t in texts) and any(t.startswith("beta|x") for t in texts)


@pytest.mark.skipif(_chromium() is None, reason="no chromium on PATH (Debian: apt-get install chromium)")
def test_html_report_with_the_new_figures_renders_in_headless_chromium(folder, tmp_path):
    from PIL import Image

    result = _slicesand("report", "out", "-f", "html", "-o", str(tmp_path / "report.html"), cwd=folder.parent)
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "report.html").resolve().as_uri()
    flags = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--no-first-run", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
             f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([*flags, "--dump-dom", page], capture_output=True, text=True, timeout=180)
    assert dom.returncode == 0, dom.stderr[-2000:]
    # Four report figures and three backtest pictures, every one an inline PNG.
    assert dom.stdout.count('<img src="data:image/png;base64,') == 7
    assert 'id="backtest"' in dom.stdout and 'alt="Backtest: interval calibration by horizon"' in dom.stdout
    shot = tmp_path / "shot.png"
    run = subprocess.run([*flags, f"--screenshot={shot}", "--window-size=1000,9000", page],
                         capture_output=True, text=True, timeout=180)
    assert run.returncode == 0 and shot.exists(), run.stderr[-2000:]
    image = np.asarray(Image.open(shot).convert("L"), dtype=float)
    assert image.shape[:2] == (9000, 1000)
    # The figures were decoded and drawn: the page below the text has dark pixels (curves, axes, labels)
    # in many rows, not a blank or broken-image page.
    dark_rows = (image < 128).sum(axis=1) > 20
    assert dark_rows.sum() > 1500, dark_rows.sum()
