"""The *slice* stage: rank questions by difficulty and average each model's score per group.

Difficulty of a question is its mean TC Brier score over the reference models (those below the cut;
all models when there is no cut). Questions are sorted easiest first, ties broken by question id, and
split into G groups at ``floor(linspace(0, Q, G + 1))`` as the paper's reference code does.

>>> import numpy as np
>>> from slicesand.io.tables import Source
>>> from slicesand.ingest.dump import Dump
>>> dump = Dump(Source("toy", ""), np.array(["a", "b"], dtype=object), np.array(["q1", "q2"], dtype=object),
...             np.array(["", ""], dtype=object), np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1]),
...             np.array([-0.0, -1.0, -0.25, -1.0]), np.array([1.0, 0.0, 1.0, 0.0]), None, True)
>>> result = slice_dump(dump, np.array([1e20, 1e21]), SliceOptions(groups=2))
>>> result.slices[["model", "group_1", "group_2"]].values.tolist()
[['a', 0.0, -1.0], ['b', -0.25, -1.0]]
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from slicesand.diagnostics import Diagnostic, diagnostic
from slicesand.errors import InputDataError, UsageError
from slicesand.io.columns import ColumnTable

if TYPE_CHECKING:
    import pandas as pd

    from slicesand.ingest.dump import Dump


ACCURACY_FROM = ("correct", "p_correct")


@dataclass(frozen=True)
class SliceOptions:
    """Parameters of the slice stage. ``cut`` is in FLOPs; ``None`` makes every model a reference."""

    cut: float | None = None
    groups: int = 3
    # Where accuracy comes from: "correct" (the share of answers marked correct) or "p_correct" (the mean
    # of p_correct: the expected accuracy of one sampled answer, e.g. pass@1 from k samples).
    accuracy_from: str = "correct"

    def __post_init__(self) -> None:
        if self.accuracy_from not in ACCURACY_FROM:
            raise UsageError(None, f"accuracy_from must be one of {', '.join(ACCURACY_FROM)}",
                             found=self.accuracy_from)
        if self.groups < 2:
            raise UsageError(None, "`groups` must be at least 2 (an easy and a hard group)", found=self.groups)
        if self.cut is not None and not (np.isfinite(self.cut) and self.cut > 0):
            raise UsageError(None, "`cut` must be a positive number of FLOPs", found=self.cut)


@dataclass
class SliceResult:
    """The slices table (one row per model), the questions table, and facts about both.

    The tables are numpy columns (``slices_table``, ``questions_table``: what ``slice`` writes without
    pandas); ``slices`` and ``questions`` are the same tables as DataFrames, built on first use.
    """

    slices_table: ColumnTable
    questions_table: ColumnTable
    options: SliceOptions
    facts: dict = field(default_factory=dict)
    warnings: list[Diagnostic] = field(default_factory=list)

    @cached_property
    def slices(self) -> pd.DataFrame:
        return self.slices_table.to_frame()

    @cached_property
    def questions(self) -> pd.DataFrame:
        return self.questions_table.to_frame()

    def metadata(self) -> dict:
        return {"parameters": asdict(self.options), "facts": self.facts, "warnings": self.warnings}


def group_columns(groups: int) -> list[str]:
    """``['group_1', ..., 'group_G']``, easiest first."""
    return [f"group_{k}" for k in range(1, groups + 1)]


def group_boundaries(n_questions: int, groups: int) -> np.ndarray:
    """Split points of ``n_questions`` sorted questions into ``groups`` near-equal groups.

    >>> group_boundaries(14042, 3).tolist()
    [0, 4680, 9361, 14042]
    """
    return np.floor(np.linspace(0, n_questions, groups + 1)).astype(np.int64)


def _names(values: np.ndarray, limit: int = 5) -> str:
    """The first few names in text order (so both engines name the same ones), and how many more."""
    values = sorted(str(v) for v in values)
    shown = ", ".join(values[:limit])
    return shown + (f" and {len(values) - limit} more" if len(values) > limit else "")


def slice_dump(dump: Dump, flops_by_model: np.ndarray, options: SliceOptions) -> SliceResult:
    """Rank the dump's questions on the reference models and average every model's score per group
    (in memory, with numpy; :mod:`slicesand.slicing.scans` computes the same sums out of core). Its
    matrix products run on one BLAS thread (:func:`slicesand.blas.one_blas_thread`): the same bits on
    any number of cores."""
    from slicesand.blas import one_blas_thread

    with one_blas_thread():
        return _slice_dump(dump, flops_by_model, options)


def _slice_dump(dump: Dump, flops_by_model: np.ndarray, options: SliceOptions) -> SliceResult:
    flops_by_model = np.asarray(flops_by_model, dtype=float)
    has_scale, reference, warnings = reference_models(dump.source.name, dump.model_names, flops_by_model, options)
    stats = _DenseStats(dump) if dump.dense else _SparseStats(dump, has_scale)

    # Difficulty: mean score per question over the reference models' answers.
    reference_answers, difficulty, rank_key = stats.question_means(reference)
    ranked = np.flatnonzero(reference_answers > 0)
    check_rankable(ranked.size, options.groups)
    # Easiest first (highest mean score), ties broken by question id (then task), as documented.
    order = ranked[easiest_first(rank_key[ranked], tie_rank(dump.question_ids, dump.question_tasks)[ranked])]
    group_of_question = np.full(dump.n_questions, -1, dtype=np.int64)
    group_of_question[order] = np.repeat(np.arange(options.groups), np.diff(group_boundaries(ranked.size, options.groups)))

    group_sum, group_n, answered, tc_sum = stats.group_sums(group_of_question, options.groups,
                                                            ranked.size < dump.n_questions)
    correct_sum, n_known = stats.correct_sums(answered) if stats.correct is not None else (None, None)
    if options.accuracy_from == "p_correct":
        correct_sum, n_known = _p_correct_sums(dump, answered)
    sums = SliceSums(dump.model_names, dump.question_ids, dump.question_tasks, dump.tasks, reference_answers,
                     difficulty, order, group_sum, group_n, answered, tc_sum, correct_sum, n_known)
    return slice_from_sums(sums, flops_by_model, has_scale, reference, options, warnings)


def reference_models(name: str, model_names: np.ndarray, flops_by_model: np.ndarray, options: SliceOptions
                     ) -> tuple[np.ndarray, np.ndarray, list[Diagnostic]]:
    """(models with a scale, reference models, warnings): the models below the cut rank the questions."""
    warnings: list[Diagnostic] = []
    has_scale = np.isfinite(flops_by_model)
    if not has_scale.any():
        raise InputDataError(name, "no model has a scale (FLOPs)",
                             hint="add a flops column or pass `models` with model,flops or model,params,tokens")
    if not has_scale.all():
        warnings.append(diagnostic("model-without-scale", f"left out {int((~has_scale).sum())} model(s) without a scale: "
                                   f"{_names(model_names[~has_scale])}"))
    if options.cut is None:
        return has_scale, has_scale, warnings
    reference = has_scale & (flops_by_model < options.cut)
    if not reference.any():
        raise UsageError(None, f"`cut` {options.cut:g} leaves no reference model below it",
                         found=f"smallest model has {np.nanmin(flops_by_model):.3g} FLOPs",
                         hint="raise `cut`")
    if not (has_scale & (flops_by_model >= options.cut)).any():
        raise UsageError(None, f"`cut` {options.cut:g} leaves no model at or above it to test on",
                         found=f"largest model has {np.nanmax(flops_by_model):.3g} FLOPs",
                         hint="lower `cut`, or omit it to use every model")
    return has_scale, reference, warnings


#: Scores are ranked on exact fixed-point sums (multiples of 2^-40): float sums depend on the order of
#: the terms, so two questions with equal means could rank by rounding noise instead of by id, and the
#: numpy and DuckDB engines could disagree. Exact while reference models x 2^40 < 2^53 (8192 models).
FIXED_POINT = 2.0 ** 40


def fixed_point(scores: np.ndarray) -> np.ndarray:
    """``floor(score * 2^40)`` as float64 integers: sums of up to 8192 of them are exact in any order.

    >>> fixed_point(np.array([-0.25, 0.0])).tolist()
    [-274877906944.0, 0.0]
    """
    return np.floor(np.multiply(scores, FIXED_POINT, dtype=np.float64))


def check_rankable(n_ranked: int, groups: int) -> None:
    if n_ranked == 0:  # say why, not "use fewer groups"
        raise UsageError(None, "no question has an answer from a reference model (a model with a scale, "
                         "below the cut if one is set)", hint="give the models a scale (`models`)")
    if n_ranked < groups:
        raise UsageError(None, f"cannot split {n_ranked} ranked question(s) into {groups} groups",
                         hint="use fewer `groups`")


@dataclass
class SliceSums:
    """What either engine computes: per question (all Q) and per model (all M) sums, and the ranking.

    ``order`` lists the ranked questions easiest first; ``correct_sum`` is ``None`` without correctness.
    """

    model_names: np.ndarray
    question_ids: np.ndarray
    question_tasks: np.ndarray
    tasks: list[str]
    reference_answers: np.ndarray  # (Q,)
    difficulty: np.ndarray  # (Q,) NaN where no reference model answered
    order: np.ndarray  # (ranked,) question indices, easiest first
    group_sum: np.ndarray  # (M, G)
    group_n: np.ndarray  # (M, G)
    answered: np.ndarray  # (M,)
    tc_sum: np.ndarray  # (M,)
    correct_sum: np.ndarray | None  # (M,)
    n_known: np.ndarray | None  # (M,) answers with a known correctness


def slice_from_sums(sums: SliceSums, flops_by_model: np.ndarray, has_scale: np.ndarray, reference: np.ndarray,
                    options: SliceOptions, warnings: list[Diagnostic]) -> SliceResult:
    """The slices and questions tables, facts and warnings from the sums (one implementation for both
    engines)."""
    n_questions, groups = len(sums.question_ids), options.groups
    names = sums.model_names
    unranked = n_questions - sums.order.size
    if unranked:
        warnings.append(diagnostic("unranked-questions", f"{unranked} question(s) have no answer from a reference model and are left out "
                                   f"of the groups: {_names(sums.question_ids[sums.reference_answers == 0])}"))
    with np.errstate(invalid="ignore", divide="ignore"):
        group_mean = np.where(sums.group_n > 0, sums.group_sum / np.maximum(sums.group_n, 1), np.nan)
        tc_mean = sums.tc_sum / sums.answered
        accuracy = (sums.correct_sum / sums.n_known if sums.correct_sum is not None
                    else np.full(len(names), np.nan))
    silent = has_scale & (sums.answered == 0)
    if silent.any():
        warnings.append(diagnostic("silent-models", f"left out {int(silent.sum())} model(s) with no answers: "
                                   f"{_names(names[silent])}"))
    ragged = has_scale & (sums.answered < n_questions)
    if ragged.any():
        warnings.append(diagnostic("ragged-models", f"{int(ragged.sum())} model(s) miss some questions; their group means use the "
                                   f"questions they answered: {_names(names[ragged])}"))
    empty_group = has_scale & (sums.group_n == 0).any(axis=1)
    if empty_group.any():
        warnings.append(diagnostic("empty-group", f"{int(empty_group.sum())} model(s) answered no question of some group: "
                                   f"{_names(names[empty_group])}"))
    if sums.correct_sum is None:
        warnings.append(diagnostic("no-correct-column",
                                   "the dump has no 'correct' column: accuracy is unknown, so only TC Brier is forecast"))

    kept = np.flatnonzero(has_scale & ~silent)
    kept = kept[np.lexsort((names[kept].astype(object), flops_by_model[kept]))]  # by flops, then name
    slices = {"model": names[kept], "flops": flops_by_model[kept], "accuracy": accuracy[kept],
              "tc_brier": tc_mean[kept]}
    for k, column in enumerate(group_columns(groups)):
        slices[column] = group_mean[kept, k]
    slices["n_answered"] = sums.answered[kept]
    slices["n_missing"] = n_questions - sums.answered[kept]

    bounds = group_boundaries(sums.order.size, groups)
    order = sums.order
    questions = {
        "question": sums.question_ids[order],
        "task": sums.question_tasks[order],
        "difficulty": sums.difficulty[order],
        "group": np.repeat(np.arange(1, groups + 1), np.diff(bounds)),
        "n_reference_answers": sums.reference_answers[order].astype(np.int64),
    }
    facts = {
        "n_models": int((has_scale & ~silent).sum()),
        "n_reference_models": int(reference.sum()),
        "n_questions": int(n_questions),
        "n_ranked_questions": int(order.size),
        "group_sizes": np.diff(bounds).tolist(),
        "models_without_scale": sorted(str(v) for v in names[~has_scale]),
        "has_accuracy": sums.correct_sum is not None,
        "tasks": sums.tasks,
    }
    return SliceResult(ColumnTable(slices), ColumnTable(questions), options, facts, warnings)


def _p_correct_sums(dump: Dump, answered: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each model's sum of p_correct over its answers (and their count), recovered from the TC Brier score
    ``-(1 - p)**2``; rows without p_correct were scored from their 0/1 correctness by the reader."""
    if not dump.has_p_correct:
        raise UsageError(dump.source.name, "accuracy from p_correct needs a 'p_correct' column",
                         hint="take accuracy from 'correct' (the default)")
    p = 1.0 - np.sqrt(-np.asarray(dump.score, dtype=np.float64))
    return np.bincount(dump.model_code, weights=p, minlength=dump.n_models), np.asarray(answered, dtype=float)


