"""Read a case from JSON or YAML and turn every problem into one clear line each."""

from __future__ import annotations

import json
import os
import re
import stat
import sys
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from pumpdx.kb.controls import printable
from pumpdx.kb.facts import Case
from pumpdx.kb.yamlfile import MAX_DEPTH, MAX_DIGITS, parse_yaml

MAX_INPUT_BYTES = 1_000_000
#: Most items in any list and keys in any mapping of a case (the schema allows fewer;
#: checked before validation so that a huge invalid list costs no memory).
MAX_ITEMS = 100
#: Most values (scalars, lists and mappings together) in one case.
MAX_VALUES = 5_000


class InputError(ValueError):
    """Bad input; str() is one line naming the place and what is allowed.

    An invalid case has every problem in `problems` (one line each, with the line and
    column in the file); str() is the first, with the count of the others.
    """

    def __init__(self, message: str, problems: tuple[str, ...] = ()) -> None:
        # Keys and file names come from the input: one line, no control characters.
        super().__init__(printable(message))
        self.problems = tuple(printable(p) for p in problems) or (str(self),)


class _DuplicateKey(ValueError):
    pass


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def _nested(annotation: Any) -> type[BaseModel] | None:
    import typing

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _nested(arg)
        if found is not None:
            return found
    return None


class _LongNumber(ValueError):
    pass


def _json_int(text: str) -> int:
    if len(text) > MAX_DIGITS:
        raise _LongNumber(text)
    return int(text)


def _json_float(text: str) -> float:
    if len(text) > MAX_DIGITS:
        raise _LongNumber(text)
    return float(text)


def parse_json(text: str, name: str) -> Any:
    """Parse JSON text; a key given twice is an error (json keeps the last), and so is
    a number of more than MAX_DIGITS characters."""
    try:
        return json.loads(text.removeprefix("\ufeff"), object_pairs_hook=_json_object,
                          parse_int=_json_int, parse_float=_json_float)
    except _DuplicateKey as exc:
        raise InputError(f"{name}: duplicate key '{exc}'") from None
    except _LongNumber as exc:
        raise InputError(f"{name}: a number of more than {MAX_DIGITS} characters "
                         f"({str(exc)[:20]}...)") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{name}:{exc.lineno}: malformed JSON: {exc.msg}") from None
    except RecursionError:
        raise InputError(f"{name}: nested too deeply") from None


def looks_like_json(text: str) -> bool:
    """Text whose first character (after white space) opens a JSON object or array."""
    return text.lstrip(" \t\r\n\ufeff")[:1] in ("{", "[")


