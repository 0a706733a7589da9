"""Draw a run's figures in forked children while the run is still computing them.

``run`` spends about as long drawing its figures (matplotlib, pure Python: it holds the GIL) as
computing the bootstrap, and most figures do not depend on the bootstrap. So :meth:`FigureDrawing.start`
forks a child (:class:`slicesand.io.forked.Forked`) before the run has its results; the child imports
matplotlib on the other core while the parent slices and fits, then forks a second drawing process
(which shares those imports). The parent sends the figures' inputs to both as they become known:

1. :meth:`FigureDrawing.draw`: the figures some inputs already settle, drawn at once, while the
   parent goes on (``run``: the TC Brier figure and the spectrum once the fit is made, the fits with
   the point forecast, while the parent draws the bootstrap);
2. :meth:`FigureDrawing.final`, with the run's final inputs (intervals, band, a threshold the bootstrap
   may have withdrawn): the children draw the rest, and redraw an early figure whose inputs changed
   (:data:`FIGURE_READS`, :func:`stale_figures`).

Each drawing process works out the same split of the work from the messages alone (:class:`Shares`),
so neither waits for the other; at the end the first adds the second's figures to its own (or draws
them, if the second failed). The drawing processes run below the parent's priority (they have time
to spare until the parent's final inputs) and without garbage collection (matplotlib's cycles die
with them).

:meth:`FigureDrawing.files` returns every figure as PNG and SVG bytes, the same bytes as drawing them
all from the final inputs in this process (``tests/reporting/test_drawing.py``); ``None`` when the child
failed, and the caller then draws them itself. The parent never imports matplotlib, and the drawing
processes never import scipy: the parent sends the fit's curves evaluated (:data:`CURVES_READERS`).
"""

from __future__ import annotations

import os
import time

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


#: The figures that draw the fit's curves (:func:`slicesand.reporting.facts.figure_curves`).
CURVES_READERS = ("fits", "forecast")


def _with_curves(inputs: FigureInputs, keys: list[str]) -> FigureInputs:
    """The inputs to send for ``keys``: with the curves evaluated here, in the parent, which has scipy
    loaded for the fit, when one of the figures draws them, so the drawing processes never import it."""
    from slicesand.reporting.facts import with_figure_curves

    return with_figure_curves(inputs) if any(key in CURVES_READERS for key in keys) else inputs


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


DRAWING_NICENESS = 5  # os.nice increment of the drawing processes

#: What drawing a figure costs, roughly (seconds on the 60 x 14k dump, on this project's 2-core
#: benchmark machine): making it and laying it out once, then saving each format. Only the split between
#: the two drawing processes reads them, so they need only be right in proportion.
DRAW_COST = {"spectrum": 0.23, "fits": 0.25, "forecast": 0.17, "tc_accuracy": 0.08}
SAVE_COST = {"png": {"spectrum": 0.27, "fits": 0.27, "forecast": 0.30, "tc_accuracy": 0.18},
             "svg": {"spectrum": 0.16, "fits": 0.15, "forecast": 0.17, "tc_accuracy": 0.08}}


