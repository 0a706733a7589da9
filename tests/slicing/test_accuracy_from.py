"""--accuracy-from p_correct: accuracy is each model's mean p_correct, the same in both engines."""

import numpy as np
import pandas as pd
import pytest

from slicesand.errors import UsageError
from slicesand.pipeline.stages import DumpOptions, slice_stage
from slicesand.slicing.difficulty import SliceOptions


@pytest.fixture(scope="module")
def dump(tmp_path_factory):
    rng = np.random.default_rng(0)
    models, questions = 12, 50
    frame = pd.DataFrame({"model": np.repeat([f"m{i:02d}" for i in range(models)], questions),
                          "question": np.tile([f"q{j:02d}" for j in range(questions)], models),
                          "p_correct": rng.uniform(0, 1, models * questions).round(6),
                          "flops": np.repeat(np.logspace(20, 23, models), questions)})
    frame["correct"] = (frame["p_correct"] > 0.5).astype(int)
    path = tmp_path_factory.mktemp("acc") / "dump.parquet"
    frame.to_parquet(path, index=False)
    return path, frame


@pytest.mark.parametrize("engine", ["auto", "numpy"])
def test_accuracy_is_the_mean_p_correct_in_both_engines(dump, engine):
    path, frame = dump
    slices = slice_stage(path, SliceOptions(accuracy_from="p_correct"), DumpOptions(), engine=engine).result.slices
    expected = frame.groupby("model")["p_correct"].mean()
    assert np.allclose(slices.set_index("model")["accuracy"], expected.reindex(slices["model"]), atol=1e-9)
    default = slice_stage(path, SliceOptions(), DumpOptions(), engine=engine).result.slices
    assert np.allclose(default.set_index("model")["accuracy"],
                       frame.groupby("model")["correct"].mean().reindex(default["model"]))


@pytest.mark.parametrize("engine", ["auto", "numpy"])
def test_p_correct_asked_for_but_missing(dump, tmp_path, engine):
    path, frame = dump
    only_correct = tmp_path / "correct.parquet"
    frame.drop(columns="p_correct").to_parquet(only_correct, index=False)
    with pytest.raises(UsageError, match="p_correct"):
        slice_stage(only_correct, SliceOptions(accuracy_from="p_correct"), DumpOptions(), engine=engine)
