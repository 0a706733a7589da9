"""Draw a run's figures in a forked child while the run is still computing them.

``run`` spends about as long drawing its figures (matplotlib, pure Python: it holds the GIL) as
computing the bootstrap, and most figures do not depend on the bootstrap. So :meth:`FigureDrawing.start`
forks a child (:class:`slicesand.io.forked.Forked`) before the run has its results; the child imports
matplotlib on the other core while the parent slices and fits. The parent then sends the figures'
inputs twice:

1. :meth:`FigureDrawing.early`, with the point forecast, before the bootstrap: the child draws and
   saves every figure that reads nothing the bootstrap changes (:data:`FIGURE_READS`) while the parent
   draws the bootstrap;
2. :meth:`FigureDrawing.final`, with the run's final inputs (intervals, band, a threshold the bootstrap
   may have withdrawn): the child draws the rest, and redraws an early figure whose inputs changed.

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
        return a is b or (isinstance(a, (str, float, int, type(None))) and a == b)

    return [key for key, fields in FIGURE_READS.items() if not all(same(field) for field in fields)]


def _draw(receive) -> dict[str, dict[str, bytes]]:
    """The child: matplotlib's import first (while the parent still slices), then the early figures,
    then the rest from the final inputs."""
    from slicesand.reporting.figures import draw_figure, figure_bytes, figure_keys

    def save(key: str, inputs: FigureInputs) -> dict[str, bytes]:
        figure = draw_figure(key, inputs)
        return {fmt: figure_bytes(figure, fmt) for fmt in FORMATS}

    early = receive()
    files = {key: save(key, early) for key in figure_keys(early) if key in FIGURE_READS}
    final, stale = receive()
    keys = figure_keys(final)
    for key in keys:
        if key not in files or key in stale:
            files[key] = save(key, final)
    return {key: files[key] for key in keys}


class FigureDrawing:
    """The report's figures, drawn in a forked child from :meth:`start` on (see the module docstring)."""

    def __init__(self, child) -> None:
        self._child = child
        self._early: FigureInputs | None = None

    @classmethod
    def start(cls) -> FigureDrawing | None:
        """A child ready to draw; ``None`` where forking is not usable (:func:`slicesand.io.forked.fork_usable`)."""
        from slicesand.io.forked import Forked, fork_usable

        return cls(Forked(_draw, inbox=True)) if fork_usable() else None

    def early(self, inputs: FigureInputs) -> None:
        """The inputs before the bootstrap: the child draws the figures that do not wait for it."""
        self._early = inputs
        self._child.send(inputs)

    def final(self, inputs: FigureInputs) -> None:
        """The run's final inputs: the child draws the rest (and redraws what they changed)."""
        if self._early is None:
            raise RuntimeError("FigureDrawing.final: early() was not sent")
        self._child.send((inputs, stale_figures(self._early, inputs)))

    def files(self) -> dict[str, dict[str, bytes]] | None:
        """``{key: {format: bytes}}`` in report order, once the child is done; ``None`` if it failed."""
        return self._child.result()

    def stop(self) -> None:
        """Stop a child whose figures are not wanted any more (a failed run)."""
        self._child.stop()
