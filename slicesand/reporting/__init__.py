"""Reporting: the facts of a forecast and their renderers (Markdown, HTML, terminal, figures)."""
