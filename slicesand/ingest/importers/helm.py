"""Read HELM run folders (``benchmark_output/runs/<suite>/<run name>/``) into the long table.

Each run folder holds ``per_instance_stats.json`` (per-instance metrics), ``scenario_state.json``
(requests and the model's responses) and ``run_spec.json`` (the run's name and adapter spec). The
path given may be one run folder, a suite, or any folder above them.

- ``correct`` comes from the ``exact_match`` stat (or ``quasi_exact_match``, or the stat named by
  ``correct_metric``) of each unperturbed instance in train trial 0.
- ``p_correct`` is the softmax over references at the correct reference(s), where the responses
  carry per-reference log-probabilities:

  - ``multiple_choice_joint``: the log-probabilities of the answer letters among the first
    generated token's ``top_logprobs`` (letters absent from the top-k get probability 0);
  - ``multiple_choice_separate_original``: each reference's log-probability per token, the score
    HELM itself ranks by (HELM re-tokenizes the reference to find its tokens at the end of the
    echoed prompt; here the same span is found by matching token texts from the end);
  - ``multiple_choice_separate_calibrated``: the original minus the calibration log-probability.

  Other methods (generation) leave ``p_correct`` empty.
- ``model`` is the adapter spec's ``model``; ``task`` is the run name without its ``model=`` part,
  e.g. ``mmlu:subject=anatomy,method=multiple_choice_joint``.

>>> from pathlib import Path
>>> read_helm(Path("tests/fixtures/importers/helm_v0_3/runs"), ImportOptions())  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import orjson
import pyarrow as pa

from slicesand.errors import InputDataError
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

DEFAULT_CORRECT_STATS = ("exact_match", "quasi_exact_match")
_CORRECT_TAG = "correct"
_JOINT = "multiple_choice_joint"
_SEPARATE_ORIGINAL = "multiple_choice_separate_original"
_SEPARATE_CALIBRATED = "multiple_choice_separate_calibrated"


@dataclass(frozen=True)
class HelmRun:
    """One run folder and what its files say about it."""

    directory: Path
    model: str
    task: str
    modified: float


HELM_FILE_NAMES = ("per_instance_stats.json", "scenario_state.json", "run_spec.json")


def looks_like_helm(path: Path) -> bool:
    """Whether ``path`` is, or holds, a HELM run folder."""
    if path.is_file():
        return path.name in HELM_FILE_NAMES
    return (path / "per_instance_stats.json").is_file() or next(path.rglob("per_instance_stats.json"), None) is not None


def read_helm(path: Path, options: ImportOptions) -> ReaderOutput:
    """Read every HELM run folder under ``path`` into a long table."""
    notes = Notes()
    root = path.parent if path.is_file() else path
    run_directories = sorted({stats.parent for stats in root.rglob("per_instance_stats.json")})
    if not run_directories:
        raise InputDataError(
            str(path), "no HELM run folders (with per_instance_stats.json) found", hint="point at benchmark_output/runs"
        )
    runs = _newest_run_per_task([_describe_run(directory) for directory in run_directories], notes)
    tables = [_read_run(run, options, notes) for run in runs]
    dump = pa.concat_tables(tables) if tables else empty_dump()
    if options.group_subtasks:
        dump = _group_by_scenario(dump, notes)
    return ReaderOutput(dump=dump, notes=notes.render())


def _load_json(path: Path):
    try:
        return orjson.loads(read_bytes(path))
    except orjson.JSONDecodeError as error:
        raise InputDataError(
            str(path), f"line {error.lineno} is not valid JSON ({error.msg}); the file looks truncated or damaged"
        ) from None


def _describe_run(directory: Path) -> HelmRun:
    run_spec = _load_json(directory / "run_spec.json") if (directory / "run_spec.json").is_file() else {}
    adapter_spec = run_spec.get("adapter_spec") or {}
    if not adapter_spec.get("model") and (directory / "scenario_state.json").is_file():
        adapter_spec = _load_json(directory / "scenario_state.json").get("adapter_spec") or {}
    run_name = run_spec.get("name") or directory.name
    model = adapter_spec.get("model") or _run_name_argument(run_name, "model")
    if not model:
        raise InputDataError(
            str(directory),
            "cannot tell which model this HELM run evaluated (no run_spec.json, no adapter_spec.model, no model= in "
            "the folder name)",
        )
    return HelmRun(
        directory=directory,
        model=str(model),
        task=task_from_run_name(run_name),
        modified=(directory / "per_instance_stats.json").stat().st_mtime,
    )


def _run_name_argument(run_name: str, key: str) -> str | None:
    _, _, arguments = run_name.partition(":")
    for argument in arguments.split(","):
        name, _, value = argument.partition("=")
        if name == key:
            return value
    return None


def task_from_run_name(run_name: str) -> str:
    """The run name without the parts that name the model.

    >>> task_from_run_name("mmlu:subject=anatomy,method=multiple_choice_joint,model=openai_davinci")
    'mmlu:subject=anatomy,method=multiple_choice_joint'
    """
    scenario, _, arguments = run_name.partition(":")
    kept = [
        argument
        for argument in arguments.split(",")
        if argument and not argument.startswith(("model=", "model_deployment="))
    ]
    return f"{scenario}:{','.join(kept)}" if kept else scenario


def _newest_run_per_task(runs: list[HelmRun], notes: Notes) -> list[HelmRun]:
    by_key: dict[tuple[str, str], list[HelmRun]] = {}
    for run in runs:
        by_key.setdefault((run.model, run.task), []).append(run)
    kept = []
    for (model, task), candidates in by_key.items():
        newest = max(candidates, key=lambda run: run.modified)
        if len(candidates) > 1:
            notes.add(
                f"model {model}: {len(candidates)} HELM runs of {task}; took the most recently written "
                f"{newest.directory}",
                group=f"newest:{model}:{task}",
            )
        kept.append(newest)
    return kept


def _read_run(run: HelmRun, options: ImportOptions, notes: Notes) -> pa.Table:
    stats_path = run.directory / "per_instance_stats.json"
    entries = _load_json(stats_path)
    if not isinstance(entries, list):
        raise InputDataError(str(stats_path), "expected a JSON list of per-instance stats", found=type(entries).__name__)
    instances, correct = _correct_from_stats(entries, stats_path, options, run, notes)
    if not instances:
        notes.add(f"{run.directory}: no unperturbed instances in train trial 0", group=f"empty:{run.directory}")
        return empty_dump()
    p_correct = _p_correct_from_scenario_state(run, instances, notes)
    return make_dump(run.model, np.array(instances, dtype=object), run.task, correct, p_correct)


def _stat_value(stat: dict) -> float:
    if stat.get("mean") is not None:
        return float(stat["mean"])
    count = stat.get("count") or 0
    return float(stat.get("sum", 0.0)) / count if count else np.nan


def _correct_from_stats(
    entries: list, stats_path: Path, options: ImportOptions, run: HelmRun, notes: Notes
) -> tuple[list[str], np.ndarray]:
    """Instance ids and 0/1 correctness (NaN when unknown) of trial 0's unperturbed instances."""
    first_trial = _first_trial_originals(entries, run, notes)
    values_by_name = [
        {
            stat["name"]["name"]: _stat_value(stat)
            for stat in entry.get("stats", [])
            if isinstance(stat.get("name"), dict) and not stat["name"].get("perturbation")
        }
        for entry in first_trial
    ]
    stat_name = _correct_stat(values_by_name, stats_path, options)
    instances = [str(entry.get("instance_id")) for entry in first_trial]
    correct = np.array([values.get(stat_name, np.nan) for values in values_by_name], dtype=np.float64)
    _check_zero_one(correct, instances, stat_name, stats_path, run, notes)
    import pandas as pd  # reading HELM (not sniffing it) needs pandas

    duplicated = pd.Index(instances).duplicated()
    if duplicated.any():
        raise InputDataError(
            str(stats_path), f"instance {instances[int(np.flatnonzero(duplicated)[0])]} appears twice in trial 0"
        )
    return instances, correct


