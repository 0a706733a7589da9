"""The emergence threshold, honestly: pure noise yields "no emergence signal", real emergence a threshold."""

import numpy as np
import pyarrow as pa
import pytest

from slicesand.fitting.model import FitOptions, fit_slices
from slicesand.fitting.selection import fit_default
from slicesand.forecast.predict import predict
from slicesand.ingest.dump import dump_from_table
from slicesand.io.tables import Source
from slicesand.slicing.difficulty import SliceOptions, slice_dump
from slicesand.uncertainty.intervals import add_intervals


def _noise_slices(seed, n_models=24, n_questions=400, cut=3e22):
    """Every answer drawn independently of the model's scale: nothing emerges."""
    rng = np.random.default_rng(seed)
    flops = np.logspace(19, 24, n_models)
    table = pa.table({"model": np.repeat([f"m{i:02d}" for i in range(n_models)], n_questions),
                      "question": np.tile([f"q{j:03d}" for j in range(n_questions)], n_models),
                      "correct": (rng.random(n_models * n_questions) < 0.25).astype(np.int8),
                      "p_correct": rng.uniform(0, 0.5, n_models * n_questions),
                      "flops": np.repeat(flops, n_questions)})
    dump = dump_from_table(table, Source("noise", ""))
    return slice_dump(dump, dump.flops_by_model, SliceOptions(cut=cut)).slices


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 5])  # seed 5: the turn sits at the edge, so the trend alone
def test_pure_noise_yields_no_emergence_signal(seed):
    frame = _noise_slices(seed)
    fit = fit_default(frame, FitOptions(cut=3e22))
    forecast = predict(fit, frame, at=[1e24])
    assert forecast.threshold_log10_flops is None and not forecast.emergence_signal
    assert any(w.code in ("no-emergence-signal", "no-turning-point") and w.message.startswith("no emergence signal")
               for w in forecast.warnings)
    if fit.options.blend == "envelope":  # the forecast leans on the curves anyway: the warning says so
        assert any("still the larger of Slice-and-Sandwich and the trend" in w.message for w in forecast.warnings)
    else:
        assert not any("still the larger" in w.message for w in forecast.warnings)
    # and the bootstrap does not bring it back
    forecast = add_intervals(predict(fit, frame, at=[1e24]), fit, frame, draws=200, seed=0)
    assert forecast.threshold_log10_flops is None


def test_the_sample_datas_emergence_keeps_its_threshold():
    from pathlib import Path

    from slicesand.pipeline.stages import DumpOptions, slice_stage

    root = Path(__file__).resolve().parents[2] / "sample_data"
    frame = slice_stage(root / "eval_dump.csv", SliceOptions(cut=3e22),
                        DumpOptions(models_path=str(root / "models.csv"))).result.slices
    fit = fit_default(frame, FitOptions(cut=3e22))
    forecast = add_intervals(predict(fit, frame, at=[1e24]), fit, frame, draws=200, seed=0)
    assert forecast.emergence_signal and 20 < forecast.threshold_log10_flops < 22.5


def test_the_searched_range_is_the_range_the_search_used():
    """Beyond the training models the guarded easy curve is a line, so the search stops at the largest
    training model; the range the forecast states (report, JSON, "no turning point between ...") must too."""
    frame = _noise_slices(5)
    fit = fit_default(frame, FitOptions(cut=3e22))
    assert fit.options.extrapolation != "polynomial"
    forecast = predict(fit, frame, at=[1e26])
    assert forecast.threshold_range == fit.training_x_range


def test_the_searched_range_is_stated_as_the_models_exact_flops():
    """10 ** log10(1.008e19) is 1.0080000000000014e+19: the summary states the model's own FLOPs."""
    import json

    from slicesand.artifacts.documents import dumps
    from slicesand.pipeline.stages import forecast_summary

    frame = _noise_slices(0)
    frame["flops"] = frame["flops"].to_numpy() * 1.008  # scales whose log10 does not round-trip
    smallest, largest = float(frame["flops"].min()), float(frame["flops"].max())
    assert 10.0 ** float(np.log10(smallest)) != smallest
    fit = FitOptions(cut=3e22, easy_degree=3, hard_degree=1, extrapolation="polynomial")
    fit = fit_slices(frame, fit)
    for at, high in (([], largest), ([3.3e25], 3.3e25)):
        summary = json.loads(dumps(forecast_summary(predict(fit, frame, at=at))))
        assert summary["threshold_search_range_flops"] == [smallest, high], summary["threshold_search_range_flops"]
    # Without the slices table the smallest training model is not at hand: 12 significant digits, no noise.
    summary = forecast_summary(predict(fit, None, at=[3.3e25]))
    assert summary["threshold_search_range_flops"] == [float(f"{smallest:.12g}"), 3.3e25]
