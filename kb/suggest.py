""""Did you mean ...?" for a name that is not allowed (lint messages, command line)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def did_you_mean(word: str, allowed: Iterable[str]) -> str:
    """' (did you mean 'x'?)' for the closest allowed names, or '' when none is close."""
    close = difflib.get_close_matches(word, sorted(set(allowed)), n=2, cutoff=0.6)
    if not close:
        return ""
    return " (did you mean " + " or ".join(f"'{c}'" for c in close) + "?)"
