"""The slicing scans as SQL, run out of core by DuckDB on Parquet files, folders and globs.

Slicing needs two passes over a dump, and both are plain SQL (``scan_sql``):

1. **questions**: each question's mean TC Brier over the reference models (its difficulty), ranked
   easiest first on exact fixed-point sums (:data:`slicesand.slicing.difficulty.FIXED_POINT`) with ties
   broken by question id then task (as text), and cut into G groups at
   ``floor(k * (Q / G))`` (double arithmetic, exactly as :func:`slicesand.slicing.difficulty.group_boundaries`
   computes ``floor(linspace(0, Q, G + 1))``);
2. **models**: each model's answers, TC Brier and correctness sums, and its score sums and answer
   counts per group (joined to the questions' groups).

The scans read a relation ``dump`` (the long table) and ``models(model, flops)`` (the scales, from the
dump's flops column, ``--models`` or the bundled table), and the second reads ``question_groups`` (the
first scan's result). ``slicesand slice --emit-sql`` prints them for a given dump schema; the same text
runs unchanged on DuckDB, Trino, Spark SQL and BigQuery (``dialect`` names only the double, string
and integer types, and how a column name is quoted). :func:`scan_dump` runs them in DuckDB (imported lazily), which streams the files on every core
in bounded memory, and hands the sums to :func:`slicesand.slicing.difficulty.slice_from_sums`, the same
code that builds the result of the in-memory numpy path. ``tests/slicing/test_scans.py`` pins the two
paths together (to 1e-12) on every test dump.

>>> print(scan_sql(groups=2, cut=1e22).questions.splitlines()[0])
CREATE TABLE question_groups AS
"""

from __future__ import annotations

import glob as globbing
import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from slicesand.errors import InputDataError, UsageError
from slicesand.ingest.dump import (CORRECT_EXPECTED, DUMP_HINT, FLOPS_EXPECTED, NAME_LINE_BREAK, NAME_LINE_BREAK_HINT,
                                   P_EXPECTED, DumpColumns, duplicate_row, flops_conflict, no_score_problem,
                                   no_such_task, partial_score_notes)
from slicesand.io.id_text import SCAN_TIME_ZONE, duckdb_text, refuse_id_type, refused_duckdb_kind
from slicesand.io.tables import Source, preview, reject_repeated_columns, sha256_file
from slicesand.slicing.query_interrupts import InterruptibleConnection

DIALECTS = {"duckdb": ("DOUBLE", "VARCHAR", "BIGINT"), "trino": ("DOUBLE", "VARCHAR", "BIGINT"),
            "spark": ("DOUBLE", "STRING", "BIGINT"), "bigquery": ("FLOAT64", "STRING", "INT64")}
#: Each dialect's integer type for :func:`exact_sum`'s terms (up to 2^52 each), whose SUM is exact for
#: up to 1e20 rows: DuckDB sums BIGINT as a HUGEINT (and faster than HUGEINT terms); the others sum
#: a DECIMAL(38, 0) or BIGNUMERIC in that type, where a BIGINT sum could overflow.
EXACT_SUM_TYPES = {"duckdb": "BIGINT", "trino": "DECIMAL(38, 0)", "spark": "DECIMAL(38, 0)",
                   "bigquery": "BIGNUMERIC"}
#: Fixed point of the scans' sums of scores and probabilities (in [-1, 1]): 2^52, the finest step that
#: still leaves each term an integer exactly (a term is off by at most 2^-53, a double's own rounding).
SUM_SCALE = "4503599627370496e0"
PARQUET_SUFFIXES = (".parquet", ".pq")


@dataclass(frozen=True)
class ScanSQL:
    """The two scans: ``questions`` creates ``question_groups``; ``models`` selects one row per model
    and group. With a second cut of the same ranking (``scan_sql(spectrum_groups=...)``, DuckDB only),
    ``buckets`` makes the second scan's pass over the dump once, into exact integer sums per model,
    group and spectrum group, and :meth:`models_by` sums those for either cut."""

    questions: str
    models: str
    buckets: str | None = None
    bucket_sums: str | None = None  # models_by's SELECT, with {group} for the column to group by

    def models_by(self, column: str) -> str:
        """One row per model and group of ``column`` (``difficulty_group`` or ``spectrum_group``), from the
        table ``buckets`` made: the same columns and the same numbers as ``models`` for that cut."""
        if self.bucket_sums is None:
            raise ValueError("ScanSQL.models_by: these scans were made without spectrum_groups")
        return self.bucket_sums.format(group=column)

    def script(self) -> str:
        return (f"-- scan 1 of 2: question difficulty on the reference models, ranked into groups\n"
                f"{self.questions};\n\n-- scan 2 of 2: per-model group means, accuracy and coverage\n"
                f"{self.models};\n")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_identifier(name: str, dialect: str = "duckdb") -> str:
    r"""A column name quoted as ``dialect`` reads it: DuckDB and Trino take the standard double quotes,
    which Spark SQL and BigQuery read as a string literal; they take backticks.

    >>> quote_identifier('a"b'), quote_identifier("a`b", "spark"), quote_identifier("a`b", "bigquery")
    ('"a""b"', '`a``b`', '`a\\`b`')
    """
    if dialect == "spark":
        return "`" + name.replace("`", "``") + "`"
    if dialect == "bigquery":
        return "`" + name.replace("\\", "\\\\").replace("`", "\\`") + "`"
    return _quote(name)


