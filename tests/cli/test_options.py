"""The shared CLI options, from_cli, and the flag names of core errors."""

from __future__ import annotations

import inspect
import subprocess
import sys

import pytest

from slicesand.cli.options import (
    COLUMNS, FIT, FLAGS, FORECAST, IMPORT, INPUT, SLICING, UNCERTAINTY, VARIANT_NAMES, cli_message, flops_list,
    from_cli,
)
from slicesand.config import run_config
from slicesand.errors import UsageError
from slicesand.fitting.model import VARIANTS


def test_variant_names_match_the_fit():
    assert VARIANT_NAMES == VARIANTS


def test_cli_defaults_are_the_run_configurations():
    defaults = inspect.signature(run_config).parameters
    for group in (INPUT, SLICING, FIT, FORECAST, UNCERTAINTY):
        for parameter in group:
            if parameter.name in defaults:
                expected = defaults[parameter.name].default
                assert parameter.default == (None if expected == () else expected), parameter.name
    assert from_cli({}) == run_config()
    assert from_cli({p.name: p.default for group in (INPUT, SLICING, FIT, FORECAST, UNCERTAINTY, COLUMNS, IMPORT)
                     for p in group}) == run_config()


def test_from_cli_maps_the_parsed_options():
    config = from_cli({"model_column": "m", "models": "scales.csv", "metric": "acc_norm", "cut": 3e22,
                       "at": ["1e24,3e24"], "no_known_scales": True, "no_figures": True, "bootstrap": 7},
                      ["slicesand", "run", "d.csv"])
    assert config.dump.columns.model == "m" and config.dump.columns.question == "question"
    assert config.dump.models_path == "scales.csv" and config.dump.import_options.metric == "acc_norm"
    assert not config.dump.import_options.known_scales and not config.report.figures
    assert config.slicing.cut == config.fit.cut == 3e22 and config.predict.at == (1e24, 3e24)
    assert config.uncertainty.draws == 7 and config.report.command == ("slicesand", "run", "d.csv")
    assert config.fit.auto  # no degree, variant or --paper: the automatic default, as in the library


def test_core_errors_name_parameters_and_the_cli_shows_flags():
    with pytest.raises(UsageError) as caught:
        run_config(paper=True, easy_degree=3)
    assert "`easy_degree` 3" in str(caught.value)
    assert cli_message(str(caught.value)) == ("--paper fixes the paper's settings; it conflicts with "
                                              "--easy-degree 3")
    assert FLAGS["source_kind"] == "--from" and FLAGS["no_known_scales"] == "--no-known-scales"
    assert cli_message("`run` forecasts every task") == "`run` forecasts every task"  # not a parameter


def test_flops_list_refuses_words():
    assert flops_list(None) == []
    with pytest.raises(UsageError, match="--at takes numbers"):
        flops_list(["1e24,lots"])


def test_help_is_grouped_short_and_takes_h():
    env = {"COLUMNS": "80", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-m", "slicesand", "run", "-h"], capture_output=True, text=True,
                         env=env, check=True).stdout
    assert len(out.splitlines()) < 100  # 187 lines before the panels
    for panel in ("Input", "Cut and groups", "Fit", "Forecast and intervals", "Dump columns", "Output"):
        assert f"\n{panel}:\n" in out
    assert max(len(line) for line in out.splitlines()) <= 80
    assert "<list[str]>" not in out and "[x>=0]" not in out and "<int range>" not in out
    paper = subprocess.run([sys.executable, "-m", "slicesand", "run", "x.csv", "--paper", "--easy-degree", "3"],
                           capture_output=True, text=True, env=env)
    assert paper.returncode == 2
    assert "error: --paper fixes the paper's settings; it conflicts with --easy-degree 3" in paper.stderr


def test_help_sections_hold_every_option_once():
    """Grouping into sections drops no option and shows none twice."""
    import typer.main

    from slicesand.cli import app
    from slicesand.cli.help import help_text

    group = typer.main.get_command(app)
    for name, command in group.commands.items():
        text = help_text(group, [name])
        for param in command.params:
            if param.param_type_name == "option" and not param.hidden:
                long_name = max(param.opts, key=len)
                assert sum(line.split()[0:2].count(long_name) + line.split()[0:2].count(long_name + ",")
                           for line in text.splitlines() if line.strip()) == 1, (name, long_name)


def test_top_level_help_is_plain_and_does_not_load_rich():
    """`slicesand --help` draws with click's formatter: no rich (0.15 s of imports), no box drawing, and
    every command with its whole summary."""
    code = ("import sys\nsys.argv = ['slicesand', '--help']\nfrom slicesand.__main__ import main\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "sys.stderr.write(str(sorted(m for m in sys.modules if m.split('.')[0] in ('rich', 'pandas', 'numpy'))))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env={"COLUMNS": "80", "PATH": "/usr/bin:/bin"})
    assert done.stderr == "[]"
    assert "╭" not in done.stdout and "\x1b" not in done.stdout
    for command in ("slice", "fit", "predict", "report", "run", "backtest", "import", "models"):
        assert f"\n  {command} " in done.stdout
    commands = done.stdout.split("\nCommands:\n")[1]
    assert "..." not in commands  # click would cut the summaries at 45 characters


@pytest.mark.parametrize("core, shown", [
    ("`source_kind`: unknown source kind", "--from: unknown source kind"),
    ("pass `matrix_orientation` rows or columns", "pass --orientation rows or columns"),
    ("choose another `outdir`, or pass `force` to replace it", "choose another -o, or pass --force to replace it"),
    ("give `cuts`", "give --cuts"),
    ("`not_a_parameter` stays", "`not_a_parameter` stays"),
])
def test_core_parameter_names_become_flags(core, shown):
    from slicesand.cli.options import cli_message

    assert cli_message(core) == shown
