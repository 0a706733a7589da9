"""lm-evaluation-harness samples: layouts, awkward records, and the numbers they give."""

from __future__ import annotations

import json
import math
import shutil

import numpy as np
import pyarrow as pa
import pytest

from slicesand.errors import InputDataError
from slicesand.ingest.importers import DUMP_SCHEMA, ImportOptions, read_source
from slicesand.ingest.importers.lmeval import _split_pre_043_name

PYTHIA_160M = "EleutherAI/pythia-160m-deduped"
PYTHIA_410M_DIR = "EleutherAI__pythia-410m-deduped"
PYTHIA_410M = "EleutherAI/pythia-410m-deduped"


def rows(result, model=None, task=None) -> list[dict]:
    """Dump rows, optionally for one model and task, in file order."""
    table = result.dump.to_pylist()
    return [r for r in table if (model is None or r["model"] == model) and (task is None or r["task"] == task)]


def column(result, name, model=None, task=None) -> list:
    return [r[name] for r in rows(result, model, task)]


@pytest.fixture
def nested(fixtures_dir):
    return fixtures_dir / "lmeval_v043_nested"


# --- v0.4.3+ nested tree -------------------------------------------------------------------


def test_nested_tree_gives_every_model_task_and_question(nested):
    result = read_source(nested, "lm-eval")

    assert result.dump.schema.equals(DUMP_SCHEMA)
    assert result.kind == "lm-eval"
    keys = {(r["model"], r["task"], r["question"]) for r in rows(result)}
    assert len(keys) == result.dump.num_rows == 3 + 2 + 2 + 2 + 3 + 2
    assert {task for _, task, _ in keys} == {"arc_easy", "gsm8k", "mmlu_anatomy", "mmlu_astronomy", "custom_qa"}
    assert column(result, "question", PYTHIA_160M, "arc_easy") == ["0", "1", "2"]


def test_p_correct_is_the_softmax_at_the_gold_choice_computed_by_hand(nested):
    # arc_easy doc 0 of the newest run logs filtered_resps
    # [["-6.5","False"],["-4.25","False"],["-1.25","False"],["-3.5","False"]] and target "2".
    result = read_source(nested, "lm-eval")
    p_by_hand = math.exp(-1.25) / (math.exp(-6.5) + math.exp(-4.25) + math.exp(-1.25) + math.exp(-3.5))

    record = rows(result, PYTHIA_160M, "arc_easy")[0]

    assert record["p_correct"] == pytest.approx(p_by_hand, rel=1e-12)
    assert record["correct"] == 1


def test_numbers_written_as_strings_are_read_as_numbers(nested):
    samples = nested / "EleutherAI__pythia-160m-deduped" / "samples_arc_easy_2024-05-01T10-00-00.000000.jsonl"
    first = json.loads(samples.read_text().splitlines()[1])
    assert first["filtered_resps"][0] == ["-2.0", "False"]  # the awkward case really is in the fixture

    assert first["target"] == "1"

    result = read_source(nested, "lm-eval")
    second = rows(result, PYTHIA_160M, "arc_easy")[1]

    # gold is choice 1 but the argmax is choice 2: wrong, with the gold's share of the probability
    assert second["correct"] == 0
    assert second["p_correct"] == pytest.approx(math.exp(-2.5) / sum(math.exp(v) for v in (-2.0, -2.5, -0.75, -4.0)))


def test_records_with_fewer_choices_are_padded_not_misread(nested):
    result = read_source(nested, "lm-eval")
    third = rows(result, PYTHIA_160M, "arc_easy")[2]  # two choices, lls -10 and -9, gold 1
    assert third["correct"] == 1
    assert third["p_correct"] == pytest.approx(1 / (1 + math.exp(-1.0)))


def test_gold_given_as_text_is_matched_against_the_continuations(nested):
    result = read_source(nested, "lm-eval")
    model = PYTHIA_410M

    # doc 0: target "Paris", choices Lyon/Paris/Marseille, lls -4.0/-0.5/-3.0
    # doc 1: target "carbon dioxide", choices oxygen/nitrogen/carbon dioxide, lls -0.8/-2.0/-1.1
    assert column(result, "correct", model, "custom_qa") == [1, 0]
    p = column(result, "p_correct", model, "custom_qa")
    assert p[0] == pytest.approx(math.exp(-0.5) / sum(math.exp(v) for v in (-4.0, -0.5, -3.0)))
    assert p[1] == pytest.approx(math.exp(-1.1) / sum(math.exp(v) for v in (-0.8, -2.0, -1.1)))


