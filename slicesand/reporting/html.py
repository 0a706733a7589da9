"""``report.html``: one self-contained file, figures inlined as base64 PNG, every data string escaped.

The page loads nothing from anywhere (a Content-Security-Policy forbids it) and runs no script. Every
string that comes from data - model names, task names, warnings, file names, the command - goes
through :func:`html.escape`, so a model called ``<script>`` shows as text.

>>> facts = {"task": "<b>", "predictions": [], "warnings": []}
>>> "&lt;b&gt;" in _title(facts)
True
"""

from __future__ import annotations

import base64
from html import escape

from slicesand.reporting.facts import format_flops, headline

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 60rem; margin: 2rem auto;
       padding: 0 1rem; color: #1c1c1c; line-height: 1.45; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; font-size: 0.92rem; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25rem 0.7rem; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 1rem 0 2rem; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.9rem; } pre { background: #f5f5f5; padding: 0.6rem; overflow-x: auto; }
.warning { color: #8a5a00; }
"""
_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def _e(value) -> str:
    """Escape any value for HTML text or a quoted attribute."""
    return escape("" if value is None else str(value), quote=True)


def _num(value, digits: int = 3) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def _title(facts: dict) -> str:
    return "slicesand forecast" + (f": {_e(facts['task'])}" if facts.get("task") else "")


def _table(header: list[str], rows: list[list[str]], numeric: set[int] = frozenset()) -> str:
    """An HTML table; cells must already be escaped."""
    head = "".join(f"<th>{h}</th>" for h in header)
    body = "".join("<tr>" + "".join(f'<td class="num">{c}</td>' if i in numeric else f"<td>{c}</td>"
                                    for i, c in enumerate(row)) + "</tr>\n" for row in rows)
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}</tbody>\n</table>\n"


def render_html(facts: dict, images: dict[str, tuple[str, bytes]] | None = None) -> str:
    """The whole report as one HTML page; ``images`` maps a key to ``(title, PNG bytes)``."""
    s, m, c = facts["settings"], facts["models"], facts["curves"]
    parts = ["<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n",
             f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">\n',
             '<meta name="viewport" content="width=device-width, initial-scale=1">\n',
             f"<title>{_title(facts)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n",
             f"<h1>{_title(facts)}</h1>\n<p id=\"headline\">{_e(headline(facts))}</p>\n"]
    mse = facts.get("test_mse")
    if mse:
        parts.append(f"<p>On the {m['test']} test models, the forecast's mean squared error is "
                     f"{mse['forecast']:.4g}, against {mse['baseline']:.4g} for the sigmoid baseline.</p>\n")
    cut = format_flops(s["cut_flops"]) if s["cut_flops"] else "none (all models train)"
    parts.append("<h2>Settings</h2>\n" + _table(["setting", "value"], [
        ["cut (FLOPs)", _e(cut)], ["training / test models", f"{m['training']} / {m['test']}"],
        ["difficulty groups", _e(s["n_groups"])], ["easy / hard degree", f"{s['easy_degree']} / {s['hard_degree']}"],
        ["variant", _e(s["variant"])], ["chance accuracy", _e(s["chance"])]]))
    parts.append("<h2>Fitted curves</h2>\n" + _table(["curve", "degree", "R<sup>2</sup> (training)"], [
        ["easy group", _e(c["easy"]["degree"]), _num(c["easy"]["r2"])],
        ["hard group", _e(c["hard"]["degree"]), _num(c["hard"]["r2"])]], {1, 2}))
    if c.get("tc_to_accuracy"):
        t = c["tc_to_accuracy"]
        parts.append(f"<p>TC Brier = {t['intercept']:.4f} + {t['slope']:.4f} &times; accuracy "
                     f"(R<sup>2</sup> {_num(t['r2'])}); accuracy shift {c['accuracy_shift']:+.4f}.</p>\n")
    for title, data in (images or {}).values():  # at most four figures
        encoded = base64.b64encode(data).decode("ascii")
        parts.append(f'<figure><img src="data:image/png;base64,{encoded}" alt="{_e(title)}">'
                     f"<figcaption>{_e(title)}</figcaption></figure>\n")
    rows = [[_e(r["model"] or ""), _e(format_flops(r["flops"])), _e(r["split"]), _num(r["pred_accuracy"]),
             _num(r["baseline_accuracy"]), _num(r["observed_accuracy"]), _num(r["pred_tc_brier"])]
            for r in facts["predictions"]]  # display only: one row per model
    parts.append("<h2>Forecast</h2>\n" + _table(
        ["model", "FLOPs", "split", "predicted accuracy", "baseline", "observed", "predicted TC Brier"],
        rows, {1, 3, 4, 5, 6}))
    if facts["warnings"]:
        parts.append("<h2>Warnings</h2>\n<ul>\n" + "".join(
            f'<li class="warning">{_e(w)}</li>\n' for w in facts["warnings"]) + "</ul>\n")
    run = facts.get("run")
    if run:
        parts.append("<h2>How this report was made</h2>\n<p>Command (OUTDIR is the folder holding the "
                     f"report's artifacts):</p>\n<pre>{_e(run['command'])}</pre>\n<p>Versions: "
                     + _e(", ".join(f"{k} {v}" for k, v in run["versions"].items())) + ".</p>\n")
    source = facts.get("input")
    parts.append(f"<p>Made by slicesand {_e(facts['tool']['version'])}"
                 + (f" from {_e(source['name'])} (sha256 {_e(source['sha256'][:12])})" if source else "")
                 + ".</p>\n</body>\n</html>\n")
    return "".join(parts)
