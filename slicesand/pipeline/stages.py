"""The stages as functions over files: what the CLI's commands and ``run`` call.

Each stage reads its inputs, computes in memory, and only then writes its artifacts (atomically), so
a failure never leaves a half-written or mixed set of files. ``run_all`` chains the same functions the
single commands use.

>>> import pathlib, tempfile
>>> out = pathlib.Path(tempfile.mkdtemp())
>>> dump = out / "dump.csv"
>>> rows = ["model,question,correct,flops"] + [f"m{i},q{j},{int((7 * j + i * i) % 10 < i)},{10 ** (20 + i / 3)}"
...                                            for i in range(10) for j in range(9)]
>>> _ = dump.write_text("\\n".join(rows) + "\\n")
>>> from slicesand.config import run_config
>>> result = run_all(dump, out / "run", run_config(easy_degree=2, hard_degree=2, bootstrap=0))
>>> sorted(p.name for p in (out / "run").iterdir())[:4]
['fit.json', 'manifest.json', 'predictions.csv', 'predictions.csv.meta.json']
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import numpy as np

from slicesand.diagnostics import Diagnostic, diagnostic
from slicesand.artifacts.documents import artifact_header, dumps, file_source, fit_document, sidecar_path, write_json
from slicesand.ingest.dump import Dump
from slicesand.config import DumpOptions, RunConfig
from slicesand.errors import InputDataError, UsageError
from slicesand.io.atomic import write_text_atomic
from slicesand.io.columns import write_columns
from slicesand.io.stdio import write_stdout
from slicesand.io.tables import STDIO, Source, sha256_file, write_table
from slicesand.ingest.scales import ScaleResolution, read_models_table, resolve_scales
from slicesand.slicing.difficulty import SliceOptions, SliceResult, slice_dump
from slicesand.ingest.sources import load_source, restrict_to_task

if TYPE_CHECKING:  # the slice path imports none of these (nor pandas): `slice` starts in a fraction of a second
    import pandas as pd

    from slicesand.artifacts.slices_table import SlicesTable
    from slicesand.fitting.model import Fit, FitOptions
    from slicesand.forecast.predict import Forecast


@dataclass
class SliceStage:
    """A slice result with the dump it came from and the options used."""

    result: SliceResult
    source: Source
    dump_options: DumpOptions
    # Kept so ``run`` can slice the same dump again (the 10-group spectrum) without re-reading it.
    dump: Dump | None = None
    scales: np.ndarray | None = None
    # Or, read out of core: the open scans, which ``run`` queries again instead of a dump in memory.
    scanned: ScannedInput | None = None

    def document(self, table_sha256: str | None) -> dict:
        parameters = {**asdict(self.result.options), "layout": self.dump_options.layout,
                      "columns": asdict(self.dump_options.columns), "task": self.dump_options.task,
                      "models": input_record(self.dump_options.models_path),
                      "from": self.dump_options.source_kind,
                      "import": asdict(self.dump_options.import_options)}
        document = artifact_header("slicesand.slices", parameters, self.source)
        document.update({"n_groups": self.result.options.groups, "facts": self.result.facts,
                         "warnings": self.result.warnings,
                         "table": {"sha256": table_sha256}})
        return document


def input_record(path: str | Path | None) -> dict | None:
    """What identifies an input file in an artifact: its name and sha256, never the machine's path."""
    if path is None:
        return None
    path = Path(path)
    return {"name": path.name, "sha256": sha256_file(path) if path.is_file() else None}


def recorded_argv(argv: list[str] | None, paths: list[str | Path | None] | None = None) -> list[str] | None:
    """argv with each input path written as its file name, so that the record (and the report) does not
    depend on where the inputs lie or how their paths were typed. ``paths`` names the inputs; without it,
    any token with a folder in it that exists on disk is an input path.

    >>> recorded_argv(["slicesand", "run", "/home/x/dump.csv", "--models=../m.csv"], ["/home/x/dump.csv", "../m.csv"])
    ['slicesand', 'run', 'dump.csv', '--models=m.csv']
    """
    if argv is None:
        return None

    def is_path(text: str) -> bool:
        if paths is not None:
            return text in {str(p) for p in paths if p is not None and str(p) != STDIO}
        return ("/" in text or "\\" in text) and Path(text).exists()

    out = []
    for token in argv:  # a command line: a few dozen tokens
        option, sep, value = token.partition("=")
        if is_path(token):
            out.append(Path(token).name)
        elif sep and option.startswith("--") and is_path(value):
            out.append(f"{option}={Path(value).name}")
        else:
            out.append(token)
    return out


