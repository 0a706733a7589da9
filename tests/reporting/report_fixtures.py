"""A small fixed synthetic dump and a ``run`` over it, shared by the report tests.

The dump is drawn from a seeded PCG64 stream and written with fixed formatting, so its bytes (and the
sha256 the report shows) are the same on every platform. Easy questions dip and recover with scale;
hard ones improve late, so the easy curve has a turning point and a threshold is predicted.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from slicesand.cli import app

N_MODELS, N_QUESTIONS = 18, 60
RUN_ARGS = ["--cut", "1e22", "--easy-degree", "3", "--hard-degree", "2", "--at", "1e24"]


def write_synthetic_dump(path: Path, *, rename: dict[str, str] | None = None) -> Path:
    """Write the dump: 18 models from 1e19 to 1e23.5 FLOPs, 60 four-choice questions."""
    rng = np.random.default_rng(20250101)
    x = np.linspace(19.0, 23.5, N_MODELS)
    hardness = np.linspace(0.0, 1.0, N_QUESTIONS)
    # Easy questions: a dip in the middle (inverse scaling) before a late rise; hard: slow steady gain.
    dip = np.exp(-((x[:, None] - 21.0) ** 2)) * (1.0 - hardness[None, :])
    logit = -0.5 + 1.5 * (1.0 - hardness[None, :]) - 1.2 * dip + 0.9 * (x[:, None] - 21.0) * (x[:, None] > 21.5)
    p = 1.0 / (1.0 + np.exp(-(logit + rng.normal(0.0, 0.3, logit.shape))))
    p = 0.25 + 0.75 * p  # never below chance
    correct = (rng.random(p.shape) < p).astype(int)
    names = np.array([f"model-{i:02d}" for i in range(N_MODELS)], dtype=object)
    if rename:
        names = np.array([rename.get(n, n) for n in names], dtype=object)
    model = np.repeat(names, N_QUESTIONS)
    question = np.tile([f"q{j:03d}" for j in range(N_QUESTIONS)], N_MODELS)
    flops = np.repeat([f"{10 ** v:.6e}" for v in x], N_QUESTIONS)
    lines = ["model,question,correct,p_correct,flops"] + [
        ",".join(row) for row in zip(model, question, correct.ravel().astype(str),
                                      np.char.mod("%.4f", p.ravel()), flops)]
    path.write_text("\n".join(lines) + "\n")
    return path


def run_synthetic(folder: Path, monkeypatch, *, rename: dict[str, str] | None = None,
                  extra: list[str] | None = None) -> Path:
    """``slicesand run dump.csv -o out`` inside ``folder`` (relative paths, so reports are portable)."""
    monkeypatch.chdir(folder)
    write_synthetic_dump(folder / "dump.csv", rename=rename)
    result = CliRunner().invoke(app, ["run", "dump.csv", "-o", "out", "-q", *RUN_ARGS, *(extra or [])])
    assert result.exit_code == 0, result.output
    return folder / "out"
