"""The terminal tables of slicesand.cli.ui, fed random names at random widths (hypothesis).

Whatever the names and the terminal width: no name is cut (its characters all appear, in order), no
control character reaches the terminal, markup is shown as text, no line is wider than the terminal,
and whole-number columns (a task table's model counts) show no decimals.
"""

from __future__ import annotations

import pandas as pd
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from rich.cells import cell_len

from slicesand.cli.ui import clean_text, print_frame, render_table

# Names as users and hostile inputs write them: markup, escapes, bidi overrides, wide characters.
names = st.one_of(
    st.text(min_size=1, max_size=60),
    st.sampled_from(["[red]RED[/red]", "[/x]", "nimbus\x1b[31m-70b", "a|b", "mmlu/\u202eevil", "模型-七十亿",
                     "org/" + "x" * 70]),
).filter(lambda n: clean_text(n).strip())


def _visible(text: str) -> str:
    return "".join(ch for ch in text if not ch.isspace())


def _in_order(needle: str, haystack: str) -> bool:
    characters = iter(haystack)
    return all(ch in characters for ch in needle)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(st.tuples(names, st.floats(1e18, 1e27)), min_size=1, max_size=6),
       width=st.integers(20, 160))
@example(rows=[("\U0001f3fb", 1e20)], width=20)
def test_render_table_never_cuts_or_leaks_a_name(rows, width):
    cells = [[name, f"{flops:.3g}"] for name, flops in rows]
    text = render_table([("model", "left"), ("FLOPs", "right")], cells, width=width)
    assert not any(ch in text for ch in "\x1b\x07\x08\r\u202e\u2066")
    assert "…" not in text
    assert _in_order(_visible("".join(clean_text(name) for name, _ in rows)), _visible(text))
    for name, _ in rows:
        if "[red]" in name:
            assert "[red]" in _visible(text).replace("│", "")  # markup shown, not applied
    assert max(cell_len(line) for line in text.splitlines()) <= width


# capsys is read before every example, and COLUMNS is set anew: sharing them across examples is safe
@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(tasks=st.lists(names, min_size=1, max_size=5, unique=True), width=st.integers(20, 120))
@example(tasks=["\U0001f3fb"], width=20)  # a lone skin-tone modifier: zero cells wide, once dropped
def test_the_multitask_table_keeps_task_names_and_counts(tasks, width, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", str(width))
    frame = pd.DataFrame({"task": tasks, "models": [40.0] * len(tasks), "accuracy": [0.61234] * len(tasks)})
    capsys.readouterr()
    print_frame(frame, "table", title="Forecast per task")
    text = capsys.readouterr().out
    assert _in_order(_visible("".join(clean_text(t) for t in tasks)), _visible(text))
    assert "40.0000" not in text and "40" in text  # a count is a count
    assert "0.6123" in text
    assert max(cell_len(line) for line in text.splitlines()) <= width


def test_an_empty_cell_in_the_vertical_layout():
    from slicesand.cli.ui import render_vertical

    assert render_vertical(["model", "error"], [["m", ""]], None, 20).splitlines()[:2] == ["model  m", "error"]
