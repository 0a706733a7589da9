"""Scale (parameters, training tokens, training FLOPs) of public base models, bundled with the package.

The table comes from the Observational Scaling Laws repository (see ``slicesand/data/PROVENANCE.md``),
in plain units: ``params`` and ``tokens`` are counts and ``flops`` is total training compute.
Evaluation tools name the same model in different ways, so :func:`lookup_scales` accepts a Hugging
Face id (``EleutherAI/pythia-1b-deduped``), lm-evaluation-harness's directory name for it
(``EleutherAI__pythia-1b-deduped``), or the bare name when only one known model has it
(``pythia-1b-deduped``), and lastly any of these in another letter case (HELM writes
``eleutherai/pythia-1b-deduped``).

>>> scales = lookup_scales(["EleutherAI__pythia-1b-deduped", "my-own-model"])
>>> scales["params"].tolist()[0]
1000000000.0
>>> scales["scale_source"].tolist()
['base_llm_scale.csv (ObsScaling)', None]
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from importlib import resources

import numpy as np
import pandas as pd

SCALE_SOURCE = "base_llm_scale.csv (ObsScaling)"
"""What :func:`lookup_scales` writes in ``scale_source`` for a matched model."""

SCALE_COLUMNS = ["model", "params", "tokens", "flops", "scale_source"]

# lm-evaluation-harness (v0.4.3+) replaces each run of these characters by "__" to name the
# directory of a model; older versions replaced only "/". For Hugging Face ids both agree.
_LMEVAL_UNSAFE = re.compile(r"[\"<>:/|\\?*\[\]]+")


def sanitize_model_name(name: str) -> str:
    """The directory name lm-evaluation-harness gives a model.

    >>> sanitize_model_name("EleutherAI/pythia-1b")
    'EleutherAI__pythia-1b'
    """
    return _LMEVAL_UNSAFE.sub("__", name)


def _names_an_organisation(name: str) -> bool:
    """True for ``org/name`` or ``org__name``: such a name must not match another org's model."""
    return bool(re.fullmatch(r"[^/.~][^/]*(/|__)[^/]+", name))


def bare_model_name(name: str) -> str:
    """The last component of an id, a local path or a sanitized name.

    >>> bare_model_name("EleutherAI__pythia-1b"), bare_model_name("/models/pythia-1b/")
    ('pythia-1b', 'pythia-1b')
    """
    return re.split(r"/|__", name.rstrip("/"))[-1]


@functools.cache
def _known_models_cached() -> pd.DataFrame:
    path = resources.files("slicesand").joinpath("data/base_llm_scale.csv")
    with path.open("r", encoding="utf-8") as handle:
        # FLOPs exceed int64 range, so read every number as float64 (exact to ~16 digits, ample).
        table = pd.read_csv(
            handle,
            dtype={"model": str, "family": str, "params": "float64", "tokens": "float64", "flops": "float64"},
        )
    return table


def known_models() -> pd.DataFrame:
    """The bundled scale table: ``model, family, params, tokens, flops`` (float64, NaN when unknown).

    Returns a copy, so callers may change it freely.

    >>> table = known_models()
    >>> table.loc[table["model"] == "EleutherAI/pythia-70m-deduped", "tokens"].item()
    300000000000.0
    """
    return _known_models_cached().copy()


# Match priority: an exact id beats the lm-eval directory name, which beats a bare name, which beats
# a case-insensitive match of the id. Lower number wins.
_PRIORITY_EXACT, _PRIORITY_SANITIZED, _PRIORITY_BARE, _PRIORITY_CASEFOLD = range(4)


@functools.cache
def _match_keys() -> pd.DataFrame:
    """One row per (key, known model) pair that may identify a model; ambiguous keys removed."""
    table = _known_models_cached()
    ids = table["model"]
    candidates = pd.concat(
        [
            pd.DataFrame({"key": ids, "known": ids, "priority": _PRIORITY_EXACT}),
            pd.DataFrame({"key": ids.map(sanitize_model_name), "known": ids, "priority": _PRIORITY_SANITIZED}),
            pd.DataFrame({"key": ids.map(bare_model_name), "known": ids, "priority": _PRIORITY_BARE}),
            pd.DataFrame({"key": ids.str.casefold(), "known": ids, "priority": _PRIORITY_CASEFOLD}),
        ],
        ignore_index=True,
    )
    # A key that points at two different known models (a bare name shared by two organisations)
    # cannot identify either, so it is dropped rather than guessed.
    distinct_targets = candidates.groupby(["key", "priority"])["known"].transform("nunique")
    return candidates[distinct_targets == 1].drop_duplicates(["key", "priority"])


def lookup_scales(models: Sequence[str]) -> pd.DataFrame:
    """Scale of each model, in input order: ``model, params, tokens, flops, scale_source``.

    A model is matched, in this order of preference, by its exact Hugging Face id, by the name
    lm-evaluation-harness gives its output directory, by its bare name (the part after the last
    ``/`` or ``__``) when a single known model has it and the query names no other organisation,
    and by a case-insensitive id. Unknown models,
    and known models whose tokens or FLOPs the source lacks, keep NaN there; ``scale_source`` is
    None for unknown models.

    >>> lookup_scales(["EleutherAI/pythia-160m-deduped"])["flops"].item()
    2.88e+20
    """
    names = pd.Series(list(models), dtype=object, name="model").astype(str)
    queries = pd.concat(
        [
            pd.DataFrame({"position": np.arange(len(names)), "key": names, "priority": _PRIORITY_EXACT}),
            pd.DataFrame({"position": np.arange(len(names)), "key": names, "priority": _PRIORITY_SANITIZED}),
            # A bare name or a local path may match by its last component; "someorg/Llama-2-7b-hf"
            # may not, since a fine-tune under another organisation is not the base model.
            pd.DataFrame(
                {
                    "position": np.arange(len(names)),
                    "key": names.map(lambda name: None if _names_an_organisation(name) else bare_model_name(name)),
                    "priority": _PRIORITY_BARE,
                }
            ).dropna(subset=["key"]),
            pd.DataFrame(
                {"position": np.arange(len(names)), "key": names.str.casefold(), "priority": _PRIORITY_CASEFOLD}
            ),
        ],
        ignore_index=True,
    )
    hits = queries.merge(_match_keys(), on=["key", "priority"], how="inner")
    best = hits.sort_values(["position", "priority"]).drop_duplicates("position")
    scales = _known_models_cached().rename(columns={"model": "known"})[["known", "params", "tokens", "flops"]]
    best = best.merge(scales, on="known", how="left").set_index("position")

    result = pd.DataFrame({"model": names})
    for column in ("params", "tokens", "flops"):
        result[column] = best[column].reindex(np.arange(len(names))).to_numpy(dtype="float64")
    matched = pd.Series(np.arange(len(names))).isin(best.index).to_numpy()
    result["scale_source"] = pd.Series(np.where(matched, SCALE_SOURCE, None), dtype=object)
    return result[SCALE_COLUMNS]