def scan_sql(*, groups: int, cut: float | None, columns: DumpColumns = DumpColumns(), has_task: bool = False,
             has_correct: bool = True, has_p_correct: bool = True, text_ids: bool = True,
             scales_in_dump: bool = False, dialect: str = "duckdb", accuracy_from: str = "correct",
             checksum: bool = False, hash_keys: bool = False, spectrum_groups: int | None = None) -> ScanSQL:
    """The SQL of both scans for a dump with these columns.

    ``cut`` (FLOPs) makes the models below it the reference; ``None`` makes every model with a scale one.
    ``scales_in_dump`` reads each model's FLOPs from the dump's own flops column (no ``models`` table).
    ``text_ids`` False casts the question ids (and tasks) to text for the tie-break, as slicesand does.
    ``accuracy_from`` names the column whose mean is the accuracy (``correct``; ``p_correct`` for a
    dump of probabilities only). ``checksum`` (DuckDB only) adds a sum of question hashes per model,
    with which :class:`DumpScanner` proves each (model, question) pair unique; ``hash_keys`` (DuckDB
    only) joins the second scan on a 64-bit hash of the question instead of its text (faster; the
    caller checks that no two questions share a hash). ``spectrum_groups`` (DuckDB only) also cuts the
    ranking into that many groups (``spectrum_group``) and adds :attr:`ScanSQL.buckets`: the sums of
    both cuts from one pass over the dump (``run``'s slices and its spectrum).
    """
    if dialect not in DIALECTS:
        raise UsageError(None, f"unknown SQL dialect '{dialect}'", hint=f"use one of {', '.join(DIALECTS)}")
    if spectrum_groups is not None and dialect != "duckdb":
        raise ValueError("scan_sql: spectrum_groups makes DuckDB's SQL only (the embedded engine's own pass)")
    double, text, integer = DIALECTS[dialect]
    if not (has_correct or has_p_correct):
        raise UsageError(None, "a dump needs a correct or a p_correct column to be scanned", hint=DUMP_HINT)
    def column(name: str) -> str:
        return f"d.{quote_identifier(name, dialect)}"

    model, question = column(columns.model), column(columns.question)
    task = column(columns.task) if has_task else "''"
    correct, p_correct = column(columns.correct), column(columns.p_correct)
    parts = [f"CAST({p_correct} AS {double})"] * has_p_correct + [f"CAST({correct} AS {double})"] * has_correct
    p = parts[0] if len(parts) == 1 else f"COALESCE({', '.join(parts)})"
    score = f"(0e0 - (1e0 - {p}) * (1e0 - {p}))"  # TC Brier; 0 - x so a perfect answer is 0, not -0
    flops = column(columns.flops) if scales_in_dump else "m.flops"
    scales = "" if scales_in_dump else f" LEFT JOIN models AS m ON {model} = m.model"
    reference = f"{flops} IS NOT NULL" if cut is None else f"{flops} < {float(cut)!r}"
    tie_id = "question" if text_ids else f"CAST(question AS {text})"
    tie_task = "task" if text_ids or not has_task else f"CAST(task AS {text})"
    hashed = f", hash(question{', task' if has_task else ''}) AS question_hash" if hash_keys else ""
    cases = _group_cases(groups, "n_ranked")
    spectrum, spectrum_null = "", ""
    if spectrum_groups is not None:
        spectrum = f",\n       CASE {_group_cases(spectrum_groups, 'n_ranked')} ELSE {spectrum_groups} END AS spectrum_group"
        spectrum_null = ", NULL"
    group_keys = f"{task}, {question}" if has_task else question  # BigQuery groups by no constant ('')
    questions = f"""CREATE TABLE question_groups AS
WITH per_question AS (
  SELECT {task} AS task, {question} AS question,
         SUM(CASE WHEN {reference} THEN CAST(FLOOR({score} * 1099511627776e0) AS {integer}) END) AS reference_key,
         SUM(CASE WHEN {reference} THEN 1 ELSE 0 END) AS reference_answers
  FROM dump AS d{scales}
  GROUP BY {group_keys}
),
ranked AS (
  SELECT task, question, CAST(reference_key AS {double}) / 1099511627776e0 / reference_answers AS difficulty,
         reference_answers,
         ROW_NUMBER() OVER (ORDER BY CAST(reference_key AS {double}) / reference_answers DESC,
                                     {tie_id}, {tie_task}) - 1 AS position,
         COUNT(*) OVER () AS n_ranked
  FROM per_question WHERE reference_answers > 0
)
SELECT task, question, difficulty, reference_answers, position,
       CASE {cases} ELSE {groups} END AS difficulty_group{spectrum}{hashed}
FROM ranked
UNION ALL
SELECT task, question, NULL, 0, NULL, NULL{spectrum_null}{hashed} FROM per_question WHERE reference_answers = 0"""
    if accuracy_from == "p_correct":  # the mean probability (rows without one count their correctness)
        accuracy_sums = f"{exact_sum(p, dialect)} AS correct_sum, COUNT(*) AS correct_known"
    elif has_correct:
        accuracy_sums = f"SUM(CAST({correct} AS {double})) AS correct_sum, COUNT({correct}) AS correct_known"
    else:
        accuracy_sums = "NULL AS correct_sum, 0 AS correct_known"
    row_hash = f"hash({question}{', ' + task if has_task else ''})"
    match = (f"{row_hash} = g.question_hash" if hash_keys
             else f"{question} = g.question" + (f" AND {task} = g.task" if has_task else ""))
    sums = f", CAST(SUM({'g.question_hash' if hash_keys else row_hash}) AS VARCHAR) AS checksum" if checksum else ""
    models = f"""SELECT {model} AS model, g.difficulty_group AS difficulty_group, COUNT(*) AS answered,
       {exact_sum(score, dialect)} AS score_sum, {accuracy_sums}{sums}
FROM dump AS d{scales}
  JOIN question_groups AS g ON {match}
WHERE {flops} IS NOT NULL
GROUP BY {model}, g.difficulty_group"""
    if spectrum_groups is None:
        return ScanSQL(questions, models)
    return ScanSQL(questions, models, *_bucket_sql(
        score=score, p=p, correct=correct, model=model, scales=scales, match=match, flops=flops,
        accuracy_from=accuracy_from, has_correct=has_correct,
        checksum_of=("g.question_hash" if hash_keys else row_hash) if checksum else None))


def _bucket_sql(*, score: str, p: str, correct: str, model: str, scales: str, match: str, flops: str,
                accuracy_from: str, has_correct: bool, checksum_of: str | None) -> tuple[str, str]:
    """:attr:`ScanSQL.buckets` and :attr:`ScanSQL.bucket_sums` (DuckDB): per (model, group, spectrum
    group) the answers and the exact integer sums of :func:`exact_sum` (and of the question hashes),
    then, per model and group of either cut, their sums made doubles as :func:`exact_sum` makes them.
    An integer sum of integer sums is the same integer, so each cut's numbers are the bits of its own
    scan; the correctness of a ``correct`` column is 0 or 1, so its double sums are exact too."""
    if accuracy_from == "p_correct":
        accuracy, accuracy_sums = (f"{exact_units(p)} AS correct_units, COUNT(*) AS correct_known",
                                   f"{from_units('SUM(correct_units)')} AS correct_sum, "
                                   f"CAST(SUM(correct_known) AS BIGINT) AS correct_known")
    elif has_correct:
        accuracy, accuracy_sums = (f"SUM(CAST({correct} AS DOUBLE)) AS correct_sum, COUNT({correct}) AS correct_known",
                                   "SUM(correct_sum) AS correct_sum, CAST(SUM(correct_known) AS BIGINT) AS correct_known")
    else:
        accuracy, accuracy_sums = "0 AS correct_known", "NULL AS correct_sum, 0 AS correct_known"
    hashes, checksum = ((f", SUM({checksum_of}) AS hash_sum", ", CAST(SUM(hash_sum) AS VARCHAR) AS checksum")
                        if checksum_of is not None else ("", ""))
    buckets = f"""CREATE OR REPLACE TEMP TABLE buckets AS
SELECT {model} AS model, g.difficulty_group AS difficulty_group, g.spectrum_group AS spectrum_group,
       COUNT(*) AS answered, {exact_units(score)} AS score_units, {accuracy}{hashes}
FROM dump AS d{scales}
  JOIN question_groups AS g ON {match}
WHERE {flops} IS NOT NULL
GROUP BY {model}, g.difficulty_group, g.spectrum_group"""
    sums = f"""SELECT model, {{group}} AS difficulty_group, CAST(SUM(answered) AS BIGINT) AS answered,
       {from_units('SUM(score_units)')} AS score_sum, {accuracy_sums}{checksum}
FROM buckets
GROUP BY model, {{group}}"""
    return buckets, sums


