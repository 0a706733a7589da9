"""Read evaluation dumps from public tools into slicesand's long table.

Two calls: :func:`sniff_source` (:mod:`.sniff`, the one sniffer every command uses) tells what kind of source a path is, and :func:`read_source` reads
it. The result's ``dump`` is a :class:`pyarrow.Table` with columns ``model, question, task``
(string), ``correct`` (int8 0/1, null when unknown) and ``p_correct`` (float64 in [0, 1], null when
unknown); ``models`` is a pandas DataFrame ``model, params, tokens, flops, scale_source`` (NaN /
None when unknown); ``notes`` are sentences for the user.

Kinds of source:

- ``"lm-eval"``: lm-evaluation-harness ``--log_samples`` output (see :mod:`.lmeval`);
- ``"helm"``: HELM run folders (see :mod:`.helm`);
- ``"matrix-csv"``: a wide 0/1 CSV, models as rows or columns (see :mod:`.matrix`);
- ``"py-irt"``: py-irt JSON lines (see :mod:`.matrix`);
- ``"every-eval-ever"``: Every Eval Ever instance-level ``*_samples.jsonl`` (see :mod:`.eee`);
- ``"long"``: a CSV/Parquet already in slicesand's long format (see :mod:`.longtable`).

>>> result = read_source("tests/fixtures/importers/matrix/models_as_rows.csv")  # doctest: +SKIP
>>> result.dump.column_names  # doctest: +SKIP
['model', 'question', 'task', 'correct', 'p_correct']
"""

from __future__ import annotations

from importlib import import_module
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from slicesand.errors import InputDataError, UsageError
from slicesand.ingest.importers._common import DUMP_SCHEMA, ImportOptions, ImportResult, ReaderOutput
from slicesand.ingest.importers.sniff import FROM_HINT, KINDS, sniff_source
from slicesand.ingest.known_models import SCALE_COLUMNS, lookup_scales

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "DUMP_SCHEMA",
    "KINDS",
    "ImportOptions",
    "ImportResult",
    "flops_per_row",
    "read_source",
    "sniff_source",
]

_SINGLE_FILE_KINDS = ("matrix-csv", "py-irt", "long")

# kind -> (module, reader): a reader's module (and pandas, which some use) loads only when that kind
# is read, so the commands that read slicesand's own long table do not pay for six importers.
_READERS: dict[str, tuple[str, str]] = {
    "lm-eval": (".lmeval", "read_lmeval"),
    "helm": (".helm", "read_helm"),
    "matrix-csv": (".matrix", "read_matrix_csv"),
    "py-irt": (".matrix", "read_pyirt"),
    "every-eval-ever": (".eee", "read_eee"),
    "long": (".longtable", "read_long"),
}

# Which options mean something for which kind; setting one for another kind is a contradiction.
_OPTION_KINDS = {
    "metric": ("lm-eval",),
    "filter_name": ("lm-eval",),
    "group_subtasks": ("lm-eval", "helm"),
    "matrix_orientation": ("matrix-csv",),
    "correct_metric": ("lm-eval", "helm"),
    "task_name": ("matrix-csv", "py-irt", "long"),
}

PARAMS_FROM_SOURCE = "source metadata (params only)"
FLOPS_FROM_SOURCE = "the dump's flops column"
_FROM_HINT = FROM_HINT


def read_source(
    path: str | PathLike, kind: str | None = None, *, options: ImportOptions | None = None
) -> ImportResult:
    """Read the source at ``path`` (of ``kind``, sniffed when None) into a long table and model table.

    >>> result = read_source("tests/fixtures/importers/pyirt/responses.jsonl", "py-irt")  # doctest: +SKIP
    >>> sorted(result.models["model"])  # doctest: +SKIP
    ['EleutherAI/pythia-160m-deduped', 'EleutherAI/pythia-70m-deduped', 'my-finetune']
    """
    path = Path(path)
    options = options or ImportOptions()
    if kind is None:
        kind = sniff_source(path)
    elif kind not in KINDS:
        raise UsageError("`source_kind`", f"unknown source kind; expected one of {', '.join(KINDS)}", found=kind)
    if not path.exists():
        raise InputDataError(str(path), "no such file or directory")
    if kind in _SINGLE_FILE_KINDS and not path.is_file():
        raise InputDataError(str(path), f"a {kind} source is a single file, not a directory", hint=_FROM_HINT)
    _check_options_fit(kind, options)
    module, reader = _READERS[kind]
    output: ReaderOutput = getattr(import_module(module, __name__), reader)(path, options)
    models = _model_table(output, options)
    notes = list(output.notes) + _scale_notes(models)
    return ImportResult(dump=output.dump, models=models, notes=notes, kind=kind)


