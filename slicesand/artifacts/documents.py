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
from dataclasses import fields as dataclass_fields
from pathlib import Path
from typing import Any, BinaryIO

from slicesand import __version__
from slicesand.diagnostics import Diagnostic, as_diagnostic
from slicesand.artifacts.fields import Fields, shown
from slicesand.errors import ArtifactError, UsageError
from slicesand.fitting.baselines import BASELINES, baseline_from_dict, trend_parts
from slicesand.fitting.model import FIT_OPTION_BOUNDS, Fit, FitOptions, LineFit, OptionBound, PolynomialFit
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


FIT_HINT = "re-create it with `slicesand fit`"


def fit_options_from(fields: Fields) -> FitOptions:
    """The :class:`FitOptions` in a document's ``parameters``, each one checked here: the options'
    own checks speak of flags (``--chance``), which the user of an artifact never passed."""
    p = fields.at("parameters")
    known = {f.name for f in dataclass_fields(FitOptions)}
    unknown = sorted(set(p.document) - known)
    if unknown:
        raise ArtifactError(fields.name, f"field parameters.{unknown[0]} is not a fit parameter (known: "
                            f"{', '.join(sorted(known))})", hint=fields.hint)
    for name in (f.name for f in dataclass_fields(FitOptions)):
        p.get(name)  # present, even where null is allowed: a lost `cut` must not mean "no cut"
    # The bounds FitOptions checks (FIT_OPTION_BOUNDS), read here as the artifact's fields.
    values = {name: _fit_parameter(p, name, bound) for name, bound in FIT_OPTION_BOUNDS.items()}
    assert set(values) == known, "every FitOptions field is checked here"
    try:
        return FitOptions(**values)
    except UsageError as exc:  # a check FitOptions gained after this list: still the artifact's fault
        raise ArtifactError(fields.name, f"field parameters: {exc.problem.replace('`', '')}", found=exc.found,
                            hint=fields.hint) from None


def _fit_parameter(p: Fields, name: str, bound: OptionBound):
    """One fit parameter of an artifact, checked against its bounds (the message names the field)."""
    if bound.kind == "number":
        return p.number(name, low=bound.low, high=bound.high, low_open=bound.low_open, high_open=bound.high_open,
                        optional=bound.optional)
    if bound.kind == "integer":
        return p.integer(name, int(bound.low), int(bound.high))
    if bound.kind == "choice":
        return p.string(name, choices=bound.choices)
    if bound.kind == "boolean":
        return p.boolean(name)
    return _trend(p)


def _trend(p: Fields) -> str:
    trend = p.string("trend")
    try:
        trend_parts(trend)
    except ValueError as exc:
        raise p.error("trend", f"baseline names joined by '+' ({exc})", trend) from None
    return trend


def _polynomial(fields: Fields) -> PolynomialFit:
    degree = fields.integer("degree", 0, 12)
    return PolynomialFit(fields.numbers("coef", degree + 1), fields.numbers("domain", 2, increasing=True),
                         fields.numbers("window", 2, increasing=True), degree, fields.integer("n"),
                         _nan(fields.number("r2", optional=True)),
                         _nan(fields.number("residual_std", low=0, optional=True)))


def _line(fields: Fields | None, *, nonzero_slope: bool = False) -> LineFit | None:
    if fields is None:
        return None
    return LineFit(fields.number("intercept"), fields.number("slope", nonzero=nonzero_slope), fields.integer("n"),
                   _nan(fields.number("r2", optional=True)), _nan(fields.number("residual_std", low=0, optional=True)))


def _warning(fields: Fields) -> Diagnostic:
    if isinstance(fields.document, str):  # a bare sentence (older artifacts)
        return as_diagnostic(fields.document)
    if not isinstance(fields.document, dict):
        raise ArtifactError(fields.name, f"field {fields.prefix.rstrip('.')} must be a warning object or a "
                            f"string; found {shown(fields.document)}", hint=fields.hint)
    return Diagnostic(fields.string("code"), fields.string("category"), fields.string("message"),
                      fields.string("task", optional=True), fields.string("model", optional=True))


