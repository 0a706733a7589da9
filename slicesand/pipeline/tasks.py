"""Forecast every task of a multi-task dump separately: its own slicing, its own fit, its own folder.

:func:`run_tasks` reads the dump once, then runs :func:`slicesand.pipeline.stages.run_all` per task into
``OUTDIR/<task>/``, and writes ``OUTDIR/tasks.json`` (the index), ``OUTDIR/tasks.csv`` and
``OUTDIR/report.md``, which opens with one table across tasks. A task that cannot be forecast (say,
too few models) is reported as such instead of stopping the others.

>>> task_folder_names(["mmlu", "arc/easy", "arc easy"])
['mmlu', 'arc_easy', 'arc_easy-2']
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd

from slicesand.artifacts.documents import artifact_header, dumps, read_json_artifact
from slicesand.diagnostics import Diagnostic, diagnostic, with_task
from slicesand.errors import SlicesandError
from slicesand.config import RunConfig
from slicesand.io.atomic import write_text_atomic
from slicesand.io.tables import write_table
from slicesand.pipeline.stages import RunResult, load_stage_dump, run_all
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


def task_folder_names(tasks: list[str]) -> list[str]:
    """A safe, unique folder name per task."""
    names, seen = [], {}
    for task in tasks:  # a handful of tasks, not rows
        base = re.sub(r"[^A-Za-z0-9._-]+", "_", task).strip("._") or "task"
        seen[base] = seen.get(base, 0) + 1
        names.append(base if seen[base] == 1 else f"{base}-{seen[base]}")
    return names


def _summary_row(task: str, folder: str, run: RunResult | None, error: str | None) -> dict:
    row = dict.fromkeys(SUMMARY_COLUMNS)
    row.update(task=task, folder=folder, error=error)
    if run is None:
        return row
    table = run.forecast.table
    largest = table.loc[table["flops"].idxmax()]
    row.update(models=int((table["split"] != "none").sum()), cut_flops=run.fit.options.cut,
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
) -> TaskRuns:
    """Run the whole pipeline once per task of the dump (read once), then write the cross-task index.

    A dump with one task (or ``config.dump.task`` set) is one plain run into ``outdir``.
    """
    outdir = Path(outdir)
    dump_options = config.dump
    loaded = load_stage_dump(dump_path, dump_options, stdin=stdin)
    dump = loaded[0]
    tasks = dump.tasks
    if dump_options.task is not None or len(tasks) == 1:
        run = run_all(dump_path, outdir, config, loaded=loaded)
        task = dump_options.task or tasks[0]
        summary = pd.DataFrame([_summary_row(task, ".", run, None)], columns=SUMMARY_COLUMNS)
        return TaskRuns(outdir, summary, {task: run}, [], multitask=False)
    rows, runs, notes = [], {}, []
    for task, folder in zip(tasks, task_folder_names(tasks)):
        try:
            run = run_all(dump_path, outdir / folder, replace(config, dump=replace(dump_options, task=task)),
                          loaded=loaded)
        except SlicesandError as exc:
            rows.append(_summary_row(task, folder, None, str(exc)))
            notes.append(diagnostic("task-failed", f"task {task}: not forecast: {exc}", task=task))
            continue
        runs[task] = run
        rows.append(_summary_row(task, folder, run, None))
    summary = pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
    index = artifact_header("slicesand.tasks", {"cut": config.slicing.cut, "groups": config.slicing.groups},
                            dump.source)
    index["tasks"] = summary.replace({np.nan: None}).to_dict(orient="records")
    # Every task's warnings, each naming its task, then the tasks that could not be forecast.
    index["warnings"] = [*(w for task, run in runs.items() for w in with_task(run.warnings, task)), *notes]
    write_table(summary, outdir / "tasks.csv")
    if config.report.figures:  # one small panel per task forecast (slicesand.reporting.overview)
        from slicesand.reporting.facts import FigureInputs
        from slicesand.reporting.overview import write_overview

        index["overview"] = write_overview([FigureInputs(
            fit=run.fit, slices=run.slice_stage.result.slices, predictions=run.forecast.table,
            threshold_flops=run.forecast.threshold_flops, task=task) for task, run in runs.items()], outdir)
    write_text_atomic(outdir / INDEX, dumps(index))
    write_text_atomic(outdir / "report.md", render_tasks_markdown(index))
    return TaskRuns(outdir, summary, runs, notes)


def is_multitask_folder(outdir: str | Path) -> bool:
    return (Path(outdir) / INDEX).exists()


def read_tasks_index(outdir: str | Path) -> dict:
    return read_json_artifact(Path(outdir) / INDEX, "slicesand.tasks")