def _first_trial_originals(entries: list, run: HelmRun, notes: Notes) -> list[dict]:
    """The entries of train trial 0 without perturbations (robustness and fairness variants)."""
    unperturbed = [entry for entry in entries if isinstance(entry, dict) and not entry.get("perturbation")]
    if len(unperturbed) < len(entries):
        notes.add(
            "HELM: ignored perturbed copies of instances (robustness/fairness variants); only the originals are read",
            group="perturbed",
        )
    trials = {entry.get("train_trial_index", 0) for entry in unperturbed}
    if len(trials) > 1:
        notes.add(f"HELM: runs with {len(trials)} train trials; read trial 0 only", group="trials", subject=run.task)
    return [entry for entry in unperturbed if entry.get("train_trial_index", 0) == 0]


def _correct_stat(values_by_name: list[dict], stats_path: Path, options: ImportOptions) -> str:
    """The stat that says whether an instance was answered correctly: the option's, else the default's."""
    available = sorted({name for values in values_by_name for name in values})
    wanted = (options.correct_metric,) if options.correct_metric else DEFAULT_CORRECT_STATS
    stat_name = next((name for name in wanted if name in available), None)
    if stat_name is None:
        raise InputDataError(
            str(stats_path),
            f"no {' or '.join(wanted)} stat to say whether each instance was answered correctly",
            found=available[:20],
            hint="choose a 0/1 stat with `correct_metric`",
        )
    return stat_name


