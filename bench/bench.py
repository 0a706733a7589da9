"""Benchmark whole processes (``make bench``; ``make bench-big`` adds the 150M-row dump).

Every measurement is one fresh process, timed from spawn to exit, with its peak resident memory from
``/usr/bin/time -f %M`` (the process's own maximum resident set). Beside slicesand's commands, the same run measures the
floors: ``python -c pass`` (interpreter start), pyarrow's read of the whole file, and a bare DuckDB
process running the very SQL ``slicesand slice --emit-sql`` prints (the same slices, nothing else).
Commands are interleaved round by round, and the median of ``--repeat`` rounds is kept: the machine is
shared, so ratios measured in the same run are the numbers to trust, not absolute seconds.

Targets (issue 12, this 2-core machine): ``slice`` within 1.5x of the bare DuckDB query at 30M and 150M
rows; peak memory under 1 GB on the 150M-row dump for ``slice`` and ``run --bootstrap 0``; a default
``run`` (figures, 1,000 draws) on 60 x 14k under 3 s; lm-eval import of 60 x 14k under 5 s.

    python bench/bench.py --data-dir /tmp/perf                 # 0.84M and 30M rows, and the import
    python bench/bench.py --data-dir /tmp/perf --big           # + 150M rows (slice, run --bootstrap 0, floors)
    python bench/bench.py --only mmlu_size --repeat 5 --table bench/RESULTS.md
    python bench/bench.py --data-dir /tmp/perf --billion --repeat 1 --table /tmp/billion.md  # 1e9 rows

``--billion`` (``make bench-billion``) times ``slice`` on a 1e9-row folder of 40 Parquet files (6.7 GB of
disk; writing it takes about 5 minutes on both cores) beside the bare DuckDB query on the same folder.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

CUT = "3e22"
SLICE_RATIO_TARGET = 1.5  # slice vs the bare DuckDB query, at 30M and 150M rows
MEMORY_TARGET_MB = 1000  # slice and run --bootstrap 0 at 150M rows
RUN_TARGET_S = 3.0  # default run at 60 x 14k
IMPORT_TARGET_S = 5.0  # lm-eval import at 60 x 14k
BILLION_TARGET_S, BILLION_MEMORY_MB = 120.0, 2000  # slice of the 1e9-row folder
BILLION_FILES = 40

BARE_DUCKDB = """
import os, sys, duckdb
path, script = sys.argv[1], open(sys.argv[2]).read()
connection = duckdb.connect()
source = f"{path}/*.parquet" if os.path.isdir(path) else path  # a folder of files is one dump
connection.execute(f"CREATE VIEW dump AS SELECT * FROM read_parquet('{source}')")
for statement in [s for s in script.split(";") if "SELECT" in s]:
    connection.execute(statement).fetchall()
