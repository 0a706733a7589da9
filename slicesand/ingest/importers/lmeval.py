"""Read lm-evaluation-harness ``--log_samples`` output into the long table.

Layouts understood (all found by walking the given directory; a single samples file works too):

- v0.4.3 and later: ``<output_path>/<model_name_sanitized>/samples_<task>_<timestamp>.jsonl`` (one
  JSON object per line) beside ``results_<timestamp>.json``; with ``--output_path x.json`` the same
  files sit directly in the output directory and the results file is ``x_<timestamp>.json``.
  Numbers inside ``resps``/``filtered_resps`` are written as strings (``[["-1.23", "False"], ...]``)
  and ``target`` is stringified.
- v0.4.2: the same tree, but ``samples_<task>_<timestamp>.json`` holds a pretty-printed JSON array.
- v0.4.0-v0.4.1: ``<output_path>/results.json`` beside ``<model_args>_<task>.jsonl`` (a pretty-printed
  JSON array despite the name; ``/`` and ``=`` of the model args replaced by ``__``).

Per record:

- multiple choice (one log-likelihood per choice): ``correct`` is whether the argmax of the
  log-likelihoods is the gold choice (the harness's ``acc``), or of the log-likelihoods divided by
  the choice's length in characters for ``metric="acc_norm"`` (the harness's ``acc_norm``);
  ``p_correct`` is the softmax of the same scores at the gold choice(s).
- anything else (generation, single log-likelihood): ``correct`` from the logged 0/1 metric
  (``exact_match`` first), ``p_correct`` null.

>>> from pathlib import Path
>>> output = read_lmeval(Path("tests/fixtures/importers/lmeval_v043_nested"), ImportOptions())  # doctest: +SKIP
"""

from __future__ import annotations

import gc
import os
import re
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa

from slicesand.errors import InputDataError, SlicesandError
from slicesand.ingest.importers._common import (
    ImportOptions,
    Notes,
    ReaderOutput,
    empty_dump,
    make_dump,
    pad_ragged,
    read_bytes,
    score_choices,
)
from slicesand.ingest.known_models import sanitize_model_name
from slicesand.io.tables import format_suffix, read_head

# datetime.now().isoformat() with ":" replaced by "-", as the harness names its files.
_TIMESTAMP = r"\d{4}-\d{2}-\d{2}T[0-9.\-]+"
_SAMPLES_NAME = re.compile(
    rf"^samples_(?P<task>.+?)(?:_(?P<timestamp>{_TIMESTAMP}))?\.(?:jsonl?|jsonlines|ndjson)(?:\.gz|\.zstd?|\.bz2)?$"
)
_LINES_SUFFIXES = (".jsonl", ".jsonlines", ".ndjson")
_TIMESTAMPED_JSON = re.compile(rf"^(?P<stem>.+?)_(?P<timestamp>{_TIMESTAMP})\.json$")

# Per-record metrics that are 0/1 and mean "answered correctly", in order of preference.
DEFAULT_CORRECT_METRICS = ("exact_match", "acc", "quasi_exact_match", "em")

# Harness task families whose subtasks are named <family>_<subject>; used for group_subtasks only
# when the results file gives no group information. Longest prefix wins (mmlu_pro before mmlu).
KNOWN_TASK_FAMILIES = ("mmlu_pro", "cmmlu", "kmmlu", "mmlu", "blimp", "bbh", "agieval", "bigbench", "arabicmmlu")

# Below this many bytes of samples files, starting worker processes costs more than it saves.
PARALLEL_BYTES = 64 << 20

# Keys of model_args that name the model, in the harness's own order of precedence.
_MODEL_ARG_KEYS = ("peft", "delta", "pretrained", "model", "path", "engine")


@dataclass(frozen=True)
class RunInfo:
    """What one results JSON says about its run."""

    path: Path
    timestamp: str | None
    model: str | None
    params: float | None
    parents: dict[str, str] = field(default_factory=dict)
    target_delimiters: dict[str, str] = field(default_factory=dict)
    tasks: tuple[str, ...] = ()


@dataclass(frozen=True)
class SamplesFile:
    """One samples file, with the task and model it belongs to."""

    path: Path
    task: str
    timestamp: str | None
    model: str
    run: RunInfo | None
    model_from_directory: bool = False


def read_lmeval(path: Path, options: ImportOptions) -> ReaderOutput:
    """Read every samples file under ``path`` (or the single file ``path``) into a long table."""
    notes = Notes()
    files = _discover(path, notes)
    if not files:
        raise InputDataError(
            str(path),
            "no lm-evaluation-harness samples files found",
            hint="point at the --output_path of an lm_eval run made with --log_samples",
        )
    files = _canonical_model_names(files)
    files = _newest_run_per_task(files, notes)

    tables = _read_samples_files(files, options, notes)
    model_params: dict[str, float] = {}
    for samples in files:
        if samples.run is not None and samples.run.params is not None:
            model_params.setdefault(samples.model, samples.run.params)
    dump = pa.concat_tables(tables) if tables else empty_dump()
    if options.group_subtasks:
        dump = _group_subtasks(dump, files, notes)
    return ReaderOutput(dump=dump, model_params=model_params, notes=notes.render())


