"""Every problem of an invalid case at once, each with the line and column of the YAML or
JSON text and a "did you mean" for misspelt fields and values.

Used on the failure path only (a valid case never pays for it): `describe_errors` turns
pydantic's errors into one line each; `locate` finds where in the text a field is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from pumpdx.kb.casefields import allowed_values, nested_model
from pumpdx.kb.facts import Case
from pumpdx.kb.suggest import did_you_mean

MAX_PROBLEMS = 50  # a case with more problems is reported up to here


@dataclass(frozen=True)
class Problem:
    place: str  # reservoir.measured_volume_ml, drugs[0].agent, case
    message: str
    line: int | None = None
    column: int | None = None

    def format(self, name: str) -> str:
        where = f"{name}:{self.line}:{self.column}" if self.line is not None else name
        return f"{where}: {self.place}: {self.message}"


def place_of(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "case"


def _owner(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model holding the field at the end of `loc` (list indices skipped)."""
    model: type[BaseModel] | None = Case
    for part in loc:
        if model is None:
            return None
        if isinstance(part, int):
            continue
        info = model.model_fields.get(str(part))
        if info is None:
            return model
        model = nested_model(info.annotation)
    return model


def _field_info(loc: tuple[Any, ...]) -> Any:
    names = [p for p in loc if not isinstance(p, int)]
    if not names:
        return None
    owner = _owner(tuple(p for p in loc[: max(i for i, p in enumerate(loc)
                                               if not isinstance(p, int))]))
    return owner.model_fields.get(str(names[-1])) if owner is not None else None


_UNIT_SUFFIXES = ("_ml", "_mg_per_ml", "_mg_per_day", "_mcg_per_day", "_hours", "_t",
                  "_minutes", "_cm")


def describe(err: Any) -> str:
    """One error of pydantic's list as '<problem>[; allowed: ...][; did you mean ...]'."""
    loc = tuple(err["loc"])
    if err["type"] == "extra_forbidden":
        owner = _owner(loc[:-1])
        allowed = list(owner.model_fields) if owner else []
        name = str(loc[-1])
        units = ""
        if ("_" in name and not name.endswith(_UNIT_SUFFIXES)
                and any(f.endswith(_UNIT_SUFFIXES) for f in allowed)):
            units = " (units are part of the field name, e.g. _ml, _mg_per_ml)"
        return (f"unknown field '{name}'{units}{did_you_mean(name, allowed)}; "
                f"allowed: {', '.join(allowed)}")
    msg = str(err["msg"]).removeprefix("Value error, ")
    if err["type"] in ("float_parsing", "float_type", "int_parsing", "int_type"):
        msg += " (give a plain number; the unit is in the field name)"
    got = err.get("input")
    shown = ""
    if err["type"] != "missing" and not isinstance(got, dict | list) and got is not None:
        text = repr(got)
        shown = f" (got {text[:60]}{'...' if len(text) > 60 else ''})"
    suggestion = ""
    if err["type"] in ("enum", "literal_error") and isinstance(got, str):
        info = _field_info(loc)
        if info is not None:
            suggestion = did_you_mean(got, allowed_values(info.annotation))
    return f"{msg}{shown}{suggestion}"


def describe_errors(exc: ValidationError) -> list[Problem]:
    """Every error of a failed validation, in the order pydantic found them."""
    out = []
    for err in exc.errors()[:MAX_PROBLEMS]:
        loc = tuple(err["loc"])
        place = place_of(loc[:-1] if err["type"] == "extra_forbidden" else loc)
        out.append(Problem(place, describe(err)))
    return out


# -- where in the text -----------------------------------------------------------------
def compose_positions(text: str) -> yaml.Node | None:
    """The node tree of a YAML or JSON text (JSON is read as YAML flow style), for
    positions only; None when it cannot be had."""
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except (yaml.YAMLError, RecursionError, ValueError):
        return None


def locate(node: yaml.Node | None, loc: tuple[Any, ...], key: bool = False
           ) -> tuple[int, int] | None:
    """(line, column), 1-based, of the value at `loc` (of its key with `key`); as deep
    as the path exists (a missing field points at the mapping that lacks it)."""
    if node is None:
        return None
    current = node
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if isinstance(current, yaml.MappingNode):
            for k, v in current.value:
                if isinstance(k, yaml.ScalarNode) and k.value == str(part):
                    if last and key:
                        return k.start_mark.line + 1, k.start_mark.column + 1
                    current = v
                    break
            else:
                break
        elif isinstance(current, yaml.SequenceNode) and isinstance(part, int):
            if 0 <= part < len(current.value):
                current = current.value[part]
            else:
                break
        else:
            break
    return current.start_mark.line + 1, current.start_mark.column + 1


_PATH = re.compile(r"^([a-z_]+(?:\[\d+\])?(?:\.[a-z_]+(?:\[\d+\])?)*)[: ]")


def _path_in(message: str) -> tuple[Any, ...]:
    """A case path a model-level message starts with ('reservoir.last_refill_date ...')."""
    found = _PATH.match(message)
    if not found:
        return ()
    out: list[Any] = []
    for part in found.group(1).split("."):
        name, _, index = part.partition("[")
        out.append(name)
        if index:
            out.append(int(index.rstrip("]")))
    return tuple(out)


def locate_errors(exc: ValidationError, text: str | None) -> list[Problem]:
    """describe_errors() with the line and column of each problem in `text`."""
    node = compose_positions(text) if text is not None else None
    out = []
    for err, problem in zip(exc.errors()[:MAX_PROBLEMS], describe_errors(exc), strict=True):
        loc = tuple(err["loc"])
        is_extra = err["type"] == "extra_forbidden"
        named = _path_in(problem.message)
        if err["type"] == "value_error" and named and named[:len(loc)] == loc:
            loc = named  # a check across fields names its field first
        where = locate(node, loc, key=is_extra)
        out.append(Problem(problem.place, problem.message, *(where or (None, None))))
    return out
