"""Write the synthetic eval dumps that the benchmarks read, into ``bench/_data/`` (gitignored).

Two dumps, both Parquet, both seeded and fully vectorised (numpy draws whole blocks of models at
once; there is no Python loop over rows or questions)::

    mmlu_size.parquet     60 models x 14,000 questions =     840,000 rows (the size of MMLU)
    large.parquet      1,000 models x 30,000 questions =  30,000,000 rows

Columns: ``model``, ``question``, ``task`` (dictionary-encoded strings), ``correct`` (int8),
``p_correct`` (float32) and ``flops`` (float64, constant per model, so no models file is needed).

Rows are ordered by model (in increasing compute), then question. Each block of
:data:`MODELS_PER_ROW_GROUP` models becomes one Parquet row group and is generated, written and
dropped before the next, so peak memory stays well under 1 GB even for the large dump.

Usage, from the repository root::

    python bench/make_dumps.py                        # both dumps, skipping current ones already present
    python bench/make_dumps.py --only large --force   # regenerate one dump
    python bench/make_dumps.py --out-dir /tmp/dumps
    python bench/make_dumps.py --out-dir /tmp/dumps --only billion --files 40 --jobs 2   # 1e9 rows, a folder

or from Python: ``ensure_dumps(out_dir) -> {"mmlu_size": path, "large": path}``.

The numbers come from the same kind of generative model as ``sample_data/generate.py`` (see its
docstring) with the same constants, reduced to what a benchmark needs (no model families, no
per-model confidence): every question has a hidden hardness; the correct choice's logit grows
with ``log10(FLOPs)`` and jumps late, one distractor is a trap that catches models of some size
(small ones on hard questions, mid-size ones on easy questions), and Gaussian noise is added per
(question, choice) and per (model, question, choice). So the data have the emergence shape the
pipeline looks for, and a benchmark exercises the same code paths as a real dump.
"""

# No `from __future__ import annotations`: with it, the dataclasses below break when this file is
# loaded through importlib without being registered in sys.modules (as a benchmark script may do).
import argparse
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

#: Seed of every draw; the data of a dump depend only on it, on the dump's shape and on the version.
SEED = 20250125
#: Bump when the generated numbers change: ensure_dumps regenerates files written by another version.
GENERATOR_VERSION = 2
#: Parquet key-value metadata entry recording what produced a file.
PROVENANCE_KEY = b"slicesand_bench_dump"
N_CHOICES = 4
TASK = "bench_mc"
X_MIN, X_MAX = 19.0, 24.0  # log10 FLOPs range of the model zoo, as in sample_data
#: Models generated (and written as one row group) at a time: 32 x 30,000 questions is 0.96 M rows,
#: about 40 MB of float32 working arrays, a good Parquet row-group size.
MODELS_PER_ROW_GROUP = 32
DEFAULT_OUT_DIR = Path(__file__).resolve().parent / "_data"


@dataclass(frozen=True)
class DumpSpec:
    """Shape of one synthetic dump."""

    n_models: int
    n_questions: int


DUMPS: dict[str, DumpSpec] = {
    "mmlu_size": DumpSpec(n_models=60, n_questions=14_000),
    "large": DumpSpec(n_models=1_000, n_questions=30_000),
    # make bench-big only: 150M rows, the size of the Open LLM Leaderboard's details (~1 GB on disk)
    "huge": DumpSpec(n_models=3_000, n_questions=50_000),
    # by hand only (--files N writes it as a folder): 1e9 rows, ~6.7 GB on disk
    "billion": DumpSpec(n_models=20_000, n_questions=50_000),
}

SCHEMA = pa.schema(
    [
        ("model", pa.dictionary(pa.int32(), pa.string())),
        ("question", pa.dictionary(pa.int32(), pa.string())),
        ("task", pa.dictionary(pa.int32(), pa.string())),
        ("correct", pa.int8()),
        ("p_correct", pa.float32()),
        ("flops", pa.float64()),
    ]
)


@dataclass(frozen=True)
class QuestionTraits:
    """Per-question hidden parameters, each an array of length n_questions (float32)."""

    head_start: np.ndarray  # correct-choice logit offset, larger for easy questions
    cue_gain: np.ndarray  # correct-logit gain small models pick up between 1e19 and 3e20 FLOPs
    steady_slope: np.ndarray  # correct-logit gain per decade of compute
    trap_strength: np.ndarray  # peak logit of the trap distractor
    trap_x: np.ndarray  # log10 FLOPs where the trap peaks: early for hard questions, late for easy
    mastery_x: np.ndarray  # log10 FLOPs where the question is half-way to mastered
    choice_quirks: np.ndarray  # (n_questions, N_CHOICES) offsets every model sees


