"""The ``slicesand`` command line: parse options, call the core, render the result.

Nothing here computes: every command calls :mod:`slicesand.pipeline.stages` (and ``run`` calls the same
functions as the single commands, in one process).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated, Optional

import typer

from slicesand import __version__
from slicesand.artifacts.documents import dumps, read_fit
from slicesand.cli.ui import SlicesandGroup, Ui, print_frame, stdout_format, write_stdout
from slicesand.ingest.dump import DumpColumns
from slicesand.errors import UsageError
from slicesand.fitting.model import PAPER_OPTIONS, VARIANTS, FitOptions
from slicesand.forecast.predict import parse_grid, predict
from slicesand.ingest.importers import ImportOptions
from slicesand.pipeline.tasks import is_multitask_folder, read_tasks_index, render_tasks_markdown, run_tasks
from slicesand.io.tables import STDIO
from slicesand.pipeline.stages import (
    DumpOptions, fit_stage, forecast_summary, slice_stage, write_fit, write_predictions,
    write_slice_stage,
)
from slicesand.reporting.facts import build_facts, format_flops, headline
from slicesand.artifacts.slices_table import read_slices
from slicesand.slicing.difficulty import SliceOptions
from slicesand.uncertainty.intervals import add_intervals

app = typer.Typer(
    cls=SlicesandGroup,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="Forecast emergent abilities of language models from per-question eval dumps "
         "(Slice-and-Sandwich, Wu & Lo, ICLR 2025).\n\n"
         "Exit codes: 0 success, 1 internal error, 2 usage error, 3 bad input data, "
         "4 incompatible or stale artifact.",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"slicesand {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """Forecast emergent abilities of language models (Slice-and-Sandwich)."""


# ---- options shared by several commands ------------------------------------------------------------

Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Print no information or warnings on stderr.")]
Cut = Annotated[Optional[float], typer.Option(
    "--cut", help="Training compute cut in FLOPs (e.g. 3e22): models below it are the reference/training "
                  "models, the rest are held out. Default: every model trains.")]
Groups = Annotated[int, typer.Option("--groups", "-g", help="Number of difficulty groups.")]
Models = Annotated[Optional[str], typer.Option(
    "--models", help="Table of model scales: model,flops or model,params,tokens (CSV or Parquet).")]
Layout = Annotated[str, typer.Option("--layout", help="long (one row per model and question) or wide "
                                                      "(one row per question, one column per model).")]
Task = Annotated[Optional[str], typer.Option("--task", help="Use only this task of a multi-task dump.")]
IgnoreUnknown = Annotated[bool, typer.Option("--ignore-unknown-models",
                                             help="Allow models in --models that the dump does not have.")]
ModelColumn = Annotated[str, typer.Option("--model-column", help="Name of the model column.")]
QuestionColumn = Annotated[str, typer.Option("--question-column", help="Name of the question column.")]
CorrectColumn = Annotated[str, typer.Option("--correct-column", help="Name of the 0/1 correctness column.")]
PColumn = Annotated[str, typer.Option("--p-correct-column", help="Name of the probability column.")]
TaskColumn = Annotated[str, typer.Option("--task-column", help="Name of the task column.")]
FlopsColumn = Annotated[str, typer.Option("--flops-column", help="Name of the FLOPs column.")]
Chance = Annotated[float, typer.Option("--chance", help="Random-guess accuracy, for the sigmoid baseline.")]
EasyDegree = Annotated[Optional[int], typer.Option("--easy-degree", help="Degree of the easy-group polynomial; fixes the settings (default: automatic; the paper: 5).")]
HardDegree = Annotated[Optional[int], typer.Option("--hard-degree", help="Degree of the hard-group polynomial; fixes the settings (default: automatic; the paper: 2).")]
Variant = Annotated[Optional[str], typer.Option("--variant", help=f"One of {', '.join(VARIANTS)}; fixes the settings (default: automatic; the paper: sandwich).")]
Paper = Annotated[bool, typer.Option("--paper", help="Exactly the paper's settings: easy degree 5, hard "
                                                     "degree 2, sandwich, no clipping.")]
At = Annotated[Optional[list[str]], typer.Option("--at", help="FLOPs to forecast at; repeat or comma-separate.")]
Grid = Annotated[Optional[str], typer.Option("--grid", help="START:STOP:N FLOPs, log-spaced.")]
Bootstrap = Annotated[int, typer.Option("--bootstrap", min=0, help="Bootstrap draws (resampling the training "
                                                                   "models, and the questions when `run` has the dump) "
                                                                   "for 90% prediction intervals (calibrated on the "
                                                                   "training models' own future); 0 turns them off.")]
Seed = Annotated[int, typer.Option("--seed", min=0, help="Random seed of the bootstrap: the same seed gives "
                                                         "byte-identical artifacts.")]
Format = Annotated[Optional[str], typer.Option("--format", "-f", help="table, csv or json (default: table on "
                                                                       "a terminal, csv when piped).")]


From = Annotated[Optional[str], typer.Option(
    "--from", help="Kind of source: lm-eval, helm, matrix-csv, py-irt or long (default: sniffed).")]
Metric = Annotated[str, typer.Option("--metric", help="lm-eval multiple choice: acc or acc_norm.")]
FilterName = Annotated[Optional[str], typer.Option("--filter", help="lm-eval filter to keep (default: the first).")]
GroupSubtasks = Annotated[bool, typer.Option("--group-subtasks", help="Fold subtasks (mmlu_anatomy) into their parent task.")]
CorrectMetric = Annotated[Optional[str], typer.Option("--correct-metric", help="Per-record metric giving correct "
                                                                                "(lm-eval generative tasks, HELM).")]
Orientation = Annotated[str, typer.Option("--orientation", help="0/1 matrix: where the models are: auto, rows or columns.")]
TaskName = Annotated[Optional[str], typer.Option("--task-name", help="Task label for a source that has none.")]
KnownScales = Annotated[bool, typer.Option("--known-scales/--no-known-scales",
                                           help="Fill missing model scales from the bundled table of public models.")]


def _import_options(params: dict) -> ImportOptions:
    """The importers' options from a command's parsed parameters (``ctx.params``)."""
    return ImportOptions(metric=params.get("metric", "acc"), filter_name=params.get("filter_name"),
                         group_subtasks=params.get("group_subtasks", False),
                         correct_metric=params.get("correct_metric"),
                         matrix_orientation=params.get("orientation", "auto"), task_name=params.get("task_name"),
                         known_scales=params.get("known_scales", True))


TABLE_VIEW = {"model": "model", "flops": "FLOPs", "split": "split", "pred_accuracy": "forecast",
              "pred_accuracy_lo": "low", "pred_accuracy_hi": "high", "baseline_accuracy": "baseline",
              "observed_accuracy": "observed"}  # low-high: the 90% prediction interval


def _dump_options(params: dict) -> DumpOptions:
    """How to read a dump, from a command's parsed parameters (``ctx.params``); absent ones default."""
    columns = DumpColumns(**{name: params.get(f"{name}_column", default)
                             for name, default in dataclasses.asdict(DumpColumns()).items()})
    return DumpOptions(columns=columns, layout=params.get("layout", "long"), models_path=params.get("models"),
                       ignore_unknown_models=params.get("ignore_unknown_models", False), task=params.get("task"),
                       source_kind=params.get("source_kind"), import_options=_import_options(params))