"""


def timed(command: list[str]) -> tuple[float, float]:
    """(seconds, peak MB) of one process, which must succeed. ``/usr/bin/time`` reports the peak (its
    child's own maximum resident set: a child forked from this big process would count our pages)."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        start = time.perf_counter()
        done = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", report.name, *command],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        seconds = time.perf_counter() - start
        if done.returncode != 0:
            raise SystemExit(f"failed ({done.returncode}): {' '.join(command)}\n{done.stderr}")
        return seconds, int(report.read().split()[-1]) / 1024


def compile_package() -> None:
    """Compile slicesand's bytecode before timing it, as pip does for a regular install (``make bytecode``):
    an editable install leaves it to the first run, and under PYTHONDONTWRITEBYTECODE every process would
    compile every module again, which is not what a user's installed tool costs."""
    import importlib.util

    package = importlib.util.find_spec("slicesand").submodule_search_locations[0]
    subprocess.run([sys.executable, "-m", "compileall", "-q", package], check=True, stdout=subprocess.DEVNULL)


def commands(dump: Path, work: Path, sql: Path, *, runs: bool, big: bool = False) -> dict[str, list[str]]:
    """The processes measured on one dump; ``big`` (150M rows): ``run --bootstrap 0`` with and without
    figures in place of the default run (whose 1,000 draws on a subset of questions are not a target there)."""
    python, slicesand = sys.executable, str(Path(sys.executable).with_name("slicesand"))
    out = {
        "python -c pass": [python, "-c", "pass"],
        "pyarrow read": [python, "-c", f"import pyarrow.parquet as pq; pq.read_table({str(dump)!r})"],
        "bare DuckDB query": [python, "-c", BARE_DUCKDB, str(dump), str(sql)],
        "slicesand --version": [slicesand, "--version"],
        "slice": [slicesand, "slice", str(dump), "--cut", CUT, "-o", str(work / "slices.csv"), "--quiet"],
    }
    if runs:
        out["run --bootstrap 0 --no-figures"] = [slicesand, "run", str(dump), "--cut", CUT, "--at", "1e24",
                                                 "-o", str(work / "run0"), "--bootstrap", "0", "--no-figures",
                                                 "--quiet"]
        if big:
            out["run --bootstrap 0 (figures)"] = [slicesand, "run", str(dump), "--cut", CUT, "--at", "1e24",
                                                  "-o", str(work / "run"), "--bootstrap", "0", "--quiet"]
        else:
            out["run (defaults: figures, 1000 draws)"] = [slicesand, "run", str(dump), "--cut", CUT, "--at", "1e24",
                                                          "-o", str(work / "run"), "--quiet"]
    return out


def measure(named: dict[str, list[str]], repeat: int, work: Path) -> dict[str, tuple[float, float]]:
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in named}
    for _ in range(repeat):  # interleaved: machine noise hits every command alike
        for name, command in named.items():
            samples[name].append(timed(command))
            for folder in ("run", "run0"):
                shutil.rmtree(work / folder, ignore_errors=True)
    return {name: (statistics.median(s for s, _ in got), max(m for _, m in got)) for name, got in samples.items()}