def draw_question_traits(rng: np.random.Generator, n_questions: int) -> QuestionTraits:
    """Hidden hardness h ~ U(0, 1) (0 = easiest) and the per-question traits that follow from it.

    The constants are those of sample_data/generate.py, so both data sets have the same shape.
    """
    f32 = np.float32
    hardness = rng.uniform(0.0, 1.0, n_questions).astype(f32)
    ease = f32(1.0) - hardness
    normal = lambda sd, shape=n_questions: rng.normal(0.0, sd, shape).astype(f32)  # noqa: E731
    return QuestionTraits(
        head_start=f32(0.1) + f32(0.2) * ease + normal(0.3),
        cue_gain=f32(1.3) * ease,
        steady_slope=f32(0.03) + f32(0.08) * ease,
        trap_strength=f32(2.6) + normal(0.4),
        trap_x=f32(19.5) + f32(3.4) * ease + normal(0.2),
        mastery_x=f32(22.8) + f32(2.8) * hardness + normal(0.3),
        choice_quirks=normal(0.4, (n_questions, N_CHOICES)),
    )


def model_compute(n_models: int, rng: np.random.Generator) -> np.ndarray:
    """log10 FLOPs of each model: evenly spread over [X_MIN, X_MAX] with a little jitter, sorted."""
    x = np.linspace(X_MIN, X_MAX, n_models) + rng.normal(0.0, 0.5 * (X_MAX - X_MIN) / n_models, n_models)
    return np.sort(np.clip(x, X_MIN, X_MAX))


