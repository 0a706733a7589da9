"""Pieces every reader shares: the options, the long-table schema, choice scoring, and notes.

The long table ("dump") is a :class:`pyarrow.Table` with exactly the columns of :data:`DUMP_SCHEMA`:
``model, question, task`` (strings), ``correct`` (int8, 0/1, null when unknown) and ``p_correct``
(float64 in [0, 1], null when unknown).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from slicesand.errors import UsageError
from slicesand.io.tables import read_file_bytes

if TYPE_CHECKING:
    import pandas as pd

DUMP_SCHEMA = pa.schema(
    [
        ("model", pa.string()),
        ("question", pa.string()),
        ("task", pa.string()),
        ("correct", pa.int8()),
        ("p_correct", pa.float64()),
    ]
)

METRICS = ("acc", "acc_norm")
ORIENTATIONS = ("auto", "rows", "columns")


@dataclass(frozen=True)
class ImportOptions:
    """How to read a source. Every field has a default that suits the common case.

    - ``metric``: for multiple-choice lm-eval tasks, ``"acc"`` (argmax of the log-likelihoods) or
      ``"acc_norm"`` (argmax of log-likelihood per character of the choice, as the harness does).
      ``p_correct`` follows the same scores, so ``correct == 1`` exactly when the gold choice has
      the highest ``p_correct``.
    - ``filter_name``: which lm-eval filter to keep when a task logs each document once per filter
      (default: the first one seen, with a note).
    - ``group_subtasks``: fold subtasks into their parent task (``mmlu_anatomy`` -> ``mmlu``),
      prefixing question ids with the subtask so they stay unique.
    - ``matrix_orientation``: for a wide 0/1 CSV, where the models are: ``"rows"``, ``"columns"``
      or ``"auto"`` (decided from the header, then from known model names, then from the shape).
    - ``correct_metric``: the per-record metric (lm-eval generative tasks) or per-instance stat
      (HELM) that gives ``correct``; default: the first of exact_match, acc, quasi_exact_match, em.
    - ``task_name``: the task label for sources that carry none (wide CSV, py-irt); default: the
      file name without its extension.
    - ``known_scales``: fill model scale from the bundled table (:mod:`slicesand.ingest.known_models`).

    >>> ImportOptions(metric="acc_norm").metric
    'acc_norm'
    """

    metric: str = "acc"
    filter_name: str | None = None
    group_subtasks: bool = False
    matrix_orientation: str = "auto"
    correct_metric: str | None = None
    task_name: str | None = None
    known_scales: bool = True

    def __post_init__(self) -> None:
        if self.metric not in METRICS:
            raise UsageError(
                "options", f"metric must be one of {', '.join(METRICS)}", found=self.metric, hint="use acc or acc_norm"
            )
        if self.matrix_orientation not in ORIENTATIONS:
            raise UsageError(
                "options",
                f"matrix_orientation must be one of {', '.join(ORIENTATIONS)}",
                found=self.matrix_orientation,
            )


@dataclass
class ImportResult:
    """What :func:`slicesand.ingest.importers.read_source` returns.

    - ``dump``: the long table (see :data:`DUMP_SCHEMA`).
    - ``models``: one row per model of the dump, ``model, params, tokens, flops`` (float64, NaN
      when unknown) and ``scale_source`` (where the numbers came from, None when nowhere).
    - ``notes``: plain sentences for the user (choices made, things worth knowing); the CLI prints
      them to stderr.
    - ``kind``: the source kind that was read.
    """

    dump: pa.Table
    models: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    kind: str = ""


@dataclass
class ReaderOutput:
    """What one reader hands back before the model table is completed.

    ``model_params`` holds parameter counts the source itself states (e.g. lm-eval's
    ``model_num_parameters``), keyed by model; ``model_flops`` the FLOPs it states (a long table's own
    ``flops`` column), which no other source overrides.
    """

    dump: pa.Table
    model_params: dict[str, float] = field(default_factory=dict)
    model_flops: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def make_dump(
    model: np.ndarray | list[str] | str,
    question: np.ndarray | list[str],
    task: np.ndarray | list[str] | str,
    correct: np.ndarray,
    p_correct: np.ndarray,
) -> pa.Table:
    """Build a long table; ``correct`` and ``p_correct`` are float arrays where NaN means unknown.

    A scalar ``model`` or ``task`` is repeated for every row.

    >>> make_dump("m", ["0", "1"], "t", np.array([1.0, np.nan]), np.array([0.7, np.nan])).to_pylist()[1]
    {'model': 'm', 'question': '1', 'task': 't', 'correct': None, 'p_correct': None}
    """
    n_rows = len(question)
    correct = np.asarray(correct, dtype=np.float64)
    p_correct = np.asarray(p_correct, dtype=np.float64)
    unknown_correct = np.isnan(correct)
    columns = [
        _string_column(model, n_rows),
        _string_column(question, n_rows),
        _string_column(task, n_rows),
        pa.array(np.where(unknown_correct, 0, correct).astype(np.int8), type=pa.int8(), mask=unknown_correct),
        pa.array(p_correct, type=pa.float64(), mask=np.isnan(p_correct)),
    ]
    return pa.Table.from_arrays(columns, schema=DUMP_SCHEMA)


def _string_column(values: np.ndarray | list[str] | str | pa.Array, n_rows: int) -> pa.Array:
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return values if values.type == pa.string() else values.cast(pa.string())
    if isinstance(values, str):
        # A dictionary-encoded constant would be cheaper, but the core expects plain strings.
        return pa.repeat(pa.scalar(values, pa.string()), n_rows)
    return pa.array(np.asarray(values, dtype=object), type=pa.string())


def empty_dump() -> pa.Table:
    """A long table with no rows."""
    return DUMP_SCHEMA.empty_table()


@dataclass(frozen=True)
class ChoiceOutcome:
    """Per-record result of scoring choices: float arrays where NaN means unknown."""

    correct: np.ndarray
    p_correct: np.ndarray


def pad_ragged(flat: np.ndarray, counts: np.ndarray, fill: float) -> np.ndarray:
    """Lay a flat array of per-record runs out as a 2-D array, one row per record.

    >>> pad_ragged(np.array([1.0, 2.0, 3.0]), np.array([2, 1]), -np.inf)
    array([[  1.,   2.],
           [  3., -inf]])
    """
    counts = np.asarray(counts, dtype=np.int64)
    n_rows = len(counts)
    width = int(counts.max()) if n_rows else 0
    padded = np.full((n_rows, width), fill, dtype=np.float64)
    row_of_item = np.repeat(np.arange(n_rows), counts)
    starts = np.cumsum(counts) - counts
    column_of_item = np.arange(len(flat)) - np.repeat(starts, counts)
    padded[row_of_item, column_of_item] = flat
    return padded


def score_choices(scores: np.ndarray, gold: np.ndarray) -> ChoiceOutcome:
    """Correctness and redistributed probability of the gold choice(s), vectorised over records.

    ``scores`` is (records x choices), padded with -inf where a record has fewer choices; ``gold``
    is a boolean array of the same shape marking the gold choice(s). ``p_correct`` is the softmax
    of the scores summed over gold choices (computed after subtracting each row's maximum, so large
    log-likelihoods do not overflow); ``correct`` is whether the first argmax is gold, as
    ``numpy.argmax`` in the harness. A record with no gold choice, a NaN score, or no finite score
    gets NaN for both.

    >>> outcome = score_choices(np.array([[0.0, np.log(3.0)]]), np.array([[False, True]]))
    >>> float(outcome.correct[0]), round(float(outcome.p_correct[0]), 6)
    (1.0, 0.75)
    """
    n_rows = scores.shape[0]
    if n_rows == 0:
        return ChoiceOutcome(np.empty(0), np.empty(0))
    with np.errstate(invalid="ignore"):
        row_max = np.max(scores, axis=1)
        usable = np.isfinite(row_max) & ~np.isnan(scores).any(axis=1) & gold.any(axis=1)
        safe_max = np.where(usable, row_max, 0.0)
        weights = np.exp(scores - safe_max[:, None])
        weights = np.where(usable[:, None], weights, 0.0)
        total = weights.sum(axis=1)
        probability = np.where(usable, (weights * gold).sum(axis=1) / np.where(usable, total, 1.0), np.nan)
    predicted = np.argmax(np.where(np.isnan(scores), -np.inf, scores), axis=1)
    correct = np.where(usable, gold[np.arange(n_rows), predicted].astype(np.float64), np.nan)
    # Rounding can leave a sum of probabilities a hair above 1.
    return ChoiceOutcome(correct=correct, p_correct=np.clip(probability, 0.0, 1.0))


class Notes:
    """Collects notes, folding repeats of the same kind into one sentence.

    A note with a ``group`` key is merged with others of the same key: ``subjects`` (e.g. models or
    tasks) are listed after the sentence instead of repeating it for each.

    >>> notes = Notes()
    >>> notes.add("picked filter 'none'", group="f", subject="m1")
    >>> notes.add("picked filter 'none'", group="f", subject="m2")
    >>> notes.render()
    ["picked filter 'none' (m1, m2)"]
    """

    def __init__(self) -> None:
        self._plain: list[str] = []
        self._grouped: dict[str, tuple[str, list[str]]] = {}
        self._order: list[tuple[str, str]] = []

    def add(self, text: str, *, group: str | None = None, subject: str | None = None) -> None:
        if group is None:
            self._order.append(("plain", str(len(self._plain))))
            self._plain.append(text)
            return
        if group not in self._grouped:
            self._grouped[group] = (text, [])
            self._order.append(("group", group))
        if subject is not None and subject not in self._grouped[group][1]:
            self._grouped[group][1].append(subject)

    def absorb(self, other: "Notes") -> None:
        """Add another collection's notes (e.g. a worker process's), keeping its order and groups."""
        for kind, key in other._order:
            if kind == "plain":
                self.add(other._plain[int(key)])
                continue
            text, subjects = other._grouped[key]
            if not subjects:
                self.add(text, group=key)
            for subject in subjects:
                self.add(text, group=key, subject=subject)

    def extend(self, texts: list[str]) -> None:
        for text in texts:
            self.add(text)

    def render(self, max_subjects: int = 6) -> list[str]:
        rendered = []
        for kind, key in self._order:
            if kind == "plain":
                rendered.append(self._plain[int(key)])
                continue
            text, subjects = self._grouped[key]
            if subjects:
                shown = ", ".join(subjects[:max_subjects])
                more = f", and {len(subjects) - max_subjects} more" if len(subjects) > max_subjects else ""
                text = f"{text} ({shown}{more})"
            rendered.append(text)
        return rendered


def read_bytes(path: Path) -> bytes:
    """A file's bytes (decompressed by its name), or an InputDataError saying why it cannot be read
    (a Git LFS pointer included)."""
    return read_file_bytes(path)
