"""The Python API: :func:`run` forecasts from a dump (a file or a DataFrame) and returns a :class:`Run`.

It goes through the same code as ``slicesand run`` (:func:`slicesand.config.run_config`, then, with an
``output`` folder, :func:`slicesand.pipeline.tasks.run_tasks`, which runs
:func:`slicesand.pipeline.stages.compute_run` per task; without one, ``compute_run`` alone) with the same
defaults, so the same input and options give the same forecast and the same folder. The stage functions (:func:`slice_dump`, :func:`fit_slices`, :func:`predict`) are
there for those who want one stage at a time.

>>> import slicesand
>>> result = slicesand.run("sample_data/eval_dump.csv", models="sample_data/models.csv", cut=3e22,
...                        at=[1e24], bootstrap=0)  # doctest: +SKIP
>>> result.predictions[["model", "flops", "pred_accuracy"]].tail(1)  # doctest: +SKIP
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from slicesand.config import RunConfig, run_config

if TYPE_CHECKING:
    import pandas as pd

    from slicesand.diagnostics import Diagnostic
    from slicesand.fitting.model import Fit
    from slicesand.forecast.predict import Forecast
    from slicesand.pipeline.stages import RunResult
    from slicesand.slicing.difficulty import SliceResult

FRAME_NAME = "<DataFrame>"
REPORT_FORMATS = ("md", "html", "json", "table")


def _loaded(source: Any, config: RunConfig):
    """A path as it is (the stages read it as the command line does: a Parquet dump out of core), or a
    long DataFrame read through the very reader a CSV file goes through."""
    from slicesand.pipeline.stages import load_stage_dump

    if isinstance(source, (str, Path)):
        return str(source), None
    import pandas as pd

    if not isinstance(source, pd.DataFrame):
        from slicesand.errors import UsageError

        raise UsageError(None, "`source` must be a path or a pandas DataFrame", found=type(source).__name__)
    from slicesand.io.tables import STDIO, Source

    data = source.to_csv(index=False, lineterminator="\n").encode("utf-8")
    dump, flops, notes = load_stage_dump(STDIO, config.dump, stdin=io.BytesIO(data))
    return FRAME_NAME, (replace(dump, source=Source(FRAME_NAME, dump.source.sha256)), flops, notes)


@dataclass(frozen=True)
class Run:
    """What :func:`run` made: the slices, the fit, the predictions, the threshold and the warnings, and
    the report in any format (:meth:`report`). ``outdir`` is the folder written, when one was asked for.

    A multi-task dump written to a folder gives one :class:`Run` per task in ``tasks`` (by task name),
    and ``summary``, one row per task (``tasks.csv``); the one-task results are then each task's own.
    """

    result: RunResult | None
    config: RunConfig
    tasks: dict[str, Run] = field(default_factory=dict)
    summary: pd.DataFrame | None = None
    folder: Path | None = None  # a multi-task run's folder (a one-task run's is its result's)

    @property
    def outdir(self) -> Path | None:
        return self.folder if self.result is None else self.result.outdir

    @property
    def _one(self) -> RunResult:
        if self.result is None:
            from slicesand.errors import UsageError

            raise UsageError(str(self.outdir), f"holds {len(self.tasks)} tasks, each forecast on its own",
                             hint=f"read `.tasks[NAME]` (one of {', '.join(map(repr, self.tasks))}) or `.summary`")
        return self.result

    @property
    def slices(self) -> pd.DataFrame:
        """One row per model: scale, accuracy, TC Brier and each difficulty group's mean score."""
        return self._one.slice_stage.result.slices

    @property
    def questions(self) -> pd.DataFrame:
        """One row per question: its difficulty and group."""
        return self._one.slice_stage.result.questions

    @property
    def fit(self) -> Fit:
        """The fitted curves (:class:`slicesand.fitting.model.Fit`)."""
        return self._one.fit

    @property
    def forecast(self) -> Forecast:
        return self._one.forecast

    @property
    def predictions(self) -> pd.DataFrame:
        """One row per model and forecast scale: forecast, interval, baselines, observed accuracy."""
        return self._one.forecast.table

    @property
    def threshold(self) -> float | None:
        """The predicted emergence threshold in FLOPs; ``None`` when none is in range."""
        return self._one.forecast.threshold_flops

    @property
    def warnings(self) -> list[Diagnostic]:
        """Every reason for caution, as :class:`slicesand.diagnostics.Diagnostic` objects (of every task,
        each naming its task, for a multi-task run)."""
        if self.result is None:
            from slicesand.diagnostics import with_task

            return list(dict.fromkeys(w for task, run in self.tasks.items() for w in with_task(run.warnings, task)))
        return list(dict.fromkeys(self.result.warnings + self.result.notes))

    def report(self, format: str = "md") -> str:  # noqa: A002 - the CLI's word for it
        """The report as text: ``md`` (figures linked only when the run was written with them), ``html``
        (self-contained, figures inlined), ``json`` (the facts) or ``table`` (the terminal summary).
        A multi-task run's is the summary across tasks (``md``, or ``json``: ``tasks.json``)."""
        from slicesand.pipeline.stages import run_report

        if format not in REPORT_FORMATS:
            from slicesand.errors import UsageError

            raise UsageError(None, f"`format` must be one of {', '.join(REPORT_FORMATS)}", found=format)
        if self.result is None:
            return self._tasks_report(format)
        report = run_report(self.result, self.config)
        if format == "json":
            from slicesand.artifacts.documents import dumps

            return dumps(report.facts)
        if format == "html":
            from slicesand.reporting.figures import FIGURE_TITLES
            from slicesand.reporting.html import render_html
            from slicesand.reporting.output import render_images

            images = {key: (FIGURE_TITLES[key], data["png"]) for key, data in render_images(report).items()}
            return render_html(report.facts, images)
        figures = {}
        if self.outdir is not None and self.config.report.figures and report.figures is not None:
            from slicesand.reporting.figures import FIGURE_TITLES, figure_file_name, figure_keys

            figures = {key: (FIGURE_TITLES[key], figure_file_name(key)) for key in figure_keys(report.figures)}
        if format == "md":
            from slicesand.reporting.markdown import render_markdown

            return render_markdown(report.facts, figures)
        from rich.console import Console

        from slicesand.reporting.terminal import print_report

        console = Console(file=io.StringIO(), width=100, highlight=False, color_system=None)
        print_report(report.facts, figures, console=console)
        return console.file.getvalue()

    def _tasks_report(self, format: str) -> str:  # noqa: A002
        from slicesand.pipeline.tasks import read_tasks_index

        if format not in ("md", "json"):
            from slicesand.errors import UsageError

            raise UsageError(str(self.outdir), f"holds one run per task; its summary across tasks is md or json, "
                             f"not {format}", hint="ask `.tasks[NAME].report(...)` for one task's")
        index = read_tasks_index(self.outdir)
        if format == "json":
            from slicesand.artifacts.documents import dumps

            return dumps(index)
        from slicesand.reporting.markdown import render_tasks_markdown

        return render_tasks_markdown(index)


