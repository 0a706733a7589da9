"""Issue 11's failures on real eval outputs, one test per case, each through the CLI where the shell matters.

Fixtures are written here by hand from each format's documentation: a bare 0/1 grid as IRT
repositories commit them, py-irt's ``.jsonlines``, compressed CSV/JSON lines, a Git LFS pointer
(the pointer format of git-lfs's spec v1), a folder mixing HELM and lm-eval output, and Every Eval Ever
records (schema instance_level_eval_0.2.1, see tests/fixtures/importers/eee/README.md).
"""

from __future__ import annotations

import gzip
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from slicesand.errors import InputDataError
from slicesand.ingest.importers import read_source, sniff_source
from tests.ingest.importers.conftest import FIXTURES

LFS_POINTER = (
    "version https://git-lfs.github.com/spec/v1\n"
    "oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n"
    "size 12345\n"
)


def cli(*args: str, stdin: bytes | None = b"", cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "slicesand", *args], input=stdin, capture_output=True,
                          cwd=cwd, timeout=120)


def error_line(result: subprocess.CompletedProcess) -> str:
    text = result.stderr.decode()
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in text, text
    return lines[0]


def bare_grid(path: Path, models: int = 3, questions: int = 8) -> np.ndarray:
    """A headerless, id-less 0/1 grid written as 1.0/0.0, models as rows."""
    values = (np.add.outer(np.arange(models), np.arange(questions)) % 3 == 0).astype(float)
    path.write_text("".join(",".join(f"{v:.1f}" for v in row) + "\n" for row in values))
    return values


# 1. A headerless 0/1 matrix ------------------------------------------------------------------

def test_headerless_matrix_is_read_with_numbered_ids(tmp_path):
    values = bare_grid(tmp_path / "irt.csv")
    result = read_source(tmp_path / "irt.csv")
    rows = result.dump.to_pylist()
    assert [r["model"] for r in rows[:2]] == ["model-1", "model-1"]
    assert rows[9]["question"] == "question-2" and rows[9]["model"] == "model-2"
    np.testing.assert_array_equal([r["correct"] for r in rows], values.ravel())
    assert any("no model names in the file" in note for note in result.notes)


