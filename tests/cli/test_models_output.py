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
