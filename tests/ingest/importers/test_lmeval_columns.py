"""The columnar lm-eval reader gives exactly what the record reader gives, or hands the file to it.

Every case is read twice: as `import` reads it (columns where the file allows, records otherwise),
and with the columnar reader switched off (the record reader alone, the reference). Dumps must be
equal to the byte once written as Parquet, notes equal, and errors equal in class, message and exit
code. Each case also says which reader must have read it, so a columnar reader that always gave up
would fail here rather than pass.
"""

from __future__ import annotations

import io
import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from slicesand.errors import SlicesandError
from slicesand.ingest.importers import ImportOptions, _lmeval_columns, lmeval, read_source
from tests.ingest.importers.conftest import LmevalWriter

MODEL = "org/model-a"
TIMESTAMP = "2024-05-01T10-00-00.000000"


def parquet_bytes(table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def outcome(root, options):
    """(parquet bytes, notes) of the import, or (error class, message, exit code)."""
    try:
        result = read_source(root, "lm-eval", options=options)
    except SlicesandError as error:
        return type(error), str(error), error.exit_code
    return parquet_bytes(result.dump), result.notes


def read_both(root, monkeypatch, options=ImportOptions()):
    """The import's outcome, the record reader's, and how many files the columnar reader read."""
    taken = []
    real = _lmeval_columns.read_columns

    def counting(samples, opts):
        columnar = real(samples, opts)
        taken.append(columnar is not None)
        return columnar

    monkeypatch.setattr(_lmeval_columns, "read_columns", counting)
    fast = outcome(root, options)
    monkeypatch.setattr(_lmeval_columns, "read_columns", lambda samples, opts: None)
    reference = outcome(root, options)
    monkeypatch.setattr(_lmeval_columns, "read_columns", real)
    return fast, reference, sum(taken)


def write_lines(root, task: str, lines: list[bytes] | bytes, model: str = MODEL, writer=None) -> None:
    directory = root / model.replace("/", "__")
    directory.mkdir(parents=True, exist_ok=True)
    if writer is not None and not (directory / f"results_{TIMESTAMP}.json").exists():
        (directory / f"results_{TIMESTAMP}.json").write_text(json.dumps(writer.results(model, [task])))
    body = lines if isinstance(lines, bytes) else b"".join(line + b"\n" for line in lines)
    (directory / f"samples_{task}_{TIMESTAMP}.jsonl").write_bytes(body)


def dumps(record: dict) -> bytes:
    return json.dumps(record).encode()


def mc_lines(writer, n: int = 6) -> list[bytes]:
    lls = [[-1.5, -0.25, -3.0, -2.0], [-0.5, -2.5, -1.0, -4.0], [-10.0, -9.0], [-1.0, -1.0, -2.0],
           [-7.25, -0.125, -3.5], [-2.0, -2.0, -2.0, -0.5]]
    gold = [1, 2, 1, 0, 1, 3]
    return [dumps(writer.mc_record(i, lls[i % 6], gold[i % 6])) for i in range(n)]


def gen_lines(writer, filters=("none",), values=(1.0, 0.0, 1.0, 1.0)) -> list[bytes]:
    return [dumps(writer.generative_record(i, name, value)) for name in filters for i, value in enumerate(values)]


def mutate(line: bytes, **changes) -> bytes:
    record = json.loads(line)
    for key, value in changes.items():
        if value is _DROP:
            record.pop(key, None)
        else:
            record[key] = value
    return dumps(record)


_DROP = object()


# Each case: name -> (lines built from the writer, options, columnar reader expected to read it).
def cases(w):
    mc, gen = mc_lines(w), gen_lines(w)
    return {
        "multiple choice, targets as strings": (mc, ImportOptions(), True),
        "multiple choice, targets as ints": ([mutate(line, target=json.loads(line)["doc"]["answer"]) for line in mc],
                                             ImportOptions(), True),
        "logged acc disagrees (cross-check note)": ([mutate(mc[0], acc=0.0), *mc[1:]], ImportOptions(), True),
        "logged acc missing in a record": ([mutate(mc[0], acc=_DROP), *mc[1:]], ImportOptions(), True),
        "several gold indices": ([mutate(mc[0], target="[0, 1]"), *mc[1:]], ImportOptions(), True),
        "target out of range (unresolved note)": ([mutate(mc[0], target="9"), *mc[1:]], ImportOptions(),
                                                           True),
        "target as the choice's text": ([mutate(mc[0], target="choice 1"), *mc[1:]], ImportOptions(), False),
        "acc_norm": (mc, ImportOptions(metric="acc_norm"), False),
        "CRLF line ends, no final newline": (b"\r\n".join(mc), ImportOptions(), True),
        "trailing blank lines": (b"\n".join(mc) + b"\n\n\n", ImportOptions(), True),
        "a blank line inside": ([*mc[:2], b"", *mc[2:]], ImportOptions(), False),
        "leading white space": ([b"  " + mc[0], *mc[1:]], ImportOptions(), False),
        "two records on one line": ([mc[0] + b" " + mc[1], *mc[2:]], ImportOptions(), False),
        "truncated last line": ([*mc[:-1], mc[-1][:40]], ImportOptions(), False),
        "a record without doc_id": ([mc[0], mutate(mc[1], doc_id=_DROP), *mc[2:]], ImportOptions(), False),
        "doc_id null": ([mc[0], mutate(mc[1], doc_id=None), *mc[2:]], ImportOptions(), False),
        "doc_id as a string": ([mutate(line, doc_id=f"q{i}") for i, line in enumerate(mc)], ImportOptions(), False),
        "doc_id as a float": ([mc[0], mutate(mc[1], doc_id=1.0), *mc[2:]], ImportOptions(), False),
        "doc_id twice": ([*mc, mc[0]], ImportOptions(), False),
        "NaN in a skipped field": ([mutate(mc[0], doc=float("nan")), *mc[1:]], ImportOptions(), False),
        "-Infinity in a skipped field": ([mutate(mc[0], doc=[float("-inf")]), *mc[1:]], ImportOptions(), False),
        "NaN-looking text goes to the record reader": ([mutate(line, doc="Information: Inf, NaN") for line in mc], ImportOptions(),
                                     False),
        "Inf in prose is fine": ([mutate(line, doc="Infinity and beyond") for line in mc], ImportOptions(), True),
        "invalid UTF-8 in a skipped field": ([mc[0].replace(b'"doc"', b'"\xff"'), *mc[1:]], ImportOptions(), False),
        "UTF-8 text": ([mutate(line, doc="é ü 中文") for line in mc], ImportOptions(), True),
        "byte order mark": ([b"\xef\xbb\xbf" + mc[0], *mc[1:]], ImportOptions(), False),
        "a log-likelihood that is not a number": (
            [mutate(mc[0], filtered_resps=[["-1.0", "False"], ["oops", "False"]]), *mc[1:]], ImportOptions(), False),
        "log-likelihoods as numbers": ([mutate(line, filtered_resps=[[-1.0, False], [-2.0, False]]) for line in mc],
                                       ImportOptions(), False),
        "is_greedy as a JSON bool in one record": (
            [mc[0], mutate(mc[1], filtered_resps=[["-1.0", False], ["-2.0", False]]), *mc[2:]], ImportOptions(), False),
        "a choice without its pair": ([mc[0], mutate(mc[1], filtered_resps=[["-1.0"], ["-2.0", "False"]]), *mc[2:]],
                                      ImportOptions(), False),
        "only resps logged": ([mutate(line, filtered_resps=_DROP) for line in mc], ImportOptions(), False),
        "a record that is not an object": ([*mc, b"[1, 2]"], ImportOptions(), False),
        "an empty file": (b"", ImportOptions(), False),
        "generative": (gen, ImportOptions(), True),
        "generative, a metric missing": ([gen[0], mutate(gen[1], exact_match=_DROP), *gen[2:]], ImportOptions(), True),
        "generative, metric 0.5": ([gen[0], mutate(gen[1], exact_match=0.5), *gen[2:]], ImportOptions(), False),
        "generative, metric true": ([gen[0], mutate(gen[1], exact_match=True), *gen[2:]], ImportOptions(), False),
        "generative, metric as a string": ([gen[0], mutate(gen[1], exact_match="1"), *gen[2:]], ImportOptions(), False),
        "generative, two filters, first taken": (gen_lines(w, ("strict-match", "flexible-extract")), ImportOptions(),
                                                 True),
        "generative, two filters, second chosen": (gen_lines(w, ("strict-match", "flexible-extract"), (0.0, 1.0)),
                                                   ImportOptions(filter_name="flexible-extract"), True),
        "generative, filter not logged": (gen_lines(w, ("a", "b")), ImportOptions(filter_name="c"), False),
        "generative, only filter differs from the asked one": (gen, ImportOptions(filter_name="strict"), True),
        "generative, filter null": ([mutate(gen[0], filter=None), *gen[1:]], ImportOptions(), False),
        "generative, no filter key": ([mutate(line, filter=_DROP) for line in gen], ImportOptions(), True),
        "generative, chosen metric": ([mutate(line, my_score=1.0) for line in gen],
                                      ImportOptions(correct_metric="my_score"), True),
        "generative, chosen metric not logged": (gen, ImportOptions(correct_metric="nope"), False),
        "generative, no 0/1 metric": ([mutate(line, exact_match=_DROP) for line in gen], ImportOptions(), False),
        "metric named like a kept field": (gen, ImportOptions(correct_metric="target"), False),
        "mixed: generative then multiple choice": ([*gen, *mc], ImportOptions(), False),
    }


CASE_NAMES = list(cases(LmevalWriter))


@pytest.mark.parametrize("name", CASE_NAMES)
def test_columnar_reader_matches_the_record_reader(name, tmp_path, monkeypatch, lmeval_writer):
    lines, options, columnar = cases(lmeval_writer)[name]
    write_lines(tmp_path, "task_a", lines, writer=lmeval_writer)

    fast, reference, taken = read_both(tmp_path, monkeypatch, options)

    assert fast == reference
    assert taken == int(columnar)


def test_record_reader_errors_name_the_line(tmp_path, monkeypatch, lmeval_writer):
    # The reference itself, so that equality above means the messages users see are unchanged.
    mc = mc_lines(lmeval_writer)
    write_lines(tmp_path, "task_a", [*mc[:3], mc[3][:40], *mc[4:]], writer=lmeval_writer)

    fast, reference, _ = read_both(tmp_path, monkeypatch)

    assert fast == reference
    kind, message, exit_code = fast
    assert "line 4 is not valid JSON" in message and "samples_task_a" in message and exit_code == 3


def test_a_tree_of_models_and_tasks_in_worker_processes(tmp_path, monkeypatch, lmeval_writer):
    # Several models, tasks and file shapes, read by the process pool (as a big tree would be),
    # in file order whichever reader read each file.
    monkeypatch.setattr(lmeval, "PARALLEL_BYTES", 0)
    mc, gen = mc_lines(lmeval_writer), gen_lines(lmeval_writer, ("strict-match", "flexible-extract"))
    for index, model in enumerate(["org/m1", "org/m2", "other/m3"]):
        write_lines(tmp_path, "arc", mc[index:], model=model, writer=lmeval_writer)
        write_lines(tmp_path, "gsm8k", gen, model=model, writer=lmeval_writer)
    write_lines(tmp_path, "arc_blank", [*mc[:2], b"", *mc[2:]], model="org/m2", writer=lmeval_writer)

    fast, reference, taken = read_both(tmp_path, monkeypatch)

    assert fast == reference
    assert isinstance(fast[0], bytes) and len(fast[1]) > 0
    assert taken == 0  # the workers' calls are not counted here; the parent read nothing itself


def test_a_tree_read_in_this_process_takes_columns_for_plain_files(tmp_path, monkeypatch, lmeval_writer):
    mc, gen = mc_lines(lmeval_writer), gen_lines(lmeval_writer)
    for model in ["org/m1", "org/m2"]:
        write_lines(tmp_path, "arc", mc, model=model, writer=lmeval_writer)
        write_lines(tmp_path, "gsm8k", gen, model=model, writer=lmeval_writer)
    write_lines(tmp_path, "arc_blank", [*mc[:2], b"", *mc[2:]], model="org/m2", writer=lmeval_writer)

    fast, reference, taken = read_both(tmp_path, monkeypatch)

    assert fast == reference
    assert taken == 4


_log_likelihood = st.one_of(
    st.floats(-50, 0, allow_nan=False).map(repr),
    st.sampled_from(["-1.5", "-0", "0", "-1e-5", "-3.25E+1", "-1_0", " -2.5", "nan", "-inf", "x", ""]),
)
_target = st.one_of(st.integers(-1, 5), st.integers(-1, 5).map(str), st.just("[0, 2]"), st.just("choice 1"))
_record = st.fixed_dictionaries(
    {
        "n_choices": st.integers(1, 5),
        "lls": st.lists(_log_likelihood, min_size=5, max_size=5),
        "target": _target,
        "acc": st.sampled_from([0.0, 1.0, None, "missing"]),
        "filter": st.sampled_from(["none", "none", "none", "other"]),
    }
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=st.lists(_record, min_size=1, max_size=8), filter_name=st.sampled_from([None, "other"]))
def test_random_multiple_choice_files_read_alike(records, filter_name, tmp_path_factory, lmeval_writer):
    root = tmp_path_factory.mktemp("random")
    lines = []
    for doc_id, spec in enumerate(records):
        record = lmeval_writer.mc_record(doc_id, [-1.0] * spec["n_choices"], 0)
        record["filtered_resps"] = [[ll, "False"] for ll in spec["lls"][: spec["n_choices"]]]
        record["target"] = spec["target"]
        record["filter"] = spec["filter"]
        if spec["acc"] == "missing":
            del record["acc"]
        else:
            record["acc"] = spec["acc"]
        lines.append(dumps(record))
    write_lines(root, "task_r", lines, writer=lmeval_writer)
    with pytest.MonkeyPatch.context() as monkeypatch:
        fast, reference, _ = read_both(root, monkeypatch, ImportOptions(filter_name=filter_name))
    assert fast == reference


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(st.floats(allow_nan=False).map(repr), st.floats(width=32).map(str),
                      st.text(alphabet="0123456789+-.eE_ naifINFty\u0661", max_size=12)))