def model_scales(dump: Dump, options: DumpOptions, imported: pd.DataFrame | None = None) -> ScaleResolution:
    """FLOPs per model: ``--models`` wins, then the dump's ``flops`` column, then what an importer
    found, then the bundled table of public models."""
    models_table = read_models_table(options.models_path) if options.models_path is not None else None
    return resolve_scales(dump.model_names, dump_flops=dump.flops_by_model, imported=imported,
                          models_table=models_table, ignore_unknown=options.ignore_unknown_models,
                          use_known=options.import_options.known_scales)


def scale_listing(dump_path: str | Path, dump_options: DumpOptions = DumpOptions()) -> pd.DataFrame:
    """Every model of a source (of ``dump_options.task``'s task, when set) with its FLOPs and where
    they came from (``slicesand models --for``): the resolution ``slice`` and ``run`` make with the same
    options (``--models``, ``--no-known-scales``, the columns and the importers' options).

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "dump.csv"
    >>> _ = path.write_text("model,question,correct\\nEleutherAI/pythia-1b,q1,1\\nmine,q1,0\\n")
    >>> scale_listing(path)["scale_source"].str[:60].tolist()
    ['base_llm_scale.csv (Biderman et al. 2023, Pythia (arXiv:2304', 'none']
    >>> unknown = DumpOptions(import_options=replace(DumpOptions().import_options, known_scales=False))
    >>> scale_listing(path, unknown)["scale_source"].tolist()
    ['none', 'none']
    """
    dump, imported = load_source(dump_path, dump_options.source_options)
    scales = model_scales(dump, dump_options, imported)
    table = scales.table(dump.model_names)
    if dump_options.task is None:
        return table
    part, _ = restrict_to_task(dump, dump_options.task, scales.flops)
    return table[table["model"].isin(part.model_names)].reset_index(drop=True)


def load_stage_dump(dump_path: str | Path, dump_options: DumpOptions, *, stdin: BinaryIO | None = None
                    ) -> tuple[Dump, np.ndarray, list[Diagnostic]]:
    """Read any supported source and resolve its models' scales: (dump, FLOPs per model, notes)."""
    dump, imported = load_source(dump_path, dump_options.source_options, stdin=stdin)
    scales = model_scales(dump, dump_options, imported)
    return dump, scales.flops, ([diagnostic("input-note", note) for note in dump.notes]
                                + [diagnostic("scale-origin", note) for note in scales.notes])


def slice_stage(
    dump_path: str | Path, slice_options: SliceOptions, dump_options: DumpOptions = DumpOptions(),
    *, stdin: BinaryIO | None = None, loaded: Loaded | None = None, engine: str = "auto",
    spectrum_groups: int | None = None,
) -> SliceStage:
    """Load a dump (or take one already ``loaded``, in memory or opened for the scans), attach model
    scales, and slice it.

    ``engine`` "auto" slices a Parquet file, folder or glob out of core with DuckDB
    (:mod:`slicesand.slicing.scans`) and keeps no dump in memory; "numpy" loads the dump first.
    ``spectrum_groups``: out of core, the sums of that many groups are made in the same pass over the
    dump, for :func:`spectrum_slices` (``run``'s spectrum) to take without reading the dump again.
    """
    if isinstance(loaded, ScannedInput):
        stage = _scan_stage(dump_path, slice_options, dump_options, loaded, spectrum_groups)
        if stage is not None:
            return stage
        loaded = None
    if engine == "auto" and loaded is None and stdin is None and scannable(dump_path, dump_options):
        stage = _scan_stage(dump_path, slice_options, dump_options, spectrum_groups=spectrum_groups)
        if stage is not None:
            return stage
    dump, flops, notes = loaded if loaded is not None else load_stage_dump(dump_path, dump_options, stdin=stdin)
    if dump_options.task is not None:
        dump, flops = restrict_to_task(dump, dump_options.task, flops)
    elif len(dump.tasks) > 1:
        raise UsageError(dump.source.name, f"the dump holds {len(dump.tasks)} tasks; slice one at a time",
                         found=", ".join(dump.tasks[:5]), hint="pass `task` NAME (`run` forecasts every task)")
    result = slice_dump(dump, flops, slice_options)
    result.warnings[:0] = notes
    return SliceStage(result, dump.source, dump_options, dump, flops)


