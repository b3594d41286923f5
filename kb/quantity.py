"""Measured quantities compared at the precision they are entered.

A volume entered as 8.3 mL means 8.3, not the nearest binary float (8.2999999999...);
8.3 - 7.3 in floats is 1.0000000000000009, which a "> 1 mL" threshold (review 5.1) would
read as consequential. Every number a rule compares or a calculation subtracts goes
through `exact()`: the shortest decimal that round-trips the float (what was typed,
for values entered as decimals), so comparisons and differences are decimal arithmetic.
This module is the one place where that happens.
"""

from __future__ import annotations

from decimal import Decimal

Number = int | float | Decimal


def exact(value: Number) -> Decimal:
    """The decimal value of an entered number (8.3 -> Decimal('8.3'))."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise TypeError("a boolean is not a quantity")
    if isinstance(value, int):
        return Decimal(value)
    return Decimal(repr(float(value)))


def is_number(value: object) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def to_float(value: Decimal, places: int = 3) -> float:
    """A derived quantity as a fact value, rounded to `places` decimals."""
    return float(round(value, places))
