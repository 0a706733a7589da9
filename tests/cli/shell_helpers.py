"""Run ``slicesand`` as a real process (pipes, signals and terminals are the shell's, not CliRunner's)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COMMAND = [sys.executable, "-m", "slicesand"]


def environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("SLICESAND_DEBUG", "COLUMNS", "LINES")}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


def slicesand(*args: str | Path, input: bytes | None = None, timeout: float = 120, **env: str
              ) -> subprocess.CompletedProcess:
    """Run ``python -m slicesand ARGS`` with captured stdout and stderr (as text)."""
    return subprocess.run([*COMMAND, *map(str, args)], input=input, capture_output=True, timeout=timeout,
                          env=environment(**env), cwd=ROOT)


def popen(*args: str | Path, **kwargs) -> subprocess.Popen:
    kwargs.setdefault("env", environment())
    return subprocess.Popen([*COMMAND, *map(str, args)], cwd=ROOT, **kwargs)


def small_dump(path: Path, names: list[str] | None = None, *, tasks: list[str] | None = None) -> Path:
    """A small long dump: 12 models x 30 questions (per task), scales in a flops column."""
    names = names or [f"m{i:02d}" for i in range(12)]
    lines = ["model,question,task,correct,p_correct,flops"]
    for task in tasks or ["t"]:
        for i, name in enumerate(names):
            for j in range(30):
                c = int((7 * j + i * i) % 12 < i)
                lines.append(f"{_csv(name)},q{j:02d},{_csv(task)},{c},{0.2 + 0.5 * c + 0.005 * j:.4f},"
                             f"{10 ** (20 + i / 3):.6g}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _csv(text: str) -> str:
    return '"' + text.replace('"', '""') + '"' if any(ch in text for ch in ',"\n') else text


RUN_OPTIONS = ["--cut", "1e22", "--easy-degree", "3", "--bootstrap", "0", "--no-figures", "--spectrum-groups", "0"]
