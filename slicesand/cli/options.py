"""Options shared by several commands, as typer ``Annotated`` types, and the builders that turn a
command's parsed options into the core's option objects.

Each command module (``slice_cmd``, ``fit_cmd``, ...) declares its parameters with these types, so a
flag reads and means the same in every command.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from slicesand.errors import UsageError

STDIO = "-"  # the same marker as slicesand.io.tables.STDIO, without importing pyarrow to parse options

Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Print no information or warnings on stderr.")]
Cut = Annotated[Optional[float], typer.Option(
    "--cut", help="Training compute cut in FLOPs (e.g. 3e22): models below it are the reference/training "
                  "models, the rest are held out. Default: every model trains.")]
Groups = Annotated[int, typer.Option("--groups", "-g", help="Number of difficulty groups.")]
AccuracyFrom = Annotated[str, typer.Option("--accuracy-from", help="Accuracy from 'correct' (share marked correct) "
                                           "or 'p_correct' (mean p_correct: the expected accuracy of one sampled "
                                           "answer, e.g. pass@1 from k samples).")]
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
# The names of slicesand.fitting.model.VARIANTS (pinned by a test), so that parsing needs no numpy.
VARIANT_NAMES = ("sandwich", "hard-lift")
Variant = Annotated[Optional[str], typer.Option("--variant", help=f"One of {', '.join(VARIANT_NAMES)}; fixes the settings (default: automatic; the paper: sandwich).")]
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
DumpArgument = Annotated[str, typer.Argument(help="Eval dump: CSV, Parquet, - for CSV on stdin, or an lm-eval/"
                                                  "HELM output folder, 0/1 matrix or py-irt file.")]

From = Annotated[Optional[str], typer.Option(
    "--from", help="Kind of source: lm-eval, helm, matrix-csv, py-irt, every-eval-ever or long (default: sniffed).")]
Metric = Annotated[str, typer.Option("--metric", help="lm-eval multiple choice: acc or acc_norm.")]
FilterName = Annotated[Optional[str], typer.Option("--filter", help="lm-eval filter to keep (default: the first).")]
GroupSubtasks = Annotated[bool, typer.Option("--group-subtasks", help="Fold subtasks (mmlu_anatomy) into their parent task.")]
CorrectMetric = Annotated[Optional[str], typer.Option("--correct-metric", help="Per-record metric giving correct "
                                                                                "(lm-eval generative tasks, HELM).")]
Orientation = Annotated[str, typer.Option("--orientation", help="0/1 matrix: where the models are: auto, rows or columns.")]
TaskName = Annotated[Optional[str], typer.Option("--task-name", help="Task label for a source that has none.")]
KnownScales = Annotated[bool, typer.Option("--known-scales/--no-known-scales",
                                           help="Fill missing model scales from the bundled table of public models.")]


def import_options(params: dict):
    """The importers' options from a command's parsed parameters (``ctx.params``)."""
    from slicesand.ingest.importers import ImportOptions

    return ImportOptions(metric=params.get("metric", "acc"), filter_name=params.get("filter_name"),
                         group_subtasks=params.get("group_subtasks", False),
                         correct_metric=params.get("correct_metric"),
                         matrix_orientation=params.get("orientation", "auto"), task_name=params.get("task_name"),
                         known_scales=params.get("known_scales", True))


def dump_options(params: dict):
    """How to read a dump, from a command's parsed parameters (``ctx.params``); absent ones default."""
    import dataclasses

    from slicesand.ingest.dump import DumpColumns
    from slicesand.pipeline.stages import DumpOptions

    columns = DumpColumns(**{name: params.get(f"{name}_column", default)
                             for name, default in dataclasses.asdict(DumpColumns()).items()})
    return DumpOptions(columns=columns, layout=params.get("layout", "long"), models_path=params.get("models"),
                       ignore_unknown_models=params.get("ignore_unknown_models", False), task=params.get("task"),
                       source_kind=params.get("source_kind"), import_options=import_options(params))


def fit_options(cut, chance, easy_degree, hard_degree, variant, paper):
    """The fit options: the automatic rule unless a degree, a variant or ``--paper`` fixes them."""
    from slicesand.fitting.model import PAPER_OPTIONS, FitOptions

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


def flops_list(values: list[str] | None) -> list[float]:
    """``--at`` values (repeated or comma-separated) as floats.

    >>> flops_list(["1e24,3e24", "1e25"])
    [1e+24, 3e+24, 1e+25]
    """
    out = []
    for value in values or []:
        for item in value.split(","):
            try:
                out.append(float(item))
            except ValueError:
                raise UsageError(None, "--at takes numbers of FLOPs", found=item, hint="e.g. --at 1e24") from None
    return out


def check_output(path: str, allowed: tuple[str, ...], option: str = "-o") -> None:
    """Refuse an output name whose suffix the command cannot write."""
    if path != STDIO and Path(path).suffix.lower() not in allowed:
        raise UsageError(None, f"{option} must end in {', '.join(allowed)} (or be - for stdout)", found=path)
