"""Forecast every task of a multi-task dump separately: its own slicing, its own fit, its own folder.

:func:`run_tasks` reads the dump once, then runs :func:`slicesand.pipeline.stages.run_all` per task into
``OUTDIR/<task>/``, and writes ``OUTDIR/tasks.json`` (the index), ``OUTDIR/tasks.csv`` and
``OUTDIR/report.md``, which opens with one table across tasks. A task that cannot be forecast (say,
too few models) is reported as such instead of stopping the others, and the run then fails
(:class:`TasksFailed`) after writing the folder. The whole folder is built beside ``OUTDIR`` and swapped
into place at the end (:mod:`slicesand.artifacts.run_folder`).

A task's folder is a readable slug plus a short hash of the exact name, so folder names are unique by
construction, also on a case-insensitive disk, and never a reserved name or longer than a file name may be:

>>> task_folder_names(["mmlu", "MMLU", "arc/easy"])
['mmlu-10f90160', 'MMLU-6ee568af', 'arc_easy-48dc6e68']
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

import pandas as pd

from slicesand.artifacts.documents import artifact_header, check_tasks_index, dumps, read_json_artifact
from slicesand.artifacts.run_folder import check_manifest, check_run_target, staged_run_folder
from slicesand.diagnostics import Diagnostic, diagnostic, with_task
from slicesand.errors import SlicesandError
from slicesand.config import RunConfig
from slicesand.io.atomic import write_text_atomic
from slicesand.io.tables import write_table
from slicesand.pipeline.stages import Loaded, RunResult, ScannedInput, run_all, run_input
from slicesand.reporting.markdown import render_tasks_markdown

INDEX = "tasks.json"
SUMMARY_COLUMNS = ["task", "folder", "models", "cut_flops", "largest_flops", "forecast_accuracy",
                   "threshold_flops", "test_mse", "baseline_mse", "error"]


@dataclass
class TaskRuns:
    """What :func:`run_tasks` made: one row per task, and the runs that succeeded."""

    outdir: Path
    summary: pd.DataFrame
    runs: dict[str, RunResult]
    notes: list[Diagnostic]
    multitask: bool = True
    failed: SlicesandError | None = None  # raise it after printing the summary: some tasks failed


class TasksFailed(SlicesandError):
    """Some tasks of a multi-task run could not be forecast; ``tasks.csv`` says why. The exit code is
    the first failed task's (3 for bad data)."""

    def __init__(self, outdir: Path, failures: list[SlicesandError], total: int) -> None:
        self.exit_code = failures[0].exit_code
        super().__init__(str(outdir), f"{len(failures)} of {total} tasks could not be forecast; first: "
                         f"{failures[0]}", hint=f"{outdir / 'tasks.csv'} lists every task and why")


def task_folder_names(tasks: list[str]) -> list[str]:
    """A safe folder name per task: a slug of the name (at most 60 characters) and 8 hex digits of its
    sha256. Two names give one folder only if their hashes collide, which is checked."""
    names = []
    for task in tasks:  # a handful of tasks, not rows
        slug = re.sub(r"[^A-Za-z0-9._-]+", "_", task).strip("._-")[:60] or "task"
        names.append(f"{slug}-{hashlib.sha256(task.encode('utf-8')).hexdigest()[:8]}")
    if len({n.lower() for n in names}) != len(names):  # pragma: no cover - a 32-bit hash collision
        raise SlicesandError(None, "two task names map to one folder", found=", ".join(tasks))
    return names


def _summary_row(task: str, folder: str, run: RunResult | None, error: str | None) -> dict:
    row = dict.fromkeys(SUMMARY_COLUMNS)
    row.update(task=task, folder=folder, error=error)
    if run is None:
        return row
    table = run.forecast.table
    shown = table[table["split"] != "excluded"]  # as in the report's headline
    largest = shown.loc[shown["flops"].idxmax()]
    row.update(models=int(table["split"].isin(["train", "test"]).sum()), cut_flops=run.fit.options.cut,
               largest_flops=float(largest["flops"]), forecast_accuracy=float(largest["pred_accuracy"]),
               threshold_flops=run.forecast.threshold_flops)
    if run.forecast.mse:
        row.update(test_mse=run.forecast.mse["forecast"], baseline_mse=run.forecast.mse["baseline"])
    return row


