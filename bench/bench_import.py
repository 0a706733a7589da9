"""Benchmark: ``slicesand import`` of 0/1 response matrices against pyarrow's own CSV read (``make bench``).

Issue 11's target: importing a matrix takes at most 2x what ``pyarrow.csv.read_csv`` needs to read the
same file. Both are timed as whole processes (``python -c pass`` is timed too, as the floor every
process pays), side by side and interleaved ``--repeat`` times on this shared machine; medians are
reported. ``import`` also writes the long table (Parquet) and the models table, which the pyarrow
read does not; the ratio is of the whole wall times, nothing subtracted.

Matrices (seeded, 60% ones, a few empty cells), written to ``bench/_data/`` (gitignored):

- ``wide_12x41871``: 12 models as rows x 41,871 questions (the issue's case), cells ``1.0``/``0.0``;
- ``wide_48x41871``: 48 models as rows;
- ``tall_41871x48``: the same 48 models as columns, one line per question.

``lmeval_60x14000`` (issue 12: under 5 s) times the import of an lm-evaluation-harness tree of 60 models
x 14,000 questions (``bench/make_lmeval.py``, 852 MB of JSON Lines, in ``bench/_data/lmeval`` as
``bench.py`` makes it) against its floor: pyarrow's JSON reader parsing the same files in two processes,
keeping only the fields the import needs.

    python bench/bench_import.py [--repeat 5] [--only wide_12x41871|lmeval_60x14000]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parent / "_data" / "matrices"
SEED = 20261201
CASES = {"wide_12x41871": (12, 41871, "rows"), "wide_48x41871": (48, 41871, "rows"),
         "tall_41871x48": (48, 41871, "columns")}
TARGET_RATIO = 2.0
LMEVAL = "lmeval_60x14000"
LMEVAL_TARGET_S = 5.0
# The floor of the lm-eval import: the kept fields of every samples file, parsed in two processes.
LMEVAL_FLOOR = """
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
import pyarrow as pa, pyarrow.json as pj
SCHEMA = pa.schema([("doc_id", pa.int64()), ("filter", pa.string()), ("target", pa.string()),
                    ("filtered_resps", pa.list_(pa.list_(pa.string()))), ("acc", pa.float64())])
def rows(path):
    options = pj.ParseOptions(explicit_schema=SCHEMA, unexpected_field_behavior="ignore")
    return pj.read_json(path, read_options=pj.ReadOptions(use_threads=False), parse_options=options).num_rows
if __name__ == "__main__":
    with ProcessPoolExecutor(2) as pool:
        print(sum(pool.map(rows, sorted(Path(sys.argv[1]).rglob("samples_*.jsonl")))))
"""


def write_matrix(path: Path, n_models: int, n_questions: int, models_on: str) -> Path:
    """A 0/1 matrix with ids, models on ``models_on``; skipped when already written (same shape)."""
    stamp = path.with_suffix(".shape")
    shape = f"{n_models}x{n_questions}x{models_on}x{SEED}"
    if path.exists() and stamp.exists() and stamp.read_text() == shape:
        return path
    rng = np.random.default_rng(SEED)
    values = np.where(rng.random((n_models, n_questions)) < 0.6, "1.0", "0.0").astype(object)
    values[rng.random((n_models, n_questions)) < 0.001] = ""
    models = np.array([f"bench-org/model-{i:03d}" for i in range(n_models)], dtype=object)
    questions = np.array([f"item_{j:05d}" for j in range(n_questions)], dtype=object)
    if models_on == "rows":
        header, ids, grid = np.r_[["model"], questions], models, values
    else:
        header, ids, grid = np.r_[["question"], models], questions, values.T
    lines = [",".join(header)] + [",".join(row) for row in np.column_stack([ids, grid])]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    stamp.write_text(shape)
    return path


def wall_time(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def measure(path: Path, repeat: int, floor: list[str] | None = None) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as out:
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "pyarrow read": floor or [sys.executable, "-c", f"import pyarrow.csv as c; c.read_csv({str(path)!r})"],
            "slicesand import": [sys.executable, "-m", "slicesand", "import", str(path), "-o",
                                 str(Path(out) / "dump.parquet"), "-q"],
        }
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(repeat):  # interleaved, so a burst of load hits every command alike
            for name, command in commands.items():
                times[name].append(wall_time(command))
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--only", choices=sorted([*CASES, LMEVAL]))
    args = parser.parse_args()
    names = [args.only] if args.only else [*CASES, LMEVAL]
    print("| source | size | python -c pass | pyarrow read | slicesand import | import / pyarrow |")
    print("|---|---:|---:|---:|---:|---:|")
    met = True
    verdicts = []
    for name in names:
        if name == LMEVAL:
            sys.path.insert(0, str(Path(__file__).resolve().parent))
            from make_lmeval import ensure_tree

            tree = ensure_tree(DATA.parent / "lmeval")
            medians = measure(tree, args.repeat, floor=[sys.executable, "-c", LMEVAL_FLOOR, str(tree)])
            size = sum(f.stat().st_size for f in tree.rglob("samples_*.jsonl")) / 1e6
            seconds = medians["slicesand import"]
            print(f"| {name} (lm-eval JSONL) | {size:.0f} MB | {medians['python -c pass']:.2f} s "
                  f"| {medians['pyarrow read']:.2f} s | {seconds:.2f} s "
                  f"| {seconds / medians['pyarrow read']:.2f}x |")
            verdicts.append(f"lm-eval import < {LMEVAL_TARGET_S:g} s: {seconds:.2f} s "
                            f"({'met' if seconds < LMEVAL_TARGET_S else 'NOT met'})")
            continue
        n_models, n_questions, models_on = CASES[name]
        path = write_matrix(DATA / f"{name}.csv", n_models, n_questions, models_on)
        medians = measure(path, args.repeat)
        ratio = medians["slicesand import"] / medians["pyarrow read"]
        met &= ratio <= TARGET_RATIO
        print(f"| {name} | {path.stat().st_size / 1e6:.1f} MB | {medians['python -c pass']:.2f} s "
              f"| {medians['pyarrow read']:.2f} s | {medians['slicesand import']:.2f} s | {ratio:.2f}x |")
    if any(name in CASES for name in names):
        verdicts.insert(0, f"matrices: import <= {TARGET_RATIO:g}x pyarrow's read_csv ({'met' if met else 'NOT met'})")
    print(f"\nmedians of {args.repeat} interleaved whole-process runs; targets: " + "; ".join(verdicts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
