"""Read YAML safely and keeping line numbers, so every error can name file:line.

One parser for the knowledge base's files, scenario files and cases (all hostile
input). On top of PyYAML's safe loading it:

- rejects anchors and aliases (`&name`, `*name`): no alias bombs, no recursive
  documents, and nothing in a case stands for something written elsewhere;
- bounds the nesting depth (MAX_DEPTH) while the events stream in, so neither
  libyaml nor Python's parser ever reads deeper than that (libyaml's own composer
  crashes the process on very deep input, and both scanners slow down
  quadratically with depth);
- rejects a key given twice in one mapping (PyYAML would keep the last);
- reads numbers as written: only plain decimals (`10`, `-2`, `2.5`, `1e3`) are
  numbers. The other forms YAML 1.1 reads as numbers (`010` octal 8, `0x0c` 12,
  `0b11`, `1:30` base 60 = 90, `2_4` = 24, digits beyond MAX_DIGITS) are errors
  that say what to write instead; quote them to give text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

#: Deepest nesting of mappings and sequences accepted in any YAML file.
MAX_DEPTH = 64
#: Most values (scalars, sequences and mappings) in one YAML file by default.
MAX_NODES = 50_000
#: Longest number (characters) read as a number (Python refuses int() beyond 4300 digits).
MAX_DIGITS = 1000

_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_NOT_AS_WRITTEN = "tag:pumpdx,2026:number-not-as-written"

_PLAIN_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
_PLAIN_FLOAT = re.compile(r"[-+]?(?:(?:0|[1-9][0-9]*)(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
# what YAML 1.1 (PyYAML) reads as an int or a float, .inf and .nan left out
_YAML11_NUMBER = re.compile(r"""[-+]?0b[0-1_]+
    |[-+]?0[0-7_]+
    |[-+]?(?:0|[1-9][0-9_]*)
    |[-+]?0x[0-9a-fA-F_]+
    |[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+
    |[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?
    |[-+]?\.[0-9_]+(?:[eE][-+]?[0-9]+)?
    |[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
    |[-+]?0o[0-7_]+""", re.X)


class _Resolver(yaml.resolver.Resolver):
    """SafeLoader's implicit types, with numbers only as plain decimals."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is yaml.ScalarNode and implicit[0] and value[:1] in "0123456789+-.":
            too_long = len(value) > MAX_DIGITS
            if _PLAIN_INT.fullmatch(value) and not too_long:
                return _INT_TAG
            if _PLAIN_FLOAT.fullmatch(value) and not too_long:
                return _FLOAT_TAG
            if _YAML11_NUMBER.fullmatch(value):
                return _NOT_AS_WRITTEN
        return super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]


def number_problem(text: str) -> str:
    """Why `text` is not read as a number, and what to write instead."""
    bare = text.lstrip("+-")
    if len(text) > MAX_DIGITS:
        return f"a number of more than {MAX_DIGITS} characters ({text[:20]}...)"
    if ":" in bare:
        return (f"'{text}' is not a plain number (YAML would read it as base 60); "
                f"write the value in the unit of the field, or quote it if it is text")
    if "_" in bare:
        return (f"'{text}' is not a plain number (YAML would drop the underscores); "
                f"write {text.replace('_', '')} if that is meant, or quote it if it is text")
    if bare[:2].lower() in ("0x", "0b", "0o"):
        return (f"'{text}' is not a plain decimal number (YAML would read it in another "
                f"base); write the decimal value, or quote it if it is text")
    octal = "" if "." in bare else " (YAML would read it as an octal number)"
    digits = bare.lstrip("0")
    digits = "0" + digits if digits[:1] in ("", ".") else digits
    return (f"'{text}' has a leading zero{octal}; write "
            f"{text[0] if text[0] in '+-' else ''}{digits} "
            f"if that is meant, or quote it if it is text")


class _Constructor(yaml.constructor.SafeConstructor):
    def construct_not_as_written(self, node: yaml.ScalarNode) -> Any:
        raise yaml.constructor.ConstructorError(
            None, None, number_problem(str(node.value)), node.start_mark)


_Constructor.add_constructor(  # type: ignore[type-var]
    _NOT_AS_WRITTEN, _Constructor.construct_not_as_written)


class _Composer:
    """Builds the node tree from the parser's events, without recursion.

    Anchors and aliases are refused, depth is bounded and duplicate keys are
    found as each mapping closes.
    """

    check_event: Any
    peek_event: Any
    get_event: Any
    resolve: Any
    max_nodes: int = MAX_NODES

    def get_single_node(self) -> yaml.Node | None:
        self.get_event()  # StreamStart
        document: yaml.Node | None = None
        if not self.check_event(yaml.StreamEndEvent):
            document = self._compose_document()
        if not self.check_event(yaml.StreamEndEvent):
            event = self.get_event()
            raise yaml.composer.ComposerError(
                "expected a single document in the stream", None,
                "but found another document", event.start_mark)
        self.get_event()
        return document

    def _compose_document(self) -> yaml.Node:
        self.get_event()  # DocumentStart
        stack: list[tuple[yaml.Node, list[Any]]] = []
        root: yaml.Node | None = None
        nodes = 0
        while root is None:
            event = self.get_event()
            start: Any = event.start_mark  # yaml.Mark, or libyaml's Mark
            nodes += 1
            if nodes > self.max_nodes:
                raise yaml.composer.ComposerError(
                    None, None, f"more than {self.max_nodes} values", start)
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise yaml.composer.ComposerError(
                    None, None, "anchors and aliases (&name, *name) are not allowed; "
                    "write the value out", start)
            node: yaml.Node | None = None
            if isinstance(event, yaml.ScalarEvent):
                tag = event.tag
                if tag is None or tag == "!":
                    tag = self.resolve(yaml.ScalarNode, event.value, event.implicit)
                end: Any = event.end_mark
                node = yaml.ScalarNode(tag, event.value, start, end, style=event.style)
            elif isinstance(event, yaml.SequenceStartEvent | yaml.MappingStartEvent):
                if len(stack) >= MAX_DEPTH:
                    raise yaml.composer.ComposerError(
                        None, None, f"nested too deeply (more than {MAX_DEPTH} levels)", start)
                is_seq = isinstance(event, yaml.SequenceStartEvent)
                kind = yaml.SequenceNode if is_seq else yaml.MappingNode
                tag = event.tag
                if tag is None or tag == "!":
                    tag = self.resolve(kind, None, event.implicit)
                opened = kind(tag, [], start, None, flow_style=event.flow_style)
                stack.append((opened, []))
                continue
            else:  # SequenceEnd or MappingEnd
                node, items = stack.pop()
                node.end_mark = event.end_mark
                if isinstance(node, yaml.MappingNode):
                    pairs = list(zip(items[::2], items[1::2], strict=True))
                    _check_duplicates(pairs)
                    node.value = pairs
                else:
                    node.value = items
            if stack:
                stack[-1][1].append(node)
            else:
                root = node
        self.get_event()  # DocumentEnd
        return root


def _check_duplicates(pairs: list[tuple[yaml.Node, yaml.Node]]) -> None:
    seen: set[str] = set()
    for key, _value in pairs:
        if isinstance(key, yaml.ScalarNode) and key.value != "<<":
            if key.value in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key '{key.value}'", key.start_mark)
            seen.add(key.value)


class SafeYamlLoader(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser,
                     _Composer, _Constructor, _Resolver):
    """Python's YAML parser with the rules above."""

    def __init__(self, stream: str) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        _Constructor.__init__(self)
        _Resolver.__init__(self)


_CParser: Any = getattr(yaml, "CParser", None)
if _CParser is not None:
    class _CYamlLoader(_Composer, _CParser, _Constructor, _Resolver):  # type: ignore[misc]
        """libyaml's event parser (several times faster) with the rules above; only its
        events are used (its own composer recurses on the C stack)."""

        def __init__(self, stream: str) -> None:
            _CParser.__init__(self, stream)
            _Constructor.__init__(self)
            _Resolver.__init__(self)

    _Loader: type[Any] = _CYamlLoader
else:  # pragma: no cover - PyYAML built without libyaml
    _Loader = SafeYamlLoader


def parse_yaml(text: str, max_nodes: int = MAX_NODES) -> tuple[yaml.Node | None, Any]:
    """(node tree, data) of one YAML document, parsed once. Raises yaml.YAMLError for
    invalid YAML, for what the module docstring lists and for more than `max_nodes`
    values (counting closing brackets too), with the place."""
    loader = _Loader(text)
    loader.max_nodes = max_nodes
    try:
        node = loader.get_single_node()
        if node is None:
            return None, None
        return node, loader.construct_document(node)
    finally:
        loader.dispose()


class YamlDocument:
    """Parsed data plus the node tree, to map a location path to a line."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.node, self.data = parse_yaml(text)

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
    except (ValueError, TypeError, OverflowError) as exc:
        detail = str(exc).splitlines()[0][:80] if str(exc) else type(exc).__name__
        raise ValueError(f"{path}:1: invalid YAML: a value cannot be read as its type "
                         f"({detail})") from None