# --------------------------------------------------------------------------------------------
# Finding files


def looks_like_lmeval(path: Path) -> bool:
    """Whether ``path`` is, or holds, lm-eval output (by file names, and a peek into a lone file)."""
    if path.is_file():
        return bool(_SAMPLES_NAME.match(path.name)) or _first_record_has(path, "doc_id")
    for candidate in path.rglob("samples_*"):
        if _SAMPLES_NAME.match(candidate.name):
            return True
    return any(_is_results_json(candidate) for candidate in path.rglob("results*.json"))


def _first_record_has(path: Path, key: str) -> bool:
    try:
        head = read_head(path, 4096)
    except InputDataError:
        return False
    return f'"{key}"'.encode() in head


def _is_results_json(path: Path) -> bool:
    try:
        data = orjson.loads(path.read_bytes())
    except (orjson.JSONDecodeError, OSError):
        return False
    return isinstance(data, dict) and "results" in data


def _discover(root: Path, notes: Notes) -> list[SamplesFile]:
    if not root.exists():
        raise InputDataError(str(root), "no such file or directory")
    if root.is_file():
        directories = {root.parent: [root]}
    else:
        directories = {}
        for candidate in sorted(root.rglob("*")):
            if candidate.is_file() and format_suffix(candidate) in (".json", *_LINES_SUFFIXES):
                directories.setdefault(candidate.parent, []).append(candidate)
    found: list[SamplesFile] = []
    for directory, candidates in directories.items():
        found.extend(_discover_in_directory(directory, candidates, notes))
    return found


def _discover_in_directory(directory: Path, candidates: list[Path], notes: Notes) -> list[SamplesFile]:
    runs = _read_results_files(directory)
    runs_by_timestamp = {run.timestamp: run for run in runs}
    found = []
    for candidate in candidates:
        match = _SAMPLES_NAME.match(candidate.name)
        if match:
            found.append(_timestamped_samples(candidate, match, runs, runs_by_timestamp, notes))
        elif format_suffix(candidate) in _LINES_SUFFIXES:
            old_style = _pre_043_samples(candidate, runs, notes)
            if old_style is not None:
                found.append(old_style)
        elif not any(run.path == candidate for run in runs):
            notes.add(
                "ignored JSON files that are neither lm-eval samples nor results",
                group="ignored-json",
                subject=str(candidate),
            )
    return found


def _read_results_files(directory: Path) -> list[RunInfo]:
    runs = []
    for candidate in sorted(directory.glob("*.json")):
        if _SAMPLES_NAME.match(candidate.name):
            continue
        try:
            data = orjson.loads(read_bytes(candidate))
        except orjson.JSONDecodeError as error:
            if candidate.name.startswith("results"):
                raise InputDataError(str(candidate), f"results file is not valid JSON ({error})") from None
            continue
        if isinstance(data, dict) and "results" in data:
            timestamp_match = _TIMESTAMPED_JSON.match(candidate.name)
            runs.append(_run_info(candidate, data, timestamp_match["timestamp"] if timestamp_match else None))
    return runs


def _run_info(path: Path, data: dict, timestamp: str | None) -> RunInfo:
    config = data.get("config") if isinstance(data.get("config"), dict) else {}
    model = data.get("model_name") or _model_from_args(config.get("model_args"))
    revision = _model_argument(config.get("model_args"), "revision")
    if model and revision and revision != "main" and "@" not in model:
        model = f"{model}@{revision}"  # a training checkpoint (Pythia's step143000): its own model
    params = config.get("model_num_parameters", data.get("model_num_parameters"))
    params = float(params) if isinstance(params, (int, float)) and not isinstance(params, bool) and params > 0 else None
    configs = data.get("configs") if isinstance(data.get("configs"), dict) else {}
    return RunInfo(
        path=path,
        timestamp=timestamp,
        model=model or None,
        params=params,
        parents=_parents_from_results(data, configs),
        target_delimiters={
            task: str(task_config.get("target_delimiter", " "))
            for task, task_config in configs.items()
            if isinstance(task_config, dict)
        },
        tasks=tuple(configs),
    )


def _model_arguments(model_args) -> dict[str, str]:
    """``model_args`` as a dict (a ``k=v,k=v`` string or, in newer versions, a dict)."""
    if isinstance(model_args, dict):
        return {str(key): str(value) for key, value in model_args.items()}
    if isinstance(model_args, str):
        return dict(part.split("=", 1) for part in model_args.split(",") if "=" in part)
    return {}


def _model_argument(model_args, key: str) -> str | None:
    return _model_arguments(model_args).get(key) or None


def _model_from_args(model_args) -> str | None:
    """The model named by ``model_args``."""
    arguments = _model_arguments(model_args)
    for key in _MODEL_ARG_KEYS:
        if arguments.get(key):
            return arguments[key]
    return None