def tie_rank(question_ids: np.ndarray, question_tasks: np.ndarray) -> np.ndarray:
    """Rank of each question's (id, task) in sorted text order: ties in difficulty are broken by it.

    Ids are compared as text (so ``"10"`` sorts before ``"9"``), then tasks.

    >>> tie_rank(np.array(["b", "a", "10", "9"], dtype=object), np.array([""] * 4, dtype=object)).tolist()
    [3, 2, 0, 1]
    """
    order = np.lexsort((question_tasks.astype(str), question_ids.astype(str)))
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return rank


def easiest_first(difficulty: np.ndarray, ranks: np.ndarray) -> np.ndarray:
    """Order of the questions (columns) in each row of ``difficulty``: highest mean score first, ties
    broken by ``ranks`` (a permutation, see :func:`tie_rank`). A 1-D ``difficulty`` gives a 1-D order.

    Equal to ``lexsort((ranks, -difficulty))`` row by row, but cheaper: the columns are put in tie
    order once, and each row is sorted with numpy's fast (SIMD, unstable) ``argsort``; only a row that
    holds equal values (whose order the unstable sort leaves open) is sorted again with a stable sort.

    >>> easiest_first(np.array([-0.5, -0.1, -0.5, -0.9]), np.array([3, 2, 1, 0])).tolist()
    [1, 2, 0, 3]
    """
    difficulty = np.asarray(difficulty, dtype=np.float64)
    if difficulty.ndim == 1:
        return easiest_first(difficulty[None, :], ranks)[0]
    by_tie = np.argsort(ranks)
    keys = np.negative(difficulty[:, by_tie])
    local = np.argsort(keys, axis=1)
    ordered = np.take_along_axis(keys, local, axis=1)
    equal = (ordered[:, 1:] == ordered[:, :-1]) | (np.isnan(ordered[:, 1:]) & np.isnan(ordered[:, :-1]))
    tied = equal.any(axis=1)
    if tied.any():
        local[tied] = np.argsort(keys[tied], axis=1, kind="stable")
    return by_tie[local]


