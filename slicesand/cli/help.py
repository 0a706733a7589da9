"""``--help`` as plain text: click's layout, with one section per option panel.

typer draws help with rich when rich is installed, and importing ``typer.rich_utils`` (rich, its
Markdown and syntax modules, pygments) costs more than everything else ``slicesand --help`` does: 0.26 s
instead of 0.11 s. Plain help is also what a pager, ``grep`` and a terminal without colours want. The
panels that group options (``rich_help_panel`` in :mod:`slicesand.cli.options`) become sections,
in the order they first appear; options without a panel come first, under "Options".

>>> from slicesand.cli import app
>>> import typer.main
>>> text = help_text(typer.main.get_command(app), ["run"])
>>> text.splitlines()[0]
'Usage: slicesand run [OPTIONS] DUMP'
>>> [line for line in text.splitlines() if line.endswith(":") and not line.startswith(" ")][:3]
['Arguments:', 'Options:', 'Output:']
"""

from __future__ import annotations

from typer.core import TyperCommand, TyperGroup

DEFAULT_SECTION = "Options"


def format_sections(command, ctx, formatter) -> None:
    """Write the arguments, then each panel's options, as click definition lists."""
    arguments: list[tuple[str, str]] = []
    sections: dict[str, list[tuple[str, str]]] = {DEFAULT_SECTION: []}
    for param in command.get_params(ctx):
        record = param.get_help_record(ctx)
        if record is None:
            continue
        if param.param_type_name == "argument":
            # typer's record names the argument with its Python type ("DUMP <str>"); the metavar says it all
            name = param.metavar or param.name.upper()
            arguments.append((name + ("..." if param.nargs != 1 else ""), record[1]))
        else:
            sections.setdefault(getattr(param, "rich_help_panel", None) or DEFAULT_SECTION, []).append(record)
    if arguments:
        with formatter.section("Arguments"):
            formatter.write_dl(arguments)
    for title, records in sections.items():
        if records:
            with formatter.section(title):
                formatter.write_dl(records)


# Where a command leaves its parsed parameters for the group's error handler (click shares ``meta``
# between a context and the ones nested in it): an out-of-memory hint names the command's input.
COMMAND_PARAMETERS = "slicesand.params"


class SlicesandCommand(TyperCommand):
    """A command whose ``--help`` groups its options into sections (see the module docstring)."""

    def invoke(self, ctx):
        ctx.meta[COMMAND_PARAMETERS] = ctx.params
        return super().invoke(ctx)

    def format_options(self, ctx, formatter) -> None:
        format_sections(self, ctx, formatter)

    def collect_usage_pieces(self, ctx) -> list[str]:
        # typer writes a required argument as {DUMP}, which reads like a set of choices; click's DUMP
        return [piece[1:-1] if piece.startswith("{") and piece.endswith("}") else piece
                for piece in super().collect_usage_pieces(ctx)]


class HelpGroup(TyperGroup):
    """The group's ``--help``: its options, then every command with its whole one-line summary."""

    def format_options(self, ctx, formatter) -> None:
        format_sections(self, ctx, formatter)
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                # the summary in full (click cuts it at 45 characters with "...")
                rows.append((name, command.get_short_help_str(limit=10_000)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def help_text(group, args: list[str], width: int = 80) -> str:
    """The ``--help`` text of ``slicesand ARGS`` at ``width`` columns, as the shell would print it."""
    context = group.make_context("slicesand", list(args) or [], resilient_parsing=True, terminal_width=width)
    command, context_of_command = group, context
    for name in args:
        command = command.get_command(context_of_command, name)
        context_of_command = command.make_context(name, [], parent=context_of_command, resilient_parsing=True)
    return command.get_help(context_of_command)
