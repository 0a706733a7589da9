"""Benchmark: time and peak memory of ``slice`` and ``run`` on synthetic dumps (``make bench``).

Each measurement runs in a fresh Python process (so peak memory is that stage's own), imports first,
and then times only the work. Every stage is measured ``--repeat`` times, interleaved with a plain
``pyarrow.parquet.read_table`` of the same file, and the best time is kept: this machine is shared and
noisy, so the ratio to pyarrow measured in the same run is the number to trust.

Targets (issue 2, on a 2-core machine): ``slice`` and ``run`` under 1 s on the MMLU-size dump and under
30 s on the 30-million-row dump, and at most 3 times what pyarrow alone needs to read the file. Also
timed: ``run`` with its defaults (figures, 1000 bootstrap draws), and importing 60 models x 14,000
questions of lm-evaluation-harness JSONL (issue 4: well under a minute).

    python bench/bench.py                 # both dumps
    python bench/bench.py --only mmlu_size --repeat 5
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

TARGETS = {"mmlu_size": 1.0, "large": 30.0}
STAGES = ("pyarrow_read", "slice", "run", "run_defaults")
IMPORT_TARGET = 60.0  # seconds for 60 models x 14,000 questions of lm-eval JSONL ("well under a minute")
MAX_RATIO = 3.0


def measure(stage: str, path: str) -> dict:
    """Run one stage once in this process; return seconds and peak resident memory (MB)."""
    import pyarrow.parquet as pq

    from slicesand.config import run_config
    from slicesand.pipeline.stages import run_all, slice_stage, write_slice_stage
    from slicesand.slicing.difficulty import SliceOptions

    cut = 3e22
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        if stage == "pyarrow_read":
            pq.read_table(path)
        elif stage == "slice":
            write_slice_stage(slice_stage(path, SliceOptions(cut=cut)), Path(tmp) / "slices.csv")
        elif stage == "run":  # the pipeline itself: slice, fit, predict, report text
            run_all(path, Path(tmp) / "out", run_config(cut=cut, at=[1e24], figures=False, bootstrap=0))
        elif stage == "run_defaults":  # what `slicesand run` does by default: + figures, 1000 bootstrap draws
            run_all(path, Path(tmp) / "out", run_config(cut=cut, at=[1e24]))
        elif stage == "import":
            from slicesand.ingest.importers import read_source
            read_source(path)
        else:
            raise SystemExit(f"unknown stage {stage}")
        seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": seconds, "peak_mb": peak_mb}


def _in_subprocess(stage: str, path: Path) -> dict:
    out = subprocess.run([sys.executable, __file__, "--measure", stage, str(path)],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=sorted(TARGETS) + ["lmeval"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--measure", nargs=2, metavar=("STAGE", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(*args.measure)))
        return

    from make_dumps import ensure_dumps
    from make_lmeval import ensure_tree

    names = [args.only] if args.only else [*TARGETS, "lmeval"]
    dumps = ensure_dumps(HERE / "_data") if set(names) & set(TARGETS) else {}
    rows = []
    for name in names:
        if name == "lmeval":
            tree = ensure_tree()
            best = min((_in_subprocess("import", tree) for _ in range(args.repeat)), key=lambda r: r["seconds"])
            rows.append((name, "import", best["seconds"], best["peak_mb"], float("nan"),
                         "ok" if best["seconds"] < IMPORT_TARGET else "MISSED"))
            continue
        path = Path(dumps[name])
        best: dict[str, dict] = {}
        for _ in range(args.repeat):
            for stage in STAGES:  # interleaved, so machine noise hits every stage alike
                result = _in_subprocess(stage, path)
                if stage not in best or result["seconds"] < best[stage]["seconds"]:
                    best[stage] = result
        read = best["pyarrow_read"]["seconds"]
        for stage in STAGES:
            seconds = best[stage]["seconds"]
            ratio = seconds / read
            verdict = ""
            if stage in ("slice", "run"):
                verdict = (f"{'ok' if seconds < TARGETS[name] else 'MISSED'} time, "
                           f"{'ok' if ratio <= MAX_RATIO else 'MISSED'} ratio")
            rows.append((name, stage, seconds, best[stage]["peak_mb"], ratio, verdict))
    print(f"{'dump':<10} {'stage':<13} {'best s':>8} {'peak MB':>9} {'x pyarrow':>10}  target")
    for name, stage, seconds, peak, ratio, verdict in rows:
        print(f"{name:<10} {stage:<13} {seconds:>8.2f} {peak:>9.0f} {ratio:>10.2f}  {verdict}")
    print(f"(best of {args.repeat}; targets: slice and run < {TARGETS} s and <= {MAX_RATIO}x pyarrow's read; "
          f"lm-eval import < {IMPORT_TARGET:.0f} s; run_defaults adds figures and 1000 bootstrap draws)")


if __name__ == "__main__":
    main()
