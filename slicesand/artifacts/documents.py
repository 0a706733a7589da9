"""Self-describing artifacts: every file slicesand writes says what made it and from what.

JSON artifacts (``fit.json``, the ``*.meta.json`` sidecars of tables) open with a header: the schema
name and version, the tool's name and version, the parameters, and the name and sha256 of the input.
They hold no timestamps, so the same input and options give byte-identical files. They are written to a
temporary file and renamed into place.

>>> header = artifact_header("slicesand.fit", {"cut": None}, Source("slices.csv", "ab12"))
>>> header["schema"], header["schema_version"], header["input"]["sha256"]
('slicesand.fit', 1, 'ab12')
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict
from pathlib import Path
from typing import Any

from slicesand import __version__
from slicesand.diagnostics import Diagnostic, as_diagnostic
from slicesand.errors import ArtifactError
from slicesand.fitting.baselines import baseline_from_dict
from slicesand.fitting.model import Fit, FitOptions, LineFit, PolynomialFit
from slicesand.io.atomic import write_text_atomic
from slicesand.io.tables import Source, sha256_file

SCHEMA_VERSIONS = {
    "slicesand.fit": 1,
    "slicesand.slices": 1,
    "slicesand.predictions": 1,
    "slicesand.tasks": 1,
}


def artifact_header(schema: str, parameters: dict, source: Source | None) -> dict[str, Any]:
    """The common opening of every artifact."""
    return {
        "schema": schema,
        "schema_version": SCHEMA_VERSIONS[schema],
        "tool": {"name": "slicesand", "version": __version__},
        "parameters": parameters,
        "input": None if source is None else {"name": source.name, "sha256": source.sha256},
    }


def _clean(value: Any) -> Any:
    """JSON has no NaN: write ``null`` instead, and plain floats everywhere; warnings as their dicts."""
    if isinstance(value, Diagnostic):
        return value.to_dict()
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "item"):  # numpy scalars
        return _clean(value.item())
    return value


def dumps(document: dict) -> str:
    """Deterministic JSON text: fixed key order as built, two-space indent, trailing newline."""
    return json.dumps(_clean(document), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def write_json(path: str | Path, document: dict) -> None:
    write_text_atomic(path, dumps(document))


def read_json_artifact(path: str | Path, schema: str) -> dict:
    """Read a JSON artifact and check its schema name and version (exit 4 when they do not fit)."""
    path = Path(path)
    name = str(path)
    if not path.exists():
        raise ArtifactError(name, "no such artifact", hint="run the stage that makes it first")
    return parse_json_artifact(path.read_bytes(), schema, name)


def parse_json_artifact(data: bytes, schema: str, name: str) -> dict:
    """The JSON artifact in ``data`` (read from ``name``), its schema name and version checked (exit 4)."""
    try:
        document = json.loads(data.decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ArtifactError(name, f"not a valid JSON artifact: {exc}") from None
    if not isinstance(document, dict) or document.get("schema") != schema:
        found = document.get("schema") if isinstance(document, dict) else type(document).__name__
        raise ArtifactError(name, f"expected a '{schema}' artifact", found=found)
    version = document.get("schema_version")
    if version != SCHEMA_VERSIONS[schema]:
        raise ArtifactError(name, f"unknown schema version of '{schema}' (this slicesand reads version "
                            f"{SCHEMA_VERSIONS[schema]})", found=version,
                            hint="re-run the stage with this version of slicesand")
    return document


def sidecar_path(table_path: str | Path) -> Path:
    """``slices.csv`` -> ``slices.meta.json``."""
    path = Path(table_path)
    return path.with_name(path.name.split(".")[0] + ".meta.json")


def file_source(path: str | Path) -> Source:
    path = Path(path)
    return Source(path.name, sha256_file(path))


# ---- fit.json -------------------------------------------------------------------------------------

POLYNOMIAL_BASIS = ("numpy.polynomial.Polynomial(coef, domain, window) in x = log10(flops): the power "
                    "series in t = off + scl * x, where the affine map sends domain onto window")


def _polynomial_dict(poly: PolynomialFit) -> dict:
    return {**asdict(poly), "basis": POLYNOMIAL_BASIS,
            "coef_log10_flops_over_1e21": poly.paper_coef()}


def fit_document(fit: Fit, source: Source | None) -> dict:
    """The JSON document of a fit: header, coefficients with their bases, diagnostics, split."""
    document = artifact_header("slicesand.fit", asdict(fit.options), source)
    document.update({
        "n_groups": fit.n_groups,
        "easy_column": fit.easy_column,
        "hard_column": fit.hard_column,
        "easy": _polynomial_dict(fit.easy),
        "hard": _polynomial_dict(fit.hard),
        "tc_to_accuracy": None if fit.tc_to_accuracy is None else {
            **asdict(fit.tc_to_accuracy), "basis": "tc_brier = intercept + slope * accuracy (OLS)"},
        "baseline": None if fit.baseline is None else {
            **asdict(fit.baseline),
            "basis": "logit(clip(accuracy - chance, 0, 1), eps=1e-6) = intercept + slope * log10(flops); "
                     "accuracy = sigmoid(.) + chance"},
        "tc_lift": fit.tc_lift,
        "accuracy_shift": fit.accuracy_shift,
        "training_models": fit.training_models,
        "test_models": fit.test_models,
        "training_x_range": list(fit.training_x_range),
        "warnings": fit.warnings,
        "accuracy_floor": fit.accuracy_floor,
        "selection": fit.selection,
        "task": fit.task,
        "baselines": {name: b.to_dict() for name, b in fit.baselines.items()},
        "easy_curvature_p": fit.easy_curvature_p,
    })
    return document


def fit_from_document(document: dict, name: str) -> Fit:
    """Rebuild a :class:`Fit` from its JSON document (as returned by :func:`read_json_artifact`)."""
    try:
        def polynomial(d: dict) -> PolynomialFit:
            return PolynomialFit(tuple(d["coef"]), tuple(d["domain"]), tuple(d["window"]), d["degree"],
                                 d["n"], _nan(d["r2"]), _nan(d["residual_std"]))

        def line(d: dict | None) -> LineFit | None:
            return None if d is None else LineFit(d["intercept"], d["slope"], d["n"], _nan(d["r2"]),
                                                  _nan(d["residual_std"]))

        easy, hard = polynomial(document["easy"]), polynomial(document["hard"])
        if len(easy.coef) != easy.degree + 1 or len(hard.coef) != hard.degree + 1:
            raise ValueError("coefficient count does not match the degree")
        return Fit(
            options=FitOptions(**document["parameters"]),
            n_groups=int(document["n_groups"]),
            easy_column=document["easy_column"],
            hard_column=document["hard_column"],
            easy=easy,
            hard=hard,
            tc_to_accuracy=line(document["tc_to_accuracy"]),
            baseline=line(document["baseline"]),
            tc_lift=float(document["tc_lift"]),
            accuracy_shift=document["accuracy_shift"],
            training_models=list(document["training_models"]),
            test_models=list(document["test_models"]),
            training_x_range=tuple(document["training_x_range"]),
            warnings=[as_diagnostic(w) for w in document.get("warnings", [])],
            selection=document.get("selection"),
            accuracy_floor=document.get("accuracy_floor"),
            task=document.get("task"),
            baselines={name: baseline_from_dict(d) for name, d in (document.get("baselines") or {}).items()},
            easy_curvature_p=document.get("easy_curvature_p"),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ArtifactError(name, f"the fit artifact is incomplete or malformed: {exc!r}",
                            hint="re-run `slicesand fit`") from None


def _nan(value: float | None) -> float:
    return float("nan") if value is None else float(value)


def read_fit(path: str | Path) -> tuple[Fit, Source]:
    """Read ``fit.json`` and return the fit with the file's own :class:`Source` (for staleness checks)."""
    document = read_json_artifact(path, "slicesand.fit")
    return fit_from_document(document, str(path)), file_source(path)