def _baselines(fields: Fields, with_accuracy: bool) -> dict:
    """The fitted baselines by name, each field checked (:func:`baseline_from_dict` rebuilds them). A fit
    with an accuracy line holds every one of :data:`BASELINES` (the forecast's trend and the MSE table
    read them: one missing would change the forecast without a word); one without holds none."""
    stored = fields.at("baselines", optional=not with_accuracy)
    held = [] if stored is None else list(stored.document)
    if with_accuracy and sorted(held) != sorted(BASELINES):
        raise fields.error("baselines", f"an object holding each of {', '.join(BASELINES)}",
                           held)
    baselines = {}
    for name in ([] if stored is None else list(stored.document)):
        one = stored.at(name)
        if name not in BASELINES or one.get("name", name) != name:
            raise stored.error(name, f"a baseline named one of {', '.join(BASELINES)}", one.get("name", name))
        values = {"name": name}
        for f in dataclass_fields(BASELINES[name]):
            if not f.init:
                continue
            if f.name == "chance":
                values[f.name] = one.number("chance", low=0, high=1, high_open=True)
            else:  # null is NaN (a fit that could not be made), except for the floor, where it means chance
                values[f.name] = one.number(f.name, optional=True)
        baselines[name] = baseline_from_dict(values)
    return baselines


#: The log10 FLOPs a fit's training range may hold: 10 to those powers is a finite, normal double (a
#: corrupted [0, 309] made every command that reads the fit end in an OverflowError, exit 1).
LOG10_FLOPS_RANGE = (-307.0, 308.0)


def fit_from_document(document: dict, name: str) -> Fit:
    """Rebuild a :class:`Fit` from its JSON document (as returned by :func:`read_json_artifact`); every
    field is checked as it is read, and a missing or wrong one is an :class:`ArtifactError` (exit 4)
    naming the file and the field.

    >>> fit_from_document({"parameters": {"chance": 0.25}}, "fit.json")
    Traceback (most recent call last):
    ...
    slicesand.errors.ArtifactError: fit.json: has no field parameters.cut (hint: re-create it with `slicesand fit`)
    """
    fields = Fields(document, name, hint=FIT_HINT)
    options = fit_options_from(fields)
    n_groups = fields.integer("n_groups", 2)
    easy_column = fields.string("easy_column", choices=("group_1",))
    hard_column = fields.string("hard_column", choices=(f"group_{n_groups}",))
    tc_to_accuracy = _line(fields.at("tc_to_accuracy", optional=True), nonzero_slope=True)
    with_accuracy = tc_to_accuracy is not None
    baseline = _line(fields.at("baseline", optional=not with_accuracy))
    low, high = fields.numbers("training_x_range", 2)
    if not (LOG10_FLOPS_RANGE[0] <= low <= high <= LOG10_FLOPS_RANGE[1]):  # 10^x must be a finite number
        raise fields.error("training_x_range", f"a list [low, high] of log10 FLOPs with low <= high, both within "
                           f"[{LOG10_FLOPS_RANGE[0]:g}, {LOG10_FLOPS_RANGE[1]:g}]", [low, high])
    recorded_input = fields.at("input", optional=True)  # its sha256 is how staleness is checked
    if recorded_input is not None:
        recorded_input.string("sha256")
    selection = fields.at("selection", optional=True)
    if selection is not None:
        selection.string("candidate", optional=True)
        if selection.get("candidate", None) is not None:
            selection.string("why")
    return Fit(
        options=options,
        n_groups=n_groups,
        easy_column=easy_column,
        hard_column=hard_column,
        easy=_polynomial(fields.at("easy")),
        hard=_polynomial(fields.at("hard")),
        tc_to_accuracy=tc_to_accuracy,
        baseline=baseline,
        tc_lift=fields.number("tc_lift"),
        accuracy_shift=fields.number("accuracy_shift", optional=not with_accuracy),
        training_models=fields.strings("training_models"),
        test_models=fields.strings("test_models"),
        training_x_range=(low, high),
        warnings=[_warning(w) for w in fields.items("warnings", optional=True)],
        selection=None if selection is None else selection.document,
        accuracy_floor=fields.number("accuracy_floor", low=0, high=1, optional=True),
        task=fields.string("task", optional=True),
        baselines=_baselines(fields, with_accuracy),
        easy_curvature_p=fields.number("easy_curvature_p", low=0, high=1, optional=True),
    )


