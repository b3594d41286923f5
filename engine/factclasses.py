"""One experta Fact class per fact type, shared by patterns and declared facts.

The classes are shared by every engine of the process: the cache is filled under a
lock, so engines built at the same time in several threads get the same class for a
name (two classes for one name would make patterns silently stop matching facts).
"""

from __future__ import annotations

import threading
from typing import Any

from .compat import experta

_CLASSES: dict[str, type[Any]] = {}
_LOCK = threading.Lock()


def fact_class(name: str) -> type[Any]:
    cls = _CLASSES.get(name)
    if cls is None:
        with _LOCK:
            cls = _CLASSES.get(name)
            if cls is None:
                cls = type(name, (experta.Fact,), {"__module__": __name__})
                _CLASSES[name] = cls
    return cls
