"""Backtest every forecaster on the development suite and choose the default rule across tasks:
`make backtest-suite [SUITE=../shared/suite]`.

Data sets (each one "task" of the leave-one-task-out protocol):

* the paper's six tables (``tests/data/paper``), each at every cut a table was ranked at (9 + 3 cuts:
  the table of cut T is used only at T, so no test model took part in its difficulty ranking);
* the 8 benchmarks of ``bench/data/base_llm_benchmarks.csv`` (aggregate accuracy only: the
  Slice-and-Sandwich curves need per-question data, so there every rule falls back to its trend);
* synthetic per-question dumps with known truth from ``sample_data/generate.py``: emergent (the shipped
  generator) and smooth (the same generator without traps and mastery step, a steadier gain), 3 seeds
  each, re-sliced at every cut;
* when a suite folder is given (default ``../shared/suite`` when it exists; never copied into the
  repository): ``blimp_long``, ``dgl_long`` and ``lambada_long`` (``p_correct`` only: accuracy = mean
  p_correct), re-sliced at every cut.

At every cut (every 0.25 decade leaving >= 10 training and >= 5 test models, or the paper's cuts) each
forecaster is fitted on the models below the cut and scored on those at or above it. The score of a
forecaster on a data set is its MAE (accuracy points) averaged over cuts; its ratio is that MAE over the
MAE of the best simple baseline for that data set (chosen in hindsight: paper sigmoid clipped, bounded
sigmoid, linear, flat).

**Leave one task out.** For each data set in turn, the candidate rule with the lowest geometric mean
ratio over the *other* data sets is chosen, and scored on the one left out. The geometric mean of those
held-out ratios is the honest estimate of how the rule-choosing procedure does on a new task. The
intervals are calibrated the same way: the conformal quantile of |error| / (h + d) (d = decades beyond
the largest training model) is taken over the other data sets' rows and the coverage is measured on
the one left out.

Prints Markdown; ``--json PATH`` also writes the numbers.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
PAPER = ROOT / "tests" / "data" / "paper"
BENCHMARKS = ROOT / "bench" / "data" / "base_llm_benchmarks.csv"
PAPER_RUNS = {"mmlu": ((1.5, 1.3, 1.1), 0.25), "parsinlu_qa_mc": ((2.3, 2.1, 1.9), 0.25),
              "arithmetic": ((1.8, 1.6, 1.4), 0.145), "hindu_knowledge": ((1.0,), 0.25),
              "analogical_similarity": ((2.0,), 0.145), "conceptual_combinations": ((1.5,), 0.25)}
# Random-guess accuracy of each benchmark (0 for the generative ones).
BENCHMARK_CHANCE = {"MMLU": 0.25, "ARC-C": 0.25, "HellaSwag": 0.25, "Winograd": 0.5, "TruthfulQA": 0.25,
                    "GSM8K": 0.0, "XWinograd": 0.5, "HumanEval": 0.0}
SEEDS = (1, 2, 3)
SIMPLE = ("sigmoid", "bounded_sigmoid", "linear", "flat")
BANDS = ((0.0, 0.5, "<= 0.5"), (0.5, 1.0, "0.5-1"), (1.0, np.inf, "> 1"))


def _generator():
    spec = importlib.util.spec_from_file_location("sample_generate", ROOT / "sample_data" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def synthetic_dump(kind: str, seed: int, folder: Path) -> tuple[Path, Path]:
    """A synthetic dump (``emergent``: the shipped generator; ``smooth``: no trap, no mastery step, a
    steadier gain) written as Parquet, with its models table."""
    gen = _generator()
    if kind == "smooth":
        gen.TRAP_STRENGTH, gen.TRAP_STRENGTH_SD, gen.MASTERY_GAIN, gen.CUE_GAIN = 0.0, 0.0, 0.0, 0.0
        gen.STEADY_SLOPE_EASY, gen.STEADY_SLOPE_HARD = 0.45, 0.15
    dump, models = gen.build_dump(seed)
    dump_path, models_path = folder / f"{kind}_{seed}.parquet", folder / f"{kind}_{seed}_models.csv"
    dump.to_parquet(dump_path, index=False)
    models.to_csv(models_path, index=False)
    return dump_path, models_path


# ---- forecasts at every cut ---------------------------------------------------------------------

def _fitting():
    from slicesand.fitting import selection
    from slicesand.fitting.baselines import fit_baselines
    from slicesand.fitting.guards import accuracy_floor
    from slicesand.fitting.model import FitOptions, fit_slices
    from slicesand.forecast.predict import curves

    return selection, fit_baselines, accuracy_floor, FitOptions, fit_slices, curves


def cut_rows(frame: pd.DataFrame, cut: float, chance: float, *, groups: bool = True) -> pd.DataFrame:
    """Every forecaster's forecast at the test models of one cut, with the training evidence."""
    selection, fit_baselines, accuracy_floor, FitOptions, fit_slices, curves = _fitting()
    data = frame[np.isfinite(pd.to_numeric(frame["accuracy"], errors="coerce"))].reset_index(drop=True)
    flops = data["flops"].to_numpy(dtype=float)
    x, observed = np.log10(flops), data["accuracy"].to_numpy(dtype=float)
    train, test = flops < cut, flops >= cut
    out = {"model": data["model"].astype(str).to_numpy()[test], "x": x[test],
           "distance": x[test] - x[train].max(), "observed": observed[test]}
    floor = accuracy_floor(chance, float(observed[train].min()))
    if groups:
        fit = selection.fit_default(data, FitOptions(cut=cut, chance=chance))
        table = curves(replace(fit, options=replace(fit.options, blend="sandwich", baseline_floor=False)), x[test])
        out["sandwich"] = table["sandwich_accuracy"]
        out["old_default"] = curves(replace(fit, options=replace(fit.options, blend="sandwich", baseline_floor=True)),
                                    x[test])["pred_accuracy"]
        evidence = selection.emergence_evidence(fit, data)
        evidence["curvature_p"] = np.nan if fit.easy_curvature_p is None else fit.easy_curvature_p
        baselines = fit.baselines
    else:
        out["sandwich"] = out["old_default"] = np.full(int(test.sum()), np.nan)
        evidence = selection.emergence_evidence(None, data.assign(flops=flops), cut=cut, chance=chance)
        evidence["curvature_p"] = np.nan
        baselines = fit_baselines(x[train], observed[train], chance, floor)
    for name in SIMPLE:
        out[name] = np.clip(baselines[name].predict(x[test]), floor, 1.0)
    rows = pd.DataFrame(out)
    for key, value in evidence.items():
        rows[key] = value
    # The spread of the training models around their trend: the in-task scale of the interval.
    rows["spread"] = float(np.std(observed[train] - baselines["linear"].predict(x[train])))
    rows["cut"], rows["n_train"], rows["floor"] = cut, int(train.sum()), floor
    return rows


