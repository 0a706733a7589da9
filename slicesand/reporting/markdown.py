"""``report.md``: the report's sections as Markdown, every data string escaped.

Model, task and file names are data, and a Markdown viewer renders HTML and follows links, so every
string is escaped before it reaches the page (:func:`escape_markdown`): a name such as
``<img src=x onerror=alert(1)>`` or ``[x](javascript:alert(1))`` shows as those characters, and a
``|`` cannot break a table.

>>> escape_markdown("[x](javascript:alert(1)) <b>|")
'\\\\[x\\\\](javascript:alert(1)) \\\\<b\\\\>\\\\|'
>>> escape_markdown("synthetic_mc")  # an underscore inside a word is inert: left as typed
'synthetic_mc'
"""

from __future__ import annotations

import re
from urllib.parse import quote

from slicesand.printable import CONTROL_CHARACTERS
from slicesand.reporting.facts import format_flops
from slicesand.reporting.sections import Bullets, Code, Images, Paragraph, Section, Table, report_sections

# ASCII punctuation that can start inline markup anywhere: escaped with a backslash (CommonMark 2.4).
_INLINE = re.compile(r"[\\`*\[\]<>|~&#]|_+")
# Characters that start a block (heading, quote, list, thematic break) when they open a line.
_BLOCK_START = re.compile(r"^(?=[>+=-])|^\d{1,9}(?=[.)](?:\s|$))")
# C0 and C1 controls (ESC, newlines, ...): in a table cell or a heading a newline would end it.
_CONTROL = re.compile(f"[\t\n{CONTROL_CHARACTERS}]")  # controls (tab and newline too) and bidi overrides


def _inert_underscores(text: str, match: re.Match) -> bool:
    """A run of ``_`` between two letters or digits cannot open or close emphasis (CommonMark 6.2)."""
    before = text[match.start() - 1] if match.start() else ""
    after = text[match.end()] if match.end() < len(text) else ""
    return before.isalnum() and after.isalnum()


def escape_markdown(value: object, *, line_start: bool = False) -> str:
    """Plain text that Markdown shows as typed: markup characters escaped, controls made spaces.

    ``line_start``: the text opens a line (a paragraph, a list item), so a leading ``>``, ``-``, ``+``
    or ``1.`` would start a quote or a list; it is escaped too (``#`` is escaped everywhere: a trailing
    one would close a heading).
    """
    text = _CONTROL.sub(" ", str(value))

    def escaped(match: re.Match) -> str:
        token = match.group()
        if token.startswith("_"):
            return token if _inert_underscores(text, match) else token.replace("_", "\\_")
        return "\\" + token

    text_escaped = _INLINE.sub(escaped, text)
    if not line_start:
        return text_escaped
    # Leading spaces after a list marker would make an indented code block.
    return _BLOCK_START.sub(lambda m: m.group() + "\\", text_escaped.lstrip(), count=1)


def _code_span(code: str) -> str:
    fence = "`" * (max((len(run) for run in re.findall(r"`+", code)), default=0) + 1)
    padded = f" {code} " if code.startswith("`") or code.endswith("`") else code
    return f"{fence}{padded}{fence}"


def _paragraph(paragraph: Paragraph) -> str:
    return "".join(_code_span(_CONTROL.sub(" ", text)) if kind == "code" else escape_markdown(text, line_start=i == 0)
                   for i, (text, kind) in enumerate(paragraph.parts))


def _table(table: Table) -> str:
    def row(cells) -> str:
        return "| " + " | ".join(escape_markdown(cell) for cell in cells) + " |"

    return "\n".join([row(table.header), "|" + "---|" * len(table.header), *map(row, table.rows)])


def _code_block(code: Code) -> str:
    text = re.sub(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]", " ", code.text)
    fence = "`" * max(3, max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    return f"{fence}\n{text}\n{fence}"


def _images(images: Images) -> str:
    return "\n\n".join(f"![{escape_markdown(title)}]({quote(name)})" for _, title, name in images.items)


def _bullets(bullets: Bullets) -> str:
    return "\n".join(f"- {escape_markdown(item, line_start=True)}" for item in bullets.items)


_BLOCKS = {Paragraph: _paragraph, Table: _table, Code: _code_block, Images: _images, Bullets: _bullets}


def render_section(section: Section, level: int = 2) -> list[str]:
    """A section as Markdown chunks (joined by blank lines): its heading, then its blocks."""
    heading = [f"{'#' * level} {escape_markdown(section.title)}"] if section.title else []
    return heading + [_BLOCKS[type(block)](block) for block in section.blocks]


def render_markdown(facts: dict, figures: dict[str, tuple[str, str]] | None = None) -> str:
    """``report.md``: a summary paragraph, the settings, the fitted curves, the forecast table, the
    figures, the warnings and how the report was made.

    ``figures`` maps a figure key to ``(title, relative file name)``; they are linked under "Figures".
    ``facts["run"]`` (when present) adds the exact command and the versions that made the run.
    """
    sections = report_sections(facts, figures)
    chunks = render_section(sections[0], level=1)
    for section in sections[1:]:
        chunks += render_section(section)
    return "\n\n".join(chunks) + "\n"


def _cell(value, digits: int = 3) -> str:
    return "" if value is None else f"{value:.{digits}g}"


def render_tasks_markdown(index: dict) -> str:
    """The cross-task report (``OUTDIR/report.md`` of a multi-task run): one table, a link to each
    task's own report, and the overview figure (``index["overview"]``, a file beside the report)."""
    overview = index.get("overview")
    header = ("task", "models", "cut (FLOPs)", "forecast accuracy", "at FLOPs", "predicted threshold",
              "test MSE", "baseline MSE")
    lines = ["# slicesand forecast: every task", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in index["tasks"]:  # one line per task: a handful
        if row["error"]:
            lines.append(f"| {escape_markdown(row['task'])} | | | not forecast: {escape_markdown(row['error'])} "
                         "| | | | |")
            continue
        lines.append(
            f"| [{escape_markdown(row['task'])}]({quote(row['folder'])}/report.md) | {row['models']} | "
            f"{format_flops(row['cut_flops'])} | {_cell(row['forecast_accuracy'])} | "
            f"{format_flops(row['largest_flops'])} | "
            f"{format_flops(row['threshold_flops']) if row['threshold_flops'] else 'none in range'} | "
            f"{_cell(row['test_mse'])} | {_cell(row['baseline_mse'])} |")
    lines += ["", "Each task was sliced and fitted on its own; its folder holds every artifact and its "
              "report.", ""]
    if overview:
        lines += [f"![Forecast per task]({quote(overview)})", ""]
    return "\n".join(lines)
