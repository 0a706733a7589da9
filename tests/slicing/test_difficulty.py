"""TC Brier, difficulty ranking and group means on a tiny dump computed by hand."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from tests.conftest import write_dump
from slicesand.errors import InputDataError
from slicesand.ingest.dump import DumpColumns, load_dump
from slicesand.pipeline.stages import DumpOptions, slice_stage
from slicesand.slicing.difficulty import SliceOptions, group_boundaries, slice_dump

# p_correct per model for q1..q4; a and b are below the cut (5e21), c is above it.
P = {"a": [0.9, 0.5, 0.2, 0.1], "b": [0.8, 0.6, 0.1, 0.3], "c": [1.0, 0.9, 0.7, 0.5]}
CORRECT = {"a": [1, 0, 0, 0], "b": [1, 1, 0, 0], "c": [1, 1, 1, 0]}
FLOPS = {"a": 1e20, "b": 1e21, "c": 1e22}


@pytest.fixture
def tiny_dump(tmp_path):
    rows = [(m, f"q{j + 1}", CORRECT[m][j], P[m][j], FLOPS[m]) for m in P for j in range(4)]
    return write_dump(tmp_path / "tiny.csv", rows)


def test_tc_brier_and_groups_by_hand(tiny_dump):
    stage = slice_stage(tiny_dump, SliceOptions(cut=5e21, groups=2))
    slices = stage.result.slices.set_index("model")
    # tc = -(1 - p)^2:  a: -.01 -.25 -.64 -.81   b: -.04 -.16 -.81 -.49   c: 0 -.01 -.09 -.25
    # difficulty on a, b: q1 -.025, q2 -.205, q3 -.725, q4 -.65 -> easiest first q1, q2 | q4, q3
    expected = {"a": (-0.13, -0.725, -0.4275, 0.25), "b": (-0.10, -0.65, -0.375, 0.5),
                "c": (-0.005, -0.17, -0.0875, 0.75)}
    for model, (g1, g2, tc, acc) in expected.items():
        assert slices.loc[model, "group_1"] == pytest.approx(g1, abs=1e-12)
        assert slices.loc[model, "group_2"] == pytest.approx(g2, abs=1e-12)
        assert slices.loc[model, "tc_brier"] == pytest.approx(tc, abs=1e-12)
        assert slices.loc[model, "accuracy"] == pytest.approx(acc, abs=1e-12)
    questions = stage.result.questions
    assert questions["question"].tolist() == ["q1", "q2", "q4", "q3"]
    assert questions["group"].tolist() == [1, 1, 2, 2]
    np.testing.assert_allclose(questions["difficulty"], [-0.025, -0.205, -0.65, -0.725])


def test_without_cut_every_model_is_a_reference(tiny_dump):
    stage = slice_stage(tiny_dump, SliceOptions(groups=2))
    # Means over a, b, c: q1 -.01667, q2 -.14, q3 -.5133, q4 -.5167 -> q1, q2 | q3, q4
    assert stage.result.questions["question"].tolist() == ["q1", "q2", "q3", "q4"]
    assert stage.result.facts["n_reference_models"] == 3


def test_group_boundaries_follow_reference_code():
    assert group_boundaries(4, 3).tolist() == [0, 1, 2, 4]
    assert group_boundaries(1050, 3).tolist() == [0, 350, 700, 1050]
    assert group_boundaries(15023, 3).tolist() == [0, 5007, 10015, 15023]


def test_ties_break_by_question_id(tmp_path):
    rows = [(m, q, 1, 0.5, f) for m, f in (("a", 1e20), ("b", 1e21)) for q in ("z", "y", "x", "w")]
    stage = slice_stage(write_dump(tmp_path / "ties.csv", rows), SliceOptions(groups=2))
    assert stage.result.questions["question"].tolist() == ["w", "x", "y", "z"]


def test_only_correct_column_uses_it_as_probability(tmp_path):
    rows = [("a", "q1", 1, 1e20), ("a", "q2", 0, 1e20), ("b", "q1", 1, 1e21), ("b", "q2", 1, 1e21)]
    path = write_dump(tmp_path / "c.csv", rows, header="model,question,correct,flops")
    slices = slice_stage(path, SliceOptions(groups=2)).result.slices.set_index("model")
    assert slices.loc["a", "tc_brier"] == -0.5 and slices.loc["a", "accuracy"] == 0.5


def test_only_p_correct_leaves_accuracy_unknown(tmp_path):
    rows = [("a", "q1", 0.7, 1e20), ("a", "q2", 0.2, 1e20), ("b", "q1", 0.9, 1e21), ("b", "q2", 0.4, 1e21)]
    path = write_dump(tmp_path / "p.csv", rows, header="model,question,p_correct,flops")
    stage = slice_stage(path, SliceOptions(groups=2))
    assert stage.result.slices["accuracy"].isna().all()
    assert any("accuracy is unknown" in w.message for w in stage.result.warnings)


@pytest.mark.parametrize("header, value, says", [
    ("model,question,p_correct,flops", "", "p_correct is empty"),
    ("model,question,correct,flops", "", "correct is empty"),
    ("model,question,correct,p_correct,flops", ",", "both correct and p_correct are empty"),
])
def test_a_row_without_a_score_names_the_columns_the_dump_has(tmp_path, header, value, says):
    """A p_correct-only dump was told that 'both correct and p_correct are empty' (found by review)."""
    filled = "1,0.7" if "correct,p_correct" in header else ("0.7" if "p_correct" in header else "1")
    lines = [header, f"a,q1,{filled},1e20", f"a,q2,{value},1e20", f"b,q1,{filled},1e21", f"b,q2,{filled},1e21"]
    path = tmp_path / "d.csv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputDataError, match=f"row 2: no score on this row: {says}"):
        load_dump(path)

def test_ragged_dump_is_reported(tmp_path):
    rows = [(m, f"q{j}", 1, 0.5 + 0.1 * j, f) for m, f in (("a", 1e20), ("b", 1e21)) for j in range(4)]
    rows = [r for r in rows if not (r[0] == "b" and r[1] == "q3")]
    rows.append(("c", "q9", 1, 0.9, 1e22))  # q9: no reference model answered it
    stage = slice_stage(write_dump(tmp_path / "r.csv", rows), SliceOptions(cut=5e21, groups=2))
    slices = stage.result.slices.set_index("model")
    assert slices.loc["b", "n_missing"] == 2
    text = " ".join(map(str, stage.result.warnings))
    assert {w.category for w in stage.result.warnings} >= {"ragged"}
    assert "miss some questions" in text and "no answer from a reference model" in text and "q9" in text


def test_wide_layout_matches_long(tmp_path, tiny_dump):
    wide = pd.DataFrame({"question": ["q1", "q2", "q3", "q4"], **{m: CORRECT[m] for m in P}})
    wide_path = tmp_path / "wide.csv"
    wide.to_csv(wide_path, index=False)
    models = tmp_path / "models.csv"
    models.write_text("model,flops\n" + "".join(f"{m},{f}\n" for m, f in FLOPS.items()))
    from_wide = slice_stage(wide_path, SliceOptions(groups=2), DumpOptions(layout="wide", models_path=str(models)))
    long_rows = [(m, f"q{j + 1}", CORRECT[m][j], FLOPS[m]) for m in P for j in range(4)]
    long_path = write_dump(tmp_path / "long.csv", long_rows, header="model,question,correct,flops")
    from_long = slice_stage(long_path, SliceOptions(groups=2))
    pd.testing.assert_frame_equal(from_wide.result.slices, from_long.result.slices)


def test_stdin_and_renamed_columns(tiny_dump):
    text = tiny_dump.read_text().replace("model,question", "llm,item")
    dump = load_dump("-", columns=DumpColumns(model="llm", question="item"), stdin=io.BytesIO(text.encode()))
    assert dump.n_models == 3 and dump.n_questions == 4 and dump.source.name == "<stdin>"


def test_models_table_wins_over_flops_column(tmp_path, tiny_dump):
    models = tmp_path / "models.csv"
    models.write_text("model,params,tokens\na,1e9,1e9\nb,1e9,1e10\nc,1e9,1e11\n")
    stage = slice_stage(tiny_dump, SliceOptions(groups=2), DumpOptions(models_path=str(models)))
    assert stage.result.slices.set_index("model")["flops"].to_dict() == {"a": 6e18, "b": 6e19, "c": 6e20}


def test_row_order_does_not_change_the_slices(tmp_path):
    """A sorted, complete dump takes the matrix path; shuffled, the bincount path: same numbers."""
    rng = np.random.default_rng(3)
    rows = [(f"m{i}", f"q{j:03d}", int(rng.random() < 0.3 + 0.05 * i), round(rng.random(), 5), 10 ** (19 + i / 2))
            for i in range(12) for j in range(50)]
    sorted_path = write_dump(tmp_path / "sorted.csv", rows)
    shuffled = [rows[k] for k in rng.permutation(len(rows))]
    shuffled_path = write_dump(tmp_path / "shuffled.csv", shuffled)
    dense = slice_stage(sorted_path, SliceOptions(cut=1e23, groups=4))
    sparse = slice_stage(shuffled_path, SliceOptions(cut=1e23, groups=4))
    assert dense.dump.dense and not sparse.dump.dense
    pd.testing.assert_frame_equal(dense.result.slices, sparse.result.slices, check_exact=False, rtol=1e-12)
    pd.testing.assert_frame_equal(dense.result.questions, sparse.result.questions, check_exact=False, rtol=1e-12)


def test_unused_dictionary_values_in_parquet_are_not_models(tmp_path):
    """A categorical column can carry categories no row uses: they must not become phantom models."""
    rows = [(m, q, 1, 0.2 + 0.1 * j, f) for m, f in (("a", 1e20), ("b", 1e21)) for j, q in enumerate("wxyz")]
    frame = pd.DataFrame(rows, columns=["model", "question", "correct", "p_correct", "flops"])
    frame["model"] = pd.Categorical(frame["model"], categories=["a", "b", "ghost"])
    frame["question"] = pd.Categorical(frame["question"], categories=list("wxyz") + ["unused"])
    path = tmp_path / "cat.parquet"
    frame.to_parquet(path, index=False)
    stage = slice_stage(path, SliceOptions(groups=2), engine="numpy")
    assert stage.dump.model_names.tolist() == ["a", "b"] and stage.dump.n_questions == 4
    assert stage.dump.dense and stage.result.warnings == []


def test_the_slices_have_the_same_bits_whatever_blas_may_use():
    """OpenBLAS splits a 60 x 14k product between its threads and changes its last bits; the slicing
    runs its products on one thread, so 1 or 2 BLAS threads (1 or 2 cores) give the same bits."""
    from threadpoolctl import threadpool_limits

    from slicesand.ingest.dump import Dump
    from slicesand.io.tables import Source

    rng = np.random.default_rng(5)
    n_models, n_questions = 60, 14_000
    p = rng.random((n_models, n_questions)) ** rng.uniform(0.3, 3, n_questions)
    dump = Dump(Source("big", ""), np.array([f"m{i:02d}" for i in range(n_models)], dtype=object),
                np.array([f"q{j:05d}" for j in range(n_questions)], dtype=object), np.full(n_questions, "", dtype=object),
                np.repeat(np.arange(n_models), n_questions), np.tile(np.arange(n_questions), n_models),
                -(1 - p.ravel()) ** 2, (p.ravel() > 0.5) * 1.0, None, True, dense=True)
    flops = 10 ** np.linspace(19, 24, n_models)
    results = []
    for threads in (1, 2):
        with threadpool_limits(limits=threads, user_api="blas"):
            results.append(slice_dump(dump, flops, SliceOptions(cut=3e22, groups=3)).slices)
    pd.testing.assert_frame_equal(results[0], results[1], check_exact=True)