def test_duplicate_filter_rows_take_the_first_filter_with_a_note(nested):
    result = read_source(nested, "lm-eval")

    assert column(result, "correct", PYTHIA_160M, "gsm8k") == [0, 1]  # strict-match: doc 0 "[invalid]"
    assert column(result, "p_correct", PYTHIA_160M, "gsm8k") == [None, None]
    assert any("picked filter 'strict-match' of 2" in note and "--filter" in note for note in result.notes)


def test_filter_name_chooses_among_logged_filters(nested):
    result = read_source(nested, "lm-eval", options=ImportOptions(filter_name="flexible-extract"))

    assert column(result, "correct", PYTHIA_160M, "gsm8k") == [1, 1]
    assert not any("picked filter" in note for note in result.notes)


def test_a_filter_that_is_not_logged_is_an_error_naming_the_choices(nested):
    with pytest.raises(InputDataError, match="strict-match, flexible-extract"):
        read_source(nested, "lm-eval", options=ImportOptions(filter_name="majority-vote"))


def test_missing_results_file_names_the_model_after_its_directory_with_a_note(nested):
    result = read_source(nested, "lm-eval")

    # lm-eval names the directory org__name after the model's Hugging Face id org/name
    assert set(column(result, "model")) == {PYTHIA_160M, PYTHIA_410M}
    assert any(
        "no results_*.json" in note and f"{PYTHIA_410M_DIR} -> {PYTHIA_410M}" in note for note in result.notes
    )
    models = result.models.set_index("model")
    assert models.loc[PYTHIA_410M, "params"] == pytest.approx(0.41e9)


def test_two_runs_of_a_task_take_the_newest_with_a_note(nested):
    result = read_source(nested, "lm-eval")

    # the older run (2024-04-01) got every arc_easy question wrong
    assert column(result, "correct", PYTHIA_160M, "arc_easy") == [1, 0, 1]
    assert any(
        note.startswith(f"model {PYTHIA_160M}: more than one run of a task; took the newest")
        and "arc_easy: 2 runs, newest 2024-05-01T10-00-00.000000" in note
        for note in result.notes
    )


def test_model_name_and_parameters_come_from_the_results_file(nested):
    result = read_source(nested, "lm-eval", options=ImportOptions(known_scales=False))
    models = result.models.set_index("model")

    assert models.loc[PYTHIA_160M, "params"] == 162322944
    assert models.loc[PYTHIA_160M, "scale_source"] == "source metadata (params only)"
    assert np.isnan(models.loc[PYTHIA_410M, "params"])


def test_bundled_scale_is_preferred_over_the_logged_parameter_count(nested):
    result = read_source(nested, "lm-eval")
    models = result.models.set_index("model")

    assert models.loc[PYTHIA_160M, "params"] == pytest.approx(0.16e9)
    assert models.loc[PYTHIA_160M, "flops"] == pytest.approx(2.88e20)
    assert list(result.models.columns) == ["model", "params", "tokens", "flops", "scale_source"]


def test_group_subtasks_folds_mmlu_subjects_and_keeps_question_ids_unique(nested):
    result = read_source(nested, "lm-eval", options=ImportOptions(group_subtasks=True))

    mmlu = rows(result, PYTHIA_160M, "mmlu")
    assert [r["question"] for r in mmlu] == ["mmlu_anatomy/0", "mmlu_anatomy/1", "mmlu_astronomy/0", "mmlu_astronomy/1"]
    assert {r["task"] for r in rows(result)} == {"arc_easy", "gsm8k", "mmlu", "custom_qa"}
    assert column(result, "question", PYTHIA_160M, "arc_easy") == ["0", "1", "2"]
    assert "group_subtasks: folded 2 subtasks into mmlu" in result.notes


