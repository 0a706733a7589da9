"""One report model, four renderers: Markdown, HTML, terminal and JSON show the same sections and numbers.

The expected strings are formatted here from the facts themselves (not from the renderers' section
model), so a renderer that drops a column or a section fails.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from html.parser import HTMLParser

import pytest
from markdown_it import MarkdownIt
from rich.console import Console

from slicesand.artifacts.documents import dumps
from slicesand.reporting.facts import format_flops
from slicesand.reporting.html import render_html
from slicesand.reporting.markdown import render_markdown
from slicesand.reporting.output import read_report
from slicesand.reporting.terminal import print_report
from tests.reporting.report_fixtures import run_synthetic

SECTIONS = ["Settings", "Fitted curves", "Forecast", "Figures", "Warnings", "How this report was made"]
FIGURES = {"fits": ("Easy and hard groups: fitted curves", "report-fits.png"),
           "forecast": ("Forecast of accuracy", "report-forecast.png")}


class _TextOf(HTMLParser):
    """The text a reader sees on an HTML page (entities decoded), with the image alt texts."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data):
        self.parts.append(data)

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.parts.append(" " + dict(attrs).get("alt", "") + " ")


def html_text(page: str) -> str:
    parser = _TextOf()
    parser.feed(page)
    return " ".join(" ".join(parser.parts).split())


def markdown_text(text: str) -> str:
    return html_text(MarkdownIt("commonmark").enable("table").render(text))


def terminal_text(facts: dict, figures=None, width: int = 240) -> str:
    console = Console(file=io.StringIO(), width=width, record=True, color_system=None)
    print_report(facts, figures, console=console)
    return " ".join(console.export_text().split())


def expected_strings(facts: dict) -> list[str]:
    """Every number and name the facts hold that a report must show, formatted independently."""
    s, m, c = facts["settings"], facts["models"], facts["curves"]
    out = [format_flops(s["cut_flops"]), f"{m['training']} / {m['test']}", str(s["n_groups"]),
           f"{s['easy_degree']} / {s['hard_degree']}", str(s["variant"]), str(s["chance"]),
           f"{c['easy']['r2']:.3f}", f"{c['hard']['r2']:.3f}"]
    t = c["tc_to_accuracy"]
    out += [f"{t['intercept']:.4f}", f"{t['slope']:.4f}", f"{c['accuracy_shift']:+.4f}"]
    mse = facts["test_mse"]
    out += [f"{mse['forecast']:.4g}", f"{mse['baseline']:.4g}", format_flops(facts["threshold_flops"])]
    intervals = facts["intervals"]
    low, high = intervals["threshold_flops_interval"]
    out += [f"{round(100 * intervals['level'])}% {intervals['interval']} interval", str(intervals["draws"]),
            f"seed {intervals['seed']}", format_flops(low), format_flops(high)]
    for row in facts["predictions"]:
        out += [format_flops(row["flops"]), row["split"], f"{row['pred_accuracy']:.3f}",
                f"{row['pred_accuracy_lo']:.3f}-{row['pred_accuracy_hi']:.3f}", f"{row['baseline_accuracy']:.3f}",
                f"{row['pred_tc_brier']:.3f}"]
        out += [row["model"]] if row["model"] else []
        out += [f"{row['observed_accuracy']:.3f}"] if row["observed_accuracy"] is not None else []
    out += [w.message for w in facts["warnings"]] + [facts["run"]["command"], facts["input"]["sha256"][:12]]
    out += [f"{name} {version}" for name, version in facts["run"]["versions"].items()]
    return [" ".join(item.split()) for item in out]


