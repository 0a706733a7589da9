"""Shared helpers for the importer tests: fixture paths and a writer of lm-eval trees.

The writer produces lm-evaluation-harness v0.4.3+ output: ``<root>/<model_name_sanitized>/`` with
``results_<date_id>.json`` and ``samples_<task>_<date_id>.jsonl``, each record shaped as the
harness's ``evaluation_tracker.save_results_samples`` writes it (numbers inside ``resps`` and
``filtered_resps`` as strings, ``arguments`` as ``{"gen_args_i": {"arg_0", "arg_1"}}``, ``target``
stringified).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "importers"


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class LmevalWriter:
    """Builds harness-shaped records and writes them as a run directory."""

    @staticmethod
    def mc_record(doc_id: int, log_likelihoods: list[float], gold, choices: list[str] | None = None) -> dict:
        """A multiple-choice record; ``gold`` is an index or the gold choice's text."""
        choices = choices or [f"choice {i}" for i in range(len(log_likelihoods))]
        context = f"Question {doc_id}?\nAnswer:"
        gold_index = choices.index(gold) if isinstance(gold, str) else gold
        lls = np.asarray(log_likelihoods, dtype=float)
        lengths = np.array([float(len(c)) for c in choices])
        return {
            "doc_id": doc_id,
            "doc": {"question": f"Question {doc_id}?", "choices": choices, "answer": gold_index},
            "target": str(gold),
            "arguments": {f"gen_args_{i}": {"arg_0": context, "arg_1": " " + c} for i, c in enumerate(choices)},
            "resps": [[[repr(float(ll)), "False"]] for ll in log_likelihoods],
            "filtered_resps": [[repr(float(ll)), "False"] for ll in log_likelihoods],
            "filter": "none",
            "metrics": ["acc", "acc_norm"],
            "doc_hash": _hash(str(doc_id)),
            "prompt_hash": _hash(context),
            "target_hash": _hash(str(gold)),
            "acc": float(int(np.argmax(lls)) == gold_index),
            "acc_norm": float(int(np.argmax(lls / lengths)) == gold_index),
        }

    @staticmethod
    def generative_record(doc_id: int, filter_name: str, exact_match, response: str = "42") -> dict:
        context = f"Question {doc_id}?\nAnswer:"
        return {
            "doc_id": doc_id,
            "doc": {"question": f"Question {doc_id}?", "answer": "#### 42"},
            "target": "#### 42",
            "arguments": {"gen_args_0": {"arg_0": context, "arg_1": {"until": ["Question:"], "do_sample": False}}},
            "resps": [[f"The answer is {response}."]],
            "filtered_resps": [response],
            "filter": filter_name,
            "metrics": ["exact_match"],
            "doc_hash": _hash(str(doc_id)),
            "prompt_hash": _hash(context),
            "target_hash": _hash("#### 42"),
            "exact_match": exact_match,
        }

    @staticmethod
    def results(model: str, tasks: list[str], *, n_params: int | None = None, group_subtasks=None) -> dict:
        config = {"model": "hf", "model_args": f"pretrained={model},dtype=bfloat16", "batch_size": "auto"}
        if n_params is not None:
            config["model_num_parameters"] = n_params
        return {
            "results": {task: {"alias": task} for task in tasks},
            "group_subtasks": group_subtasks if group_subtasks is not None else {task: [] for task in tasks},
            "configs": {task: {"task": task, "target_delimiter": " "} for task in tasks},
            "versions": {task: 1.0 for task in tasks},
            "config": config,
            "lm_eval_version": "0.4.3",
            "model_name": model,
            "model_name_sanitized": model.replace("/", "__"),
        }

    @staticmethod
    def write_run(
        root: Path,
        model: str,
        timestamp: str,
        records_by_task: dict[str, list[dict]],
        *,
        n_params: int | None = None,
        with_results: bool = True,
        group_subtasks=None,
    ) -> Path:
        directory = root / model.replace("/", "__")
        directory.mkdir(parents=True, exist_ok=True)
        if with_results:
            results = LmevalWriter.results(model, list(records_by_task), n_params=n_params, group_subtasks=group_subtasks)
            (directory / f"results_{timestamp}.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
        for task, records in records_by_task.items():
            lines = "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)
            (directory / f"samples_{task}_{timestamp}.jsonl").write_text(lines, encoding="utf-8")
        return directory


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture
def lmeval_writer() -> type[LmevalWriter]:
    return LmevalWriter