def _task_names(fields: Fields, field: str) -> None:
    value = fields.get(field, None)
    if value is not None and not (isinstance(value, list) and all(t is None or isinstance(t, str) for t in value)):
        raise fields.error(field, "a list of task names or null", value)


def check_slices_meta(document: dict, name: str) -> dict:
    """The slices sidecar ``document`` (read from ``name``) with every field slicesand reads checked.

    >>> check_slices_meta({"table": {"sha256": "ab"}, "n_groups": 3, "parameters": {"cut": -1}}, "s.csv.meta.json")
    Traceback (most recent call last):
    ...
    slicesand.errors.ArtifactError: s.csv.meta.json: field parameters.cut must be a number > 0 or null; found -1 (hint: re-create it with `slicesand slice`)
    """
    fields = Fields(document, name, hint="re-create it with `slicesand slice`")
    fields.at("table").string("sha256")
    if fields.get("n_groups", None) is not None:
        fields.integer("n_groups", 2)
    fields.at("parameters").number("cut", low=0, low_open=True, optional=True)
    facts = fields.at("facts", optional=True)
    if facts is not None:
        _task_names(facts, "tasks")
    for warning in fields.items("warnings", optional=True):
        _warning(warning)
    fields.at("input", optional=True)
    return document


def check_predictions_meta(document: dict, name: str) -> dict:
    """The predictions sidecar ``document`` with the fields a report reads checked."""
    fields = Fields(document, name, hint="re-create it with `slicesand predict`")
    fields.at("fit").string("sha256")
    fields.at("table").string("sha256")
    for warning in fields.items("warnings", optional=True):
        _warning(warning)
    for number in ("threshold_flops", "threshold_log10_flops", "turning_point_log10_flops"):
        fields.number(number, optional=True)
    if fields.get("threshold_search_range_flops", None) is not None:
        fields.numbers("threshold_search_range_flops", 2)
    for part in ("test_mse", "intervals"):
        fields.at(part, optional=True)
    return document


def check_run_document(document: dict, name: str) -> dict:
    """``run.json``'s ``document`` with the fields a report reads checked: the command and the versions.

    >>> check_run_document({"command": 3}, "run.json")
    Traceback (most recent call last):
    ...
    slicesand.errors.ArtifactError: run.json: field command must be a string or null; found 3 (hint: run `slicesand run` again)
    """
    fields = Fields(document, name, hint="run `slicesand run` again")
    fields.string("command", optional=True)
    versions = fields.at("versions", optional=True)
    for library in [] if versions is None else list(versions.document):
        versions.string(library)
    return document


TASK_NUMBERS = ("cut_flops", "forecast_accuracy", "largest_flops", "threshold_flops", "test_mse", "baseline_mse")


def check_tasks_index(document: dict, name: str) -> dict:
    """``tasks.json`` (the index of a multi-task run) with the fields its report reads checked.

    >>> check_tasks_index({"tasks": [{"task": "mmlu", "error": None, "folder": "mmlu", "models": "12"}]}, "tasks.json")
    Traceback (most recent call last):
    ...
    slicesand.errors.ArtifactError: tasks.json: field tasks[0].models must be an integer >= 0; found "12" (hint: run `slicesand run` again)
    """
    fields = Fields(document, name, hint="run `slicesand run` again")
    fields.string("overview", optional=True)
    for row in fields.items("tasks"):
        row.string("task")
        if row.string("error", optional=True):
            continue
        row.string("folder")
        if row.get("models", None) is not None:
            row.integer("models")
        for number in TASK_NUMBERS:
            row.number(number, optional=True)
    return document


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
