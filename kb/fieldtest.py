"""What a field test in a rule's `where:` means: the one definition of its semantics.

The compiler (engine/compiler.py) builds its pattern predicates with `field_predicate`;
`pumpdx kb lint` asks the same function whether a possible value can pass. A later home
for the whole rule language can move this module as it is.

A missing finding (not entered) is unknown, never "no". It matches a test only when the
test says so:

    present: false            matches only a missing finding
    present: true             never matches a missing finding
    if_missing: pass          the test holds when the finding is missing
    if_missing: fail          the test fails when the finding is missing
    anything else             eq, lt, le, gt, ge, in: fails on a missing finding;
                              ne and not_in: pass on a missing finding, an *ambiguous*
                              form that `kb lint` reports (check `absent_finding`)

Numbers are compared as the decimals they were entered as (kb/quantity.py).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any

from .quantity import exact, is_number
from .schema import FieldTest, ParamRef

COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq, "ne": operator.ne, "lt": operator.lt, "le": operator.le,
    "gt": operator.gt, "ge": operator.ge,
}
# Tests that a missing value passes unless the test says `if_missing`.
NEGATIVE_OPS = ("ne", "not_in")


def operand_of(value: Any, params: Mapping[str, Any]) -> Any:
    """A test's operand: a literal, or the number a `{param: name}` refers to."""
    return params.get(value.param) if isinstance(value, ParamRef) else value


def compare(op: str, value: Any, operand: Any) -> bool:
    """`value OP operand`; two numbers are compared as entered decimals."""
    if is_number(value) and is_number(operand):
        return COMPARISONS[op](exact(value), exact(operand))
    return COMPARISONS[op](value, operand)


def uses_negative_test(test: FieldTest) -> bool:
    """Does the test use `ne` or `not_in` (the forms a missing value passes by default)?"""
    return test.ne is not None or test.not_in is not None


def missing_passes(test: FieldTest) -> bool:
    """Does a missing (not entered) finding pass this test?"""
    if test.present is not None:
        return not test.present
    if test.if_missing is not None:
        return test.if_missing == "pass"
    positive = [op for op in COMPARISONS if op != "ne" and getattr(test, op) is not None]
    return test.in_ is None and not positive


def says_what_missing_means(test: FieldTest) -> bool:
    """Does the test state explicitly what a missing finding does (present / if_missing)?"""
    return test.present is not None or test.if_missing is not None


def field_predicate(test: FieldTest, params: Mapping[str, Any], *, lenient: bool = False
                    ) -> Callable[[Any], bool]:
    """The predicate a field value must pass.

    `lenient` (for lint, on a KB that may be incomplete): an operand that is missing or
    not a number, or a comparison of unlike types, is skipped instead of failing.
    """
    checks = [(op, operand_of(getattr(test, op), params)) for op in COMPARISONS
              if getattr(test, op) is not None]
    if lenient:
        checks = [(op, v) for op, v in checks if v is not None and not isinstance(v, dict)]
    members = frozenset(test.in_) if test.in_ is not None else None
    excluded = frozenset(test.not_in) if test.not_in is not None else None
    on_missing = missing_passes(test)
    present = test.present

    def check(value: Any) -> bool:
        if value is None:
            return on_missing
        if present is False:
            return False
        if members is not None and not any(_same(value, m) for m in members):
            return False
        if excluded is not None and any(_same(value, m) for m in excluded):
            return False
        for op, operand in checks:
            try:
                if not compare(op, value, operand):
                    return False
            except TypeError:
                if not lenient:
                    return False
        return True

    return check


def _same(value: Any, member: Any) -> bool:
    if is_number(value) and is_number(member):
        return exact(value) == exact(member)
    return bool(value == member) and isinstance(value, bool) == isinstance(member, bool)