#: What one row of a dump may take when ``run`` reads it into memory, in bytes: the dump's arrays and the
#: model x question matrices built from them (about 65 B a row on the benchmark dumps, measured as peak
#: memory at 0.84M, 3M and 8M rows; twice that, to be safe).
IN_MEMORY_BYTES_PER_ROW = 128


def run_input(dump_path: str | Path, dump_options: DumpOptions, *, memory_budget: float,
              stdin: BinaryIO | None = None) -> "Loaded":
    """How ``run`` reads a dump: into memory, or opened for the out-of-core scans (:class:`ScannedInput`).

    A run needs the model x question matrix in memory anyway (the bootstrap and the stability check),
    so a Parquet file whose rows fit ``memory_budget`` bytes (:data:`IN_MEMORY_BYTES_PER_ROW` each) is
    read once into memory, where the scans would read it five times: 0.2 to 0.5 s of the default run's
    4 s on 60 x 14k, about 2 s of 8 s on 400 x 20k. A bigger file, a folder or a glob is scanned out
    of core; CSV, stdin and the importers' sources are read into memory. Both give the same numbers
    (``tests/pipeline/test_scanned_run.py``).

    >>> from slicesand.config import DumpOptions
    >>> run_input("sample_data/eval_dump.csv", DumpOptions(), memory_budget=2e9)[0].n_models
    40
    """
    if stdin is None and scannable(dump_path, dump_options) and not _fits_in_memory(dump_path, memory_budget):
        scanned = open_scanned(dump_path, dump_options)
        if scanned is not None:
            return scanned
    return load_stage_dump(dump_path, dump_options, stdin=stdin)


def _fits_in_memory(dump_path: str | Path, memory_budget: float) -> bool:
    """A single Parquet file whose rows (from its footer) fit ``memory_budget`` in memory."""
    if not Path(dump_path).is_file():  # a folder or a glob: scanned
        return False
    import pyarrow.parquet as pq

    try:
        rows = pq.read_metadata(dump_path).num_rows
    except (OSError, ValueError):  # not readable as Parquet: the scans' fallback says what is wrong
        return False
    return rows * IN_MEMORY_BYTES_PER_ROW <= memory_budget


def scannable(dump_path: str | Path, dump_options: DumpOptions) -> bool:
    from slicesand.slicing.scans import is_scannable

    return (dump_options.layout == "long" and dump_options.source_kind in (None, "long")
            and is_scannable(dump_path))


@dataclass
class ScannedInput:
    """A dump opened for the DuckDB scans (:class:`slicesand.slicing.scans.DumpScanner`), with its models'
    scales resolved: what ``run`` keeps instead of a dump in memory."""

    scanner: object  # a DumpScanner (DuckDB is imported only when one is opened)
    model_names: np.ndarray
    dump_flops: np.ndarray | None  # the dump's own flops column, per model
    flops: np.ndarray  # the resolved scales
    notes: list[Diagnostic]

    @property
    def tasks(self) -> list[str]:
        return self.scanner.tasks()


#: What a stage may be handed instead of a path to read: a dump in memory (with its scales and notes),
#: or a dump opened for the scans.
Loaded = "tuple[Dump, np.ndarray, list[Diagnostic]] | ScannedInput"


def open_scanned(dump_path: str | Path, dump_options: DumpOptions) -> ScannedInput | None:
    """Open a Parquet file, folder or glob for the scans and resolve its scales; ``None`` when DuckDB
    cannot read a single file (the in-memory reader then says precisely what is wrong)."""
    import duckdb

    from slicesand.slicing.scans import DumpScanner

    try:
        scanner = DumpScanner(dump_path, dump_options.columns)
        names, dump_flops = scanner.models()
    except duckdb.Error as exc:
        return _scan_failed(dump_path, exc)
    models_table = read_models_table(dump_options.models_path) if dump_options.models_path is not None else None
    scales = resolve_scales(names, dump_flops=dump_flops, imported=None, models_table=models_table,
                            ignore_unknown=dump_options.ignore_unknown_models,
                            use_known=dump_options.import_options.known_scales)
    return ScannedInput(scanner, names, dump_flops, scales.flops,
                        [diagnostic("scale-origin", note) for note in scales.notes])


