"""Startup of the ``slicesand`` command as whole processes, side by side with ``python -c pass``.

Runs each command several times, interleaved (so that a busy machine slows every command alike), and
prints the median wall time of each, its ratio to the bare interpreter, and the target:

- ``slicesand --version`` and ``slicesand --help``: under 0.15 s;
- ``slicesand slice`` on the sample data (40 models x 2,000 questions): under 0.6 s.

    python bench/bench_startup.py [--runs 7]

Uses the ``slicesand`` console script beside this interpreter (what a user runs), and only the
standard library.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _slicesand() -> list[str]:
    script = Path(sys.executable).with_name("slicesand")
    return [str(script)] if script.exists() else [sys.executable, "-m", "slicesand"]


def cases(out: Path) -> list[tuple[str, list[str], float | None]]:
    """(label, argv, target seconds)."""
    command = _slicesand()
    return [
        ("python -c pass", [sys.executable, "-c", "pass"], None),
        ("slicesand --version", [*command, "--version"], 0.15),
        ("slicesand --help", [*command, "--help"], 0.15),
        ("slicesand slice (sample data)", [*command, "slice", str(ROOT / "sample_data" / "eval_dump.csv"),
                                           "--models", str(ROOT / "sample_data" / "models.csv"), "--cut", "3e22",
                                           "-o", str(out / "slices.csv"), "-q"], 0.6),
    ]


def measure(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, cwd=ROOT,
                   env={**os.environ, "COLUMNS": "80"})
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="runs per command (default 7)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="slicesand-startup-") as tmp:
        table = cases(Path(tmp))
        for _, argv, _ in table:  # warm the file cache and bytecode once
            measure(argv)
        times: dict[str, list[float]] = {label: [] for label, _, _ in table}
        for _ in range(args.runs):
            for label, argv, _ in table:
                times[label].append(measure(argv))
    base = statistics.median(times["python -c pass"])
    print(f"Startup, median of {args.runs} interleaved runs (wall time, whole processes)\n")
    print("| command | median (s) | x python -c pass | target (s) | met |")
    print("|---|---|---|---|---|")
    for label, _, target in table:
        median = statistics.median(times[label])
        met = "" if target is None else ("yes" if median < target else "no")
        print(f"| {label} | {median:.3f} | {median / base:.2f} | {'' if target is None else target} | {met} |")


if __name__ == "__main__":
    main()