def exact_sum(value: str, dialect: str = "duckdb") -> str:
    """SQL for the sum of ``value`` (a double in [-1, 1]) in fixed point: each term rounded to 2^-52 and
    summed as an exact integer, then made a double again.

    A parallel engine adds a column's doubles in whichever order its threads finish, and a double sum
    depends on its order in the last bits: the same dump sliced twice gave different bytes. An integer
    sum does not depend on its order.

    >>> exact_sum("x")
    'CAST(SUM(CAST(ROUND(x * 4503599627370496e0) AS BIGINT)) AS DOUBLE) / 4503599627370496e0'
    """
    return from_units(exact_units(value, dialect), dialect)


def exact_units(value: str, dialect: str = "duckdb") -> str:
    """SQL for :func:`exact_sum`'s integer sum (of ``value`` in units of 2^-52), before it is a double.

    >>> exact_units("x")
    'SUM(CAST(ROUND(x * 4503599627370496e0) AS BIGINT))'
    """
    return f"SUM(CAST(ROUND({value} * {SUM_SCALE}) AS {EXACT_SUM_TYPES[dialect]}))"


def from_units(units: str, dialect: str = "duckdb") -> str:
    """SQL for an integer sum of :func:`exact_units` made the double it stands for."""
    return f"CAST({units} AS {DIALECTS[dialect][0]}) / {SUM_SCALE}"


def _group_cases(groups: int, n_ranked: str) -> str:
    """The CASE arms putting a 0-based ``position`` among ``n_ranked`` ranked questions in its group."""
    return " ".join(f"WHEN position < FLOOR({k} * ({n_ranked} * 1e0 / {groups})) THEN {k}" for k in range(1, groups))


def regroup_sql(groups: int, n_ranked: int) -> str:
    """``question_groups`` for ``groups`` groups from ``ranked_questions`` (the first scan's table, same
    ranking): only the cut into groups changes, with the same arithmetic as the first scan.

    >>> print(regroup_sql(2, 10).splitlines()[1])
           CASE WHEN position IS NULL THEN NULL WHEN position < FLOOR(1 * (10 * 1e0 / 2)) THEN 1 ELSE 2 END AS difficulty_group,
    """
    return f"""CREATE TABLE question_groups AS SELECT task, question, difficulty, reference_answers, position,
       CASE WHEN position IS NULL THEN NULL {_group_cases(groups, str(int(n_ranked)))} ELSE {groups} END AS difficulty_group,
       question_hash
FROM ranked_questions"""


# --- running the scans in DuckDB ---------------------------------------------------------------

def is_scannable(path: str | Path) -> bool:
    """Whether DuckDB takes this input: a Parquet file, a folder of Parquet files (hive-partitioned or
    not), or a glob of Parquet files."""
    text = str(path)
    if text == "-":
        return False
    if any(c in text for c in "*?["):
        return bool(_files(text))
    path = Path(text)
    if path.is_dir():
        return bool(_files(text))
    return path.is_file() and path.suffix.lower() in PARQUET_SUFFIXES


def _files(text: str) -> list[str]:
    if os.path.isdir(text):
        found = [str(p) for p in sorted(Path(text).rglob("*")) if p.is_file()]
        return found if found and all(p.lower().endswith(PARQUET_SUFFIXES) for p in found) else []
    if any(c in text for c in "*?["):
        return sorted(p for p in globbing.glob(text, recursive=True) if os.path.isfile(p))
    return [text] if os.path.isfile(text) else []


def files_sha256(files: list[str], root: str) -> str:
    """sha256 of one file's bytes, or of several files' relative paths and bytes in sorted order."""
    digest = hashlib.sha256()
    for file in files:
        if len(files) > 1:
            digest.update(os.path.relpath(file, root).encode() + b"\0")
        sha256_file(Path(file), digest)
    return digest.hexdigest()


@dataclass
class ScannedDump:
    """What the scans found: per-model and per-question sums, for :func:`slice_from_sums`."""

    source: Source
    model_names: np.ndarray
    flops_by_model: np.ndarray | None  # from the dump's flops column; None without one
    question_ids: np.ndarray
    question_tasks: np.ndarray
    has_correct: bool
    has_p_correct: bool


