"""Read YAML keeping line numbers, so every error can name file:line."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

# libyaml's C loader when PyYAML was built with it (several times faster), else Python's.
SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class YamlDocument:
    """Parsed data plus the node tree, to map a location path to a line."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.node = yaml.compose(text, Loader=SafeLoader)
        self.duplicates = _duplicate_keys(self.node)
        self.data: Any = yaml.load(text, Loader=SafeLoader)  # a safe loader

    def line_of(self, loc: Sequence[str | int]) -> int:
        node = self.node
        if node is None:
            return 1
        for key in loc:
            if isinstance(node, yaml.MappingNode):
                for k, v in node.value:
                    if k.value == key:
                        node = v
                        break
                # keys that are not in the document (discriminator tags) are skipped
            elif isinstance(node, yaml.SequenceNode):
                if isinstance(key, int) and 0 <= key < len(node.value):
                    node = node.value[key]
        return int(node.start_mark.line) + 1


def _duplicate_keys(node: yaml.Node | None) -> list[tuple[int, str]]:
    """(line, key) of every mapping key given twice (YAML would silently keep the last)."""
    found: list[tuple[int, str]] = []
    stack = [node] if node is not None else []
    while stack:
        current = stack.pop()
        if isinstance(current, yaml.MappingNode):
            seen: set[str] = set()
            for key, value in current.value:
                if isinstance(key, yaml.ScalarNode):
                    if key.value in seen:
                        found.append((int(key.start_mark.line) + 1, str(key.value)))
                    seen.add(key.value)
                stack.append(value)
        elif isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)
    return sorted(found)


def read_yaml(path: Path) -> YamlDocument:
    """Parse a YAML file; raises ValueError with 'file:line: message' on syntax errors."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{path}:1: not UTF-8 text") from None
    try:
        doc = YamlDocument(path, text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = exc.problem or exc.context or "invalid YAML"
        raise ValueError(f"{path}:{line}: invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}:1: invalid YAML: {exc}") from None
    if doc.duplicates:
        line, key = doc.duplicates[0]
        raise ValueError(f"{path}:{line}: key '{key}' is given twice in the same mapping")
    return doc
