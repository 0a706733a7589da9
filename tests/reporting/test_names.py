"""Names cannot inject: model and task names reach report.md, report.html and the terminal as text.

Markdown is rendered by markdown-it-py (CommonMark with raw HTML on, plus GFM tables), the terminal by
rich; a hypothesis test feeds random names through every renderer.
"""

from __future__ import annotations

import copy
import io
import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from markdown_it import MarkdownIt
from rich.console import Console

from slicesand.artifacts.documents import dumps
from slicesand.diagnostics import diagnostic
from slicesand.reporting.html import render_html
from slicesand.reporting.markdown import render_markdown, render_tasks_markdown
from slicesand.reporting.output import read_report
from slicesand.reporting.terminal import print_report
from tests.reporting.report_fixtures import run_synthetic, write_synthetic_dump

HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[click](javascript:alert(1))",
    "<javascript:alert(1)>",
    "![x](javascript:alert(1))",
    "a|b|c",
    "**bold** _it_ ~~gone~~ `code`",
    "# heading",
    "- item",
    "1. item",
    "x #",
    "&lt;b&gt;",
    "back\\slash\\|",
    "[red]RED[/red]",
    "[/x]",
    "evil\x1b[2J\x1b]0;title\x07name",
    "line\nbreak",
    "bidi\u202eeman\u2066x",  # a right-to-left override would show the name reversed
]
ALLOWED_MD_TAGS = {"h1", "h2", "p", "table", "thead", "tbody", "tr", "th", "td", "code", "pre", "ul", "li", "img"}
ALLOWED_TASKS_TAGS = ALLOWED_MD_TAGS | {"a"}  # the cross-task table links each task's own report
ALLOWED_HTML_TAGS = ALLOWED_MD_TAGS | {"html", "head", "meta", "title", "style", "body", "figure", "figcaption", "sup"}
FIGURES = {"fits": ("Easy and hard groups: fitted curves", "report-fits.png")}
MARKDOWN = MarkdownIt("commonmark").enable("table")  # html=True: raw HTML would pass straight through