@pytest.fixture(scope="module")
def facts(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("renderers")
    with pytest.MonkeyPatch.context() as monkeypatch:
        out = run_synthetic(folder, monkeypatch)
    return read_report(out).facts


@pytest.mark.parametrize("renderer", ["markdown", "html", "terminal"])
def test_every_renderer_shows_every_section_and_number(facts, renderer):
    shown = {"markdown": lambda: markdown_text(render_markdown(facts, FIGURES)),
             "html": lambda: html_text(render_html(facts, {k: (t, b"\x89PNG") for k, (t, _) in FIGURES.items()})),
             "terminal": lambda: terminal_text(facts, FIGURES)}[renderer]()
    assert facts["warnings"] and facts["intervals"] and facts["run"], "the fixture must exercise every section"
    missing = [item for item in SECTIONS + [t for t, _ in FIGURES.values()] + expected_strings(facts)
               if item not in shown]
    assert not missing, f"{renderer} does not show: {missing[:10]}"


def test_interval_column_and_settings_appear_in_every_renderer(facts):
    # The drift issue 8 named: the HTML lacked the interval column and the automatic-rule settings.
    automatic = {**facts, "settings": {**facts["settings"], "hard_average": True, "baseline_floor": True,
                                       "automatic": True}}
    for shown in (markdown_text(render_markdown(automatic)), html_text(render_html(automatic)),
                  terminal_text(automatic)):
        assert "90% prediction interval" in shown
        assert "mean of degree 1 .. 2 fits" in shown and "never below the sigmoid baseline" in shown
        assert "the automatic rule" in shown


def test_json_renders_the_facts_themselves(facts):
    shown = json.loads(dumps(facts))
    assert shown["predictions"] == json.loads(json.dumps(facts["predictions"]))
    assert [w["message"] for w in shown["warnings"]] == [w.message for w in facts["warnings"]]
    assert all(w["code"] and w["category"] for w in shown["warnings"])
    for key in ("settings", "models", "curves", "intervals", "test_mse", "run", "input"):
        assert shown[key] == json.loads(json.dumps(facts[key])), key


def test_run_report_from_memory_equals_report_from_folder(tmp_path, monkeypatch):
    out = run_synthetic(tmp_path, monkeypatch)
    report = read_report(out)
    figures = {key: (title, name) for key, (title, name) in {
        "spectrum": ("Difficulty spectrum", "report-spectrum.png"),
        "fits": FIGURES["fits"], "forecast": FIGURES["forecast"],
        "tc_accuracy": ("TC Brier score vs accuracy", "report-tc-accuracy.png")}.items()}
    assert render_markdown(report.facts, figures) == (out / "report.md").read_text(encoding="utf-8")


def test_importing_the_figures_leaves_the_matplotlib_backend_alone():
    env = {**os.environ, "MPLBACKEND": "svg"}
    code = "import slicesand.reporting.figures, matplotlib; print(matplotlib.get_backend())"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "svg"



def test_a_run_without_intervals_keeps_the_columns_empty_and_every_report_shows_none(tmp_path, monkeypatch):
    """--bootstrap 0: predictions.csv keeps pred_accuracy_lo/hi, empty; no report reads them as 0."""
    from typer.testing import CliRunner

    from slicesand.cli import app

    out = run_synthetic(tmp_path, monkeypatch, extra=["--bootstrap", "0", "--no-figures"])
    header, first = (out / "predictions.csv").read_text().splitlines()[:2]
    columns = header.split(",")
    assert columns[columns.index("pred_accuracy") + 1: columns.index("pred_accuracy") + 3] == [
        "pred_accuracy_lo", "pred_accuracy_hi"]
    cells = first.split(",")
    assert cells[columns.index("pred_accuracy_lo")] == "" and cells[columns.index("pred_accuracy_hi")] == ""

    def report(fmt: str) -> str:
        result = CliRunner().invoke(app, ["report", "out", "-f", fmt, "-o", f"r.{fmt}"], env={"COLUMNS": "240"})
        assert result.exit_code == 0, result.output
        return (tmp_path / f"r.{fmt}").read_text(encoding="utf-8")

    facts = json.loads(report("json"))
    assert facts["intervals"] is None
    assert all(row["pred_accuracy_lo"] is None and row["pred_accuracy_hi"] is None for row in facts["predictions"])
    assert report("csv") == (out / "predictions.csv").read_text()
    table = CliRunner().invoke(app, ["report", "out", "-f", "table"], env={"COLUMNS": "240"})
    assert table.exit_code == 0, table.output
    for shown in (markdown_text(report("md")), html_text(report("html")), " ".join(table.stdout.split())):
        assert "predicted accuracy" in shown and f"{facts['predictions'][0]['pred_accuracy']:.3f}" in shown
        assert "interval" not in shown.split("Forecast", 1)[1].split("Warnings", 1)[0]
        assert "nan" not in shown.lower() and "0.000-0.000" not in shown
