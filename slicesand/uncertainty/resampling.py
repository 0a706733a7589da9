"""Resample the questions in the bootstrap: re-rank, regroup and re-average every draw.

The slices table holds one number per model and group, but those numbers are estimates over a sample
of questions, and the groups themselves are cut from a ranking that depends on the sample. With the
per-question dump at hand, each bootstrap draw (:func:`slicesand.uncertainty.bootstrap.bootstrap`) also draws
question multiplicities (how often each question is taken, multinomial with replacement), and:

1. recomputes every question's difficulty on the reference models, weighted by the draw's model
   multiplicities (models that were not drawn do not rank the questions);
2. re-ranks the questions and cuts the drawn questions into groups at the same shares as
   :func:`slicesand.slicing.difficulty.slice_dump` (a question's position is the number of drawn questions ranked
   before it, as in :mod:`slicesand.uncertainty.stability`);
3. recomputes each training model's easy and hard group means, TC Brier and accuracy as means over
   the drawn questions, weighted by their multiplicities.

Everything is dense algebra on a (models x questions) matrix: the difficulties of all draws are one
matrix product (draws x reference models) @ (reference models x questions), the easiest and hardest
groups one batched ``partition`` (:func:`edge_groups`, the first and last groups of
:func:`slicesand.slicing.difficulty.groups_by_position`, without a sort), and the group means matrix
products of (draws x questions) weights with the transposed
score matrix. A complete dump sorted by model then question *is* that matrix (a reshape); any other
dump is gathered into it with ``bincount``. When the matrices would not fit the memory budget
(``memory_budget`` bytes, 2 GB by default; ``run --memory-budget``), a seeded subset of the questions
is resampled instead, and the note says so. Draws are processed
in blocks of at most :data:`BLOCK_CELLS` (draws x questions) cells to bound memory on big dumps.

Questions no reference model answered are not ranked (as in slicing): they are resampled among
themselves (so the ranked questions keep their count and the group sizes stay those of the slicing)
and count only towards TC Brier and accuracy.

>>> import numpy as np
>>> from slicesand.io.tables import Source
>>> from slicesand.ingest.dump import Dump
>>> rng = np.random.default_rng(0)
>>> score = -rng.random((4, 30)).ravel()
>>> dump = Dump(Source("toy", ""), np.array(list("abcd"), dtype=object),
...             np.array([f"q{j:02d}" for j in range(30)], dtype=object), np.full(30, "", dtype=object),
...             np.repeat(np.arange(4), 30), np.tile(np.arange(30), 4), score, (score > -0.5) * 1.0,
...             None, True, dense=True)
>>> matrix, note = question_matrix(dump, np.array([1e20, 1e21, 1e22, 1e23]), 1e22, groups=3)
>>> drawn = question_draws(matrix, np.array(["a", "b"]), np.ones((5, 2)), seed=0)
>>> drawn.shape  # (easy, hard, tc_brier, accuracy) x draws x models
(4, 5, 2)
>>> bool(np.array_equal(drawn, question_draws(matrix, np.array(["a", "b"]), np.ones((5, 2)), seed=0)))
True
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from slicesand.blas import one_blas_thread
from slicesand.slicing.difficulty import group_boundaries, groups_by_position, tie_rank

#: Bytes the model x question matrices of the bootstrap may take (``run --memory-budget``).
DEFAULT_MEMORY_BUDGET = 2e9
# Largest block of (draws x questions) cells processed at once: bounds the ranking's temporary arrays,
# and a block's dozen (draws x questions) temporaries then stay within a core's caches: 1M cells (8 MB
# each) drew 1,000 draws on 60 x 14k in 0.90 s of CPU where 4M took 1.21 s, with the same bits.
BLOCK_CELLS = 1_000_000
# Draws per block are a multiple of this, and a short last block is padded with the draws that follow
# (then dropped): OpenBLAS's kernels round a matrix product's last bits differently for a row count that
# is not a multiple of their tile (seen on an AMD EPYC), so without it a draw's bits would depend on the
# block it fell in, and on how many draws were asked for.
BLOCK_ROWS = 8
# Threads over blocks of draws (the machine this was tuned on has 2 cores).
THREADS = 2


@dataclass(frozen=True)
class QuestionMatrix:
    """Per-question sums of the models with a scale, as dense (models x questions) matrices.

    ``count`` (answers per cell) is ``None`` when every model answered every question once, and
    ``correct_count`` (answers with a known correctness) ``None`` when it equals ``count``.
    ``correct`` is ``None`` when the dump has no correctness at all.
    """

    models: np.ndarray  # (M,) model names
    score: np.ndarray  # (M, Q) float64 sum of scores per cell (0 where unanswered)
    count: np.ndarray | None  # (M, Q) float64 answers per cell
    correct: np.ndarray | None  # (M, Q) float64 sum of known correctness per cell
    correct_count: np.ndarray | None  # (M, Q) float64 answers with known correctness per cell
    reference: np.ndarray  # (M,) bool: ranks the questions (below the cut)
    ranked: np.ndarray  # (Q,) bool: some reference model answered it
    tie_rank: np.ndarray  # (Q,) rank of (id, task): ties in difficulty are broken by it
    groups: int


def question_matrix(dump, flops_by_model: np.ndarray, cut: float | None, groups: int, *,
                    memory_budget: float = DEFAULT_MEMORY_BUDGET, seed: int = 0
                    ) -> tuple[QuestionMatrix | None, str | None]:
    """The dump as a :class:`QuestionMatrix` of its models with a scale, and a note (``None`` when all
    questions fit ``memory_budget`` bytes; otherwise it names the seeded subset resampled); or
    ``(None, why)`` when it cannot be resampled (no correctness, too few ranked questions)."""
    from slicesand.ingest.dump import model_question_sums

    flops = np.asarray(flops_by_model, dtype=float)
    keep = np.isfinite(flops)
    if dump.correct is None:
        return None, NO_CORRECTNESS
    dump, note = questions_within_budget(dump, matrix_bytes_per_question(int(keep.sum())), memory_budget,
                                         groups, seed, "resampled")
    if dump is None:
        return None, note
    n_models, n_questions = int(keep.sum()), dump.n_questions
    score, count = model_question_sums(dump, keep)
    if dump.dense:  # already a models x questions matrix: take the rows with a scale
        score = score.astype(np.float64)
        correct = dump.correct.reshape(dump.n_models, n_questions)[keep].astype(np.float64)
    else:
        row = np.full(dump.n_models, -1)
        row[keep] = np.arange(n_models)
        rows = keep[dump.model_code]
        key = row[dump.model_code[rows]] * n_questions + dump.question_code[rows]
        cells = n_models * n_questions
        correct = np.full(cells, np.nan)
        correct[key] = dump.correct[rows]  # one answer per (model, question): the dump rejects repeats
        correct = correct.reshape(n_models, n_questions)
    matrix, why = _matrix(dump.model_names[keep].astype(str), score, count, correct, flops[keep], cut, groups,
                          dump.question_ids, dump.question_tasks)
    return (matrix, note) if matrix is not None else (None, why)


NO_CORRECTNESS = "questions not resampled: the dump has no correctness, so accuracy is not forecast"


def scanned_question_matrix(scanner, model_names: np.ndarray, flops_by_model: np.ndarray, question_ids: np.ndarray,
                            task: str, cut: float | None, groups: int, *,
                            memory_budget: float = DEFAULT_MEMORY_BUDGET, seed: int = 0
                            ) -> tuple[QuestionMatrix | None, str | None]:
    """:func:`question_matrix` for a dump read out of core (:class:`slicesand.slicing.scans.DumpScanner`,
    after its scan of ``task``; ``question_ids`` in tie order): the cells are streamed from DuckDB into
    the matrices, of every question when they fit ``memory_budget``, else of a seeded subset (noted)."""
    flops = np.asarray(flops_by_model, dtype=float)
    keep = np.isfinite(flops)
    if not scanner.has_correct:
        return None, NO_CORRECTNESS
    chosen, note = budget_subset(len(question_ids), matrix_bytes_per_question(int(keep.sum())), memory_budget, groups, seed,
                                 "resampled")
    if chosen is False:
        return None, note
    ids = np.asarray(question_ids, dtype=object)
    ids = ids if chosen is None else ids[chosen]
    names = np.asarray(model_names)[keep].astype(str)
    score, correct = scanner.cells(names, ids, correct=True)
    answered = np.isfinite(score)
    count = None if answered.all() else answered.astype(np.float64)
    score = np.where(answered, score, 0.0) if count is not None else score
    matrix, why = _matrix(names, score, count, correct, flops[keep], cut, groups, ids,
                          np.full(ids.size, task, dtype=object))
    return (matrix, note) if matrix is not None else (None, why)


def _matrix(models: np.ndarray, score: np.ndarray, count: np.ndarray | None, correct: np.ndarray,
            flops: np.ndarray, cut: float | None, groups: int, question_ids: np.ndarray,
            question_tasks: np.ndarray) -> tuple[QuestionMatrix | None, str | None]:
    """The :class:`QuestionMatrix` of these cells (``correct`` NaN where unknown), its rows by model name
    and its columns in tie order (id, then task, as text): the draws do not depend on the dump's row
    order or on the path that read it."""
    by_name = np.argsort(models.astype(str), kind="stable")
    order = np.lexsort((question_tasks.astype(str), question_ids.astype(str)))
    if not np.array_equal(order, np.arange(order.size)) or not np.array_equal(by_name, np.arange(by_name.size)):
        cells = np.ix_(by_name, order)
        score, correct, count = score[cells], correct[cells], None if count is None else count[cells]
        models, flops = models[by_name], flops[by_name]
    if count is not None and (count == 1).all():  # every cell answered once: as a dense dump
        count = None
    known = np.isfinite(correct)
    correct_count = None
    if not known.all():  # some answers without correctness: count only the known ones
        correct_count = known.astype(np.float64) if count is None else known * (count > 0) * 1.0
    correct = np.where(known, correct, 0.0)
    reference = (flops < cut) if cut is not None else np.ones(models.size, dtype=bool)
    answered = np.ones(score.shape, dtype=bool) if count is None else count > 0
    ranked = answered[reference].any(axis=0)
    if ranked.sum() < groups:
        return None, f"questions not resampled: fewer ranked questions ({int(ranked.sum())}) than groups"
    return QuestionMatrix(models, score, count, correct, correct_count, reference, ranked,
                          np.arange(order.size), groups), None


class BudgetNote(str):
    """A note of :func:`budget_subset`: text wherever a note goes (facts, JSON), and known for what it is,
    so the run also warns with it (:func:`budget_warning`)."""


def budget_warning(note: str | None):
    """The ``questions-subset`` warning of a note :func:`budget_subset` wrote; ``None`` for any other note.

    >>> budget_warning(budget_subset(5, 100, 350, 2, 0, "resampled")[1]).code, budget_warning("other")
    ('questions-subset', None)
    """
    from slicesand.diagnostics import diagnostic

    return diagnostic("questions-subset", str(note)) if isinstance(note, BudgetNote) else None


def matrix_bytes_per_question(n_models: int) -> int:
    """What one question of the bootstrap's :class:`QuestionMatrix` may take, in bytes: float64 scores,
    correctness and answer counts of ``n_models`` models, and the draws' transposed copies. One count
    for both engines (a dense dump in memory needs less), so a memory budget keeps the same seeded
    subset of questions in memory and out of core, and the two give the same intervals.

    >>> matrix_bytes_per_question(16)
    1024
    """
    return n_models * 8 * 4 * 2


def budget_subset(n_questions: int, bytes_per_question: float, memory_budget: float, groups: int, seed: int,
                  what: str) -> tuple[np.ndarray | None | bool, str | None]:
    """``(None, None)`` when all ``n_questions`` fit the budget; else ``(positions, note)``: the sorted
    positions of a seeded subset that fits (positions in tie order, so both paths pick the same
    questions) and a note naming it; ``(False, why)`` when not even ``groups`` questions fit.

    >>> budget_subset(5, 100, 350, 2, 0, "resampled")[0].tolist()
    [0, 1, 2]
    """
    if n_questions * bytes_per_question <= memory_budget:
        return None, None
    fits = int(memory_budget // max(bytes_per_question, 1))
    if fits < groups:
        return False, BudgetNote(f"questions not {what}: not even {groups} questions fit the memory budget "
                                 f"({_size(memory_budget)})")
    positions = np.sort(np.random.default_rng((seed, 2)).choice(n_questions, fits, replace=False))
    return positions, BudgetNote(
        f"questions {what} on a seeded subset of {fits:,} of the {n_questions:,} questions: all of them would "
        f"need {_size(n_questions * bytes_per_question)} (more than the memory budget, {_size(memory_budget)})")


def questions_within_budget(dump, bytes_per_question: float, memory_budget: float, groups: int, seed: int,
                            what: str):
    """``(dump, None)`` when every question fits the budget; else a seeded subset of the questions that
    fits (:func:`budget_subset`) and a note naming it; ``(None, why)`` when not even ``groups`` questions fit.

    >>> import numpy as np
    >>> from slicesand.io.tables import Source
    >>> from slicesand.ingest.dump import Dump
    >>> dump = Dump(Source("toy", ""), np.array(["a"], dtype=object), np.array(list("pqrst"), dtype=object),
    ...             np.full(5, "", dtype=object), np.zeros(5, int), np.arange(5), -np.ones(5), np.ones(5), None, True)
    >>> small, note = questions_within_budget(dump, 100, 350, 2, 0, "resampled")
    >>> small.n_questions, note
    (3, 'questions resampled on a seeded subset of 3 of the 5 questions: all of them would need 500 B (more than the memory budget, 350 B)')
    """
    positions, note = budget_subset(dump.n_questions, bytes_per_question, memory_budget, groups, seed, what)
    if positions is None:
        return dump, None
    if positions is False:
        return None, note
    from slicesand.ingest.dump import select_questions

    chosen = np.zeros(dump.n_questions, dtype=bool)
    chosen[np.argsort(tie_rank(dump.question_ids, dump.question_tasks))[positions]] = True
    return select_questions(dump, chosen, dense=True), note


def _size(n_bytes: float) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n_bytes >= scale:
            return f"{n_bytes / scale:.3g} {unit}"
    return f"{n_bytes:.0f} B"


def question_multiplicities(ranked: np.ndarray, draws: int, seed: int, first: int = 0) -> np.ndarray:
    """(draws, Q) multiplicities of draws ``first`` .. ``first + draws - 1``: ranked questions drawn among themselves, unranked ones among themselves.

    Draw ``d`` has its own stream (``default_rng((seed, 1, d))``): uniform picks with replacement,
    counted with ``bincount`` (the multinomial with equal shares, far cheaper than ``multinomial``).
    So a draw does not depend on how draws are split into blocks or threads, adding questions leaves
    the model draws unchanged, and more draws leave the first ones as they were.

    >>> question_multiplicities(np.array([True, True, True, False]), 2, 0).sum(axis=1).tolist()
    [4, 4]
    >>> bool(np.array_equal(question_multiplicities(np.ones(5, bool), 2, 0, first=1),
    ...                     question_multiplicities(np.ones(5, bool), 3, 0)[1:]))
    True
    """
    return question_picks(ranked, draws, seed, first)[0]


def question_picks(ranked: np.ndarray, draws: int, seed: int, first: int = 0,
                   out: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """:func:`question_multiplicities`, and the picks they count among the ranked questions: a (draws,
    ranked questions) array of positions among the ranked columns, one per question drawn. The
    difficulties at those positions are the drawn questions with their repeats, which
    :func:`edge_groups` ranks (a gather, where repeating each difficulty by its count was twice as slow).
    ``out``: int64 arrays of those two shapes to fill (every cell is written) and return.

    >>> counts, picks = question_picks(np.array([True, True, True, False]), 2, 0)
    >>> bool(np.array_equal(counts[:, :3], [np.bincount(row, minlength=3) for row in picks]))
    True
    """
    ranked_part = np.flatnonzero(ranked)
    parts = [part for part in (ranked_part, np.flatnonzero(~ranked)) if part.size]
    if out is None:
        out = (np.empty((draws, ranked.size), dtype=np.int64), np.empty((draws, ranked_part.size), dtype=np.int64))
    counts, picks = out  # the strata cover every column, so every cell of a row is written
    whole = len(parts) == 1  # one stratum (every question ranked, the usual case): whole rows, no scatter
    for row, draw in enumerate(range(first, first + draws)):  # one short loop over draws; each row is vectorised
        rng = np.random.default_rng((seed, 1, draw))
        for part in parts:  # two strata, the ranked one first
            picked = rng.integers(0, part.size, part.size)
            if part is ranked_part:
                picks[row] = picked
            drawn = np.bincount(picked, minlength=part.size)
            if whole:
                counts[row] = drawn
            else:
                counts[row, part] = drawn
    return counts, picks


def question_draws(matrix: QuestionMatrix, models: np.ndarray, model_weights: np.ndarray, *, seed: int,
                   threads: int | None = None) -> np.ndarray:
    """Per-draw (easy, hard, tc_brier, accuracy) of ``models`` (names, in the order of the bootstrap's
    training rows) as a (4, draws, n) array; ``model_weights`` (draws, n) are the draws' model
    multiplicities. NaN where a draw leaves a model no answer to average. ``threads`` (default
    :data:`THREADS`) share the blocks of draws: one when another process has the other core (``run``'s
    figures), as the draws do not depend on it."""
    index = {name: i for i, name in enumerate(matrix.models)}
    rows = np.array([index[str(m)] for m in models], dtype=np.int64)
    draws = model_weights.shape[0]
    padded = -(-draws // BLOCK_ROWS) * BLOCK_ROWS  # whole blocks of BLOCK_ROWS; the padding rows are dropped

    # Reference weights per draw: drawn training models count as often as drawn; reference models that
    # are not training rows of the fit (e.g. incomplete ones) rank the questions with weight 1, as in slicing.
    reference = np.flatnonzero(matrix.reference)
    ref_weights = np.broadcast_to(matrix.reference[reference].astype(np.float64), (padded, reference.size)).copy()
    in_reference = np.full(matrix.models.size, -1)
    in_reference[reference] = np.arange(reference.size)
    training_reference = in_reference[rows] >= 0
    ref_weights[:draws, in_reference[rows[training_reference]]] = model_weights[:, training_reference]

    ranked = np.flatnonzero(matrix.ranked)
    ref_score = matrix.score[np.ix_(reference, ranked)]
    ref_count = None if matrix.count is None else matrix.count[np.ix_(reference, ranked)]
    with np.errstate(invalid="ignore", divide="ignore"):
        full = ref_score.sum(axis=0) / (reference.size if ref_count is None else ref_count.sum(axis=0))
    # Transposed (questions x models) blocks of the training rows, so each mean is one matrix product.
    score_t = matrix.score[rows].T
    count_t = None if matrix.count is None else matrix.count[rows].T
    correct_t = matrix.correct[rows].T
    known_t = count_t if matrix.correct_count is None else matrix.correct_count[rows].T

    block = block_rows(matrix.score.shape[1])
    out = np.empty((4, padded, rows.size))
    per_thread = threading.local()

    def one_block(start: int) -> None:  # blocks of draws bound memory; each block is vectorised
        if not hasattr(per_thread, "buffers"):
            per_thread.buffers = Buffers()
        buffers = per_thread.buffers
        part = slice(start, min(start + block, padded))
        n_rows, n_questions = part.stop - part.start, matrix.ranked.size
        counts, picks = question_picks(matrix.ranked, n_rows, seed, first=start,
                                       out=(buffers.get("counts", (n_rows, n_questions), np.int64),
                                            buffers.get("picks", (n_rows, ranked.size), np.int64)))
        k = buffers.get("k", counts.shape, np.float64)
        np.copyto(k, counts)
        weights = ref_weights[part]
        with np.errstate(invalid="ignore", divide="ignore"):
            denominator = (weights.sum(axis=1, keepdims=True) if ref_count is None else
                           np.matmul(weights, ref_count, out=buffers.get("denominator", (n_rows, ranked.size))))
            difficulty = np.matmul(weights, ref_score, out=buffers.get("difficulty", (n_rows, ranked.size)))
            np.divide(difficulty, denominator, out=difficulty)
        # A question no drawn reference model answered keeps its full-data difficulty.
        defined = np.isfinite(difficulty, out=buffers.get("defined", difficulty.shape, bool))
        if not defined.all():
            difficulty = np.where(defined, difficulty, full)
        every = ranked.size == k.shape[1]  # every question ranked (the usual case): whole rows, no gathers
        # The columns are in tie order (QuestionMatrix.tie_rank is their position), and only the easy and
        # hard groups enter the fits.
        easy, hard = edge_groups(difficulty, counts if every else counts[:, ranked], matrix.groups, picks=picks,
                                 buffers=buffers)
        if every:
            easy_w = np.multiply(k, easy, out=buffers.get("easy_w", k.shape))
            hard_w = np.multiply(k, hard, out=buffers.get("hard_w", k.shape))
        else:
            easy_w, hard_w = np.zeros_like(k), np.zeros_like(k)
            easy_w[:, ranked] = k[:, ranked] * easy
            hard_w[:, ranked] = k[:, ranked] * hard
        out[0, part] = _weighted_means(easy_w, score_t, count_t)
        out[1, part] = _weighted_means(hard_w, score_t, count_t)
        out[2, part] = _weighted_means(k, score_t, count_t)
        out[3, part] = _weighted_means(k, correct_t, known_t)

    # Both cores: numpy releases the GIL in its sorts and matrix products, and every block writes its
    # own rows of ``out`` from its own seeded streams, so the result does not depend on the threads.
    with one_blas_thread(), ThreadPoolExecutor(max_workers=threads or THREADS) as pool:
        list(pool.map(one_block, range(0, padded, block)))
    return out[:, :draws]


def block_rows(n_questions: int) -> int:
    """Draws per block of :func:`question_draws`: at most :data:`BLOCK_CELLS` cells of (draws x questions),
    a multiple of :data:`BLOCK_ROWS`, and at least one multiple.

    >>> block_rows(14_042), block_rows(10), block_rows(10_000_000)
    (64, 100000, 8)
    """
    return max(BLOCK_ROWS, BLOCK_CELLS // max(1, n_questions) // BLOCK_ROWS * BLOCK_ROWS)


def edge_groups(difficulty: np.ndarray, counts: np.ndarray, groups: int, *,
                picks: np.ndarray | None = None, buffers: Buffers | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per draw (rows), which questions (columns, in tie order) fall in the easiest and in the hardest
    group: the first and last groups of :func:`slicesand.slicing.difficulty.groups_by_position`, without
    sorting the rows.

    A question's position is the number of drawn questions ranked before it, and the easiest group ends
    at the first group boundary ``b``: it holds the questions ranked no later than the one at position
    ``b - 1`` of the row with every question repeated as often as it was drawn. That one question is
    found by ``numpy.partition`` (linear time, where a sort is n log n); a row holding other questions
    of exactly its difficulty places them by their cumulated counts, as the tie order says. A question
    drawn zero times is placed by the same rule. ``picks`` (:func:`question_picks`), when given, are the
    columns drawn in each row, which ``counts`` counts: the repeated row is then gathered from them. Rows whose counts do not add up to the number of
    columns, or that hold NaN, are ranked by ``groups_by_position``
    (``tests/uncertainty/test_resampling.py`` pins the two together). ``buffers`` (:class:`Buffers`) hold
    the temporaries and the two masks returned, which the next call with them overwrites.

    >>> easy, hard = edge_groups(np.array([[-0.5, -0.1, -0.7, -0.9]]), np.array([[1, 1, 2, 0]]), 2)
    >>> easy.astype(int).tolist(), hard.astype(int).tolist()
    ([[1, 1, 0, 0]], [[0, 0, 1, 1]])
    """
    n_draws, n = difficulty.shape
    inner = group_boundaries(n, groups)[1:-1]
    if not inner.size:  # one group: it is both the easiest and the hardest
        everything = np.ones(difficulty.shape, dtype=bool)
        return everything, everything
    buffers = Buffers() if buffers is None else buffers
    if not (counts.sum(axis=1) == n).all() or np.isnan(difficulty, out=buffers.get("nan", difficulty.shape, bool)).any():
        group = groups_by_position(difficulty, counts, np.arange(n), groups)
        return group == 0, group == groups - 1
    if picks is not None:  # the same values as the repeat below (a row's order does not matter to partition)
        # take_along_axis, into a reused array: each row's picks offset to that row of the flat difficulties
        flat = np.add(picks, (np.arange(n_draws) * n)[:, None], out=buffers.get("flat", picks.shape, np.int64))
        repeated = np.take(np.ascontiguousarray(difficulty).ravel(), flat, mode="clip",
                           out=buffers.get("repeated", picks.shape))
    else:
        repeated = np.repeat(difficulty.ravel(), counts.ravel()).reshape(n_draws, n)
    # The question at position b - 1 (easiest first) is the b-th largest of the repeated row: at
    # ascending index n - b. One partition places both boundaries' pivots (in place: ``repeated`` is this
    # function's own copy); with numpy 2 that is 0.7x the time of partitioning for the first and then
    # the smaller values for the last (numpy 1's several-kth partition was the slower one; the pivots
    # are the same either way).
    boundaries = sorted({b for b in (int(inner[0]), int(inner[-1])) if 0 < b < n})
    if boundaries:
        repeated.partition([n - b for b in reversed(boundaries)], axis=1)
    pivots = {b: repeated[:, n - b, None] for b in boundaries}

    def ranked_before(boundary: int, name: str) -> np.ndarray:  # drawn questions whose position is below ``boundary``
        if boundary <= 0 or boundary >= n:
            return np.full(difficulty.shape, boundary >= n)
        pivot = pivots[boundary]
        within = np.greater_equal(difficulty, pivot, out=buffers.get(name, difficulty.shape, bool))
        tied = np.equal(difficulty, pivot, out=buffers.get("tied", difficulty.shape, bool))
        rows = np.flatnonzero(tied.sum(axis=1) > 1)  # other questions as difficult as the pivot: rare
        if rows.size:
            easier, tied, row_counts = difficulty[rows] > pivot[rows], tied[rows], counts[rows]
            tied_counts = np.where(tied, row_counts, 0)
            before = (np.where(easier, row_counts, 0).sum(axis=1, keepdims=True)
                      + np.cumsum(tied_counts, axis=1) - tied_counts)
            within[rows] = easier | (tied & (before < boundary))
        return within

    hard = ranked_before(int(inner[-1]), "hard")
    return ranked_before(int(inner[0]), "easy"), np.logical_not(hard, out=hard)


