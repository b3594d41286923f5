"""What a field test and a `where:` value mean: the one definition of their semantics.

The compiler builds its pattern predicates with `field_predicate`; `pumpdx kb lint`
asks the same function whether a possible value can pass; the condition evaluator of
`explain --why-not` and branch coverage tests the compiled patterns themselves.

A missing finding (not entered) is unknown, never "no". It matches a test only when the
test says so:

    present: false            matches only a missing finding
    present: true             never matches a missing finding
    if_missing: pass          the test holds when the finding is missing
    if_missing: fail          the test fails when the finding is missing
    anything else             the test's operators decide together (each operator's
                              `missing`, pumpdx.kb.rulelang.operators): eq, lt, le, gt,
                              ge, in fail on a missing finding; a test of only ne /
                              not_in passes it, an *ambiguous* form that `kb lint`
                              reports (check `absent_finding`)

A `where:` value is one of three things (`where_kind`): a `$variable` (binds a present
value, or joins on it), a literal (equal, as `same_value` says), or a field test.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

from .operators import OPERATORS, Operator, same_value
from .tree import FieldTest, ParamRef, variable_name

WhereKind = Literal["variable", "literal", "test"]


def where_kind(value: Any) -> WhereKind:
    """What a `where:` value is: a `$variable`, a literal or a field test."""
    if isinstance(value, FieldTest):
        return "test"
    return "variable" if variable_name(value) is not None else "literal"


def literal_matches(literal: Any, value: Any) -> bool:
    """Does a field value equal the literal a pattern names?"""
    return value is not None and same_value(value, literal)


def operand_of(value: Any, params: Mapping[str, Any]) -> Any:
    """A test's operand: a literal, or the number a `{param: name}` refers to."""
    return params.get(value.param) if isinstance(value, ParamRef) else value


def uses_negative_test(test: FieldTest) -> bool:
    """Does the test use an operator a missing value passes by default (ne, not_in)?"""
    return any(op.negative for op, _v in test.operators())


def says_what_missing_means(test: FieldTest) -> bool:
    """Does the test state explicitly what a missing finding does (present / if_missing)?"""
    return test.if_missing is not None or any(op.states_missing for op, _v in test.operators())


def missing_passes(test: FieldTest) -> bool:
    """Does a missing (not entered) finding pass this test?"""
    ops = test.operators()
    stating = [(op, v) for op, v in ops if op.states_missing]
    if stating:
        return all(op.missing(v) for op, v in stating)
    if test.if_missing is not None:
        return test.if_missing == "pass"
    return all(op.missing(v) for op, v in ops)


def only_missing_passes(test: FieldTest) -> bool:
    """Is the test a test for absence (`present: false`): no entered value passes it?"""
    return any(op.states_missing and op.missing(v) for op, v in test.operators())


def pins(value: Any) -> bool:
    """A `where:` value that lets only chosen values through (a literal, eq or in)."""
    kind = where_kind(value)
    if kind == "test":
        return any(op.pins for op, _v in value.operators())
    return kind == "literal"


def named_values(value: Any) -> list[Any] | None:
    """The values a `where:` value lets through when it names them (a literal, or a test
    with an operator that pins: eq, in); None when it does not name them."""
    kind = where_kind(value)
    if kind == "literal":
        return [value]
    if kind == "variable":
        return None
    named: list[Any] | None = None
    for op, operand in value.operators():
        if not op.pins or isinstance(operand, ParamRef):
            continue
        values = list(operand) if op.operand == "values" else [operand]
        named = values if named is None else [v for v in named if v in values]
    return named


def params_used(test: FieldTest) -> set[str]:
    """The parameters a test compares with (`{param: name}` operands)."""
    return {v.param for _op, v in test.operators() if isinstance(v, ParamRef)}


def field_predicate(test: FieldTest, params: Mapping[str, Any], *, lenient: bool = False
                    ) -> Callable[[Any], bool]:
    """The predicate a field value must pass (None is a missing finding).

    `lenient` (for lint, on a KB that may be incomplete): an operand that is missing or
    not a number, or a comparison of unlike types, is skipped instead of failing.
    """
    checks: list[tuple[Operator, Any]] = [(op, operand_of(v, params))
                                          for op, v in test.operators()]
    if lenient:
        checks = [(op, v) for op, v in checks if v is not None and not isinstance(v, dict)]
    on_missing = missing_passes(test)

    def check(value: Any) -> bool:
        if value is None:
            return on_missing
        for op, operand in checks:
            try:
                if not op.holds(value, operand):
                    return False
            except TypeError:
                if not lenient:
                    return False
        return True

    return check


def value_passes(spec: Any, value: Any, params: Mapping[str, Any], *,
                 lenient: bool = False) -> bool:
    """Does one field value pass a `where:` value (a variable: any present value)?"""
    kind = where_kind(spec)
    if kind == "variable":
        return value is not None
    if kind == "literal":
        return literal_matches(spec, value)
    return field_predicate(spec, params, lenient=lenient)(value)


def declarable_fact_types(fact_types: Mapping[str, Any]) -> list[str]:
    """The fact types a rule may `declare:` (derived ones; conclusions and handovers are
    declared with `conclude:` and `handover:`)."""
    return sorted(n for n, t in fact_types.items()
                  if t.origin == "derived" and n not in ("conclusion", "handover"))


__all__ = [
    "OPERATORS", "declarable_fact_types", "field_predicate", "literal_matches",
    "missing_passes", "named_values", "only_missing_passes", "operand_of", "params_used", "pins",
    "says_what_missing_means", "uses_negative_test", "value_passes", "where_kind",
]
