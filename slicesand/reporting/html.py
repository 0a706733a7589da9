"""``report.html``: the report's sections as one self-contained page, figures inlined as base64 PNG.

The page loads nothing from anywhere (a Content-Security-Policy forbids it) and runs no script. Every
string that comes from data - model names, task names, warnings, file names, the command - goes
through :func:`html.escape`, so a model called ``<script>`` shows as text.

>>> _e("<b>model</b>")
'&lt;b&gt;model&lt;/b&gt;'

"""

from __future__ import annotations

import base64
import re
from html import escape

from slicesand.printable import CONTROL_CHARACTERS
from slicesand.reporting.sections import (
    Bullets, Code, Images, Paragraph, Section, Table, report_sections, title_of,
)

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 60rem; margin: 2rem auto;
       padding: 0 1rem; color: #1c1c1c; line-height: 1.45; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; font-size: 0.92rem; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25rem 0.7rem; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 1rem 0 2rem; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.9rem; } pre { background: #f5f5f5; padding: 0.6rem; overflow-x: auto; }
.warning { color: #8a5a00; } code { background: #f5f5f5; padding: 0 0.2rem; }
"""
_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


# C0 and C1 controls (ESC, ...) other than tab and newline: never meaningful in a name.
_CONTROL = re.compile(f"[{CONTROL_CHARACTERS}]")  # controls but tab and newline, and bidi overrides


def _e(value) -> str:
    """Escape any value for HTML text or a quoted attribute."""
    return escape(_CONTROL.sub(" ", "" if value is None else str(value)), quote=True)


def _paragraph(paragraph: Paragraph) -> str:
    return "<p>" + "".join(f"<code>{_e(text)}</code>" if kind == "code" else _e(text)
                           for text, kind in paragraph.parts) + "</p>\n"


def _table(table: Table) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in table.header)
    body = "".join("<tr>" + "".join(f'<td class="num">{_e(c)}</td>' if i in table.numeric else f"<td>{_e(c)}</td>"
                                    for i, c in enumerate(row)) + "</tr>\n" for row in table.rows)
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}</tbody>\n</table>\n"


def _code(code: Code) -> str:
    return f"<pre>{_e(code.text)}</pre>\n"


def _bullets(bullets: Bullets) -> str:
    return "<ul>\n" + "".join(f'<li class="warning">{_e(item)}</li>\n' for item in bullets.items) + "</ul>\n"


def _images(images: Images, data: dict[str, bytes]) -> str:
    parts = []
    for key, title, _ in images.items:  # a handful of figures
        encoded = base64.b64encode(data[key]).decode("ascii")
        parts.append(f'<figure><img src="data:image/png;base64,{encoded}" alt="{_e(title)}">'
                     f"<figcaption>{_e(title)}</figcaption></figure>\n")
    return "".join(parts)


def render_section(section: Section, images: dict[str, bytes], level: int = 2) -> str:
    """One section as HTML: its heading, then its blocks."""
    section_id = f' id="{section.key}"'
    parts = [f"<h{level}{section_id}>{_e(section.title)}</h{level}>\n" if section.title else ""]
    for block in section.blocks:
        if isinstance(block, Images):
            parts.append(_images(block, images))
        else:
            parts.append({Paragraph: _paragraph, Table: _table, Code: _code, Bullets: _bullets}[type(block)](block))
    return "".join(parts)


def render_html(facts: dict, images: dict[str, tuple[str, bytes]] | None = None) -> str:
    """The whole report as one HTML page; ``images`` maps a figure key to ``(title, PNG bytes)``."""
    images = images or {}
    sections = report_sections(facts, {key: (title, key) for key, (title, _) in images.items()})
    data = {key: png for key, (_, png) in images.items()}
    title = _e(title_of(facts))
    parts = ["<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n",
             f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">\n',
             '<meta name="viewport" content="width=device-width, initial-scale=1">\n',
             f"<title>{title}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n",
             render_section(sections[0], data, level=1).replace("<p>", '<p id="headline">', 1)]
    parts += [render_section(section, data) for section in sections[1:]]
    parts.append("</body>\n</html>\n")
    return "".join(parts)
