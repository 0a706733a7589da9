"""``slicesand models``: its JSON is written like every other JSON output, and ``--for DUMP`` describes
the dump, not the bundled table."""

from __future__ import annotations

import json

from tests.cli.shell_helpers import slicesand, small_dump


def test_models_json_does_not_escape_slashes():
    result = slicesand("models", "-f", "json", "-q")
    assert result.returncode == 0
    text = result.stdout.decode("utf-8")
    assert "\\/" not in text and '"model": "meta-llama/Llama-2-7b-hf"' in text
    records = json.loads(text)
    assert len(records) > 100 and records[0]["model"] == "meta-llama/Llama-2-7b-hf"


def test_models_for_a_dump_counts_the_dumps_models(tmp_path):
    dump = small_dump(tmp_path / "d.csv")  # 12 models, each with its flops
    result = slicesand("models", "--for", dump, "-f", "json")
    assert result.returncode == 0
    assert len(json.loads(result.stdout)) == 12
    assert result.stderr.decode() == f"{dump} has 12 models, each with a scale\n"
    unscaled = tmp_path / "u.csv"
    unscaled.write_text("model,question,correct\nmine-a,q1,1\nmine-b,q1,0\nEleutherAI/pythia-1b,q1,1\n")
    result = slicesand("models", "--for", unscaled, "-f", "csv")
    assert result.stderr.decode() == (f"{unscaled} has 3 models: 1 with a scale, 2 without one "
                                      "(give them one with `--models FILE`)\n")
    assert slicesand("models", "--for", unscaled, "-q").stderr == b""


def test_models_for_a_dump_resolves_scales_with_the_runs_input_options(tmp_path):
    dump = tmp_path / "d.csv"
    dump.write_text("model,question,task,correct\nEleutherAI/pythia-1b,q1,a,1\nmine,q1,b,0\n")
    models = tmp_path / "m.csv"
    models.write_text("model,flops\nmine,1e22\n")

    def listing(*args):
        result = slicesand("models", "--for", dump, "-f", "json", "-q", *args)
        assert result.returncode == 0, result.stderr
        return {row["model"]: (row["flops"], row["scale_source"][:20]) for row in json.loads(result.stdout)}

    assert listing() == {"EleutherAI/pythia-1b": (1.8e21, "base_llm_scale.csv ("), "mine": (None, "none")}
    assert listing("--models", models)["mine"] == (1e22, str(models)[:20])
    assert listing("--no-known-scales") == {"EleutherAI/pythia-1b": (None, "none"), "mine": (None, "none")}
    assert listing("--task", "b") == {"mine": (None, "none")}


def test_dump_options_without_a_dump_are_refused():
    for flag in (["--task", "b"], ["--no-known-scales"], ["--model-column", "x"], ["--layout", "long"]):  # even a default
        result = slicesand("models", *flag)
        assert result.returncode == 2 and result.stdout == b""
        assert result.stderr.decode().startswith(f"error: {flag[0]} describes a dump, and only applies with --for")


def test_models_for_stdin_names_it_stdin(tmp_path):
    dump = small_dump(tmp_path / "d.csv")
    result = slicesand("models", "--for", "-", "-f", "csv", input=dump.read_bytes())
    assert result.returncode == 0 and result.stderr.decode() == "<stdin> has 12 models, each with a scale\n"
