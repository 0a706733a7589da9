"""Model scales: the models table read without pandas, and the bundled table consulted only for the
models no other source gives a scale."""

from __future__ import annotations

import numpy as np
import pytest

import slicesand.ingest.scales as scales
from slicesand.errors import InputDataError
from slicesand.ingest.scales import read_models_table, resolve_scales

NAMES = np.array(["EleutherAI/pythia-70m", "mine", "EleutherAI/pythia-160m"], dtype=object)


def test_models_table_flops_params_and_tokens(tmp_path):
    path = tmp_path / "models.csv"
    path.write_text("model,flops,params,tokens\na,1e21,,\nb,,1e9,2e10\nc,,,\n")
    table = read_models_table(path)
    assert table.model.tolist() == ["a", "b", "c"]
    assert table.flops[:2].tolist() == [1e21, 6.0 * 1e9 * 2e10] and np.isnan(table.flops[2])
    assert table.source == str(path)


@pytest.mark.parametrize("text, message", [
    ("model,flops\na,1e21\nb,lots\n", "column 'flops', row 2: not a number; found 'lots'"),
    ("model,flops\na,1e21\nb,-5\n", "column 'flops', row 2: flops must be positive and finite; found -5.0"),
    ("model,params,tokens\na,1,2\na,3,4\n", "column 'model', row 2: model listed twice; found 'a'"),
    ("model,size\na,1\n", "needs a 'flops' column, or 'params' and 'tokens'; found 'model, size'"),
    # 6 x params x tokens overflowed with a numpy warning, and the model was left out without a scale
    ("model,params,tokens\na,1e9,2e10\nb,1e200,1e200\n",
     "column 'params', row 2: 6 x params x tokens is past the largest number (over 1.8e308 FLOPs); found 1e+200"),
])
def test_bad_models_table_names_the_row(tmp_path, text, message):
    import warnings

    path = tmp_path / "models.csv"
    path.write_text(text)
    with pytest.raises(InputDataError) as caught, warnings.catch_warnings():
        warnings.simplefilter("error")  # a numpy RuntimeWarning is no error message
        read_models_table(path)
    assert str(caught.value).startswith(f"{path}: {message}")


def test_models_table_naming_an_unknown_model_is_refused(tmp_path):
    path = tmp_path / "models.csv"
    path.write_text("model,flops\nmine,1e20\ntypo,1e21\n")
    with pytest.raises(InputDataError, match="1 model not in the dump: 'typo'"):
        resolve_scales(NAMES, models_table=read_models_table(path))
    resolution = resolve_scales(NAMES, models_table=read_models_table(path), ignore_unknown=True)
    assert resolution.flops[1] == 1e20


def test_the_bundled_table_is_asked_only_about_models_without_a_scale(monkeypatch, tmp_path):
    asked = []
    lookup = scales.lookup_scales
    monkeypatch.setattr(scales, "lookup_scales", lambda names: asked.append(list(names)) or lookup(names))
    path = tmp_path / "models.csv"
    path.write_text("model,flops\nmine,1e20\n")

    partial = resolve_scales(NAMES, models_table=read_models_table(path))
    assert asked == [["EleutherAI/pythia-70m", "EleutherAI/pythia-160m"]]
    everything = lookup(list(NAMES))["flops"].to_numpy()
    assert partial.flops.tolist() == [everything[0], 1e20, everything[2]]
    assert partial.kind.tolist() == [scales.KNOWN_ORIGIN, str(path), scales.KNOWN_ORIGIN]
    assert partial.notes == [f"model scale: 2 model(s) from {scales.KNOWN_ORIGIN} (EleutherAI/pythia-70m, "
                             "EleutherAI/pythia-160m; `slicesand models --for DUMP` lists each source; pass "
                             f"`models` to override); 1 model(s) from {path}"]

    asked.clear()
    path.write_text("model,flops\nmine,1e20\nEleutherAI/pythia-70m,2e20\nEleutherAI/pythia-160m,3e20\n")
    covered = resolve_scales(NAMES, models_table=read_models_table(path))
    assert asked == []  # --models gives every model: no name matching at all
    assert covered.flops.tolist() == [2e20, 1e20, 3e20] and covered.notes == []
