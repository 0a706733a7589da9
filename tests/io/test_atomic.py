"""Atomic writes (slicesand.io.atomic): replace regular files whole, write through streams, follow links."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from slicesand.errors import OutputError, UsageError
from slicesand.io.atomic import is_regular_target, write_text_atomic


def test_a_regular_file_is_replaced_whole(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    write_text_atomic(target, "new")
    assert target.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]  # no temporary file left


def test_a_symbolic_link_is_followed_and_stays_a_link(tmp_path):
    (tmp_path / "real.txt").write_text("old")
    link = tmp_path / "link.txt"
    link.symlink_to("real.txt")
    write_text_atomic(link, "new")
    assert link.is_symlink() and (tmp_path / "real.txt").read_text() == "new"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_named_pipe_is_written_through_not_replaced(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()))
    reader.start()
    write_text_atomic(fifo, "through the pipe")
    reader.join(timeout=10)
    assert received == ["through the pipe"]
    assert stat.S_ISFIFO(fifo.stat().st_mode) and sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_full_device_is_an_output_error_and_stays_a_device():
    with pytest.raises(OutputError, match="/dev/full: cannot write"):
        write_text_atomic("/dev/full", "x" * 100)
    assert stat.S_ISCHR(Path("/dev/full").stat().st_mode)


def test_streams_are_not_regular_targets(tmp_path):
    assert not is_regular_target("/dev/stdout") and not is_regular_target("/proc/self/fd/1")
    assert is_regular_target(tmp_path / "new.md") and is_regular_target(__file__)


def test_a_read_only_file_is_refused(tmp_path, monkeypatch):
    target = tmp_path / "fit.json"
    target.write_text("keep")
    # root may write anything, so ask the question the way a user without that right would get it answered
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    with pytest.raises(OutputError, match="read-only"):
        write_text_atomic(target, "new")
    assert target.read_text() == "keep"


def test_a_folder_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="is a folder"):
        write_text_atomic(tmp_path, "x")
