"""Options shared by several commands, as typer ``Annotated`` types grouped into ``--help`` panels, and
:func:`from_cli`, which turns a command's parsed options into the one run configuration.

Each command module (``slice_cmd``, ``fit_cmd``, ...) declares its own parameters and adds the shared
groups (:data:`INPUT`, :data:`COLUMNS`, :data:`IMPORT`, :data:`SLICING`, :data:`FIT`, :data:`FORECAST`,
:data:`UNCERTAINTY`) with :func:`with_options`, so a flag reads and means the same in every command.
:func:`cli_message` is the one place where the core's parameter names (`` `cut` ``) become flags.

>>> cli_message("`cut` 1e+30 leaves no model at or above it (hint: lower `cut`)")
'--cut 1e+30 leaves no model at or above it (hint: lower --cut)'
"""

from __future__ import annotations

import inspect
import re
import typing
import os
from pathlib import Path
from typing import Annotated, Optional

import typer

from slicesand.errors import UsageError

STDIO = "-"  # the same marker as slicesand.io.tables.STDIO, without importing pyarrow to parse options
NO_METAVAR = " "  # flags take no value: show none instead of <bool>

# --help panels, in the order they are shown.
INPUT_PANEL, COLUMNS_PANEL, IMPORT_PANEL = "Input", "Dump columns", "Importers (lm-eval, HELM, matrices)"
SLICING_PANEL, FIT_PANEL, FORECAST_PANEL, OUTPUT_PANEL = "Cut and groups", "Fit", "Forecast and intervals", "Output"


def _flag(*names: str, help: str, panel: str | None = None) -> typer.models.OptionInfo:
    return typer.Option(*names, help=help, metavar=NO_METAVAR, rich_help_panel=panel)


def _option(*names: str, help: str, metavar: str, panel: str | None = None, **kwargs) -> typer.models.OptionInfo:
    return typer.Option(*names, help=help, metavar=metavar, rich_help_panel=panel, **kwargs)


Quiet = Annotated[bool, _flag("--quiet", "-q", help="No information or warnings on stderr.", panel=OUTPUT_PANEL)]
Strict = Annotated[bool, _flag("--strict", panel=OUTPUT_PANEL,
                               help="Exit 6 on a trust warning.")]
Format = Annotated[Optional[str], _option("--format", "-f", metavar="FMT", panel=OUTPUT_PANEL,
                                          help="table, csv or json (default: table on a terminal, csv piped).")]
DumpArgument = Annotated[str, typer.Argument(metavar="DUMP", help="Eval dump: CSV, Parquet, - (CSV on stdin), an "
                                                                  "lm-eval/HELM folder, a 0/1 matrix or py-irt file.")]

Models = Annotated[Optional[str], _option("--models", metavar="FILE", panel=INPUT_PANEL,
                                          help="Model scales: model,flops or model,params,tokens.")]
Layout = Annotated[str, _option("--layout", metavar="long|wide", panel=INPUT_PANEL, show_default=False,
                                help="One row per answer (long) or per question (wide).")]
Task = Annotated[Optional[str], _option("--task", metavar="NAME", panel=INPUT_PANEL,
                                        help="Only this task of a multi-task dump.")]
IgnoreUnknown = Annotated[bool, _flag("--ignore-unknown-models", panel=INPUT_PANEL,
                                      help="Allow --models rows the dump does not have.")]
ModelColumn = Annotated[str, _option("--model-column", metavar="NAME", panel=COLUMNS_PANEL, help="Model.")]
QuestionColumn = Annotated[str, _option("--question-column", metavar="NAME", panel=COLUMNS_PANEL, help="Question.")]
CorrectColumn = Annotated[str, _option("--correct-column", metavar="NAME", panel=COLUMNS_PANEL, help="0/1 correct.")]
PColumn = Annotated[str, _option("--p-correct-column", metavar="NAME", panel=COLUMNS_PANEL, help="Probability.")]
TaskColumn = Annotated[str, _option("--task-column", metavar="NAME", panel=COLUMNS_PANEL, help="Task.")]
FlopsColumn = Annotated[str, _option("--flops-column", metavar="NAME", panel=COLUMNS_PANEL, help="FLOPs.")]

From = Annotated[Optional[str], _option("--from", metavar="KIND", panel=IMPORT_PANEL,
                                        help="Default: sniffed. One of every-eval-ever, lm-eval, helm, matrix-csv, py-irt, long.")]
Metric = Annotated[str, _option("--metric", metavar="acc|acc_norm", panel=IMPORT_PANEL, show_default=False,
                                help="lm-eval multiple choice metric.")]
FilterName = Annotated[Optional[str], _option("--filter", metavar="NAME", panel=IMPORT_PANEL,
                                              help="lm-eval filter to keep (default: the first).")]
