"""Model scale: training FLOPs per model, from the dump's own ``flops`` column or a models table.

A models table has a ``model`` column plus either ``flops`` or both ``params`` and ``tokens``
(then ``flops = 6 * params * tokens``, the usual dense-transformer estimate).

>>> import pathlib, tempfile
>>> path = pathlib.Path(tempfile.mkdtemp()) / "models.csv"
>>> _ = path.write_text("model,params,tokens\\nm1,1e9,2e10\\n")
>>> read_models_table(path).loc[0, "flops"]
np.float64(1.2e+20)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from dataclasses import dataclass

from slicesand.errors import InputDataError
from slicesand.io.tables import display_name, read_table
from slicesand.ingest.known_models import lookup_scales

KNOWN_ORIGIN = "the bundled table of public models"
MODELS_HINT = "a models table has columns model and flops, or model, params and tokens"


def read_models_table(path: str | Path) -> pd.DataFrame:
    """Read and validate a models table; returns ``model, flops`` (plus params/tokens if given)."""
    name = display_name(path)
    table, _ = read_table(path, required=["model"], column_types={"model": pa.string()},
                          what="models", hint=MODELS_HINT)
    frame = table.to_pandas()
    if "flops" not in frame and not {"params", "tokens"} <= set(frame.columns):
        raise InputDataError(name, "needs a 'flops' column, or 'params' and 'tokens'",
                             found=", ".join(frame.columns), hint=MODELS_HINT)
    for column in [c for c in ("flops", "params", "tokens") if c in frame]:
        values = pd.to_numeric(frame[column], errors="coerce")
        text_bad = values.isna() & frame[column].notna()
        if text_bad.any():
            row = int(np.flatnonzero(text_bad)[0])
            raise InputDataError(name, "not a number", column=column, row=row + 1, found=frame[column].iloc[row])
        bad = values.notna() & ~((values > 0) & np.isfinite(values))
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise InputDataError(name, f"{column} must be positive and finite", column=column,
                                 row=row + 1, found=float(values.iloc[row]))
        frame[column] = values.astype(float)
    if "flops" not in frame:
        frame["flops"] = 6.0 * frame["params"] * frame["tokens"]
    elif {"params", "tokens"} <= set(frame.columns):
        frame["flops"] = frame["flops"].fillna(6.0 * frame["params"] * frame["tokens"])
    duplicated = frame["model"].duplicated()
    if duplicated.any():
        row = int(np.flatnonzero(duplicated)[0])
        raise InputDataError(name, "model listed twice", column="model", row=row + 1,
                             found=frame["model"].iloc[row])
    frame.attrs["source"] = name
    return frame


def flops_for_models(
    model_names: np.ndarray,
    models_table: pd.DataFrame,
    *,
    ignore_unknown: bool = False,
) -> np.ndarray:
    """FLOPs for each name in ``model_names`` (NaN where the table has none).

    A model in the table that the dump does not have is an error, since it usually means a typo or the
    wrong file; ``ignore_unknown`` allows a shared, larger table.
    """
    index = pd.Index(model_names)
    unknown = ~models_table["model"].isin(index)
    if unknown.any() and not ignore_unknown:
        names = models_table.loc[unknown, "model"].tolist()
        listed = ", ".join(repr(n) for n in names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        raise InputDataError(
            models_table.attrs.get("source", "models table"),
            f"{len(names)} model{'s' if len(names) > 1 else ''} not in the dump: {listed}",
            column="model",
            hint="check the names, or pass `ignore_unknown_models` to use a larger shared table",
        )
    return models_table.set_index("model")["flops"].reindex(index).to_numpy(dtype=float)


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
        return pd.DataFrame({"model": model_names, "flops": self.flops,
                             "scale_source": pd.Series(self.origin, dtype=object).fillna("none")})


def resolve_scales(
    model_names: np.ndarray,
    *,
    dump_flops: np.ndarray | None = None,
    imported: pd.DataFrame | None = None,
    models_table: pd.DataFrame | None = None,
    ignore_unknown: bool = False,
    use_known: bool = True,
) -> ScaleResolution:
    """FLOPs for each model, from the most specific source that has them.

    Priority, highest first: the user's ``--models`` table, the dump's own ``flops`` column, what an
    importer found (source metadata or the bundled table), and the bundled table of public models.
    """
    n = len(model_names)
    flops = np.full(n, np.nan)
    origin = np.full(n, None, dtype=object)
    kind = np.full(n, None, dtype=object)
    layers = []
    if use_known and imported is None:
        known = lookup_scales(list(model_names))
        layers.append((known["flops"].to_numpy(dtype=float), known["scale_source"].to_numpy(dtype=object),
                       KNOWN_ORIGIN))
    if imported is not None:
        found = imported.set_index("model").reindex(pd.Index(model_names))
        sources = found["scale_source"].to_numpy(dtype=object) if "scale_source" in found else None
        layers.append((found["flops"].to_numpy(dtype=float), sources, KNOWN_ORIGIN))
    if dump_flops is not None:
        layers.append((np.asarray(dump_flops, dtype=float), None, "the dump's flops column"))
    if models_table is not None:
        layers.append((flops_for_models(model_names, models_table, ignore_unknown=ignore_unknown), None,
                       f"{models_table.attrs.get('source', 'the models table')}"))
    for values, sources, name in layers:
        has = np.isfinite(values)
        flops = np.where(has, values, flops)
        origin = np.where(has, name if sources is None else sources, origin)
        kind = np.where(has, name, kind)
    counts = pd.Series(kind[pd.notna(kind)]).value_counts(sort=False)
    notes = []
    if KNOWN_ORIGIN in counts.index or len(counts) > 1:  # say where scales came from when it is not obvious
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
