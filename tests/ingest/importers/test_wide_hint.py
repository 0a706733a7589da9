"""A wide table of probabilities read without ``--layout wide`` is sniffed as a 0/1 matrix: its error says
how to read it, and following the hint works."""

from __future__ import annotations

import numpy as np

from slicesand.cli import app


def _wide(path, cells):
    lines = ["question," + ",".join(f"m{i}" for i in range(cells.shape[1]))]
    lines += [f"q{q}," + ",".join(f"{v:.6g}" for v in row) for q, row in enumerate(cells)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_probabilities_without_layout_wide_get_the_hint_that_reads_them(runner, tmp_path):
    rng = np.random.default_rng(0)
    dump = _wide(tmp_path / "wide.csv", rng.uniform(0.05, 0.95, (40, 8)))
    result = runner.invoke(app, ["slice", str(dump), "-o", str(tmp_path / "s.csv")])
    assert result.exit_code == 3
    assert "must be 0 or 1" in result.stderr and "`slicesand slice --layout wide`" in result.stderr
    models = tmp_path / "models.csv"
    models.write_text("model,flops\n" + "".join(f"m{i},{10 ** (20 + i / 2):g}\n" for i in range(8)))
    done = runner.invoke(app, ["slice", str(dump), "--layout", "wide", "--models", str(models), "-q",
                               "-o", str(tmp_path / "s.csv")])
    assert done.exit_code == 0, done.stderr


def test_a_cell_that_is_no_probability_gets_no_wide_hint(runner, tmp_path):
    dump = _wide(tmp_path / "m.csv", np.array([[0, 1, 7], [1, 0, 0.5]]))
    result = runner.invoke(app, ["slice", str(dump), "-o", str(tmp_path / "s.csv")])
    assert result.exit_code == 3 and "must be 0 or 1" in result.stderr and "--layout wide" not in result.stderr


def test_one_stray_fraction_in_a_zero_one_matrix_gets_no_wide_hint(runner, tmp_path):
    dump = _wide(tmp_path / "m.csv", np.array([[0, 1, 1], [1, 0, 0.5]]))
    result = runner.invoke(app, ["slice", str(dump), "-o", str(tmp_path / "s.csv")])
    assert result.exit_code == 3 and "found '0.5'" in result.stderr and "--layout wide" not in result.stderr
