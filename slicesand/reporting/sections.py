"""The report laid out once, as sections of plain blocks, so every renderer shows the same things.

:func:`report_sections` turns the report facts into :class:`Section` objects made of a few block
kinds (:class:`Paragraph`, :class:`Table`, :class:`Code`, :class:`Images`, :class:`Bullets`). Every
string in a block is plain text - names and warnings straight from the data, never markup - and each
renderer escapes it for its own medium (Markdown, HTML, a rich terminal). Only a :class:`Paragraph`
marks code spans, as ``(text, "code")`` parts, so no renderer has to guess what is code.

>>> [s.key for s in report_sections({"task": None, "tool": {"version": "0"}, "settings": {
...     "cut_flops": None, "n_groups": 3, "easy_degree": 2, "hard_degree": 2, "variant": "sandwich",
...     "chance": 0.25}, "models": {"training": 9, "test": 0}, "curves": {"easy": {"degree": 2, "r2": 0.9},
...     "hard": {"degree": 2, "r2": 0.8}, "tc_to_accuracy": None}, "largest_scale": None,
...     "threshold_flops": None, "threshold_search_range_flops": [1e20, 1e22], "predictions": [],
...     "warnings": []})]
['summary', 'settings', 'curves', 'forecast', 'provenance']
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from slicesand.diagnostics import as_diagnostic
from slicesand.reporting.facts import format_flops, headline, interval_sentence, interval_text

SECTION_TITLES = {
    "settings": "Settings",
    "curves": "Fitted curves",
    "forecast": "Forecast",
    "backtest": "Backtest",
    "figures": "Figures",
    "warnings": "Warnings",
    "how": "How this report was made",
}


@dataclass(frozen=True)
class Paragraph:
    """Running text; each part is ``(text, "text")`` or ``(text, "code")``."""

    parts: tuple[tuple[str, str], ...]

    @property
    def text(self) -> str:
        return "".join(text for text, _ in self.parts)


@dataclass(frozen=True)
class Table:
    """A table of plain-text cells; ``numeric`` holds the indices of right-aligned columns."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Code:
    """A preformatted block (the command that made the run)."""

    text: str


@dataclass(frozen=True)
class Images:
    """The figures: ``(key, title, file name)`` each, in report order."""

    items: tuple[tuple[str, str, str], ...]


@dataclass(frozen=True)
class Bullets:
    items: tuple[str, ...]


Block = Paragraph | Table | Code | Images | Bullets


@dataclass(frozen=True)
class Section:
    """``key`` names the section for tests and renderers; ``title`` is its heading (``None``: none).

    The first section (``summary``) carries the report's title as its heading.
    """

    key: str
    title: str | None
    blocks: tuple[Block, ...]


def text(value: str) -> Paragraph:
    """A paragraph of plain text; authored backtick spans (```make x```) become code parts.

    >>> text("run `make demo` now").parts
    (('run ', 'text'), ('make demo', 'code'), (' now', 'text'))
    """
    pieces = re.split(r"`([^`]+)`", value)
    return Paragraph(tuple((piece, "code" if i % 2 else "text") for i, piece in enumerate(pieces) if piece))


def plain(value: str) -> Paragraph:
    """A paragraph of data text: nothing in it is markup, not even a backtick."""
    return Paragraph(((value, "text"),))