def _check_options_fit(kind: str, options: ImportOptions) -> None:
    defaults = ImportOptions()
    for name, kinds in _OPTION_KINDS.items():
        if getattr(options, name) != getattr(defaults, name) and kind not in kinds:
            raise UsageError(
                "options",
                f"option {name} applies to {' and '.join(kinds)} sources, not to {kind}",
                found=getattr(options, name),
                hint=f"drop {name}, or check `source_kind`",
            )


def _model_table(output: ReaderOutput, options: ImportOptions) -> pd.DataFrame:
    """One row per model in first-seen order, with scale from the source's own FLOPs, else the
    bundled table, else the parameters the source states.

    FLOPs the source states (a long table's ``flops`` column) come first, as ``slice`` takes them from
    the same file. Otherwise the bundled table is preferred where it knows a model: its numbers are
    nominal sizes with tokens and FLOPs, so models from different sources stay on one footing.
    """
    import pandas as pd

    models = pc.unique(output.dump.column("model")).to_pylist()
    if options.known_scales:
        table = lookup_scales(models)
    else:
        table = pd.DataFrame({"model": models, "params": np.nan, "tokens": np.nan, "flops": np.nan})
        table["scale_source"] = pd.Series([None] * len(models), dtype=object)
    from_source = pd.Series(output.model_params, dtype="float64").reindex(models).to_numpy()
    use_source = np.isnan(table["params"].to_numpy(dtype=np.float64)) & ~np.isnan(from_source)
    table["params"] = np.where(use_source, from_source, table["params"].to_numpy(dtype=np.float64))
    table["scale_source"] = table["scale_source"].where(~use_source, PARAMS_FROM_SOURCE)
    for column in ("params", "tokens", "flops"):
        table[column] = table[column].astype("float64")
    stated = pd.Series(output.model_flops, dtype="float64").reindex(models).to_numpy()
    given = ~np.isnan(stated)
    if given.any():  # the source's FLOPs, with its own parameters only (a bundled row's would not match)
        table["flops"] = np.where(given, stated, table["flops"].to_numpy(dtype=np.float64))
        table["params"] = np.where(given, from_source, table["params"].to_numpy(dtype=np.float64))
        table["tokens"] = np.where(given, np.nan, table["tokens"].to_numpy(dtype=np.float64))
        table["scale_source"] = table["scale_source"].where(~given, FLOPS_FROM_SOURCE)
    return table[SCALE_COLUMNS].reset_index(drop=True)


def _scale_notes(models: pd.DataFrame) -> list[str]:
    unknown = models.loc[models["scale_source"].isna(), "model"].tolist()
    no_flops = models.loc[models["scale_source"].notna() & models["flops"].isna(), "model"].tolist()
    notes = []
    if unknown:
        shown = ", ".join(unknown[:6]) + (f", and {len(unknown) - 6} more" if len(unknown) > 6 else "")
        notes.append(f"{_count(unknown, 'model has', 'models have')} no known scale ({shown}); supply a models table for them")
    if no_flops:
        shown = ", ".join(no_flops[:6]) + (f", and {len(no_flops) - 6} more" if len(no_flops) > 6 else "")
        notes.append(f"{_count(no_flops, 'model has', 'models have')} no known training FLOPs ({shown})")
    return notes


def _count(items: list, singular: str, plural: str) -> str:
    return f"{len(items)} {singular if len(items) == 1 else plural}"


def flops_per_row(result: ImportResult) -> pa.Array | None:
    """Each row's model FLOPs (null where unknown), from the model table; None when no model has any.

    Done on the model column's dictionary (one lookup per model, then an integer take), not by
    converting millions of row labels to Python strings.
    """
    flops = result.models.set_index("model")["flops"]
    if not flops.notna().any():
        return None
    encoded = pc.dictionary_encode(result.dump.column("model")).combine_chunks()
    per_model = flops.reindex(encoded.dictionary.to_pylist()).to_numpy(dtype=np.float64)
    return pc.take(pa.array(per_model, pa.float64(), mask=np.isnan(per_model)), encoded.indices)
