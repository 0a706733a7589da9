"""The terminal view of a report (rich): the same sections as ``report.md``, HTML and JSON.

Names are data, never markup: every string reaches rich as a :class:`rich.text.Text` (so ``[red]``
in a model name is shown, not obeyed) after :func:`printable` has removed control characters (so an
ESC sequence in a name cannot recolour, move or clear the terminal).

>>> printable("evil\\x1b[2J\\x07name")
'evil[2Jname'
"""

from __future__ import annotations

import sys

from rich.console import Console
from rich.table import Table as RichTable
from rich.text import Text

from slicesand.printable import printable
from slicesand.reporting.sections import Bullets, Code, Images, Paragraph, Section, Table, report_sections



def _text(value: object, style: str = "") -> Text:
    return Text(printable(value), style=style)


def _paragraph(paragraph: Paragraph) -> Text:
    text = Text()
    for part, kind in paragraph.parts:
        text.append(printable(part), style="bold" if kind == "code" else "")
    return text


def _table(table: Table) -> RichTable:
    view = RichTable(header_style="bold")
    for i, header in enumerate(table.header):
        # Model names are never cut: a long one folds onto the next line instead.
        view.add_column(_text(header), justify="right" if i in table.numeric else "left", overflow="fold")
    for row in table.rows:
        view.add_row(*(_text(cell) for cell in row))
    return view


def _images(images: Images) -> Text:
    return Text("\n").join(_text(f"{title}: {name}") for _, title, name in images.items)


def _bullets(bullets: Bullets) -> Text:
    return Text("\n").join(Text.assemble(("warning: ", "yellow"), printable(item)) for item in bullets.items)


_BLOCKS = {Paragraph: _paragraph, Table: _table, Code: lambda code: _text(code.text), Images: _images,
           Bullets: _bullets}


def render_section(console: Console, section: Section) -> None:
    """Print one section: its heading (bold), then its blocks."""
    if section.title:
        console.print(_text(section.title, "bold"))
    for block in section.blocks:
        if isinstance(block, Table) and not _fits(block, console.width):
            console.print(_vertical(block, console.width))  # too narrow: one block per row, nothing cut
            continue
        console.print(_BLOCKS[type(block)](block))


def _fits(table: Table, width: int) -> bool:
    from slicesand.cli.ui import table_fits

    return table_fits([printable(h) for h in table.header], [[printable(c) for c in r] for r in table.rows],
                      width, fold=tuple(h for i, h in enumerate(table.header) if i not in table.numeric))


def _vertical(table: Table, width: int) -> Text:
    from slicesand.cli.ui import render_vertical

    return Text(render_vertical([printable(h) for h in table.header],
                                [[printable(c) for c in r] for r in table.rows], None, width).rstrip("\n"))


def print_report(facts: dict, figures: dict[str, tuple[str, str]] | None = None, *,
                 console: Console | None = None) -> None:
    """Print the report's sections to stdout (or ``console``); ``figures`` as for ``report.md``."""
    console = console or Console(file=sys.stdout, highlight=False)
    for i, section in enumerate(report_sections(facts, figures)):
        if i:
            console.print()
        render_section(console, section)
