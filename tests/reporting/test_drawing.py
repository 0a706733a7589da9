"""Figures drawn in a child while the run computes: the same bytes as drawing them at the end, from the
final inputs; a figure drawn early reads only what FIGURE_READS says; a failed child is redrawn here."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import slicesand.reporting.drawing as drawing
from slicesand.config import run_config
from slicesand.io.forked import fork_usable
from slicesand.pipeline.stages import run_all
from slicesand.reporting.figures import draw_figure, figure_bytes, figure_files, make_figures
from slicesand.reporting.output import read_report
from tests.reporting.report_fixtures import write_synthetic_dump

needs_fork = pytest.mark.skipif(not fork_usable(), reason="fork not usable here (not Linux, threads or one core)")


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("drawing")
    dump = write_synthetic_dump(folder / "dump.csv")
    run_all(dump, folder / "out", run_config(cut=1e22, easy_degree=3, hard_degree=2, at=[1e24], bootstrap=100))
    return read_report(folder / "out").figures


def _elsewhere(inputs, reads: tuple[str, ...]):
    """The inputs with every field the figure does not read changed."""
    predictions = inputs.predictions
    if "predictions.flops" in reads:  # only that column
        predictions = predictions[["flops"]].assign(split="none", pred_accuracy=np.nan, model="x")
    elif "predictions" not in reads:
        predictions = predictions.assign(flops=predictions["flops"] * 10, pred_accuracy=np.nan)
    changes = {"predictions": predictions, "band": None, "intervals": {"level": 0.5, "interval": "made up"},
               "threshold_flops": 3.3e21, "slices": inputs.slices.iloc[:3], "spectrum": None}
    return replace(inputs, **{name: value for name, value in changes.items() if name not in reads})


@pytest.mark.parametrize("key", sorted(drawing.FIGURE_READS))
def test_an_early_figure_reads_nothing_but_what_figure_reads_says(inputs, key):
    changed = _elsewhere(inputs, drawing.FIGURE_READS[key])
    for fmt in ("png", "svg"):
        assert figure_bytes(draw_figure(key, changed), fmt) == figure_bytes(draw_figure(key, inputs), fmt), key


def test_stale_figures_are_those_whose_inputs_changed(inputs):
    assert drawing.stale_figures(inputs, inputs) == []
    assert drawing.stale_figures(inputs, replace(inputs, threshold_flops=None)) == ["fits"]
    assert drawing.stale_figures(inputs, replace(inputs, band=None, intervals=None)) == []
    assert drawing.stale_figures(inputs, replace(inputs, task="other")) == ["spectrum", "fits", "tc_accuracy"]
    assert drawing.stale_figures(replace(inputs, spectrum=None), inputs) == ["spectrum"]
    moved = inputs.predictions.assign(flops=inputs.predictions["flops"] * 2)
    assert drawing.stale_figures(inputs, replace(inputs, predictions=moved)) == ["fits"]


@needs_fork
@pytest.mark.parametrize("threshold_changes", [False, True])
def test_the_child_gives_the_bytes_of_drawing_the_final_inputs_here(inputs, threshold_changes):
    early = replace(inputs, band=None, intervals=None, threshold_flops=inputs.threshold_flops * 2)
    final = replace(inputs, threshold_flops=None) if threshold_changes else replace(
        inputs, threshold_flops=early.threshold_flops)
    child = drawing.FigureDrawing.start()
    child.draw(early, ["tc_accuracy"])
    child.draw(early, ["spectrum", "fits"])
    child.final(final)
    assert child.files() == figure_files(make_figures(final), ("png", "svg"), parallel=False)


@needs_fork
def test_a_run_whose_child_fails_draws_its_figures_itself(tmp_path, monkeypatch):
    dump = write_synthetic_dump(tmp_path / "dump.csv")
    config = run_config(cut=1e22, easy_degree=3, hard_degree=2, at=[1e24], bootstrap=100)
    run_all(dump, tmp_path / "good", config)
    parent, real = os.getpid(), drawing._draw

    def fails_in_the_child(receive):
        if os.getpid() != parent:
            raise RuntimeError("the child fails")
        return real(receive)

    monkeypatch.setattr(drawing, "_draw", fails_in_the_child)
    run_all(dump, tmp_path / "redrawn", config)
    names = sorted(p.name for p in (tmp_path / "good").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "redrawn").iterdir()) and "report-forecast.svg" in names
    for name in names:
        assert (tmp_path / "good" / name).read_bytes() == (tmp_path / "redrawn" / name).read_bytes(), name


def test_the_parent_does_not_import_matplotlib(tmp_path):
    import subprocess
    import sys

    dump = write_synthetic_dump(tmp_path / "dump.csv")
    script = ("import sys; from slicesand.config import run_config; from slicesand.pipeline.stages import run_all; "
              f"run_all({str(dump)!r}, {str(tmp_path / 'out')!r}, run_config(cut=1e22, easy_degree=3, "
              "hard_degree=2, at=[1e24], bootstrap=100)); print('matplotlib' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ("False" if fork_usable() else "True")
    assert Path(tmp_path / "out" / "report-forecast.png").exists()


def test_only_figures_that_need_no_bootstrap_are_drawn_early(inputs):
    child = drawing.FigureDrawing(child=None)
    with pytest.raises(ValueError, match="FIGURE_READS"):
        child.draw(inputs, ["forecast"])


@needs_fork
def test_a_failed_second_drawing_process_leaves_its_share_to_the_first(inputs, monkeypatch):
    real = drawing._draw_share

    def second_fails(receive, *, me, workers):
        if me == 1:
            raise RuntimeError("the second drawing process fails")
        return real(receive, me=me, workers=workers)

    monkeypatch.setattr(drawing, "_draw_share", second_fails)
    child = drawing.FigureDrawing.start()
    child.draw(inputs, ["tc_accuracy", "spectrum"])
    child.draw(inputs, ["fits"])
    child.final(inputs)
    assert child.files() == figure_files(make_figures(inputs), ("png", "svg"), parallel=False)


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("final_at", [0.0, 1.0, 10.0])  # the parent's last message: soon, or long after
def test_shares_give_every_figure_and_format_to_exactly_one_process(workers, final_at):
    shares = drawing.Shares(workers)
    early = shares.early(["tc_accuracy", "spectrum"], at=0.0) + shares.early(["fits"], at=0.0)
    final = shares.final(["spectrum", "fits", "forecast", "tc_accuracy"], stale=["fits"], at=final_at)
    assert sorted(key for key, _ in early) == ["fits", "spectrum", "tc_accuracy"]
    assert sorted((key, fmt) for key, fmt, _ in final) == [(k, f) for k in ("fits", "forecast") for f in ("png", "svg")]
    assert {worker for _, worker in early} | {worker for *_, worker in final} == set(range(workers))
    if workers == 2 and final_at == 10.0:  # both idle by then: two figures left go one to each process
        assert {worker for key, _, worker in final if key == "forecast"} != {worker for key, _, worker in final
                                                                              if key == "fits"}
        alone = drawing.Shares(2)
        alone.early(["tc_accuracy", "spectrum", "fits"], at=0.0)
        # the forecast alone: its two formats side by side
        assert [w for *_, w in alone.final(["spectrum", "fits", "forecast", "tc_accuracy"], [], at=10.0)] == [0, 1]


def test_a_run_that_cannot_fork_draws_its_figures_itself(tmp_path, monkeypatch):
    import slicesand.io.forked as forked

    dump = write_synthetic_dump(tmp_path / "dump.csv")
    config = run_config(cut=1e22, easy_degree=3, hard_degree=2, at=[1e24], bootstrap=100)
    run_all(dump, tmp_path / "good", config)

    def no_fork():
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(forked.os, "fork", no_fork)
    run_all(dump, tmp_path / "unforked", config)
    names = sorted(p.name for p in (tmp_path / "good").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "unforked").iterdir())
    for name in names:
        assert (tmp_path / "good" / name).read_bytes() == (tmp_path / "unforked" / name).read_bytes(), name


@pytest.mark.skipif(not fork_usable(), reason="the drawing processes need fork")
def test_an_unwritable_matplotlib_folder_leaves_no_folder_behind_and_no_notice(tmp_path):
    """matplotlib, unable to write its folder, makes a temporary one and says so on stderr; the run's
    drawing processes end without exit handlers, so that folder stayed in /tmp (found by review). Now
    slicesand gives matplotlib a folder of its own and removes it, in the drawing processes and in
    `report`, which draws in this process."""
    import subprocess
    import sys

    sample = Path(__file__).resolve().parents[2] / "sample_data"
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {**os.environ, "MPLCONFIGDIR": "/dev/null/matplotlib", "TMPDIR": str(temp)}
    out = tmp_path / "out"
    commands = [["run", str(sample / "eval_dump.csv"), "--models", str(sample / "models.csv"), "--cut", "3e22",
                 "--at", "1e24", "--bootstrap", "50", "-o", str(out), "-q"],
                ["report", str(out), "-o", str(tmp_path / "notes" / "r.md"), "-q"]]
    for command in commands:
        done = subprocess.run([sys.executable, "-m", "slicesand", *command], env=env, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert done.stderr == "", done.stderr
        assert list(temp.iterdir()) == [], command
    assert (out / "report-forecast.png").stat().st_size > 0 and (tmp_path / "notes" / "r-forecast.png").exists()


def test_the_curves_are_sent_evaluated_for_the_figures_that_draw_them(inputs):
    from slicesand.reporting.facts import figure_curves, figure_grid

    assert drawing._with_curves(inputs, ["spectrum", "tc_accuracy"]).curves is None
    sent = drawing._with_curves(inputs, ["fits"])
    grid, fitted = figure_curves(inputs)  # evaluated here
    assert np.array_equal(sent.curves["log10_flops"], grid)
    assert np.array_equal(grid, figure_grid(inputs.slices, inputs.predictions))
    assert all(np.array_equal(sent.curves[key], values, equal_nan=True) for key, values in fitted.items())
    # Carried curves are used only on their own grid: inputs with other requested scales evaluate again.
    moved = replace(sent, predictions=inputs.predictions.assign(flops=inputs.predictions["flops"] * 10))
    assert not np.array_equal(figure_curves(moved)[0], grid)
    assert np.array_equal(figure_curves(moved)[1]["pred_accuracy"],
                          figure_curves(replace(moved, curves=None))[1]["pred_accuracy"], equal_nan=True)


def test_figures_drawn_from_sent_inputs_import_no_scipy_and_match(inputs, tmp_path):
    import pickle
    import subprocess
    import sys

    sent = drawing._with_curves(inputs, list(drawing.CURVES_READERS))
    (tmp_path / "inputs.pickle").write_bytes(pickle.dumps(sent))
    script = ("import pickle, sys; from slicesand.reporting.figures import make_figures, figure_files; "
              f"files = figure_files(make_figures(pickle.load(open({str(tmp_path / 'inputs.pickle')!r}, 'rb'))), "
              "('png', 'svg'), parallel=False); "
              "sys.stdout.buffer.write(pickle.dumps((files, 'scipy' in sys.modules)))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, check=True)
    files, scipy_imported = pickle.loads(done.stdout)
    assert not scipy_imported
    assert files == figure_files(make_figures(inputs), ("png", "svg"), parallel=False)
