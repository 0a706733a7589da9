"""Write a synthetic lm-evaluation-harness ``--log_samples`` tree for the import benchmark.

60 models x 14,000 four-choice questions (MMLU size) in the v0.4.3+ layout:
``<out>/<org>__<model>/results_<ts>.json`` beside ``samples_mmlu_<ts>.jsonl``, records shaped as the
harness writes them (log-likelihoods as strings, ``target`` as the gold index written as a string,
one ``none`` filter). Seeded; question text and arguments are shared by every model, so the lines are
built with pandas string operations, not record by record.

    python bench/make_lmeval.py [--out-dir DIR] [--models 60] [--questions 14000]
"""

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20250126
TIMESTAMP = "2024-05-01T10-00-00.000000"
DEFAULT_OUT_DIR = Path(__file__).resolve().parent / "_data" / "lmeval"


def _join(parts: list, separator: str) -> pd.Series:
    """Element-wise join of string Series (``", ".join`` for columns)."""
    joined = parts[0]
    for part in parts[1:]:
        joined = joined + separator + part
    return joined


def _question_parts(n_questions: int, rng: np.random.Generator) -> tuple[pd.Series, pd.Series, np.ndarray]:
    """JSON text before and after ``resps`` for each question, and the gold index."""
    ids = pd.Series(np.arange(n_questions)).astype(str)
    gold = rng.integers(0, 4, n_questions)
    question = "Question " + ids + ": which of the four statements is true?"
    choices = ['"' + "Statement " + ids + letter + '."' for letter in "ABCD"]
    doc = ('{"question": "' + question + '", "choices": [' + choices[0] + ", " + choices[1] + ", " + choices[2]
           + ", " + choices[3] + '], "answer": ' + pd.Series(gold).astype(str) + "}")
    arguments = "{" + _join([
        f'"gen_args_{k}": {{"arg_0": "' + question + '\\nAnswer:", "arg_1": " Statement ' + ids + f'{letter}."}}'
        for k, letter in enumerate("ABCD")], ", ") + "}"
    before = ('{"doc_id": ' + ids + ', "doc": ' + doc + ', "target": "' + pd.Series(gold).astype(str)
              + '", "arguments": ' + arguments + ', "resps": ')
    after = ', "filter": "none", "metrics": ["acc", "acc_norm"], "doc_hash": "0", "prompt_hash": "0", "target_hash": "0"'
    return before, pd.Series([after] * n_questions), gold


def write_tree(out_dir: Path, n_models: int = 60, n_questions: int = 14000) -> Path:
    rng = np.random.default_rng(SEED)
    before, after, gold = _question_parts(n_questions, rng)
    for i in range(n_models):  # one file per model
        name = f"bench-org/lm-{i:03d}"
        folder = out_dir / name.replace("/", "__")
        folder.mkdir(parents=True, exist_ok=True)
        skill = 2.0 * i / n_models
        loglik = rng.normal(-2.0, 1.0, (n_questions, 4))
        loglik[np.arange(n_questions), gold] += skill
        loglik = loglik.round(4)  # what is written, so the logged acc agrees with a recomputation
        text = pd.DataFrame(loglik).round(4).astype(str)
        resps = "[" + _join(['[["' + text[k] + '", "False"]]' for k in range(4)], ", ") + "]"
        filtered = "[" + _join(['["' + text[k] + '", "False"]' for k in range(4)], ", ") + "]"
        acc = (loglik.argmax(axis=1) == gold).astype(float)
        lines = (before + resps + ', "filtered_resps": ' + filtered + after + ', "acc": '
                 + pd.Series(acc).astype(str) + ', "acc_norm": ' + pd.Series(acc).astype(str) + "}")
        (folder / f"samples_mmlu_{TIMESTAMP}.jsonl").write_text("\n".join(lines) + "\n")
        results = {"results": {"mmlu": {"alias": "mmlu", "acc,none": float(acc.mean())}},
                   "config": {"model": "hf", "model_args": f"pretrained={name}"},
                   "model_name": name, "model_name_sanitized": name.replace("/", "__")}
        (folder / f"results_{TIMESTAMP}.json").write_text(json.dumps(results, indent=2))
    return out_dir


def ensure_tree(out_dir: Path = DEFAULT_OUT_DIR, n_models: int = 60, n_questions: int = 14000) -> Path:
    """Write the tree unless it is already there (same shape)."""
    stamp = out_dir / ".shape"
    shape = f"{n_models}x{n_questions}x{SEED}"
    if not (stamp.exists() and stamp.read_text() == shape):
        write_tree(out_dir, n_models, n_questions)
        stamp.write_text(shape)
    return out_dir


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT_DIR)
    parser.add_argument("--models", type=int, default=60)
    parser.add_argument("--questions", type=int, default=14000)
    args = parser.parse_args()
    print(ensure_tree(args.out_dir, args.models, args.questions))