def test_group_subtasks_does_not_merge_the_members_of_a_mixed_suite(tmp_path, lmeval_writer):
    # lm-eval's "leaderboard" group holds plain tasks (leaderboard_ifeval) next to groups (leaderboard_bbh)
    records = [lmeval_writer.mc_record(0, [-1.0, -2.0], 0)]
    tasks = {"leaderboard_ifeval": records, "leaderboard_bbh_navigate": records, "leaderboard_bbh_snarks": records}
    group_subtasks = {
        "leaderboard": ["leaderboard_bbh", "leaderboard_ifeval"],
        "leaderboard_bbh": ["leaderboard_bbh_navigate", "leaderboard_bbh_snarks"],
        "leaderboard_ifeval": [],
    }
    lmeval_writer.write_run(
        tmp_path, "acme/tiny-lm", "2024-01-01T00-00-00.000000", tasks, group_subtasks=group_subtasks
    )

    result = read_source(tmp_path, "lm-eval", options=ImportOptions(group_subtasks=True))

    assert sorted((r["task"], r["question"]) for r in rows(result)) == [
        ("leaderboard_bbh", "leaderboard_bbh_navigate/0"),
        ("leaderboard_bbh", "leaderboard_bbh_snarks/0"),
        ("leaderboard_ifeval", "0"),
    ]


def test_truncated_line_is_an_error_naming_file_and_line(fixtures_dir):
    with pytest.raises(InputDataError) as caught:
        read_source(fixtures_dir / "lmeval_truncated", "lm-eval")

    message = str(caught.value)
    assert "samples_arc_easy_2024-05-01T10-00-00.000000.jsonl" in message
    assert "line 3 is not valid JSON" in message
    assert caught.value.exit_code == 3


def test_a_single_samples_file_can_be_read(nested):
    samples = nested / "EleutherAI__pythia-160m-deduped" / "samples_mmlu_anatomy_2024-05-01T10-00-00.000000.jsonl"
    result = read_source(samples)

    assert result.kind == "lm-eval"
    assert set(column(result, "model")) == {PYTHIA_160M}
    assert column(result, "correct") == [1, 0]


# --- older layouts ---------------------------------------------------------------------------


def test_v042_json_array_with_numeric_responses(fixtures_dir):
    result = read_source(fixtures_dir / "lmeval_v042_json")

    assert set(column(result, "model")) == {"EleutherAI/pythia-70m-deduped"}
    assert column(result, "correct") == [1, 0, 1]
    first = math.exp(-1.5) / sum(math.exp(v) for v in (-2.0, -3.0, -1.5, -2.5))
    assert column(result, "p_correct")[0] == pytest.approx(first)


def test_v040_flat_layout_reads_model_from_model_args_and_task_from_file_name(fixtures_dir):
    result = read_source(fixtures_dir / "lmeval_v040_flat")

    assert set(column(result, "model")) == {"EleutherAI/pythia-70m-deduped"}
    assert set(column(result, "task")) == {"hellaswag"}
    assert column(result, "correct") == [0, 0]


def test_acc_norm_divides_by_choice_length_in_characters(fixtures_dir):
    result = read_source(fixtures_dir / "lmeval_v040_flat", options=ImportOptions(metric="acc_norm"))

    endings = [
        "is using wrap to wrap a pair of skis.",
        "is ripping level tiles off.",
        "is holding a rubik's cube.",
        "starts pulling up roofing on a roof.",
    ]
    lls = [-42.0, -25.0, -20.5, -21.5]
    scores = [ll / len(text) for ll, text in zip(lls, endings)]
    p_by_hand = math.exp(scores[3]) / sum(math.exp(s) for s in scores)

    assert column(result, "correct") == [1, 0]  # acc_norm picks ending 3; acc picks ending 2
    assert column(result, "p_correct")[0] == pytest.approx(p_by_hand)


def test_pre_043_file_names_split_into_model_and_task():
    assert _split_pre_043_name("pretrained__EleutherAI__pythia-160m_hellaswag") == (
        "EleutherAI__pythia-160m",
        "hellaswag",
    )
    assert _split_pre_043_name("pretrained__gpt2,dtype__float32_arc_easy") == ("gpt2", "arc_easy")