def _fit_options(cut, chance, easy_degree, hard_degree, variant, paper) -> FitOptions:
    chosen = {"easy_degree": easy_degree, "hard_degree": hard_degree, "variant": variant}
    # No degree, variant or --paper: choose them automatically on the training models (slicesand.fitting.selection).
    auto = not paper and all(v is None for v in chosen.values())
    if paper:
        conflicts = [f"--{k.replace('_', '-')} {v}" for k, v in chosen.items()
                     if v is not None and v != PAPER_OPTIONS[k]]
        if conflicts:
            raise UsageError(None, f"--paper fixes the paper's settings; it conflicts with {', '.join(conflicts)}")
        chosen = dict(PAPER_OPTIONS)
    defaults = FitOptions()
    return FitOptions(cut=cut, chance=chance,
                      easy_degree=chosen["easy_degree"] if chosen["easy_degree"] is not None else defaults.easy_degree,
                      hard_degree=chosen["hard_degree"] if chosen["hard_degree"] is not None else defaults.hard_degree,
                      variant=chosen["variant"] or defaults.variant, auto=auto,
                      **({"clip": False, "extrapolation": "polynomial"} if paper else {}))


def _flops_list(values: list[str] | None) -> list[float]:
    out = []
    for value in values or []:
        for item in value.split(","):
            try:
                out.append(float(item))
            except ValueError:
                raise UsageError(None, "--at takes numbers of FLOPs", found=item, hint="e.g. --at 1e24") from None
    return out


