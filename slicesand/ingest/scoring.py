"""Per-question scores.

The Target-Conditioned (TC) Brier score of one answer is ``-(1 - p_correct)**2``: 0 for full confidence
in the right choice, -1 for none, so higher is better. ``p_correct`` is the probability the model gives
the right choice, renormalised over the choices.

>>> tc_brier(np.array([1.0, 0.5, 0.0])).tolist()
[0.0, -0.25, -1.0]
"""

from __future__ import annotations

import numpy as np


def tc_brier(p_correct: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Target-Conditioned Brier score, elementwise, in [-1, 0] (float64; into ``out`` if given)."""
    # In place, to make one temporary instead of four on dumps of tens of millions of rows.
    out = np.subtract(np.asarray(p_correct), 1.0, dtype=np.float64, out=out)
    np.square(out, out=out)
    # 0.0 - x rather than -x: a perfect answer scores 0.0, never "-0.0" in a file.
    return np.subtract(0.0, out, out=out)
