"""How stable are the difficulty groups? Resample, re-rank, and count the questions that change group.

A question's difficulty is its mean score over the reference models, and the groups are cut at fixed
shares of the sorted questions (:mod:`slicesand.slicing.difficulty`). Both are estimates: with few reference models
the difficulties are noisy, with few questions the group boundaries are. Each draw resamples the
reference models *and* the questions with replacement (seeded), recomputes every question's difficulty,
re-ranks, and places every original question at its position among the drawn questions; the share of
(draw, question) pairs whose group differs from the one actually used is the instability. Above
:data:`MAX_SHARE` the forecast rests on groups that the data do not pin down, and a warning says so.

Everything is dense algebra over a (reference models x questions) matrix: one matrix product for the
difficulties of all draws, one batched ``argsort`` for the ranks; no loop over draws or questions.

>>> import numpy as np
>>> scores = np.tile(np.linspace(-0.9, -0.1, 30), (8, 1))  # eight models agree exactly: stable
>>> round(group_instability(scores, 3, draws=20, seed=0).share_changed, 3) < 0.2
True
>>> noisy = np.random.default_rng(0).normal(-0.5, 0.3, (3, 30))  # three disagreeing models: unstable
>>> group_instability(noisy, 3, draws=20, seed=0).share_changed > 0.2
True
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from slicesand.diagnostics import Diagnostic, diagnostic
from slicesand.slicing.difficulty import groups_by_position
from slicesand.blas import one_blas_thread

DRAWS = 40
MAX_SHARE = 0.20


@dataclass(frozen=True)
class Instability:
    """Share of questions that change group under resampling, overall and per original group."""

    share_changed: float
    share_by_group: list[float]
    draws: int
    seed: int
    note: str | None = None  # e.g. measured on a seeded subset of the questions (memory budget)

    def warning(self, limit: float = MAX_SHARE) -> Diagnostic | None:
        if not self.share_changed > limit:
            return None
        return diagnostic("unstable-groups",
                          f"the difficulty groups are unstable: resampling questions and reference models moves "
                          f"{self.share_changed:.0%} of questions to another group (more than {limit:.0%}); "
                          "more reference models (a higher --cut) or fewer --groups make them firmer")

    def facts(self) -> dict:
        return {"share_changed": self.share_changed, "share_by_group": self.share_by_group,
                "draws": self.draws, "seed": self.seed, **({"note": self.note} if self.note else {})}


# Columns of the score matrix converted to float64 at once: bounds the temporaries of a big matrix.
BLOCK_BYTES = 4_000_000


def group_instability(scores: np.ndarray, groups: int, *, draws: int = DRAWS, seed: int = 0,
                      tie_rank: np.ndarray | None = None) -> Instability:
    """Instability of ``groups`` difficulty groups from ``scores`` (reference models x questions; NaN
    where a model did not answer; float32 or float64, read in blocks of columns as float64, so a float32
    matrix is never copied whole)."""
    scores = np.asarray(scores)
    if scores.dtype not in (np.float32, np.float64):
        scores = scores.astype(np.float64)
    n_models, n_questions = scores.shape
    tie_rank = np.arange(n_questions) if tie_rank is None else np.asarray(tie_rank)
    rng = np.random.default_rng(seed)
    model_weights = rng.multinomial(n_models, np.full(n_models, 1.0 / n_models), size=draws).astype(float)
    question_counts = rng.multinomial(n_questions, np.full(n_questions, 1.0 / n_questions), size=draws)
    base_difficulty = np.empty(n_questions)
    drawn = np.empty((draws, n_questions))
    with one_blas_thread():  # the same bits on any number of cores (and less CPU)
        _drawn_difficulties(scores, model_weights, base_difficulty, drawn)
    drawn = np.where(np.isfinite(drawn), drawn, base_difficulty)
    base = groups_by_position(base_difficulty[None, :], np.ones((1, n_questions), dtype=np.int64), tie_rank, groups)[0]
    # Ten draws at a time: the ranking's (draws x questions) temporaries stay small on big dumps; each
    # draw is ranked on its own, so the result does not depend on the chunks.
    changed = np.concatenate([groups_by_position(drawn[rows], question_counts[rows], tie_rank, groups) != base[None, :]
                              for rows in (slice(r, r + 10) for r in range(0, draws, 10))] or [np.zeros((0, n_questions), bool)])
    per_group = [float(changed[:, base == g].mean()) if (base == g).any() else 0.0 for g in range(groups)]
    return Instability(float(changed.mean()), per_group, draws, seed)


def _drawn_difficulties(scores: np.ndarray, model_weights: np.ndarray, base_difficulty: np.ndarray,
                        drawn: np.ndarray) -> None:
    """Fill the full-data and the drawn difficulties, block of columns by block of columns."""
    n_models, n_questions = scores.shape
    for part in _column_blocks(n_models, n_questions):  # blocks of columns; each block is dense algebra
        block = scores[:, part].astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            answered = np.isfinite(block)
            if answered.all():  # every model answered: plain weighted means, no masks
                base_difficulty[part] = block.mean(axis=0)
                drawn[:, part] = (model_weights @ block) / model_weights.sum(axis=1, keepdims=True)
            else:
                total, count = np.where(answered, block, 0.0), answered.astype(float)
                base_difficulty[part] = total.sum(axis=0) / count.sum(axis=0)
                # A question no drawn model answered keeps its full-data difficulty (no information to move it).
                drawn[:, part] = (model_weights @ total) / (model_weights @ count)


def _column_blocks(n_models: int, n_questions: int) -> list[slice]:
    """Slices of columns of at most :data:`BLOCK_BYTES` as float64 (at least one column each)."""
    width = max(1, BLOCK_BYTES // (8 * max(n_models, 1)))
    return [slice(start, min(start + width, n_questions)) for start in range(0, n_questions, width)] or [slice(0, 0)]


def matrix_instability(scores: np.ndarray, model_names: np.ndarray, question_ids: np.ndarray,
                       question_tasks: np.ndarray, groups: int, *, draws: int = DRAWS, seed: int = 0,
                       note: str | None = None) -> Instability:
    """:func:`group_instability` of a (reference models x questions) matrix of mean scores (NaN where
    unanswered), whatever order its rows and columns come in: models are taken by name and questions in
    tie order (id, then task, as text), so the in-memory and the out-of-core paths, and any row order
    of a dump, draw alike. Questions no reference model answered are left out (slicing does not rank them)."""
    by_name = np.argsort(np.asarray(model_names).astype(str), kind="stable")
    order = np.lexsort((question_tasks.astype(str), question_ids.astype(str)))
    if not np.array_equal(order, np.arange(order.size)) or not np.array_equal(by_name, np.arange(by_name.size)):
        scores = scores[np.ix_(by_name, order)]
    answered_by_someone = np.concatenate([np.isfinite(scores[:, part]).any(axis=0)  # blocks: no full-size mask
                                          for part in _column_blocks(*scores.shape)])
    if not answered_by_someone.all():
        scores = scores[:, answered_by_someone]
    result = group_instability(scores, groups, draws=draws, seed=seed,
                               tie_rank=np.arange(int(answered_by_someone.sum())))
    return replace(result, note=note) if note else result


def check_bytes_per_question(n_reference: int) -> int:
    """What one question of the stability check may take, in bytes: float64 sums, counts and means of
    ``n_reference`` models per cell, and the draws' (draws x questions) ranks. One count for every path
    (in memory, out of core, from the bootstrap's matrix), so a memory budget checks the same seeded
    subset of questions whichever reads the dump.

    >>> check_bytes_per_question(9)
    1496
    """
    return n_reference * 8 * 3 + DRAWS * 8 * 4


def fits_question_matrix(matrix, memory_budget: float) -> bool:
    """Whether :func:`question_matrix_instability` of ``matrix`` stays within ``memory_budget`` bytes, as
    the other paths count it (:func:`check_bytes_per_question`), so all three check the same questions."""
    return matrix.score.shape[1] * check_bytes_per_question(int(matrix.reference.sum())) <= memory_budget


def question_matrix_instability(matrix, *, draws: int = DRAWS, seed: int = 0) -> Instability | None:
    """:func:`group_instability` from the bootstrap's :class:`slicesand.uncertainty.resampling.QuestionMatrix`
    of every question (the dump's cells are then read once for both): its reference rows' mean score
    per cell, in float32 as the other paths build theirs, and its ranked questions in tie order. The
    same result as :func:`dump_instability` and :func:`scanned_instability` on the same dump
    (``tests/uncertainty/test_stability.py``); ``None`` when fewer than two reference models or fewer
    questions than groups."""
    rows = np.flatnonzero(matrix.reference)
    if rows.size < 2 or matrix.score.shape[1] < matrix.groups:
        return None
    scores = matrix.score[rows]
    if matrix.count is not None:  # sums over answers per cell: their mean, NaN where unanswered
        count = matrix.count[rows]
        with np.errstate(invalid="ignore", divide="ignore"):
            scores = np.where(count > 0, scores / np.maximum(count, 1), np.nan)
    scores = scores[:, matrix.ranked].astype(np.float32)
    return group_instability(scores, matrix.groups, draws=draws, seed=seed, tie_rank=np.arange(scores.shape[1]))


def _reference(flops_by_model: np.ndarray, cut: float | None) -> np.ndarray:
    from slicesand.fitting.model import training_mask

    flops = np.asarray(flops_by_model, dtype=float)
    return np.isfinite(flops) & training_mask(flops, cut)


def dump_instability(dump, flops_by_model: np.ndarray, cut: float | None, groups: int, *, draws: int = DRAWS,
                     seed: int = 0, memory_budget: float = 2e9) -> Instability | None:
    """:func:`group_instability` for a :class:`slicesand.ingest.dump.Dump`, on the reference models of ``cut``
    (those with a scale below it; every model with a scale when ``cut`` is None). ``None`` when fewer than
    two reference models or fewer questions than groups. Over ``memory_budget`` bytes, a seeded subset
    of the questions is measured, and the facts' note says so."""
    from slicesand.ingest.dump import model_question_sums
    from slicesand.uncertainty.resampling import questions_within_budget

    reference = _reference(flops_by_model, cut)
    if reference.sum() < 2 or dump.n_questions < groups:
        return None
    dump, note = questions_within_budget(dump, check_bytes_per_question(int(reference.sum())), memory_budget, groups,
                                         seed, "checked for stability")
    if dump is None:
        return None
    scores, count = model_question_sums(dump, reference)
    if count is not None:  # mean per cell, NaN where the model did not answer
        with np.errstate(invalid="ignore", divide="ignore"):
            scores = np.where(count > 0, scores / np.maximum(count, 1), np.nan)
    return matrix_instability(scores.astype(np.float32), dump.model_names[reference], dump.question_ids,
                              dump.question_tasks, groups, draws=draws, seed=seed, note=note)


def scanned_instability(scanner, model_names: np.ndarray, flops_by_model: np.ndarray, question_ids: np.ndarray,
                        task: str, cut: float | None, groups: int, *, draws: int = DRAWS, seed: int = 0,
                        memory_budget: float = 2e9) -> Instability | None:
    """:func:`dump_instability` for a dump read out of core (:class:`slicesand.slicing.scans.DumpScanner`,
    after its scan of ``task``): the (reference models x questions) matrix is built in float32 straight
    from DuckDB, of every question when it fits ``memory_budget``, else of a seeded subset (noted).
    ``question_ids`` are the task's questions in tie order (as the slicing's questions table has them)."""
    from slicesand.uncertainty.resampling import budget_subset

    reference = _reference(flops_by_model, cut)
    if reference.sum() < 2 or len(question_ids) < groups:
        return None
    chosen, note = budget_subset(len(question_ids), check_bytes_per_question(int(reference.sum())), memory_budget, groups,
                                 seed, "checked for stability")
    if chosen is False:
        return None
    ids = np.asarray(question_ids, dtype=object)
    ids = ids if chosen is None else ids[chosen]
    names = np.asarray(model_names)[reference]
    scores, _ = scanner.cells(names, ids, dtype=np.float32)
    return matrix_instability(scores, names, ids, np.full(ids.size, task, dtype=object), groups, draws=draws, seed=seed,
                              note=note)
