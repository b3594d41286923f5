"""Readable messages for pydantic's errors on knowledge-base files.

An unknown key or operator names the keys allowed at that place, with "did you mean";
a value given to an unknown operator does not also produce pydantic's one line per
alternative of the value type ("Input should be a valid boolean / integer / number /
string"); a condition or action with a misspelt key says which key.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from . import schema
from .rulelang import field_test_keys
from .suggest import did_you_mean

Loc = tuple[str | int, ...]

# Models that can hold an unknown key, most specific first (the first whose fields hold
# all the other keys of the mapping wins).
MODELS: tuple[type[BaseModel], ...] = (
    schema.PatternCondition, schema.NotCondition, schema.AnyCondition, schema.AllCondition,
    schema.ConcludeAction, schema.DeclareAction, schema.HandoverAction, schema.ComputeAction,
    schema.DeclareSpec, schema.Citation, schema.ParamRef, schema.Rule, schema.RuleFile,
    schema.Concept, schema.ConceptFile, schema.Parameter, schema.ParameterFile,
    schema.AgentInfo, schema.DrugFile, schema.SignInfo, schema.SignFile, schema.SourceInfo,
    schema.SourceFile,
)
UNION_TAGS = {"fact", "not", "any", "all", "conclude", "declare", "handover", "compute",
              "bool", "int", "float", "str", "FieldTest", "ParamRef", "list[...]"}
TYPE_NOISE = {"bool_type", "int_type", "float_type", "string_type", "bool_parsing",
              "int_parsing", "float_parsing", "model_type"}
CONDITION_KEYS = ("fact", "not", "any", "all")
ACTION_KEYS = ("conclude", "declare", "handover", "compute")


def keys_of(model: type[BaseModel]) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items()]


def is_tag(loc: Loc, i: int) -> bool:
    """Is loc[i] a union tag pydantic inserted (not a key of the document)?"""
    p = loc[i]
    if not isinstance(p, str):
        return False
    if "[" in p or p in ("bool", "int", "float", "str", "FieldTest", "ParamRef"):
        return True  # function-after[_not_empty(), FieldTest], list[...], value types
    # the tag of a condition or action follows its list index ('when', 0, 'fact')
    return p in UNION_TAGS and i > 0 and isinstance(loc[i - 1], int)


def document_loc(loc: Loc) -> Loc:
    """The location in the YAML document (union tags removed)."""
    return tuple(p for i, p in enumerate(loc) if not is_tag(loc, i))


def _at(data: Any, loc: Loc) -> Any:
    for p in loc:
        if isinstance(data, dict) and p in data:
            data = data[p]
        elif isinstance(data, list) and isinstance(p, int) and 0 <= p < len(data):
            data = data[p]
        else:
            return None
    return data


def _in_field_test(loc: Loc) -> bool:
    return any(isinstance(p, str) and "FieldTest" in p for p in loc)


def _model_for(mapping: Any, unknown: str) -> type[BaseModel] | None:
    others = set(mapping) - {unknown} if isinstance(mapping, dict) else set()
    fitting = [m for m in MODELS if others <= set(keys_of(m))]
    if not fitting:
        return None
    return max(fitting, key=lambda m: len(others & set(keys_of(m))))


def friendly(err: Any, data: Any) -> str | None:
    """A better message for one pydantic error, or None to keep pydantic's."""
    loc: Loc = tuple(err["loc"])
    if err["type"] == "extra_forbidden" and loc:
        key = str(loc[-1])
        if _in_field_test(loc):
            allowed = field_test_keys()
            return (f"unknown operator '{key}'{did_you_mean(key, allowed)}; allowed: "
                    + ", ".join(allowed))
        model = _model_for(_at(data, document_loc(loc[:-1])), key)
        if model is None:
            return None
        allowed = keys_of(model)
        return f"unknown key '{key}'{did_you_mean(key, allowed)}; allowed: " + ", ".join(allowed)
    if err["type"] in ("condition", "action"):
        keys = CONDITION_KEYS if err["type"] == "condition" else ACTION_KEYS
        mapping = _at(data, document_loc(loc))
        if isinstance(mapping, dict):
            unknown = [k for k in mapping if k not in keys and k not in ("where", "with")]
            if unknown:
                key = str(unknown[0])
                return (f"unknown key '{key}'{did_you_mean(key, keys)}; a {err['type']} has "
                        "one of the keys " + ", ".join(keys))
    return None


def is_union_noise(err: Any, errors: list[Any]) -> bool:
    """A type error of one alternative of a value whose real problem is reported too
    (an unknown operator in a field test)."""
    if err["type"] not in TYPE_NOISE:
        return False
    place = document_loc(tuple(err["loc"]))
    return any(other["type"] == "extra_forbidden" and _in_field_test(tuple(other["loc"]))
               and document_loc(tuple(other["loc"]))[:-1] == place for other in errors)
