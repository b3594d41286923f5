"""Read YAML keeping line numbers, so every error can name file:line."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

# libyaml's C loader when PyYAML was built with it (several times faster), else Python's.
# Only for the knowledge base's own files: libyaml composes on the C stack and crashes the
# process on very deeply nested input, where Python's composer raises RecursionError.
# Untrusted input (cases) is parsed with Python's loader.
FastLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_yaml(text: str, trusted: bool = False) -> tuple[yaml.Node | None, Any]:
    """(node tree, data) of a YAML text, parsed once; a key given twice in one mapping
    is an error (PyYAML would silently keep the last). Raises yaml.YAMLError, and
    RecursionError for absurdly deep untrusted input. `trusted` (the KB's own files)
    uses libyaml's faster parser."""
    node = yaml.compose(text, Loader=FastLoader if trusted else yaml.SafeLoader)
    duplicate = _first_duplicate_key(node)
    if duplicate is not None:
        raise yaml.constructor.ConstructorError(
            None, None, f"duplicate key '{duplicate.value}'", duplicate.start_mark)
    if node is None:
        return None, None
    return node, yaml.constructor.SafeConstructor().construct_document(node)


class YamlDocument:
    """Parsed data plus the node tree, to map a location path to a line."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.node, self.data = parse_yaml(text, trusted=True)

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


def _first_duplicate_key(node: yaml.Node | None) -> yaml.ScalarNode | None:
    """The first mapping key (in document order) given twice in the same mapping."""
    found: list[yaml.ScalarNode] = []
    stack = [node] if node is not None else []
    while stack:
        current = stack.pop()
        if isinstance(current, yaml.MappingNode):
            seen: set[str] = set()
            for key, value in current.value:
                if isinstance(key, yaml.ScalarNode) and key.value != "<<":
                    if key.value in seen:
                        found.append(key)
                    seen.add(key.value)
                stack.append(value)
        elif isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)
    return min(found, key=lambda k: (k.start_mark.line, k.start_mark.column), default=None)


def read_yaml(path: Path) -> YamlDocument:
    """Parse a YAML file; raises ValueError with 'file:line: message' on syntax errors."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{path}:1: not UTF-8 text") from None
    try:
        return YamlDocument(path, text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = exc.problem or exc.context or "invalid YAML"
        raise ValueError(f"{path}:{line}: invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}:1: invalid YAML: {exc}") from None