def test_pre_043_file_without_results_guesses_from_its_name_with_a_note(fixtures_dir, tmp_path):
    source = fixtures_dir / "lmeval_v040_flat" / "pretrained__EleutherAI__pythia-70m-deduped_hellaswag.jsonl"
    shutil.copy(source, tmp_path / source.name)

    result = read_source(tmp_path, "lm-eval")

    assert set(column(result, "model")) == {"EleutherAI/pythia-70m-deduped"}
    assert set(column(result, "task")) == {"hellaswag"}
    assert any("guessed model 'EleutherAI/pythia-70m-deduped' and task 'hellaswag'" in n for n in result.notes)


# --- synthetic trees for the remaining cases ---------------------------------------------------


def test_unknown_model_keeps_the_parameter_count_its_results_file_logs(tmp_path, lmeval_writer):
    records = [lmeval_writer.mc_record(0, [-1.0, -2.0], 0)]
    lmeval_writer.write_run(tmp_path, "acme/tiny-lm", "2024-01-01T00-00-00.000000", {"toy": records}, n_params=12345)

    result = read_source(tmp_path, "lm-eval")

    assert result.models.to_dict("records")[0] | {"tokens": None, "flops": None} == {
        "model": "acme/tiny-lm",
        "params": 12345.0,
        "tokens": None,
        "flops": None,
        "scale_source": "source metadata (params only)",
    }


def test_group_subtasks_without_group_information_uses_the_family_prefix(tmp_path, lmeval_writer):
    records = [lmeval_writer.mc_record(0, [-1.0, -2.0], 0)]
    lmeval_writer.write_run(
        tmp_path,
        "acme/tiny-lm",
        "2024-01-01T00-00-00.000000",
        {"mmlu_virology": records, "mmlu_pro_law": records},
        group_subtasks={},
    )

    result = read_source(tmp_path, "lm-eval", options=ImportOptions(group_subtasks=True))

    assert sorted((r["task"], r["question"]) for r in rows(result)) == [
        ("mmlu", "mmlu_virology/0"),
        ("mmlu_pro", "mmlu_pro_law/0"),
    ]
    assert any("name prefix" in note for note in result.notes)


def test_generative_metric_that_is_not_zero_or_one_is_an_error(tmp_path, lmeval_writer):
    records = [lmeval_writer.generative_record(0, "none", 1.0), lmeval_writer.generative_record(1, "none", 0.5)]
    lmeval_writer.write_run(tmp_path, "acme/tiny-lm", "2024-01-01T00-00-00.000000", {"gen": records})

    with pytest.raises(InputDataError, match=r"line 2: metric 'exact_match' must be 0 or 1"):
        read_source(tmp_path, "lm-eval")


def test_correct_metric_option_reads_another_logged_metric(tmp_path, lmeval_writer):
    records = [lmeval_writer.generative_record(i, "none", 0.0) | {"pass@1": float(i % 2)} for i in range(4)]
    lmeval_writer.write_run(tmp_path, "acme/tiny-lm", "2024-01-01T00-00-00.000000", {"code": records})

    result = read_source(tmp_path, "lm-eval", options=ImportOptions(correct_metric="pass@1"))

    assert column(result, "correct") == [0, 1, 0, 1]


def test_doc_logged_twice_for_one_filter_is_an_error(tmp_path, lmeval_writer):
    records = [lmeval_writer.mc_record(0, [-1.0, -2.0], 0), lmeval_writer.mc_record(0, [-1.0, -2.0], 1)]
    lmeval_writer.write_run(tmp_path, "acme/tiny-lm", "2024-01-01T00-00-00.000000", {"toy": records})

    with pytest.raises(InputDataError, match="doc_id 0 is logged twice"):
        read_source(tmp_path, "lm-eval")


def test_target_matching_no_choice_leaves_the_record_unknown_with_a_note(tmp_path, lmeval_writer):
    good = lmeval_writer.mc_record(0, [-1.0, -2.0], 0)
    stray = lmeval_writer.mc_record(1, [-1.0, -2.0], 0) | {"target": "Atlantis"}
    lmeval_writer.write_run(tmp_path, "acme/tiny-lm", "2024-01-01T00-00-00.000000", {"toy": [good, stray]})

    result = read_source(tmp_path, "lm-eval")

    assert column(result, "correct") == [1, None]
    assert column(result, "p_correct")[1] is None
    assert any(
        "target that matches no choice" in note and "acme/tiny-lm: 1 of 2 records" in note for note in result.notes
    )


