"""Backtest on the paper's own tables: `make backtest-paper`.

Per task (tests/data/paper/<task>_g3_t<T>.csv at the paper's T and the extra thresholds): test MSE of
``--paper``, of the automatic default, of the baselines, the ratio default / sigmoid, the coverage
and mean width of the default's 90% prediction interval (bootstrap widened by conformal calibration,
slicesand.uncertainty.calibration; 1000 draws, seed 0) over the test models, the coverage and width of the bare
bootstrap percentile interval (fit noise only) for comparison, the error of the predicted emergence
threshold in decades (predicted - observed; see slicesand.evaluation.backtest) and the time of the prediction
interval (1000 draws plus calibration). The default is one fixed rule for every task (slicesand.fitting.selection). Prints
Markdown.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from slicesand.evaluation.backtest import backtest
from slicesand.fitting.selection import fit_default
from slicesand.fitting.model import PAPER_OPTIONS, FitOptions, fit_slices
from slicesand.forecast.predict import predict
from slicesand.uncertainty.bootstrap import bootstrap
from slicesand.uncertainty.intervals import add_intervals

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "paper"
RUNS = [("mmlu", 1.5, 0.25), ("parsinlu_qa_mc", 2.3, 0.25), ("arithmetic", 1.8, 0.145),
        ("hindu_knowledge", 1.0, 0.25), ("analogical_similarity", 2.0, 0.145),
        ("conceptual_combinations", 1.5, 0.25),
        ("mmlu", 1.3, 0.25), ("mmlu", 1.1, 0.25), ("parsinlu_qa_mc", 2.1, 0.25), ("parsinlu_qa_mc", 1.9, 0.25),
        ("arithmetic", 1.6, 0.145), ("arithmetic", 1.4, 0.145)]


def row(task: str, t: float, chance: float) -> dict:
    frame = pd.read_csv(DATA / f"{task}_g3_t{t:g}.csv")
    cut = 10 ** t * 1e21
    paper = predict(fit_slices(frame, FitOptions(cut=cut, chance=chance, **PAPER_OPTIONS)), frame).mse
    # The automatic default with its 90% interval coverage and threshold error (slicesand.evaluation.backtest).
    scored = backtest(frame, [cut], chance=chance, draws=1000, seed=0).table.iloc[0]
    fit = fit_default(frame, FitOptions(cut=cut, chance=chance))
    start = time.perf_counter()
    add_intervals(predict(fit, frame), fit, frame, draws=1000, seed=0)
    seconds = time.perf_counter() - start
    # The bare bootstrap interval, for the before/after comparison of coverage.
    x, observed = np.log10(frame["flops"].to_numpy(dtype=float)), frame["accuracy"].to_numpy(dtype=float)
    test = x >= np.log10(cut)
    band = bootstrap(fit, frame, x[test], draws=1000, seed=0)
    inside = (observed[test] >= band.accuracy_lo) & (observed[test] <= band.accuracy_hi)
    return {"task": task, "T": t, "paper": paper["forecast"], "default": scored["mse_forecast"],
            "sigmoid": scored["mse_sigmoid"], "linear": scored["mse_linear"], "flat": scored["mse_flat"],
            "ratio": scored["mse_forecast"] / scored["mse_sigmoid"], "coverage": scored["coverage_90"],
            "width": scored["width_90"], "boot_coverage": float(inside.mean()),
            "boot_width": float(np.mean(band.accuracy_hi - band.accuracy_lo)),
            "threshold_error": scored["threshold_error_decades"], "seconds": seconds}


def main() -> None:
    table = pd.DataFrame([row(*run) for run in RUNS])
    main_rows, extra = table.iloc[:6], table.iloc[6:]
    print("| task | T | MSE --paper | MSE default | MSE sigmoid | MSE linear | MSE flat | default/sigmoid "
          "| 90% PI coverage | 90% PI width | bootstrap-only coverage | bootstrap-only width "
          "| threshold error (decades) | interval (s) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in table.itertuples():
        print(f"| {r.task} | {r.T:g} | {r.paper:.4g} | {r.default:.4g} | {r.sigmoid:.4g} | {r.linear:.4g} "
              f"| {r.flat:.4g} | {r.ratio:.3f} | {r.coverage:.2f} | {r.width:.2f} | {r.boot_coverage:.2f} "
              f"| {r.boot_width:.2f} | {'none' if np.isnan(r.threshold_error) else f'{r.threshold_error:+.2f}'} | {r.seconds:.3f} |")
    print()
    print(f"Paper T, geometric mean of default/sigmoid: {np.exp(np.log(main_rows['ratio']).mean()):.3f} "
          f"(target <= 0.5); worst {main_rows['ratio'].max():.3f} (target <= 1.5); "
          f"beats --paper on {(main_rows['default'] < main_rows['paper']).sum()}/6 tasks.")
    print(f"90% prediction interval: mean coverage {table['coverage'].mean():.2f} (min {table['coverage'].min():.2f}), "
          f"mean width {table['width'].mean():.2f} over the 12 cuts (bootstrap only: coverage "
          f"{table['boot_coverage'].mean():.2f}, width {table['boot_width'].mean():.2f}); threshold error: mean "
          f"absolute {np.nanmean(np.abs(table['threshold_error'])):.2f} decades where both exist; "
          f"an interval takes at most {table['seconds'].max():.3f} s.")
    print(f"Extra thresholds: mean default/sigmoid {extra['ratio'].mean():.3f}, "
          f"geometric mean {np.exp(np.log(extra['ratio']).mean()):.3f}.")


if __name__ == "__main__":
    main()
