"""Backtest on the paper's own tables: `make backtest-paper`.

Per task (tests/data/paper/<task>_g3_t<T>.csv at the paper's T and the extra thresholds): test MSE of
``--paper``, of the automatic default, of the baselines, the ratio default / sigmoid, and the coverage
of the default's 90% bootstrap interval (1000 draws, seed 0) over the test models. Prints Markdown.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from slicesand.backtest import backtest
from slicesand.fitting import PAPER_OPTIONS, FitOptions, fit_slices
from slicesand.forecast import predict
from slicesand.trust import add_intervals

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
    fit = fit_slices(frame, FitOptions(cut=cut, chance=chance, auto=True))
    start = time.perf_counter()
    forecast = add_intervals(predict(fit, frame), fit, frame, draws=1000, seed=0)
    seconds = time.perf_counter() - start
    test = forecast.table[forecast.table["split"] == "test"]
    inside = (test["observed_accuracy"] >= test["pred_accuracy_lo"]) & (test["observed_accuracy"] <= test["pred_accuracy_hi"])
    baselines = backtest(frame, [cut], chance=chance, options=fit.options).table.iloc[0]
    return {"task": task, "T": t, "paper": paper["forecast"], "default": forecast.mse["forecast"],
            "sigmoid": forecast.mse["baseline"], "linear": baselines["mse_linear"], "flat": baselines["mse_flat"],
            "ratio": forecast.mse["forecast"] / forecast.mse["baseline"], "coverage": float(inside.mean()),
            "settings": f"{fit.options.variant} h{fit.options.hard_degree}", "seconds": seconds}


def main() -> None:
    table = pd.DataFrame([row(*run) for run in RUNS])
    main_rows, extra = table.iloc[:6], table.iloc[6:]
    print("| task | T | MSE --paper | MSE default | MSE sigmoid | MSE linear | MSE flat | default/sigmoid "
          "| 90% coverage | settings | bootstrap s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in table.itertuples():
        print(f"| {r.task} | {r.T:g} | {r.paper:.4g} | {r.default:.4g} | {r.sigmoid:.4g} | {r.linear:.4g} "
              f"| {r.flat:.4g} | {r.ratio:.3f} | {r.coverage:.2f} | {r.settings} | {r.seconds:.3f} |")
    print()
    print(f"Paper T, geometric mean of default/sigmoid: {np.exp(np.log(main_rows['ratio']).mean()):.3f} "
          f"(target <= 0.5); worst {main_rows['ratio'].max():.3f} (target <= 1.5); "
          f"beats --paper on {(main_rows['default'] < main_rows['paper']).sum()}/6 tasks.")
    print(f"Extra thresholds: mean default/sigmoid {extra['ratio'].mean():.3f}, "
          f"geometric mean {np.exp(np.log(extra['ratio']).mean()):.3f}.")


if __name__ == "__main__":
    main()
