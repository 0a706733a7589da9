"""Warnings as objects: codes and categories on every stage's warnings and in every JSON artifact."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from slicesand.diagnostics import CODES, Diagnostic, as_diagnostic, as_diagnostics, diagnostic, with_task
from slicesand.config import run_config
from slicesand.pipeline.stages import run_all

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"


def test_category_comes_from_the_code_and_unknown_codes_are_refused():
    assert diagnostic("floor-lift", "x").category == "floor"
    with pytest.raises(KeyError):
        diagnostic("no-such-code", "x")


def test_json_round_trip_and_older_sentences():
    w = Diagnostic("ragged-models", "ragged", "2 model(s) miss some questions", task="mmlu", model="b")
    assert as_diagnostic(json.loads(json.dumps(w.to_dict()))) == w
    old = as_diagnostic("a bare sentence")
    assert (old.code, old.category, str(old)) == ("unclassified", "other", "a bare sentence")
    assert as_diagnostics([w, w.to_dict(), "s", "s"]) == [w, old.__class__("unclassified", "other", "s")]
    assert [x.task for x in with_task([w, diagnostic("floor-lift", "y")], "arc")] == ["mmlu", "arc"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    config = run_config(models=str(SAMPLE / "models.csv"), cut=3e22, at=[1e26], bootstrap=50, spectrum_groups=None,
                        figures=False)
    result = run_all(SAMPLE / "eval_dump.csv", out, config)
    return out, result


def test_stage_warnings_are_catalogued_objects(demo):
    _, result = demo
    assert result.warnings, "the demo forecasts two decades out: it must warn"
    for w in result.warnings:
        assert isinstance(w, Diagnostic) and CODES[w.code] == w.category
    assert "extrapolation" in {w.category for w in result.warnings}


def test_json_artifacts_carry_code_and_category(demo):
    out, result = demo
    meta = json.loads((out / "predictions.csv.meta.json").read_text())
    assert [w["code"] for w in meta["warnings"]] == [w.code for w in result.forecast.warnings]
    assert all(set(w) == {"code", "category", "message", "task", "model"} for w in meta["warnings"])
    fit = json.loads((out / "fit.json").read_text())
    assert [as_diagnostic(w) for w in fit["warnings"]] == result.fit.warnings


def test_report_json_carries_code_and_category(demo):
    from slicesand.artifacts.documents import dumps
    from slicesand.reporting.output import load_report

    out, result = demo
    facts = json.loads(dumps(load_report(out)))
    codes = [w["code"] for w in facts["warnings"]]
    assert "beyond-training-range" in codes
    assert set(codes) <= {w.code for w in result.warnings}