GroupSubtasks = Annotated[bool, _flag("--group-subtasks", panel=IMPORT_PANEL,
                                      help="Fold subtasks (mmlu_anatomy) into their parent.")]
CorrectMetric = Annotated[Optional[str], _option("--correct-metric", metavar="NAME", panel=IMPORT_PANEL,
                                                 help="Per-record 0/1 metric (generative lm-eval, HELM).")]
Orientation = Annotated[str, _option("--orientation", metavar="auto|rows|columns", panel=IMPORT_PANEL,
                                     show_default=False, help="0/1 matrix: where the models are.")]
TaskName = Annotated[Optional[str], _option("--task-name", metavar="NAME", panel=IMPORT_PANEL,
                                            help="Task label for a source that has none.")]
NoKnownScales = Annotated[bool, _flag("--no-known-scales", panel=INPUT_PANEL,
                                      help="Do not fill missing scales from the bundled public models.")]

Cut = Annotated[Optional[float], _option("--cut", metavar="FLOPS", panel=SLICING_PANEL,
                                         help="Models below it train; the rest are held out (default: all train).")]
Groups = Annotated[int, _option("--groups", "-g", metavar="N", panel=SLICING_PANEL, help="Difficulty groups.")]
AccuracyFrom = Annotated[str, _option("--accuracy-from", metavar="correct|p_correct", panel=SLICING_PANEL,
                                      show_default=False, help="Accuracy as the share correct (default) or the "
                                                               "mean p_correct (e.g. pass@1 from k samples).")]

Chance = Annotated[float, _option("--chance", metavar="P", panel=FIT_PANEL, help="Random-guess accuracy.")]
EasyDegree = Annotated[Optional[int], _option("--easy-degree", metavar="N", panel=FIT_PANEL,
                                              help="Easy-group polynomial degree (paper: 5).")]
HardDegree = Annotated[Optional[int], _option("--hard-degree", metavar="N", panel=FIT_PANEL,
                                              help="Hard-group polynomial degree (paper: 2).")]
# The names of slicesand.fitting.model.VARIANTS (pinned by a test), so that parsing needs no numpy.
VARIANT_NAMES = ("sandwich", "hard-lift")
Variant = Annotated[Optional[str], _option("--variant", metavar="|".join(VARIANT_NAMES), panel=FIT_PANEL,
                                           help="Curve combination (paper: sandwich).")]
Paper = Annotated[bool, _flag("--paper", panel=FIT_PANEL,
                              help="The paper's settings: degrees 5 and 2, sandwich, no clipping. A degree, "
                                   "variant or --paper replaces the automatic default.")]

At = Annotated[Optional[list[str]], _option("--at", metavar="FLOPS", panel=FORECAST_PANEL,
                                            help="Scales to forecast at; repeat or comma-separate.")]
Grid = Annotated[Optional[str], _option("--grid", metavar="START:STOP:N", panel=FORECAST_PANEL,
                                        help="Log-spaced FLOPs to forecast at.")]
Bootstrap = Annotated[int, _option("--bootstrap", metavar="DRAWS", panel=FORECAST_PANEL,
                                   help="Draws for the 90% prediction intervals (0: none).")]
Seed = Annotated[int, _option("--seed", metavar="N", panel=FORECAST_PANEL,
                              help="Bootstrap seed: same seed, same bytes.")]


def _parameter(name: str, annotation, default) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)


# Option groups shared by commands; their defaults are slicesand.config.run_config's (pinned by a test).
INPUT = (_parameter("models", Models, None), _parameter("layout", Layout, "long"),
         _parameter("task", Task, None), _parameter("ignore_unknown_models", IgnoreUnknown, False),
         _parameter("no_known_scales", NoKnownScales, False))
COLUMNS = tuple(_parameter(f"{name}_column", annotation, name) for name, annotation in (
    ("model", ModelColumn), ("question", QuestionColumn), ("correct", CorrectColumn),
    ("p_correct", PColumn), ("task", TaskColumn), ("flops", FlopsColumn)))
IMPORT = (_parameter("source_kind", From, None), _parameter("metric", Metric, "acc"),
          _parameter("filter_name", FilterName, None), _parameter("group_subtasks", GroupSubtasks, False),
          _parameter("correct_metric", CorrectMetric, None), _parameter("orientation", Orientation, "auto"),
          _parameter("task_name", TaskName, None))
SLICING = (_parameter("cut", Cut, None), _parameter("groups", Groups, 3),
           _parameter("accuracy_from", AccuracyFrom, "correct"))
FIT = (_parameter("chance", Chance, 0.25), _parameter("easy_degree", EasyDegree, None),
       _parameter("hard_degree", HardDegree, None), _parameter("variant", Variant, None),
       _parameter("paper", Paper, False))
