"""HELM run folders: correctness from per-instance stats, p_correct from the responses."""

from __future__ import annotations

import json
import math
import shutil

import numpy as np
import pytest

from slicesand.errors import InputDataError
from slicesand.ingest.importers import ImportOptions, read_source, sniff_source
from slicesand.ingest.importers.helm import _joint_scores, _reference_logprob, task_from_run_name

MODEL = "eleutherai/pythia-6.9b"
JOINT_TASK = "mmlu:subject=anatomy,method=multiple_choice_joint"
SEPARATE_TASK = "commonsense:dataset=hellaswag,method=multiple_choice_separate_original"


@pytest.fixture
def runs(fixtures_dir):
    return fixtures_dir / "helm_v0_2" / "runs"


def by_question(result, task):
    return {r["question"]: r for r in result.dump.to_pylist() if r["task"] == task}


def test_helm_folders_are_sniffed(runs):
    assert sniff_source(runs) == "helm"
    assert sniff_source(next(runs.rglob("per_instance_stats.json"))) == "helm"


def test_model_and_task_come_from_the_run_spec(runs):
    result = read_source(runs)

    assert result.kind == "helm"
    assert {r["model"] for r in result.dump.to_pylist()} == {MODEL}
    assert {r["task"] for r in result.dump.to_pylist()} == {JOINT_TASK, SEPARATE_TASK}


def test_joint_method_uses_answer_letter_logprobs(runs):
    rows = by_question(read_source(runs), JOINT_TASK)

    # id147: top_logprobs " A" -2.0, " B" -1.5, " C" -2.5, " D" -0.5, " The" -3.0; gold D; output " D"
    letters = [-2.0, -1.5, -2.5, -0.5]
    assert rows["id147"]["p_correct"] == pytest.approx(math.exp(-0.5) / sum(math.exp(v) for v in letters))
    assert rows["id147"]["correct"] == 1
    # id12: gold D is not among the top-k letters, so it gets no probability; output " B" is wrong
    assert rows["id12"]["p_correct"] == 0.0
    assert rows["id12"]["correct"] == 0


def test_instance_without_top_logprobs_keeps_correct_but_no_probability(runs):
    rows = by_question(read_source(runs), JOINT_TASK)
    assert rows["id33"]["correct"] == 1
    assert rows["id33"]["p_correct"] is None


def test_same_letter_as_two_tokens_is_pooled():
    request_state = {
        "instance": {"id": "x", "references": [{"output": {"text": "a"}, "tags": []}, {"output": {"text": "b"}, "tags": ["correct"]}]},
        "output_mapping": {"A": "a", "B": "b"},
        "result": {"completions": [{"tokens": [{"text": " B", "top_logprobs": {" A": -1.0, " B": -0.8, "B": -3.0}}]}]},
    }
    scores, gold = _joint_scores([request_state])["x"]
    assert scores == pytest.approx([-1.0, float(np.logaddexp(-0.8, -3.0))])
    assert gold == [False, True]


def test_perturbed_copies_are_not_questions(runs):
    result = read_source(runs)
    questions = [r["question"] for r in result.dump.to_pylist() if r["task"] == JOINT_TASK]

    assert sorted(questions) == ["id12", "id147", "id33"]
    assert any("perturbed" in note for note in result.notes)


def test_separate_method_scores_references_by_logprob_per_token(runs):
    rows = by_question(read_source(runs), SEPARATE_TASK)

    # id5: reference 0 tokens sum to -17.5 over 6 tokens, reference 1 to -10.0 over 5; gold is 1
    scores = [-17.5 / 6, -10.0 / 5]
    assert rows["id5"]["p_correct"] == pytest.approx(math.exp(scores[1]) / sum(math.exp(s) for s in scores))
    assert rows["id5"]["correct"] == 1
    # id9: -1.8 over 3 tokens vs -5.4 over 3 tokens; gold is 0
    scores = [-1.8 / 3, -5.4 / 3]
    assert rows["id9"]["p_correct"] == pytest.approx(math.exp(scores[0]) / sum(math.exp(s) for s in scores))


def test_reference_tokens_are_found_from_the_end():
    tokens = [{"text": "Q:", "logprob": -5.0}, {"text": " lifts", "logprob": -1.0}, {"text": " it.", "logprob": -0.5}]
    assert _reference_logprob(tokens, "lifts it.") == (-1.5, 2)


def test_task_name_drops_only_the_model_parts():
    assert task_from_run_name("boolq:model=openai_davinci,data_augmentation=canonical") == "boolq:data_augmentation=canonical"
    assert task_from_run_name("mmlu:subject=anatomy,model=a,model_deployment=b") == "mmlu:subject=anatomy"


def test_group_subtasks_folds_runs_into_their_scenario(runs):
    result = read_source(runs, options=ImportOptions(group_subtasks=True))

    tasks = {(r["task"], r["question"]) for r in result.dump.to_pylist()}
    assert ("mmlu", "subject=anatomy,method=multiple_choice_joint/id147") in tasks
    assert {task for task, _ in tasks} == {"mmlu", "commonsense"}


def test_correct_metric_option_chooses_the_stat(runs):
    result = read_source(runs / "v0.2.4" / f"{JOINT_TASK},model=eleutherai_pythia-6.9b", options=ImportOptions(correct_metric="quasi_exact_match"))
    assert sorted(r["correct"] for r in result.dump.to_pylist()) == [0, 1, 1]

    with pytest.raises(InputDataError, match="no f1_score stat"):
        read_source(runs, options=ImportOptions(correct_metric="f1_score"))


def test_missing_scenario_state_leaves_p_correct_empty_with_a_note(runs, tmp_path):
    run = runs / "v0.2.4" / f"{JOINT_TASK},model=eleutherai_pythia-6.9b"
    copy = tmp_path / run.name
    shutil.copytree(run, copy)
    (copy / "scenario_state.json").unlink()

    result = read_source(tmp_path, "helm")

    assert [r["p_correct"] for r in result.dump.to_pylist()] == [None, None, None]
    assert any("no scenario_state.json" in note for note in result.notes)


def test_damaged_stats_file_is_an_error_naming_it(runs, tmp_path):
    run = runs / "v0.2.4" / f"{JOINT_TASK},model=eleutherai_pythia-6.9b"
    copy = tmp_path / run.name
    shutil.copytree(run, copy)
    text = (copy / "per_instance_stats.json").read_text()
    (copy / "per_instance_stats.json").write_text(text[: len(text) // 2])

    with pytest.raises(InputDataError, match=r"per_instance_stats\.json.*not valid JSON"):
        read_source(tmp_path, "helm")


def test_fractional_exact_match_from_tied_references_is_unknown(runs, tmp_path):
    run = runs / "v0.2.4" / f"{SEPARATE_TASK},model=eleutherai_pythia-6.9b"
    copy = tmp_path / run.name
    shutil.copytree(run, copy)
    stats = json.loads((copy / "per_instance_stats.json").read_text())
    for stat in stats[0]["stats"]:
        if stat["name"]["name"] == "exact_match":
            stat["mean"] = 0.5
    (copy / "per_instance_stats.json").write_text(json.dumps(stats))

    result = read_source(tmp_path, "helm")

    assert by_question(result, SEPARATE_TASK)["id5"]["correct"] is None
    assert any("fractional exact_match" in note for note in result.notes)