def paper_rows() -> pd.DataFrame:
    parts = []
    for task, (thresholds, chance) in PAPER_RUNS.items():
        for t in thresholds:
            frame = pd.read_csv(PAPER / f"{task}_g3_t{t:g}.csv")
            parts.append(cut_rows(frame, 10 ** t * 1e21, chance).assign(dataset=f"paper/{task}", kind="paper"))
    return pd.concat(parts, ignore_index=True)


def benchmark_rows() -> pd.DataFrame:
    from slicesand.evaluation.backtest import automatic_cuts

    table = pd.read_csv(BENCHMARKS)
    parts = []
    for bench, chance in BENCHMARK_CHANCE.items():
        frame = pd.DataFrame({"model": table["Model"], "flops": table["FLOPs (1E21)"] * 1e21,
                              "accuracy": table[bench]}).dropna().reset_index(drop=True)
        for cut in automatic_cuts(frame["flops"].to_numpy()):
            parts.append(cut_rows(frame, cut, chance, groups=False).assign(dataset=f"scale/{bench}", kind="scale"))
    return pd.concat(parts, ignore_index=True)


def dump_rows(path: Path, name: str, kind: str, *, models: Path | None = None, chance: float = 0.25,
              accuracy_from: str = "correct") -> pd.DataFrame:
    """Re-slice a per-question dump at every automatic cut (ranking on that cut's training models)."""
    from slicesand.errors import SlicesandError
    from slicesand.evaluation.backtest import automatic_cuts
    from slicesand.pipeline.stages import DumpOptions, load_stage_dump, slice_stage
    from slicesand.slicing.difficulty import SliceOptions

    options = DumpOptions(models_path=None if models is None else str(models))
    loaded = load_stage_dump(path, options)
    flops = loaded[1][np.isfinite(loaded[1])]
    parts = []
    for cut in automatic_cuts(flops):
        slices = slice_stage(path, SliceOptions(cut=cut, accuracy_from=accuracy_from), options, loaded=loaded).result.slices
        try:
            parts.append(cut_rows(slices, cut, chance).assign(dataset=name, kind=kind))
        except SlicesandError as exc:  # a cut the default cannot fit is a failure of the default: say so
            print(f"{name} cut {cut:.3g}: not scored: {exc}", file=sys.stderr)
    return pd.concat(parts, ignore_index=True)


