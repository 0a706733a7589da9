"""`slicesand slice` on a CSV loads neither pandas nor scipy, matplotlib or DuckDB: they are most of a
second of imports, and the slice command's numbers and files need none of them (issue 10's < 0.6 s).

Each case runs the command's code in a fresh interpreter (in process, through ``slicesand.__main__.main``)
and then lists the heavy modules that were imported. pyarrow imports pandas by itself whenever it
converts to or from numpy, so this also pins that the slice path reads Arrow buffers itself
(:func:`slicesand.io.columns.numpy_of`).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("pandas", "scipy", "matplotlib", "duckdb", "pydantic")


def imported_after(argv: list[str], cwd: Path) -> tuple[list[str], str]:
    code = ("import sys\n"
            f"sys.argv = ['slicesand', *{argv!r}]\n"
            "from slicesand.__main__ import main\n"
            "try:\n    main()\nexcept SystemExit as exit:\n    code = exit.code\nelse:\n    code = 0\n"
            f"heavy = sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))\n"
            "sys.stdout.write('\\n' + __import__('json').dumps([code, heavy]))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=cwd, check=True)
    code, heavy = json.loads(done.stdout.splitlines()[-1])
    assert code == 0, done.stderr
    return heavy, done.stdout


def test_slice_on_the_sample_data_imports_no_pandas(tmp_path):
    heavy, _ = imported_after(["slice", "sample_data/eval_dump.csv", "--models", "sample_data/models.csv",
                               "--cut", "3e22", "-o", str(tmp_path / "slices.csv"),
                               "--questions", str(tmp_path / "questions.csv"), "-q"], ROOT)
    assert heavy == []
    assert (tmp_path / "slices.csv.meta.json").exists() and (tmp_path / "questions.csv").stat().st_size > 0


@pytest.mark.parametrize("extra", [[], ["--accuracy-from", "p_correct"]])
def test_slice_of_a_dump_with_its_own_flops_to_stdout_imports_no_pandas(tmp_path, extra):
    rows = ["model,question,correct,p_correct,flops"] + [
        f"m{i},q{j},{(i + j) % 2},{0.1 + 0.08 * i},{10.0 ** (20 + i / 2)}" for i in range(8) for j in range(6)]
    (tmp_path / "dump.csv").write_text("\n".join(rows) + "\n")
    heavy, out = imported_after(["slice", "dump.csv", "--cut", "1e22", "-o", "-", "-q", *extra], tmp_path)
    assert heavy == []
    assert out.splitlines()[0].startswith("model,flops,accuracy,tc_brier,group_1")
