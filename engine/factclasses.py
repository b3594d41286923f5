"""One experta Fact class per fact type, shared by patterns and declared facts."""

from __future__ import annotations

from typing import Any

from .compat import experta

_CLASSES: dict[str, type[Any]] = {}


def fact_class(name: str) -> type[Any]:
    cls = _CLASSES.get(name)
    if cls is None:
        cls = type(name, (experta.Fact,), {"__module__": __name__})
        _CLASSES[name] = cls
    return cls