def synthetic_rows(folder: Path) -> pd.DataFrame:
    parts = []
    for kind in ("emergent", "smooth"):
        for seed in SEEDS:
            dump, models = synthetic_dump(kind, seed, folder)
            parts.append(dump_rows(dump, f"synthetic/{kind}-{seed}", "synthetic", models=models))
    return pd.concat(parts, ignore_index=True)


def suite_rows(folder: Path) -> pd.DataFrame:
    parts = []
    for name, chance, accuracy_from in (("blimp_long", 0.5, "correct"), ("dgl_long", 0.5, "correct"),
                                        ("lambada_long", 0.0, "p_correct")):
        path = folder / f"{name}.parquet"
        if path.exists():
            parts.append(dump_rows(path, f"suite/{name}", "suite", chance=chance, accuracy_from=accuracy_from))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def collect(suite: Path | None) -> pd.DataFrame:
    with tempfile.TemporaryDirectory() as tmp:
        parts = [paper_rows(), benchmark_rows(), synthetic_rows(Path(tmp))]
    if suite is not None and suite.is_dir():
        parts.append(suite_rows(suite))
    return pd.concat([p for p in parts if len(p)], ignore_index=True)


# ---- candidate rules and leave-one-task-out -------------------------------------------------------

GATES = {"always": lambda r: np.ones(len(r), dtype=bool)}
for _tau in (0.05, 0.1, 0.2):
    GATES[f"lift<{_tau:g}"] = (lambda tau: lambda r: (r["lift"] < tau).to_numpy())(_tau)
    GATES[f"lift<{_tau:g}&turn"] = (lambda tau: lambda r: ((r["lift"] < tau) & r["turn"]).to_numpy())(_tau)
GATES["turn"] = lambda r: r["turn"].to_numpy(dtype=bool)
for _p in (0.01, 0.05, 0.25, 0.5):
    GATES[f"turn&p<{_p:g}"] = (lambda p: lambda r: (r["turn"] & (r["curvature_p"] < p)).to_numpy(dtype=bool))(_p)
MODES = {"sandwich": None, "mean0.25": 0.25, "mean0.5": 0.5, "mean0.75": 0.75, "envelope": "envelope"}


TRENDS = {"bounded_sigmoid": ("bounded_sigmoid",), "linear": ("linear",), "flat": ("flat",),
          "linear+flat": ("linear", "flat"), "bounded_sigmoid+linear": ("bounded_sigmoid", "linear"),
          "bounded_sigmoid+flat": ("bounded_sigmoid", "flat"),
          "bounded_sigmoid+linear+flat": ("bounded_sigmoid", "linear", "flat")}


def candidates() -> dict[str, dict]:
    """Every rule tried: a trend alone (one baseline or the mean of several), or, where the gate opens
    (evidence of emergence), the Slice-and-Sandwich forecast blended with that trend (weight = the
    trend's share)."""
    rules = {f"trend {t}": {"trend": t, "mode": None, "gate": None} for t in TRENDS}
    for trend in TRENDS:
        for mode in MODES:
            for gate in GATES:
                rules[f"{gate}: {mode} + {trend}"] = {"trend": trend, "mode": mode, "gate": gate}
    return rules