class Buffers:
    """Arrays reused from one block of draws to the next (one set per thread of :func:`question_draws`):
    a block's temporaries are as large as the block (8 MB each on 60 x 14k), and the allocator returns
    freed ones of that size to the system, so each fresh one was paid again in page faults (a third of
    the draws' time went to the kernel). :meth:`get` returns the first rows of the array kept under a
    name, made anew only when it is too small.

    >>> buffers = Buffers()
    >>> a = buffers.get("k", (4, 3)); b = buffers.get("k", (2, 3))
    >>> b.shape, bool(np.shares_memory(a, b))
    ((2, 3), True)
    """

    def __init__(self) -> None:
        self._arrays: dict[str, np.ndarray] = {}

    def get(self, name: str, shape: tuple[int, ...], dtype=np.float64) -> np.ndarray:
        kept = self._arrays.get(name)
        if kept is None or kept.shape[0] < shape[0] or kept.shape[1:] != shape[1:] or kept.dtype != dtype:
            kept = self._arrays[name] = np.empty(shape, dtype)
        return kept[:shape[0]]


def _weighted_means(weights: np.ndarray, sums_t: np.ndarray, counts_t: np.ndarray | None) -> np.ndarray:
    """(draws, models) means: question weights (draws, Q) times per-cell sums over per-cell answers."""
    with np.errstate(invalid="ignore", divide="ignore"):
        if counts_t is None:  # every cell holds one answer: divide by the total weight
            return (weights @ sums_t) / weights.sum(axis=1, keepdims=True)
        return (weights @ sums_t) / (weights @ counts_t)