def _scan_failed(dump_path: str | Path, exc: Exception) -> None:
    if Path(dump_path).is_file():
        return None
    raise InputDataError(str(dump_path), f"cannot be read as Parquet: {str(exc).splitlines()[0]}",
                         hint="check that every file is a Parquet file with the dump's columns") from None


def _scan_stage(dump_path: str | Path, slice_options: SliceOptions, dump_options: DumpOptions,
                scanned: ScannedInput | None = None, spectrum_groups: int | None = None) -> SliceStage | None:
    """Slice with the DuckDB scans: no dump in memory, only per-model and per-question sums. ``None``
    when DuckDB cannot read a single file: the in-memory reader then says precisely what is wrong."""
    import duckdb

    scanned = scanned or open_scanned(dump_path, dump_options)
    if scanned is None:
        return None
    try:
        result = _scan_slices(scanned, slice_options, dump_options.task, spectrum_groups)
    except duckdb.Error as exc:
        return _scan_failed(dump_path, exc)
    # as the in-memory path: what the reader noticed about the input, then where the scales came from
    result.warnings[:0] = [*(diagnostic("input-note", note) for note in scanned.scanner.notes), *scanned.notes]
    return SliceStage(result, scanned.scanner.source(), dump_options, scanned=scanned)


def _scan_slices(scanned: ScannedInput, slice_options: SliceOptions, task: str | None,
                 spectrum_groups: int | None = None) -> SliceResult:
    from slicesand.slicing.scans import scan_dump

    return scan_dump(scanned.scanner, scanned.model_names, scanned.flops, slice_options, task=task,
                     dump_flops=scanned.dump_flops, spectrum_groups=spectrum_groups)


def spectrum_slices(stage: SliceStage, groups: int = 10) -> tuple[pd.DataFrame | None, str | None]:
    """The same dump sliced into ``groups`` difficulty groups (same cut), for the spectrum figure: in
    memory, or a second scan out of core.

    Returns ``(slices, None)``, or ``(None, reason)`` when the dump cannot be split that finely.
    """
    if stage.scanned is None and (stage.dump is None or stage.scales is None):
        return None, "the dump is not at hand"
    try:
        options = SliceOptions(cut=stage.result.options.cut, groups=groups)
        if stage.scanned is not None:
            return _scan_slices(stage.scanned, options, stage.dump_options.task).slices, None
        return slice_dump(stage.dump, stage.scales, options).slices, None
    except UsageError as exc:
        return None, f"no {groups}-group difficulty spectrum: {exc}"


def add_stability(stage: SliceStage, *, seed: int = 0, memory_budget: float = 2e9, questions=None) -> SliceStage:
    """Record how stable the difficulty groups are under resampling (slicesand.uncertainty.stability) in the slice
    facts (``group_instability``), and warn when more than 20% of questions change group. Over
    ``memory_budget`` bytes, a seeded subset of the questions is checked (the facts note it).
    ``questions``: the bootstrap's question matrix of every question of this slicing, if there is one,
    which holds the cells needed (they are not read again)."""
    cut, groups = stage.result.options.cut, stage.result.options.groups
    from slicesand.uncertainty.stability import fits_question_matrix, question_matrix_instability

    if questions is not None and fits_question_matrix(questions, memory_budget):
        instability = question_matrix_instability(questions, seed=seed)
    elif stage.scanned is not None:
        from slicesand.uncertainty.stability import scanned_instability

        scanner = stage.scanned.scanner
        instability = scanned_instability(scanner, stage.scanned.model_names, stage.scanned.flops,
                                          scanner.question_ids, scanner.task, cut, groups, seed=seed,
                                          memory_budget=memory_budget)
    elif stage.dump is None or stage.scales is None:
        return stage
    else:
        from slicesand.uncertainty.stability import dump_instability

        instability = dump_instability(stage.dump, stage.scales, cut, groups, seed=seed, memory_budget=memory_budget)
    if instability is not None:
        stage.result.facts["group_instability"] = instability.facts()
        warning = instability.warning()
        if warning and warning not in stage.result.warnings:
            stage.result.warnings.append(warning)
        from slicesand.uncertainty.resampling import budget_warning

        if (subset := budget_warning(instability.note)) is not None and subset not in stage.result.warnings:
            stage.result.warnings.append(subset)  # the memory budget left the check a subset of the questions
    return stage