def _check_output(path: str, allowed: tuple[str, ...], option: str = "-o") -> None:
    if path != STDIO and Path(path).suffix.lower() not in allowed:
        raise UsageError(None, f"{option} must end in {', '.join(allowed)} (or be - for stdout)", found=path)


# ---- commands ---------------------------------------------------------------------------------------

@app.command("slice")
def slice_command(
    ctx: typer.Context,
    dump: Annotated[str, typer.Argument(help="Eval dump: CSV, Parquet, - for CSV on stdin, or an lm-eval/"
                                             "HELM output folder, 0/1 matrix or py-irt file.")],
    output: Annotated[str, typer.Option("--output", "-o", help="Slices table: .csv, .parquet, or - for CSV on stdout.")] = STDIO,
    questions: Annotated[Optional[str], typer.Option("--questions", help="Also write the questions table here.")] = None,
    models: Models = None,
    cut: Cut = None,
    groups: Groups = 3,
    layout: Layout = "long",
    task: Task = None,
    ignore_unknown_models: IgnoreUnknown = False,
    model_column: ModelColumn = "model",
    question_column: QuestionColumn = "question",
    correct_column: CorrectColumn = "correct",
    p_correct_column: PColumn = "p_correct",
    task_column: TaskColumn = "task",
    flops_column: FlopsColumn = "flops",
    source_kind: From = None,
    metric: Metric = "acc",
    filter_name: FilterName = None,
    group_subtasks: GroupSubtasks = False,
    correct_metric: CorrectMetric = None,
    orientation: Orientation = "auto",
    task_name: TaskName = None,
    known_scales: KnownScales = True,
    quiet: Quiet = False,
) -> None:
    """Score every answer, rank questions by difficulty, and average each model's score per group."""
    ui = Ui(quiet)
    _check_output(output, (".csv", ".parquet", ".pq"))
    if questions is not None:
        _check_output(questions, (".csv", ".parquet", ".pq"), "--questions")
        if questions == STDIO and output == STDIO:
            raise UsageError(None, "only one of --output and --questions can be stdout")
    options = _dump_options(ctx.params)
    with ui.status("slicing"):
        stage = slice_stage(dump, SliceOptions(cut=cut, groups=groups), options)
    ui.warn_all(stage.result.warnings)
    write_slice_stage(stage, output, questions)
    facts = stage.result.facts
    ui.info(f"sliced {facts['n_ranked_questions']} questions into {groups} groups on "
            f"{facts['n_reference_models']} reference models; {facts['n_models']} models"
            + ("" if output == STDIO else f" -> {output}"))


@app.command("fit")
def fit_command(
    slices: Annotated[str, typer.Argument(help="Slices table from `slicesand slice` (or - for stdin).")],
    output: Annotated[str, typer.Option("--output", "-o", help="fit.json to write, or - for stdout.")] = STDIO,
    cut: Cut = None,
    chance: Chance = 0.25,
    easy_degree: EasyDegree = None,
    hard_degree: HardDegree = None,
    variant: Variant = None,
    paper: Paper = False,
    quiet: Quiet = False,
) -> None:
    """Fit the easy and hard curves, the TC Brier-to-accuracy line, and the sigmoid baseline."""
    ui = Ui(quiet)
    _check_output(output, (".json",))
    options = _fit_options(cut, chance, easy_degree, hard_degree, variant, paper)
    table = read_slices(slices)
    if cut is None and table.cut is not None:
        options = dataclasses.replace(options, cut=table.cut)
        ui.info(f"using the cut the slices were ranked with: {table.cut:g} FLOPs")
    elif cut is None and table.meta is None:
        # A piped or hand-made table carries no record of its cut; say what happens instead of guessing.
        ui.warn(f"{table.name} records no cut (no .meta.json beside it), so every model trains and none is "
                "held out; pass --cut to hold models out")
    fit = fit_stage(table, options)
    ui.warn_all(fit.warnings)
    write_fit(fit, output, table.source)
    ui.info(f"fitted on {len(fit.training_models)} training models ({len(fit.test_models)} held out)"
            + ("" if output == STDIO else f" -> {output}"))


