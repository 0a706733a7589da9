"""End to end: an lm-evaluation-harness tree of 20 model sizes is imported, sliced, fitted and forecast."""

from __future__ import annotations

import io
import json
import math

import numpy as np
import pandas as pd

from slicesand.cli import app


def _write_tree(root, writer, n_models=20, n_questions=60, seed=11):
    """Easy questions (low ids) get learned early, hard ones late: accuracy rises with size."""
    rng = np.random.default_rng(seed)
    params = np.geomspace(7e7, 7e10, n_models)
    hardness = np.linspace(0.0, 1.0, n_questions)
    for index in range(n_models):
        skill = index / (n_models - 1)
        records = []
        lls_by_doc = rng.normal(-2.0, 0.7, size=(n_questions, 4))
        lls_by_doc[:, 0] += 4.0 * (skill - hardness)  # choice 0 is gold throughout
        for doc_id in range(n_questions):  # writing a fixture file, not product code
            records.append(writer.mc_record(doc_id, lls_by_doc[doc_id].round(3).tolist(), 0))
        writer.write_run(root, f"synthetic/lm-{index:02d}", "2024-06-01T12-00-00.000000",
                         {"toy_mc": records}, n_params=int(params[index]))
    models = pd.DataFrame({"model": [f"synthetic/lm-{i:02d}" for i in range(n_models)],
                           "params": params, "tokens": 2e10})
    return models, lls_by_doc


def test_lmeval_tree_runs_end_to_end(tmp_path, lmeval_writer, runner):
    tree = tmp_path / "lm_eval_out"
    models, last_lls = _write_tree(tree, lmeval_writer)
    models_path = tmp_path / "models.csv"
    models.to_csv(models_path, index=False)
    cut = 6 * 2e10 * 5e9  # below 5e9 parameters: 12 training models, 8 to test
    out = tmp_path / "run"
    result = runner.invoke(app, ["run", str(tree), "--models", str(models_path), "--cut", repr(cut),
                                 "--easy-degree", "2", "--hard-degree", "2", "--bootstrap", "0",
                                 "--no-figures", "-o", str(out), "-f", "json"])
    assert result.exit_code == 0, result.stderr
    facts = json.loads(result.stdout)
    assert facts["models"]["training"] == 12 and facts["models"]["test"] == 8
    assert facts["test_mse"]["forecast"] >= 0
    slices = pd.read_csv(out / "slices.csv")
    assert slices["flops"].tolist() == sorted(6 * models["params"] * 2e10)
    # The largest model's p_correct for its last question, by hand: softmax of the logged numbers at gold.
    imported = runner.invoke(app, ["import", str(tree), "-o", "-"])
    dump = pd.read_csv(io.StringIO(imported.stdout), dtype={"question": str})
    row = dump[(dump["model"] == "synthetic/lm-19") & (dump["question"] == "59")].iloc[0]
    lls = last_lls[59].round(3)
    expected = math.exp(lls[0]) / sum(math.exp(v) for v in lls)
    assert abs(row["p_correct"] - expected) < 1e-12
    assert row["correct"] == int(np.argmax(lls) == 0)
