"""Scale (parameters, training tokens, training FLOPs) of public base models, bundled with the package.

The table comes from the Observational Scaling Laws repository and from public model cards and papers,
one source per row (see ``slicesand/data/PROVENANCE.md``), in plain units: ``params`` and ``tokens`` are
counts and ``flops`` is total training compute. Evaluation tools name the same model in different
ways, so :func:`lookup_scales` accepts, in any letter case, a Hugging Face id
(``EleutherAI/pythia-1b-deduped``), an alias (HELM's ``openai/gpt2``), lm-evaluation-harness's directory
name (``EleutherAI__pythia-1b-deduped``), HELM's folder form (``eleutherai_pythia-1b-deduped``), the bare
name when only one known model has it (``pythia-1b-deduped``), and training checkpoints
(``EleutherAI/pythia-1b@step143000``).

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
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # loaded by the functions that look models up: a dump whose scales are given needs none
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
    import pandas as pd

    path = resources.files("slicesand").joinpath("data/base_llm_scale.csv")
    with path.open("r", encoding="utf-8") as handle:
        # FLOPs exceed int64 range, so read every number as float64 (exact to ~16 digits, ample).
        table = pd.read_csv(
            handle,
            dtype={"model": str, "family": str, "params": "float64", "tokens": "float64", "flops": "float64",
                   "source": str, "aliases": str},
            keep_default_na=False, na_values={"params": [""], "tokens": [""], "flops": [""]},
        )
    return table


def known_models() -> pd.DataFrame:
    """The bundled scale table: ``model, family, params, tokens, flops`` (float64, NaN when unknown),
    ``source`` (a model card URL, or a paper and its table; ``ObsScaling`` for the rows from that
    repository) and ``aliases`` (other ids of the same model, space-separated, e.g. HELM's).

    Returns a copy, so callers may change it freely.

    >>> table = known_models()
    >>> table.loc[table["model"] == "EleutherAI/pythia-70m-deduped", "tokens"].item()
    300000000000.0
    """
    return _known_models_cached().copy()


# Match priority: any spelling of an id or alias (as given, lm-eval's ``org__name``, HELM's folder form
# ``org_name``; all case-insensitive) beats a bare name. Lower number wins.
_PRIORITY_ID, _PRIORITY_BARE = range(2)

# Pythia: 143,000 steps of 1,024 sequences x 2,048 tokens (Biderman et al. 2023, sec. 2.3).
PYTHIA_TOKENS_PER_STEP = 2_097_152
_CHECKPOINT = re.compile(
    r"^(?P<base>.+?)[@/:_-](?:revision=)?step(?P<step>\d+)(?:-tokens(?P<tokens>\d+(?:\.\d+)?)(?P<unit>[KMBT]))?$",
    re.IGNORECASE,
)
_UNITS = {"k": 1e3, "m": 1e6, "b": 1e9, "t": 1e12}


def parse_checkpoint(name: str) -> tuple[str, int, float | None] | None:
    """``(base model, step, tokens named in the id or None)`` for a training checkpoint's id, else None.

    Pythia and OLMo publish intermediate checkpoints as revisions (``step143000``; OLMo's carry the
    tokens seen, ``step1000-tokens4B``), which dumps name as ``model@revision`` or ``model-revision``.

    >>> parse_checkpoint("EleutherAI/pythia-1b@step143000")
    ('EleutherAI/pythia-1b', 143000, None)
    >>> parse_checkpoint("allenai/OLMo-7B-step1000-tokens4B")
    ('allenai/OLMo-7B', 1000, 4000000000.0)
    >>> parse_checkpoint("EleutherAI/pythia-1b") is None
    True
    """
    match = _CHECKPOINT.match(name.strip())
    if match is None:
        return None
    tokens = None
    if match["tokens"] is not None:
        tokens = float(match["tokens"]) * _UNITS[match["unit"].casefold()]
    return match["base"], int(match["step"]), tokens


def _spellings(identifier: str) -> list[str]:
    """The ways tools write one id: as given, lm-eval's directory name, HELM's folder form; case-folded."""
    folded = identifier.casefold()
    return list(dict.fromkeys([folded, sanitize_model_name(identifier).casefold(), folded.replace("/", "_")]))


@functools.cache
def _match_keys() -> pd.DataFrame:
    """One row per (key, known model) pair that may identify a model; ambiguous keys removed."""
    import pandas as pd

    table = _known_models_cached()
    rows = []
    for known, aliases in zip(table["model"], table["aliases"]):  # one pass over the table, not the dump
        for identifier in [known, *str(aliases).split()]:
            rows.extend((key, known, _PRIORITY_ID) for key in _spellings(identifier))
            rows.append((bare_model_name(identifier).casefold(), known, _PRIORITY_BARE))
    candidates = pd.DataFrame(rows, columns=["key", "known", "priority"]).drop_duplicates()
    # A key that points at two different known models (a bare name shared by two organisations)
    # cannot identify either, so it is dropped rather than guessed.
    distinct_targets = candidates.groupby(["key", "priority"])["known"].transform("nunique")
    return candidates[distinct_targets == 1].drop_duplicates(["key", "priority"])


def _match(names: pd.Series) -> pd.Series:
    """The known model each name is, or NaN: by any spelling of an id or alias, then by a bare name
    (the part after the last ``/`` or ``__``) when a single known model has it and the name names no
    other organisation."""
    import pandas as pd

    positions = np.arange(len(names))
    queries = pd.concat(
        [
            pd.DataFrame({"position": positions, "key": names.str.casefold(), "priority": _PRIORITY_ID}),
            # A bare name or a local path may match by its last component; "someorg/Llama-2-7b-hf"
            # may not, since a fine-tune under another organisation is not the base model.
            pd.DataFrame({
                "position": positions,
                "key": names.map(lambda n: None if _names_an_organisation(n) else bare_model_name(n).casefold()),
                "priority": _PRIORITY_BARE,
            }).dropna(subset=["key"]),
        ],
        ignore_index=True,
    )
    hits = queries.merge(_match_keys(), on=["key", "priority"], how="inner")
    best = hits.sort_values(["position", "priority"]).drop_duplicates("position").set_index("position")
    return best["known"].reindex(positions)


def lookup_scales(models: Sequence[str]) -> pd.DataFrame:
    """Scale of each model, in input order: ``model, params, tokens, flops, scale_source``.

    A model is matched, case-insensitively, by its Hugging Face id or an alias (HELM's
    ``openai/gpt2``), written as given, as lm-evaluation-harness names its output directory
    (``EleutherAI__pythia-1b``) or as HELM names its run folders (``eleutherai_pythia-1b-v0``); then by
    its bare name when a single known model has it and the query names no other organisation. A
    training checkpoint (``EleutherAI/pythia-1b@step71000``, ``allenai/OLMo-7B-step1000-tokens4B``)
    takes its base model's parameters and the tokens it had seen: those in its name, or for Pythia
    the step times 2,097,152 tokens; FLOPs are then 6 x params x tokens. Unknown models, and known
    models whose tokens or FLOPs the sources lack, keep NaN there; ``scale_source`` names the row's
    source (None for unknown models).

    >>> lookup_scales(["EleutherAI/pythia-160m-deduped"])["flops"].item()
    2.88e+20
    >>> lookup_scales(["eleutherai_pythia-1b@step71000"])["tokens"].item()
    148897792000.0
    """
    import pandas as pd

    names = pd.Series(list(models), dtype=object, name="model").astype(str)
    known = _match(names)
    checkpoints = {i: parse_checkpoint(name) for i, name in enumerate(names) if pd.isna(known.iloc[i])}
    checkpoints = {i: c for i, c in checkpoints.items() if c is not None}
    bases = _match(pd.Series([c[0] for c in checkpoints.values()], dtype=object))
    known = known.copy()
    known.iloc[list(checkpoints)] = bases.to_numpy()
    table = _known_models_cached().set_index("model")
    result = pd.DataFrame({"model": names})
    for column in ("params", "tokens", "flops"):
        result[column] = table[column].reindex(known).to_numpy(dtype="float64")
    sources = table["source"].reindex(known).to_numpy(dtype=object)
    result["scale_source"] = pd.Series([None if pd.isna(s) else f"base_llm_scale.csv ({s})" for s in sources],
                                       dtype=object)
    for position, (base, step, tokens) in checkpoints.items():
        if pd.isna(known.iloc[position]):
            continue
        _apply_checkpoint(result, position, table.loc[known.iloc[position], "family"], step, tokens)
    return result[SCALE_COLUMNS]


def _apply_checkpoint(result: pd.DataFrame, row: int, family: str, step: int, tokens: float | None) -> None:
    """Tokens and FLOPs of a checkpoint: from its name, or from Pythia's fixed tokens per step."""
    how = "tokens from the checkpoint's name"
    if tokens is None and family == "Pythia":
        tokens, how = float(step) * PYTHIA_TOKENS_PER_STEP, f"step {step} x {PYTHIA_TOKENS_PER_STEP:,} tokens"
    if tokens is None or tokens <= 0:
        tokens, how = np.nan, f"step {step}: tokens seen unknown" if tokens is None else f"step {step}: untrained"
    result.loc[row, "tokens"] = tokens
    result.loc[row, "flops"] = 6.0 * result.loc[row, "params"] * tokens
    result.loc[row, "scale_source"] = f"{result.loc[row, 'scale_source']}; checkpoint, {how}"