def parse_text(text: str, name: str) -> Any:
    """JSON for .json files and for standard input that starts with { or [ (strict JSON:
    never read as YAML); YAML otherwise (see pumpdx.kb.yamlfile for what is refused)."""
    if name.endswith(".json") or (name == STDIN and looks_like_json(text)):
        return parse_json(text, name)
    try:
        return parse_yaml(text.removeprefix("\ufeff"), max_nodes=2 * MAX_VALUES)[1]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        raise InputError(f"{name}{line}: malformed YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise InputError(f"{name}: malformed YAML: {str(exc).splitlines()[0]}") from None
    except RecursionError:
        raise InputError(f"{name}: nested too deeply") from None
    except (ValueError, TypeError, AttributeError, OverflowError) as exc:
        # PyYAML's constructors raise these for impossible values such as a
        # 2024-02-30 date or `!!int abc`.
        detail = str(exc).splitlines()[0] if isinstance(exc, ValueError | OverflowError) else ""
        raise InputError(f"{name}: malformed YAML: a value cannot be read as its type"
                         + (f" ({detail[:80]})" if detail else "")) from None


STDIN = "<stdin>"


def read_source(source: str) -> tuple[str, str]:
    """(text, display name) of a path or '-' for stdin. A path may be a regular file,
    a FIFO or a device such as /dev/stdin; at most MAX_INPUT_BYTES + 1 bytes are read."""
    if source == "-":
        raw = sys.stdin.buffer.read(MAX_INPUT_BYTES + 1)
        name = STDIN
    else:
        name = source
        try:
            mode = os.stat(source).st_mode
            if stat.S_ISDIR(mode):
                raise InputError(f"{source}: is a folder; expected a case file")
            if stat.S_ISREG(mode) and os.stat(source).st_size > MAX_INPUT_BYTES:
                raise InputError(f"{source}: larger than {MAX_INPUT_BYTES} bytes; "
                                 f"one case per file")
            with open(source, "rb") as handle:
                raw = handle.read(MAX_INPUT_BYTES + 1)
        except FileNotFoundError:
            raise InputError(f"{source}: no such file") from None
        except OSError as exc:
            raise InputError(f"{source}: cannot read: {exc.strerror}") from None
    if len(raw) > MAX_INPUT_BYTES:
        raise InputError(f"{name}: larger than {MAX_INPUT_BYTES} bytes; one case per file")
    return decode_input(raw, name, "a JSON or YAML case"), name


def decode_input(raw: bytes, name: str, expected: str) -> str:
    """UTF-8 text of an input, or an InputError naming it (binary data, other encodings)."""
    if b"\0" in raw:
        raise InputError(f"{name}: binary data; expected {expected}")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{name}: not UTF-8 text; expected {expected}") from None


def _is_number(annotation: Any) -> bool:
    import typing

    args = [a for a in typing.get_args(annotation) if a is not type(None)] or [annotation]
    return any(isinstance(a, type) and issubclass(a, int | float) and not issubclass(a, bool)
               for a in args)


# a number written as text must be a plain decimal (pydantic would also read
# "2_4" as 24 and " 010 " as 10)
_PLAIN_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
_NUMBER_LIKE = re.compile(r"\s*[-+]?[0-9_.]*[0-9][0-9_.]*(?:[eE][-+]?[0-9_]+)?\s*")


def _number_problems(data: Any, model: type[BaseModel], loc: tuple[Any, ...]
                     ) -> list[tuple[tuple[Any, ...], str]]:
    """Every place where a number field holds true/false (pydantic would read 1/0) or
    text that pydantic would read as a number other than as written."""
    if not isinstance(data, dict):
        return []
    found: list[tuple[tuple[Any, ...], str]] = []
    for key, value in data.items():
        info = model.model_fields.get(key) if isinstance(key, str) else None
        if info is None:
            continue
        if _is_number(info.annotation):
            if isinstance(value, bool):
                found.append(((*loc, key), f"expected a number, got {str(value).lower()}"))
                continue
            if (isinstance(value, str) and _NUMBER_LIKE.fullmatch(value)
                    and not _PLAIN_NUMBER.fullmatch(value)):
                found.append(((*loc, key), (f"expected a plain decimal number such as 10 or "
                                            f"2.5, got {value[:40]!r}")))
                continue
        nested = _nested(info.annotation)
        if nested is None:
            continue
        items = list(enumerate(value)) if isinstance(value, list) else [(None, value)]
        for i, item in items:
            found += _number_problems(item, nested, (*loc, key) if i is None
                                      else (*loc, key, i))
    return found


def _shape_problem(data: Any) -> tuple[tuple[Any, ...], str] | None:
    """A list or mapping too long, too deep, or too many values in all (checked before
    validation: pydantic would report every bad item of a huge list)."""
    stack: list[tuple[tuple[Any, ...], Any]] = [((), data)]
    values = 0
    while stack:
        loc, value = stack.pop()
        values += 1
        if values > MAX_VALUES:
            return (), f"more than {MAX_VALUES} values; a case is far smaller"
        if len(loc) > MAX_DEPTH:
            return loc, f"nested too deeply (more than {MAX_DEPTH} levels)"
        if isinstance(value, dict):
            if len(value) > MAX_ITEMS:
                return loc, f"more than {MAX_ITEMS} fields (got {len(value)})"
            stack.extend(((*loc, str(k)), v) for k, v in value.items())
        elif isinstance(value, list):
            if len(value) > MAX_ITEMS:
                return loc, f"List should have at most {MAX_ITEMS} items (got {len(value)})"
            stack.extend(((*loc, i), v) for i, v in enumerate(value))
    return None


KEEP_WHEN_BLANK = ("pump",)  # a pump whose details are all unknown is still a pump


def without_blanks(data: dict[str, Any]) -> dict[str, Any]:
    """The case without the fields left blank: a null (`key:` with nothing after it, as
    in `pumpdx case template`) is a finding not entered, the same as leaving the key
    out, and a section whose fields were all left blank is not entered either (except
    the pump). A mapping written empty (`pump: {}`) and list entries stay as written."""

    def clean(value: Any, keep: bool = False) -> Any:
        if isinstance(value, dict):
            out = {}
            for k, v in value.items():
                cleaned = clean(v)
                if cleaned is not None:
                    out[k] = cleaned
            return None if value and not out and not keep else out
        if isinstance(value, list):
            return [clean(v, keep=True) for v in value]
        return value

    return {k: c for k, v in data.items()
            if (c := clean(v, keep=k in KEEP_WHEN_BLANK)) is not None}


def case_from_data(data: Any, name: str, text: str | None = None) -> Case:
    """Validate parsed case data. Every problem is reported at once (InputError.problems),
    with the line and column in `text` (the YAML or JSON it was read from) when given."""
    from .casecheck import Problem, compose_positions, locate, locate_errors, place_of

    if data is None:
        raise InputError(f"{name}: empty; expected a case (see `pumpdx schema`)")
    if not isinstance(data, dict):
        raise InputError(f"{name}: expected a mapping of case sections at the top level, "
                         f"got {type(data).__name__}")
    shape = _shape_problem(data)
    if shape is not None:
        raise InputError(f"{name}: {place_of(shape[0])}: {shape[1]}")
    data = without_blanks(data)
    numbers = _number_problems(data, Case, ())
    problems: list[Problem] = []
    try:
        case = Case.model_validate(data)
    except ValidationError as exc:
        problems = locate_errors(exc, text)
    except RecursionError:
        raise InputError(f"{name}: nested too deeply") from None
    else:
        if not numbers:
            return case
    if numbers:
        node = compose_positions(text) if text is not None else None
        problems = [Problem(place_of(loc), message, *(locate(node, loc) or (None, None)))
                    for loc, message in numbers] + problems
    lines = tuple(p.format(name) for p in _same_problem_once(problems))
    more = f" (and {len(lines) - 1} more problems)" if len(lines) > 1 else ""
    raise InputError(lines[0] + more, lines)


def _same_problem_once(problems: list[Any]) -> list[Any]:
    """One line per distinct problem: the same message at several places (a list of
    repeated bad values) is reported at its first place, with the count of the others."""
    from .casecheck import Problem

    count: dict[str, int] = {}
    first: dict[str, Problem] = {}
    for p in problems:
        count[p.message] = count.get(p.message, 0) + 1
        first.setdefault(p.message, p)
    return [Problem(p.place, p.message + (f" (the same at {count[m] - 1} more places)"
                                          if count[m] > 1 else ""), p.line, p.column)
            for m, p in first.items()]


def load_case(source: str) -> Case:
    """Load and validate a case from a file path or '-' (stdin)."""
    text, name = read_source(source)
    return case_from_data(parse_text(text, name), name, text)


def case_from_line(line: int, raw: bytes | None) -> Case:
    """The case on one line of a JSONL file (`raw` is None when the line was too long to
    read); InputError names the line."""
    name = f"line {line}"
    if raw is None:
        raise InputError(f"{name}: larger than {MAX_INPUT_BYTES} bytes; one case per line")
    text = decode_input(raw, name, "one JSON case per line")
    if not text.strip():
        raise InputError(f"{name}: empty line; expected one JSON case per line")
    return case_from_data(parse_json(text, name), name)