@app.command("predict")
def predict_command(
    fit_path: Annotated[str, typer.Argument(metavar="FIT.json", help="fit.json from `slicesand fit`.")],
    slices: Annotated[Optional[str], typer.Argument(help="Slices table whose models to forecast (or -).")] = None,
    at: At = None,
    grid: Grid = None,
    output: Annotated[Optional[str], typer.Option("--output", "-o", help="Also write predictions: .csv or .parquet (with a .meta.json sidecar).")] = None,
    fmt: Format = None,
    bootstrap: Bootstrap = 1000,
    seed: Seed = 0,
    quiet: Quiet = False,
) -> None:
    """Forecast accuracy and TC Brier at each model, at --at scales, and on a --grid."""
    ui = Ui(quiet)
    fmt = stdout_format(fmt)
    if output is not None:
        _check_output(output, (".csv", ".parquet", ".pq"))
        if output == STDIO:
            raise UsageError(None, "predictions go to stdout already; give -o a file name")
    fit, fit_source = read_fit(fit_path)
    table = read_slices(slices) if slices is not None else None
    forecast = predict(fit, None if table is None else table.frame, at=_flops_list(at),
                       grid=None if grid is None else parse_grid(grid), source=None if table is None else table.name)
    if table is not None:  # the bootstrap refits on the training models, so it needs the slices table
        forecast = add_intervals(forecast, fit, table.frame, draws=bootstrap, seed=seed)
    elif bootstrap and fit.has_accuracy:
        ui.info("no intervals: give the slices table the fit was made on to bootstrap them")
    ui.warn_all(forecast.warnings)
    summary = forecast_summary(forecast)
    if output is not None:
        write_predictions(forecast, output, fit_source, None if table is None else table.source,
                          {"at": _flops_list(at), "grid": grid, "bootstrap": bootstrap, "seed": seed})
    if fmt == "json":
        write_stdout(dumps({**summary, "predictions": forecast.table.to_dict(orient="records")}))
    elif fmt == "table":
        # A terminal is narrow: the headline columns, with short names; csv and json carry every column.
        shown = forecast.table[[c for c in TABLE_VIEW if c in forecast.table.columns]].copy()
        shown["flops"] = shown["flops"].map(format_flops)
        print_frame(shown.rename(columns=TABLE_VIEW), fmt, title="Forecast", digits=3)
    else:
        print_frame(forecast.table, fmt)
    facts = build_facts(fit, forecast.table, summary, None)
    ui.info(headline(facts))
    if forecast.mse:
        ui.info(f"test MSE on {forecast.n_test_scored} models: forecast {forecast.mse['forecast']:.4g}, "
                f"sigmoid baseline {forecast.mse['baseline']:.4g}")