class _Page(HTMLParser):
    """Tags, attributes and visible text of a page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def parse(page: str) -> _Page:
    parser = _Page()
    parser.feed(page)
    return parser


BIDI = "[\u202a-\u202e\u2066-\u2069]"  # overrides that make a name display as another
BIDI_AND_CONTROLS = r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]"


def words(text: str) -> str:
    """What survives of a name as text: controls and bidi overrides made spaces, whitespace collapsed."""
    return " ".join(re.sub(BIDI_AND_CONTROLS, " ", text).split())


def terminal_words(text: str) -> str:
    """What a terminal shows of a name: tabs and newlines as spaces, other controls dropped."""
    text = text.replace("\t", " ").replace("\n", " ")
    return words(re.sub(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", "", text))


def assert_nothing_executable(page: _Page, allowed: set[str]) -> None:
    assert {tag for tag, _ in page.tags} <= allowed, {tag for tag, _ in page.tags} - allowed
    for tag, attrs in page.tags:
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        for name in ("href", "src"):
            value = (attrs.get(name) or "").strip().lower()
            assert not value.startswith(("javascript:", "vbscript:")), (tag, attrs)
        if tag == "img":
            assert attrs["src"].startswith(("report-", "data:image/png;base64,")), attrs


def with_names(facts: dict, name: str) -> dict:
    """The facts with ``name`` as the task, as a model, and inside a warning."""
    hostile = copy.deepcopy(facts)
    hostile["task"] = name
    hostile["predictions"][0]["model"] = name
    hostile["warnings"] = [*hostile["warnings"], diagnostic("silent-models", f"model {name} answered nothing",
                                                            model=name)]
    hostile["input"] = {**hostile["input"], "name": name}
    return hostile


def terminal_output(facts: dict) -> str:
    console = Console(file=io.StringIO(), width=200, color_system=None, force_terminal=False)
    print_report(facts, FIGURES, console=console)
    return console.file.getvalue()


@pytest.fixture(scope="module")
def facts(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("names")
    with pytest.MonkeyPatch.context() as monkeypatch:
        out = run_synthetic(folder, monkeypatch, extra=["--bootstrap", "0"])
    return read_report(out).facts


@pytest.mark.parametrize("name", HOSTILE)
def test_markdown_shows_hostile_names_as_text(facts, name):
    page = parse(MARKDOWN.render(render_markdown(with_names(facts, name), FIGURES)))
    assert_nothing_executable(page, ALLOWED_MD_TAGS)
    text = words(" ".join(page.text))
    assert text.count(words(name)) >= 4, (name, text[:300])  # title, model cell, warning, input name
    first_row = [tag for tag, _ in page.tags].count("td") // len(facts["predictions"])
    assert first_row == 7  # a | in a name did not add a column
    assert not re.search(BIDI, " ".join(page.text))


@pytest.mark.parametrize("name", HOSTILE)
def test_html_shows_hostile_names_as_text(facts, name):
    page = parse(render_html(with_names(facts, name), {"fits": ("fits", b"\x89PNG")}))
    assert_nothing_executable(page, ALLOWED_HTML_TAGS)
    assert words(" ".join(page.text)).count(words(name)) >= 4
    assert not re.search(BIDI, " ".join(page.text))


@pytest.mark.parametrize("name", HOSTILE)
def test_terminal_shows_markup_literally_and_strips_controls(facts, name):
    shown = terminal_output(with_names(facts, name))
    assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]", shown)  # no ESC, BEL, ... from a name
    expected = terminal_words(name)
    assert " ".join(shown.split()).count(expected) >= 3


def test_multitask_markdown_keeps_its_table_and_its_links():
    tasks = [{"task": task, "folder": f"t{i}", "models": 9, "cut_flops": 1e22, "largest_flops": 1e24,
              "forecast_accuracy": 0.5, "threshold_flops": None, "test_mse": 0.01, "baseline_mse": 0.02,
              "error": None} for i, task in enumerate(["a|b", "[x](javascript:alert(1))", "<b>bold</b>"])]
    tasks.append({**tasks[0], "task": "c|d", "error": "only 3 models | too few"})
    page = parse(MARKDOWN.render(render_tasks_markdown({"tasks": tasks})))
    assert_nothing_executable(page, ALLOWED_TASKS_TAGS)
    rows = [tag for tag, _ in page.tags].count("tr")
    assert rows == 5 and [tag for tag, _ in page.tags].count("td") == 8 * 4  # a | did not add a column
    assert [attrs["href"] for tag, attrs in page.tags if tag == "a"] == ["t0/report.md", "t1/report.md",
                                                                          "t2/report.md"]
    text = words(" ".join(page.text))
    assert all(task["task"] in text for task in tasks) and "only 3 models | too few" in text


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.text(min_size=1, max_size=40).filter(lambda n: words(n)))
def test_random_names_survive_every_renderer_as_text(facts, name):
    hostile = with_names(facts, name)
    md_page = parse(MARKDOWN.render(render_markdown(hostile, FIGURES)))
    assert_nothing_executable(md_page, ALLOWED_MD_TAGS)
    assert words(" ".join(md_page.text)).count(words(name)) >= 4
    html_page = parse(render_html(hostile, {"fits": ("fits", b"\x89PNG")}))
    assert_nothing_executable(html_page, ALLOWED_HTML_TAGS)
    assert words(" ".join(html_page.text)).count(words(name)) >= 4
    assert not re.search(BIDI, " ".join(md_page.text + html_page.text))
    shown = terminal_output(hostile)
    assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]", shown)
    plain = terminal_words(name)
    assert not plain or " ".join(shown.split()).count(plain) >= 3
    assert json.loads(dumps(hostile))["predictions"][0]["model"] == name  # JSON keeps the name exactly


def test_run_prints_markup_names_literally(tmp_path):
    """Through a real process: a model named ``[/x]`` used to make ``run`` exit 1 after writing."""
    write_synthetic_dump(tmp_path / "dump.csv", rename={"model-03": "[/x]", "model-04": "[red]RED[/red]",
                                                         "model-05": "evil\x1b[2Jname"})
    env = {**os.environ, "COLUMNS": "200"}
    result = subprocess.run([sys.executable, "-m", "slicesand", "run", "dump.csv", "-o", "out", "--cut", "1e22",
                             "--easy-degree", "3", "--hard-degree", "2", "--bootstrap", "0", "--no-figures",
                             "-f", "table"],  # the terminal view (piped, run prints CSV data by default)
                            cwd=tmp_path, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "[/x]" in result.stdout and "[red]RED[/red]" in result.stdout
    assert "\x1b" not in result.stdout and "evil[2Jname" in result.stdout
    report = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    assert "\x1b" not in report and "\\[red\\]RED\\[/red\\]" in report