class DumpScanner:
    """A DuckDB connection over one dump (file, folder or glob), with its columns checked."""

    def __init__(self, path: str | Path, columns: DumpColumns = DumpColumns(), *, threads: int | None = None,
                 memory_limit: str | None = None) -> None:
        import duckdb  # lazily: only this path needs it

        self.name, self.columns = str(path), columns
        self.files = _files(str(path))
        if not self.files:
            raise InputDataError(self.name, "no Parquet file found", hint="give a .parquet file, a folder or a glob")
        root = str(path) if os.path.isdir(str(path)) else os.path.dirname(self.files[0])
        self._hash = ThreadPoolExecutor(max_workers=1).submit(files_sha256, self.files, root)
        # A small allocator cache: memory the scans freed goes back to the system before ``run`` builds
        # its matrices (DuckDB keeps 128 MB by default).
        self.connection = InterruptibleConnection(duckdb.connect(config={
            "threads": threads or os.cpu_count() or 1, "allocator_flush_threshold": "16MB",
            **({"memory_limit": memory_limit} if memory_limit else {})}))
        hive = os.path.isdir(str(path)) and any("=" in Path(f).parent.name for f in self.files)
        file_list = "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in self.files) + "]"
        if all(f.lower().endswith(PARQUET_SUFFIXES) for f in self.files):
            self.reader = f"read_parquet({file_list}, hive_partitioning = {str(hive).lower()}, union_by_name = true)"
        else:  # a CSV: only --emit-sql reads one here (for its schema); slicing reads CSV in memory
            # RFC 4180, as pyarrow reads it: DuckDB's sniffer looks at the first 20,480 rows only, and
            # there finding no quote it read a quoted line break further down as the end of a row.
            self.reader = (f"read_csv({file_list}, header = true, delim = ',', quote = '\"', escape = '\"', "
                           "union_by_name = true)")
        if self.reader.startswith("read_parquet"):
            _reject_repeated_columns_in(self.files)
        schema = self.connection.execute(f"DESCRIBE SELECT * FROM {self.reader}").fetchall()
        self.types = {row[0]: row[1] for row in schema}  # as stored (the view below turns ids into text)
        for required in (columns.model, columns.question):
            if required not in self.types:
                raise InputDataError(self.name, f"missing column '{required}'; found {preview(self.types)}",
                                     hint=DUMP_HINT)  # as the in-memory reader says it
        # Ids of another type than text or integers are read as the in-memory reader's text (id_text).
        as_text: dict[str, str] = {}  # column: the SQL that replaces it in the view
        for column in (columns.model, columns.question, columns.task):
            if column in self.types:
                refused = refused_duckdb_kind(str(self.types[column]))
                if refused is not None:
                    refuse_id_type(self.name, column, refused)
                text = duckdb_text(_quote(column), str(self.types[column]))
                if text is not None:
                    as_text[column] = text
        if as_text:  # a timestamp with a time zone is written in UTC, whatever the machine's zone
            self.connection.execute(f"SET TimeZone = '{SCAN_TIME_ZONE}'")
        self._task_filter: str | None = None  # the condition of the task :meth:`scan` last read
        self._replacements = as_text
        self._define_views()
        self._nan_free: set[str] = set()  # the float score and FLOPs columns known to hold no NaN
        self._text_numbers: set[str] = set()  # score and FLOPs columns stored as text, read as DOUBLE
        self._read_text_numbers()
        self.has_correct = columns.correct in self.types
        self.has_p_correct = columns.p_correct in self.types
        if not (self.has_correct or self.has_p_correct):
            raise InputDataError(self.name, f"needs a '{columns.correct}' or a '{columns.p_correct}' column",
                                 found=", ".join(self.types), hint=DUMP_HINT)
        self.has_task = columns.task in self.types
        self.has_flops = columns.flops in self.types
        # Set by each :func:`scan_dump`: the scanned task and its questions in tie order (for :meth:`cells`).
        self.question_ids: np.ndarray | None = None
        self.task: str | None = None
        self._scores_checked = False
        self._ranking: tuple | None = None  # what the table ranked_questions was ranked for
        self._n_ranked = 0
        # ((ranking, groups, accuracy_from), per-model sums) of a second cut made in the last scan's pass
        # (run's spectrum)
        self._kept_sums: tuple | None = None
        self._tasks: list[str] | None = None
        self._check_counts: list[int] | None = None  # the score checks' counts, from models()
        self.notes: list[str] = []  # about the input, once the scores are checked (as Dump.notes)
        self._flops_gaps = False  # some model has rows with and rows without FLOPs (set by models())

    def _define_views(self) -> None:
        """The view ``dump`` of the rows (ids as text, NaN as empty where found, ...), and the same rows with
        each one's file and (0-based) row number, read only to name a bad row."""
        replace = (f"REPLACE ({', '.join(f'{sql} AS {_quote(c)}' for c, sql in self._replacements.items())}) "
                   if self._replacements else "")
        self._rows = f"SELECT * {replace}FROM {self.reader}"
        self._numbered_rows = f"SELECT * {replace}FROM " + self.reader.replace(
            "union_by_name = true", "union_by_name = true, filename = true, file_row_number = true")
        where = f" WHERE {self._task_filter}" if self._task_filter else ""
        self.connection.execute(f"CREATE OR REPLACE VIEW dump AS SELECT * FROM ({self._rows}){where}")

    def _numbers(self) -> dict[str, str]:
        """The score and FLOPs columns the dump has, and what each must hold (as the in-memory reader
        says it)."""
        c = self.columns
        return {column: expected for column, expected in ((c.correct, CORRECT_EXPECTED), (c.p_correct, P_EXPECTED),
                                                          (c.flops, FLOPS_EXPECTED)) if column in self.types}

    def _read_text_numbers(self) -> None:
        """Score or FLOPs columns stored as text are read as numbers (DOUBLE, 'nan' a NaN, as pyarrow
        reads them), after the first cell that is not one (nor empty) is named, as the in-memory reader
        names it."""
        for column, expected in self._numbers().items():
            if str(self.types[column]).upper() != "VARCHAR":
                continue
            number = f"TRY_CAST(d.{_quote(column)} AS DOUBLE)"
            file, row, value = self._first_bad_row(f"d.{_quote(column)} IS NOT NULL AND {number} IS NULL",
                                                   f"d.{_quote(column)}")
            if row:
                raise InputDataError(file, f"not a number; expected {expected}", column=column, row=row, found=value)
            self._replacements[column] = number.replace("d.", "", 1)
            self._text_numbers.add(column)
            self._define_views()

    def _float_columns(self) -> list[str]:
        """The score and FLOPs columns that may hold a NaN (floats, or text read as numbers) and have not
        been looked at for one."""
        return [column for column in self._numbers() if column not in self._nan_free
                and (str(self.types[column]).upper() in ("DOUBLE", "FLOAT") or column in self._text_numbers)]

    def _read_nan_as_empty(self, floats: list[str]) -> bool:
        """Whether one of the ``floats`` columns holds a NaN (not an infinity); the view then reads NaN
        there as NULL."""
        self._nan_free.update(floats)
        counts = self.connection.execute("SELECT " + ", ".join(
            f"SUM(CASE WHEN NOT isfinite({_quote(column)}) AND NOT isinf({_quote(column)}) THEN 1 ELSE 0 END)"
            for column in floats) + " FROM dump").fetchall()[0]
        value = {column: self._replacements.get(column, _quote(column)) for column in floats}
        nan = [column for column, count in zip(floats, counts) if count]
        for column in nan:
            self._replacements[column] = (f"CASE WHEN isfinite({value[column]}) OR isinf({value[column]}) "
                                          f"THEN {value[column]} END")
        if nan:
            self._define_views()
        return bool(nan)

    def source(self) -> Source:
        return Source(Path(self.name).name if len(self.files) == 1 else self.name.rstrip("/").split("/")[-1],
                      self._hash.result())

    def sql(self, groups: int, cut: float | None, dialect: str = "duckdb", *, scales_in_dump: bool | None = None,
            checksum: bool = False, hash_keys: bool = False, one_task: bool = False,
            accuracy_from: str = "correct", spectrum_groups: int | None = None) -> ScanSQL:
        """The scans for this dump; ``one_task`` leaves the task out of the keys (the dump, or the view
        of it, holds a single task)."""
        text_ids = all(self.types.get(c, "VARCHAR") == "VARCHAR" for c in (self.columns.question, self.columns.task))
        return scan_sql(groups=groups, cut=cut, columns=self.columns, has_task=self.has_task and not one_task,
                        has_correct=self.has_correct, has_p_correct=self.has_p_correct, text_ids=text_ids,
                        scales_in_dump=self.has_flops if scales_in_dump is None else scales_in_dump,
                        dialect=dialect, checksum=checksum, hash_keys=hash_keys, accuracy_from=accuracy_from,
                        spectrum_groups=spectrum_groups)

    def _first_bad_row(self, condition: str, value: str = "NULL") -> tuple[str, int, object]:
        """The file, row (1-based) and ``value`` (an SQL expression) of the first row matching
        ``condition`` (only on the error path)."""
        found = self.connection.execute(f"SELECT filename, file_row_number, {value} FROM ({self._numbered_rows}) "
                                        f"AS d WHERE {condition} ORDER BY filename, file_row_number LIMIT 1").fetchall()
        return (found[0][0], int(found[0][1]) + 1, found[0][2]) if found else (self.name, 0, None)

    def _fail(self, condition: str, problem: str, column: str, hint: str | None = None, *,
              quote: bool = False) -> None:
        """Raise ``problem`` at the first row matching ``condition``; with ``quote``, the value found
        there (as a float, as the in-memory reader quotes it)."""
        file, row, value = self._first_bad_row(condition, f"d.{_quote(column)}" if quote else "NULL")
        raise InputDataError(file, problem, column=column, row=row,
                             found=None if value is None else float(value), hint=hint)

    def _flops_conflict(self) -> None:
        """The first row whose FLOPs differ from its model's first row with FLOPs, named with both values
        (only on the error path: one window over the rows)."""
        c, q = self.columns, _quote
        window = f"PARTITION BY {q(c.model)} ORDER BY filename, file_row_number"
        found = self.connection.execute(
            f"SELECT filename, file_row_number, model, flops, first_file, first_row, first_flops FROM ("
            f"SELECT filename, file_row_number, {q(c.model)} AS model, {q(c.flops)} AS flops, "
            f"FIRST_VALUE(filename) OVER ({window}) AS first_file, "
            f"FIRST_VALUE(file_row_number) OVER ({window}) AS first_row, "
            f"FIRST_VALUE({q(c.flops)}) OVER ({window}) AS first_flops "
            f"FROM ({self._numbered_rows}) WHERE {q(c.flops)} IS NOT NULL) "
            "WHERE flops <> first_flops ORDER BY filename, file_row_number LIMIT 1").fetchall()
        file, row, model, flops, first_file, first_row, first_flops = found[0]
        raise flops_conflict(file, c.flops, row + 1, str(model), float(flops), int(first_row) + 1,
                             float(first_flops), None if first_file == file else first_file)

    def models(self) -> tuple[np.ndarray, np.ndarray | None]:
        """Model names (sorted as text) and FLOPs per model from the dump's own column (checked)."""
        c, q = self.columns, _quote
        flops = (f", MIN({q(c.flops)}), MAX({q(c.flops)}), COUNT({q(c.flops)}), "
                 f"SUM(CASE WHEN NOT ({q(c.flops)} > 0 AND {q(c.flops)} < 'inf'::DOUBLE) THEN 1 ELSE 0 END)"
                 if self.has_flops else "")
        # The score columns' checks ride along (one pass over the dump instead of two); they are acted on
        # by :meth:`_check_scores`, after the model and FLOPs errors, as before.
        checks, _ = self._score_checks()
        # A NaN is an empty cell in memory (pandas' missing value); out of core it went into the sums (a
        # NaN p_correct of a model above the cut made its group mean 0, silently). One count of the cells
        # that are not finite rides along; only when it is not 0 are the NaNs looked for, and then read as
        # NULL by the view. Not by isnan() nor ``= 'NaN'``: DuckDB 2.0 decides those from the Parquet
        # statistics, which leave NaN out (always false); isfinite() reads the rows.
        floats = self._float_columns()
        if floats:
            checks = [*checks, "SUM(CASE WHEN " + " OR ".join(f"NOT isfinite({q(f)})" for f in floats) + " THEN 1 ELSE 0 END)"]
        rows = self.connection.execute(
            f"SELECT {q(c.model)}, COUNT(*){flops}, {', '.join(checks)} FROM dump GROUP BY {q(c.model)} "
            f"ORDER BY {q(c.model)}").fetchall()
        if not rows:
            raise InputDataError(self.name, "the dump has a header but no rows", hint=DUMP_HINT)
        self._check_counts = [sum(int(r[i] or 0) for r in rows) for i in range(len(rows[0]) - len(checks), len(rows[0]))]
        if floats and self._check_counts.pop() and self._read_nan_as_empty(floats):
            return self.models()
        rows = [r[:len(r) - len(checks)] for r in rows]
        if any(r[0] is None or str(r[0]) == "" for r in rows):  # "" is no name, as in the in-memory reader
            self._fail(self._empty(c.model), "empty value", c.model)
        if any("\n" in str(r[0]) or "\r" in str(r[0]) for r in rows):  # one row a model
            file, row, name = self._first_bad_row(f"regexp_matches(CAST(d.{q(c.model)} AS VARCHAR), '[\\r\\n]')",
                                                  f"CAST(d.{q(c.model)} AS VARCHAR)")
            raise InputDataError(file, NAME_LINE_BREAK, column=c.model, row=row, found=name, hint=NAME_LINE_BREAK_HINT)
        names = np.array([str(r[0]) for r in rows], dtype=object)
        if not self.has_flops:
            return names, None
        # A model with FLOPs on some rows and none on others: the scans then take its scale per model
        # (the models table), as the in-memory reader does, instead of dropping the rows without one.
        self._flops_gaps = any(0 < r[4] < r[1] for r in rows)
        for name, _, low, high, known, bad in rows:
            if bad:
                self._fail(f"NOT (d.{q(c.flops)} > 0 AND d.{q(c.flops)} < 'inf'::DOUBLE)",
                           "FLOPs must be a positive, finite number", c.flops, quote=True)
            if known and low != high:
                self._flops_conflict()
        return names, np.array([np.nan if r[4] == 0 else float(r[2]) for r in rows])

    def _score_checks(self) -> tuple[list[str], list[str]]:
        """The aggregates counting bad score and question cells, and the conditions of an empty score."""
        c, q = self.columns, _quote
        parts = []
        if self.has_correct:
            parts += [f"SUM(CASE WHEN {q(c.correct)} NOT IN (0, 1) THEN 1 ELSE 0 END)"]
        if self.has_p_correct:
            parts += [f"SUM(CASE WHEN NOT ({q(c.p_correct)} BETWEEN 0 AND 1) THEN 1 ELSE 0 END)"]
        both = [f"{q(x)} IS NULL" for x, has in ((c.correct, self.has_correct), (c.p_correct, self.has_p_correct)) if has]
        parts += [f"SUM(CASE WHEN {' AND '.join(both)} THEN 1 ELSE 0 END)",
                  f"SUM(CASE WHEN {self._empty(c.question, prefix='')} THEN 1 ELSE 0 END)"]
        if self.has_correct and self.has_p_correct:  # rows that fill only one score column: noted
            parts += [f"SUM(CASE WHEN {q(c.p_correct)} IS NULL AND {q(c.correct)} IS NOT NULL THEN 1 ELSE 0 END)",
                      f"SUM(CASE WHEN {q(c.correct)} IS NULL AND {q(c.p_correct)} IS NOT NULL THEN 1 ELSE 0 END)"]
        return parts, both

    def _empty(self, column: str, prefix: str = "d.") -> str:
        """SQL true for an empty name: null, or "" in a text column (an empty CSV cell)."""
        name = f"{prefix}{_quote(column)}"
        text = "VARCHAR" in str(self.types.get(column, "")).upper()
        return f"({name} IS NULL OR {name} = '')" if text else f"{name} IS NULL"

    def _check_scores(self) -> None:
        """The score columns' checks (counted by :meth:`models`, or by one cheap aggregate); a bad value
        is then located and named."""
        c, q = self.columns, _quote
        parts, both = self._score_checks()
        counts = (list(self._check_counts) if self._check_counts is not None
                  else list(self.connection.execute(f"SELECT {', '.join(parts)} FROM dump").fetchall()[0]))
        if self.has_correct and counts.pop(0):
            self._fail(f"d.{q(c.correct)} NOT IN (0, 1)", "correct must be 0/1 or true/false", c.correct, quote=True)
        if self.has_p_correct and counts.pop(0):
            self._fail(f"NOT (d.{q(c.p_correct)} BETWEEN 0 AND 1)", "p_correct must be a probability in [0, 1]",
                       c.p_correct, hint="pass probabilities, not log-probabilities or percentages", quote=True)
        if counts[0]:
            present = [column for column, there in ((c.correct, self.has_correct), (c.p_correct, self.has_p_correct))
                       if there]
            self._fail(" AND ".join(f"d.{b}" for b in both), no_score_problem(present),
                       c.p_correct if self.has_p_correct else c.correct)
        if counts[1]:
            self._fail(self._empty(c.question), "empty value", c.question)
        self.notes = partial_score_notes(*counts[2:4]) if len(counts) == 4 else []

    def scan(self, flops_by_model: np.ndarray, model_names: np.ndarray, groups: int, cut: float | None,
             task: str | None = None, dump_flops: np.ndarray | None = None, accuracy_from: str = "correct",
             spectrum_groups: int | None = None) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """Run both scans: (question_groups, per-model sums by group), both small, as columns (numpy
        arrays by name, masked where NULL: DuckDB's ``fetchnumpy``; no pandas, whose import was 0.2 s of
        a `slice` at 30M rows).

        When the scales are the dump's own flops column (``dump_flops``), the scans read it directly;
        otherwise they join the ``models`` table. ``spectrum_groups``: the per-model sums of that cut of
        the same ranking are made in the same pass over the dump and kept, and the next call for that
        many groups (``run``'s spectrum) reads no row of the dump again.
        """
        if not self._scores_checked:  # once per dump: run's second scan (the spectrum) reads the same rows
            self._check_scores()
            self._scores_checked = True
        if task is not None:
            self._restrict_to_task(task)
        in_dump = (dump_flops is not None and not self._flops_gaps
                   and np.array_equal(dump_flops, flops_by_model, equal_nan=True))
        if not in_dump:  # a model without a scale has a NULL, not a NaN: SQL leaves it out of the reference
            flops = np.asarray(flops_by_model, dtype=float)
            self.connection.register("models_frame", pa.table({
                "model": pa.array(model_names.astype(str), pa.string()),
                "flops": pa.array(flops, pa.float64(), mask=np.isnan(flops))}))
            self.connection.execute("CREATE OR REPLACE TABLE models AS SELECT * FROM models_frame")
        # The ranking depends on the task, the cut and the scales, not on the number of groups: a second
        # scan of the same ranking (run's spectrum) cuts the ranked questions again instead of re-reading.
        ranking = (task, cut, in_dump, np.asarray(flops_by_model, dtype=float).tobytes())
        if ranking == self._ranking or spectrum_groups == groups:  # a re-cut has no second cut to make
            spectrum_groups = None
        sql = self.sql(groups, cut, scales_in_dump=in_dump, checksum=True, hash_keys=True, one_task=True,
                       accuracy_from=accuracy_from, spectrum_groups=spectrum_groups)
        self.connection.execute("DROP TABLE IF EXISTS question_groups")
        if ranking == self._ranking:
            self.connection.execute(regroup_sql(groups, self._n_ranked))
        else:
            self.connection.execute(sql.questions)
            self.connection.execute("CREATE OR REPLACE TABLE ranked_questions AS SELECT * FROM question_groups")
        questions = self.connection.execute("SELECT * FROM question_groups").fetchnumpy()
        self._ranking, self._n_ranked = ranking, int(np.ma.count(questions["position"]))
        hashes = np.ma.getdata(questions["question_hash"])
        kept, self._kept_sums = self._kept_sums, None
        if kept is not None and kept[0] == (ranking, groups, accuracy_from):
            # Made beside the first cut's sums, from the rows whose pairs that scan proved unique.
            return questions, kept[1]
        if np.unique(hashes).size < hashes.size:  # two questions share a hash: join on text
            sql = self.sql(groups, cut, scales_in_dump=in_dump, checksum=True, one_task=True,
                           accuracy_from=accuracy_from, spectrum_groups=spectrum_groups)
        spectrum = None
        if sql.buckets is None:
            per_model = self.connection.execute(sql.models).fetchnumpy()
        else:  # one pass over the dump for both cuts
            self.connection.execute(sql.buckets)
            per_model = self.connection.execute(sql.models_by("difficulty_group")).fetchnumpy()
            spectrum = self.connection.execute(sql.models_by("spectrum_group")).fetchnumpy()
            self.connection.execute("DROP TABLE buckets")
        self._reject_duplicates(hashes.size, per_model)
        if spectrum is not None:  # kept once the pairs are known unique
            self._kept_sums = ((ranking, spectrum_groups, accuracy_from), spectrum)
        return questions, per_model

    def cells(self, model_names: np.ndarray, question_ids: np.ndarray, *, dtype=np.float64,
              correct: bool = False) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        """The TC Brier scores of ``model_names`` on ``question_ids`` (of the task :meth:`scan` last
        read) as a dense (models x questions) matrix of ``dtype``, NaN where a model did not answer;
        and, with ``correct``, the correctness as a float64 matrix (NaN where unknown or unanswered).

        The rows are streamed from DuckDB in record batches and scattered into the matrices, so memory
        is the matrices and one batch. Scores are computed here with the in-memory path's own
        :func:`slicesand.ingest.scoring.tc_brier` on the same probabilities, so the two paths give the
        same bits. Questions not in ``question_ids`` are skipped (a seeded subset of them).
        """
        from slicesand.ingest.scoring import tc_brier

        c, q = self.columns, _quote
        n_models, n_questions = len(model_names), len(question_ids)
        self.connection.register("cell_models_frame", pa.table({
            "model": pa.array(np.asarray(model_names).astype(str), pa.string()),
            "row": pa.array(np.arange(n_models, dtype=np.int32))}))
        self.connection.register("cell_questions_frame", pa.table({
            "question": pa.array(np.asarray(question_ids).astype(str), pa.string()),
            "code": pa.array(np.arange(n_questions, dtype=np.int32))}))
        # The questions in the dump's own type (and their hashes), from the last scan's question table.
        self.connection.execute(
            "CREATE OR REPLACE TABLE cell_questions AS SELECT g.question, hash(g.question) AS question_hash, f.code "
            "FROM question_groups AS g JOIN cell_questions_frame AS f ON CAST(g.question AS VARCHAR) = f.question")
        distinct = self.connection.execute(
            "SELECT COUNT(*), COUNT(DISTINCT question_hash) FROM cell_questions").fetchall()[0]
        match = ("hash(d.{0}) = cq.question_hash" if distinct[0] == distinct[1] else "d.{0} = cq.question").format(
            q(c.question))
        parts = ([f"CAST(d.{q(c.p_correct)} AS DOUBLE)"] * self.has_p_correct
                 + [f"CAST(d.{q(c.correct)} AS DOUBLE)"] * self.has_correct)
        p = parts[0] if len(parts) == 1 else f"COALESCE({', '.join(parts)})"
        known = f", CAST(d.{q(c.correct)} AS DOUBLE) AS correct" if correct and self.has_correct else ""
        with self.connection.interruptible():  # the query runs as its batches are read
            reader = self.connection.sql(
                f"SELECT cm.row, cq.code, {p} AS p{known} FROM dump AS d "
                f"JOIN cell_models_frame AS cm ON CAST(d.{q(c.model)} AS VARCHAR) = cm.model "
                f"JOIN cell_questions AS cq ON {match}").to_arrow_reader(1 << 18)
            scores = np.full((n_models, n_questions), np.nan, dtype=dtype)
            correctness = np.full((n_models, n_questions), np.nan) if correct and self.has_correct else None
            for batch in reader:  # bounded batches of rows; each is scattered in one vectorised step
                rows = batch.column(0).to_numpy(zero_copy_only=False)
                codes = batch.column(1).to_numpy(zero_copy_only=False)
                scores[rows, codes] = tc_brier(batch.column(2).to_numpy(zero_copy_only=False))
                if correctness is not None:
                    correctness[rows, codes] = batch.column(3).to_numpy(zero_copy_only=False)
        return scores, correctness

    def tasks(self) -> list[str]:
        """The dump's tasks (of every row, also after a scan restricted the view to one), read once."""
        if not self.has_task:
            return [""]
        if self._tasks is None:
            rows = self.connection.execute(f"SELECT DISTINCT CAST({_quote(self.columns.task)} AS VARCHAR) "
                                           f"FROM ({self._rows})").fetchall()
            self._tasks = sorted("" if r[0] is None else str(r[0]) for r in rows)
        return self._tasks

    def _restrict_to_task(self, task: str) -> None:
        column = _quote(self.columns.task)
        literal = "'" + task.replace("'", "''") + "'"
        self._task_filter = f"CAST({column} AS VARCHAR) = {literal}"
        self._define_views()

    def _reject_duplicates(self, n_questions: int, per_model: dict[str, np.ndarray]) -> None:
        """Each (model, question) once. A model that answered as many rows as there are questions, whose
        sum of question hashes equals that of the whole question set, answered each once (up to a hash
        collision: odds near 2^-64); any other model is checked exactly, with a grouped count."""
        c, q = self.columns, _quote
        task = f", {q(c.task)}" if self.has_task else ""
        everything = int(self.connection.execute(
            "SELECT CAST(SUM(hash(question)) AS VARCHAR) FROM question_groups").fetchall()[0][0])
        models = np.ma.getdata(per_model["model"]).astype(str)
        names, owner = np.unique(models, return_inverse=True)
        answered = np.bincount(owner, weights=np.ma.getdata(per_model["answered"]), minlength=names.size)
        # Sums of 64-bit hashes overflow every numpy type: Python integers, over the few rows a model has
        # (one a group), not over the dump's rows.
        checksum = [0] * names.size
        for model, part in zip(owner.tolist(), np.ma.getdata(per_model["checksum"]).tolist()):
            checksum[model] += int(part)
        complete = (answered == n_questions) & np.array([total == everything for total in checksum], dtype=bool)
        suspects = names[~complete].tolist()
        if not suspects:
            return
        self.connection.register("suspect_models", pa.table({"model": pa.array(suspects, pa.string())}))
        window = f"PARTITION BY {q(c.model)}, {q(c.question)}{task} ORDER BY filename, file_row_number"
        rows = f"SELECT * FROM ({self._numbered_rows}) WHERE {q(c.model)} IN (SELECT model FROM suspect_models)"
        found = self.connection.execute(
            f"SELECT filename, file_row_number, model, question, first_file, first_row FROM ("
            f"SELECT filename, file_row_number, {q(c.model)} AS model, {q(c.question)} AS question, "
            f"ROW_NUMBER() OVER ({window}) AS occurrence, FIRST_VALUE(filename) OVER ({window}) AS first_file, "
            f"FIRST_VALUE(file_row_number) OVER ({window}) AS first_row "
            f"FROM ({rows}{' AND ' + self._task_filter if self._task_filter else ''})) "
            "WHERE occurrence = 2 ORDER BY filename, file_row_number LIMIT 1").fetchall()
        if found:
            file, row, model, question, first_file, first_row = found[0]
            raise duplicate_row(file, row + 1, str(model), str(question), int(first_row) + 1,
                                None if first_file == file else first_file)