def ensure_folder(folder: Path, spec) -> Path:
    """The dump as a folder of :data:`BILLION_FILES` Parquet files, written only when a file is missing or stale."""
    from make_dumps import is_current, write_dump_folder

    parts = sorted(folder.glob("part-*.parquet"))
    if len(parts) != BILLION_FILES or not all(is_current(part, spec) for part in parts):
        shutil.rmtree(folder, ignore_errors=True)
        print(f"writing {folder}/ ({spec.n_models * spec.n_questions:.0e} rows, about 5 minutes)...", file=sys.stderr)
        write_dump_folder(folder, spec, BILLION_FILES, jobs=os.cpu_count() or 1)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=HERE / "_data", help="where the dumps are made")
    parser.add_argument("--only", action="append", help="mmlu_size, large, huge or lmeval (repeatable)")
    parser.add_argument("--big", action="store_true", help="also the 150M-row dump (about 1 GB on disk)")
    parser.add_argument("--billion", action="store_true",
                        help=f"only the 1e9-row folder of {BILLION_FILES} Parquet files (6.7 GB): slice and the bare query")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--table", type=Path, default=HERE / "RESULTS.md", help="write the Markdown table here")
    args = parser.parse_args()

    from make_dumps import DUMPS, ensure_dumps
    from make_lmeval import ensure_tree

    compile_package()

    names = ["billion"] if args.billion else args.only or ["mmlu_size", "large", *(["huge"] if args.big else []), "lmeval"]
    load_before = os.getloadavg()[0]  # the machine is shared: the table states the load it was measured under
    rows: list[tuple[str, str, float, float, str]] = []
    verdicts: list[str] = []
    with tempfile.TemporaryDirectory(prefix="slicesand-bench-") as tmp:
        work = Path(tmp)
        for name in names:
            if name == "lmeval":
                tree = ensure_tree(args.data_dir / "lmeval")
                result = measure({"import": [str(Path(sys.executable).with_name("slicesand")), "import", str(tree),
                                             "-o", str(work / "imported.parquet"), "--quiet"]}, args.repeat, work)
                seconds, peak = result["import"]
                rows.append(("lm-eval JSONL 60 x 14k", "import", seconds, peak, ""))
                verdicts.append(f"lm-eval import < {IMPORT_TARGET_S:g} s: {seconds:.2f} s, "
                                f"{'met' if seconds < IMPORT_TARGET_S else 'NOT met'}")
                continue
            spec = DUMPS[name]
            if name == "billion":
                dump = ensure_folder(args.data_dir / name, spec)
            else:
                dump = ensure_dumps(args.data_dir, only=[name])[name]
            label = f"{spec.n_models:,} x {spec.n_questions:,} ({spec.n_models * spec.n_questions / 1e6:g}M rows)"
            sql = work / f"{name}.sql"
            sql.write_text(subprocess.run([str(Path(sys.executable).with_name("slicesand")), "slice", str(dump),
                                           "--cut", CUT, "--emit-sql"], check=True, capture_output=True,
                                          text=True).stdout)
            named = commands(dump, work, sql, runs=name != "billion", big=name == "huge")
            if name == "billion":  # reading 6.7 GB into pyarrow is no floor worth 20 GB of memory
                named.pop("pyarrow read")
            result = measure(named, args.repeat, work)
            floor = result["bare DuckDB query"][0]
            for stage, (seconds, peak) in result.items():
                rows.append((label, stage, seconds, peak, f"{seconds / floor:.2f}"))
            label_short = f"{spec.n_models * spec.n_questions / 1e6:g}M"
            ratio = result["slice"][0] / floor
            if name in ("large", "huge"):
                verdicts.append(f"slice within {SLICE_RATIO_TARGET}x of the bare DuckDB query at {label_short}: "
                                f"{ratio:.2f}x, {'met' if ratio <= SLICE_RATIO_TARGET else 'NOT met'}")
            if name == "huge":
                for stage in ("slice", "run --bootstrap 0 --no-figures", "run --bootstrap 0 (figures)"):
                    peak = result[stage][1]
                    verdicts.append(f"{stage} peak memory < {MEMORY_TARGET_MB} MB at 150M: {peak:.0f} MB, "
                                    f"{'met' if peak < MEMORY_TARGET_MB else 'NOT met'}")
            if name == "billion":
                seconds, peak = result["slice"]
                verdicts.append(f"slice of the 1e9-row folder < {BILLION_TARGET_S:g} s and {BILLION_MEMORY_MB} MB: "
                                f"{seconds:.1f} s, {peak:.0f} MB, "
                                f"{'met' if seconds < BILLION_TARGET_S and peak < BILLION_MEMORY_MB else 'NOT met'}")
            if name == "mmlu_size":
                seconds = result["run (defaults: figures, 1000 draws)"][0]
                verdicts.append(f"default run at 60 x 14k < {RUN_TARGET_S:g} s: {seconds:.2f} s, "
                                f"{'met' if seconds < RUN_TARGET_S else 'NOT met'}")
    lines = ["| dump | process | median s | peak MB | x bare DuckDB |", "|---|---|---:|---:|---:|"]
    previous = None
    for label, stage, seconds, peak, ratio in rows:
        lines.append(f"| {label if label != previous else ''} | {stage} | {seconds:.2f} | {peak:.0f} | {ratio} |")
        previous = label
    text = "\n".join(lines) + "\n\n" + "\n".join(f"- {v}" for v in verdicts) + "\n"
    text += (f"\n(median of {args.repeat} interleaved rounds, whole processes; peak memory is the process's own "
             f"maximum resident set; {os.cpu_count()} cores, shared with other work while measured: load average "
             f"{load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end)\n")
    print(text)
    args.table.write_text(text)


if __name__ == "__main__":
    main()
