"""Prediction intervals: conformal calibration on known truth, and question resampling in the bootstrap."""

import time
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

import slicesand.uncertainty.resampling as qr
from slicesand.uncertainty.bootstrap import bootstrap
from slicesand.uncertainty.calibration import calibrate, conformal_quantile, prediction_interval
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


def test_conformal_quantile_is_the_finite_sample_order_statistic():
    assert conformal_quantile(np.arange(1.0, 20.0), 0.9) == (18.0, True)  # ceil(20 * 0.9) = 18th of 19
    assert conformal_quantile(np.arange(9.0), 0.9) == (8.0, True)
    assert conformal_quantile(np.arange(8.0), 0.9) == (7.0, False)  # 8 scores cannot promise 90%


def test_calibrated_interval_covers_about_90_percent_where_the_truth_is_exchangeable():
    # Many worlds where the training models' own future errs like the test models' do: coverage near 90%,
    # and never narrower than the bootstrap band it widens.
    covered, widths, boot = [], [], []
    for seed in range(12):
        frame = _linear_world(seed)
        x = np.log10(frame["flops"].to_numpy())
        cut = 10 ** 23.0
        fit = fit_default(frame, FitOptions(cut=cut))
        test = x >= 23.0
        band = prediction_interval(fit, frame, x[test], draws=200, seed=seed)
        y = frame["accuracy"].to_numpy()[test]
        covered.append(np.mean((y >= band.lo) & (y <= band.hi)))
        widths.append(np.mean(band.hi - band.lo))
        boot.append(np.mean(band.bootstrap.accuracy_hi - band.bootstrap.accuracy_lo))
        assert np.all(band.hi - band.lo >= band.bootstrap.accuracy_hi - band.bootstrap.accuracy_lo - 1e-12)
    assert 0.8 <= np.mean(covered) <= 1.0, np.mean(covered)
    assert np.mean(widths) < 0.35  # informative: 0.05 accuracy per decade, 0.02 noise


def test_calibration_uses_only_training_models_and_grows_with_distance():
    frame = _linear_world(0)
    fit = fit_default(frame, FitOptions(cut=10 ** 23.0))
    calibration = calibrate(fit, frame, seed=0)
    # Changing the test models (above the cut) changes nothing.
    spoiled = frame.assign(accuracy=np.where(frame["flops"] >= 1e23, 0.99, frame["accuracy"]))
    again = calibrate(fit_default(spoiled, FitOptions(cut=10 ** 23.0)), spoiled, seed=0)
    assert np.array_equal(calibration.scores, again.scores) and calibration.quantile == again.quantile
    assert calibration.folds == 3 and calibration.scores.size >= 9 and calibration.finite_sample
    assert (calibration.distances > 0).all()
    widen = calibration.half_width(np.array([-1.0, 0.0, 1.0, 2.0]))
    assert widen[0] == widen[1] and np.all(np.diff(widen[1:]) >= 0)


def test_a_larger_miss_on_the_training_future_widens_the_interval():
    calm, wild = _linear_world(3, noise=0.005), _linear_world(3, noise=0.05)
    widths = []
    for frame in (calm, wild):
        fit = fit_default(frame, FitOptions(cut=10 ** 23.0))
        band = prediction_interval(fit, frame, np.array([23.5, 24.0]), draws=200, seed=0)
        widths.append(band.hi - band.lo)
    assert np.all(widths[1] > widths[0])


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
    monkeypatch.setattr(qr, "question_multiplicities", lambda ranked, draws, seed, first=0: np.ones((draws, ranked.size), int))
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


def test_too_big_a_sparse_dump_falls_back_to_models_with_a_note(monkeypatch):
    dump, flops = _noisy_dump(dense=False)
    monkeypatch.setattr(qr, "MAX_CELLS", 100)
    matrix, note = qr.question_matrix(dump, flops, 1e22, 3)
    assert matrix is None and "questions not resampled" in note


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
