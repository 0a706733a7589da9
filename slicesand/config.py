"""One run configuration: every stage's options in one frozen object, built once.

:class:`RunConfig` holds the options of each stage (reading the dump, slicing, fitting, forecasting,
uncertainty, the report). :func:`run_config` builds it from plain keyword arguments with the defaults
that the command line has too: the CLI (``slicesand.cli.options.from_cli``) and the Python API
(:func:`slicesand.run`) both call it, so the same input gives the same forecast either way. Errors name
the keyword arguments in backticks (`` `cut` ``); the CLI shows its flags (``--cut``) instead.

>>> config = run_config(cut=3e22, at=[1e24], bootstrap=0)
>>> config.slicing.cut == config.fit.cut == 3e22, config.predict.at, config.fit.auto
(True, (1e+24,), True)
>>> run_config(easy_degree=3).fit.auto  # a degree fixes the settings: no automatic rule
False
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from slicesand.errors import UsageError
from slicesand.fitting.model import PAPER_OPTIONS, FitOptions
from slicesand.ingest.dump import DumpColumns
from slicesand.ingest.importers import ImportOptions
from slicesand.slicing.difficulty import SliceOptions


@dataclass(frozen=True)
class DumpOptions:
    """How to read a dump and find its models' scale."""

    columns: DumpColumns = DumpColumns()
    layout: str = "long"
    models_path: str | None = None
    ignore_unknown_models: bool = False
    task: str | None = None
    source_kind: str | None = None  # None sniffs
    import_options: ImportOptions = ImportOptions()

    @property
    def source_options(self):
        from slicesand.ingest.sources import SourceOptions

        return SourceOptions(kind=self.source_kind, layout=self.layout, columns=self.columns,
                             import_options=self.import_options)


@dataclass(frozen=True)
class PredictOptions:
    """Where to forecast beyond the models of the slices table: ``at`` scales and a log-spaced ``grid``
    (both in FLOPs)."""

    at: tuple[float, ...] = ()
    grid: tuple[float, ...] | None = None


#: More draws than this only cost time and memory: the 5% and 95% quantiles are stable long before.
MAX_DRAWS = 100_000


@dataclass(frozen=True)
class UncertaintyOptions:
    """Bootstrap ``draws`` for the 90% prediction intervals (0: none) and their ``seed``."""

    draws: int = 1000
    seed: int = 0
    # GB the bootstrap's and the stability check's model x question matrices may take; over it, a seeded
    # subset of the questions (slicesand.uncertainty.resampling.questions_within_budget).
    memory_budget: float = 2.0

    def __post_init__(self) -> None:
        if not self.memory_budget > 0:
            raise UsageError(None, "`memory_budget` must be a positive number of GB", found=self.memory_budget)
        if not 0 <= self.draws <= MAX_DRAWS:
            raise UsageError(None, f"`bootstrap` must be 0 to {MAX_DRAWS:,} draws", found=self.draws,
                             hint="1,000 draws give the 90% interval to about a point")
        if self.seed < 0:
            raise UsageError(None, "`seed` must be 0 or more", found=self.seed)


@dataclass(frozen=True)
class ReportOptions:
    """The difficulty spectrum's groups (``None``: no spectrum), whether to draw figures, and the
    command recorded in ``run.json``."""

    spectrum_groups: int | None = 10
    figures: bool = True
    command: tuple[str, ...] | None = None


def _default_fit() -> FitOptions:
    return fit_options()


@dataclass(frozen=True)
class RunConfig:
    """Every stage's options. Slicing and fitting share one cut."""

    dump: DumpOptions = DumpOptions()
    slicing: SliceOptions = SliceOptions()
    fit: FitOptions = field(default_factory=_default_fit)
    predict: PredictOptions = PredictOptions()
    uncertainty: UncertaintyOptions = UncertaintyOptions()
    report: ReportOptions = ReportOptions()

    def __post_init__(self) -> None:
        if self.slicing.cut != self.fit.cut:
            raise UsageError(None, "a run uses one `cut` for slicing and fitting",
                             found=f"{self.slicing.cut} and {self.fit.cut}")