def write_slice_stage(stage: SliceStage, slices_path: str | Path, questions_path: str | Path | None = None,
                      *, stdout: BinaryIO | None = None) -> None:
    """Write the slices table (and sidecar), and the questions table when asked."""
    if questions_path is not None:
        write_columns(stage.result.questions_table, questions_path, stdout=stdout)
    write_columns(stage.result.slices_table, slices_path, stdout=stdout)
    if str(slices_path) != STDIO:
        write_json(sidecar_path(slices_path), stage.document(sha256_file(Path(slices_path))))


def single_task(slice_facts: dict | None) -> str | None:
    """The task a slicing covered, when the dump named exactly one."""
    tasks = [t for t in (slice_facts or {}).get("tasks") or [] if t]
    return tasks[0] if len(tasks) == 1 else None


def fit_stage(slices: SlicesTable, options: FitOptions) -> Fit:
    """Fit on a slices table, warning when the cut differs from the one its difficulty ranking used."""
    from slicesand.fitting.selection import fit as fit_with_rule

    fit = fit_with_rule(slices.frame, options, source=slices.name)
    fit = replace(fit, task=single_task((slices.meta or {}).get("facts")))
    if slices.stale_meta:
        fit.warnings.append(diagnostic("stale-sidecar", f"{sidecar_path(slices.name).name} does not match "
                                       f"{slices.name} (edited after slicing?); ignored it"))
    if slices.meta is not None and slices.cut != options.cut:
        fit.warnings.append(diagnostic(
            "cut-mismatch",
            f"the difficulty groups were ranked with cut {slices.cut} but the fit uses cut {options.cut}: "
            "test models may have influenced the groups; slice again with the same --cut"))
    return fit


def write_fit(fit: Fit, path: str | Path, source: Source, *, stdout: BinaryIO | None = None) -> None:
    text = dumps(fit_document(fit, source))
    if str(path) == STDIO:
        write_stdout(text, stdout)
    else:
        write_text_atomic(path, text)


def forecast_summary(forecast: Forecast) -> dict:
    """The forecast's headline numbers, as stored in the predictions sidecar and printed in JSON."""
    from slicesand.forecast.predict import search_range_flops

    return {
        "threshold_flops": forecast.threshold_flops,
        "threshold_log10_flops": forecast.threshold_log10_flops,
        # The exact FLOPs of the scales that bound the search (Forecast.threshold_range_flops), no float noise.
        "threshold_search_range_flops": list(forecast.threshold_range_flops
                                             or search_range_flops(forecast.threshold_range, forecast.table["flops"])),
        # Whether the easy curve's turning point is an emergence signal (slicesand.forecast.predict.threshold_support).
        "emergence_signal": forecast.emergence_signal,
        "turning_point_log10_flops": forecast.turning_point_log10_flops,
        "test_mse": forecast.mse,
        "n_test_scored": forecast.n_test_scored,
        "warnings": forecast.warnings,
        # Bootstrap draws, seed, level and the threshold's interval (slicesand.uncertainty.intervals); None when off.
        "intervals": forecast.intervals,
    }


def predictions_document(forecast: Forecast, fit_source: Source, slices_source: Source | None,
                         parameters: dict, table_sha256: str | None) -> dict:
    document = artifact_header("slicesand.predictions", parameters, slices_source)
    document.update({"fit": {"name": fit_source.name, "sha256": fit_source.sha256},
                     **forecast_summary(forecast), "table": {"sha256": table_sha256}})
    return document


def write_predictions(forecast: Forecast, path: str | Path, fit_source: Source, slices_source: Source | None,
                      parameters: dict) -> None:
    """Write the predictions table and its sidecar (which records the fit it came from)."""
    write_table(forecast.table, path)
    write_json(sidecar_path(path), predictions_document(forecast, fit_source, slices_source, parameters,
                                                        sha256_file(Path(path))))