def _parents_from_results(data: dict, configs: dict) -> dict[str, str]:
    """Subtask -> parent group, from ``group_subtasks`` (v0.4.1+) or each config's ``group``."""
    parents: dict[str, str] = {}
    group_subtasks = data.get("group_subtasks")
    if isinstance(group_subtasks, dict):
        for group, subtasks in group_subtasks.items():
            for subtask in subtasks or []:
                if isinstance(subtask, str) and subtask != group:
                    parents.setdefault(subtask, group)
    for task, task_config in configs.items():
        group = task_config.get("group") if isinstance(task_config, dict) else None
        if isinstance(group, list):
            group = group[0] if group else None
        if isinstance(group, str) and group and group != task:
            parents.setdefault(task, group)
    return parents


def _timestamped_samples(
    path: Path, match: re.Match, runs: list[RunInfo], runs_by_timestamp: dict, notes: Notes
) -> SamplesFile:
    task, timestamp = match["task"], match["timestamp"]
    run = runs_by_timestamp.get(timestamp) if timestamp else None
    if run is not None and run.model:
        return SamplesFile(path, task, timestamp, run.model, run)
    named_models = {candidate.model for candidate in runs if candidate.model}
    if len(named_models) == 1:
        # Same directory, same model (the harness names the directory after the model).
        newest = max(runs, key=lambda candidate: candidate.timestamp or "")
        notes.add(
            "no results file with the same timestamp as some samples files; took the model name "
            "from another results file in the same directory",
            group="results-other-timestamp",
            subject=path.name,
        )
        return SamplesFile(path, task, timestamp, newest.model, newest)
    if len(named_models) > 1:
        raise InputDataError(
            str(path),
            "cannot tell which model wrote this samples file: no results file has its timestamp and "
            f"the results files beside it name {len(named_models)} models",
            found=sorted(named_models),
            hint="keep each model's files in its own directory, or restore the matching results_*.json",
        )
    model = model_from_directory_name(path.parent.name)
    notes.add(
        "no results_*.json beside the samples; took the model name from the directory name",
        group="model-from-directory",
        subject=path.parent.name if model == path.parent.name else f"{path.parent.name} -> {model}",
    )
    return SamplesFile(path, task, timestamp, model, None, model_from_directory=True)


def model_from_directory_name(name: str) -> str:
    """Undo the harness's directory naming for a Hugging Face id (``org__name`` -> ``org/name``).

    Names with more or fewer ``__`` (local paths, bare names) are returned as they are.

    >>> model_from_directory_name("EleutherAI__pythia-1b"), model_from_directory_name("__ckpt__step1000")
    ('EleutherAI/pythia-1b', '__ckpt__step1000')
    """
    organisation, separator, model = name.partition("__")
    if separator and organisation and model and "__" not in model:
        return f"{organisation}/{model}"
    return name


def _pre_043_samples(path: Path, runs: list[RunInfo], notes: Notes) -> SamplesFile | None:
    """A v0.4.0-0.4.1 file named ``<model_args>_<task>.jsonl`` (``/`` and ``=`` became ``__``)."""
    stem = re.sub(r"\.(?:jsonl|jsonlines|ndjson)(?:\.\w+)?$", "", path.name)
    untimed = [run for run in runs if run.timestamp is None]
    for run in untimed:
        tasks = sorted((task for task in run.tasks if stem.endswith("_" + task)), key=len, reverse=True)
        if tasks and run.model:
            return SamplesFile(path, tasks[0], None, run.model, run)
    sanitized_model, task = _split_pre_043_name(stem)
    if sanitized_model is None:
        notes.add(
            "ignored .jsonl files whose names are not lm-eval's (samples_<task>_<timestamp>.jsonl, or "
            "<model_args>_<task>.jsonl before v0.4.3)",
            group="ignored-jsonl",
            subject=str(path),
        )
        return None
    model = model_from_directory_name(sanitized_model)
    notes.add(
        f"{path.name}: no results.json beside it; guessed model '{model}' and task '{task}' from the file name",
        group=f"guessed-name:{path}",
    )
    return SamplesFile(path, task, None, model, None, model_from_directory=True)


def _split_pre_043_name(stem: str) -> tuple[str | None, str]:
    """Split ``pretrained__EleutherAI__pythia-160m_hellaswag`` into model and task.

    >>> _split_pre_043_name("pretrained__EleutherAI__pythia-160m_hellaswag")
    ('EleutherAI__pythia-160m', 'hellaswag')
    """
    last_argument = stem.split(",")[-1]
    if "__" not in last_argument:
        return None, stem
    after_value_start = len(stem) - len(last_argument) + last_argument.rindex("__") + 2
    task_separator = stem.find("_", after_value_start)
    if task_separator < 0:
        return None, stem
    model_args, task = stem[:task_separator], stem[task_separator + 1 :]
    first_argument = model_args.split(",")[0]
    key, _, value = first_argument.partition("__")
    return (value or key), task


