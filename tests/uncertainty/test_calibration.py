"""Prediction intervals: suite-calibrated offsets by horizon band against hand computation, and question
resampling in the bootstrap."""

import time
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

import slicesand.uncertainty.resampling as qr
from slicesand.uncertainty.bootstrap import bootstrap
from slicesand.forecast.predict import predict
from slicesand.uncertainty.calibration import SUITE_COVERAGE, SUITE_OFFSETS, prediction_interval
from slicesand.ingest.dump import Dump
from slicesand.fitting.selection import fit_default
from slicesand.fitting.model import FitOptions, fit_slices
from slicesand.io.tables import Source
from slicesand.slicing.difficulty import SliceOptions, slice_dump


def _linear_world(seed, noise=0.02, n=40):
    """Accuracy exactly linear in log10 FLOPs plus Gaussian noise: the truth is known, nothing emerges."""
    rng = np.random.default_rng(seed)
    x = np.linspace(20, 24, n)
    acc = 0.3 + 0.05 * (x - 20) + rng.normal(0, noise, n)
    return pd.DataFrame({"model": [f"m{i}" for i in range(n)], "flops": 10 ** x, "accuracy": acc,
                         "tc_brier": acc - 1, "group_1": acc - 0.8 + rng.normal(0, noise, n),
                         "group_2": acc - 1.1 + rng.normal(0, noise, n)})


def test_offsets_by_horizon_band_against_hand_computation():
    frame = _linear_world(0)
    fit = fit_default(frame, FitOptions(cut=10 ** 23.0))
    top = fit.training_x_range[1]
    x = np.array([top - 1.0, top + 0.3, top + 0.7, top + 1.5])
    band = prediction_interval(fit, frame, x, draws=0)
    point = predict(fit, at=10 ** x).table["pred_accuracy"].to_numpy()
    low = np.array([SUITE_OFFSETS["<= 0.5"][0], SUITE_OFFSETS["<= 0.5"][0], SUITE_OFFSETS["0.5-1"][0],
                    SUITE_OFFSETS["> 1"][0]])
    high = np.array([SUITE_OFFSETS["<= 0.5"][1], SUITE_OFFSETS["<= 0.5"][1], SUITE_OFFSETS["0.5-1"][1],
                     SUITE_OFFSETS["> 1"][1]])
    assert np.allclose(band.lo, np.clip(point + low, fit.accuracy_floor, 1))
    assert np.allclose(band.hi, np.clip(point + high, fit.accuracy_floor, 1))
    assert band.bootstrap is None and band.summary()["draws"] == 0


def test_interval_holds_the_point_lies_in_range_and_joins_the_bootstrap():
    frame = _linear_world(1, noise=0.05)
    fit = fit_default(frame, FitOptions(cut=10 ** 23.0))
    fit = replace(fit, options=replace(fit.options, blend="envelope"))
    x = np.linspace(20, 26, 13)
    band = prediction_interval(fit, frame, x, draws=200, seed=0)
    point = predict(fit, at=10 ** x).table["pred_accuracy"].to_numpy()
    assert ((band.lo <= point) & (point <= band.hi)).all()
    assert ((band.lo >= fit.accuracy_floor) & (band.hi <= 1.0)).all()
    assert (band.lo <= band.bootstrap.accuracy_lo + 1e-12).all() and (band.hi >= band.bootstrap.accuracy_hi - 1e-12).all()
    assert band.summary()["calibration"]["measured"]["coverage"] == SUITE_COVERAGE["coverage"]


