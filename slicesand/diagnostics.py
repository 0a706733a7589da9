"""Warnings as objects: a code a program can match, a category it can filter on, and the sentence a
person reads.

Every stage returns its reasons for caution as :class:`Diagnostic` objects (``SliceResult.warnings``,
``Fit.warnings``, ``Forecast.warnings``). Their one-line text (``str(diagnostic)``, :meth:`Diagnostic.render`)
is the sentence shown on stderr and in the reports; JSON artifacts carry every field
(:meth:`Diagnostic.to_dict`), so a consumer or a ``--strict`` mode can filter by ``code`` or ``category``
instead of parsing sentences. :data:`CODES` is the catalogue: each code belongs to one category.

>>> w = diagnostic("beyond-training-range", "forecast 2 decades beyond the largest training model")
>>> w.category, str(w)
('extrapolation', 'forecast 2 decades beyond the largest training model')
>>> w.to_dict()["code"]
'beyond-training-range'
>>> as_diagnostic(w.to_dict()) == w
True
>>> as_diagnostic("a sentence from an older artifact").code
'unclassified'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

# code -> category. Categories group codes that call for the same kind of caution.
CODES: dict[str, str] = {
    # the forecast reaches beyond what the training models show
    "beyond-training-range": "extrapolation",
    # too few models to pin a curve down
    "few-training-models": "few-models",
    # the prediction interval
    "wide-interval": "wide-interval",
    "few-calibration-errors": "wide-interval",
    "uncalibrated-interval": "wide-interval",
    # the difficulty groups move under resampling
    "unstable-groups": "unstable-groups",
    # the sigmoid floor (automatic rule) lifts the forecast
    "floor-lift": "floor",
    # the easy curve has no turning point in range
    "no-turning-point": "no-threshold",
    # --paper: a forecast outside its valid range, reproduced unclipped
    "out-of-range": "range",
    # the easy curve's turning point is not supported: no emergence signal
    "no-emergence-signal": "no-threshold",
    # model scales
    "model-without-scale": "missing-scale",
    "scale-origin": "missing-scale",
    # models or questions with holes in their answers
    "unranked-questions": "ragged",
    "silent-models": "ragged",
    "ragged-models": "ragged",
    "empty-group": "ragged",
    "missing-scores": "ragged",
    # accuracy is not known, only TC Brier
    "no-correct-column": "no-accuracy",
    "training-without-accuracy": "no-accuracy",
    "accuracy-unknown": "no-accuracy",
    # artifacts and the cut
    "stale-sidecar": "stale",
    "cut-mismatch": "cut-mismatch",
    "no-recorded-cut": "no-cut",
    # what a reader or an importer noticed in the input
    "input-note": "input",
    # the memory budget (--memory-budget) left the bootstrap or the stability check a subset of the questions
    "questions-subset": "memory-budget",
    # a task of a multi-task run that could not be forecast
    "task-failed": "task",
    # about the report only (say, no difficulty spectrum)
    "report-note": "report",
    # a bare sentence read back from an artifact written before warnings had codes
    "unclassified": "other",
}


@dataclass(frozen=True)
class Diagnostic:
    """One reason for caution. ``task`` and ``model`` name what it is about, when it is about one.

    >>> Diagnostic("few-training-models", "few-models", "only 8 training models", task="mmlu").render()
    'only 8 training models'
    """

    code: str
    category: str
    message: str
    task: str | None = None
    model: str | None = None

    def render(self) -> str:
        """The one-line text shown to people (stderr, report.md, report.html)."""
        return self.message

    def __str__(self) -> str:
        return self.render()

    def to_dict(self) -> dict[str, Any]:
        """The JSON form, with every field (``None`` where unset), in a fixed order."""
        return {"code": self.code, "category": self.category, "message": self.message,
                "task": self.task, "model": self.model}


def diagnostic(code: str, message: str, *, task: str | None = None, model: str | None = None) -> Diagnostic:
    """A :class:`Diagnostic` whose category is the code's in :data:`CODES` (an unknown code is a bug)."""
    return Diagnostic(code, CODES[code], message, task, model)


def as_diagnostic(value: Diagnostic | dict | str) -> Diagnostic:
    """A :class:`Diagnostic` from itself, its JSON form, or a bare sentence (older artifacts)."""
    if isinstance(value, Diagnostic):
        return value
    if isinstance(value, dict):
        return Diagnostic(str(value["code"]), str(value["category"]), str(value["message"]),
                          value.get("task"), value.get("model"))
    return diagnostic("unclassified", str(value))


def as_diagnostics(values: Iterable[Diagnostic | dict | str] | None) -> list[Diagnostic]:
    """:func:`as_diagnostic` over a list, dropping repeats but keeping the first order."""
    return list(dict.fromkeys(as_diagnostic(v) for v in values or []))


def with_task(values: Iterable[Diagnostic], task: str | None) -> list[Diagnostic]:
    """The diagnostics, each naming ``task`` unless it names one already."""
    from dataclasses import replace

    return [v if v.task is not None or task is None else replace(v, task=task) for v in values]
