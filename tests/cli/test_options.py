"""The shared CLI options and their builders."""

from __future__ import annotations

import pytest

from slicesand.cli.options import VARIANT_NAMES, dump_options, fit_options, flops_list
from slicesand.errors import UsageError
from slicesand.fitting.model import PAPER_OPTIONS, VARIANTS


def test_variant_names_match_the_fit():
    assert VARIANT_NAMES == VARIANTS


def test_fit_options_are_automatic_unless_fixed():
    assert fit_options(None, 0.25, None, None, None, False).auto
    fixed = fit_options(3e22, 0.25, 3, None, None, False)
    assert not fixed.auto and fixed.easy_degree == 3 and fixed.cut == 3e22
    paper = fit_options(None, 0.25, None, None, None, True)
    assert (paper.easy_degree, paper.hard_degree, paper.variant) == (5, 2, "sandwich") == \
        tuple(PAPER_OPTIONS[k] for k in ("easy_degree", "hard_degree", "variant"))
    with pytest.raises(UsageError, match="conflicts with --easy-degree 3"):
        fit_options(None, 0.25, 3, None, None, True)


def test_dump_options_from_parsed_parameters():
    options = dump_options({"model_column": "m", "models": "scales.csv", "metric": "acc_norm"})
    assert options.columns.model == "m" and options.columns.question == "question"
    assert options.models_path == "scales.csv" and options.import_options.metric == "acc_norm"


def test_flops_list_refuses_words():
    assert flops_list(None) == []
    with pytest.raises(UsageError, match="--at takes numbers"):
        flops_list(["1e24,lots"])
