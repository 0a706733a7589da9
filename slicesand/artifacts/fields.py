"""Fields read from an artifact, each checked where it is read.

An artifact is input too: a hand-edited or damaged ``fit.json`` must not crash deep in numpy, nor be
reported as a flag the user never passed. Every wrong field is an :class:`ArtifactError` (exit 4) that
names the file and the field, says what was expected and shows what was found (as JSON, escaped and
shortened, so nothing in the file can reach the terminal raw).

>>> fields = Fields({"parameters": {"chance": 5}}, "fit.json", hint="re-create it with `slicesand fit`")
>>> fields.at("parameters").number("chance", low=0, high=1, high_open=True)
Traceback (most recent call last):
...
slicesand.errors.ArtifactError: fit.json: field parameters.chance must be a number in [0, 1); found 5 (hint: re-create it with `slicesand fit`)
>>> fields.at("parameters").integer("chance", 0, 12)
5
"""

from __future__ import annotations

import json
import math
from typing import Any

from slicesand.errors import ArtifactError

_MISSING = object()
FOUND_WIDTH = 60  # characters of the found value shown: a field may hold a list of 10,000 names


def shown(value: Any) -> str:
    """``value`` as short, ASCII-only JSON for a message.

    >>> shown("caf\\u00e9\\x1b[31m"), shown(list(range(100)))[-5:]
    ('"caf\\\\u00e9\\\\u001b[31m"', '16...')
    """
    try:
        text = json.dumps(value, ensure_ascii=True, allow_nan=True, default=repr)
    except (TypeError, ValueError):  # pragma: no cover - json.loads output always dumps
        text = ascii(value)
    return text if len(text) <= FOUND_WIDTH else text[:FOUND_WIDTH - 3] + "..."


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


class Fields:
    """The fields of one JSON object of artifact ``name`` (``prefix`` is its place in the document)."""

    def __init__(self, document: Any, name: str, *, hint: str, prefix: str = "") -> None:
        self.document, self.name, self.hint, self.prefix = document, name, hint, prefix

    def error(self, field: str, expected: str, found: Any = _MISSING) -> ArtifactError:
        problem = f"field {self.prefix}{field} must be {expected}"
        if found is not _MISSING:
            problem += f"; found {shown(found)}"
        return ArtifactError(self.name, problem, hint=self.hint)

    def has(self, field: str) -> bool:
        return isinstance(self.document, dict) and field in self.document

    def get(self, field: str, default: Any = _MISSING) -> Any:
        """The raw value of ``field``; a missing one is an error unless there is a ``default``."""
        if not isinstance(self.document, dict):
            where = self.prefix.rstrip(".") or "the document"
            raise ArtifactError(self.name, f"field {where} must be an object; found {shown(self.document)}",
                                hint=self.hint)
        if field not in self.document:
            if default is not _MISSING:
                return default
            raise ArtifactError(self.name, f"has no field {self.prefix}{field}", hint=self.hint)
        return self.document[field]

    def at(self, field: str, *, optional: bool = False) -> Fields | None:
        """The object in ``field`` (``None`` for a missing or null one when ``optional``)."""
        value = self.get(field, None if optional else _MISSING)
        if value is None and optional:
            return None
        if not isinstance(value, dict):
            raise self.error(field, "an object" + (" or null" if optional else ""), value)
        return Fields(value, self.name, hint=self.hint, prefix=f"{self.prefix}{field}.")

    def number(self, field: str, *, low: float | None = None, high: float | None = None,
               low_open: bool = False, high_open: bool = False, optional: bool = False,
               nonzero: bool = False) -> float | None:
        """A finite JSON number (not a string, not a boolean) in the given range."""
        value = self.get(field, None if optional else _MISSING)
        if optional and (value is None or (isinstance(value, float) and math.isnan(value))):
            return None  # NaN: a document not yet written, where JSON will say null
        ok = _is_number(value) and not (nonzero and value == 0)
        ok = ok and (low is None or (value > low if low_open else value >= low))
        ok = ok and (high is None or (value < high if high_open else value <= high))
        if not ok:
            expected = "a non-zero number" if nonzero else "a number"
            if low is not None and high is not None:
                expected += f" in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
            elif low is not None:
                expected += f" {'>' if low_open else '>='} {low:g}"
            elif high is not None:
                expected += f" {'<' if high_open else '<='} {high:g}"
            raise self.error(field, expected + (" or null" if optional else ""), value)
        return float(value)

    def integer(self, field: str, low: int = 0, high: int | None = None) -> int:
        value = self.get(field)
        if not (isinstance(value, int) and not isinstance(value, bool) and value >= low
                and (high is None or value <= high)):
            expected = f"an integer >= {low}" if high is None else f"an integer from {low} to {high}"
            raise self.error(field, expected, value)
        return value

    def boolean(self, field: str) -> bool:
        value = self.get(field)
        if not isinstance(value, bool):
            raise self.error(field, "true or false", value)
        return value

    def string(self, field: str, *, optional: bool = False, choices: tuple[str, ...] | None = None) -> str | None:
        value = self.get(field, None if optional else _MISSING)
        if value is None and optional:
            return None
        if not isinstance(value, str) or (choices is not None and value not in choices):
            expected = f"one of {', '.join(choices)}" if choices else "a string"
            raise self.error(field, expected + (" or null" if optional else ""), value)
        return value

    def strings(self, field: str) -> list[str]:
        value = self.get(field)
        if not (isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value)):
            raise self.error(field, "a list of strings", value)
        return list(value)

    def numbers(self, field: str, count: int, *, increasing: bool = False) -> tuple[float, ...]:
        value = self.get(field)
        ok = isinstance(value, (list, tuple)) and len(value) == count and all(_is_number(v) for v in value)
        if ok and increasing:
            ok = all(a < b for a, b in zip(value, value[1:]))
        if not ok:
            raise self.error(field, f"a list of {count} {'increasing ' if increasing else ''}finite numbers", value)
        return tuple(float(v) for v in value)

    def items(self, field: str, *, optional: bool = False) -> list[Fields]:
        """The objects of the list in ``field`` (an empty list for a missing one when ``optional``)."""
        value = self.get(field, [] if optional else _MISSING)
        if not isinstance(value, (list, tuple)):
            raise self.error(field, "a list", value)
        return [Fields(v, self.name, hint=self.hint, prefix=f"{self.prefix}{field}[{i}].") for i, v in enumerate(value)]
