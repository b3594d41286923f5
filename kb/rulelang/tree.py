"""The syntax tree of a rule's conditions (`when:`), as pydantic models.

    condition   := pattern | {not: condition | [condition, ...]} | {any: [condition, ...]}
                   | {all: [condition, ...]}
    pattern     := {fact: TYPE, where: {FIELD: literal | $variable | field test}}
    field test  := {OPERATOR: operand, ..., if_missing: pass | fail}

A `$name` value binds the field's (present) value to the variable `name`, or joins on
it when an earlier pattern bound it. The operators of a field test are the ones
registered in pumpdx.kb.rulelang.operators; a field test stores them in `ops` (in
the registry's order) and dumps them back as the flat mapping the author wrote.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    GetJsonSchemaHandler,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    Tag,
    TypeAdapter,
    ValidationError,
    model_serializer,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from ..strictmodel import SNAKE, Strict
from .operators import IF_MISSING, OPERATORS, Operator

#: The form of a variable (`$name`).
VARIABLE = r"^\$[a-z][a-z0-9_]*$"


def variable_name(value: Any) -> str | None:
    """The variable a `where:` / `with:` value names (`$refill_ml` -> `refill_ml`), else
    None (a literal or a field test)."""
    if isinstance(value, str) and value.startswith("$"):
        return value[1:]
    return None


def is_variable(value: Any) -> bool:
    return variable_name(value) is not None


class ParamRef(Strict):
    """A number taken from kb/parameters.yaml."""

    param: str = Field(pattern=SNAKE)


Scalar = bool | int | float | str
Operand = bool | int | float | str | ParamRef
_OPERANDS: dict[str, TypeAdapter[Any]] = {
    "value": TypeAdapter(Operand),
    "values": TypeAdapter(Annotated[list[Scalar], Field(min_length=1)]),
    "flag": TypeAdapter(bool),
}


class FieldTest(BaseModel):
    """Tests on one field; several keys in one test must all hold."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ops: dict[str, Operand | list[Scalar]] = Field(default_factory=dict)
    if_missing: Literal["pass", "fail"] | None = Field(
        None,
        description="What the test does when the finding was not entered (unknown): "
                    "'pass' (the rule acts on its absence; say why in the rule's notes) or "
                    "'fail' (the finding must be entered). See pumpdx.kb.rulelang.")

    @model_validator(mode="before")
    @classmethod
    def _gather(cls, data: Any) -> Any:
        """The author's flat mapping -> `ops` (registry order) + `if_missing`; any other
        key stays where it is, so that it is reported as an unknown operator."""
        if not isinstance(data, dict):
            return data
        if "ops" in data:
            raise ValueError("unknown operator 'ops'; allowed: " + ", ".join(field_test_keys()))
        ops: dict[str, Any] = {}
        for key, op in OPERATORS.items():
            if key in data:
                ops[key] = _operand(op, data[key])
        rest = {k: v for k, v in data.items() if k not in OPERATORS}
        return {**rest, "ops": ops}

    @model_validator(mode="after")
    def _not_empty(self) -> FieldTest:
        if not self.ops:
            raise ValueError("empty test: use " + ", ".join(OPERATORS))
        stating = [k for k in self.ops if OPERATORS[k].states_missing]
        if self.if_missing is not None and stating:
            raise ValueError(f"if_missing says what a missing finding does; {stating[0]} "
                             "already says it: use one of them")
        return self

    @model_serializer(mode="wrap")
    def _flat(self, handler: SerializerFunctionWrapHandler,
              info: SerializationInfo) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        ops = data.pop("ops", {})
        return {**ops, **data}

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: CoreSchema,
                                     handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        schema = handler(core_schema)
        target = handler.resolve_ref_schema(schema)
        param_ref = _find_ref(target["properties"]["ops"])  # as pydantic names ParamRef
        target["properties"] = {
            **{key: _operand_schema(op, param_ref) for key, op in OPERATORS.items()},
            IF_MISSING: target["properties"][IF_MISSING],
        }
        target["minProperties"] = 1
        return schema

    # -- reading a test --------------------------------------------------------------
    def operand(self, key: str) -> Any:
        """The operand of operator `key` (None when the test does not use it)."""
        return self.ops.get(key)

    def operators(self) -> list[tuple[Operator, Any]]:
        """The test's operators with their operands, in the registry's order."""
        return [(OPERATORS[k], v) for k, v in self.ops.items()]


def field_test_keys() -> list[str]:
    """Every key a field test may have."""
    return [*OPERATORS, IF_MISSING]


def _operand(op: Operator, value: Any) -> Any:
    try:
        return _OPERANDS[op.operand].validate_python(value)
    except ValidationError as exc:
        first = exc.errors()[0]["msg"]
        wanted = {"value": "a literal or {param: name}", "values": "a list of literals",
                  "flag": "true or false"}[op.operand]
        raise ValueError(f"{op.key} takes {wanted}: {first}") from None


def _find_ref(schema: Any) -> str:
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str):
            return ref
        schema = list(schema.values())
    for item in schema if isinstance(schema, list) else ():
        found = _find_ref(item)
        if found:
            return found
    return ""


def _operand_schema(op: Operator, param_ref: str) -> JsonSchemaValue:
    title = op.key.replace("_", " ").title()
    scalars: list[JsonSchemaValue] = [{"type": "boolean"}, {"type": "integer"},
                                      {"type": "number"}, {"type": "string"}]
    if op.operand == "value":
        return {"anyOf": [*scalars, {"$ref": param_ref}, {"type": "null"}],
                "default": None, "title": title, "description": op.doc}
    if op.operand == "values":
        return {"anyOf": [{"items": {"anyOf": scalars}, "minItems": 1, "type": "array"},
                          {"type": "null"}], "default": None, "title": title,
                "description": op.doc}
    return {"anyOf": [{"type": "boolean"}, {"type": "null"}], "default": None,
            "title": title, "description": op.doc}


FieldValue = Scalar | FieldTest


class PatternCondition(Strict):
    """A fact of type `fact` whose fields pass `where` (a `$name` value binds or joins)."""

    fact: str = Field(pattern=SNAKE)
    where: dict[str, FieldValue] = Field(default_factory=dict)


class NotCondition(Strict):
    """No fact (or combination of facts) matches."""

    not_: list[Condition] = Field(alias="not", min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _wrap_single(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("not"), dict):
            return {**data, "not": [data["not"]]}
        return data


class AnyCondition(Strict):
    """At least one of the alternatives matches."""

    any: list[Condition] = Field(min_length=2)


class AllCondition(Strict):
    """All of the conditions hold (a group inside `any`)."""

    all: list[Condition] = Field(min_length=2)


#: The key that tells each kind of condition apart, and the attribute holding its list.
GROUPS: dict[str, str] = {"not": "not_", "any": "any", "all": "all"}


def _condition_tag(value: Any) -> str | None:
    if isinstance(value, dict):
        for key in ("fact", *GROUPS):
            if key in value:
                return key
        return None
    for key, attr in (("fact", "fact"), *GROUPS.items()):
        if hasattr(value, attr):
            return key
    return None


Condition = Annotated[
    Annotated[PatternCondition, Tag("fact")]
    | Annotated[NotCondition, Tag("not")]
    | Annotated[AnyCondition, Tag("any")]
    | Annotated[AllCondition, Tag("all")],
    Discriminator(
        _condition_tag,
        custom_error_type="condition",
        custom_error_message="a condition has one of the keys fact, not, any, all",
    ),
]

NotCondition.model_rebuild()
AnyCondition.model_rebuild()
AllCondition.model_rebuild()
