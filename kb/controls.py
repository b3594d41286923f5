"""Control characters in text that reaches a terminal, a report or a graph.

A terminal obeys escape sequences (ESC[8m hides what follows, a carriage return
overwrites a line) and bidirectional marks reorder what is shown, so text from a
case must not carry them: cases are checked on input (`control_problem`), and
everything printed from input (error messages, reports) goes through `printable`.
"""

from __future__ import annotations

import re

# C0 and C1 controls, DEL, and the bidirectional formatting marks
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def control_problem(text: str, allowed: str = "") -> str | None:
    """Why `text` may not be printed as it is (None when it may); `allowed` lists the
    controls accepted (e.g. newline in free text)."""
    for match in CONTROL.finditer(text):
        if match.group() not in allowed:
            return (f"control character U+{ord(match.group()):04X} is not allowed "
                    f"(it could hide or fake what is printed)")
    return None


def printable(text: str, keep: str = "") -> str:
    """`text` with every control character (except those in `keep`) written as an
    escape: \\n, \\r, \\t, or \\xNN / \\uNNNN."""
    def escape(match: re.Match[str]) -> str:
        char = match.group()
        if char in keep:
            return char
        named = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(char)
        if named:
            return named
        code = ord(char)
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    return CONTROL.sub(escape, text)