def groups_by_position(difficulty: np.ndarray, counts: np.ndarray, ranks: np.ndarray, groups: int) -> np.ndarray:
    """Group (0-based) of every question per draw: rows of ``difficulty`` and ``counts`` are draws.

    A question's position is the number of drawn questions (``counts``: how often each was drawn)
    ranked before it (:func:`easiest_first`); the groups are cut at the shares of
    :func:`group_boundaries`. With every count 1, this is the slicing's own grouping.

    >>> groups_by_position(np.array([[-0.5, -0.1, -0.7, -0.9]]), np.ones((1, 4), dtype=np.int64),
    ...                    np.arange(4), 2).tolist()
    [[0, 0, 1, 1]]
    """
    order = easiest_first(difficulty, ranks)
    ordered_counts = np.take_along_axis(counts, order, axis=1)
    before = np.cumsum(ordered_counts, axis=1) - ordered_counts
    inner = group_boundaries(difficulty.shape[1], groups)[1:-1]
    group = np.empty(order.shape, dtype=np.int64)
    np.put_along_axis(group, order, np.searchsorted(inner, before, side="right"), axis=1)
    return group


class _SparseStats:
    """Sums over a dump in any row order, with ``numpy.bincount`` on integer codes."""

    def __init__(self, dump: Dump, has_scale: np.ndarray) -> None:
        self.n_models, self.n_questions = dump.n_models, dump.n_questions
        self.m, self.q, self.score, self.correct = dump.model_code, dump.question_code, dump.score, dump.correct
        if not has_scale.all():
            keep = has_scale[self.m]
            self.m, self.q, self.score = self.m[keep], self.q[keep], self.score[keep]
            self.correct = self.correct[keep] if self.correct is not None else None
        self.models_present = np.bincount(self.m, minlength=self.n_models) > 0

    def question_means(self, reference: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if reference[self.models_present].all():
            q_ref, score_ref = self.q, self.score
        else:
            is_reference_row = reference[self.m]
            q_ref, score_ref = self.q[is_reference_row], self.score[is_reference_row]
        answers = np.bincount(q_ref, minlength=self.n_questions)
        exact = np.bincount(q_ref, weights=fixed_point(score_ref), minlength=self.n_questions)
        with np.errstate(invalid="ignore", divide="ignore"):
            return (answers, np.bincount(q_ref, weights=score_ref, minlength=self.n_questions) / answers,
                    exact / answers)

    def group_sums(self, group_of_question: np.ndarray, groups: int, some_unranked: bool):
        cells = self.n_models * groups
        if some_unranked:
            row_group = group_of_question[self.q]
            in_group = row_group >= 0
            key, scores = self.m[in_group] * groups + row_group[in_group], self.score[in_group]
        else:
            key, scores = self.m * groups + group_of_question[self.q], self.score
        group_sum = np.bincount(key, weights=scores, minlength=cells).reshape(self.n_models, groups)
        group_n = np.bincount(key, minlength=cells).reshape(self.n_models, groups)
        if some_unranked:
            answered = np.bincount(self.m, minlength=self.n_models)
            tc_sum = np.bincount(self.m, weights=self.score, minlength=self.n_models)
        else:  # every answer is in some group: the per-model totals are the groups' sums
            answered, tc_sum = group_n.sum(axis=1), group_sum.sum(axis=1)
        return group_sum, group_n, answered, tc_sum

    def correct_sums(self, answered: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        known = ~np.isnan(self.correct)
        if known.all():
            return np.bincount(self.m, weights=self.correct, minlength=self.n_models), answered
        m = self.m[known]
        return (np.bincount(m, weights=self.correct[known], minlength=self.n_models),
                np.bincount(m, minlength=self.n_models))


class _DenseStats:
    """The same sums for a complete dump stored model by model, question by question (the usual
    layout of a big dump): the scores form an M x Q matrix, and every sum is one BLAS product."""

    def __init__(self, dump: Dump) -> None:
        self.n_models, self.n_questions = dump.n_models, dump.n_questions
        self.scores = dump.score.reshape(self.n_models, self.n_questions)
        self.correct = dump.correct

    def question_means(self, reference: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n_reference = int(reference.sum())
        answers = np.full(self.n_questions, n_reference, dtype=np.int64)
        exact = fixed_point(self.scores[reference]).sum(axis=0)
        return answers, (reference.astype(np.float64) @ self.scores) / n_reference, exact / n_reference

    def group_sums(self, group_of_question: np.ndarray, groups: int, some_unranked: bool):
        membership = np.zeros((self.n_questions, groups))
        membership[np.arange(self.n_questions), group_of_question] = 1.0
        group_sum = self.scores @ membership
        sizes = np.bincount(group_of_question, minlength=groups)
        group_n = np.broadcast_to(sizes, (self.n_models, groups))
        return group_sum, group_n, np.full(self.n_models, self.n_questions), group_sum.sum(axis=1)

    def correct_sums(self, answered: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        matrix = self.correct.reshape(self.n_models, self.n_questions)
        if not np.issubdtype(matrix.dtype, np.floating):  # 0/1 integers: no unknowns, no float copy
            return matrix.sum(axis=1, dtype=np.float64), answered.astype(np.float64)
        sums = matrix @ np.ones(self.n_questions)
        counts = answered.astype(np.float64)
        unknown = np.isnan(sums)
        if unknown.any():  # some answers without correctness: count only the known ones
            sums[unknown] = np.nansum(matrix[unknown], axis=1)
            counts[unknown] = (~np.isnan(matrix[unknown])).sum(axis=1)
        return sums, counts
