"""Problems found while loading a knowledge base."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, order=True)
class KBIssue:
    file: str
    line: int
    rule_id: str
    message: str
    check: str = "schema"

    def __str__(self) -> str:
        who = f" {self.rule_id}:" if self.rule_id else ""
        return f"{self.file}:{self.line}:{who} {self.message}"


class KBLoadError(Exception):
    """The knowledge base has errors; `issues` lists all of them."""

    def __init__(self, issues: list[KBIssue]) -> None:
        self.issues = sorted(issues)
        first = str(self.issues[0]) if self.issues else "unknown error"
        more = f" (and {len(self.issues) - 1} more; run `pumpdx kb lint`)" \
            if len(self.issues) > 1 else ""
        super().__init__(first + more)


def display_path(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root.parent))
    except ValueError:
        return str(path)
