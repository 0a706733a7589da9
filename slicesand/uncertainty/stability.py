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


def group_instability(scores: np.ndarray, groups: int, *, draws: int = DRAWS, seed: int = 0,
                      tie_rank: np.ndarray | None = None) -> Instability:
    """Instability of ``groups`` difficulty groups from ``scores`` (reference models x questions; NaN
    where a model did not answer)."""
    scores = np.asarray(scores, dtype=float)
    n_models, n_questions = scores.shape
    tie_rank = np.arange(n_questions) if tie_rank is None else np.asarray(tie_rank)
    rng = np.random.default_rng(seed)
    model_weights = rng.multinomial(n_models, np.full(n_models, 1.0 / n_models), size=draws).astype(float)
    question_counts = rng.multinomial(n_questions, np.full(n_questions, 1.0 / n_questions), size=draws)
    complete = bool(np.isfinite(scores).all())
    with np.errstate(invalid="ignore", divide="ignore"):
        if complete:  # every model answered every question: plain weighted means, no masks
            base_difficulty = scores.mean(axis=0)
            drawn = (model_weights @ scores) / model_weights.sum(axis=1, keepdims=True)
        else:
            answered = np.isfinite(scores)
            total, count = np.where(answered, scores, 0.0), answered.astype(float)
            base_difficulty = total.sum(axis=0) / count.sum(axis=0)
            # A question no drawn model answered keeps its full-data difficulty (no information to move it).
            drawn = (model_weights @ total) / (model_weights @ count)
    drawn = np.where(np.isfinite(drawn), drawn, base_difficulty)
    base = groups_by_position(base_difficulty[None, :], np.ones((1, n_questions), dtype=np.int64), tie_rank, groups)[0]
    changed = groups_by_position(drawn, question_counts, tie_rank, groups) != base[None, :]
    per_group = [float(changed[:, base == g].mean()) if (base == g).any() else 0.0 for g in range(groups)]
    return Instability(float(changed.mean()), per_group, draws, seed)


def dump_instability(dump, flops_by_model: np.ndarray, cut: float | None, groups: int, *, draws: int = DRAWS,
                     seed: int = 0, memory_budget: float = 2e9) -> Instability | None:
    """:func:`group_instability` for a :class:`slicesand.ingest.dump.Dump`, on the reference models of ``cut``
    (those with a scale below it; every model with a scale when ``cut`` is None). ``None`` when fewer than
    two reference models or fewer questions than groups. Over ``memory_budget`` bytes, a seeded subset
    of the questions is measured, and the facts' note says so."""
    from slicesand.ingest.dump import model_question_sums
    from slicesand.fitting.model import training_mask
    from slicesand.slicing.difficulty import tie_rank
    from slicesand.uncertainty.resampling import questions_within_budget

    flops = np.asarray(flops_by_model, dtype=float)
    reference = np.isfinite(flops) & training_mask(flops, cut)
    if reference.sum() < 2 or dump.n_questions < groups:
        return None
    # float64 sums, counts and means per cell, and the draws' (draws x questions) ranks.
    dump, note = questions_within_budget(dump, int(reference.sum()) * 8 * 3 + DRAWS * 8 * 4, memory_budget, groups,
                                         seed, "checked for stability")
    if dump is None:
        return None
    scores, count = model_question_sums(dump, reference)
    if count is not None:  # mean per cell, NaN where the model did not answer
        with np.errstate(invalid="ignore", divide="ignore"):
            scores = np.where(count > 0, scores / np.maximum(count, 1), np.nan)
    answered_by_someone = np.isfinite(scores).any(axis=0)  # questions slicing ranks; the rest are left out
    result = group_instability(scores[:, answered_by_someone], groups, draws=draws, seed=seed,
                               tie_rank=tie_rank(dump.question_ids, dump.question_tasks)[answered_by_someone])
    return replace(result, note=note) if note else result