def test_disagreement_with_the_logged_metric_is_noted(tmp_path, lmeval_writer):
    record = lmeval_writer.mc_record(0, [-1.0, -2.0], 0) | {"acc": 0.0}  # as a custom process_results might log
    lmeval_writer.write_run(tmp_path, "acme/tiny-lm", "2024-01-01T00-00-00.000000", {"toy": [record]})

    result = read_source(tmp_path, "lm-eval")

    assert column(result, "correct") == [1]
    assert any(
        "differs from the harness's logged acc" in note and "acme/tiny-lm: 1 of 1 records" in note
        for note in result.notes
    )


def test_huge_log_likelihoods_do_not_overflow(tmp_path, lmeval_writer):
    record = lmeval_writer.mc_record(0, [-1e6, -1e6 - 1.0, -1e6 - 2.0], 0)
    lmeval_writer.write_run(tmp_path, "acme/tiny-lm", "2024-01-01T00-00-00.000000", {"toy": [record]})

    result = read_source(tmp_path, "lm-eval")

    expected = 1.0 / (1.0 + math.exp(-1.0) + math.exp(-2.0))
    assert column(result, "p_correct") == [pytest.approx(expected)]


def test_synthetic_tree_of_twenty_model_sizes(tmp_path, lmeval_writer):
    """End to end: 20 models x (60 multiple-choice + 40 generative questions), checked record by record."""
    rng = np.random.default_rng(7)
    n_models, n_mc, n_gen = 20, 60, 40
    sizes = np.geomspace(7e7, 7e10, n_models).astype(np.int64)
    expected: dict[tuple[str, str, str], tuple[int, float | None]] = {}
    for index, size in enumerate(sizes):
        model = f"synthetic/lm-{index:02d}"
        skill = index / (n_models - 1)  # bigger models put more weight on the gold choice
        mc_records = []
        for doc_id in range(n_mc):
            n_choices = int(rng.integers(2, 6))
            gold = int(rng.integers(0, n_choices))
            lls = rng.normal(-3.0, 1.0, size=n_choices)
            lls[gold] += 3.0 * skill
            mc_records.append(lmeval_writer.mc_record(doc_id, lls.tolist(), gold))
            weights = [math.exp(v - max(lls)) for v in lls]
            expected[(model, "synthetic_mc", str(doc_id))] = (
                int(int(np.argmax(lls)) == gold),
                weights[gold] / sum(weights),
            )
        gen_records = []
        for doc_id in range(n_gen):
            strict, flexible = float(rng.random() < skill * 0.5), float(rng.random() < skill)
            gen_records.append(lmeval_writer.generative_record(doc_id, "strict-match", strict))
            gen_records.append(lmeval_writer.generative_record(doc_id, "flexible-extract", flexible))
            expected[(model, "synthetic_gen", str(doc_id))] = (int(strict), None)
        lmeval_writer.write_run(
            tmp_path,
            model,
            "2024-06-01T12-00-00.000000",
            {"synthetic_mc": mc_records, "synthetic_gen": gen_records},
            n_params=int(size),
        )

    result = read_source(tmp_path)

    assert result.kind == "lm-eval"
    assert result.dump.num_rows == n_models * (n_mc + n_gen)
    assert result.dump.schema.equals(DUMP_SCHEMA)
    assert result.dump.column("correct").type == pa.int8()
    got = {(r["model"], r["task"], r["question"]): (r["correct"], r["p_correct"]) for r in rows(result)}
    assert got.keys() == expected.keys()
    for key, (correct, p_correct) in expected.items():
        assert got[key][0] == correct, key
        if p_correct is None:
            assert got[key][1] is None, key
        else:
            assert got[key][1] == pytest.approx(p_correct, rel=1e-9), key
    assert result.models["params"].tolist() == sizes.astype(float).tolist()
    mean_accuracy = result.dump.to_pandas().query("task == 'synthetic_mc'").groupby("model")["correct"].mean()
    assert mean_accuracy.iloc[-1] > mean_accuracy.iloc[0]
    assert any("picked filter 'strict-match'" in note for note in result.notes)