def predict_rule(rows: pd.DataFrame, rule: dict) -> np.ndarray:
    trend = rows[list(TRENDS[rule["trend"]])].to_numpy(dtype=float).mean(axis=1)
    if rule["gate"] is None:
        return trend
    sandwich = rows["sandwich"].to_numpy(dtype=float)
    mode = MODES[rule["mode"]]
    if mode is None:
        blended = sandwich
    elif mode == "envelope":
        blended = np.maximum(sandwich, trend)
    else:
        blended = (1 - mode) * sandwich + mode * trend
    use = GATES[rule["gate"]](rows) & np.isfinite(sandwich)
    return np.where(use, blended, trend)


def dataset_mae(rows: pd.DataFrame, predicted: np.ndarray) -> pd.Series:
    """MAE per data set: the mean over its cuts of each cut's MAE on its test models."""
    error = np.abs(rows["observed"].to_numpy() - predicted)
    return pd.Series(error).groupby([rows["dataset"].to_numpy(), rows["cut"].to_numpy()]).mean().groupby(level=0).mean()


def score_table(rows: pd.DataFrame, rules: dict) -> pd.DataFrame:
    """MAE per data set (rows) and candidate (columns), plus the best simple baseline in hindsight."""
    table = pd.DataFrame({name: dataset_mae(rows, predict_rule(rows, rule)) for name, rule in rules.items()})
    for name in SIMPLE:
        table[name] = dataset_mae(rows, rows[name].to_numpy(dtype=float))
    table["old_default"] = dataset_mae(rows, rows["old_default"].fillna(rows["sigmoid"]).to_numpy(dtype=float))
    table["best_simple"] = table[list(SIMPLE)].min(axis=1)
    return table


def geomean(values) -> float:
    values = np.asarray(values, dtype=float)
    return float(np.exp(np.mean(np.log(values))))


def leave_one_task_out(table: pd.DataFrame, rules: dict) -> pd.DataFrame:
    """For each data set: the rule chosen on the others (lowest geometric mean ratio) and its ratio here."""
    ratios = table[list(rules)].div(table["best_simple"], axis=0)
    out = []
    for held in ratios.index:
        others = ratios.drop(index=held)
        scores = np.exp(np.log(others).mean())
        chosen = scores.idxmin()
        out.append({"dataset": held, "chosen": chosen, "ratio": float(ratios.loc[held, chosen])})
    return pd.DataFrame(out).set_index("dataset")


# ---- intervals ------------------------------------------------------------------------------------

DEFAULT = "turn: envelope + bounded_sigmoid+linear+flat"


def band_of(distance) -> np.ndarray:
    """Horizon band of each distance (decades beyond the largest training model; inside it: <= 0.5)."""
    d = np.asarray(distance, dtype=float)
    return np.select([d <= 0.5, d <= 1.0], [BANDS[0][2], BANDS[1][2]], BANDS[2][2])


def weighted_quantile(values, weights, q: float) -> float:
    order = np.argsort(values, kind="stable")
    values, weights = np.asarray(values, dtype=float)[order], np.asarray(weights, dtype=float)[order]
    return float(values[min(np.searchsorted(np.cumsum(weights) / weights.sum(), q), len(values) - 1)])


def band_offsets(rows: pd.DataFrame, level: float = 0.9) -> dict[str, tuple[float, float]]:
    """Per horizon band, the (1 - level)/2 and (1 + level)/2 quantiles of the signed error
    observed - forecast, each data set weighing the same (its rows weigh 1 / its row count)."""
    weights = 1.0 / rows.groupby("dataset")["signed"].transform("size").to_numpy()
    bands = band_of(rows["distance"])
    tail = (1 - level) / 2
    return {name: (weighted_quantile(rows["signed"][bands == name], weights[bands == name], tail),
                   weighted_quantile(rows["signed"][bands == name], weights[bands == name], 1 - tail))
            for _, _, name in BANDS if (bands == name).any()}


