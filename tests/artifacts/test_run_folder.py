"""slicesand.artifacts.run_folder: a run folder is replaced whole, and a symbolic link to it survives."""

from __future__ import annotations

from slicesand.artifacts.run_folder import is_run_folder, staged_run_folder


def _run_into(outdir, text):
    with staged_run_folder(outdir) as staging:
        (staging / "run.json").write_text(text)


def test_a_link_to_a_run_folder_is_followed_not_replaced(tmp_path):
    real = tmp_path / "real"
    _run_into(real, "first")
    (tmp_path / "links").mkdir()
    link = tmp_path / "links" / "out"
    link.symlink_to("../real")
    _run_into(link, "second")
    assert link.is_symlink() and (real / "run.json").read_text() == "second"
    assert is_run_folder(real)
    # nothing left behind: no staging folder, no stray link, beside either path
    assert sorted(p.name for p in tmp_path.iterdir()) == ["links", "real"]
    assert [p.name for p in (tmp_path / "links").iterdir()] == ["out"]


def test_a_failed_run_leaves_the_previous_one(tmp_path):
    out = tmp_path / "out"
    _run_into(out, "first")
    try:
        with staged_run_folder(out) as staging:
            (staging / "run.json").write_text("half")
            raise RuntimeError("killed half-way")
    except RuntimeError:
        pass
    assert (out / "run.json").read_text() == "first"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