def simulate_block(x: np.ndarray, traits: QuestionTraits, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``(correct int8, p_correct float32)``, each of shape (len(x), n_questions), for one block of models."""
    f32 = np.float32
    # Effective scale: the model's compute plus its own luck (recipes differ at equal compute).
    xe = (x + rng.normal(0.0, 0.06, len(x))).astype(f32)[:, None]
    cue = traits.cue_gain * np.clip((xe - f32(19.0)) / f32(1.5), f32(0.0), f32(1.0))
    mastery = f32(2.7) / (f32(1.0) + np.exp((traits.mastery_x - xe) / f32(0.18)))
    logits = rng.standard_normal((len(x), traits.head_start.size, N_CHOICES), dtype=f32)
    logits *= f32(0.7)
    logits += traits.choice_quirks
    logits[:, :, 0] += traits.head_start + cue + traits.steady_slope * (xe - f32(X_MIN)) + mastery
    logits[:, :, 1] += traits.trap_strength * np.exp(f32(-0.5) * ((xe - traits.trap_x) / f32(1.0)) ** 2)
    # Choice 0 is the correct one; only it is reported, so its position needs no shuffling.
    correct = (logits.argmax(axis=-1) == 0).astype(np.int8)
    logits -= logits.max(axis=-1, keepdims=True)  # stable softmax
    np.exp(logits, out=logits)
    p_correct = logits[:, :, 0] / logits.sum(axis=-1)
    return correct, p_correct


def provenance(spec: DumpSpec, seed: int = SEED) -> bytes:
    """What a dump file records about its making; a file is current when this matches."""
    return json.dumps({"generator_version": GENERATOR_VERSION, "seed": seed, "n_models": spec.n_models,
                       "n_questions": spec.n_questions}, sort_keys=True).encode()


def is_current(path: Path, spec: DumpSpec, seed: int = SEED) -> bool:
    """True when ``path`` exists and was written by this generator version with this seed and shape."""
    try:
        metadata = pq.read_schema(path).metadata or {}
    except (OSError, pa.ArrowInvalid):  # missing, or not a readable Parquet file
        return False
    return metadata.get(PROVENANCE_KEY) == provenance(spec, seed)


def write_dump(path: Path, spec: DumpSpec, seed: int = SEED, blocks: range | None = None) -> Path:
    """Generate one dump (or only the model ``blocks`` given: one file of a folder) and write it to
    ``path`` (through a temporary file, renamed at the end)."""
    schema = SCHEMA.with_metadata({PROVENANCE_KEY: provenance(spec, seed)})
    n_blocks = -(-spec.n_models // MODELS_PER_ROW_GROUP)
    # One stream for the zoo and questions, one per block: a block's numbers do not depend on the others.
    setup_seed, *block_seeds = np.random.SeedSequence([seed, spec.n_models, spec.n_questions]).spawn(1 + n_blocks)
    setup_rng = np.random.default_rng(setup_seed)
    x = model_compute(spec.n_models, setup_rng)
    traits = draw_question_traits(setup_rng, spec.n_questions)

    width = len(str(spec.n_models - 1))
    model_names = pa.array([f"bench-org/model-{i:0{width}d}" for i in range(spec.n_models)], pa.string())
    question_ids = pa.array([f"q{j:05d}" for j in range(1, spec.n_questions + 1)], pa.string())
    task_dictionary = pa.array([TASK], pa.string())
    question_codes = np.arange(spec.n_questions, dtype=np.int32)

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    try:
        with pq.ParquetWriter(tmp, schema) as writer:
            for block in blocks if blocks is not None else range(n_blocks):
                first = block * MODELS_PER_ROW_GROUP
                models = np.arange(first, min(first + MODELS_PER_ROW_GROUP, spec.n_models), dtype=np.int32)
                correct, p_correct = simulate_block(x[models], traits, np.random.default_rng(block_seeds[block]))
                n_rows = correct.size
                table = pa.Table.from_arrays(
                    [
                        pa.DictionaryArray.from_arrays(np.repeat(models, spec.n_questions), model_names),
                        pa.DictionaryArray.from_arrays(np.tile(question_codes, len(models)), question_ids),
                        pa.DictionaryArray.from_arrays(np.zeros(n_rows, dtype=np.int32), task_dictionary),
                        pa.array(correct.ravel()),
                        pa.array(p_correct.ravel()),
                        pa.array(np.repeat(10.0 ** x[models], spec.n_questions)),
                    ],
                    schema=schema,
                )
                writer.write_table(table, row_group_size=n_rows)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def write_dump_folder(folder: Path, spec: DumpSpec, n_files: int, seed: int = SEED, jobs: int = 1) -> Path:
    """The same dump as :func:`write_dump`, as a folder of ``n_files`` Parquet files (each a run of
    whole model blocks), written block by block, so memory stays that of one block whatever the size;
    ``jobs`` processes write files side by side. The folder is one dump to ``slicesand slice``."""
    from concurrent.futures import ProcessPoolExecutor

    n_blocks = -(-spec.n_models // MODELS_PER_ROW_GROUP)
    if not 1 <= n_files <= n_blocks:
        raise ValueError(f"n_files must be between 1 and {n_blocks} (the model blocks) for this dump")
    bounds = np.linspace(0, n_blocks, n_files + 1).astype(int)
    width = len(str(n_files - 1))
    parts = [(folder / f"part-{i:0{width}d}.parquet", range(bounds[i], bounds[i + 1])) for i in range(n_files)]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(write_dump, [p for p, _ in parts], [spec] * n_files, [seed] * n_files, [b for _, b in parts]))
    return folder


def ensure_dumps(out_dir: str | os.PathLike = DEFAULT_OUT_DIR, only: list[str] | None = None,
                 force: bool = False, verbose: bool = False) -> dict[str, Path]:
    """Make sure every dump exists in ``out_dir``; generate only the missing ones (or all, with ``force``).

    Returns ``{name: path}`` for the requested dumps (all of :data:`DUMPS` by default). A present
    file is kept when its Parquet metadata says it came from this generator version, seed and
    shape (a cheap footer read); otherwise it is regenerated. Files are only ever renamed into
    place once complete, so a present file is never half-written.
    """
    names = [n for n in DUMPS if n not in ("huge", "billion")] if only is None else only  # the big ones: only when asked
    unknown = sorted(set(names) - set(DUMPS))
    if unknown:
        raise ValueError(f"unknown dump name(s) {unknown}; expected some of {sorted(DUMPS)}")
    out_dir = Path(out_dir)
    paths = {}
    for name in names:
        path = out_dir / f"{name}.parquet"
        if force or not is_current(path, DUMPS[name]):
            stale = path.exists()
            start = time.perf_counter()
            write_dump(path, DUMPS[name])
            if verbose:
                spec = DUMPS[name]
                print(f"{path}: {'regenerated (stale), ' if stale and not force else ''}"
                      f"{spec.n_models} models x {spec.n_questions} questions, "
                      f"{path.stat().st_size / 1e6:.1f} MB, {time.perf_counter() - start:.1f} s")
        elif verbose:
            print(f"{path}: present and current, skipped")
        paths[name] = path
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the synthetic benchmark dumps (skips current ones already present).")
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT_DIR, help=f"default: {DEFAULT_OUT_DIR}")
    parser.add_argument("--only", choices=sorted(DUMPS), action="append",
                        help="generate only this dump (repeatable)")
    parser.add_argument("--force", action="store_true", help="regenerate even if the file exists")
    parser.add_argument("--files", type=int, metavar="N",
                        help="write each --only dump as a folder NAME/ of N Parquet files, streamed block by block")
    parser.add_argument("--jobs", type=int, default=1, help="processes writing files side by side (with --files)")
    args = parser.parse_args(argv)
    if args.files:
        if not args.only:
            parser.error("--files needs --only NAME")
        for name in args.only:
            start = time.perf_counter()
            folder = write_dump_folder(args.out_dir / name, DUMPS[name], args.files, jobs=args.jobs)
            size = sum(f.stat().st_size for f in folder.iterdir())
            print(f"{folder}/: {args.files} files, {DUMPS[name].n_models} models x {DUMPS[name].n_questions} "
                  f"questions, {size / 1e9:.2f} GB, {time.perf_counter() - start:.1f} s")
        return 0
    ensure_dumps(args.out_dir, only=args.only, force=args.force, verbose=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
