"""The status line on a terminal: shown, erased, and made without a thread (so run can fork its figures)."""

from __future__ import annotations

import io
import threading

from slicesand.cli import ui


def test_the_status_line_starts_no_thread_and_is_erased_before_a_message(monkeypatch):
    stderr = io.StringIO()
    monkeypatch.setattr(ui.sys, "stderr", stderr)
    monkeypatch.setattr(ui, "_isatty", lambda stream: True)
    threads = threading.active_count()
    with ui.Ui().status("slicing\x1b[2J"):
        assert threading.active_count() == threads  # a spinner's thread would make fork_usable() False
        ui.Ui().info("sliced")
    assert stderr.getvalue() == "slicing[2J...\r\x1b[Ksliced\n"


def test_no_status_line_off_a_terminal_or_when_quiet(monkeypatch):
    stderr = io.StringIO()
    monkeypatch.setattr(ui.sys, "stderr", stderr)
    with ui.Ui().status("slicing"):
        pass
    monkeypatch.setattr(ui, "_isatty", lambda stream: True)
    with ui.Ui(quiet=True).status("slicing"):
        pass
    assert stderr.getvalue() == ""