FORECAST = (_parameter("at", At, None), _parameter("grid", Grid, None))
UNCERTAINTY = (_parameter("bootstrap", Bootstrap, 1000), _parameter("seed", Seed, 0))


def with_options(*groups: tuple[inspect.Parameter, ...]):
    """Add the shared option groups to a command: typer sees them in its signature, and the command
    receives them in its ``**options``. The command's own parameters come first.

    >>> @with_options(FORECAST)
    ... def command(dump: str, **options) -> None: ...
    >>> list(inspect.signature(command).parameters)
    ['dump', 'at', 'grid']
    """
    def decorate(func):
        signature = inspect.signature(func, eval_str=True)  # typer reads a given signature as it is
        own = [p for p in signature.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
        shared = [p for group in groups for p in group]
        func.__signature__ = signature.replace(parameters=own + shared)
        func.__annotations__ = {**func.__annotations__, **{p.name: p.annotation for p in shared}}
        return func
    return decorate


def _flag_names() -> dict[str, str]:
    """Parameter name -> its flag, from the shared options' declarations."""
    names = {}
    for group in (INPUT, COLUMNS, IMPORT, SLICING, FIT, FORECAST, UNCERTAINTY):
        for parameter in group:
            info = typing.get_args(parameter.annotation)[1]
            # In an Annotated option, typer takes the first name from the ``default`` slot.
            names[parameter.name] = [info.default, *info.param_decls][0].split("/")[0]
    return names


# Library names the core uses (slicesand.run_config, ImportOptions, run_tasks) whose flag is spelt otherwise.
FLAGS = {**_flag_names(), "models_path": "--models", "draws": "--bootstrap", "spectrum_groups": "--spectrum-groups",
         "matrix_orientation": "--orientation", "cuts": "--cuts", "outdir": "-o", "force": "--force",
         "memory_budget": "--memory-budget"}


def cli_message(text: str) -> str:
    """The core's message with each `` `parameter` `` it names shown as the command line's flag."""
    return re.sub(r"`([a-z_]+)`", lambda match: FLAGS.get(match[1], match[0]), text)


def import_options(params: dict):
    """The importers' options from a command's parsed parameters (``ctx.params``); absent ones default."""
    from slicesand.ingest.importers import ImportOptions

    names = {"metric": "metric", "filter_name": "filter_name", "group_subtasks": "group_subtasks",
             "correct_metric": "correct_metric", "orientation": "matrix_orientation", "task_name": "task_name"}
    known = {"known_scales": not params["no_known_scales"]} if "no_known_scales" in params else {}
    return ImportOptions(**{field: params[name] for name, field in names.items() if name in params}, **known)


def dump_columns(params: dict):
    """The dump's column names from ``--model-column`` and the like; absent ones default."""
    import dataclasses

    from slicesand.ingest.dump import DumpColumns

    return DumpColumns(**{f.name: params[f"{f.name}_column"] for f in dataclasses.fields(DumpColumns)
                          if f"{f.name}_column" in params})


# The run configuration's keywords that a command's parameters carry under the same name.
_RUN_KEYWORDS = ("cut", "groups", "accuracy_from", "chance", "easy_degree", "hard_degree", "variant", "paper", "grid", "bootstrap",
                 "seed", "models", "task", "layout", "source_kind", "ignore_unknown_models", "spectrum_groups",
                 "memory_budget")


def from_cli(params: dict, command: list[str] | None = None):
    """The :class:`slicesand.config.RunConfig` of a command's parsed parameters (``ctx.params``).

    Options the command does not have take :func:`slicesand.config.run_config`'s defaults, which are
    the ones every command shows in ``--help``.
    """
    from slicesand.config import run_config

    keywords = {name: params[name] for name in _RUN_KEYWORDS if name in params}
    if "at" in params:
        keywords["at"] = flops_list(params["at"])
    if "no_figures" in params:
        keywords["figures"] = not params["no_figures"]
    return run_config(**keywords, columns=dump_columns(params), import_options=import_options(params),
                      command=command)


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


def check_output(path: str, allowed: tuple[str, ...], option: str = "-o", *, inputs: tuple = ()) -> None:
    """Refuse an output name whose suffix the command cannot write, or that names one of the command's
    ``inputs`` (an atomic write would silently replace the file being read)."""
    if path != STDIO and Path(path).suffix.lower() not in allowed:
        raise UsageError(None, f"{option} must end in {', '.join(allowed)} (or be - for stdout)", found=path)
    if path == STDIO:
        return
    for source in inputs:
        if source is not None and str(source) != STDIO and _same_file(Path(path), Path(source)):
            raise UsageError(None, f"{option} names the input {source}; writing it would replace what is read",
                             found=path, hint="write to another file")


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # one does not exist (yet)
        return False