def test_header_without_id_column(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("q1,q2,q3,q4,q5\n1,0,1,1,0\n0,0,1,0,0\n")
    rows = read_source(path).dump.to_pylist()
    assert {r["model"] for r in rows} == {"model-1", "model-2"}
    assert [r["question"] for r in rows[:5]] == ["q1", "q2", "q3", "q4", "q5"]


def test_ids_without_header(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("EleutherAI/pythia-70m-deduped,1,0,0,1\nEleutherAI/pythia-160m-deduped,1,1,0,1\n")
    rows = read_source(path).dump.to_pylist()
    assert rows[0]["model"] == "EleutherAI/pythia-70m-deduped" and rows[5]["question"] == "question-2"
    assert [r["correct"] for r in rows] == [1, 0, 0, 1, 1, 1, 0, 1]


def test_headerless_matrix_through_import_cli(tmp_path):
    bare_grid(tmp_path / "irt.csv")
    result = cli("import", str(tmp_path / "irt.csv"), "-o", str(tmp_path / "out.csv"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out.csv").read_text().replace('"', "").splitlines()[1].startswith("model-1,question-1,irt,1")


def test_quoted_wide_matrix_is_read_by_the_csv_module(tmp_path):
    path = tmp_path / "m.csv"
    header = "model," + ",".join(f'"q, {j}"' for j in range(600))
    path.write_text(header + "\n" + "a," + ",".join("1" for _ in range(600)) + "\n")
    rows = read_source(path, options=None).dump.to_pylist()
    assert rows[1]["question"] == "q, 1" and len(rows) == 600


# 2. Extensions: .jsonlines, .ndjson, and compressed variants --------------------------------

@pytest.mark.parametrize("name", ["responses.jsonlines", "responses.ndjson", "responses.jsonl.gz",
                                  "responses.jsonlines.zst"])
def test_pyirt_extensions_and_compression(tmp_path, name):
    data = (FIXTURES / "pyirt" / "responses.jsonl").read_bytes()
    path = tmp_path / name
    if name.endswith(".gz"):
        path.write_bytes(gzip.compress(data))
    elif name.endswith(".zst"):
        with pa.CompressedOutputStream(str(path), "zstd") as stream:
            stream.write(data)
    else:
        path.write_bytes(data)
    assert sniff_source(path) == "py-irt"
    expected = read_source(FIXTURES / "pyirt" / "responses.jsonl").dump
    assert read_source(path).dump.select(["model", "question", "correct"]).equals(
        expected.select(["model", "question", "correct"]))


def test_compressed_long_csv_is_read_by_slice_and_import(tmp_path):
    rows = "".join(f"m{i},q{j},{int((i + j) % 3 == 0)},{10 ** (20 + i)}\n" for i in range(4) for j in range(6))
    path = tmp_path / "dump.csv.gz"
    path.write_bytes(gzip.compress(("model,question,correct,flops\n" + rows).encode()))
    assert sniff_source(path) == "long"
    imported = cli("import", str(path), "-o", "-")
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.decode().count("\n") == 25
    sliced = cli("slice", str(path), "-o", str(tmp_path / "slices.csv"), "--groups", "2")
    assert sliced.returncode == 0, sliced.stderr


def test_compressed_matrix_csv(tmp_path):
    (tmp_path / "plain.csv").write_text("model,q1,q2\nm1,0,1\nm2,1,1\n")
    (tmp_path / "packed.csv.gz").write_bytes(gzip.compress((tmp_path / "plain.csv").read_bytes()))
    packed = read_source(tmp_path / "packed.csv.gz")
    assert packed.dump.column("task").to_pylist()[0] == "packed"
    assert packed.dump.column("correct").to_pylist() == [0, 1, 1, 1]


# 3. One sniffer for every command; capped error messages ------------------------------------

def test_run_and_slice_read_a_matrix_as_import_does(tmp_path):
    path = tmp_path / "matrix.csv"
    questions = [f"q{j}" for j in range(3000)]
    models = ["EleutherAI/pythia-70m-deduped", "EleutherAI/pythia-160m-deduped", "EleutherAI/pythia-410m-deduped"]
    grid = (np.add.outer(np.arange(3), np.arange(3000)) % 4 == 0).astype(int)
    path.write_text("model," + ",".join(questions) + "\n"
                    + "".join(m + "," + ",".join(map(str, row)) + "\n" for m, row in zip(models, grid)))
    assert sniff_source(path) == "matrix-csv"
    result = cli("slice", str(path), "-o", str(tmp_path / "s.csv"), "--groups", "2")
    assert result.returncode == 0, result.stderr[-500:]


@pytest.mark.parametrize(("known", "count"), [("model,task", "and 4997 more (5002 columns)"),
                                             ("model,question", "and 4997 more (5002 columns)")])
def test_error_messages_quote_at_most_five_columns(tmp_path, known, count):
    """A missing question column, or a header with no score column: 5 names and a count, not 5,000."""
    path = tmp_path / "long.csv"
    path.write_text(known + "," + ",".join(f"x{j}" for j in range(5000)) + "\nm,t," + ",".join("1" * 5000) + "\n")
    result = cli("slice", str(path), "-o", str(tmp_path / "s.csv"))
    assert result.returncode == 3
    line = error_line(result)
    assert len(line) < 400 and count in line, line


# 5. The "left out" warning survives reading an lm-eval folder directly -----------------------

def test_models_without_scale_are_named_when_slice_reads_lmeval(tmp_path, lmeval_writer):
    for size, model in enumerate(["EleutherAI/pythia-70m-deduped", "EleutherAI/pythia-160m-deduped",
                                  "EleutherAI/pythia-410m-deduped", "acme/secret-model"]):
        records = [lmeval_writer.mc_record(d, [-1.0 - (d + size) % 3, -2.0, -2.5], 0) for d in range(8)]
        lmeval_writer.write_run(tmp_path / "lm", model, "2024-05-01T10-00-00.000000", {"arc_easy": records})
    result = cli("slice", str(tmp_path / "lm"), "-o", str(tmp_path / "s.csv"), "--groups", "2")
    assert result.returncode == 0, result.stderr
    assert "without a scale" in result.stderr.decode() and "acme/secret-model" in result.stderr.decode()


# 6. A folder holding both HELM runs and lm-eval trees ----------------------------------------

def test_folder_with_helm_and_lmeval_names_both(tmp_path):
    shutil.copytree(FIXTURES / "helm_v0_2", tmp_path / "mixed" / "helm")
    shutil.copytree(FIXTURES / "lmeval_v043_nested", tmp_path / "mixed" / "lmeval")
    with pytest.raises(InputDataError, match="helm and lm-eval output together") as caught:
        sniff_source(tmp_path / "mixed")
    assert "`source_kind` helm" in str(caught.value)  # the core names its parameter ...
    result = cli("import", str(tmp_path / "mixed"), "-o", "-")
    assert result.returncode == 3 and "helm and lm-eval" in error_line(result)
    assert "pass --from helm or lm-eval" in error_line(result)  # ... and the command line its flag
    assert cli("import", str(tmp_path / "mixed"), "--from", "lm-eval", "-o", "-").returncode == 0


# 7. Git LFS pointers ---------------------------------------------------------------------------

def test_lfs_pointer_in_an_lmeval_tree_says_git_lfs_pull(tmp_path):
    tree = tmp_path / "tree"
    shutil.copytree(FIXTURES / "lmeval_v043_nested", tree)
    for file in tree.rglob("*.json*"):
        file.write_text(LFS_POINTER)
    result = cli("import", str(tree), "-o", "-")
    assert result.returncode == 3
    assert "git lfs pull" in error_line(result)


@pytest.mark.parametrize("name", ["dump.csv", "responses.jsonl"])
def test_lfs_pointer_file_says_git_lfs_pull(tmp_path, name):
    (tmp_path / name).write_text(LFS_POINTER)
    for command in (["import", str(tmp_path / name), "-o", "-"], ["slice", str(tmp_path / name)]):
        result = cli(*command)
        assert result.returncode == 3 and "git lfs pull" in error_line(result), command


# 8. import does not demand a task column -----------------------------------------------------

def test_import_reads_a_long_table_without_task(tmp_path):
    (tmp_path / "d.csv").write_text("model,question,correct\nm1,q1,1\nm2,q1,0\n")
    result = cli("import", str(tmp_path / "d.csv"), "-o", "-")
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode().replace('"', "").splitlines()[1].startswith("m1,q1,,1")


# Every Eval Ever ---------------------------------------------------------------------------

def test_every_eval_ever_joins_runs_by_sample_hash():
    result = read_source(FIXTURES / "eee")
    assert result.kind == "every-eval-ever"
    rows = result.dump.to_pylist()
    by_model: dict[str, dict[str, int]] = {}
    for row in rows:
        by_model.setdefault(row["model"], {})[row["question"]] = row["correct"]
    small, large = by_model["EleutherAI/pythia-160m"], by_model["EleutherAI/pythia-410m"]
    assert set(small) == set(large) and len(small) == 4  # 4 questions, not 8: joined by hash
    # By hand (fixture README): 160m right on photosynthesis and Mercury; 410m also on 7 x 8.
    assert sum(small.values()) == 2 and sum(large.values()) == 3
    assert sum(small[q] and not large[q] for q in small) == 0
    assert {row["task"] for row in rows} == {"arc_easy"}


def test_every_eval_ever_without_hash_falls_back_to_sample_id(tmp_path):
    source = next((FIXTURES / "eee").rglob("*pythia-160m*/*_samples.jsonl"))
    lines = source.read_text().splitlines()
    lines[0] = lines[0].replace('"sample_hash": "', '"sample_hash": null, "x": "')
    (tmp_path / "a_samples.jsonl").write_text("\n".join(lines) + "\n")
    result = read_source(tmp_path / "a_samples.jsonl")
    assert result.dump.column("question").to_pylist()[0] == "arc_easy_0"
    assert any("matched by sample_id" in note for note in result.notes)


def test_every_eval_ever_missing_is_correct_names_the_line(tmp_path):
    source = next((FIXTURES / "eee").rglob("*pythia-160m*/*_samples.jsonl"))
    lines = source.read_text().splitlines()
    lines[2] = lines[2].replace('"is_correct": true', '"is_correct": null').replace(
        '"is_correct": false', '"is_correct": null')
    (tmp_path / "b_samples.jsonl").write_text("\n".join(lines) + "\n")
    with pytest.raises(InputDataError, match="line 3: the record has no evaluation.is_correct"):
        read_source(tmp_path / "b_samples.jsonl")


# Issue 10's bad input in the readers: one line, exit 3, never 1 ------------------------------

def test_latin1_bytes_in_a_csv(tmp_path):
    (tmp_path / "d.csv").write_bytes("model,question,correct\nm1,q1,1\nm\xe9,q1,0\n".encode("latin-1"))
    for command in ("slice", "import"):
        result = cli(command, str(tmp_path / "d.csv"), "-o", "-")
        assert result.returncode == 3, result.stderr
        line = error_line(result)
        assert "not UTF-8" in line and "row 2" in line and "iconv" in line


def test_duplicate_column(tmp_path):
    (tmp_path / "d.csv").write_text("model,question,correct,correct\nm1,q1,1,1\n")
    for command in ("slice", "import"):
        result = cli(command, str(tmp_path / "d.csv"), "-o", "-")
        assert result.returncode == 3 and "appears more than once" in error_line(result), command


def _parquet_dump(path: Path, flops: pa.Array | None = None, p_correct: pa.Array | None = None) -> None:
    models = [f"m{i}" for i in range(6) for _ in range(4)]
    columns = {"model": models, "question": [f"q{j}" for _ in range(6) for j in range(4)],
               "correct": pa.array([(i + j) % 2 for i in range(6) for j in range(4)], pa.int8())}
    if flops is not None:
        columns["flops"] = flops
    if p_correct is not None:
        columns["p_correct"] = p_correct
    pq.write_table(pa.table(columns), path)


def test_int64_flops_beyond_2_to_53_with_a_null(tmp_path):
    flops = pa.array([None if i == 0 else 2**60 + i * 2**55 for i in range(6) for _ in range(4)], pa.int64())
    _parquet_dump(tmp_path / "d.parquet", flops=flops)
    result = cli("slice", str(tmp_path / "d.parquet"), "-o", str(tmp_path / "s.csv"), "--groups", "2")
    assert result.returncode in (0, 3), result.stderr
    assert "Traceback" not in result.stderr.decode()
    assert result.returncode == 0, result.stderr


def test_uint64_flops_beyond_2_to_53(tmp_path):
    flops = pa.array([2**62 + i * 2**58 for i in range(6) for _ in range(4)], pa.uint64())
    _parquet_dump(tmp_path / "d.parquet", flops=flops)
    result = cli("slice", str(tmp_path / "d.parquet"), "-o", str(tmp_path / "s.csv"), "--groups", "2")
    assert result.returncode == 0, result.stderr


def test_float16_p_correct(tmp_path):
    p = pa.array(np.linspace(0.1, 0.9, 24).astype(np.float16), pa.float16())
    flops = pa.array([1e20 * 10**i for i in range(6) for _ in range(4)])
    _parquet_dump(tmp_path / "d.parquet", flops=flops, p_correct=p)
    result = cli("slice", str(tmp_path / "d.parquet"), "-o", str(tmp_path / "s.csv"), "--groups", "2")
    assert result.returncode == 0, result.stderr


def test_closed_stdin(tmp_path):
    result = subprocess.run([sys.executable, "-m", "slicesand", "slice", "-", "-o", str(tmp_path / "s.csv")],
                            stdin=subprocess.DEVNULL, capture_output=True, timeout=60, close_fds=True,
                            preexec_fn=lambda: __import__("os").close(0))
    assert result.returncode == 3, result.stderr
    assert "standard input" in error_line(result)


# Issue 12: the lm-eval importer on every core ----------------------------------------------

def test_lmeval_files_read_in_worker_processes_equal_the_serial_read(monkeypatch):
    from slicesand.ingest.importers import lmeval

    serial = read_source(FIXTURES / "lmeval_v043_nested")
    monkeypatch.setattr(lmeval, "PARALLEL_BYTES", 0)
    monkeypatch.setattr(lmeval.os, "cpu_count", lambda: 2)
    parallel = read_source(FIXTURES / "lmeval_v043_nested")
    assert parallel.dump.equals(serial.dump)
    assert parallel.notes == serial.notes


def test_an_error_in_a_worker_process_is_raised_as_itself(monkeypatch, tmp_path):
    from slicesand.ingest.importers import lmeval

    shutil.copytree(FIXTURES / "lmeval_truncated", tmp_path / "tree")
    shutil.copytree(FIXTURES / "lmeval_v043_nested" / "EleutherAI__pythia-410m-deduped",
                    tmp_path / "tree" / "EleutherAI__pythia-410m-deduped")
    monkeypatch.setattr(lmeval, "PARALLEL_BYTES", 0)
    monkeypatch.setattr(lmeval.os, "cpu_count", lambda: 2)
    with pytest.raises(InputDataError, match="line 3 is not valid JSON"):
        read_source(tmp_path / "tree")


# 4. Per-task errors describe the task, not the whole dump -----------------------------------

def test_a_task_error_names_the_task_models_only(tmp_path):
    """Task b's models are all far above the cut; the message must quote b's smallest model, not a's."""
    rows = ["model,question,task,correct,flops"]
    for i in range(6):
        rows += [f"small{i},q{j},a,{int((i + j) % 3 == 0)},{10 ** (19 + i / 2)}" for j in range(6)]
    for i in range(4):
        rows += [f"big{i},q{j},b,{int((i + j) % 2 == 0)},{10 ** (24 + i)}" for j in range(6)]
    (tmp_path / "d.csv").write_text("\n".join(rows) + "\n")
    result = cli("slice", str(tmp_path / "d.csv"), "--task", "b", "--cut", "1e23", "-o", str(tmp_path / "s.csv"))
    line = error_line(result)
    assert "1e+24" in line and "1e+19" not in line, line


def test_no_cut_hint_when_no_cut_was_set(tmp_path):
    rows = ["model,question,correct,flops"] + [f"m{i},q{j},{int((i + j) % 2)},{10 ** (20 + i)}"
                                              for i in range(2) for j in range(6)]
    (tmp_path / "d.csv").write_text("\n".join(rows) + "\n")
    result = cli("run", str(tmp_path / "d.csv"), "-o", str(tmp_path / "out"), "--no-figures", "--bootstrap", "0")
    assert result.returncode != 0
    assert "--cut" not in error_line(result)
