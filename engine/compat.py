"""Import experta 1.9.4 safely on Python 3.10+.

experta pins ``frozendict==1.2``, which uses ``collections.Mapping`` (removed in
Python 3.10). Installed with plain pip, that pin wins and ``import experta``
fails. Aliasing the missing names from :mod:`collections.abc` before the first
import makes frozendict 1.2 importable; with frozendict>=2.4 (the uv
environment) the aliases are simply unused.

``import experta`` also calls ``logging.basicConfig()``, which would attach a
handler to the host application's root logger. We remove any handler that the
import added, so the host's logging configuration is left as it was.
"""

from __future__ import annotations

import collections
import collections.abc
import importlib
import logging
import sys
from types import ModuleType

_ALIASES = ("Mapping", "MutableMapping", "Sequence", "MutableSequence", "Iterable",
            "Callable", "Hashable", "Set", "MutableSet")


def _alias_collections() -> None:
    for name in _ALIASES:
        if not hasattr(collections, name):
            setattr(collections, name, getattr(collections.abc, name))


def import_experta() -> ModuleType:
    """Return the experta module, importing it without side effects on logging."""
    if "experta" in sys.modules:
        module: ModuleType = sys.modules["experta"]
        return module
    _alias_collections()
    root = logging.getLogger()
    handlers_before = list(root.handlers)
    imported: ModuleType = importlib.import_module("experta")
    for handler in list(root.handlers):
        if handler not in handlers_before:
            root.removeHandler(handler)
    return imported


experta = import_experta()
