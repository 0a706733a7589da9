"""Property-based tests: whatever long dump we write, the reader gives back the same answers."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slicesand.artifacts.documents import fit_document, fit_from_document, dumps
from slicesand.ingest.dump import load_dump
from slicesand.fitting.model import FitOptions, fit_slices
from slicesand.io.tables import Source

names = st.text(alphabet=st.characters(whitelist_categories=("L", "N"), whitelist_characters="-_/. "),
                min_size=1, max_size=12).map(str.strip).filter(bool)


@st.composite
def dumps_strategy(draw):
    models = draw(st.lists(names, min_size=1, max_size=5, unique=True))
    questions = draw(st.lists(names, min_size=1, max_size=6, unique=True))
    pairs = draw(st.lists(st.tuples(st.sampled_from(models), st.sampled_from(questions)),
                          min_size=1, max_size=30, unique=True))
    probabilities = draw(st.lists(st.floats(0, 1, allow_nan=False), min_size=len(pairs), max_size=len(pairs)))
    frame = pd.DataFrame(pairs, columns=["model", "question"])
    frame["p_correct"] = probabilities
    frame["correct"] = (frame["p_correct"] > 0.5).astype(int)
    return frame


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(frame=dumps_strategy(), parquet=st.booleans())
def test_long_dump_round_trip(tmp_path_factory, frame, parquet):
    path = tmp_path_factory.mktemp("dump") / ("d.parquet" if parquet else "d.csv")
    if parquet:
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)
    dump = load_dump(path)
    back = pd.DataFrame({
        "model": dump.model_names[dump.model_code],
        "question": dump.question_ids[dump.question_code],
        "tc": dump.score,
        "correct": dump.correct,
    })
    expected = frame.assign(tc=-(1 - frame["p_correct"]) ** 2)
    merged = expected.merge(back, on=["model", "question"], suffixes=("", "_read"), validate="one_to_one")
    assert len(merged) == len(frame)
    np.testing.assert_allclose(merged["tc_read"], merged["tc"], rtol=0, atol=1e-15)
    np.testing.assert_array_equal(merged["correct_read"], merged["correct"])


@settings(max_examples=30, deadline=None)
@given(frame=dumps_strategy())
def test_stdin_reads_like_a_file(frame):
    text = frame.to_csv(index=False).encode()
    dump = load_dump("-", stdin=io.BytesIO(text))
    assert sorted(dump.model_names.tolist()) == sorted(frame["model"].unique().tolist())
    assert len(dump.score) == len(frame)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), easy=st.integers(1, 5), hard=st.integers(1, 2),
       variant=st.sampled_from(["sandwich", "hard-lift"]))
def test_fit_json_round_trip(seed, easy, hard, variant):
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(19, 24, 14))
    frame = pd.DataFrame({"model": [f"m{i}" for i in range(14)], "flops": 10 ** x,
                          "accuracy": rng.uniform(0.2, 0.8, 14), "tc_brier": rng.uniform(-0.8, -0.2, 14),
                          "group_1": rng.uniform(-0.5, 0, 14), "group_2": rng.uniform(-1, -0.5, 14)})
    fit = fit_slices(frame, FitOptions(easy_degree=easy, hard_degree=hard, variant=variant))
    document = json.loads(dumps(fit_document(fit, Source("s.csv", "0" * 64))))
    again = fit_from_document(document, "fit.json")
    grid = np.linspace(18, 26, 9)
    np.testing.assert_array_equal(again.easy(grid), fit.easy(grid))
    np.testing.assert_array_equal(again.hard(grid), fit.hard(grid))
    assert again == fit
