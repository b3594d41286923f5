"""The operators of a field test (`where: {field: {OPERATOR: operand}}`): one registry.

Each operator says, in one place, everything the tools need to know about it:

    key             the YAML key (`eq`, `not_in`, ...)
    operand         what it takes: "value" (a literal or `{param: name}`), "values" (a
                    non-empty list of literals) or "flag" (true / false)
    holds           holds(value, operand): does a present field value pass? (the
                    operand is resolved: a `{param: ...}` is already its number)
    missing         missing(operand): does a missing (not entered) finding pass, when
                    the test says nothing else about absence (no `if_missing`)?
    states_missing  the operator is itself a statement about absence (`present`): its
                    `missing` answer wins over the other operators of the test
    negative        a missing value passes it by default (`ne`, `not_in`): `kb lint`
                    asks the author to say what a missing finding means (`if_missing`)
    pins            only the values it names pass (`eq`, `in`): the join estimate
                    counts such a pattern once, the rulebook map draws those values
    numeric         it needs a number field (`lt`, `le`, `gt`, `ge`)
    side            for the threshold check (kb/thresholds.py): "below" / "above" the
                    operand, "at" it; `inclusive` when the operand itself passes

The compiler (engine/compiler.py), the rule checks at load time (kb/rulecheck.py),
`kb lint`, the condition evaluator of `explain` and branch coverage, the rulebook map
and the JSON Schema generator read this registry and nothing else. To add an operator,
register it here (or call `register_operator` from a plug-in or a test); see
docs/rule-format.md, "Adding an operator".

Numbers are compared as the decimals they were entered as (kb/quantity.py): 8.3 - 7.3 is
1.0, not 1.0000000000000009.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

from ..quantity import exact, is_number

OperandKind = Literal["value", "values", "flag"]
Side = Literal["below", "above", "at"]


def _never(_operand: Any) -> bool:
    return False


def _always(_operand: Any) -> bool:
    return True


@dataclass(frozen=True)
class Operator:
    """One field-test operator (see the module docstring for each attribute)."""

    key: str
    operand: OperandKind
    holds: Callable[[Any, Any], bool]
    doc: str
    missing: Callable[[Any], bool] = _never
    states_missing: bool = False
    negative: bool = False
    pins: bool = False
    numeric: bool = False
    side: Side | None = None
    inclusive: bool = False


#: Every operator, in the order a test's operators are checked, dumped and documented.
OPERATORS: dict[str, Operator] = {}
#: A key of a field test that is not an operator: what a missing finding does.
IF_MISSING = "if_missing"


def register_operator(op: Operator) -> Operator:
    """Add an operator to the rule language (its key must be new)."""
    if op.key in OPERATORS or op.key == IF_MISSING:
        raise ValueError(f"field-test operator '{op.key}' exists already")
    if not op.key.isidentifier() or op.key != op.key.lower():
        raise ValueError(f"an operator key is a lower-case name, not {op.key!r}")
    OPERATORS[op.key] = op
    return op


def unregister_operator(key: str) -> None:
    """Remove an operator (for tests that register one of their own)."""
    del OPERATORS[key]


@contextmanager
def extra_operator(op: Operator) -> Iterator[Operator]:
    """An operator registered for the duration of a `with` block."""
    register_operator(op)
    try:
        yield op
    finally:
        unregister_operator(op.key)


def operator_keys() -> tuple[str, ...]:
    return tuple(OPERATORS)


def same_value(value: Any, member: Any) -> bool:
    """Equality as a field test reads it: numbers as entered decimals (1 == 1.0), and a
    boolean never equals a number (true is not 1)."""
    if is_number(value) and is_number(member):
        return exact(value) == exact(member)
    return bool(value == member) and isinstance(value, bool) == isinstance(member, bool)


def _relation(relation: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def holds(value: Any, operand: Any) -> bool:
        if is_number(value) and is_number(operand):
            return relation(exact(value), exact(operand))
        return relation(value, operand)

    return holds


def _member(value: Any, members: Any) -> bool:
    return any(same_value(value, m) for m in members)


def _not_member(value: Any, members: Any) -> bool:
    return not _member(value, members)


def _present(_value: Any, flag: Any) -> bool:
    return bool(flag)


def _absent_when(flag: Any) -> bool:
    return not flag


def compare(key: str, value: Any, operand: Any) -> bool:
    """`value KEY operand` with the operator's own meaning (two numbers as decimals)."""
    return OPERATORS[key].holds(value, operand)


for _op in (
    Operator("eq", "value", _relation(operator.eq), "equal to the operand",
             pins=True, side="at", inclusive=True),
    Operator("ne", "value", _relation(operator.ne), "not equal to the operand",
             missing=_always, negative=True),
    Operator("lt", "value", _relation(operator.lt), "less than the operand",
             numeric=True, side="below"),
    Operator("le", "value", _relation(operator.le), "less than or equal to the operand",
             numeric=True, side="below", inclusive=True),
    Operator("gt", "value", _relation(operator.gt), "greater than the operand",
             numeric=True, side="above"),
    Operator("ge", "value", _relation(operator.ge), "greater than or equal to the operand",
             numeric=True, side="above", inclusive=True),
    Operator("in", "values", _member, "one of the listed values", pins=True, side="at",
             inclusive=True),
    Operator("not_in", "values", _not_member, "none of the listed values",
             missing=_always, negative=True),
    Operator("present", "flag", _present,
             "true: any entered value; false: only a missing (not entered) finding",
             missing=_absent_when, states_missing=True),
):
    register_operator(_op)