@dataclass
class RunResult:
    """What a run made: every stage's result, and the folder holding the artifacts (``None`` until
    :func:`write_run` writes them)."""

    outdir: Path | None
    slice_stage: SliceStage
    fit: Fit
    forecast: Forecast
    warnings: list[Diagnostic] = field(default_factory=list)
    notes: list[Diagnostic] = field(default_factory=list)  # about the report only (e.g. no spectrum)
    spectrum: pd.DataFrame | None = None  # the same dump in ``spectrum_groups`` groups, for its figure
    band: pd.DataFrame | None = None  # the interval band on the forecast figure's grid (with figures only)
    # The figures being drawn in a child process (slicesand.reporting.drawing), which write_run collects.
    drawing: object | None = field(default=None, repr=False, compare=False)


def bootstrap_questions(stage: SliceStage, config: RunConfig) -> tuple[object, str | None]:
    """The question matrix the bootstrap resamples (:mod:`slicesand.uncertainty.resampling`), from the
    dump in memory or streamed from the scans, and its note (a seeded subset under the memory budget, or
    why the questions are not resampled); ``(None, None)`` without a dump at hand."""
    budget, seed = config.uncertainty.memory_budget * 1e9, config.uncertainty.seed
    if stage.scanned is not None:
        from slicesand.uncertainty.resampling import scanned_question_matrix

        scanner = stage.scanned.scanner
        return scanned_question_matrix(scanner, stage.scanned.model_names, stage.scanned.flops, scanner.question_ids,
                                       scanner.task, config.slicing.cut, config.slicing.groups, seed=seed,
                                       memory_budget=budget)
    if stage.dump is not None and stage.scales is not None:
        from slicesand.uncertainty.resampling import question_matrix

        return question_matrix(stage.dump, stage.scales, config.slicing.cut, config.slicing.groups, seed=seed,
                               memory_budget=budget)
    return None, None


def forecast_stage(stage: SliceStage, fit: Fit, config: RunConfig, *, point_forecast=None,
                   bootstrap_threads: int | None = None) -> tuple[Forecast, object, object]:
    """Predict on the slices, at ``config.predict``'s scales, with the bootstrap's 90% intervals; each
    draw resamples the training models and, from the dump, the questions (re-slicing them;
    slicesand.uncertainty.resampling). Returns the forecast, its bootstrap draws (or ``None``), which the
    figure's interval band reuses, and the bootstrap's question matrix when it holds every question
    (or ``None``), which :func:`add_stability` reuses. ``point_forecast(forecast)`` is called with the forecast before its
    intervals are drawn (the figures that do not need them start from it); ``bootstrap_threads`` share
    the draws (slicesand.uncertainty.resampling.THREADS by default)."""
    from slicesand.forecast.predict import predict
    from slicesand.uncertainty.intervals import add_intervals

    slices_frame, draws = stage.result.slices, config.uncertainty.draws
    grid = None if config.predict.grid is None else np.asarray(config.predict.grid, dtype=float)
    forecast = predict(fit, slices_frame, at=list(config.predict.at), grid=grid, source="slices")
    if point_forecast is not None:
        point_forecast(forecast)
    questions, questions_note, drawn = None, None, None
    if draws > 0 and fit.has_accuracy:  # drawn once: the predictions' intervals and the figure's band
        from slicesand.uncertainty.bootstrap import draw_bootstrap

        questions, questions_note = bootstrap_questions(stage, config)
        drawn = draw_bootstrap(fit, slices_frame, draws=draws, seed=config.uncertainty.seed, questions=questions,
                               threads=bootstrap_threads)
    forecast = add_intervals(forecast, fit, slices_frame, draws=draws, seed=config.uncertainty.seed,
                             questions=questions, questions_note=questions_note, drawn=drawn)
    return forecast, drawn, questions if questions_note is None else None


#: Draws x models x questions under which the bootstrap keeps to one thread while figures are drawn.
ONE_CORE_DRAWS = 5e9


def draw_threads(stage: SliceStage, config: RunConfig, drawing: bool) -> int | None:
    """Threads for the bootstrap's question draws (``None``: :data:`slicesand.uncertainty.resampling.THREADS`).
    While the figures are drawn (about a second of CPU in two processes below this one's priority) the
    draws keep to one core when they are small: on 60 x 14k (8.4e8 draws x models x questions) one
    thread took 0.88x the time of two. Bigger draws take both cores, as the figures are done long
    before them: on 1,000 x 30k (3e10) two threads took 0.75x the time of one. The draws are the same
    bits on any number of threads.

    >>> from types import SimpleNamespace as Namespace
    >>> def stage(models, questions):
    ...     return Namespace(result=Namespace(slices_table=Namespace(n_rows=models),
    ...                                       questions_table=Namespace(n_rows=questions)))
    >>> config = Namespace(uncertainty=Namespace(draws=1000))
    >>> draw_threads(stage(60, 14_000), config, True), draw_threads(stage(1_000, 30_000), config, True)
    (1, None)
    >>> draw_threads(stage(60, 14_000), config, False) is None
    True
    """
    size = config.uncertainty.draws * stage.result.slices_table.n_rows * stage.result.questions_table.n_rows
    return 1 if drawing and size < ONE_CORE_DRAWS else None


