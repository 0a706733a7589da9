"""What the report's figures are called and where they (and the backtest's tables) are written, without
matplotlib: a run whose figures are drawn in a child process (:mod:`slicesand.reporting.drawing`), and
a report read back from its folder, name and write them without importing the drawing code.

>>> figure_file_name("tc_accuracy", "svg"), figure_file_name("backtest_error")
('report-tc-accuracy.svg', 'backtest-error.png')
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from slicesand.fitting.model import group_columns_in
from slicesand.reporting.facts import FigureInputs

if TYPE_CHECKING:
    import pandas as pd

FIGURE_TITLES = {
    "spectrum": "Difficulty spectrum",
    "fits": "Easy and hard groups: fitted curves",
    "forecast": "Forecast of accuracy",
    "tc_accuracy": "TC Brier score vs accuracy",
}
BACKTEST_TITLES = {
    "backtest_error": "Backtest: forecast error against extrapolation distance",
    "backtest_calibration": "Backtest: interval calibration by horizon",
    "backtest_cuts": "Backtest: forecast against observed, one panel per cut",
}
TABLE_FILE, MODELS_FILE = "backtest.csv", "backtest-models.csv"  # what `backtest --plot` leaves beside its figures


def figure_file_name(key: str, fmt: str = "png", stem: str | None = None) -> str:
    """File name of a figure: beside a Markdown report, named after the report's file (``stem``), so
    two reports in one folder keep their own figures; without ``stem``, a run's (``report-forecast.png``)
    and the backtest pictures as ``backtest --plot`` writes them (``backtest-error.png``).

    >>> figure_file_name("forecast", stem="x"), figure_file_name("backtest_error", "svg", stem="x")
    ('x-forecast.png', 'x-backtest-error.svg')
    """
    name = key.replace("_", "-")
    if stem is not None:
        return f"{stem}-{name}.{fmt}"
    if key.startswith("backtest_"):  # the files `backtest --plot` writes
        return f"{name}.{fmt}"
    return f"report-{name}.{fmt}"


def figure_keys(inputs: FigureInputs) -> list[str]:
    """The figures the inputs allow, in report order (accuracy figures need accuracy)."""
    spectrum = inputs.spectrum is not None and len(group_columns_in(inputs.spectrum)) >= 2
    return (["spectrum"] if spectrum else []) + ["fits"] + (["forecast", "tc_accuracy"] if inputs.fit.has_accuracy else [])


def write_figures(images: dict[str, bytes], folder: str | Path, fmt: str = "png",
                  stem: str | None = None) -> dict[str, str]:
    """Write each image atomically into ``folder`` (named as :func:`figure_file_name` says); ``{key: file name}``."""
    from slicesand.io.atomic import write_bytes_atomic

    names = {}
    for key, data in images.items():
        names[key] = figure_file_name(key, fmt, stem)
        write_bytes_atomic(Path(folder) / names[key], data)
    return names


def read_backtest(folder: str | Path) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """The backtest tables ``backtest --plot`` left in ``folder`` (table, models), or ``None``."""
    from slicesand.io.tables import read_table

    folder = Path(folder)
    if not ((folder / TABLE_FILE).exists() and (folder / MODELS_FILE).exists()):
        return None
    table = read_table(folder / TABLE_FILE, what="backtest table")[0].to_pandas()
    models = read_table(folder / MODELS_FILE, what="backtest models")[0].to_pandas()
    return table, models