def emit_sql(path: str | Path, columns: DumpColumns, options, dialect: str = "duckdb", *,
             scales_in_dump: bool = True) -> str:
    """The SQL script of both scans for the dump at ``path`` (only its schema is read).

    ``scales_in_dump`` reads FLOPs from the dump's flops column when it has one; otherwise the script
    expects a ``models(model, flops)`` table.
    """
    scanner = DumpScanner(path, columns, threads=1)
    sql = scanner.sql(options.groups, options.cut, dialect, scales_in_dump=scales_in_dump and scanner.has_flops,
                      accuracy_from=options.accuracy_from)
    header = (f"-- slicesand {__import__('slicesand').__version__}: the slicing scans for {Path(str(path)).name}\n"
              "-- Tables: dump (the long table, one row per model and question)"
              + ("" if scales_in_dump and scanner.has_flops else ", models (model, flops)") + ".\n"
              "-- One task at a time (make dump a view of one task's rows), each (model, question) pair once.\n"
              "-- Divide each group's score_sum by its answered\n"
              "-- count for the group means, and sum a model's rows for its TC Brier (score_sum / answered) and\n"
              "-- accuracy (correct_sum / correct_known). Rows with difficulty_group NULL are unranked questions.\n\n")
    return header + sql.script()


def _reject_repeated_columns_in(files: list[str]) -> None:
    """A column name twice in a Parquet file's schema: the in-memory reader's error (DuckDB would rename
    one of them and go on)."""
    import pyarrow.parquet as pq

    for file in files:
        try:
            names = pq.read_schema(file).names
        except (OSError, ValueError):  # unreadable: DuckDB's own read says what is wrong
            continue
        reject_repeated_columns(names, file)


