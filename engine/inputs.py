"""Read a case from JSON or YAML and turn every problem into one clear line."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from pumpdx.kb.facts import Case
from pumpdx.kb.yamlfile import parse_yaml

MAX_INPUT_BYTES = 1_000_000


class InputError(ValueError):
    """Bad input; str() is one line naming the place and what is allowed."""

    def __init__(self, message: str) -> None:
        # Keys and file names come from the input: keep the message on one line.
        super().__init__(message.replace("\r", "\\r").replace("\n", "\\n"))


class _DuplicateKey(ValueError):
    pass


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The pydantic model that owns the field at `loc` (for 'allowed' lists)."""
    model: type[BaseModel] | None = Case
    for part in loc:
        if model is None or isinstance(part, int):
            continue
        info = model.model_fields.get(str(part))
        if info is None:
            return model
        model = _nested(info.annotation)
    return model


def _nested(annotation: Any) -> type[BaseModel] | None:
    import typing

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _nested(arg)
        if found is not None:
            return found
    return None


def _place(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "case"


def describe_validation_error(exc: ValidationError) -> str:
    """The first error as '<field>: <problem>; allowed: ...'."""
    errors = exc.errors()
    err = errors[0]
    loc = tuple(err["loc"])
    more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
    if err["type"] == "extra_forbidden":
        owner = _model_at(loc[:-1])
        allowed = ", ".join(owner.model_fields) if owner else "?"
        hint = ""
        name = str(loc[-1])
        if owner and any(f.endswith(("_ml", "_mg_per_ml", "_mg_per_day", "_mcg_per_day",
                                     "_hours", "_t", "_minutes", "_cm"))
                         for f in owner.model_fields) and "_" in name:
            hint = " (units are part of the field name, e.g. _ml, _mg_per_ml)"
        where = _place(loc[:-1])
        return f"{where}: unknown field '{name}'{hint}; allowed: {allowed}{more}"
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] in ("float_parsing", "float_type", "int_parsing", "int_type"):
        msg += " (give a plain number; the unit is in the field name)"
    got = err.get("input")
    shown = ""
    if err["type"] != "missing" and not isinstance(got, dict | list) and got is not None:
        text = repr(got)
        shown = f" (got {text[:60]}{'...' if len(text) > 60 else ''})"
    return f"{_place(loc)}: {msg}{shown}{more}"


def parse_json(text: str, name: str) -> Any:
    """Parse JSON text; a key given twice is an error (json keeps the last)."""
    try:
        return json.loads(text, object_pairs_hook=_json_object)
    except _DuplicateKey as exc:
        raise InputError(f"{name}: duplicate key '{exc}'") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{name}:{exc.lineno}: malformed JSON: {exc.msg}") from None
    except RecursionError:
        raise InputError(f"{name}: nested too deeply") from None


def parse_text(text: str, name: str) -> Any:
    """JSON for .json, YAML otherwise (YAML also accepts JSON)."""
    if name.endswith(".json"):
        return parse_json(text, name)
    try:
        return parse_yaml(text)[1]
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


def read_source(source: str) -> tuple[str, str]:
    """(text, display name) of a path or '-' for stdin."""
    if source == "-":
        raw = sys.stdin.buffer.read(MAX_INPUT_BYTES + 1)
        name = "<stdin>"
    else:
        path = Path(source)
        if not path.is_file():
            raise InputError(f"{source}: no such file")
        if path.stat().st_size > MAX_INPUT_BYTES:
            raise InputError(f"{source}: larger than {MAX_INPUT_BYTES} bytes; one case per file")
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise InputError(f"{source}: cannot read: {exc.strerror}") from None
        name = source
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


def _bool_as_number(data: Any, model: type[BaseModel], loc: tuple[Any, ...]
                    ) -> tuple[tuple[Any, ...], bool] | None:
    """Where true/false was given for a number (pydantic would read it as 1/0)."""
    if not isinstance(data, dict):
        return None
    for key, value in data.items():
        info = model.model_fields.get(key) if isinstance(key, str) else None
        if info is None:
            continue
        if isinstance(value, bool) and _is_number(info.annotation):
            return (*loc, key), value
        nested = _nested(info.annotation)
        if nested is None:
            continue
        items = list(enumerate(value)) if isinstance(value, list) else [(None, value)]
        for i, item in items:
            found = _bool_as_number(item, nested, (*loc, key) if i is None else (*loc, key, i))
            if found is not None:
                return found
    return None


def case_from_data(data: Any, name: str) -> Case:
    if data is None:
        raise InputError(f"{name}: empty; expected a case (see `pumpdx schema`)")
    if not isinstance(data, dict):
        raise InputError(f"{name}: expected a mapping of case sections at the top level, "
                         f"got {type(data).__name__}")
    flag = _bool_as_number(data, Case, ())
    if flag is not None:
        raise InputError(f"{name}: {_place(flag[0])}: expected a number, "
                         f"got {str(flag[1]).lower()}")
    try:
        return Case.model_validate(data)
    except ValidationError as exc:
        raise InputError(f"{name}: {describe_validation_error(exc)}") from None
    except RecursionError:
        raise InputError(f"{name}: nested too deeply") from None


def load_case(source: str) -> Case:
    """Load and validate a case from a file path or '-' (stdin)."""
    text, name = read_source(source)
    return case_from_data(parse_text(text, name), name)