def _canonical_model_names(files: list[SamplesFile]) -> list[SamplesFile]:
    """Map directory-derived names (``EleutherAI__pythia-1b``) onto a model named by a results file.

    Without this, one model with some runs lacking their results file would appear twice.
    """
    named = {sanitize_model_name(f.model): f.model for f in files if not f.model_from_directory}
    return [
        SamplesFile(
            f.path, f.task, f.timestamp, named.get(sanitize_model_name(f.model), f.model), f.run, f.model_from_directory
        )
        if f.model_from_directory
        else f
        for f in files
    ]


def _newest_run_per_task(files: list[SamplesFile], notes: Notes) -> list[SamplesFile]:
    by_key: dict[tuple[str, str], list[SamplesFile]] = {}
    for samples in files:
        by_key.setdefault((samples.model, samples.task), []).append(samples)
    kept = []
    for (model, task), runs in by_key.items():
        if len(runs) == 1:
            kept.append(runs[0])
            continue
        if any(run.timestamp is None for run in runs):
            raise InputDataError(
                str(runs[0].path),
                f"model {model}: {len(runs)} runs of task {task}, and not all carry a timestamp to pick the newest",
                found=[str(run.path) for run in runs],
                hint="remove the runs you do not want",
            )
        runs = sorted(runs, key=lambda run: run.timestamp)
        newest = runs[-1]
        notes.add(
            f"model {model}: more than one run of a task; took the newest",
            group=f"newest:{model}",
            subject=f"{task}: {len(runs)} runs, newest {newest.timestamp}",
        )
        kept.append(newest)
    return kept


