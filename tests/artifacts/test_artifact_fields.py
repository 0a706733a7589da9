"""Every field read from an artifact is checked where it is read: a damaged or hand-edited fit.json,
slices sidecar, predictions sidecar or run.json is exit 4 with one line naming the file and the field,
never an internal error, a numpy warning, or a complaint about a flag the user never passed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slicesand.artifacts.documents import check_run_document, check_slices_meta, fit_from_document
from slicesand.cli import app
from slicesand.errors import ArtifactError
from tests.cli.shell_helpers import slicesand, small_dump


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """A slices table (with its sidecar) and the default fit of it."""
    folder = tmp_path_factory.mktemp("fit")
    dump = small_dump(folder / "d.csv")
    assert slicesand("slice", dump, "--cut", "1e22", "-q", "-o", folder / "slices.csv").returncode == 0
    done = slicesand("fit", folder / "slices.csv", "-q", "-o", folder / "fit.json")
    assert done.returncode == 0, done.stderr
    return folder, json.loads((folder / "fit.json").read_text())


def _paths(value, prefix=()):
    """Every place in a JSON document: the keys of objects and the items of lists, at any depth."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*prefix, key)
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield (*prefix, index)
            yield from _paths(item, (*prefix, index))


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-10**20, 10**20) | st.sampled_from([0, 1, -1, 0.5, 5, 13, 1e308, -1e-300])
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8) | st.sampled_from(["group_1", "linear", "--"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6)
DELETE = object()


def _corrupt(document, path, value):
    document = json.loads(json.dumps(document))
    parent = document
    for step in path[:-1]:
        parent = parent[step]
    if value is DELETE:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return document


def _one_error_line(result, name: str) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: {name}") and "Traceback" not in result.stderr
    return lines[0]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_corrupted_fit_json_is_exit_4_or_works(made, runner, tmp_path_factory, data):
    folder, document = made
    paths = [p for p in _paths(document) if p[0] not in ("schema", "schema_version")]  # those have their own test
    path = data.draw(st.sampled_from(paths))
    value = data.draw(st.just(DELETE) | JSON_VALUES)
    broken = folder / "broken.json"
    broken.write_text(json.dumps(_corrupt(document, path, value)))
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a numpy RuntimeWarning is the symptom of an unchecked field
        result = runner.invoke(app, ["predict", str(broken), str(folder / "slices.csv"), "--bootstrap", "0",
                                     "-q", "--format", "csv"])
    assert result.exit_code in (0, 4), (path, value, result.stderr, result.exception)
    if result.exit_code == 4:
        line = _one_error_line(result, str(broken))
        # No flag named for a value the user never passed, in what the line says (not in the value it
        # quotes as found: a corrupted field may hold "--" itself).
        told = line.split("; found ")[0].split("(hint")[0]
        assert "--" not in told, line


@pytest.mark.parametrize("edit, expected", [
    (lambda d: d["easy"].update(domain=[1, 1]), "field easy.domain must be a list of 2 increasing finite numbers"),
    (lambda d: d.update(training_x_range=[0, 309]),  # 10^309 overflowed: exit 1 (found by hypothesis)
     "field training_x_range must be a list [low, high] of log10 FLOPs with low <= high, both within [-307, 308]"),
    (lambda d: d["parameters"].update(chance=5), "field parameters.chance must be a number in [0, 1); found 5"),
    (lambda d: d["parameters"].update(cut=-1), "field parameters.cut must be a number > 0 or null; found -1"),
    (lambda d: d["parameters"].update(chance="abc"), 'field parameters.chance must be a number in [0, 1); found "abc"'),
    (lambda d: d["parameters"].pop("cut"), "has no field parameters.cut"),
    (lambda d: d["tc_to_accuracy"].update(slope=0), "field tc_to_accuracy.slope must be a non-zero number"),
    (lambda d: d.update(selection=3), "field selection must be an object or null; found 3"),
    (lambda d: d.update(task="\x1b[31mred"), None),  # a task name is any string
    # Without its baselines a fit forecast the sandwich where it said the trend (found by review: exit 0)
    (lambda d: d.update(baselines={}),
     "field baselines must be an object holding each of sigmoid, bounded_sigmoid, linear, flat; found []"),
    (lambda d: d["baselines"].pop("flat"), 'field baselines must be an object holding each of sigmoid, '
     'bounded_sigmoid, linear, flat; found ["sigmoid", "bounded_sigmoid", "linear"]'),
    (lambda d: d.pop("baselines"), "has no field baselines"),
])
def test_reviewers_fit_json_edits_through_a_process(made, tmp_path, edit, expected):
    folder, document = made
    document = json.loads(json.dumps(document))
    edit(document)
    path = tmp_path / "f1.json"
    path.write_text(json.dumps(document))
    result = slicesand("predict", path, folder / "slices.csv", "--bootstrap", "0", "-q", "-o", tmp_path / "p.csv")
    stderr = result.stderr.decode()
    if expected is None:
        assert result.returncode == 0 and stderr == "", stderr
        return
    assert result.returncode == 4, stderr
    assert stderr.count("\n") == 1 and "Warning" not in stderr, stderr
    assert stderr.startswith(f"error: {path}: {expected}") and "(hint: re-create it with `slicesand fit`)" in stderr
    assert not (tmp_path / "p.csv").exists()


def test_a_sidecar_cut_is_checked_as_the_sidecars_not_as_a_flag(made, tmp_path):
    folder, _ = made
    table = tmp_path / "slices.csv"
    table.write_bytes((folder / "slices.csv").read_bytes())
    meta = json.loads((folder / "slices.csv.meta.json").read_text())
    meta["parameters"]["cut"] = -1
    (tmp_path / "slices.csv.meta.json").write_text(json.dumps(meta))
    result = slicesand("fit", table, "-q", "-o", tmp_path / "fit.json")
    assert result.returncode == 4
    assert result.stderr.decode() == (f"error: {table}.meta.json: field parameters.cut must be a number > 0 or "
                                      "null; found -1 (hint: re-create it with `slicesand slice`)\n")


@pytest.mark.parametrize("meta, problem", [
    ({"n_groups": 3, "parameters": {"cut": None}}, "has no field table"),
    ({"table": {"sha256": 5}, "parameters": {"cut": None}}, "field table.sha256 must be a string; found 5"),
    ({"table": {"sha256": "x"}, "n_groups": 1.5, "parameters": {"cut": None}}, "field n_groups must be an integer"),
    ({"table": {"sha256": "x"}, "parameters": {"cut": "1e22"}}, 'field parameters.cut must be a number > 0 or null'),
    ({"table": {"sha256": "x"}, "parameters": {}, "facts": {"tasks": "t"}}, "field facts.tasks must be a list"),
    ({"table": {"sha256": "x"}, "parameters": {}, "warnings": [{"code": "c"}]}, "has no field warnings[0].category"),
])
def test_slices_sidecar_fields(meta, problem):
    with pytest.raises(ArtifactError, match="^s.meta.json: " + problem.replace("[", r"\[")):
        check_slices_meta(meta, "s.meta.json")


def test_run_json_fields():
    assert check_run_document({"command": "slicesand run d.csv", "versions": {"numpy": "2"}}, "run.json")
    with pytest.raises(ArtifactError, match=r"^run.json: field versions.numpy must be a string; found \[2\]"):
        check_run_document({"command": None, "versions": {"numpy": [2]}}, "run.json")


def test_found_values_are_escaped_and_shortened(made):
    _, document = made
    document = _corrupt(document, ("training_models",), "\x1b]0;title\x07" + "x" * 500)
    with pytest.raises(ArtifactError) as caught:
        fit_from_document(document, "fit.json")
    message = str(caught.value)
    assert "\x1b" not in message and "\\u001b" in message and len(message) < 200


def test_report_checks_run_json_and_the_predictions_sidecar(tmp_path):
    from tests.cli.shell_helpers import RUN_OPTIONS

    out = tmp_path / "out"
    assert slicesand("run", small_dump(tmp_path / "d.csv"), *RUN_OPTIONS, "-q", "-o", out).returncode == 0
    from slicesand.artifacts.run_folder import write_manifest

    run = json.loads((out / "run.json").read_text())
    (out / "run.json").write_text(json.dumps({**run, "versions": {"numpy": 2}}))
    write_manifest(out)  # sealed again after the edit: the artifacts' own field checks must catch it
    result = slicesand("report", out, "-q")
    assert result.returncode == 4
    assert result.stderr.decode().startswith(f"error: {out / 'run.json'}: field versions.numpy must be a string")
    (out / "run.json").write_text(json.dumps(run))
    meta = json.loads((out / "predictions.csv.meta.json").read_text())
    del meta["fit"]
    (out / "predictions.csv.meta.json").write_text(json.dumps(meta))
    write_manifest(out)
    result = slicesand("report", out, "-q")
    assert result.returncode == 4 and "predictions.csv.meta.json: has no field fit" in result.stderr.decode()


@pytest.fixture(scope="module")
def multitask(tmp_path_factory):
    """The folder of a two-task run."""
    from tests.cli.shell_helpers import RUN_OPTIONS

    folder = tmp_path_factory.mktemp("multitask")
    dump = small_dump(folder / "d.csv", tasks=["a", "b"])
    assert slicesand("run", dump, *RUN_OPTIONS, "-q", "-o", folder / "out").returncode == 0
    return folder / "out"


@pytest.mark.parametrize("edit, problem", [
    (lambda d: d["tasks"][0].update(models="12"), 'field tasks[0].models must be an integer >= 0; found "12"'),
    (lambda d: d["tasks"][0].update(threshold_flops="big"), 'field tasks[0].threshold_flops must be a number or null'),
    (lambda d: d["tasks"][0].pop("folder"), "has no field tasks[0].folder"),
    (lambda d: d.update(tasks={"a": 1}), "field tasks must be a list"),
])
@pytest.mark.parametrize("fmt", ["md", "table"])
def test_report_checks_tasks_json(multitask, tmp_path, edit, problem, fmt):
    import shutil

    from slicesand.artifacts.run_folder import write_manifest

    out = Path(shutil.copytree(multitask, tmp_path / "out"))
    index = json.loads((out / "tasks.json").read_text())
    edit(index)
    (out / "tasks.json").write_text(json.dumps(index))
    write_manifest(out)
    result = slicesand("report", out, "-q", "-f", fmt)
    stderr = result.stderr.decode()
    assert result.returncode == 4, stderr
    assert stderr.startswith(f"error: {out / 'tasks.json'}: {problem}") and stderr.count("\n") == 1
    assert stderr.endswith("(hint: run `slicesand run` again)\n"), stderr


def _just_outside(bound):
    """A value each check must refuse, and one at the edge each must take, from the bound itself."""
    if bound.kind == "choice":
        return "no-such-choice", bound.choices[-1]
    if bound.kind == "trend":
        return "sigmoid+", "linear"
    step = 1 if bound.kind == "integer" else 1e-9
    if bound.high is not None and bound.high_open:
        return bound.high, bound.high - step
    if bound.high is not None:
        return bound.high + step, bound.high
    return (bound.low, bound.low + 1e20) if bound.low_open else (bound.low - step, bound.low)


def test_fit_json_and_the_options_check_the_same_bounds(made):
    """FIT_OPTION_BOUNDS is read by both checks: each range refuses the same values in fit.json (naming
    the field, exit 4) and in FitOptions (naming the parameter, which the command line shows as its flag)."""
    from dataclasses import replace

    from slicesand.errors import UsageError
    from slicesand.fitting.model import FIT_OPTION_BOUNDS, FitOptions

    _, document = made
    base = fit_from_document(document, "fit.json").options
    for name, bound in FIT_OPTION_BOUNDS.items():
        if bound.kind == "boolean":  # a JSON type: FitOptions takes what Python passes
            continue
        outside, edge = _just_outside(bound)
        edited = json.loads(json.dumps(document))
        edited["parameters"][name] = outside
        with pytest.raises(ArtifactError, match=rf"fit.json: field parameters\.{name} must be "):
            fit_from_document(edited, "fit.json")
        with pytest.raises(UsageError, match=rf"^`?{name}`? must "):
            replace(base, **{name: outside})
        edited["parameters"][name] = edge
        assert getattr(fit_from_document(edited, "fit.json").options, name) == edge, name
        assert getattr(replace(base, **{name: edge}), name) == edge, name