def fit_options(*, cut: float | None = None, chance: float = 0.25, easy_degree: int | None = None,
                hard_degree: int | None = None, variant: str | None = None, paper: bool = False) -> FitOptions:
    """The fit options: the default (automatic) rule unless a degree, a variant or ``paper`` fixes them.

    >>> fit_options(paper=True).easy_degree, fit_options(paper=True).auto
    (5, False)
    """
    chosen = {"easy_degree": easy_degree, "hard_degree": hard_degree, "variant": variant}
    # No degree, variant or paper: the pipeline chooses them on the training models (slicesand.fitting.selection).
    auto = not paper and all(v is None for v in chosen.values())
    if paper:
        conflicts = [f"`{k}` {v}" for k, v in chosen.items() if v is not None and v != PAPER_OPTIONS[k]]
        if conflicts:
            raise UsageError(None, f"`paper` fixes the paper's settings; it conflicts with {', '.join(conflicts)}")
        chosen = dict(PAPER_OPTIONS)
    defaults = FitOptions()
    return FitOptions(cut=cut, chance=chance,
                      easy_degree=chosen["easy_degree"] if chosen["easy_degree"] is not None else defaults.easy_degree,
                      hard_degree=chosen["hard_degree"] if chosen["hard_degree"] is not None else defaults.hard_degree,
                      variant=chosen["variant"] or defaults.variant, auto=auto,
                      **({"clip": False, "extrapolation": "polynomial"} if paper else {}))


def grid_flops(grid: str | Sequence[float] | None) -> tuple[float, ...] | None:
    """A grid given as ``"START:STOP:N"`` (log-spaced FLOPs) or as the FLOPs themselves."""
    if grid is None:
        return None
    if isinstance(grid, str):
        from slicesand.forecast.predict import parse_grid

        grid = parse_grid(grid)
    return tuple(float(x) for x in grid)


def run_config(
    *,
    cut: float | None = None,
    groups: int = 3,
    accuracy_from: str = "correct",
    chance: float = 0.25,
    easy_degree: int | None = None,
    hard_degree: int | None = None,
    variant: str | None = None,
    paper: bool = False,
    at: Sequence[float] = (),
    grid: str | Sequence[float] | None = None,
    bootstrap: int = 1000,
    seed: int = 0,
    memory_budget: float = 2.0,
    models: str | None = None,
    task: str | None = None,
    layout: str = "long",
    columns: DumpColumns = DumpColumns(),
    source_kind: str | None = None,
    import_options: ImportOptions = ImportOptions(),
    ignore_unknown_models: bool = False,
    spectrum_groups: int | None = 10,
    figures: bool = True,
    command: Sequence[str] | None = None,
) -> RunConfig:
    """The run configuration from keyword arguments; the defaults are the command line's.

    ``accuracy_from`` is ``"correct"`` or ``"p_correct"``; ``models`` is a table of model scales (a path); ``grid`` is ``"START:STOP:N"`` or FLOPs;
    ``bootstrap`` is the number of draws (0: no intervals); ``memory_budget`` the GB its model x question
    matrices may take (over it, a seeded subset of the questions); ``spectrum_groups`` 0 or ``None`` draws no
    spectrum; ``command`` is what ``run.json`` records.
    """
    return RunConfig(
        dump=DumpOptions(columns=columns, layout=layout, models_path=models,
                         ignore_unknown_models=ignore_unknown_models, task=task, source_kind=source_kind,
                         import_options=import_options),
        slicing=SliceOptions(cut=cut, groups=groups, accuracy_from=accuracy_from),
        fit=fit_options(cut=cut, chance=chance, easy_degree=easy_degree, hard_degree=hard_degree,
                        variant=variant, paper=paper),
        predict=PredictOptions(at=tuple(float(x) for x in at or ()), grid=grid_flops(grid)),
        uncertainty=UncertaintyOptions(draws=bootstrap, seed=seed, memory_budget=memory_budget),
        report=ReportOptions(spectrum_groups=spectrum_groups or None, figures=figures,
                             command=None if command is None else tuple(command)),
    )
