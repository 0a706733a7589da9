"""The bundled scale table and model-name matching."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from slicesand.ingest import known_models as known_models_module
from slicesand.ingest.known_models import SCALE_SOURCE, known_models, lookup_scales, sanitize_model_name


def test_table_is_in_plain_units():
    table = known_models().set_index("model")

    assert list(table.reset_index().columns) == ["model", "family", "params", "tokens", "flops", "source", "aliases"]
    llama = table.loc["meta-llama/Llama-2-7b-hf"]
    assert (llama["params"], llama["tokens"], llama["flops"]) == (7e9, 2e12, 8.4e22)
    assert table.loc["huggyllama/llama-65b", "flops"] == pytest.approx(547.68e21)
    assert table.index.is_unique
    assert len(table) == 160
    assert (table["source"].str.len() > 0).all()


def test_flops_are_six_n_d_where_all_are_known():
    table = known_models().dropna()
    np.testing.assert_allclose(table["flops"], 6 * table["params"] * table["tokens"], rtol=1e-3)


def test_known_models_returns_an_independent_copy():
    first = known_models()
    first.loc[:, "params"] = 0.0
    assert known_models()["params"].gt(0).all()


def test_lookup_by_hugging_face_id():
    scales = lookup_scales(["EleutherAI/pythia-1.4b-deduped"])
    assert scales.to_dict("records") == [
        {
            "model": "EleutherAI/pythia-1.4b-deduped",
            "params": 1.4e9,
            "tokens": 3e11,
            "flops": pytest.approx(2.52e21),
            "scale_source": SCALE_SOURCE,
        }
    ]


def test_lookup_by_lm_eval_sanitized_name():
    assert sanitize_model_name("EleutherAI/pythia-1b") == "EleutherAI__pythia-1b"
    scales = lookup_scales(["EleutherAI__pythia-1.4b-deduped", "facebook__opt-125m"])
    assert scales["params"].tolist() == [1.4e9, 0.125e9]


def test_lookup_by_unique_bare_name_or_local_path():
    scales = lookup_scales(["opt-125m", "/checkpoints/opt-125m/"])
    assert scales["params"].tolist() == [0.125e9, 0.125e9]


def test_another_organisation_does_not_match_a_bare_name():
    scales = lookup_scales(["someone/opt-125m"])
    assert np.isnan(scales["params"].item())
    assert scales["scale_source"].item() is None


def test_case_insensitive_match_for_lower_case_ids():
    assert lookup_scales(["eleutherai/pythia-410m-deduped"])["params"].item() == 0.41e9


def test_unknown_model_stays_unknown():
    scales = lookup_scales(["acme/secret-model"])
    assert scales["model"].tolist() == ["acme/secret-model"]
    assert scales[["params", "tokens", "flops"]].isna().all(axis=None)
    assert scales["scale_source"].tolist() == [None]


def test_known_model_without_flops_keeps_its_parameters():
    scales = lookup_scales(["mistralai/Mistral-7B-v0.1"])
    assert scales["params"].item() == 7.3e9
    assert np.isnan(scales["tokens"].item()) and np.isnan(scales["flops"].item())
    assert scales["scale_source"].item() == SCALE_SOURCE


def test_order_and_repeats_of_the_input_are_kept():
    names = ["acme/x", "facebook/opt-1.3b", "acme/x", "EleutherAI__gpt-neo-125m"]
    scales = lookup_scales(names)
    assert scales["model"].tolist() == names
    assert scales["params"].tolist()[1::2] == [1.3e9, 0.125e9]
    assert lookup_scales([]).columns.tolist() == ["model", "params", "tokens", "flops", "scale_source"]


def test_a_bare_name_shared_by_two_known_models_matches_neither(monkeypatch):
    table = pd.DataFrame(
        {
            "model": ["org-a/base-1b", "org-b/base-1b", "org-c/solo-2b"],
            "family": ["A", "B", "C"],
            "source": ["x", "y", "z"],
            "aliases": ["", "", ""],
            "params": [1e9, 1.1e9, 2e9],
            "tokens": [1e12, 1e12, np.nan],
            "flops": [6e21, 6.6e21, np.nan],
        }
    )
    monkeypatch.setattr(known_models_module, "_known_models_cached", lambda: table)
    monkeypatch.setattr(known_models_module, "_match_keys", known_models_module._match_keys.__wrapped__)

    scales = lookup_scales(["base-1b", "org-b/base-1b", "solo-2b"])

    assert np.isnan(scales["params"].iloc[0])
    assert scales["params"].tolist()[1:] == [1.1e9, 2e9]


@pytest.mark.parametrize(("name", "params", "tokens"), [
    ("openai/gpt2", 0.124e9, np.nan),                      # HELM id, an alias
    ("eleutherai/pythia-1b-v0", 1e9, 3e11),                # HELM id of the first Pythia release
    ("eleutherai_pythia-2.8b-v0", 2.8e9, 3e11),            # HELM's run-folder form
    ("EleutherAI/pythia-1b", 1e9, 3e11),                   # non-deduped Pythia
    ("META-LLAMA/LLAMA-3.1-8B", 8e9, 15e12),               # any letter case
    ("Qwen__Qwen2.5-7B", 7.61e9, 18e12),                   # lm-eval directory form
    ("google/gemma-2-9b", 9.24e9, 8e12),
    ("HuggingFaceTB/SmolLM2-1.7B", 1.71e9, 11e12),
    ("allenai/OLMo-2-1124-13B", 13.7e9, 5e12),
    ("meta/llama-2-13b", 13e9, 2e12),                      # HELM's Llama 2
])
def test_ids_across_tools(name, params, tokens):
    scales = lookup_scales([name]).iloc[0]
    assert scales["params"] == pytest.approx(params)
    assert scales["tokens"] == pytest.approx(tokens, nan_ok=True)
    assert scales["scale_source"].startswith("base_llm_scale.csv (")


def test_checkpoints_take_their_tokens_from_the_step_or_the_name():
    pythia, olmo, untrained = lookup_scales(["EleutherAI/pythia-410m@step71000", "allenai/OLMo-7B-step1000-tokens4B",
                                             "EleutherAI/pythia-70m-deduped-step0"]).to_dict("records")
    assert pythia["tokens"] == 71000 * 2_097_152  # Pythia: 1,024 sequences x 2,048 tokens per step
    assert pythia["flops"] == pytest.approx(6 * 0.41e9 * 71000 * 2_097_152)
    assert "step 71000" in pythia["scale_source"]
    assert olmo["tokens"] == 4e9 and olmo["params"] == 6.89e9
    assert np.isnan(untrained["flops"]) and "untrained" in untrained["scale_source"]


def test_every_row_names_a_source_and_new_rows_are_six_n_d():
    table = known_models()
    assert table["source"].ne("").all()
    new = table[table["source"] != "ObsScaling"].dropna(subset=["tokens"])
    np.testing.assert_allclose(new["flops"], 6 * new["params"] * new["tokens"], rtol=1e-12)