def scan_dump(scanner: DumpScanner, model_names: np.ndarray, flops_by_model: np.ndarray, options,
              task: str | None = None, dump_flops: np.ndarray | None = None, spectrum_groups: int | None = None):
    """Slice a dump out of core: the two scans in DuckDB, then the same assembly as the numpy path
    (:func:`slicesand.slicing.difficulty.slice_from_sums`). ``model_names`` and ``flops_by_model`` come
    from :meth:`DumpScanner.models` and the scale resolution. ``spectrum_groups``: the pass over the
    dump also sums that cut (:meth:`DumpScanner.scan`), for the next call with that many groups."""
    from slicesand.slicing.difficulty import SliceSums, check_rankable, reference_models, slice_from_sums

    flops_by_model = np.asarray(flops_by_model, dtype=float)
    has_scale, reference, warnings = reference_models(scanner.name, model_names, flops_by_model, options)
    tasks = scanner.tasks()
    if task is not None:
        if task not in tasks:
            raise no_such_task(scanner.name, task, tasks)
        tasks = [task]
    if len(tasks) > 1:
        raise UsageError(scanner.name, f"the dump holds {len(tasks)} tasks; slice one at a time",
                         found=", ".join(tasks[:5]), hint="pass `task` NAME (`run` forecasts every task)")
    if options.accuracy_from == "p_correct" and not scanner.has_p_correct:
        raise UsageError(scanner.name, "accuracy from p_correct needs a 'p_correct' column",
                         hint="take accuracy from 'correct' (the default)")
    questions, per_model = scanner.scan(np.where(has_scale, flops_by_model, np.nan), model_names,
                                        options.groups, options.cut, task, dump_flops=dump_flops,
                                        accuracy_from=options.accuracy_from, spectrum_groups=spectrum_groups)
    ranked = ~np.ma.getmaskarray(questions["position"])
    check_rankable(int(ranked.sum()), options.groups)
    # Questions in tie order (id, then task, as text): the order the in-memory path gives them.
    ids = np.ma.getdata(questions["question"]).astype(str).astype(object)
    task_names = np.full(len(ids), tasks[0], dtype=object)  # one task: the scans leave it out of the keys
    by_id = np.lexsort((task_names.astype(str), ids.astype(str)))
    questions = {name: column[by_id] for name, column in questions.items()}
    ids, task_names, ranked = ids[by_id], task_names[by_id], ranked[by_id]
    scanner.question_ids, scanner.task = ids, tasks[0]  # every question of the task, in tie order: for the matrices
    position = _filled(questions["position"], np.nan)
    order = np.flatnonzero(ranked)[np.argsort(position[ranked], kind="stable")]

    # One row per (model, group; NULL for unranked questions): scatter into (M, G + 1) sums.
    n_models, groups = len(model_names), options.groups
    names, found = model_names.astype(str), np.ma.getdata(per_model["model"]).astype(str)
    sorter = np.argsort(names, kind="stable")
    row = sorter[np.minimum(np.searchsorted(names, found, sorter=sorter), len(names) - 1)]
    if not np.array_equal(names[row], found):  # every model the scan sums is one of the dump's
        raise RuntimeError("scan_dump: the per-model sums name a model the dump's model list lacks")
    cell = _filled(per_model["difficulty_group"], 0).astype(np.int64)  # 0: unranked, 1..G: groups

    def table(column: str) -> np.ndarray:
        out = np.zeros((n_models, groups + 1))
        np.add.at(out, (row, cell), _filled(per_model[column], 0.0))
        return out

    answers, scores = table("answered"), table("score_sum")
    has_accuracy = scanner.has_correct or options.accuracy_from == "p_correct"
    correct = table("correct_sum").sum(axis=1) if has_accuracy else None
    known = table("correct_known").sum(axis=1) if has_accuracy else None
    sums = SliceSums(
        model_names, ids, task_names, sorted(set(task_names.tolist())),
        _filled(questions["reference_answers"], 0).astype(np.int64),
        _filled(questions["difficulty"], np.nan), order,
        scores[:, 1:], answers[:, 1:].astype(np.int64), answers.sum(axis=1).astype(np.int64), scores.sum(axis=1),
        correct, known,
    )
    return slice_from_sums(sums, flops_by_model, has_scale, reference, options, warnings)


def _filled(column: np.ndarray, missing: float) -> np.ndarray:
    """A fetched column as float64, ``missing`` where it is NULL (DuckDB masks it in ``fetchnumpy``).

    >>> _filled(np.ma.masked_array([1, 2], mask=[False, True]), np.nan).tolist()
    [1.0, nan]
    """
    return np.ma.filled(np.ma.asarray(column).astype(np.float64), missing)