def fmt(value, digits: int = 3) -> str:
    """A number for a table cell; ``""`` when it is missing."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def title_of(facts: dict) -> str:
    return "slicesand forecast" + (f": {facts['task']}" if facts.get("task") else "")


def has_band(facts: dict) -> bool:
    """True when the predictions hold an interval; with ``--bootstrap 0`` its columns are there, empty."""
    return any(row.get("pred_accuracy_lo") is not None for row in facts["predictions"])


def interval_label(facts: dict) -> str:
    """``90% prediction interval``: the level and the kind of the interval column."""
    intervals = facts.get("intervals") or {}
    return f"{round(100 * intervals.get('level', 0.9))}% {intervals.get('interval', 'bootstrap')} interval"


def _summary(facts: dict) -> Section:
    blocks = [plain(headline(facts))]
    mse, m = facts.get("test_mse"), facts["models"]
    if mse:
        blocks.append(plain(f"On the {m['test']} test models, the forecast's mean squared error is "
                            f"{mse['forecast']:.4g}, against {mse['baseline']:.4g} for the sigmoid baseline."))
    return Section("summary", title_of(facts), tuple(blocks))


def _settings(facts: dict) -> Section:
    s, m = facts["settings"], facts["models"]
    rows = [("cut (FLOPs)", format_flops(s["cut_flops"]) if s["cut_flops"] else "none (all models train)"),
            ("training / test models", f"{m['training']} / {m['test']}"),
            ("difficulty groups", str(s["n_groups"])),
            ("easy / hard degree", f"{s['easy_degree']} / {s['hard_degree']}"),
            ("variant", str(s["variant"]))]
    if s.get("hard_average"):
        rows.append(("hard curve", f"mean of degree 1 .. {s['hard_degree']} fits"))
    if s.get("baseline_floor"):
        rows.append(("floor", "never below the sigmoid baseline"))
    if s.get("automatic"):
        rows.append(("chosen by", "the automatic rule (fit.json: selection)"))
    if s.get("candidate"):
        rows += [("forecast", str(s["candidate"])), ("why", str(s["why"]))]
    rows.append(("chance accuracy", str(s["chance"])))
    return Section("settings", SECTION_TITLES["settings"], (Table(("setting", "value"), tuple(rows)),))


def _curves(facts: dict) -> Section:
    c = facts["curves"]
    blocks: list[Block] = [Table(("curve", "degree", "R^2 (training)"), (
        ("easy group", str(c["easy"]["degree"]), fmt(c["easy"]["r2"])),
        ("hard group", str(c["hard"]["degree"]), fmt(c["hard"]["r2"]))), frozenset({1, 2}))]
    if c["tc_to_accuracy"]:
        t = c["tc_to_accuracy"]
        blocks.append(plain(f"TC Brier = {t['intercept']:.4f} + {t['slope']:.4f} x accuracy "
                            f"(R^2 {fmt(t['r2'])}); accuracy shift {c['accuracy_shift']:+.4f}."))
    return Section("curves", SECTION_TITLES["curves"], tuple(blocks))


def _forecast(facts: dict) -> Section:
    blocks: list[Block] = []
    if facts.get("intervals"):
        blocks.append(text(interval_sentence(facts["intervals"])))
    band = has_band(facts)
    # The published method stays visible when the default leans on a trend.
    sandwich = facts["settings"].get("blend", "sandwich") != "sandwich"
    header = ("model", "FLOPs", "split", "predicted accuracy", *((interval_label(facts),) if band else ()),
              *(("Slice-and-Sandwich",) if sandwich else ()), "baseline", "observed", "predicted TC Brier")
    rows = tuple((row["model"] or "", format_flops(row["flops"]), row["split"], fmt(row["pred_accuracy"]),
                  *((interval_text(row),) if band else ()),
                  *((fmt(row.get("sandwich_accuracy")),) if sandwich else ()), fmt(row["baseline_accuracy"]),
                  fmt(row["observed_accuracy"]), fmt(row["pred_tc_brier"]))
                 for row in facts["predictions"])  # one row per model: display only
    if all(row.get("pred_accuracy") is None for row in facts["predictions"]):
        # No accuracy (TC Brier forecast alone): the TC Brier columns rather than empty accuracy ones.
        header = ("model", "FLOPs", "split", "predicted TC Brier", "easy group", "hard group")
        rows = tuple((row["model"] or "", format_flops(row["flops"]), row["split"], fmt(row["pred_tc_brier"]),
                      fmt(row["pred_easy"]), fmt(row["pred_hard"])) for row in facts["predictions"])
    numeric = frozenset(i for i, name in enumerate(header) if name not in ("model", "split"))
    blocks.append(Table(header, rows, numeric))
    return Section("forecast", SECTION_TITLES["forecast"], tuple(blocks))


def _backtest(backtest: dict) -> Section:
    cuts = backtest["cuts"]
    sentence = (f"Backtest (`slicesand backtest --plot`): at {len(cuts)} past cuts from {format_flops(min(cuts))} "
                f"to {format_flops(max(cuts))} FLOPs, each method forecast the models above the cut from those "
                f"below it ({backtest['n_test']} forecasts in all); errors are means over the cuts.")
    if backtest.get("coverage_90") is not None:
        sentence += (f" The 90% prediction interval held {backtest['coverage_90']:.0%} of the test models "
                     f"(mean width {backtest['width_90']:.2f}).")
    rows = tuple((m["label"], f"{m['mse']:.4f}", f"{m['mae']:.3f}") for m in backtest["methods"].values())
    return Section("backtest", SECTION_TITLES["backtest"], (
        text(sentence), Table(("method", "MSE", "MAE"), rows, frozenset({1, 2}))))


def _how(facts: dict) -> list[Section]:
    run = facts.get("run")
    source = facts.get("input")
    made_by = plain(f"Made by slicesand {facts['tool']['version']}"
                    + (f" from {source['name']} (sha256 {source['sha256'][:12]})" if source else "") + ".")
    sections = []
    if run:
        sections.append(Section("how", SECTION_TITLES["how"], (
            plain("Command (OUTDIR is the folder holding this report's artifacts):"), Code(run["command"]),
            plain("Versions: " + ", ".join(f"{k} {v}" for k, v in run["versions"].items()) + "."))))
    return sections + [Section("provenance", None, (made_by,))]


def report_sections(facts: dict, figures: dict[str, tuple[str, str]] | None = None) -> list[Section]:
    """The report's sections in order: summary, settings, fitted curves, forecast, figures, warnings,
    how it was made, and who made it from what.

    ``figures`` maps a figure key to ``(title, file name)``; without any, there is no figures section.
    """
    sections = [_summary(facts), _settings(facts), _curves(facts), _forecast(facts)]
    if facts.get("backtest"):
        sections.append(_backtest(facts["backtest"]))
    if figures:
        sections.append(Section("figures", SECTION_TITLES["figures"], (
            Images(tuple((key, title, name) for key, (title, name) in figures.items())),)))
    if facts["warnings"]:
        # Warnings are slicesand.diagnostics.Diagnostic objects; a report shows each one's sentence.
        sections.append(Section("warnings", SECTION_TITLES["warnings"], (
            Bullets(tuple(as_diagnostic(w).render() for w in facts["warnings"])),)))
    return sections + _how(facts)