def test_log_likelihood_strings_read_as_python_reads_them(text):
    # The columnar reader lets Arrow's cast read the log-likelihood strings it can; it must never
    # accept what Python's float rejects, nor read a number differently.
    strings = pa.array([text, "-1.25"])
    try:
        expected = np.array([text, "-1.25"], dtype=np.float64)  # the record reader's reading
    except ValueError:
        with pytest.raises(_lmeval_columns._NeedsRecords):
            _lmeval_columns._parse_floats(strings)
        return
    read = _lmeval_columns._parse_floats(strings)
    np.testing.assert_array_equal(read, expected)
    np.testing.assert_array_equal(np.signbit(read), np.signbit(expected))  # -0.0 stays -0.0


@pytest.mark.parametrize("word", [b"NaN", b"-Infinity", b"Inf"])
def test_scan_finds_a_word_across_its_pieces(word, monkeypatch):
    # Scanned in 4-byte pieces here, so every word sits across a boundary at some padding.
    monkeypatch.setattr(_lmeval_columns, "_SCAN_BYTES", 4)
    for pad in range(9):
        as_value = b'{"a":' + b" " * pad + word + b"}\n" + b'{"b": 1}'
        in_text = b'{"a": "' + b"x" * pad + word + b'"}\n' + b'{"b": 1}'
        for text, expected in ((as_value, True), (in_text, False)):
            line_breaks, non_json_number = _lmeval_columns._scan(text, np.frombuffer(text, np.uint8))
            assert non_json_number == expected, text
            assert expected or line_breaks == 1  # (the scan stops at the first such word)
