"""The terminal view of a report (rich), built from the same facts as ``report.md`` and JSON."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.table import Table

from slicesand.reporting.facts import format_flops, headline, interval_sentence, interval_text


def _num(value, digits: int = 3) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def print_report(facts: dict) -> None:
    """Print the report's facts to stdout as a readable summary."""
    console = Console(file=sys.stdout, highlight=False)
    s, m, c = facts["settings"], facts["models"], facts["curves"]
    console.print(f"[bold]slicesand forecast[/bold]{': ' + facts['task'] if facts.get('task') else ''}")
    console.print(headline(facts), markup=False)
    mse = facts.get("test_mse")
    if mse:
        console.print(f"Test MSE on {m['test']} held-out models: forecast {mse['forecast']:.4g}, "
                      f"sigmoid baseline {mse['baseline']:.4g}.", markup=False)
    cut = format_flops(s["cut_flops"]) if s["cut_flops"] else "none"
    console.print(f"Cut {cut} FLOPs; {m['training']} training and {m['test']} test models; "
                  f"{s['n_groups']} groups; easy degree {s['easy_degree']} (R^2 {_num(c['easy']['r2'])}), "
                  f"hard degree {s['hard_degree']} (R^2 {_num(c['hard']['r2'])}); variant {s['variant']}.",
                  markup=False)
    if facts.get("intervals"):
        console.print(interval_sentence(facts["intervals"]), markup=False)
    with_band = bool(facts["predictions"]) and "pred_accuracy_lo" in facts["predictions"][0]
    table = Table(header_style="bold")
    columns = [("model", "left"), ("FLOPs", "right"), ("split", "left"), ("forecast", "right")]
    kind = (facts.get("intervals") or {}).get("interval", "bootstrap")  # "prediction" once calibrated
    columns += [(f"90% {kind} interval", "right")] if with_band else []
    for column, justify in columns + [("baseline", "right"), ("observed", "right")]:
        table.add_column(column, justify=justify)
    for row in facts["predictions"]:
        band = [interval_text(row)] if with_band else []
        table.add_row(row["model"] or "", format_flops(row["flops"]), row["split"], _num(row["pred_accuracy"]),
                      *band, _num(row["baseline_accuracy"]), _num(row["observed_accuracy"]))
    console.print(table)
    for warning in facts["warnings"]:
        console.print(f"[yellow]warning:[/yellow] {warning}", highlight=False)