def run(source: str | Path | pd.DataFrame, *, output: str | Path | None = None, force: bool = False,
        **options: Any) -> Run:
    """Slice, fit and forecast ``source`` (a dump path or a long DataFrame); write the run folder too
    when ``output`` is given, through the very function ``slicesand run -o`` calls
    (:func:`slicesand.pipeline.tasks.run_tasks`): built beside it and swapped in whole, with its manifest
    (so ``slicesand report`` reads it), one folder per task for a multi-task dump (``Run.tasks``), and
    refusing a folder that is not a run unless ``force``. A multi-task run in which a task could not be
    forecast raises :class:`slicesand.pipeline.tasks.TasksFailed` after the folder is written.

    ``options`` are :func:`slicesand.config.run_config`'s keywords, with the command line's defaults:
    ``cut``, ``groups``, ``at``, ``grid``, ``bootstrap``, ``seed``, ``models``, ``task``, ``easy_degree``,
    ``hard_degree``, ``variant``, ``paper``, ``chance`` and the reading options.
    """
    from slicesand.pipeline.stages import compute_run

    config = run_config(**options)
    name, loaded = _loaded(source, config)
    if output is None:
        return Run(compute_run(name, config, loaded=loaded), config)
    from slicesand.pipeline.tasks import run_tasks

    runs = run_tasks(name, output, config, loaded=loaded, force=force)
    if runs.failed is not None:
        raise runs.failed
    if not runs.multitask:
        return Run(next(iter(runs.runs.values())), config)
    tasks = {task: Run(result, replace(config, dump=replace(config.dump, task=task)))
             for task, result in runs.runs.items()}
    return Run(None, config, tasks, runs.summary, runs.outdir)


def slice_dump(source: str | Path | pd.DataFrame, **options: Any) -> SliceResult:
    """The slicing stage alone: ``.slices`` (per model), ``.questions``, ``.facts`` and ``.warnings``."""
    from slicesand.pipeline.stages import slice_stage

    config = run_config(**options)
    name, loaded = _loaded(source, config)
    return slice_stage(name, config.slicing, config.dump, loaded=loaded).result


def fit_slices(slices: pd.DataFrame, **options: Any) -> Fit:
    """The fit stage alone, on a slices table (``Run.slices`` or :func:`slice_dump`'s ``.slices``), with
    the same rule as :func:`run` (automatic unless a degree, a variant or ``paper`` fixes it)."""
    from slicesand.fitting.selection import fit

    return fit(slices, run_config(**options).fit, source="slices")


def predict(fit: Fit, slices: pd.DataFrame | None = None, **options: Any) -> Forecast:
    """The forecast stage alone: at the models of ``slices``, at ``at`` and on ``grid``; with
    ``bootstrap`` draws (needs ``slices``) for the 90% prediction intervals."""
    from slicesand.forecast.predict import predict as predict_fit
    from slicesand.uncertainty.intervals import add_intervals

    config = run_config(**options)
    grid = None if config.predict.grid is None else list(config.predict.grid)
    forecast = predict_fit(fit, slices, at=list(config.predict.at), grid=grid)
    return add_intervals(forecast, fit, slices, draws=config.uncertainty.draws, seed=config.uncertainty.seed)
