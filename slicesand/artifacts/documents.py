"""Self-describing artifacts: every file slicesand writes says what made it and from what.

JSON artifacts (``fit.json``, the ``<table>.meta.json`` sidecars of tables) open with a header: the schema
name and version, the tool's name and version, the parameters, and the name and sha256 of the input.
They hold no timestamps, so the same input and options give byte-identical files. They are written to a
temporary file and renamed into place.

>>> header = artifact_header("slicesand.fit", {"cut": None}, Source("slices.csv", "ab12"))
>>> header["schema"], header["schema_version"], header["input"]["sha256"]
('slicesand.fit', 1, 'ab12')
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict
from pathlib import Path
from typing import Any, BinaryIO

from slicesand import __version__
from slicesand.diagnostics import Diagnostic, as_diagnostic
from slicesand.errors import ArtifactError
from slicesand.fitting.baselines import baseline_from_dict
from slicesand.fitting.model import Fit, FitOptions, LineFit, PolynomialFit
from slicesand.io.atomic import write_text_atomic
from slicesand.io.tables import Source, read_stdin, sha256_file

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
    """The sidecar of a table: its whole file name plus ``.meta.json``, so that ``run1.slices.csv`` and
    ``run1.predictions.csv`` (or ``s.csv`` and ``s.parquet``) never share one.

    >>> sidecar_path("out/run1.slices.csv").as_posix()
    'out/run1.slices.csv.meta.json'
    """
    path = Path(table_path)
    return path.with_name(path.name + ".meta.json")


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


def _numbers(value: Any, field: str, count: int | None = None) -> tuple[float, ...]:
    """``value`` as finite real numbers (JSON numbers, not strings or booleans), or a ValueError naming
    the field."""
    ok = isinstance(value, (list, tuple)) and (count is None or len(value) == count) and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value)
    if not ok:
        raise ValueError(f"{field} must be {'a list of' if count is None else count} finite numbers; found {value!r}")
    return tuple(float(v) for v in value)


def _integer(value: Any, field: str, minimum: int = 0) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{field} must be an integer >= {minimum}; found {value!r}")
    return value


def fit_from_document(document: dict, name: str) -> Fit:
    """Rebuild a :class:`Fit` from its JSON document (as returned by :func:`read_json_artifact`); a
    missing or ill-typed field is an :class:`ArtifactError` naming it (exit 4)."""
    try:
        def polynomial(d: dict, key: str) -> PolynomialFit:
            degree = _integer(d["degree"], f"{key}.degree")
            coef = _numbers(d["coef"], f"{key}.coef", degree + 1)
            return PolynomialFit(coef, _numbers(d["domain"], f"{key}.domain", 2),
                                 _numbers(d["window"], f"{key}.window", 2), degree,
                                 _integer(d["n"], f"{key}.n"), _nan(d["r2"]), _nan(d["residual_std"]))

        def line(d: dict | None, key: str) -> LineFit | None:
            if d is None:
                return None
            intercept, slope = _numbers([d["intercept"], d["slope"]], f"{key}.intercept and slope", 2)
            return LineFit(intercept, slope, _integer(d["n"], f"{key}.n"), _nan(d["r2"]), _nan(d["residual_std"]))

        easy, hard = polynomial(document["easy"], "easy"), polynomial(document["hard"], "hard")
        n_groups = _integer(document["n_groups"], "n_groups", 2)
        columns = (document["easy_column"], document["hard_column"])
        if columns != ("group_1", f"group_{n_groups}"):
            raise ValueError(f"easy_column and hard_column must be group_1 and group_{n_groups}; found {columns}")
        return Fit(
            options=FitOptions(**document["parameters"]),
            n_groups=n_groups,
            easy_column=columns[0],
            hard_column=columns[1],
            easy=easy,
            hard=hard,
            tc_to_accuracy=line(document["tc_to_accuracy"], "tc_to_accuracy"),
            baseline=line(document["baseline"], "baseline"),
            tc_lift=_numbers([document["tc_lift"]], "tc_lift", 1)[0],
            accuracy_shift=document["accuracy_shift"],
            training_models=list(document["training_models"]),
            test_models=list(document["test_models"]),
            training_x_range=_numbers(document["training_x_range"], "training_x_range", 2),
            warnings=[as_diagnostic(w) for w in document.get("warnings", [])],
            selection=document.get("selection"),
            accuracy_floor=document.get("accuracy_floor"),
            task=document.get("task"),
            baselines={name: baseline_from_dict(d) for name, d in (document.get("baselines") or {}).items()},
            easy_curvature_p=document.get("easy_curvature_p"),
        )
    except KeyError as exc:
        raise ArtifactError(name, f"the fit artifact has no field {exc}", hint="re-run `slicesand fit`") from None
    except (TypeError, ValueError, AttributeError) as exc:
        raise ArtifactError(name, f"the fit artifact is malformed: {exc}", hint="re-run `slicesand fit`") from None


def _nan(value: float | None) -> float:
    return float("nan") if value is None else float(value)


def read_fit(path: str | Path, *, stdin: BinaryIO | None = None) -> tuple[Fit, Source]:
    """Read ``fit.json`` (``-``: from stdin) and return the fit with its own :class:`Source` (for
    staleness checks)."""
    if str(path) == "-":
        data = read_stdin(stdin)
        document = parse_json_artifact(data, "slicesand.fit", "<stdin>")
        return fit_from_document(document, "<stdin>"), Source("<stdin>", hashlib.sha256(data).hexdigest())
    document = read_json_artifact(path, "slicesand.fit")
    return fit_from_document(document, str(path)), file_source(path)