def run_tasks(
    dump_path: str | Path,
    outdir: str | Path,
    config: RunConfig = RunConfig(),
    *,
    stdin: BinaryIO | None = None,
    force: bool = False,
    loaded: Loaded | None = None,
) -> TaskRuns:
    """Run the whole pipeline once per task of the dump (read once), then write the cross-task index.

    The command line's ``run`` and :func:`slicesand.run` with an ``output`` folder both come through
    here: the dump is read from ``dump_path`` (or ``stdin``), or taken as ``loaded`` (a dump already in
    memory, as the library makes of a DataFrame; ``dump_path`` then only names it). A dump with one
    task (or ``config.dump.task`` set) is one plain run into ``outdir``. The folder is built beside
    ``outdir`` and swapped in whole (:func:`staged_run_folder`); ``force`` lets it replace a folder that
    is not a slicesand run.
    """
    outdir = Path(outdir)
    check_run_target(outdir, force=force)  # refuse a wrong folder before reading a big dump
    dump_options = config.dump
    # In memory, or (a big Parquet file, a folder or a glob) out of core with the DuckDB scans; or as
    # the caller loaded it (the library's DataFrame).
    if loaded is None:
        loaded = run_input(dump_path, dump_options, memory_budget=config.uncertainty.memory_budget * 1e9,
                           stdin=stdin)
    if isinstance(loaded, ScannedInput):
        tasks, source = loaded.tasks, None
    else:
        tasks, source = loaded[0].tasks, loaded[0].source
    failures = []
    with staged_run_folder(outdir, force=force) as staging:
        if dump_options.task is not None or len(tasks) == 1:
            run = run_all(dump_path, staging, config, loaded=loaded, seal=False)  # the staging seals it
            task = dump_options.task or tasks[0]
            summary = pd.DataFrame([_summary_row(task, ".", run, None)], columns=SUMMARY_COLUMNS)
            runs = {task: replace(run, outdir=outdir)}
            result = TaskRuns(outdir, summary, runs, [], multitask=False)
        else:
            result, failures = _run_every_task(tasks, source or loaded.scanner.source(), dump_path, staging,
                                               outdir, config, loaded)
    if result.multitask and failures:
        result.failed = TasksFailed(outdir, failures, len(tasks))
    return result


def _run_every_task(tasks: list[str], source, dump_path, staging: Path, outdir: Path, config: RunConfig,
                    loaded) -> tuple[TaskRuns, list[SlicesandError]]:
    """Each task into its own folder of ``staging``; the index, tasks.csv and report.md across them."""
    rows, runs, notes, failures = [], {}, [], []
    for task, folder in zip(tasks, task_folder_names(tasks)):
        try:
            run = run_all(dump_path, staging / folder, replace(config, dump=replace(config.dump, task=task)),
                          loaded=loaded)
        except SlicesandError as exc:
            rows.append(_summary_row(task, folder, None, str(exc)))
            notes.append(diagnostic("task-failed", f"task {task}: not forecast: {exc}", task=task))
            failures.append(exc)
            continue
        runs[task] = replace(run, outdir=outdir / folder)
        rows.append(_summary_row(task, folder, run, None))
    summary = pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
    summary["models"] = summary["models"].astype("Int64")  # a count, also beside a failed task's null
    index = artifact_header("slicesand.tasks", {"cut": config.slicing.cut, "groups": config.slicing.groups},
                            source)
    index["tasks"] = summary.astype(object).where(summary.notna(), None).to_dict(orient="records")
    # Every task's warnings, each naming its task, then the tasks that could not be forecast.
    index["warnings"] = [*(w for task, run in runs.items() for w in with_task(run.warnings, task)), *notes]
    write_table(summary, staging / "tasks.csv")
    if config.report.figures:  # one small panel per task forecast (slicesand.reporting.overview)
        from slicesand.reporting.facts import FigureInputs
        from slicesand.reporting.overview import write_overview

        index["overview"] = write_overview([FigureInputs(
            fit=run.fit, slices=run.slice_stage.result.slices, predictions=run.forecast.table,
            threshold_flops=run.forecast.threshold_flops, task=task) for task, run in runs.items()], staging)
    write_text_atomic(staging / INDEX, dumps(index))
    write_text_atomic(staging / "report.md", render_tasks_markdown(index))
    return TaskRuns(outdir, summary, runs, notes), failures


def is_multitask_folder(outdir: str | Path) -> bool:
    return (Path(outdir) / INDEX).exists()


def read_tasks_index(outdir: str | Path) -> dict:
    check_manifest(outdir)
    return check_tasks_index(read_json_artifact(Path(outdir) / INDEX, "slicesand.tasks"), str(Path(outdir) / INDEX))
