"""Model scale: training FLOPs per model, from the dump's own ``flops`` column or a models table.

A models table has a ``model`` column plus either ``flops`` or both ``params`` and ``tokens``
(then ``flops = 6 * params * tokens``, the usual dense-transformer estimate).

>>> import pathlib, tempfile
>>> path = pathlib.Path(tempfile.mkdtemp()) / "models.csv"
>>> _ = path.write_text("model,params,tokens\\nm1,1e9,2e10\\n")
>>> read_models_table(path).flops.tolist()
[1.2e+20]
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from slicesand.errors import InputDataError
from slicesand.io.columns import numpy_of, positions_in
from slicesand.io.tables import display_name, read_table
from slicesand.ingest.dump import text_as_numbers
from slicesand.ingest.known_models import lookup_scales

if TYPE_CHECKING:
    import pandas as pd

KNOWN_ORIGIN = "the bundled table of public models"
MODELS_HINT = "a models table has columns model and flops, or model, params and tokens"


@dataclass(frozen=True)
class ModelsTable:
    """A validated models table: each model's name and FLOPs (NaN when it gives none), and the file's
    name for messages."""

    model: np.ndarray  # object array of names, unique
    flops: np.ndarray
    source: str


def read_models_table(path: str | Path) -> ModelsTable:
    """Read and validate a models table: ``flops``, or ``6 * params * tokens`` where it has no flops."""
    name = display_name(path)
    table, _ = read_table(path, required=["model"], column_types={"model": pa.string()},
                          what="models", hint=MODELS_HINT)
    columns = table.column_names
    if "flops" not in columns and not {"params", "tokens"} <= set(columns):
        raise InputDataError(name, "needs a 'flops' column, or 'params' and 'tokens'",
                             found=", ".join(columns), hint=MODELS_HINT)
    numbers = {column: _positive_numbers(table.column(column), name, column)
               for column in ("flops", "params", "tokens") if column in columns}
    flops = numbers.get("flops", np.full(table.num_rows, np.nan))
    if {"params", "tokens"} <= set(numbers):
        with np.errstate(over="ignore"):  # an overflow is refused below, by row, not warned about
            product = 6.0 * numbers["params"] * numbers["tokens"]
        overflow = np.isnan(flops) & np.isinf(product)
        if overflow.any():
            row = int(np.flatnonzero(overflow)[0])
            raise InputDataError(name, "6 x params x tokens is past the largest number (over 1.8e308 FLOPs)",
                                 column="params", row=row + 1, found=float(numbers["params"][row]), hint=MODELS_HINT)
        flops = np.where(np.isnan(flops), product, flops)
    models = table.column("model")
    codes = numpy_of(pc.dictionary_encode(models, null_encoding="encode").combine_chunks().indices)
    first = np.zeros(len(codes), dtype=bool)
    first[np.unique(codes, return_index=True)[1]] = True
    if not first.all():
        row = int(np.flatnonzero(~first)[0])
        raise InputDataError(name, "model listed twice", column="model", row=row + 1, found=models[row].as_py())
    return ModelsTable(numpy_of(models), flops, name)


def _positive_numbers(chunked: pa.ChunkedArray, name: str, column: str) -> np.ndarray:
    """A models-table column as float64 (NaN where empty); every number must be positive and finite."""
    kind = chunked.type
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind):
        values = numpy_of(chunked.cast(pa.float64(), safe=False))  # integers beyond 2^53 round, as pandas does
    elif pa.types.is_null(kind):
        values = np.full(len(chunked), np.nan)
    else:
        values, bad = text_as_numbers(chunked)
        if bad is not None:
            raise InputDataError(name, "not a number", column=column, row=bad + 1, found=chunked[bad].as_py())
    bad = ~np.isnan(values) & ~((values > 0) & np.isfinite(values))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InputDataError(name, f"{column} must be positive and finite", column=column,
                             row=row + 1, found=float(values[row]))
    return values


def flops_for_models(
    model_names: np.ndarray,
    models_table: ModelsTable,
    *,
    ignore_unknown: bool = False,
) -> np.ndarray:
    """FLOPs for each name in ``model_names`` (NaN where the table has none).

    A model in the table that the dump does not have is an error, since it usually means a typo or the
    wrong file; ``ignore_unknown`` allows a shared, larger table.
    """
    unknown = positions_in(models_table.model, model_names) < 0
    if unknown.any() and not ignore_unknown:
        unknown_names = models_table.model[unknown].tolist()
        shown = ", ".join(repr(n) for n in unknown_names[:3]) + (
            f" and {len(unknown_names) - 3} more" if len(unknown_names) > 3 else "")
        raise InputDataError(
            models_table.source,
            f"{len(unknown_names)} model{'s' if len(unknown_names) > 1 else ''} not in the dump: {shown}",
            column="model",
            hint="check the names, or pass `ignore_unknown_models` to use a larger shared table",
        )
    row = positions_in(model_names, models_table.model)
    flops = np.full(len(row), np.nan)
    flops[row >= 0] = models_table.flops[row[row >= 0]]
    return flops


@dataclass
class ScaleResolution:
    """FLOPs per model, where each number came from, and a sentence saying so.

    ``origin`` is each model's source in full (``base_llm_scale.csv (<model card or paper>)``, the
    dump's flops column, or the models table's name; None when the model has no scale); ``kind`` is
    the short form the one-line note counts (the bundled table, the dump, the models table).
    """

    flops: np.ndarray
    origin: np.ndarray
    notes: list[str]
    kind: np.ndarray | None = None

    def table(self, model_names: np.ndarray) -> pd.DataFrame:
        """One row per model: ``model, flops, scale_source`` ("none" when it has no scale)."""
        import pandas as pd

        return pd.DataFrame({"model": model_names, "flops": self.flops,
                             "scale_source": pd.Series(self.origin, dtype=object).fillna("none")})


def resolve_scales(
    model_names: np.ndarray,
    *,
    dump_flops: np.ndarray | None = None,
    imported: pd.DataFrame | None = None,
    models_table: ModelsTable | None = None,
    ignore_unknown: bool = False,
    use_known: bool = True,
) -> ScaleResolution:
    """FLOPs for each model, from the most specific source that has them.

    Priority, highest first: the user's ``--models`` table, the dump's own ``flops`` column, what an
    importer found (source metadata or the bundled table), and the bundled table of public models.

    >>> resolution = resolve_scales(np.array(["a", "EleutherAI/pythia-70m"], dtype=object),
    ...                             dump_flops=np.array([1e20, np.nan]))
    >>> resolution.flops.tolist(), resolution.kind.tolist()
    ([1e+20, 1.26e+20], ["the dump's flops column", 'the bundled table of public models'])
    """
    n = len(model_names)
    flops = np.full(n, np.nan)
    origin = np.full(n, None, dtype=object)
    kind = np.full(n, None, dtype=object)
    layers = []  # lowest priority first
    if imported is not None:
        import pandas as pd  # an importer's model table is a DataFrame

        found = imported.set_index("model").reindex(pd.Index(model_names))
        sources = found["scale_source"].to_numpy(dtype=object) if "scale_source" in found else None
        layers.append((found["flops"].to_numpy(dtype=float), sources, KNOWN_ORIGIN))
    if dump_flops is not None:
        layers.append((np.asarray(dump_flops, dtype=float), None, "the dump's flops column"))
    if models_table is not None:
        layers.append((flops_for_models(model_names, models_table, ignore_unknown=ignore_unknown), None,
                       models_table.source))
    if use_known and imported is None:
        # The bundled table is the last resort: look up only the models no other source gives a scale
        # (none, when `--models` covers the dump), since matching names is the slow part.
        unscaled = ~np.logical_or.reduce([np.isfinite(values) for values, _, _ in layers] + [np.zeros(n, bool)])
        known_flops, known_sources = np.full(n, np.nan), np.full(n, None, dtype=object)
        if unscaled.any():
            known = lookup_scales([str(name) for name in model_names[unscaled]])
            known_flops[unscaled] = known["flops"].to_numpy(dtype=float)
            known_sources[unscaled] = known["scale_source"].to_numpy(dtype=object)
        layers.insert(0, (known_flops, known_sources, KNOWN_ORIGIN))
    for values, sources, name in layers:
        has = np.isfinite(values)
        flops = np.where(has, values, flops)
        origin = np.where(has, name if sources is None else sources, origin)
        kind = np.where(has, name, kind)
    notes = []
    counts = _counts_in_order(kind[np.not_equal(kind, None)])
    if KNOWN_ORIGIN in counts or len(counts) > 1:  # say where scales came from when it is not obvious
        parts = []
        for name, count in counts.items():  # a few sources, not models
            part = f"{count} model(s) from {name}"
            if name == KNOWN_ORIGIN:
                known = model_names[kind == KNOWN_ORIGIN]
                part += " (" + ", ".join(map(str, known[:5])) + (", ..." if len(known) > 5 else "") + \
                    "; `slicesand models --for DUMP` lists each source; pass `models` to override)"
            parts.append(part)
        notes.append("model scale: " + "; ".join(parts))
    return ScaleResolution(flops, origin, notes, kind)


def _counts_in_order(values: np.ndarray) -> dict[str, int]:
    """How often each value occurs, in order of first appearance.

    >>> _counts_in_order(np.array(["b", "a", "b"], dtype=object))
    {'b': 2, 'a': 1}
    """
    unique, first, counts = np.unique(values.astype(str), return_index=True, return_counts=True)
    order = np.argsort(first)
    return dict(zip(unique[order].tolist(), counts[order].tolist()))
