"""Automatic settings: the rule on synthetic data, --paper unchanged, and the measured paper table."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from slicesand.artifacts import fit_document, fit_from_document
from slicesand.fitting import PAPER_OPTIONS, FitOptions, fit_slices
from slicesand.forecast import predict
from slicesand.selection import candidates, select_options

DATA = Path(__file__).parent / "data" / "paper"
TASKS = {"mmlu": (1.5, 0.25), "parsinlu_qa_mc": (2.3, 0.25), "arithmetic": (1.8, 0.145),
         "hindu_knowledge": (1.0, 0.25), "analogical_similarity": (2.0, 0.145),
         "conceptual_combinations": (1.5, 0.25)}
EXTRA = [("mmlu", 1.3, 0.25), ("mmlu", 1.1, 0.25), ("parsinlu_qa_mc", 2.1, 0.25),
         ("parsinlu_qa_mc", 1.9, 0.25), ("arithmetic", 1.6, 0.145), ("arithmetic", 1.4, 0.145)]


def _table(task, t):
    return pd.read_csv(DATA / f"{task}_g3_t{t:g}.csv")


def _mse(task, t, chance, **options):
    frame = _table(task, t)
    return predict(fit_slices(frame, FitOptions(cut=10 ** t * 1e21, chance=chance, **options)), frame).mse


def _synthetic(hard_curvature):
    rng = np.random.default_rng(1)
    x = np.linspace(20, 23, 40)
    hard = -0.9 + 0.1 * (x - 20) + hard_curvature * (x - 21.5) ** 2 + rng.normal(0, 0.003, x.size)
    acc = hard + 1.2 + rng.normal(0, 0.003, x.size)  # TC Brier tracks accuracy linearly, as assumed
    return pd.DataFrame({"model": [f"m{i}" for i in range(x.size)], "flops": 10 ** x, "accuracy": acc,
                         "tc_brier": hard + 0.2, "group_1": hard + 0.4, "group_2": hard})


def test_rule_picks_the_true_degree_on_synthetic_data():
    # A straight hard curve: the one-standard-error rule must not pay for a quadratic.
    options, evidence = select_options(_synthetic(0.0), FitOptions(cut=10 ** 22.5))
    assert (options.hard_degree, options.variant, options.clip, options.extrapolation) == (1, "hard-lift", True, "linear")
    # A strongly curved one: the quadratic wins by far more than its standard error.
    options, _ = select_options(_synthetic(0.05), FitOptions(cut=10 ** 22.5))
    assert options.hard_degree == 2
    assert len(evidence["candidates"]) == len(candidates(FitOptions()))
    assert all(row["validation_mse"] is not None for row in evidence["candidates"])
    assert evidence["validation_cut_flops"] < 10 ** 22.5  # validation never looks above the real cut


def test_auto_records_its_evidence_in_fit_json():
    frame = _synthetic(0.0)
    fit = fit_slices(frame, FitOptions(cut=10 ** 22.5, auto=True))
    document = json.loads(json.dumps(fit_document(fit, None)))
    assert document["selection"]["chosen"]["hard_degree"] == fit.options.hard_degree
    again = fit_from_document(document, "fit.json")
    assert again.options == fit.options and again.selection == fit.selection


@pytest.mark.parametrize("task", TASKS)
def test_paper_mode_still_reproduces_the_reference(task):
    reference = json.loads((DATA / "reference_results.json").read_text())[task]
    t, chance = TASKS[task]
    mse = _mse(task, t, chance, **PAPER_OPTIONS)
    assert mse["forecast"] == pytest.approx(reference["mse_ours"], abs=1e-6)
    assert mse["baseline"] == pytest.approx(reference["mse_baseline"], abs=1e-6)


def test_measured_paper_table():
    """What the automatic default measured on the paper's tables (the issue's target is stricter: see
    the report). Asserts the measured facts, so a regression shows up."""
    ratios, beats_paper = {}, {}
    for task, (t, chance) in TASKS.items():
        auto = _mse(task, t, chance, auto=True)
        paper = _mse(task, t, chance, **PAPER_OPTIONS)
        ratios[task] = auto["forecast"] / auto["baseline"]
        beats_paper[task] = auto["forecast"] < paper["forecast"]
    geometric_mean = float(np.exp(np.mean(np.log(list(ratios.values())))))
    assert geometric_mean < 0.9  # measured 0.887 (target 0.5: missed)
    assert ratios["mmlu"] < 0.35 and ratios["hindu_knowledge"] < 0.6
    assert ratios["arithmetic"] > 1.5  # measured 3.23: the known miss
    assert all(beats_paper[t] for t in TASKS if t != "parsinlu_qa_mc")  # parsinlu: paper 0.0047 vs 0.0101
    extra = [(lambda m: m["forecast"] / m["baseline"])(_mse(task, t, chance, auto=True)) for task, t, chance in EXTRA]
    assert np.mean(extra) < 1.0  # measured 0.69: better than the baseline on average
