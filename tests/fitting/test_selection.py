"""Automatic settings: the rule on synthetic data, --paper unchanged, and the measured paper table."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from slicesand.artifacts.documents import fit_document, fit_from_document
from slicesand.fitting.selection import fit as fit_with_rule, fit_default
from slicesand.fitting.model import PAPER_OPTIONS, FitOptions, fit_slices
from slicesand.forecast.predict import predict
from slicesand.fitting.selection import candidates, select_options

DATA = Path(__file__).resolve().parents[1] / "data" / "paper"
TASKS = {"mmlu": (1.5, 0.25), "parsinlu_qa_mc": (2.3, 0.25), "arithmetic": (1.8, 0.145),
         "hindu_knowledge": (1.0, 0.25), "analogical_similarity": (2.0, 0.145),
         "conceptual_combinations": (1.5, 0.25)}
EXTRA = [("mmlu", 1.3, 0.25), ("mmlu", 1.1, 0.25), ("parsinlu_qa_mc", 2.1, 0.25),
         ("parsinlu_qa_mc", 1.9, 0.25), ("arithmetic", 1.6, 0.145), ("arithmetic", 1.4, 0.145)]


def _table(task, t):
    return pd.read_csv(DATA / f"{task}_g3_t{t:g}.csv")


def _mse(task, t, chance, **options):
    frame = _table(task, t)
    return predict(fit_with_rule(frame, FitOptions(cut=10 ** t * 1e21, chance=chance, **options)), frame).mse


def _synthetic(hard_curvature):
    rng = np.random.default_rng(1)
    x = np.linspace(20, 23, 40)
    hard = -0.9 + 0.1 * (x - 20) + hard_curvature * (x - 21.5) ** 2 + rng.normal(0, 0.003, x.size)
    acc = hard + 1.2 + rng.normal(0, 0.003, x.size)  # TC Brier tracks accuracy linearly, as assumed
    return pd.DataFrame({"model": [f"m{i}" for i in range(x.size)], "flops": 10 ** x, "accuracy": acc,
                         "tc_brier": hard + 0.2, "group_1": hard + 0.4, "group_2": hard})


def test_rule_is_fixed_and_its_evidence_never_looks_past_the_cut():
    options, evidence = select_options(_synthetic(0.0), FitOptions(cut=10 ** 22.5))
    assert (options.variant, options.hard_degree, options.hard_average, options.baseline_floor,
            options.clip, options.extrapolation) == ("hard-lift", 2, True, True, True, "linear")
    assert [row["candidate"] for row in evidence["candidates"]] == list(candidates(FitOptions()))
    assert all(row["validation_mse"] is not None and row["folds"] == 3 for row in evidence["candidates"])
    assert max(evidence["validation_cuts_flops"]) < 10 ** 22.5  # validation never looks above the real cut


def test_forecast_is_never_below_the_sigmoid_and_averages_the_hard_degrees():
    frame = _synthetic(0.05)
    cut = 10 ** 22.5
    auto = fit_default(frame, FitOptions(cut=cut))
    table = predict(auto, frame, at=[1e23, 1e24]).table
    assert (table["pred_accuracy"] >= table["baseline_accuracy"] - 1e-12).all()
    plain = dict(variant="hard-lift", easy_degree=2, clip=True, extrapolation="linear")
    one, two = (fit_slices(frame, FitOptions(cut=cut, hard_degree=d, **plain)) for d in (1, 2))
    x = np.linspace(20, 24, 7)
    assert np.allclose(auto.hard(x), (one.hard(x) + two.hard(x)) / 2)


def test_auto_records_its_evidence_in_fit_json():
    frame = _synthetic(0.0)
    fit = fit_default(frame, FitOptions(cut=10 ** 22.5))
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
    """The issue's target, as measured with the fixed automatic rule (slicesand.fitting.selection): geometric mean
    of default/sigmoid test MSE <= 0.5 (measured 0.444), no task worse than 1.5x (worst 1.00), every task
    better than --paper, the extra thresholds better than the baseline on average (measured 0.68)."""
    ratios, beats_paper = {}, {}
    for task, (t, chance) in TASKS.items():
        auto = _mse(task, t, chance, auto=True)
        paper = _mse(task, t, chance, **PAPER_OPTIONS)
        ratios[task] = auto["forecast"] / auto["baseline"]
        beats_paper[task] = auto["forecast"] < paper["forecast"]
    geometric_mean = float(np.exp(np.mean(np.log(list(ratios.values())))))
    assert geometric_mean <= 0.45
    assert max(ratios.values()) <= 1.0 + 1e-9
    assert all(beats_paper.values()), beats_paper
    extra = [(lambda m: m["forecast"] / m["baseline"])(_mse(task, t, chance, auto=True)) for task, t, chance in EXTRA]
    assert np.mean(extra) < 0.7


def test_default_locates_a_threshold_before_the_observed_rise_on_every_paper_task():
    from slicesand.evaluation.backtest import backtest

    errors = []
    for task, (t, chance) in TASKS.items():
        row = backtest(_table(task, t), [10 ** t * 1e21], chance=chance, draws=0).table.iloc[0]
        errors.append(row["threshold_error_decades"])
    assert np.isfinite(errors).all()  # measured -0.86 -0.19 -0.29 -1.27 -1.18 -1.45
    assert all(-1.6 < e < 0 for e in errors)
