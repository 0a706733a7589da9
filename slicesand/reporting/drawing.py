"""Draw a run's figures in a forked child while the run is still computing them.

``run`` spends about as long drawing its figures (matplotlib, pure Python: it holds the GIL) as
computing the bootstrap, and most figures do not depend on the bootstrap. So :meth:`FigureDrawing.start`
forks a child (:class:`slicesand.io.forked.Forked`) before the run has its results; the child imports
matplotlib on the other core while the parent slices and fits. The parent then sends the figures'
inputs as they become known:

1. :meth:`FigureDrawing.draw`: the figures some inputs already settle, drawn at once, while the
   parent goes on (``run``: the TC Brier figure once the fit is made, the spectrum and the fits with
   the point forecast, while the parent draws the bootstrap);
2. :meth:`FigureDrawing.final`, with the run's final inputs (intervals, band, a threshold the bootstrap
   may have withdrawn): the child draws the rest, and redraws an early figure whose inputs changed
   (:data:`FIGURE_READS`, :func:`stale_figures`).

:meth:`FigureDrawing.files` returns every figure as PNG and SVG bytes, the same bytes as drawing them
all from the final inputs in this process (``tests/reporting/test_drawing.py``); ``None`` when the child
failed, and the caller then draws them itself. The parent never imports matplotlib.
"""

from __future__ import annotations

import numpy as np

from slicesand.reporting.facts import FigureInputs

FORMATS = ("png", "svg")

#: The fields of :class:`FigureInputs` each figure reads ("predictions.flops": only that column). A figure
#: not listed (the forecast figure, with its interval band) waits for the final inputs.
FIGURE_READS = {
    "spectrum": ("spectrum", "fit", "task"),
    "fits": ("fit", "slices", "predictions.flops", "threshold_flops", "task"),
    "tc_accuracy": ("fit", "slices", "task"),
}


def stale_figures(early: FigureInputs, final: FigureInputs) -> list[str]:
    """The figures drawn from ``early`` that ``final`` changes: a field they read that is another
    object (the fit, the tables) or another value.

    >>> import pandas as pd
    >>> frame = pd.DataFrame({"flops": [1e20, 1e22]})
    >>> early = FigureInputs(fit=None, slices=frame, predictions=frame, threshold_flops=1e23)
    >>> stale_figures(early, early), stale_figures(early, FigureInputs(None, frame, frame, None))
    ([], ['fits'])
    """
    def same(field: str) -> bool:
        if field == "predictions.flops":
            return np.array_equal(early.predictions["flops"].to_numpy(dtype=float),
                                  final.predictions["flops"].to_numpy(dtype=float), equal_nan=True)
        a, b = getattr(early, field), getattr(final, field)
        scalars = (str, float, int, type(None))
        return a is b or (isinstance(a, scalars) and isinstance(b, scalars) and a == b)

    return [key for key, fields in FIGURE_READS.items() if not all(same(field) for field in fields)]


def _draw(receive) -> dict[str, dict[str, bytes]]:
    """The child: matplotlib's import first (while the parent still slices), then each message's
    figures, then the rest from the final inputs."""
    from slicesand.reporting.figures import draw_figure, figure_bytes, figure_keys

    def save(key: str, inputs: FigureInputs) -> dict[str, bytes]:
        figure = draw_figure(key, inputs)
        return {fmt: figure_bytes(figure, fmt) for fmt in FORMATS}

    files = {}
    while True:
        final, inputs, keys = receive()
        if not final:
            files.update((key, save(key, inputs)) for key in keys)
            continue
        wanted = figure_keys(inputs)
        for key in wanted:
            if key not in files or key in keys:  # keys: the early figures the final inputs changed
                files[key] = save(key, inputs)
        return {key: files[key] for key in wanted}


class FigureDrawing:
    """The report's figures, drawn in a forked child from :meth:`start` on (see the module docstring)."""

    def __init__(self, child) -> None:
        self._child = child
        self._drawn: dict[str, FigureInputs] = {}  # the inputs each early figure was drawn from

    @classmethod
    def start(cls) -> FigureDrawing | None:
        """A child ready to draw; ``None`` where forking is not usable (:func:`slicesand.io.forked.fork_usable`)."""
        from slicesand.io.forked import Forked, fork_usable

        return cls(Forked(_draw, inbox=True)) if fork_usable() else None

    def draw(self, inputs: FigureInputs, keys: list[str]) -> None:
        """Draw the figures ``keys`` (of :data:`FIGURE_READS`: they must not wait for the final inputs)
        from ``inputs`` now; the final inputs redraw any of them whose inputs they change."""
        from slicesand.reporting.figure_names import figure_keys

        keys = [key for key in keys if key in figure_keys(inputs) and key not in self._drawn]
        if any(key not in FIGURE_READS for key in keys):
            raise ValueError(f"FigureDrawing.draw: {keys} must be figures of FIGURE_READS")
        if keys:
            self._drawn.update(dict.fromkeys(keys, inputs))
            self._child.send((False, inputs, keys))

    def final(self, inputs: FigureInputs) -> None:
        """The run's final inputs: the child draws the rest (and redraws what they changed)."""
        stale = [key for key, early in self._drawn.items() if key in stale_figures(early, inputs)]
        self._child.send((True, inputs, stale))

    def files(self) -> dict[str, dict[str, bytes]] | None:
        """``{key: {format: bytes}}`` in report order, once the child is done; ``None`` if it failed."""
        return self._child.result()

    def stop(self) -> None:
        """Stop a child whose figures are not wanted any more (a failed run)."""
        self._child.stop()