def _check_zero_one(correct: np.ndarray, instances: list[str], stat_name: str, stats_path: Path, run: HelmRun,
                    notes: Notes) -> None:
    """Refuse a stat outside [0, 1]; a fraction (references tied for the top score) becomes unknown."""
    out_of_range = ~np.isnan(correct) & ((correct < 0) | (correct > 1))
    if out_of_range.any():
        bad = int(np.flatnonzero(out_of_range)[0])
        raise InputDataError(
            str(stats_path),
            f"instance {instances[bad]}: stat '{stat_name}' must be 0 or 1",
            found=float(correct[bad]),
            hint="choose a 0/1 stat with `correct_metric`",
        )
    fractional = ~np.isnan(correct) & (correct != 0) & (correct != 1)
    if fractional.any():
        notes.add(
            f"{run.task}, model {run.model}: {int(fractional.sum())} instances have a fractional {stat_name} "
            "(tied references); left correct empty for them",
            group=f"fractional:{run.task}:{run.model}",
        )
        correct[fractional] = np.nan


# --------------------------------------------------------------------------------------------
# p_correct from the responses


def _p_correct_from_scenario_state(run: HelmRun, instances: list[str], notes: Notes) -> np.ndarray:
    missing = np.full(len(instances), np.nan)
    state_path = run.directory / "scenario_state.json"
    if not state_path.is_file():
        notes.add("HELM: no scenario_state.json; p_correct left empty", group="no-state", subject=run.task)
        return missing
    state = _load_json(state_path)
    method = (state.get("adapter_spec") or {}).get("method")
    request_states = [
        request_state
        for request_state in state.get("request_states", [])
        if request_state.get("train_trial_index", 0) == 0
        and not (request_state.get("instance") or {}).get("perturbation")
    ]
    if method == _JOINT:
        per_instance = _joint_scores(request_states)
    elif method in (_SEPARATE_ORIGINAL, _SEPARATE_CALIBRATED):
        per_instance = _separate_scores(request_states, calibrated=method == _SEPARATE_CALIBRATED)
    else:
        notes.add(
            f"HELM: method '{method}' logs no per-reference probabilities; p_correct left empty",
            group=f"no-probabilities:{method}",
            subject=run.task,
        )
        return missing

    scored = [per_instance.get(instance) for instance in instances]
    if not any(scored):
        notes.add(
            "HELM: the responses carry no per-reference log-probabilities (e.g. no top_logprobs); p_correct left empty",
            group="no-logprobs",
            subject=run.task,
        )
        return missing
    # Instances without scores get a single -inf choice and no gold, which score_choices leaves NaN.
    scores = [entry[0] if entry else [-np.inf] for entry in scored]
    gold = [entry[1] if entry else [False] for entry in scored]
    counts = np.fromiter((len(s) for s in scores), dtype=np.int64, count=len(scores))
    score_matrix = pad_ragged(np.array([v for s in scores for v in s], dtype=np.float64), counts, -np.inf)
    gold_matrix = pad_ragged(np.array([v for g in gold for v in g], dtype=np.float64), counts, 0.0).astype(bool)
    return score_choices(score_matrix, gold_matrix).p_correct


def _gold_flags(instance: dict) -> list[bool]:
    return [_CORRECT_TAG in (reference.get("tags") or []) for reference in instance.get("references", [])]