def compute_run(dump_path: str | Path, config: RunConfig, *, stdin: BinaryIO | None = None,
                loaded: Loaded | None = None, draw_early: bool = False) -> RunResult:
    """slice -> fit (the default rule unless the options fix it) -> predict, in memory; nothing is written.

    The command line's ``run`` and :func:`slicesand.run` both come through here, so the same input and
    options give the same forecast. ``config.report.spectrum_groups`` slices the same dump a second time
    for the difficulty-spectrum figure. ``draw_early`` (what :func:`run_all` does, which writes the
    result at once) starts drawing the figures in a child process while this one computes
    (:mod:`slicesand.reporting.drawing`); :func:`write_run` collects them.
    """
    drawing = None
    if draw_early and config.report.figures:
        from slicesand.reporting.drawing import FigureDrawing

        drawing = FigureDrawing.start()
    try:
        return _compute_run(dump_path, config, stdin, loaded, drawing)
    except BaseException:
        if drawing is not None:
            drawing.stop()
        raise


def _compute_run(dump_path, config: RunConfig, stdin, loaded, drawing) -> RunResult:
    from slicesand.blas import one_blas_thread

    # One BLAS thread for the whole run (the slicing, the fits, the bootstrap, the stability check): how
    # OpenBLAS splits a product between threads changes its last bits, which must not depend on the machine.
    with one_blas_thread():
        return _compute_run_steps(dump_path, config, stdin, loaded, drawing)


def _compute_run_steps(dump_path, config: RunConfig, stdin, loaded, drawing) -> RunResult:
    from slicesand.fitting.baselines import prefetch_least_squares
    from slicesand.fitting.selection import fit as fit_with_rule

    scipy_imported = prefetch_least_squares()  # while the dump is read and sliced; the fit needs it
    if loaded is None:
        loaded = run_input(dump_path, config.dump, memory_budget=config.uncertainty.memory_budget * 1e9,
                           stdin=stdin)
    groups = config.report.spectrum_groups
    # The spectrum's accuracy comes from `correct` (spectrum_slices): its sums can share the pass only then.
    stage = slice_stage(dump_path, config.slicing, config.dump, loaded=loaded,
                        spectrum_groups=groups if groups and config.slicing.accuracy_from == "correct" else None)
    spectrum, spectrum_note = spectrum_slices(stage, groups) if groups else (None, None)
    scipy_imported()
    fit = replace(fit_with_rule(stage.result.slices, config.fit, source="slices"),
                  task=single_task(stage.result.facts))

    def figures_of(forecast: Forecast, band: pd.DataFrame | None):
        partial = RunResult(None, stage, fit, forecast, spectrum=spectrum, band=band)
        return run_report(partial, config, run_document={}).figures

    if drawing is not None:  # the TC Brier figure and the spectrum read the fit and the slicings only
        from slicesand.reporting.facts import FigureInputs, report_task

        drawing.draw(FigureInputs(fit=fit, slices=stage.result.slices, predictions=stage.result.slices,
                                  spectrum=spectrum, task=report_task(stage.document(None))),
                     ["tc_accuracy", "spectrum"])

    def point_forecast(forecast: Forecast) -> None:  # the fits figure needs the point forecast's threshold
        if drawing is not None:
            drawing.draw(figures_of(forecast, None), ["fits"])

    forecast, drawn, questions = forecast_stage(stage, fit, config, point_forecast=point_forecast,
                                                bootstrap_threads=draw_threads(stage, config, drawing is not None))
    band = None
    if config.report.figures:
        from slicesand.reporting.facts import interval_band

        band = interval_band(fit, stage.result.slices, forecast.table, draws=config.uncertainty.draws,
                             seed=config.uncertainty.seed, drawn=drawn)
    if drawing is not None:
        drawing.final(figures_of(forecast, band))
    # Only the slicing's facts and warnings read the groups' stability, and no figure does: checked
    # last, while the figures' last one is drawn.
    add_stability(stage, memory_budget=config.uncertainty.memory_budget * 1e9, questions=questions)
    return RunResult(None, stage, fit, forecast, stage.result.warnings + fit.warnings + forecast.warnings,
                     [diagnostic("report-note", spectrum_note)] if spectrum_note else [], spectrum, band, drawing)


