"""The *report* stage: gather the facts of a forecast and explain them to a person.

:func:`build_facts` makes one plain dictionary from a fit, its predictions and the slicing metadata;
:func:`render_markdown` turns it into ``report.md``; the CLI renders the same facts as a terminal
summary or JSON. :func:`load_outdir` reads a ``run`` folder back, refusing a stale mix of artifacts.

>>> format_flops(3.2e22)
'3.2e22'
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from slicesand import __version__
from slicesand.artifacts.documents import (
    file_source, fit_from_document, read_json_artifact, sidecar_path,
)
from slicesand.diagnostics import as_diagnostics
from slicesand.errors import ArtifactError
from slicesand.fitting.model import Fit
from slicesand.io.tables import read_table


def format_flops(value: float | None) -> str:
    """FLOPs in compact scientific notation (``3.2e22``); ``-`` when unknown."""
    if value is None or not math.isfinite(value):
        return "-"
    mantissa, exponent = f"{value:.2g}".split("e") if "e" in f"{value:.2g}" else (f"{value:.2g}", "0")
    return f"{mantissa}e{int(exponent)}"


def _number(value) -> float | None:
    return None if value is None or (isinstance(value, float) and not math.isfinite(value)) else float(value)


def build_facts(fit: Fit, predictions: pd.DataFrame, summary: dict, slices_meta: dict | None) -> dict:
    """Every fact a report shows, as plain JSON-ready values."""
    rows = predictions.replace({np.nan: None}).to_dict(orient="records")
    split = predictions["split"].to_numpy()
    largest = predictions.loc[predictions["flops"].idxmax()] if len(predictions) else None
    # Diagnostic objects (slicesand.diagnostics); the sidecars hold them as dicts.
    warnings = as_diagnostics([*(slices_meta or {}).get("warnings", []), *fit.warnings, *summary.get("warnings", [])])
    return {
        "tool": {"name": "slicesand", "version": __version__},
        "input": (slices_meta or {}).get("input"),
        "task": ", ".join(t for t in ((slices_meta or {}).get("facts", {}).get("tasks") or []) if t) or None,
        "settings": {
            "cut_flops": fit.options.cut,
            "chance": fit.options.chance,
            "easy_degree": fit.options.easy_degree,
            "hard_degree": fit.options.hard_degree,
            "variant": fit.options.variant,
            "n_groups": fit.n_groups,
            # The automatic rule's extras (slicesand.fitting.selection): hard degrees averaged, sigmoid floor.
            "hard_average": fit.options.hard_average,
            "baseline_floor": fit.options.baseline_floor,
            "automatic": fit.selection is not None,
        },
        "models": {
            "training": len(fit.training_models),
            "test": int((split == "test").sum()),
            "training_flops_range": [10.0 ** fit.training_x_range[0], 10.0 ** fit.training_x_range[1]],
        },
        "slicing": (slices_meta or {}).get("facts"),
        "curves": {
            "easy": {"degree": fit.easy.degree, "r2": _number(fit.easy.r2), "n": fit.easy.n},
            "hard": {"degree": fit.hard.degree, "r2": _number(fit.hard.r2), "n": fit.hard.n},
            "tc_to_accuracy": None if fit.tc_to_accuracy is None else {
                "intercept": fit.tc_to_accuracy.intercept, "slope": fit.tc_to_accuracy.slope,
                "r2": _number(fit.tc_to_accuracy.r2)},
            "accuracy_shift": fit.accuracy_shift,
        },
        "threshold_flops": summary.get("threshold_flops"),
        # Bootstrap summary (draws, seed, level, threshold interval); None when no bootstrap was run.
        "intervals": summary.get("intervals"),
        "threshold_search_range_flops": summary.get("threshold_search_range_flops"),
        "test_mse": summary.get("test_mse"),
        "largest_scale": None if largest is None else {
            "flops": float(largest["flops"]), "model": largest["model"] or None,
            "pred_accuracy": _number(largest["pred_accuracy"]),
            "pred_tc_brier": _number(largest["pred_tc_brier"]),
        },
        "predictions": rows,
        "warnings": warnings,
    }


def headline(facts: dict) -> str:
    """One plain sentence on the forecast."""
    parts = []
    largest = facts.get("largest_scale")
    if largest and largest.get("pred_accuracy") is not None:
        parts.append(f"accuracy is forecast to reach {largest['pred_accuracy']:.2f} at "
                     f"{format_flops(largest['flops'])} FLOPs")
    elif largest:
        parts.append(f"TC Brier is forecast to reach {largest['pred_tc_brier']:.3f} at "
                     f"{format_flops(largest['flops'])} FLOPs (accuracy is unknown)")
    if facts.get("threshold_flops") is not None:
        parts.append(f"the emergence threshold is predicted near {format_flops(facts['threshold_flops'])} FLOPs")
    else:
        low, high = facts.get("threshold_search_range_flops") or (None, None)
        parts.append(f"the easy questions' curve has no turning point between {format_flops(low)} and "
                     f"{format_flops(high)} FLOPs, so no emergence threshold is predicted in range")
    sentence = "; ".join(parts)
    return sentence[0].upper() + sentence[1:] + "."


def _fmt(value, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def render_markdown(facts: dict, figures: dict[str, tuple[str, str]] | None = None) -> str:
    """``report.md``: a summary paragraph, the settings, the fitted curves and the forecast table.

    ``figures`` maps a figure key to ``(title, relative file name)``; they are linked under "Figures".
    ``facts["run"]`` (when present) adds the exact command and the versions that made the run.
    """
    s, m, c = facts["settings"], facts["models"], facts["curves"]
    lines = ["# slicesand forecast" + (f": {facts['task']}" if facts.get("task") else ""), "",
             headline(facts), ""]
    mse = facts.get("test_mse")
    if mse:
        lines += [f"On the {m['test']} test models, the forecast's mean squared error is "
                  f"{mse['forecast']:.4g}, against {mse['baseline']:.4g} for the sigmoid baseline.", ""]
    lines += ["## Settings", "",
              "| setting | value |", "|---|---|",
              f"| cut (FLOPs) | {format_flops(s['cut_flops']) if s['cut_flops'] else 'none (all models train)'} |",
              f"| training / test models | {m['training']} / {m['test']} |",
              f"| difficulty groups | {s['n_groups']} |",
              f"| easy / hard degree | {s['easy_degree']} / {s['hard_degree']} |",
              f"| variant | {s['variant']} |",
              *([f"| hard curve | mean of degree 1 .. {s['hard_degree']} fits |"] if s.get("hard_average") else []),
              *(["| floor | never below the sigmoid baseline |"] if s.get("baseline_floor") else []),
              *(["| chosen by | the automatic rule (fit.json: selection) |"] if s.get("automatic") else []),
              f"| chance accuracy | {s['chance']} |", ""]
    lines += ["## Fitted curves", "",
              "| curve | degree | R^2 (training) |", "|---|---|---|",
              f"| easy group | {c['easy']['degree']} | {_fmt(c['easy']['r2'])} |",
              f"| hard group | {c['hard']['degree']} | {_fmt(c['hard']['r2'])} |"]
    if c["tc_to_accuracy"]:
        t = c["tc_to_accuracy"]
        lines += ["", f"TC Brier = {t['intercept']:.4f} + {t['slope']:.4f} x accuracy "
                  f"(R^2 {_fmt(t['r2'])}); accuracy shift {c['accuracy_shift']:+.4f}."]
    intervals = facts.get("intervals")
    with_band = bool(facts["predictions"]) and "pred_accuracy_lo" in facts["predictions"][0]
    lines += ["", "## Forecast", ""]
    if intervals:
        lines += [interval_sentence(intervals), ""]
    band_head, band_rule = (f" {_level(intervals)} {_kind(intervals)} interval |", "---|") if with_band else ("", "")
    lines += [f"| model | FLOPs | split | predicted accuracy |{band_head} baseline | observed | predicted TC Brier |",
              f"|---|---|---|---|{band_rule}---|---|---|"]
    for row in facts["predictions"]:
        band = f" {interval_text(row)} |" if with_band else ""
        lines.append(f"| {_escape(row['model'] or '')} | {format_flops(row['flops'])} | {row['split']} | "
                     f"{_fmt(row['pred_accuracy'])} |{band} {_fmt(row['baseline_accuracy'])} | "
                     f"{_fmt(row['observed_accuracy'])} | {_fmt(row['pred_tc_brier'])} |")
    if figures:
        lines += ["", "## Figures", ""]
        for title, name in figures.values():  # at most four figures
            lines += [f"![{title}]({name})", ""]
        lines.pop()
    if facts["warnings"]:
        lines += ["", "## Warnings", ""] + [f"- {_escape(w)}" for w in facts["warnings"]]
    run = facts.get("run")
    if run:
        lines += ["", "## How this report was made", "", "Command (OUTDIR is the folder holding this report's "
                  "artifacts):", "", "```", run["command"], "```", "",
                  "Versions: " + ", ".join(f"{k} {v}" for k, v in run["versions"].items()) + "."]
    lines += ["", f"Made by slicesand {facts['tool']['version']}"
              + (f" from {facts['input']['name']} (sha256 {facts['input']['sha256'][:12]})" if facts.get("input") else "")
              + ".", ""]
    return "\n".join(lines)


def _level(intervals: dict | None) -> str:
    return f"{round(100 * (intervals or {}).get('level', 0.9))}%"


def _kind(intervals: dict | None) -> str:
    """``prediction`` for a calibrated interval (slicesand.uncertainty.calibration), ``bootstrap`` for fit noise only."""
    return (intervals or {}).get("interval", "bootstrap")


def interval_text(row: dict) -> str:
    """``0.312-0.458`` for a predictions row with an interval, ``""`` without one.

    >>> interval_text({"pred_accuracy_lo": 0.3124, "pred_accuracy_hi": 0.4581})
    '0.312-0.458'
    """
    lo, hi = row.get("pred_accuracy_lo"), row.get("pred_accuracy_hi")
    return "" if lo is None or hi is None else f"{_fmt(float(lo))}-{_fmt(float(hi))}"


def interval_sentence(intervals: dict) -> str:
    """How the intervals were made, and the threshold's interval.

    >>> interval_sentence({"draws": 1000, "seed": 0, "level": 0.9, "share_of_draws_with_threshold": 0.5,
    ...                    "threshold_flops_interval": [1e22, 3e23]})
    '90% bootstrap intervals from 1000 resamples of the training models (seed 0). Emergence threshold (bootstrap, fit noise only): 1e22 to 3e23 FLOPs (50% of draws have one).'
    """
    resampled = intervals.get("resampled", "models").replace("models", "the training models")
    if _kind(intervals) == "prediction":
        text = (f"{_level(intervals)} prediction intervals: the bootstrap interval ({intervals['draws']} resamples "
                f"of {resampled}, seed {intervals['seed']}) widened by leave-future-out conformal "
                f"calibration on the training models, more the further beyond them; "
                f"{intervals.get('measured_coverage') or ''}.")
    else:
        text = (f"{_level(intervals)} bootstrap intervals from {intervals['draws']} resamples of {resampled} "
                f"(seed {intervals['seed']}).")
    if intervals.get("questions_note"):
        text += f" ({intervals['questions_note']}.)"
    low, high = intervals.get("threshold_flops_interval") or (None, None)
    if low is not None and high is not None:
        text += (f" Emergence threshold (bootstrap, fit noise only): {format_flops(low)} to {format_flops(high)} FLOPs "
                 f"({intervals['share_of_draws_with_threshold']:.0%} of draws have one).")
    return text


def _escape(text: str) -> str:
    return str(text).replace("|", "\\|")


def load_outdir(outdir: str | Path) -> dict:
    """Read a ``run`` folder's artifacts and build the report facts; refuse a stale mix (exit 4)."""
    outdir = Path(outdir)
    fit_path, predictions_path, slices_path = outdir / "fit.json", outdir / "predictions.csv", outdir / "slices.csv"
    if not fit_path.exists():
        raise ArtifactError(str(outdir), "no fit.json here: not a folder made by `slicesand run`",
                            hint="run `slicesand run DUMP -o FOLDER` first, then `slicesand report FOLDER`")
    fit_document = read_json_artifact(fit_path, "slicesand.fit")
    fit = fit_from_document(fit_document, str(fit_path))
    predictions_meta = read_json_artifact(sidecar_path(predictions_path), "slicesand.predictions")
    if predictions_meta["fit"]["sha256"] != file_source(fit_path).sha256:
        raise ArtifactError(str(predictions_path), "stale: made from another fit.json than the one in the folder",
                            hint="run `slicesand predict` again, or `slicesand run`")
    if not predictions_path.exists() or predictions_meta["table"]["sha256"] != file_source(predictions_path).sha256:
        raise ArtifactError(str(predictions_path), "missing, or changed after it was written",
                            hint="run `slicesand predict` again")
    slices_meta = None
    if sidecar_path(slices_path).exists():
        slices_meta = read_json_artifact(sidecar_path(slices_path), "slicesand.slices")
        if (fit_document.get("input") or {}).get("sha256") != file_source(slices_path).sha256:
            raise ArtifactError(str(fit_path), "stale: fitted on another slices table than the one in the folder",
                                hint="run `slicesand fit` again, or `slicesand run`")
    table, _ = read_table(predictions_path, what="predictions")
    predictions = table.to_pandas()
    predictions["model"] = predictions["model"].fillna("").astype(str)
    return build_facts(fit, predictions, predictions_meta, slices_meta)