class Shares:
    """Which of two drawing processes saves which (figure, format), decided the same way in both from
    the messages alone (each carries the time the parent sent it), so neither waits for the other to
    know its part. Each process is expected to end its work at ``busy_until``.

    An early message's figures go whole to the process that would end them first (making a figure
    twice costs more than it saves while the parent still computes). The final inputs' figures are all
    that is left once the parent has finished, so there each format goes where it would end first, even
    when both processes then make the figure.

    >>> shares = Shares(workers=2)
    >>> shares.early(["tc_accuracy", "spectrum"], at=1.0), shares.early(["fits"], at=1.0)
    ([('spectrum', 0), ('tc_accuracy', 1)], [('fits', 1)])
    >>> shares.final(["spectrum", "fits", "forecast", "tc_accuracy"], stale=[], at=2.0)
    [('forecast', 'png', 0), ('forecast', 'svg', 1)]
    """

    def __init__(self, workers: int) -> None:
        self.busy_until = [0.0] * workers
        self.owner: dict[str, int] = {}  # early figure -> the process that saved both its formats

    def _take(self, cost, at: float) -> int:
        """The process that would end a job of ``cost(process)`` seconds first, given the job."""
        def end(worker: int) -> float:
            return max(self.busy_until[worker], at) + cost(worker)

        worker = min(range(len(self.busy_until)), key=lambda w: (end(w), w))
        self.busy_until[worker] = end(worker)
        return worker

    def early(self, keys: list[str], at: float) -> list[tuple[str, int]]:
        """``(figure, process)`` for each early figure, costliest first."""
        out = []
        for key in sorted(keys, key=lambda k: -_whole_cost(k)):
            self.owner[key] = worker = self._take(lambda _: _whole_cost(key), at)
            out.append((key, worker))
        return out

    def final(self, wanted: list[str], stale: list[str], at: float) -> list[tuple[str, str, int]]:
        """``(figure, format, process)`` for what the final inputs leave to draw: each figure not drawn
        early and each ``stale`` one, costliest format first."""
        made: set[tuple[str, int]] = set()
        units = [(key, fmt) for key in wanted if key not in self.owner or key in stale for fmt in FORMATS]
        out = []
        for key, fmt in sorted(units, key=lambda unit: -SAVE_COST[unit[1]].get(unit[0], 0.2)):
            worker = self._take(lambda w: SAVE_COST[fmt].get(key, 0.2)
                                + (0.0 if (key, w) in made else DRAW_COST.get(key, 0.2)), at)
            made.add((key, worker))
            out.append((key, fmt, worker))
        return out


def _whole_cost(key: str) -> float:
    return DRAW_COST.get(key, 0.2) + sum(SAVE_COST[fmt].get(key, 0.2) for fmt in FORMATS)


def _draw(receive, spare_inbox: int | None = None) -> dict[str, dict[str, bytes]]:
    """The first drawing child: matplotlib's import first (while the parent still slices), then a second
    drawing process forked from it (reading the same messages through ``spare_inbox``), then this
    process's share of each message's figures (:func:`_draw_share`); at the end it adds the second
    one's share, or draws that too if the second process failed."""
    import gc

    # matplotlib makes cycles by the thousand (figure, axes, artists) and the child ends with its figures:
    # collecting them would only cost time.
    gc.disable()
    # Below the parent: while it computes the bootstrap (the forecast figure waits for it), three
    # processes share two cores, and the figures drawn meanwhile can wait.
    try:
        os.nice(DRAWING_NICENESS)
    except OSError:  # pragma: no cover - lowering one's own priority is always allowed on Linux
        pass
    # Imported once, before the second process is forked. No scipy: the parent sends the fit's curves
    # evaluated (FigureInputs.curves), where the logistic function would import scipy.special (0.2 s).
    import slicesand.reporting.figures  # noqa: F401

    from slicesand.reporting.matplotlib_setup import remove_private_folder

    try:
        return _draw_both(receive, spare_inbox)
    finally:  # this process ends without exit handlers: a folder matplotlib was given goes now
        remove_private_folder()


def _draw_both(receive, spare_inbox: int | None) -> dict[str, dict[str, bytes]]:
    """:func:`_draw`'s work once matplotlib is imported: fork the second process, draw this one's share,
    add the second one's (or draw it, if that process failed)."""
    from contextlib import nullcontext

    from slicesand.io.forked import fork_or_none, receiver
    from slicesand.reporting.figure_names import figure_keys

    second = None  # without a second process, this one draws everything
    if spare_inbox is not None:
        second = fork_or_none(lambda: _draw_share(receiver(spare_inbox), me=1, workers=2)[1])
        os.close(spare_inbox)
    with second or nullcontext():
        inputs, saved = _draw_share(receive, me=0, workers=2 if second is not None else 1)
        saved.update((second.result() if second is not None else None) or {})
    wanted, missing = figure_keys(inputs), {}  # missing: what the second process should have saved
    for key, fmt in ((key, fmt) for key in wanted for fmt in FORMATS if (key, fmt) not in saved):
        saved[key, fmt] = _saved(missing, key, fmt, inputs)
    return {key: {fmt: saved[key, fmt] for fmt in FORMATS} for key in wanted}