def predict_parameters(config: RunConfig) -> dict:
    """The predictions sidecar's parameters."""
    grid = config.predict.grid
    return {"at": list(config.predict.at), "grid": None if grid is None else list(grid),
            "bootstrap": config.uncertainty.draws, "seed": config.uncertainty.seed}


def run_report(result: RunResult, config: RunConfig, run_document: dict | None = None):
    """The run's report (:class:`slicesand.reporting.facts.Report`), from the results in memory."""
    from slicesand.reporting.facts import build_report
    from slicesand.reporting.output import run_document as make_run_document, run_facts

    spectrum_groups = config.report.spectrum_groups if result.spectrum is not None else None
    if run_document is None:
        command = config.report.command
        run_document = make_run_document(recorded_argv(None if command is None else list(command)), spectrum_groups)
    return build_report(result.fit, result.forecast.table, forecast_summary(result.forecast),
                        result.slice_stage.document(None), run=run_facts(run_document),
                        slices=result.slice_stage.result.slices, spectrum=result.spectrum, band=result.band)


def write_run(result: RunResult, outdir: str | Path, config: RunConfig) -> RunResult:
    """Write every artifact of a computed run into ``outdir``, each file atomically, and ``report.md``
    (with its figures unless ``config.report.figures`` is off); returns the result with its folder."""
    from slicesand.reporting.output import write_markdown_report, write_run_files

    outdir = Path(outdir)
    stage, fit, forecast = result.slice_stage, result.fit, result.forecast
    outdir.mkdir(parents=True, exist_ok=True)
    write_slice_stage(stage, outdir / "slices.csv", outdir / "questions.csv")
    slices_source = file_source(outdir / "slices.csv")
    fit_path = outdir / "fit.json"
    write_fit(fit, fit_path, slices_source)
    write_predictions(forecast, outdir / "predictions.csv", file_source(fit_path), slices_source,
                      predict_parameters(config))
    command = config.report.command
    run_document = write_run_files(outdir, recorded_argv(None if command is None else list(command)),
                                   result.spectrum,
                                   config.report.spectrum_groups if result.spectrum is not None else None)
    # The report is built from the results in memory, exactly as `slicesand report` rebuilds it from the folder.
    if result.band is not None:
        from slicesand.reporting.facts import BAND_FILE

        write_table(result.band, outdir / BAND_FILE)
    # Figures drawn by a child (compute_run's draw_early); None if it failed, and they are drawn here.
    images = result.drawing.files() if result.drawing is not None and config.report.figures else None
    write_markdown_report(outdir, figures=config.report.figures, report=run_report(result, config, run_document),
                          images=images)
    return replace(result, outdir=outdir, drawing=None)


def run_all(dump_path: str | Path, outdir: str | Path, config: RunConfig = RunConfig(), *,
            stdin: BinaryIO | None = None, loaded: Loaded | None = None, seal: bool = True) -> RunResult:
    """slice -> fit -> predict -> report, leaving every artifact in ``outdir``: :func:`compute_run`, then
    :func:`write_run`, then the manifest (unless ``seal`` is off: a staged run folder seals itself once,
    :func:`slicesand.artifacts.run_folder.staged_run_folder`). Everything is computed before anything is written; the figures are drawn in a
    child process meanwhile, where that is possible (:mod:`slicesand.reporting.drawing`)."""
    from slicesand.artifacts.run_folder import write_manifest

    result = compute_run(dump_path, config, stdin=stdin, loaded=loaded, draw_early=True)
    try:
        written = write_run(result, outdir, config)
        if seal:
            write_manifest(outdir)  # sealed as `slicesand run` seals its folder, so `report` can check it
        return written
    finally:
        if result.drawing is not None:
            result.drawing.stop()  # a no-op once its figures were read
