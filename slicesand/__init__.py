"""slicesand: forecast emergent abilities of LLMs with the Slice-and-Sandwich method.

>>> import slicesand
>>> sorted(set(slicesand.__all__) - {"__version__"})[:4]
['ArtifactError', 'Diagnostic', 'InputDataError', 'Run']

The public API, loaded on first use (``import slicesand`` and ``slicesand --version`` stay fast):

- :func:`run` (``slicesand.run(frame_or_path, cut=3e22, at=[1e24])``) returns a :class:`Run` with
  ``.slices``, ``.fit``, ``.predictions``, ``.threshold``, ``.warnings`` and ``.report(format=...)``;
  it takes the command line's defaults and code path, so both give the same forecast;
- the stages one at a time: :func:`slice_dump`, :func:`fit_slices`, :func:`predict`;
- the run configuration: :func:`run_config` and :class:`RunConfig`;
- :class:`Diagnostic` (a warning with a code and a category) and the exceptions.

The command line lives in :mod:`slicesand.cli`.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> the module that defines it
_EXPORTS = {
    "run": "slicesand.api",
    "Run": "slicesand.api",
    "slice_dump": "slicesand.api",
    "fit_slices": "slicesand.api",
    "predict": "slicesand.api",
    "run_config": "slicesand.config",
    "RunConfig": "slicesand.config",
    "Diagnostic": "slicesand.diagnostics",
    "SlicesandError": "slicesand.errors",
    "UsageError": "slicesand.errors",
    "InputDataError": "slicesand.errors",
    "ArtifactError": "slicesand.errors",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'slicesand' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # the next look-up is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
