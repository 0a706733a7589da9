"""sniff_source, read_source's dispatch, options, and the shared choice scoring."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from slicesand.errors import InputDataError, UsageError
from slicesand.ingest.importers import KINDS, ImportOptions, read_source, sniff_source
from slicesand.ingest.importers._common import Notes, make_dump, pad_ragged, score_choices


@pytest.mark.parametrize(
    ("relative", "kind"),
    [
        ("lmeval_v043_nested", "lm-eval"),
        ("lmeval_v043_nested/EleutherAI__pythia-160m-deduped", "lm-eval"),
        ("lmeval_v042_json", "lm-eval"),
        ("lmeval_v040_flat", "lm-eval"),
        ("lmeval_v042_json/EleutherAI__pythia-70m-deduped/samples_arc_easy_2024-03-01T08-00-00.000000.json", "lm-eval"),
        ("helm_v0_2", "helm"),
        ("matrix/models_as_rows.csv", "matrix-csv"),
        ("matrix/unlabelled.csv", "matrix-csv"),
        ("pyirt/responses.jsonl", "py-irt"),
        ("long/dump.csv", "long"),
        ("eee", "every-eval-ever"),
    ],
)
def test_sniff_source(fixtures_dir, relative, kind):
    assert sniff_source(fixtures_dir / relative) == kind


def test_unrecognisable_source_asks_for_from(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "data.xlsx").write_bytes(b"PK")
    for path in (tmp_path, tmp_path / "data.xlsx"):
        with pytest.raises(InputDataError, match="`source_kind`"):
            sniff_source(path)


def test_missing_path_is_an_input_error(tmp_path):
    with pytest.raises(InputDataError, match="no such file"):
        read_source(tmp_path / "nowhere")


def test_unknown_kind_is_a_usage_error(fixtures_dir):
    with pytest.raises(UsageError, match="unknown source kind"):
        read_source(fixtures_dir / "long" / "dump.csv", "excel")


def test_an_option_for_another_kind_of_source_is_a_usage_error(fixtures_dir):
    with pytest.raises(UsageError, match="matrix_orientation applies to matrix-csv"):
        read_source(fixtures_dir / "lmeval_v042_json", options=ImportOptions(matrix_orientation="rows"))
    with pytest.raises(UsageError, match="filter_name applies to lm-eval"):
        read_source(fixtures_dir / "pyirt" / "responses.jsonl", options=ImportOptions(filter_name="none"))


def test_invalid_option_values_are_usage_errors():
    with pytest.raises(UsageError, match="metric must be one of acc, acc_norm"):
        ImportOptions(metric="f1")
    with pytest.raises(UsageError, match="matrix_orientation"):
        ImportOptions(matrix_orientation="diagonal")


def test_every_kind_has_a_reader(fixtures_dir):
    examples = {
        "lm-eval": "lmeval_v042_json",
        "helm": "helm_v0_2",
        "matrix-csv": "matrix/models_as_rows.csv",
        "py-irt": "pyirt/responses.jsonl",
        "every-eval-ever": "eee",
        "long": "long/dump.csv",
    }
    assert set(examples) == set(KINDS)
    for kind, relative in examples.items():
        result = read_source(fixtures_dir / relative, kind)
        assert result.kind == kind
        assert result.dump.num_rows > 0
        assert list(result.models["model"]) == list(dict.fromkeys(result.dump.column("model").to_pylist()))


def test_models_without_known_scale_are_noted(fixtures_dir):
    result = read_source(fixtures_dir / "pyirt" / "responses.jsonl")
    assert "1 model has no known scale (my-finetune); supply a models table for them" in result.notes


# --- shared scoring --------------------------------------------------------------------------


def test_score_choices_by_hand():
    scores = np.array([[-1.0, -2.0, -0.5, -3.0], [-1.0, -1.0, -np.inf, -np.inf]])
    gold = np.array([[False, False, True, False], [False, True, False, False]])

    outcome = score_choices(scores, gold)

    first = math.exp(-0.5) / (math.exp(-1.0) + math.exp(-2.0) + math.exp(-0.5) + math.exp(-3.0))
    assert outcome.p_correct[0] == pytest.approx(first, rel=1e-12)
    assert outcome.correct.tolist() == [1.0, 0.0]  # a tie goes to the first choice, as numpy.argmax
    assert outcome.p_correct[1] == pytest.approx(0.5)


def test_score_choices_with_several_gold_choices_sums_them():
    outcome = score_choices(np.log(np.array([[0.2, 0.3, 0.5]])), np.array([[True, False, True]]))
    assert outcome.p_correct[0] == pytest.approx(0.7)
    assert outcome.correct[0] == 1.0


def test_score_choices_leaves_unusable_rows_unknown():
    scores = np.array([[np.nan, -1.0], [-np.inf, -np.inf], [-1.0, -2.0]])
    gold = np.array([[True, False], [True, False], [False, False]])
    outcome = score_choices(scores, gold)
    assert np.isnan(outcome.correct).all() and np.isnan(outcome.p_correct).all()


def test_pad_ragged_lays_runs_out_by_row():
    padded = pad_ragged(np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]), np.array([3, 1, 2]), -np.inf)
    assert padded.tolist() == [[1.0, 2.0, 3.0], [4.0, -np.inf, -np.inf], [5.0, 6.0, -np.inf]]


def test_make_dump_marks_nan_as_null():
    table = make_dump(["a", "b"], ["1", "2"], "t", np.array([np.nan, 0.0]), np.array([0.25, np.nan]))
    assert table.column("correct").to_pylist() == [None, 0]
    assert table.column("p_correct").to_pylist() == [0.25, None]


def test_notes_fold_repeats_into_one_sentence():
    notes = Notes()
    for model in [f"m{i}" for i in range(8)]:
        notes.add("no results file", group="x", subject=model)
    notes.add("plain")
    assert notes.render() == ["no results file (m0, m1, m2, m3, m4, m5, and 2 more)", "plain"]


@pytest.mark.parametrize("header, problem", [
    ("Model,Question,Correct,P_correct", "the header names the long table's columns in another letter case; "
                                         "found 'Model, Question, Correct, P_correct'"),
    ("model;question;correct", "the file is separated by ';', not by commas"),
    ("model\tquestion\tcorrect", "the file is separated by a tab, not by commas"),
])
def test_a_long_table_header_misspelt_is_named_not_read_as_a_matrix(tmp_path, header, problem):
    """Read as a response matrix, these were refused in its terms ('the first column repeats an id',
    'needs at least one 0/1 cell') (found by review)."""
    path = tmp_path / "dump.csv"
    separator = {"model;": ";", "model\t": "\t"}.get(header[:6], ",")
    path.write_text(header + "\n" + separator.join(["m1", "q1", "1", "0.9"][:header.count(separator) + 1]) + "\n")
    with pytest.raises(InputDataError, match="^" + re.escape(f"{path}: {problem}")):
        sniff_source(path)


def test_a_matrix_whose_corner_is_model_is_still_a_matrix(tmp_path):
    path = tmp_path / "grid.csv"
    path.write_text("Model,q1,q2\nm1,1,0\nm2,0,1\n")
    assert sniff_source(path) == "matrix-csv"