@app.command("report")
def report_command(
    outdir: Annotated[Path, typer.Argument(help="A folder made by `slicesand run`.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="table (terminal summary), md (report.md with "
                                                             "PNG figures beside it), html (one self-contained "
                                                             "report.html) or json (facts, no images).")] = "table",
    output: Annotated[Optional[Path], typer.Option(
        "--output", "-o", help="Write the report here (md, html, json). Default: OUTDIR/report.md or "
                               "OUTDIR/report.html; json goes to stdout.")] = None,
    quiet: Quiet = False,
) -> None:
    """Explain a forecast: summary, settings, fitted curves, figures, forecast table, and how it was made."""
    if fmt not in ("table", "md", "html", "json"):
        raise UsageError(None, "--format must be table, md, html or json", found=fmt)
    if fmt == "table" and output is not None:
        raise UsageError(None, "--output needs --format md, html or json", found=str(output))
    _render_report(outdir, fmt, Ui(quiet), output)


def _render_tasks_report(outdir: Path, fmt: str) -> None:
    """The cross-task summary of a multi-task run folder."""
    index = read_tasks_index(outdir)
    if fmt == "json":
        write_stdout(dumps(index))
    elif fmt == "md":
        write_stdout(render_tasks_markdown(index))
    else:
        import pandas as pd
        frame = pd.DataFrame(index["tasks"]).drop(columns=["folder"]).fillna({"error": ""})
        frame = frame.astype({c: float for c in frame.columns if c not in ("task", "error")})
        print_frame(frame, "table", title="Forecast per task")


def _render_report(outdir: Path, fmt: str, ui: Ui, output: Path | None = None, *, printed: bool = True) -> None:
    """Write (md, html; json with -o) and print (table; md and json without -o) a folder's report."""
    from slicesand.io.atomic import write_text_atomic
    from slicesand.reporting.output import read_report, write_html_report, write_markdown_report

    if is_multitask_folder(outdir) and fmt in ("table", "md", "json") and output is None:
        _render_tasks_report(outdir, fmt)
        return
    report = read_report(outdir)  # the folder is read once; every format renders this report
    facts = report.facts
    if fmt == "json":
        if output is None:
            write_stdout(dumps(facts))
        else:
            write_text_atomic(output, dumps(facts))
            ui.info(f"report -> {output}")
    elif fmt == "md":
        path, text = write_markdown_report(outdir, output, report=report)
        if output is None and printed:
            write_stdout(text)
        ui.info(f"report -> {path} (figures beside it)")
    elif fmt == "html":
        path, _ = write_html_report(outdir, output, report=report)
        ui.info(f"report -> {path}")
    else:
        from slicesand.reporting.output import print_terminal_report
        print_terminal_report(report)


@app.command("run")
def run_command(
    ctx: typer.Context,
    dump: Annotated[str, typer.Argument(help="Eval dump: CSV, Parquet, - for CSV on stdin, or an lm-eval/"
                                             "HELM output folder, 0/1 matrix or py-irt file.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for every artifact.")] = Path("slicesand_out"),
    models: Models = None,
    cut: Cut = None,
    groups: Groups = 3,
    chance: Chance = 0.25,
    easy_degree: EasyDegree = None,
    hard_degree: HardDegree = None,
    variant: Variant = None,
    paper: Paper = False,
    at: At = None,
    grid: Grid = None,
    layout: Layout = "long",
    task: Task = None,
    ignore_unknown_models: IgnoreUnknown = False,
    model_column: ModelColumn = "model",
    question_column: QuestionColumn = "question",
    correct_column: CorrectColumn = "correct",
    p_correct_column: PColumn = "p_correct",
    task_column: TaskColumn = "task",
    flops_column: FlopsColumn = "flops",
    source_kind: From = None,
    metric: Metric = "acc",
    filter_name: FilterName = None,
    group_subtasks: GroupSubtasks = False,
    correct_metric: CorrectMetric = None,
    orientation: Orientation = "auto",
    task_name: TaskName = None,
    known_scales: KnownScales = True,
    fmt: Annotated[str, typer.Option("--format", "-f", help="How to print the summary: table, md or json.")] = "table",
    spectrum_groups: Annotated[int, typer.Option("--spectrum-groups", help="Difficulty groups in the spectrum "
                                                                            "figure (0: no spectrum).")] = 10,
    figures: Annotated[bool, typer.Option("--figures/--no-figures", help="Draw the report's PNG figures.")] = True,
    bootstrap: Bootstrap = 1000,
    seed: Seed = 0,
    quiet: Quiet = False,
) -> None:
    """Run slice, fit, predict and report in one go, leaving every artifact in the output folder."""
    ui = Ui(quiet)
    if fmt not in ("table", "md", "json"):
        raise UsageError(None, "--format must be table, md or json", found=fmt)
    options = _dump_options(ctx.params)
    fit_options = _fit_options(cut, chance, easy_degree, hard_degree, variant, paper)
    with ui.status("slicing, fitting and forecasting"):
        runs = run_tasks(dump, output, SliceOptions(cut=cut, groups=groups), fit_options, options,
                         at=_flops_list(at), grid=None if grid is None else parse_grid(grid),
                         spectrum_groups=spectrum_groups or None, figures=figures, bootstrap=bootstrap, seed=seed,
                         argv=ctx.meta.get("slicesand.argv"))
    if runs.multitask:
        ui.warn_all(runs.notes)
        _render_tasks_report(runs.outdir, fmt)
        ui.info(f"one folder per task in {runs.outdir}/, with tasks.csv and report.md across tasks")
        return
    result = next(iter(runs.runs.values()))
    ui.warn_all(result.notes)
    # The report itself lists the warnings, so they are not printed twice.
    if fmt == "md":
        write_stdout((result.outdir / "report.md").read_text(encoding="utf-8"))
    else:
        _render_report(result.outdir, fmt, ui)
    ui.info(f"artifacts in {result.outdir}/: slices.csv, questions.csv, fit.json, predictions.csv, report.md"
            + (" and figures" if figures else ""))


def main() -> None:
    """Console entry point."""
    app()


from slicesand.cli import backtest_cmd, import_cmd  # noqa: E402,F401  register `backtest`, `import`, `models`