def loto_intervals(rows: pd.DataFrame) -> pd.DataFrame:
    """Each data set's rows with the interval calibrated on the other data sets."""
    parts = []
    for held in rows["dataset"].unique():
        offsets = band_offsets(rows[rows["dataset"] != held])
        part = rows[rows["dataset"] == held].copy()
        lo_hi = np.array([offsets[b] for b in band_of(part["distance"])])
        part["lo"] = np.clip(np.minimum(part["pred"] + lo_hi[:, 0], part["pred"]), part["floor"], 1.0)
        part["hi"] = np.clip(np.maximum(part["pred"] + lo_hi[:, 1], part["pred"]), part["floor"], 1.0)
        parts.append(part)
    out = pd.concat(parts)
    out["inside"] = (out["observed"] >= out["lo"]) & (out["observed"] <= out["hi"])
    out["width"] = out["hi"] - out["lo"]
    return out


# ---- the report -----------------------------------------------------------------------------------

def _mae_by(rows: pd.DataFrame, column: str) -> float:
    return float((rows["observed"] - rows[column]).abs().groupby(rows["cut"]).mean().mean())


def report(rows: pd.DataFrame) -> dict:
    rules = candidates()
    table = score_table(rows, rules)
    loto = leave_one_task_out(table, rules)
    rows = rows.assign(pred=predict_rule(rows, rules[DEFAULT]))
    rows["signed"] = rows["observed"] - rows["pred"]
    rows["band"] = band_of(rows["distance"])
    intervals = loto_intervals(rows)
    ratio = table[DEFAULT] / table["best_simple"]
    paper = [d for d in table.index if d.startswith("paper/")]
    lines = ["| data set | horizon (decades) | cuts | test rows | MAE default | MAE S&S | MAE sigmoid | "
             "MAE bounded sigmoid | MAE linear | MAE flat | default / best simple | LOTO rule / best simple "
             "| 90% coverage | 90% width |", "|---" * 14 + "|"]
    for dataset, part in intervals.groupby("dataset", sort=True):
        for band in [b[2] for b in BANDS] + ["all"]:
            sub = part if band == "all" else part[part["band"] == band]
            if not len(sub):
                continue
            sandwich = _mae_by(sub, "sandwich") if sub["sandwich"].notna().all() else float("nan")
            lines.append(
                f"| {dataset} | {band} | {sub['cut'].nunique()} | {len(sub)} | {100 * _mae_by(sub, 'pred'):.1f} "
                f"| {'' if np.isnan(sandwich) else f'{100 * sandwich:.1f}'} "
                + " ".join(f"| {100 * _mae_by(sub, name):.1f}" for name in SIMPLE)
                + (f" | **{ratio[dataset]:.2f}** | {loto.loc[dataset, 'ratio']:.2f}" if band == "all" else " | | ")
                + f" | {sub['inside'].mean():.2f} | {sub['width'].mean():.2f} |")
    compact = ["| data set | cuts | test rows | MAE default | MAE S&S | MAE sigmoid | MAE bounded sigmoid | MAE linear "
               "| MAE flat | default / best simple | held out (LOTO) | 90% coverage | 90% width |", "|---" * 13 + "|"]
    for dataset, sub in intervals.groupby("dataset", sort=True):
        sandwich = _mae_by(sub, "sandwich") if sub["sandwich"].notna().all() else float("nan")
        compact.append(f"| {dataset} | {sub['cut'].nunique()} | {len(sub)} | {100 * _mae_by(sub, 'pred'):.1f} "
                       f"| {'' if np.isnan(sandwich) else f'{100 * sandwich:.1f}'} "
                       + " ".join(f"| {100 * _mae_by(sub, name):.1f}" for name in SIMPLE)
                       + f" | {ratio[dataset]:.2f} | {loto.loc[dataset, 'ratio']:.2f} | {sub['inside'].mean():.2f} "
                       f"| {sub['width'].mean():.2f} |")
    bands = ["| horizon (decades beyond the largest training model) | test rows | 90% coverage | 90% width |",
             "|---|---|---|---|"]
    for _, _, band in BANDS:
        sub = intervals[intervals["band"] == band]
        bands.append(f"| {band} | {len(sub)} | {sub['inside'].mean():.2f} | {sub['width'].mean():.2f} |")
    weights = 1.0 / intervals.groupby("dataset")["inside"].transform("size")
    summary = {
        "data_sets": len(table), "forecasts_outside_0_1": int(((rows["pred"] < 0) | (rows["pred"] > 1)).sum()),
        "in_sample_geomean_ratio_all": geomean(ratio), "in_sample_geomean_ratio_paper": geomean(ratio[paper]),
        "loto_geomean_ratio_all": geomean(loto["ratio"]), "loto_geomean_ratio_paper": geomean(loto.loc[paper, "ratio"]),
        "loto_chosen": loto["chosen"].value_counts().to_dict(),
        "old_default_geomean_ratio_all": geomean(table["old_default"] / table["best_simple"]),
        "old_default_geomean_ratio_paper": geomean((table["old_default"] / table["best_simple"])[paper]),
        "coverage_pooled_rows": float(intervals["inside"].mean()), "width_pooled_rows": float(intervals["width"].mean()),
        "coverage_per_data_set_mean": float(np.average(intervals["inside"], weights=weights)),
        "width_per_data_set_mean": float(np.average(intervals["width"], weights=weights)),
        "per_band": {band: {"coverage": float(g["inside"].mean()), "width": float(g["width"].mean()),
                            "rows": int(len(g))} for band, g in intervals.groupby("band")},
        "band_offsets_all_data_sets": band_offsets(rows),
    }
    return {"markdown": "\n".join(lines), "compact": "\n".join(compact), "bands": "\n".join(bands),
            "summary": summary}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("suite", nargs="?", default=None,
                        help="folder of extra dumps (default: ../shared/suite when it exists)")
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    args = parser.parse_args(argv)
    suite = Path(args.suite) if args.suite else Path("../shared/suite")
    result = report(collect(suite if suite.is_dir() else None))
    s = result["summary"]
    print("Per data set (MAE in accuracy points, mean over cuts; ratios over the best simple baseline in hindsight):")
    print()
    print(result["compact"])
    print()
    print(result["bands"])
    print()
    print("Per data set and horizon band:")
    print()
    print(result["markdown"])
    print()
    print(f"Data sets scored: {s['data_sets']}; forecasts outside [0, 1]: {s['forecasts_outside_0_1']}.")
    print(f"Default / best simple baseline (geometric mean over data sets): {s['in_sample_geomean_ratio_all']:.2f} "
          f"overall, {s['in_sample_geomean_ratio_paper']:.2f} on the paper's tasks (in sample); leave one task out: "
          f"{s['loto_geomean_ratio_all']:.2f} overall (target <= 1.0), {s['loto_geomean_ratio_paper']:.2f} on the "
          f"paper's tasks (target <= 0.7). Previous default: {s['old_default_geomean_ratio_all']:.2f} / "
          f"{s['old_default_geomean_ratio_paper']:.2f}. Rule chosen in the folds: {s['loto_chosen']}.")
    print(f"90% interval, calibrated leave one task out: coverage {s['coverage_per_data_set_mean']:.2f} and mean width "
          f"{s['width_per_data_set_mean']:.2f} (each data set weighing the same; pooled over rows "
          f"{s['coverage_pooled_rows']:.2f} / {s['width_pooled_rows']:.2f}); per band: "
          + ", ".join(f"{b} decade {v['coverage']:.2f} / {v['width']:.2f}" for b, v in s["per_band"].items()) + ".")
    print("Band offsets on all data sets (slicesand.uncertainty.calibration.SUITE_OFFSETS): "
          + ", ".join(f"{b}: ({lo:+.4f}, {hi:+.4f})" for b, (lo, hi) in s["band_offsets_all_data_sets"].items()))
    if args.json:
        args.json.write_text(json.dumps(s, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