# --------------------------------------------------------------------------------------------
# Reading one samples file


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Parsing a file creates millions of dicts and lists; the cyclic garbage collector would rescan
    them again and again although parsed JSON cannot form cycles, which slows reading severalfold."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _load_records(path: Path) -> tuple[list, bool]:
    """Parse a samples file; returns the records and whether it was a JSON array (pre-0.4.3).

    A line that does not parse (e.g. a run killed mid-write) is an error naming its line number.
    """
    raw = read_bytes(path)
    if raw.lstrip()[:1] == b"[":
        try:
            records = orjson.loads(raw)
        except orjson.JSONDecodeError as error:
            raise InputDataError(
                str(path),
                f"line {error.lineno} is not valid JSON ({error.msg}); the file looks truncated or damaged",
                hint="re-run lm_eval for this task, or remove the file",
            ) from None
        if not isinstance(records, list):
            raise InputDataError(str(path), "expected a JSON array of samples", found=type(records).__name__)
        return records, True
    try:
        # One parse of the whole file as an array is much faster than one call per line. A blank
        # line in the middle makes this fail too; the line-by-line pass below then handles it.
        return orjson.loads(b"[" + raw.strip().replace(b"\n", b",") + b"]"), False
    except orjson.JSONDecodeError:
        pass
    for line_number, line in enumerate(raw.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            orjson.loads(line)
        except orjson.JSONDecodeError as error:
            raise InputDataError(
                str(path),
                f"line {line_number} is not valid JSON ({error.msg}); the file looks truncated or damaged",
                found=line[:60].decode("utf-8", "replace") + ("..." if len(line) > 60 else ""),
                hint="re-run lm_eval for this task, or remove the broken line if you know it is the only one",
            ) from None
    # Every line parses on its own, so only blank lines got in the way of the fast path.
    return [orjson.loads(line) for line in raw.split(b"\n") if line.strip()], False


def _position(index: int, records_are_array: bool, path: Path) -> str:
    """Where record ``index`` sits, as the user would look for it."""
    if records_are_array:
        return f"record {index + 1}"
    seen = -1
    for line_number, line in enumerate(read_bytes(path).split(b"\n"), start=1):
        if line.strip():
            seen += 1
            if seen == index:
                return f"line {line_number}"
    return f"record {index + 1}"


def _read_samples_files(files: list[SamplesFile], options: ImportOptions, notes: Notes) -> list[pa.Table]:
    """Every samples file's long table, in order; big trees are parsed on every core (JSON parsing holds
    the GIL, so threads would not help): one process per core, each taking whole files."""
    workers = min(os.cpu_count() or 1, len(files))
    if workers < 2 or sum(samples.path.stat().st_size for samples in files) < PARALLEL_BYTES:
        return [_read_samples_file(samples, options, notes) for samples in files]
    import slicesand.ingest.importers._lmeval_columns  # noqa: F401  once here, not in every worker
    with ProcessPoolExecutor(max_workers=workers) as pool:
        outcomes = list(pool.map(_read_in_worker, files, [options] * len(files), chunksize=1))
    tables = []
    for table, file_notes, error in outcomes:
        notes.absorb(file_notes)
        if error is not None:
            kind, source, problem, details = error
            raise kind(source, problem, **details)
        tables.append(table)
    return tables


def _read_in_worker(samples: SamplesFile, options: ImportOptions) -> tuple[pa.Table | None, Notes, tuple | None]:
    """One file in a worker process; an error travels back as its parts (the first one in file order
    is raised), since the error classes' constructor is not what pickling calls."""
    notes = Notes()
    try:
        return _read_samples_file(samples, options, notes), notes, None
    except SlicesandError as error:
        details = {"column": error.column, "row": error.row, "found": error.found, "hint": error.hint}
        return None, notes, (type(error), error.source, error.problem, details)


def _read_samples_file(samples: SamplesFile, options: ImportOptions, notes: Notes) -> pa.Table:
    """One samples file's long table: column by column when it is plain JSON Lines of the usual shape,
    else record by record. The columnar reader hands every file it cannot read exactly as the record
    reader would (and every file with a problem to report) back to the record reader, whose results
    and messages are the reference."""
    from slicesand.ingest.importers._lmeval_columns import read_columns

    columnar = read_columns(samples, options)
    if columnar is not None:
        table, file_notes = columnar
        notes.absorb(file_notes)
        return table
    with _cyclic_gc_paused():
        return _read_samples_file_unpaused(samples, options, notes)


def _read_samples_file_unpaused(samples: SamplesFile, options: ImportOptions, notes: Notes) -> pa.Table:
    records, is_array = _load_records(samples.path)
    if not records:
        notes.add("samples files with no records", group="empty-files", subject=str(samples.path))
        return empty_dump()
    malformed = next(
        (i for i, record in enumerate(records) if not isinstance(record, dict) or "doc_id" not in record), None
    )
    if malformed is not None:
        raise InputDataError(
            str(samples.path),
            f"{_position(malformed, is_array, samples.path)}: a sample record needs a doc_id",
            found=str(records[malformed])[:60],
        )
    records = _select_filter(records, samples, options, notes)
    question = np.array([str(record["doc_id"]) for record in records], dtype=object)
    check_unique_questions(question, samples)
    if is_multiple_choice(records[0]):
        correct, p_correct = _score_multiple_choice(records, question, samples, options, notes, is_array)
    else:
        correct, p_correct = _logged_metric(records, samples, options, is_array)
    return make_dump(samples.model, question, samples.task, correct, p_correct)


def check_unique_questions(question: np.ndarray, samples: SamplesFile) -> None:
    duplicated = pd.Index(question).duplicated()
    if duplicated.any():
        raise InputDataError(
            str(samples.path),
            f"doc_id {question[duplicated][0]} is logged twice for the same filter",
            hint="the file may hold two runs appended together; keep one",
        )


def _select_filter(records: list[dict], samples: SamplesFile, options: ImportOptions, notes: Notes) -> list[dict]:
    filters = [record.get("filter", "none") for record in records]
    chosen = chosen_filter(list(dict.fromkeys(filters)), samples, options, notes)
    if chosen is None:
        return records
    return [record for record, name in zip(records, filters) if name == chosen]


def chosen_filter(available: list, samples: SamplesFile, options: ImportOptions, notes: Notes) -> str | None:
    """The filter whose records to keep, from the filters a file logs in first-seen order; None when it
    logs only one (keep every record)."""
    if len(available) == 1:
        if options.filter_name is not None and options.filter_name != available[0]:
            notes.add(
                f"filter '{options.filter_name}' is not logged for some tasks; used their only filter",
                group=f"only-filter:{options.filter_name}",
                subject=f"{samples.task}: '{available[0]}'",
            )
        return None
    if options.filter_name is None:
        chosen = available[0]
        notes.add(
            f"task {samples.task}: picked filter '{chosen}' of {len(available)} ({', '.join(map(str, available))}); "
            "use --filter to choose",
            group=f"filter:{samples.task}:{chosen}",
        )
    elif options.filter_name in available:
        chosen = options.filter_name
    else:
        raise InputDataError(
            str(samples.path),
            f"filter '{options.filter_name}' is not logged for task {samples.task}",
            found=available,
            hint=f"choose one of: {', '.join(map(str, available))}",
        )
    return chosen


def _responses(record: dict) -> list:
    """Per-request responses after filtering; ``resps`` (one list per request) as a fallback."""
    filtered = record.get("filtered_resps")
    if isinstance(filtered, list):
        return filtered
    responses = record.get("resps")
    if isinstance(responses, list):
        return [r[0] if isinstance(r, list) and r else r for r in responses]
    return []


def is_multiple_choice(record: dict) -> bool:
    """Multiple choice logs one (log-likelihood, is-greedy) pair per choice, and has 2+ choices."""
    responses = _responses(record)
    return len(responses) >= 2 and all(isinstance(pair, list) and len(pair) == 2 for pair in responses)


def _continuations(record: dict) -> list:
    """The continuation of each request: ``arguments`` is a list of [context, continuation] before
    v0.4.3 and ``{"gen_args_0": {"arg_0": context, "arg_1": continuation}, ...}`` from v0.4.3."""
    arguments = record.get("arguments")
    if isinstance(arguments, dict):
        return [argument.get("arg_1") if isinstance(argument, dict) else None for argument in arguments.values()]
    if isinstance(arguments, list):
        return [argument[1] if isinstance(argument, list) and len(argument) > 1 else None for argument in arguments]
    return []


def _score_multiple_choice(
    records: list[dict], question: np.ndarray, samples: SamplesFile, options: ImportOptions, notes: Notes,
    is_array: bool
) -> tuple[np.ndarray, np.ndarray]:
    responses = [_responses(record) for record in records]
    n_choices = np.fromiter((len(r) for r in responses), dtype=np.int64, count=len(records))
    try:
        flat = [pair[0] for per_record in responses for pair in per_record]
        log_likelihoods = np.array(flat, dtype=np.float64)
    except (ValueError, TypeError, IndexError, KeyError):
        bad = _first_unparsable_record(responses)
        raise InputDataError(
            str(samples.path),
            f"{_position(bad, is_array, samples.path)}: expected a (log-likelihood, is_greedy) pair per choice",
            found=str(responses[bad])[:80],
        ) from None

    texts_cache: list = []

    def choice_texts() -> list[str] | None:
        # Only acc_norm and text targets need the choices' texts; most files need neither.
        if not texts_cache:
            texts_cache.append(_choice_texts(records, n_choices, samples))
        return texts_cache[0]

    targets = [record.get("target") for record in records]
    logged = _logged_values(records, options.metric)
    return score_multiple_choice(
        log_likelihoods, n_choices, question, targets, logged, choice_texts, samples, options, notes
    )


def score_multiple_choice(
    log_likelihoods: np.ndarray,
    n_choices: np.ndarray,
    question: list | np.ndarray,
    targets: list,
    logged: np.ndarray,
    choice_texts: Callable[[], list[str] | None],
    samples: SamplesFile,
    options: ImportOptions,
    notes: Notes,
) -> tuple[np.ndarray, np.ndarray]:
    """``correct`` and ``p_correct`` of multiple-choice records, given as columns: the flat
    log-likelihoods with each record's choice count, the doc ids as text, the raw targets, and the
    metric the harness logged (NaN where it did not)."""
    gold = _gold_matrix(targets, question, n_choices, choice_texts, samples, notes)
    scores = pad_ragged(log_likelihoods, n_choices, -np.inf)
    if options.metric == "acc_norm":
        if choice_texts() is None:
            raise InputDataError(
                str(samples.path),
                "acc_norm needs each choice's text, but the records log no arguments",
                hint="use metric acc",
            )
        # The harness divides by len(choice) in characters (its doc_to_choice text, which is the
        # continuation without the target delimiter).
        lengths = pad_ragged(pd.Series(choice_texts(), dtype=object).str.len().to_numpy(float), n_choices, 1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            scores = scores / lengths
    outcome = score_choices(scores, gold)
    _cross_check_logged(logged, outcome.correct, samples, options, notes)
    return outcome.correct, outcome.p_correct


def _first_unparsable_record(responses: list[list]) -> int:
    for index, per_record in enumerate(responses):
        try:
            np.array([pair[0] for pair in per_record], dtype=np.float64)
        except (ValueError, TypeError, IndexError, KeyError):
            return index
    return 0


def _choice_texts(records: list[dict], n_choices: np.ndarray, samples: SamplesFile) -> list[str] | None:
    """Each choice's text (continuation minus the task's target delimiter), flat; None if not logged."""
    continuations = [_continuations(record) for record in records]
    counts = np.fromiter((len(c) for c in continuations), dtype=np.int64, count=len(records))
    if not counts.any():
        return None
    if not np.array_equal(counts, n_choices):
        bad = int(np.flatnonzero(counts != n_choices)[0])
        raise InputDataError(
            str(samples.path),
            f"doc_id {records[bad]['doc_id']}: {n_choices[bad]} responses but {counts[bad]} requests in arguments",
        )
    texts = pd.Series([text for per_record in continuations for text in per_record], dtype=object).fillna("")
    texts = texts.astype(str)
    delimiter = samples.run.target_delimiters.get(samples.task, " ") if samples.run else " "
    if delimiter:
        starts = texts.str.startswith(delimiter).to_numpy()
        offsets = np.cumsum(n_choices) - n_choices
        # Strip the delimiter only where every choice of the record carries it.
        whole_record = np.logical_and.reduceat(starts, offsets) if len(starts) else starts
        strip = np.repeat(whole_record, n_choices)
        texts = texts.where(~strip, texts.str.slice(len(delimiter)))
    return texts.tolist()


def _gold_matrix(
    raw_targets: list,
    question: list | np.ndarray,
    n_choices: np.ndarray,
    choice_texts: Callable[[], list[str] | None],
    samples: SamplesFile,
    notes: Notes,
) -> np.ndarray:
    """Boolean (records x choices) marking the gold choice(s).

    ``target`` is a choice index (an int, or its string from v0.4.3), a list of indices, or the gold
    choice's text, which is matched against the logged continuations.
    """
    n_records = len(raw_targets)
    gold = np.zeros((n_records, int(n_choices.max())), dtype=bool)
    try:
        # The common case, every target an index: numpy parses "2" and 2 alike, in C.
        indices = np.array(raw_targets, dtype=np.int64)
    except (TypeError, ValueError, OverflowError):
        indices = None
    if indices is not None and ((indices >= 0) & (indices < n_choices)).all():
        gold[np.arange(n_records), indices] = True
        return gold

    as_text = pd.Series(raw_targets, dtype=object).map(lambda t: "" if t is None else str(t)).str.strip()
    is_text = _mark_index_targets(gold, as_text, n_choices)
    if is_text.any():
        _mark_text_targets(gold, as_text.to_numpy(), is_text, n_choices, choice_texts)
    _note_unresolved(gold, question, raw_targets, samples, notes)
    return gold


def _mark_index_targets(gold: np.ndarray, as_text: pd.Series, n_choices: np.ndarray) -> np.ndarray:
    """Mark targets written as an index or a list of indices; returns which targets are text instead."""
    as_number = pd.to_numeric(as_text, errors="coerce")
    is_index = (as_number.notna() & (as_number == np.floor(as_number))).to_numpy()
    is_list = as_text.str.startswith("[").to_numpy() & ~is_index
    is_text = ~is_index & ~is_list
    rows = np.flatnonzero(is_index)
    columns = as_number.to_numpy()[rows].astype(np.int64)
    in_range = (columns >= 0) & (columns < n_choices[rows])
    gold[rows[in_range], columns[in_range]] = True
    for row in np.flatnonzero(is_list):  # rare: tasks with several gold answers
        try:
            indices = [int(i) for i in orjson.loads(as_text.iat[row])]
        except (orjson.JSONDecodeError, TypeError, ValueError):
            is_text[row] = True
            continue
        gold[row, [i for i in indices if 0 <= i < n_choices[row]]] = True
    return is_text


def _mark_text_targets(gold: np.ndarray, targets: np.ndarray, is_text: np.ndarray, n_choices: np.ndarray,
                       choice_texts: Callable[[], list[str] | None]) -> None:
    """Mark the first choice whose logged text equals a text target, as the harness's choices.index."""
    texts = choice_texts()
    if texts is None:
        return
    record_of_choice = np.repeat(np.arange(len(n_choices)), n_choices)
    column_of_choice = np.arange(len(texts)) - np.repeat(np.cumsum(n_choices) - n_choices, n_choices)
    wanted = pd.Series(targets[record_of_choice], dtype=object)
    matches = (pd.Series(texts, dtype=object).str.strip() == wanted).to_numpy() & is_text[record_of_choice]
    first = pd.DataFrame({"row": record_of_choice[matches], "column": column_of_choice[matches]})
    first = first.drop_duplicates("row")
    gold[first["row"].to_numpy(), first["column"].to_numpy()] = True


def _note_unresolved(
    gold: np.ndarray, question: list | np.ndarray, raw_targets: list, samples: SamplesFile, notes: Notes
) -> None:
    unresolved = ~gold.any(axis=1)
    if unresolved.any():
        example = int(np.flatnonzero(unresolved)[0])
        notes.add(
            f"task {samples.task}: some records have a target that matches no choice (e.g. doc_id "
            f"{question[example]}, target {str(raw_targets[example])[:40]!r}); left correct and p_correct "
            "empty for them",
            group=f"unresolved-gold:{samples.task}",
            subject=f"{samples.model}: {int(unresolved.sum())} of {len(raw_targets)} records",
        )


def _logged_values(records: list[dict], name: str) -> np.ndarray:
    """A logged metric of every record as floats; NaN where it is missing or not a number."""
    try:
        return np.array([record.get(name) for record in records], dtype=np.float64)
    except (TypeError, ValueError):
        return np.array([_as_float(record.get(name)) for record in records], dtype=np.float64)


def _cross_check_logged(
    logged: np.ndarray, correct: np.ndarray, samples: SamplesFile, options: ImportOptions, notes: Notes
) -> None:
    """Compare recomputed correctness with the metric the harness logged (NaN where it did not)."""
    comparable = ~np.isnan(logged) & ~np.isnan(correct)
    disagree = int((logged[comparable] != correct[comparable]).sum())
    if disagree:
        notes.add(
            f"task {samples.task}: recomputed {options.metric} differs from the harness's logged "
            f"{options.metric} (a task with custom scoring, or a target read differently); the recomputed "
            "value is used",
            group=f"cross-check:{samples.task}",
            subject=f"{samples.model}: {disagree} of {int(comparable.sum())} records",
        )


def _as_float(value) -> float:
    if isinstance(value, (int, float)):
        return float(value)
    return np.nan


def _logged_metric(
    records: list[dict], samples: SamplesFile, options: ImportOptions, is_array: bool
) -> tuple[np.ndarray, np.ndarray]:
    """``correct`` from a logged 0/1 metric (generative and single log-likelihood tasks)."""
    name = correct_metric_name(records[0], samples, options)
    try:
        values = np.array([record.get(name) for record in records], dtype=np.float64)
    except (TypeError, ValueError):
        values = None
    bad = (
        np.flatnonzero(~is_zero_one(values))
        if values is not None
        else np.array([_first_non_number(records, name)])
    )
    if len(bad):
        index = int(bad[0])
        raise InputDataError(
            str(samples.path),
            f"{_position(index, is_array, samples.path)}: metric '{name}' must be 0 or 1 to say whether the answer "
            "was correct",
            found=records[index].get(name),
            hint="choose a 0/1 metric with --correct-metric",
        )
    return values, np.full(len(records), np.nan)


def is_zero_one(values: np.ndarray) -> np.ndarray:
    """Which values can stand for correctness: 0, 1, or NaN (unknown)."""
    return np.isnan(values) | (values == 0) | (values == 1)


def correct_metric_name(first: dict, samples: SamplesFile, options: ImportOptions) -> str:
    """The logged 0/1 metric that says whether a non-multiple-choice record was answered correctly,
    chosen from the file's first record."""
    logged_names = first.get("metrics") if isinstance(first.get("metrics"), list) else list(first)
    if options.correct_metric is not None:
        name = options.correct_metric
        if name not in first:
            raise InputDataError(
                str(samples.path),
                f"metric '{name}' is not logged for task {samples.task}",
                found=[key for key in logged_names if key in first],
                hint="choose a logged 0/1 metric with --correct-metric",
            )
    else:
        name = next((candidate for candidate in DEFAULT_CORRECT_METRICS if candidate in first), None)
        if name is None:
            raise InputDataError(
                str(samples.path),
                f"task {samples.task} is not multiple choice and logs none of {', '.join(DEFAULT_CORRECT_METRICS)}",
                found=[key for key in logged_names if key in first],
                hint="choose a logged 0/1 metric with --correct-metric",
            )
    return name


def _first_non_number(records: list[dict], name: str) -> int:
    for index, record in enumerate(records):
        try:
            float(record.get(name) if record.get(name) is not None else "nan")
        except (TypeError, ValueError):
            return index
    return 0


# --------------------------------------------------------------------------------------------
# Folding subtasks


def _group_subtasks(dump: pa.Table, files: list[SamplesFile], notes: Notes) -> pa.Table:
    """Replace each subtask by the group it belongs to and prefix question ids with the subtask."""
    parents: dict[str, str] = {}
    for samples in files:
        if samples.run is not None:
            for child, parent in samples.run.parents.items():
                parents.setdefault(child, parent)
    tasks = sorted({samples.task for samples in files})
    folded_into = {task: _fold_target(task, parents) for task in tasks}
    guessed = [task for task in tasks if folded_into[task] == task and _family_of(task)]
    for task in guessed:
        folded_into[task] = _family_of(task)
    if guessed:
        notes.add(
            "no group information in the results files for some subtasks; grouped them by name prefix",
            group="grouped-by-prefix",
            subject=", ".join(sorted({folded_into[task] for task in guessed})),
        )
    folded = {task: target for task, target in folded_into.items() if target != task}
    if not folded:
        notes.add("group_subtasks: no subtasks found to fold; tasks left as they are")
        return dump
    sizes = pd.Series(folded).value_counts()
    notes.add(
        "group_subtasks: folded "
        + ", ".join(f"{count} subtasks into {target}" for target, count in sizes.sort_index().items())
    )
    frame = dump.select(["task", "question"]).to_pandas()
    is_subtask = frame["task"].isin(list(folded)).to_numpy()
    new_question = np.where(is_subtask, frame["task"] + "/" + frame["question"], frame["question"])
    new_task = frame["task"].map(folded).where(is_subtask, frame["task"])
    dump = dump.set_column(dump.schema.get_field_index("task"), "task", pa.array(new_task.to_numpy(object), pa.string()))
    return dump.set_column(
        dump.schema.get_field_index("question"), "question", pa.array(np.asarray(new_question, object), pa.string())
    )


def _fold_target(task: str, parents: dict[str, str]) -> str:
    """The group a task folds into: climb while each parent is a uniform group.

    A parent whose members mix plain tasks and groups is a suite of different benchmarks (the
    harness's ``leaderboard`` holds ``leaderboard_ifeval`` next to the group ``leaderboard_bbh``),
    so the climb stops below it; ``mmlu``, whose members are all groups, is climbed into.

    >>> parents = {"mmlu_anatomy": "mmlu_stem", "mmlu_stem": "mmlu", "mmlu_other": "mmlu", "mmlu_virology": "mmlu_other",
    ...            "bbh_x": "leaderboard_bbh", "leaderboard_bbh": "leaderboard", "leaderboard_ifeval": "leaderboard"}
    >>> _fold_target("mmlu_anatomy", parents), _fold_target("bbh_x", parents), _fold_target("leaderboard_ifeval", parents)
    ('mmlu', 'leaderboard_bbh', 'leaderboard_ifeval')
    """
    children: dict[str, list[str]] = {}
    for child, parent in parents.items():
        children.setdefault(parent, []).append(child)
    seen = {task}
    current = task
    while current in parents and parents[current] not in seen:
        members = children[parents[current]]
        if len({member in children for member in members}) > 1:
            break
        current = parents[current]
        seen.add(current)
    return current


def _family_of(task: str) -> str | None:
    for family in KNOWN_TASK_FAMILIES:
        if task.startswith(family + "_"):
            return family
    return None