def _draw_share(receive, *, me: int, workers: int) -> tuple[FigureInputs, dict[tuple[str, str], bytes]]:
    """Process ``me``'s share (:class:`Shares`) of every message, up to the final one: the final inputs,
    and ``{(figure, format): bytes}`` of what this process saved."""
    from slicesand.reporting.figure_names import figure_keys

    shares, saved = Shares(workers), {}
    while True:
        final, inputs, keys, sent = receive()
        if final:
            break
        made = {}
        for key, worker in shares.early(keys, sent):
            if worker == me:
                saved.update(((key, fmt), _saved(made, key, fmt, inputs)) for fmt in FORMATS)
    made = {}
    for key in keys:  # drawn early from inputs the final ones changed: whoever redraws them, not these bytes
        for fmt in FORMATS:
            saved.pop((key, fmt), None)
    for key, fmt, worker in shares.final(figure_keys(inputs), stale=keys, at=sent):
        if worker == me:
            saved[key, fmt] = _saved(made, key, fmt, inputs)
    return inputs, saved


def _saved(made: dict, key: str, fmt: str, inputs: FigureInputs) -> bytes:
    """Figure ``key`` in ``fmt``, drawn from ``inputs`` once per ``made`` (figure objects by key) whatever
    the number of formats saved from it."""
    from slicesand.reporting.figures import draw_figure, figure_bytes

    if key not in made:
        made[key] = draw_figure(key, inputs)
    return figure_bytes(made[key], fmt)


class FigureDrawing:
    """The report's figures, drawn in a forked child from :meth:`start` on (see the module docstring)."""

    def __init__(self, child) -> None:
        self._child = child
        self._drawn: dict[str, FigureInputs] = {}  # the inputs each early figure was drawn from

    @classmethod
    def start(cls) -> FigureDrawing | None:
        """A child ready to draw; ``None`` where no child can be forked (:func:`slicesand.io.forked.fork_or_none`):
        the figures are then drawn here."""
        from slicesand.io.forked import fork_or_none

        child = fork_or_none(_draw, inbox=2)
        return None if child is None else cls(child)

    def draw(self, inputs: FigureInputs, keys: list[str]) -> None:
        """Draw the figures ``keys`` (of :data:`FIGURE_READS`: they must not wait for the final inputs)
        from ``inputs`` now; the final inputs redraw any of them whose inputs they change."""
        from slicesand.reporting.figure_names import figure_keys

        keys = [key for key in keys if key in figure_keys(inputs) and key not in self._drawn]
        if any(key not in FIGURE_READS for key in keys):
            raise ValueError(f"FigureDrawing.draw: {keys} must be figures of FIGURE_READS")
        if keys:
            self._drawn.update(dict.fromkeys(keys, inputs))
            self._child.send((False, _with_curves(inputs, keys), keys, time.monotonic()))

    def final(self, inputs: FigureInputs) -> None:
        """The run's final inputs: the child draws the rest (and redraws what they changed)."""
        stale = [key for key, early in self._drawn.items() if key in stale_figures(early, inputs)]
        self._child.send((True, _with_curves(inputs, list(CURVES_READERS)), stale, time.monotonic()))

    def files(self) -> dict[str, dict[str, bytes]] | None:
        """``{key: {format: bytes}}`` in report order, once the child is done; ``None`` if it failed."""
        return self._child.result()

    def stop(self) -> None:
        """Stop a child whose figures are not wanted any more (a failed run)."""
        self._child.stop()