def test_interval_without_the_slices_table_and_without_accuracy():
    from slicesand.uncertainty.intervals import add_intervals

    frame = _linear_world(2)
    fit = fit_default(frame, FitOptions(cut=10 ** 23.0))
    forecast = add_intervals(predict(fit, at=[1e24, 1e25]), fit, None, draws=1000)
    assert {"pred_accuracy_lo", "pred_accuracy_hi"} <= set(forecast.table.columns)
    assert any(w.code == "beyond-training-range" for w in forecast.warnings)
    tc_only = fit_default(frame.drop(columns="accuracy"), FitOptions(cut=10 ** 23.0))
    forecast = add_intervals(predict(tc_only, at=[1e25]), tc_only, frame.drop(columns="accuracy"), draws=100)
    assert forecast.table[["pred_accuracy_lo", "pred_accuracy_hi"]].isna().all().all()  # no accuracy: empty
    assert any(w.code == "beyond-training-range" for w in forecast.warnings)


# ---- question resampling ------------------------------------------------------------------------------

def _noisy_dump(n_models=24, n_questions=120, seed=0, dense=True):
    """A dump with few, noisy questions: the question sample matters."""
    rng = np.random.default_rng(seed)
    x = np.linspace(20, 23, n_models)
    hardness = rng.random(n_questions)
    logit = 2.0 * (x[:, None] - 21.5) * 0.5 - 3.0 * (hardness[None, :] - 0.5) + rng.normal(0, 1.0, (n_models, n_questions))
    p = 0.25 + 0.75 / (1 + np.exp(-logit))
    correct = (rng.random(p.shape) < p).astype(float)
    score = -np.square(1 - p)
    models = np.array([f"m{i:02d}" for i in range(n_models)], dtype=object)
    questions = np.array([f"q{j:03d}" for j in range(n_questions)], dtype=object)
    model_code, question_code = np.repeat(np.arange(n_models), n_questions), np.tile(np.arange(n_questions), n_models)
    order = np.arange(model_code.size) if dense else rng.permutation(model_code.size)
    dump = Dump(Source("noisy", ""), models, questions, np.full(n_questions, "", dtype=object), model_code[order],
                question_code[order], score.ravel()[order], correct.ravel()[order], None, True, dense=dense)
    return dump, 10 ** x


@pytest.mark.parametrize("dense", [True, False])
def test_unit_question_weights_reproduce_the_slices(dense, monkeypatch):
    dump, flops = _noisy_dump(dense=dense)
    frame = slice_dump(dump, flops, SliceOptions(cut=1e22, groups=3)).slices
    matrix, note = qr.question_matrix(dump, flops, 1e22, 3)
    assert note is None
    monkeypatch.setattr(qr, "question_picks", every_question_once)
    drawn = qr.question_draws(matrix, frame["model"].to_numpy(), np.ones((2, len(frame))), seed=0)
    for i, column in enumerate(["group_1", "group_3", "tc_brier", "accuracy"]):
        assert np.allclose(drawn[i, 0], frame[column].to_numpy(), atol=1e-12), column


def test_question_resampling_is_seeded_and_widens_the_bootstrap():
    dump, flops = _noisy_dump()
    frame = slice_dump(dump, flops, SliceOptions(cut=1e22, groups=3)).slices
    fit = fit_default(frame, FitOptions(cut=1e22))
    matrix, _ = qr.question_matrix(dump, flops, 1e22, 3)
    x = np.log10(frame["flops"].to_numpy())
    a = bootstrap(fit, frame, x, draws=300, seed=4, questions=matrix)
    b = bootstrap(fit, frame, x, draws=300, seed=4, questions=matrix)
    c = bootstrap(fit, frame, x, draws=300, seed=5, questions=matrix)
    assert np.array_equal(a.accuracy_lo, b.accuracy_lo) and np.array_equal(a.accuracy_hi, b.accuracy_hi)
    assert a.summary() == b.summary() and a.resampled == "models and questions"
    assert not np.array_equal(a.accuracy_lo, c.accuracy_lo)
    models_only = bootstrap(fit, frame, x, draws=300, seed=4)
    width_q, width_m = a.accuracy_hi - a.accuracy_lo, models_only.accuracy_hi - models_only.accuracy_lo
    assert np.mean(width_q) > 1.1 * np.mean(width_m), (np.mean(width_q), np.mean(width_m))


