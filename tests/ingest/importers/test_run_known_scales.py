"""End to end: `run` on an lm-eval tree of 15 real models whose scales all come from the bundled table.

The tree is written by the importer tests' harness-shaped writer (conftest.LmevalWriter) with real
Hugging Face ids; no --models is passed, so every FLOPs number must come from base_llm_scale.csv.
"""

from __future__ import annotations

import csv
import io
import subprocess
import sys

import numpy as np

from slicesand.ingest.known_models import lookup_scales

MODELS = [
    "EleutherAI/pythia-70m", "EleutherAI/pythia-160m", "EleutherAI/pythia-410m", "EleutherAI/pythia-1b",
    "EleutherAI/pythia-1.4b", "EleutherAI/pythia-2.8b", "EleutherAI/pythia-6.9b", "EleutherAI/pythia-12b",
    "HuggingFaceTB/SmolLM2-135M", "HuggingFaceTB/SmolLM2-360M", "Qwen/Qwen2.5-0.5B", "Qwen/Qwen2.5-1.5B",
    "google/gemma-2-2b", "meta-llama/Llama-3.2-3B", "meta-llama/Llama-3.1-8B",
]
TIMESTAMP = "2024-05-01T10-00-00.000000"


def write_tree(root, writer, n_questions: int = 40) -> np.ndarray:
    """Four-choice questions; a model's margin on the gold choice grows with log FLOPs and shrinks
    with the question's difficulty, so harder questions are solved later, as in the paper."""
    flops = lookup_scales(MODELS)["flops"].to_numpy()
    skill = (np.log10(flops) - np.log10(flops).min()) / np.ptp(np.log10(flops))
    difficulty = np.linspace(0.0, 1.0, n_questions)
    rng = np.random.default_rng(7)
    for model, level in zip(MODELS, skill):
        records = []
        for doc_id, hardness in enumerate(difficulty):
            log_likelihoods = rng.normal(-2.0, 0.3, 4)
            log_likelihoods[doc_id % 4] += 3.0 * (level - hardness)
            records.append(writer.mc_record(doc_id, log_likelihoods.round(4).tolist(), doc_id % 4))
        writer.write_run(root, model, TIMESTAMP, {"arc_easy": records})
    return flops


def test_run_on_fifteen_real_models_takes_every_scale_from_the_bundled_table(tmp_path, lmeval_writer):
    flops = write_tree(tmp_path / "lm", lmeval_writer)
    assert np.isfinite(flops).all()
    cut = float(np.sort(flops)[9])  # ten reference models below the cut
    result = subprocess.run(
        [sys.executable, "-m", "slicesand", "run", str(tmp_path / "lm"), "-o", str(tmp_path / "out"),
         "--cut", repr(cut), "--bootstrap", "0", "--no-figures", "--spectrum-groups", "0"],
        capture_output=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    report = (tmp_path / "out" / "report.md").read_text()
    assert "15 model(s) from the bundled table of public models" in report
    assert "without a scale" not in report + result.stderr.decode()
    slices = list(csv.DictReader((tmp_path / "out" / "slices.csv").open()))
    by_model = {row["model"]: float(row["flops"]) for row in slices}
    assert sorted(by_model) == sorted(MODELS)
    np.testing.assert_allclose([by_model[m] for m in MODELS], flops, rtol=1e-12)

    listing = subprocess.run([sys.executable, "-m", "slicesand", "models", "--for", str(tmp_path / "lm"), "-f", "csv"],
                             capture_output=True, timeout=120)
    assert listing.returncode == 0, listing.stderr.decode()
    rows = list(csv.DictReader(io.StringIO(listing.stdout.decode())))
    assert len(rows) == 15
    assert all(row["scale_source"].startswith("base_llm_scale.csv (") for row in rows)
    sources = {row["model"]: row["scale_source"] for row in rows}
    assert "arXiv:2304.01373" in sources["EleutherAI/pythia-1b"]
    assert "huggingface.co/meta-llama/Llama-3.1-8B" in sources["meta-llama/Llama-3.1-8B"]
