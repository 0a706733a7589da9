"""report.html: self-contained, every data string escaped, and it renders in a real browser."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.reporting.report_fixtures import run_synthetic
from slicesand.cli import app

EVIL = "<script>alert('x')</script>"
EVIL_ESCAPED = "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;"


@pytest.fixture
def html_report(tmp_path, monkeypatch) -> Path:
    # A model name that is markup: it must reach the page as text, never as an element.
    run_synthetic(tmp_path, monkeypatch, rename={"model-14": EVIL})
    result = CliRunner().invoke(app, ["report", "out", "--format", "html", "-o", "out/report.html"])
    assert result.exit_code == 0, result.output
    return tmp_path / "out" / "report.html"


def test_html_escapes_every_data_string(html_report):
    text = html_report.read_text(encoding="utf-8")
    assert EVIL not in text and "<script" not in text.lower()
    assert EVIL_ESCAPED in text


def test_html_is_self_contained_with_inlined_figures(html_report):
    text = html_report.read_text(encoding="utf-8")
    assert len(re.findall(r'<img src="data:image/png;base64,', text)) == 4
    # No external resource of any kind: every src/href is inline data.
    assert not re.search(r'(?:src|href)="(?!data:)', text)
    assert "http://" not in text and "https://" not in text
    assert "default-src 'none'" in text


def test_html_output_option_writes_there(tmp_path, monkeypatch):
    run_synthetic(tmp_path, monkeypatch)
    result = CliRunner().invoke(app, ["report", "out", "-f", "html", "-o", "elsewhere/r.html"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "elsewhere" / "r.html").read_text().startswith("<!DOCTYPE html>")
    assert not (tmp_path / "out" / "report.html").exists()


def _chromium() -> str | None:
    return next((found for name in ("chromium", "chromium-browser", "google-chrome")
                 if (found := shutil.which(name))), None)


@pytest.mark.skipif(_chromium() is None, reason="no chromium on PATH (Debian: apt-get install chromium)")
def test_html_renders_in_headless_chromium(html_report, tmp_path):
    command = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run",
               f"--user-data-dir={tmp_path / 'chrome-profile'}", "--dump-dom", html_report.resolve().as_uri()]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    dom = result.stdout
    assert dom.count("<img") == 4 and 'id="headline"' in dom
    # The parsed DOM shows the hostile name as text (serialised escaped), and holds no script element.
    assert "&lt;script&gt;" in dom and "<script" not in dom.lower()