def test_thousand_question_draws_on_the_sample_data_are_fast():
    from pathlib import Path

    from slicesand.pipeline.stages import DumpOptions, slice_stage

    root = Path(__file__).resolve().parents[2] / "sample_data"
    stage = slice_stage(root / "eval_dump.csv", SliceOptions(cut=3e22),
                        DumpOptions(models_path=str(root / "models.csv")))
    frame = stage.result.slices
    fit = fit_default(frame, FitOptions(cut=3e22))
    start = time.perf_counter()
    matrix, _ = qr.question_matrix(stage.dump, stage.scales, 3e22, 3)
    band = prediction_interval(fit, frame, np.log10(frame["flops"].to_numpy()), draws=1000, seed=0,
                               questions=matrix)
    assert time.perf_counter() - start < 5.0  # measured ~0.8 s for 40 models x 2000 questions
    assert band.bootstrap.resampled == "models and questions"


def test_draws_made_once_give_the_intervals_of_drawing_again():
    # A run draws its bootstrap once (draw_bootstrap) for the predictions and the figure's band: evaluated
    # anywhere, the draws give exactly what drawing again there gives.
    from slicesand.uncertainty.bootstrap import draw_bootstrap

    dump, flops = _noisy_dump()
    frame = slice_dump(dump, flops, SliceOptions(cut=1e22, groups=3)).slices
    fit = fit_slices(frame, FitOptions(cut=1e22, easy_degree=2, hard_degree=1))  # blend: the sandwich alone
    matrix, _ = qr.question_matrix(dump, flops, 1e22, 3)
    drawn = draw_bootstrap(fit, frame, draws=300, seed=4, questions=matrix)
    joined = 0
    for x in (np.log10(frame["flops"].to_numpy()), np.linspace(19.0, 25.0, 60)):
        again = prediction_interval(fit, frame, x, draws=300, seed=4, questions=matrix)
        reused = prediction_interval(fit, frame, x, drawn=drawn)
        assert np.array_equal(reused.lo, again.lo) and np.array_equal(reused.hi, again.hi)
        assert reused.summary() == again.summary()
        offsets_only = prediction_interval(fit, frame, x, draws=0)
        joined += int(np.sum((reused.hi > offsets_only.hi) | (reused.lo < offsets_only.lo)))
    assert joined > 0  # the bootstrap part widened the interval somewhere: the join is exercised
    with pytest.raises(ValueError, match="another fit"):
        prediction_interval(replace(fit), frame, x, drawn=drawn)


def test_unit_question_weights_reproduce_the_slices_with_unranked_questions(monkeypatch):
    # Questions no reference model answered are not ranked: question_draws takes its general path (the
    # common one, every question ranked, skips the gathers); both are pinned to the slicing.
    dump, flops = _noisy_dump(dense=False)
    keep = ~((dump.question_code >= 110) & (flops[dump.model_code] < 1e22))
    dump = Dump(dump.source, dump.model_names, dump.question_ids, dump.question_tasks, dump.model_code[keep],
                dump.question_code[keep], dump.score[keep], dump.correct[keep], None, True, dense=False)
    frame = slice_dump(dump, flops, SliceOptions(cut=1e22, groups=3)).slices
    matrix, _ = qr.question_matrix(dump, flops, 1e22, 3)
    assert int((~matrix.ranked).sum()) == 10
    monkeypatch.setattr(qr, "question_picks", every_question_once)
    drawn = qr.question_draws(matrix, frame["model"].to_numpy(), np.ones((2, len(frame))), seed=0)
    for i, column in enumerate(["group_1", "group_3", "tc_brier", "accuracy"]):
        assert np.allclose(drawn[i, 0], frame[column].to_numpy(), atol=1e-12), column


def every_question_once(ranked, draws, seed, first=0, out=None):
    """:func:`slicesand.uncertainty.resampling.question_picks` when every draw takes each question once."""
    return np.ones((draws, ranked.size), int), np.tile(np.arange(int(ranked.sum())), (draws, 1))