def _first_completion(request_state: dict) -> dict | None:
    completions = (request_state.get("result") or {}).get("completions") or []
    return completions[0] if completions else None


def _joint_scores(request_states: list[dict]) -> dict[str, tuple[list[float], list[bool]]]:
    """Per instance: log-probability of each reference's letter, and which references are correct."""
    scores = {}
    for request_state in request_states:
        instance = request_state.get("instance") or {}
        completion = _first_completion(request_state)
        letters = list((request_state.get("output_mapping") or {}).keys())
        if completion is None or not completion.get("tokens") or not letters:
            continue
        top = completion["tokens"][0].get("top_logprobs") or {}
        if not top:
            continue
        # " A" and "A" are different tokens for the same answer: pool them.
        by_letter: dict[str, list[float]] = {}
        for token, logprob in top.items():
            by_letter.setdefault(token.strip(), []).append(float(logprob))
        letter_scores = [
            float(np.logaddexp.reduce(by_letter[letter])) if letter in by_letter else -np.inf for letter in letters
        ]
        scores[str(instance.get("id"))] = (letter_scores, _gold_flags(instance)[: len(letters)])
    return scores


def _separate_scores(request_states: list[dict], calibrated: bool) -> dict[str, tuple[list[float], list[bool]]]:
    """Per instance: HELM's score of each reference, and which references are correct."""
    by_instance: dict[str, dict[tuple[int, str], float]] = {}
    instances: dict[str, dict] = {}
    for request_state in request_states:
        instance = request_state.get("instance") or {}
        reference_index = request_state.get("reference_index")
        completion = _first_completion(request_state)
        references = instance.get("references") or []
        if reference_index is None or completion is None or reference_index >= len(references):
            continue
        tail = _reference_logprob(completion.get("tokens") or [], references[reference_index]["output"]["text"])
        if tail is None:
            continue
        logprob, n_tokens = tail
        mode = request_state.get("request_mode") or "original"
        score = logprob if calibrated else logprob / n_tokens
        instance_id = str(instance.get("id"))
        by_instance.setdefault(instance_id, {})[(reference_index, mode)] = score
        instances[instance_id] = instance
    scores = {}
    for instance_id, parts in by_instance.items():
        gold = _gold_flags(instances[instance_id])
        n_references = len(gold)
        if calibrated:
            reference_scores = [
                parts.get((i, "original"), np.nan) - parts.get((i, "calibration"), np.nan) for i in range(n_references)
            ]
        else:
            reference_scores = [parts.get((i, "original"), np.nan) for i in range(n_references)]
        scores[instance_id] = (reference_scores, gold)
    return scores


def _reference_logprob(tokens: list[dict], reference: str) -> tuple[float, int] | None:
    """Sum of log-probabilities of the last tokens that spell `` <reference>``, and how many.

    >>> _reference_logprob([{"text": "Q:", "logprob": -5.0}, {"text": " Par", "logprob": -1.0},
    ...                     {"text": "is", "logprob": -0.5}], "Paris")
    (-1.5, 2)
    """
    wanted = " " + reference
    text = ""
    total = 0.0
    for count, token in enumerate(reversed(tokens), start=1):
        text = str(token.get("text", "")) + text
        total += float(token.get("logprob", np.nan))
        # Stop at the exact span, or (byte-level tokens, odd spacing) once the text is as long.
        if text.strip() == reference.strip() or len(text) >= len(wanted):
            return total, count
    return None


def _group_by_scenario(dump: pa.Table, notes: Notes) -> pa.Table:
    """``mmlu:subject=anatomy,...`` -> task ``mmlu``, question ``subject=anatomy,.../<instance id>``."""
    frame = dump.select(["task", "question"]).to_pandas()
    parts = frame["task"].str.partition(":")
    has_arguments = (parts[2] != "").to_numpy()
    if not has_arguments.any():
        notes.add("group_subtasks: no HELM subtasks found to fold; tasks left as they are")
        return dump
    question = np.where(has_arguments, parts[2] + "/" + frame["question"], frame["question"])
    dump = dump.set_column(dump.schema.get_field_index("task"), "task", pa.array(parts[0].to_numpy(object), pa.string()))
    return dump.set_column(
        dump.schema.get_field_index("question"), "question", pa.array(np.asarray(question, object), pa.string())
    )
